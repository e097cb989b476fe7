// What both catalog implementations share: the stored names of statuses, average-cost position
// accounting and the hot cache's merge rule.
#include <algorithm>
#include <array>
#include <iterator>
#include <map>
#include <tuple>

#include <fmt/format.h>

#include "catalog_common.hpp"
#include "trib/catalog/catalog.hpp"
#include "trib/core/error.hpp"

namespace trib::catalog {
namespace {

template <typename E, size_t N>
E parse_enum(std::string_view text, const std::array<std::pair<E, std::string_view>, N>& names,
             std::string_view what) {
  for (const auto& [value, name] : names) {
    if (name == text) return value;
  }
  std::string known;
  for (const auto& [value, name] : names) known += (known.empty() ? "" : ", ") + std::string(name);
  throw Error::InvalidInput(fmt::format("'{}' is not a {}; use one of: {}", text, what, known));
}

template <typename E, size_t N>
std::string_view name_of(E value, const std::array<std::pair<E, std::string_view>, N>& names) {
  for (const auto& [v, name] : names) {
    if (v == value) return name;
  }
  return "?";
}

// Persistent: these strings are stored in the catalog. Never rename one.
constexpr std::array<std::pair<RunStatus, std::string_view>, 4> kRunStatus{{
    {RunStatus::kRunning, "running"},
    {RunStatus::kOk, "ok"},
    {RunStatus::kFailed, "failed"},
    {RunStatus::kInterrupted, "interrupted"},
}};
constexpr std::array<std::pair<Side, std::string_view>, 2> kSide{{
    {Side::kBuy, "buy"},
    {Side::kSell, "sell"},
}};
constexpr std::array<std::pair<OrderStatus, std::string_view>, 8> kOrderStatus{{
    {OrderStatus::kNew, "new"},
    {OrderStatus::kAccepted, "accepted"},
    {OrderStatus::kPartiallyFilled, "partially_filled"},
    {OrderStatus::kFilled, "filled"},
    {OrderStatus::kDenied, "denied"},
    {OrderStatus::kRejected, "rejected"},
    {OrderStatus::kCancelled, "cancelled"},
    {OrderStatus::kExpired, "expired"},
}};

}  // namespace

std::string_view to_string(RunStatus status) { return name_of(status, kRunStatus); }
std::string_view to_string(Side side) { return name_of(side, kSide); }
std::string_view to_string(OrderStatus status) { return name_of(status, kOrderStatus); }
RunStatus parse_run_status(std::string_view text) { return parse_enum(text, kRunStatus, "run status"); }
Side parse_side(std::string_view text) { return parse_enum(text, kSide, "side"); }
OrderStatus parse_order_status(std::string_view text) {
  return parse_enum(text, kOrderStatus, "order status");
}

PositionRecord apply_fill_to_position(PositionRecord position, Side side, Micros qty,
                                      Micros price) {
  const Micros held = position.qty < Micros() ? -position.qty : position.qty;
  const bool flat = held.is_zero();
  const bool long_now = position.qty > Micros();
  if (flat || long_now == (side == Side::kBuy)) {
    // Opening or adding: the average is the cost-weighted mean of old and new units.
    const Micros old_units = flat ? Micros() : held;
    const Micros old_avg = flat ? Micros() : position.avg_price;
    position.avg_price = div(mul(old_units, old_avg) + mul(qty, price), old_units + qty);
    position.qty = side == Side::kBuy ? old_units + qty : -(old_units + qty);
    return position;
  }
  // Reducing: each closed unit realises its gain against the average (inverted for shorts).
  const Micros closed = std::min(qty, held);
  const Micros gain = mul(closed, price - position.avg_price);
  position.realized_pnl += long_now ? gain : -gain;
  const Micros opened = qty - closed;
  if (!opened.is_zero()) {  // through zero: the rest opens the other way at this price
    position.qty = side == Side::kBuy ? opened : -opened;
    position.avg_price = price;
  } else if (held == closed) {  // exactly closed
    position.qty = Micros();
    position.avg_price = Micros();
  } else {  // partly closed: the average of what is left does not move
    position.qty = long_now ? held - closed : -(held - closed);
  }
  return position;
}

std::vector<HotBar> merge_hot_rows(std::vector<HotBar> cached, const std::vector<HotBar>& incoming,
                                   int sessions) {
  if (sessions <= 0) return {};
  std::vector<HotBar> merged;
  merged.reserve(cached.size() + incoming.size());
  size_t i = 0, j = 0;
  while (i < cached.size() || j < incoming.size()) {
    if (j == incoming.size() || (i < cached.size() && cached[i].ts_ns < incoming[j].ts_ns)) {
      merged.push_back(std::move(cached[i++]));
    } else {
      if (i < cached.size() && cached[i].ts_ns == incoming[j].ts_ns) ++i;  // replaced
      merged.push_back(incoming[j++]);
    }
  }
  if (merged.size() > static_cast<size_t>(sessions)) {
    merged.erase(merged.begin(), merged.end() - sessions);
  }
  return merged;
}

BudgetReservation reserve_in_budget(BudgetState& state, const BudgetRule& rule, int64_t now_ns) {
  if (state.paused_until_ns > now_ns) return {false, state.paused_until_ns - now_ns};
  constexpr int64_t kHourNs = int64_t{3600} * 1'000'000'000;
  constexpr int64_t kDayNs = 24 * kHourNs;
  const int64_t hour = now_ns - now_ns % kHourNs;
  const int64_t day = now_ns - now_ns % kDayNs;
  if (state.hour_start_ns != hour) {
    state.hour_start_ns = hour;
    state.hour_count = 0;
  }
  if (state.day_start_ns != day) {
    state.day_start_ns = day;
    state.day_count = 0;
  }
  if (rule.per_day > 0 && state.day_count >= rule.per_day) return {false, day + kDayNs - now_ns};
  if (rule.per_hour > 0 && state.hour_count >= rule.per_hour) return {false, hour + kHourNs - now_ns};
  int64_t start = now_ns;
  if (rule.interval_ns > 0) {
    start = std::max(now_ns, state.tat_ns - rule.tolerance_ns);
    if (start - now_ns > rule.max_reserve_ns) return {false, start - now_ns - rule.max_reserve_ns};
    state.tat_ns = std::max(state.tat_ns, now_ns) + rule.interval_ns;
  }
  ++state.hour_count;
  ++state.day_count;
  return {true, start - now_ns};
}

}  // namespace trib::catalog

namespace trib::catalog {

bool same_action_values(const ActionRecord& a, const ActionRecord& b) {
  return a.action == b.action && a.source == b.source && a.retracted == b.retracted;
}

namespace internal {

std::vector<const ActionRecord*> actions_to_insert(const std::vector<ActionRecord>& existing,
                                                   const std::vector<ActionRecord>& records) {
  using Key = std::tuple<std::string, int, int32_t, std::string>;
  auto key_of = [](const ActionRecord& r) {
    return Key{r.action.symbol.str(), static_cast<int>(r.action.kind),
               r.action.ex_date.days_since_epoch(), r.source};
  };
  std::map<Key, std::map<int64_t, const ActionRecord*>> versions;
  for (const auto& r : existing) versions[key_of(r)][r.knowledge_ts_ns] = &r;
  std::vector<const ActionRecord*> out;
  for (const auto& r : records) {
    auto& known = versions[key_of(r)];
    auto after = known.upper_bound(r.knowledge_ts_ns);
    if (after != known.begin() && same_action_values(*std::prev(after)->second, r)) continue;
    if (known.contains(r.knowledge_ts_ns)) continue;  // another version at that very instant stays
    known[r.knowledge_ts_ns] = &r;
    out.push_back(&r);
  }
  return out;
}

}  // namespace internal
}  // namespace trib::catalog

// What both catalog implementations share: the stored names of statuses, average-cost position
// accounting and the hot cache's merge rule.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <map>
#include <tuple>

#include <fmt/format.h>

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
constexpr std::array<std::pair<OrderStatus, std::string_view>, 6> kOrderStatus{{
    {OrderStatus::kNew, "new"},
    {OrderStatus::kAccepted, "accepted"},
    {OrderStatus::kFilled, "filled"},
    {OrderStatus::kDenied, "denied"},
    {OrderStatus::kRejected, "rejected"},
    {OrderStatus::kCancelled, "cancelled"},
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

namespace internal {
namespace {

constexpr char kHotMagic[4] = {'T', 'R', 'H', 'C'};
constexpr uint8_t kHotFormat = 1;
constexpr uint8_t kHasVwap = 1, kHasTrades = 2;

template <typename T>
void put(std::string& out, T value) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));
  out.append(bytes, sizeof(T));
}

void put_text(std::string& out, std::string_view text) {
  if (text.size() > UINT16_MAX) throw Error::InvalidInput("hot cache: lineage text over 64 KiB");
  put<uint16_t>(out, static_cast<uint16_t>(text.size()));
  out.append(text);
}

// Reads what encode_hot_rows wrote; every read is bounds-checked.
class HotReader {
 public:
  explicit HotReader(std::string_view bytes) : bytes_(bytes) {}
  template <typename T>
  T get() {
    need(sizeof(T));
    T value;
    std::memcpy(&value, bytes_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return value;
  }
  std::string text() {
    const size_t n = get<uint16_t>();
    need(n);
    std::string out(bytes_.substr(pos_, n));
    pos_ += n;
    return out;
  }
  void need(size_t n) const {
    if (bytes_.size() - pos_ < n) {
      throw Error::DataLoss("hot cache entry is truncated; rebuild it with `trib catalog rebuild`");
    }
  }
  bool done() const { return pos_ == bytes_.size(); }

 private:
  std::string_view bytes_;
  size_t pos_ = 0;
};

}  // namespace

std::string encode_hot_rows(const std::vector<HotBar>& rows) {
  // Lineage (source, raw id, fetch time) is shared by most rows: stored once, referenced by index.
  std::map<std::tuple<std::string_view, std::string_view, int64_t>, uint32_t> lineage;
  std::vector<uint32_t> index_of(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    const HotBar& h = rows[i];
    if (i > 0 && !(rows[i - 1].ts_ns < h.ts_ns)) {
      throw Error::InvalidInput("hot cache rows must be strictly ascending by ts");
    }
    for (double v : {h.open, h.high, h.low, h.close, h.volume}) {
      if (!std::isfinite(v)) {
        throw Error::InvalidInput(fmt::format(
            "hot cache row at ts {} has a non-finite price or volume", h.ts_ns));
      }
    }
    auto [it, inserted] = lineage.try_emplace({h.source, h.raw_id, h.fetched_at_ns},
                                              static_cast<uint32_t>(lineage.size()));
    index_of[i] = it->second;
  }
  std::vector<const std::tuple<std::string_view, std::string_view, int64_t>*> by_index(lineage.size());
  for (const auto& [key, index] : lineage) by_index[index] = &key;
  std::string out(kHotMagic, sizeof kHotMagic);
  put<uint8_t>(out, kHotFormat);
  put<uint32_t>(out, static_cast<uint32_t>(by_index.size()));
  for (const auto* key : by_index) {
    put_text(out, std::get<0>(*key));
    put_text(out, std::get<1>(*key));
    put<int64_t>(out, std::get<2>(*key));
  }
  put<uint32_t>(out, static_cast<uint32_t>(rows.size()));
  for (size_t i = 0; i < rows.size(); ++i) {
    const HotBar& h = rows[i];
    put<int64_t>(out, h.ts_ns);
    put<int32_t>(out, h.session_date);
    for (double v : {h.open, h.high, h.low, h.close, h.volume}) put<double>(out, v);
    put<uint8_t>(out, static_cast<uint8_t>((h.vwap ? kHasVwap : 0) | (h.trades ? kHasTrades : 0)));
    if (h.vwap) put<double>(out, *h.vwap);
    if (h.trades) put<int64_t>(out, *h.trades);
    put<uint32_t>(out, index_of[i]);
  }
  return out;
}

std::vector<HotBar> decode_hot_rows(std::string_view bytes) {
  HotReader in(bytes);
  in.need(sizeof kHotMagic);
  if (bytes.substr(0, sizeof kHotMagic) != std::string_view(kHotMagic, sizeof kHotMagic)) {
    throw Error::DataLoss("hot cache entry has no TRHC header; rebuild it with `trib catalog rebuild`");
  }
  in.get<uint32_t>();  // the magic, already checked
  if (const uint8_t format = in.get<uint8_t>(); format != kHotFormat) {
    throw Error::DataLoss(fmt::format("hot cache entry has format {}; this build reads {}",
                                      format, kHotFormat));
  }
  struct Lineage {
    std::string source, raw_id;
    int64_t fetched_at_ns;
  };
  const uint32_t n_lineage = in.get<uint32_t>();
  in.need(n_lineage);  // at least a byte each: a hostile count cannot force an allocation
  std::vector<Lineage> lineage;
  lineage.reserve(n_lineage);
  for (uint32_t i = 0; i < n_lineage; ++i) {
    Lineage l;
    l.source = in.text();
    l.raw_id = in.text();
    l.fetched_at_ns = in.get<int64_t>();
    lineage.push_back(std::move(l));
  }
  const uint32_t n_rows = in.get<uint32_t>();
  in.need(static_cast<size_t>(n_rows) * 57);  // the smallest row
  std::vector<HotBar> rows;
  rows.reserve(n_rows);
  for (uint32_t i = 0; i < n_rows; ++i) {
    HotBar h;
    h.ts_ns = in.get<int64_t>();
    h.session_date = in.get<int32_t>();
    h.open = in.get<double>();
    h.high = in.get<double>();
    h.low = in.get<double>();
    h.close = in.get<double>();
    h.volume = in.get<double>();
    const uint8_t flags = in.get<uint8_t>();
    if (flags & kHasVwap) h.vwap = in.get<double>();
    if (flags & kHasTrades) h.trades = in.get<int64_t>();
    const uint32_t index = in.get<uint32_t>();
    if (index >= lineage.size()) throw Error::DataLoss("hot cache entry names a lineage it lacks");
    h.source = lineage[index].source;
    h.raw_id = lineage[index].raw_id;
    h.fetched_at_ns = lineage[index].fetched_at_ns;
    rows.push_back(std::move(h));
  }
  if (!in.done()) throw Error::DataLoss("hot cache entry has trailing bytes");
  return rows;
}

}  // namespace internal
}  // namespace trib::catalog

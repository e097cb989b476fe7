#include "trib/etl/quality.hpp"

#include <algorithm>
#include <cmath>
#include <unordered_set>

#include <fmt/format.h>

namespace trib::etl {
namespace {

std::string describe(const Bar& bar) {
  return fmt::format("{} o={} h={} l={} c={} v={}", bar.session_date.to_string(), bar.open,
                     bar.high, bar.low, bar.close, bar.volume);
}

// The first rule a bar breaks, or empty.
std::pair<std::string, std::string> check(const Bar& bar, Timeframe tf,
                                          const TradingCalendar& calendar) {
  for (double v : {bar.open, bar.high, bar.low, bar.close, bar.volume}) {
    if (!std::isfinite(v)) return {"non_finite", "a price or the volume is NaN or infinite"};
  }
  if (bar.open <= 0 || bar.high <= 0 || bar.low <= 0 || bar.close <= 0) {
    return {"non_positive_price", "open, high, low and close must be > 0"};
  }
  if (bar.volume < 0) return {"negative_volume", fmt::format("volume {} is negative", bar.volume)};
  if (bar.high < bar.low || bar.high < std::max(bar.open, bar.close) ||
      bar.low > std::min(bar.open, bar.close)) {
    return {"ohlc_inconsistent", "needs low <= min(open, close) and high >= max(open, close)"};
  }
  if (tf == Timeframe::kDay1 && !calendar.is_session(bar.session_date)) {
    return {"not_a_session",
            fmt::format("{} is not a {} session", bar.session_date.to_string(), calendar.name())};
  }
  return {};
}

}  // namespace

ValidatedBars validate_bars(const std::vector<Bar>& bars, Timeframe tf,
                            const TradingCalendar& calendar) {
  ValidatedBars out;
  out.accepted.reserve(bars.size());
  std::unordered_set<int64_t> seen;
  seen.reserve(bars.size() * 2);
  for (const Bar& bar : bars) {
    auto [rule, reason] = check(bar, tf, calendar);
    if (rule.empty() && !seen.insert(bar.ts_ns).second) {
      rule = "duplicate_timestamp";
      reason = fmt::format("a row for {} was already accepted", format_ts_ns(bar.ts_ns));
    }
    if (!rule.empty()) {
      out.quarantined.push_back({bar, 0, rule, reason, describe(bar)});
    } else {
      out.accepted.push_back(bar);
    }
  }
  std::stable_sort(out.accepted.begin(), out.accepted.end(),
                   [](const Bar& a, const Bar& b) { return a.ts_ns < b.ts_ns; });
  return out;
}

}  // namespace trib::etl

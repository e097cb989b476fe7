#include "trib/trading/market.hpp"

#include <algorithm>
#include <cmath>
#include <iterator>

#include <fmt/format.h>

#include "trib/core/error.hpp"

namespace trib::trading {

namespace {

void validate_series(const SymbolSeries& s, bool prices) {
  const size_t n = s.day.size();
  auto same = [&](const std::vector<double>& v, const char* name, bool optional) {
    if ((optional && v.empty()) || v.size() == n) return;
    throw Error::InvalidInput(fmt::format("market data for {}: {} has {} values for {} sessions", s.symbol, name,
                                          v.size(), n));
  };
  same(s.close, "close", !prices);
  if (!s.ts.empty() && s.ts.size() != n) {
    throw Error::InvalidInput(fmt::format("market data for {}: {} bar times for {} bars", s.symbol, s.ts.size(), n));
  }
  if (prices) {
    same(s.open, "open", false);
    same(s.high, "high", false);
    same(s.low, "low", false);
    same(s.volume, "volume", false);
  }
  same(s.signal_close, "signal close", true);
  for (const auto& f : s.features) {
    if (f.size() != n) {
      throw Error::InvalidInput(fmt::format("market data for {}: a feature has {} values for {} bars", s.symbol, f.size(), n));
    }
  }
  if (s.has_signal()) {
    same(s.signal_open, "signal open", false);
    same(s.signal_high, "signal high", false);
    same(s.signal_low, "signal low", false);
    same(s.signal_volume, "signal volume", false);
  }
  for (size_t t = 0; t < n; ++t) {
    if (t > 0 && (s.time(t) <= s.time(t - 1) || s.day[t] < s.day[t - 1] || (s.ts.empty() && s.day[t] == s.day[t - 1]))) {
      throw Error::InvalidInput(fmt::format("market data for {}: bars are not ascending at {} (after {})", s.symbol,
                                            format_ts_ns(s.time(t)), format_ts_ns(s.time(t - 1))));
    }
    const double c = s.close[t];
    const bool bad = !(c > 0) || !std::isfinite(c) ||
                     (prices && (!(s.open[t] > 0) || !std::isfinite(s.open[t]) || !(s.high[t] > 0) ||
                                 !(s.low[t] > 0) || !(s.volume[t] >= 0)));
    if (bad) {
      throw Error::InvalidInput(fmt::format(
          "market data for {} on {}: prices must be positive and finite and volume >= 0 (open {} high {} low {} "
          "close {} volume {}); check the curated bars with trib dq",
          s.symbol, Date(s.day[t]).to_string(), prices ? s.open[t] : 0, prices ? s.high[t] : 0,
          prices ? s.low[t] : 0, c, prices ? s.volume[t] : 0));
    }
  }
}

}  // namespace

void MarketData::validate() const {
  if (symbols.empty()) throw Error::InvalidInput("market data: the universe is empty");
  for (const auto& s : symbols) validate_series(s, true);
  if (benchmark) validate_series(*benchmark, false);
}

std::vector<int32_t> MarketData::sessions() const {
  std::vector<int32_t> all;
  for (const auto& s : symbols) all.insert(all.end(), s.day.begin(), s.day.end());
  std::sort(all.begin(), all.end());
  all.erase(std::unique(all.begin(), all.end()), all.end());
  return all;
}

std::vector<int64_t> MarketData::events() const {
  // A running union of sorted series: O(events) per symbol, and most symbols share the timeline.
  std::vector<int64_t> all, merged, times;
  for (const auto& s : symbols) {
    times.resize(s.size());
    for (size_t k = 0; k < s.size(); ++k) times[k] = s.time(k);
    if (std::includes(all.begin(), all.end(), times.begin(), times.end())) continue;
    merged.clear();
    merged.reserve(all.size() + times.size());
    std::set_union(all.begin(), all.end(), times.begin(), times.end(), std::back_inserter(merged));
    all.swap(merged);
  }
  return all;
}

size_t MarketData::bars() const {
  size_t n = 0;
  for (const auto& s : symbols) n += s.size();
  return n;
}

}  // namespace trib::trading

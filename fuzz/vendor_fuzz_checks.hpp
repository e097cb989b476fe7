// What every vendor-parser fuzz target (scripts/fuzz-vendors) asks of a parse, beyond "only
// trib::Error may escape": messages and finding reasons printable on one line (vendor bytes are
// never echoed to a terminal), a finding's raw text at most 200 bytes, bars finite and dated in
// the supported range (a day of slack for exchange time zones), actions dated in range with a
// positive finite ratio or amount. Harnesses add their own vendor-specific checks.
#pragma once

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string_view>

#include "trib/core/calendar.hpp"
#include "trib/core/error.hpp"
#include "trib/providers/parse_util.hpp"
#include "trib/providers/provider.hpp"

namespace trib::fuzzing {

inline void require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant broken: %s\n", what);
    std::abort();
  }
}

inline bool printable_line(std::string_view s) {
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f) return false;
  }
  return true;
}

inline bool near_supported(Date d) {
  return d.days_since_epoch() >= providers::kFirstSupportedDay - 1 &&
         d.days_since_epoch() <= providers::kLastSupportedDay + 1;
}

struct ParseChecks {
  bool daily_at_session_open = false;  // 1d bars stamped at the NYSE session's open
  bool one_bar_per_session = false;    // no two bars of a symbol on one session date
  bool ascending = false;              // each symbol's bars in time order
  bool nonnegative_volume = false;
  bool actions_allowed = true;
};

inline void check_parse(const providers::ParseResult& r, const ParseChecks& checks) {
  for (const auto& f : r.findings) {
    require(printable_line(f.reason), "finding reason printable");
    require(printable_line(f.rule), "finding rule printable");
    require(f.raw_text.size() <= 200, "finding raw text <= 200 bytes");
  }
  for (const auto& [symbol, bars] : r.bars) {
    require(!symbol.empty(), "bars have a symbol");
    std::set<int32_t> sessions;
    for (size_t i = 0; i < bars.size(); ++i) {
      const Bar& b = bars[i];
      require(std::isfinite(b.open) && std::isfinite(b.high) && std::isfinite(b.low) &&
                  std::isfinite(b.close) && std::isfinite(b.volume),
              "finite bar values");
      require(near_supported(b.session_date), "bar session in range");
      if (checks.nonnegative_volume) require(b.volume >= 0, "volume >= 0");
      if (b.vwap) require(std::isfinite(*b.vwap), "finite vwap");
      if (b.trades) require(*b.trades >= 0, "trades >= 0");
      if (checks.daily_at_session_open) {
        require(b.ts_ns == TradingCalendar::nyse().session_open_ts_ns(b.session_date),
                "daily bar at the session open");
      }
      if (checks.one_bar_per_session) {
        require(sessions.insert(b.session_date.days_since_epoch()).second, "one bar a session");
      }
      if (checks.ascending && i > 0) require(bars[i - 1].ts_ns <= b.ts_ns, "ascending bars");
    }
  }
  require(checks.actions_allowed || r.actions.empty(), "no actions from this parser");
  for (const auto& a : r.actions) {
    require(near_supported(a.ex_date), "action date in range");
    require(!a.symbol.empty(), "action has a symbol");
    if (a.kind == providers::CorporateAction::Kind::kSplit) {
      require(std::isfinite(a.split_ratio) && a.split_ratio > 0, "positive finite split ratio");
    } else {
      require(std::isfinite(a.cash_amount) && a.cash_amount > 0, "positive finite dividend");
    }
  }
}

// Runs `parse` and checks its result, or that its error message is printable.
template <typename Parse>
void parse_and_check(Parse&& parse, const ParseChecks& checks) {
  try {
    check_parse(parse(), checks);
  } catch (const Error& e) {
    require(printable_line(e.what()), "error message printable");
  }
}

}  // namespace trib::fuzzing

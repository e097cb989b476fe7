// Data-quality rules that look across a series' rows (DQ v2). Row rules (etl/quality.hpp) run at
// ingest and quarantine what breaks them; these run on read over the curated series, with the
// corporate actions and thresholds of now, so a finding is never stale: a jump that a split
// imported later explains stops being one. Every row stays in the lake; `trib dq` lists the
// findings. Persistent rule names and their thresholds ([quality] in trib.toml):
//
//   missing_sessions      sessions of the calendar between a series' first and last bar with no
//                         bar (one finding per run of consecutive missing sessions); daily only
//   session_mismatch      a bar whose timestamp does not fall on its session date (daily: neither
//                         the UTC nor the exchange's date of ts; intraday: the session ts belongs
//                         to by the calendar, TradingCalendar::session_of)
//   unexplained_jump      |ln(close / previous session's close)| > jump_threshold on split-
//                         adjusted closes: no recorded split explains it (the reason names the
//                         split ratio it is closest to when one is near)
//   stale_bars            stale_sessions or more consecutive daily bars with zero volume and
//                         open = high = low = close (a feed repeating itself)
//   out_of_bounds         a price above max_price or below 0.0001, a volume above max_volume
//   outside_calendar      a session date before the calendar's first_date(), after its
//                         last_date(), or after today (a bar from the future)
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "trib/catalog/catalog.hpp"
#include "trib/core/bar.hpp"
#include "trib/core/calendar.hpp"
#include "trib/core/config.hpp"
#include "trib/core/corporate_action.hpp"
#include "trib/core/symbol.hpp"
#include "trib/etl/corporate_actions.hpp"
#include "trib/lake/bars_file.hpp"
#include "trib/lake/object_store.hpp"

namespace trib::etl {

struct SeriesFinding {
  Symbol symbol;
  Timeframe timeframe = Timeframe::kDay1;
  std::string rule;
  Date first, last;       // the sessions it covers (one session: first == last)
  int64_t ts_ns = 0;      // the bar's timestamp where the finding is one bar's, else 0
  int64_t count = 1;      // sessions (missing_sessions, stale_bars) or bars it covers
  std::string detail;     // one line: what was seen and why it is suspect
};

struct SeriesCheckOptions {
  QualityConfig thresholds;
  Timeframe timeframe = Timeframe::kDay1;
  const TradingCalendar* calendar = &TradingCalendar::nyse();
  Date today;  // bars dated after it are outside_calendar; Date() = the UTC date now
};

// The pure part: one symbol's curated rows (ascending by ts), and the splits and dividends that
// apply to it (resolved); findings ordered by rule, then date.
std::vector<SeriesFinding> check_series(const Symbol& symbol, std::vector<lake::CuratedBar> rows,
                                        const std::vector<CorporateAction>& actions,
                                        const SeriesCheckOptions& options);

// Every symbol with curated bars of the timeframe (or one), each on the calendar its instrument
// record names (nyse when none), with the actions the catalog knows now, resolved by `precedence`.
std::vector<SeriesFinding> check_lake_series(lake::ObjectStore& store, catalog::Catalog& catalog,
                                             const SeriesCheckOptions& options,
                                             const SourcePrecedence& precedence,
                                             const std::optional<Symbol>& symbol = std::nullopt);

}  // namespace trib::etl

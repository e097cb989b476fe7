// Bars of another length, on read (`trib bars --timeframe 5m|15m|30m|1h|1d`): the stored bars of
// a finer timeframe grouped and aggregated; nothing is stored.
//
// Rules. A bar of width W (a whole number of minutes dividing a day) groups the rows whose ts
// falls in [k*W, (k+1)*W) from the Unix epoch (so 5-minute bars start at :00, :05, ...; hourly
// bars on the clock hour, as DuckDB's time_bucket and most vendors' hourly bars do) *and* whose
// session_date is the same: a bar never spans two sessions. A daily bar groups one session. The
// bar's ts is the bucket's start (daily: the session's open), open = the first row's open, high
// = max(high), low = min(low), close = the last row's close, volume = sum(volume); vwap = the
// volume-weighted mean of the rows' vwap when every row has one (else none); trades = the sum
// when every row has a count. Empty buckets are no bars (nothing is filled forward).
//
// Sessions. With SessionHours::kRegular only rows inside the calendar's regular hours count:
// [session_open_ts_ns, session_close_ts_ns) — 09:30 to 16:00 New York on the NYSE, 13:00 on its
// early-close days — so the pre- and post-market prints that minute files carry are left out;
// kAll keeps every row. On the fx calendar the two are the same (the session is 24 hours).
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "trib/core/bar.hpp"
#include "trib/core/calendar.hpp"
#include "trib/lake/bars_file.hpp"

namespace trib::etl {

enum class SessionHours { kAll, kRegular };

// A requested bar length: minutes (1 to 1440, dividing 1440) or a whole session (daily).
struct BarWidth {
  int64_t minutes = 0;  // 0 = daily (one bar per session)
  bool daily() const { return minutes == 0; }
  int64_t nanos() const { return minutes * 60 * 1'000'000'000LL; }
};

// "1m", "5m", "15m", "30m", "1h", "2h", "1d" ...; Error::InvalidInput naming the accepted forms.
BarWidth parse_bar_width(std::string_view text);
// The width a stored timeframe has.
BarWidth width_of(Timeframe tf);
// Whether bars of `stored` can be grouped into bars of `wanted` (finer, and dividing it).
bool can_resample(Timeframe stored, BarWidth wanted);

// Rows ascending by ts; the result ascending. Lineage: the source when every row of a bar shares
// it ("a+b" when vendors mix), raw_id empty, fetched_at the newest.
std::vector<lake::CuratedBar> resample(const std::vector<lake::CuratedBar>& rows, BarWidth width,
                                       const TradingCalendar& calendar, SessionHours hours);

// The rows inside the calendar's regular hours (see above).
std::vector<lake::CuratedBar> regular_hours(std::vector<lake::CuratedBar> rows, const TradingCalendar& calendar);

}  // namespace trib::etl

// Trading calendars: which dates are sessions, and when a session opens in UTC.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "trib/core/time.hpp"

namespace trib {

// The NYSE calendar computed from its rules (weekends; New Year's, MLK from 1998, Washington's
// Birthday, Good Friday, Memorial Day, Juneteenth from 2022, Independence Day, Labor Day,
// Thanksgiving, Christmas, with the exchange's weekend-observance rules) plus the unscheduled
// closures since 1990 (9/11, Reagan, Ford, Sandy, G.H.W. Bush, Carter). Checked against an
// independent session list in tests/core. Immutable and thread-safe.
//
// The 24x5 foreign-exchange calendar (`fx`): a session on each weekday except January 1 and
// December 25, running from 17:00 New York the evening before to 17:00 New York on the day (the
// interbank roll), so Sunday evening's bars belong to Monday's session.
class TradingCalendar {
 public:
  static const TradingCalendar& nyse();
  static const TradingCalendar& fx();
  // "nyse" (or "xnys"), "fx" (or "24x5"); throws Error::InvalidInput for others.
  static const TradingCalendar& by_name(std::string_view name);

  std::string_view name() const { return fx_ ? "fx" : "nyse"; }
  bool is_fx() const { return fx_; }
  // The dates whose sessions the rules are known for: a bar dated outside is suspect (NYSE: the
  // unscheduled closures are listed from 1990 and the rules projected to 2100).
  Date first_date() const;
  Date last_date() const;
  bool is_session(Date date) const;
  bool is_holiday(Date date) const;  // a weekday with no session
  // First session strictly after / before `date`.
  Date next_session(Date date) const;
  Date previous_session(Date date) const;
  // Sessions in [from, to], ascending.
  std::vector<Date> sessions(Date from, Date to) const;
  // 09:30 America/New_York on `date`, as UTC nanoseconds (US DST rules since 1987); FX: 17:00
  // New York on the day before.
  int64_t session_open_ts_ns(Date date) const;
  // The session date a bar opening at `ts_ns` belongs to, whether or not that date is a session:
  // the New York date (FX: of ts + 7 hours, so 17:00 New York starts the next day's session).
  Date session_of(int64_t ts_ns) const;
  // The scheduled 13:00 closes: July 3 when July 4 falls Tuesday-Friday, the Friday after
  // Thanksgiving, and December 24 when it is a session (NYSE's standing rules), with the
  // exchange's departures from them (2002-07-05 instead of 07-03, 2003-12-26); checked day by day
  // against four sources for 2000-2030 in tests/core.
  bool is_early_close(Date date) const;
  // 16:00 America/New_York on `date`, 13:00 on an early-close day; FX: 17:00 New York.
  int64_t session_close_ts_ns(Date date) const;

 private:
  explicit TradingCalendar(bool fx);
  bool fx_ = false;
  // Holidays precomputed for [kFirstCached, kFirstCached + holiday_.size()): lookups are O(1).
  static constexpr int32_t kFirstCached = -7305;  // 1950-01-01
  std::vector<bool> holiday_;
};

// Offset of America/New_York from UTC, in hours (-4 in daylight time, -5 otherwise), at local
// noon of `date`. US rules: 1987-2006 first Sunday of April to last Sunday of October; from 2007
// second Sunday of March to first Sunday of November.
int new_york_utc_offset_hours(Date date);

}  // namespace trib

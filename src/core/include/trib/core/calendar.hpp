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
class TradingCalendar {
 public:
  static const TradingCalendar& nyse();
  // "nyse" (or "xnys"); throws Error::InvalidInput for others.
  static const TradingCalendar& by_name(std::string_view name);

  std::string_view name() const { return "nyse"; }
  bool is_session(Date date) const;
  bool is_holiday(Date date) const;  // a weekday with no session
  // First session strictly after / before `date`.
  Date next_session(Date date) const;
  Date previous_session(Date date) const;
  // Sessions in [from, to], ascending.
  std::vector<Date> sessions(Date from, Date to) const;
  // 09:30 America/New_York on `date`, as UTC nanoseconds (US DST rules since 1987).
  int64_t session_open_ts_ns(Date date) const;
  // The scheduled 13:00 closes: July 3 when July 4 falls Tuesday-Friday, the Friday after
  // Thanksgiving, and December 24 when it is a session (NYSE's standing rules; one-off early
  // closes are not modelled).
  bool is_early_close(Date date) const;
  // 16:00 America/New_York on `date`, 13:00 on an early-close day.
  int64_t session_close_ts_ns(Date date) const;

 private:
  TradingCalendar();
  // Holidays precomputed for [kFirstCached, kFirstCached + holiday_.size()): lookups are O(1).
  static constexpr int32_t kFirstCached = -7305;  // 1950-01-01
  std::vector<bool> holiday_;
};

// Offset of America/New_York from UTC, in hours (-4 in daylight time, -5 otherwise), at local
// noon of `date`. US rules: 1987-2006 first Sunday of April to last Sunday of October; from 2007
// second Sunday of March to first Sunday of November.
int new_york_utc_offset_hours(Date date);

}  // namespace trib

#include "trib/core/calendar.hpp"

#include <algorithm>
#include <array>

#include <fmt/format.h>

#include "trib/core/error.hpp"

namespace trib {
namespace {

// The n-th (1-based) `weekday` of a month; n = -1 for the last one.
Date nth_weekday(int year, int month, int weekday, int n) {
  if (n > 0) {
    Date first = Date::from_ymd(year, month, 1);
    int delta = (weekday - first.weekday() + 7) % 7;
    return first + delta + 7 * (n - 1);
  }
  Date next_month = month == 12 ? Date::from_ymd(year + 1, 1, 1) : Date::from_ymd(year, month + 1, 1);
  Date last = next_month - 1;
  int delta = (last.weekday() - weekday + 7) % 7;
  return last - delta;
}

// Gregorian Easter Sunday (the anonymous "Meeus/Jones/Butcher" computus).
Date easter_sunday(int year) {
  int a = year % 19, b = year / 100, c = year % 100, d = b / 4, e = b % 4;
  int f = (b + 8) / 25, g = (b - f + 1) / 3, h = (19 * a + b - d - g + 15) % 30;
  int i = c / 4, k = c % 4, l = (32 + 2 * e + 2 * i - h - k) % 7;
  int m = (a + 11 * h + 22 * l) / 451;
  int month = (h + l - 7 * m + 114) / 31;
  int day = ((h + l - 7 * m + 114) % 31) + 1;
  return Date::from_ymd(year, month, day);
}

// A fixed-date holiday observed on Friday when it falls on Saturday, Monday when on Sunday.
Date observed(Date date) {
  if (date.weekday() == 6) return date - 1;
  if (date.weekday() == 0) return date + 1;
  return date;
}

constexpr std::array<const char*, 11> kUnscheduledClosures = {
    "1994-04-27",  // President Nixon's funeral
    "2001-09-11", "2001-09-12", "2001-09-13", "2001-09-14",  // September 11
    "2004-06-11",  // President Reagan's funeral
    "2007-01-02",  // President Ford's funeral
    "2012-10-29", "2012-10-30",  // Hurricane Sandy
    "2018-12-05",  // President G.H.W. Bush's funeral
    "2025-01-09",  // President Carter's funeral
};

bool is_rule_holiday(Date date) {
  const int y = date.year();
  // New Year's Day: Sunday -> Monday; on Saturday it is not observed on the Friday before.
  Date new_year = Date::from_ymd(y, 1, 1);
  if (date == new_year || (new_year.weekday() == 0 && date == new_year + 1)) return true;
  if (y >= 1998 && date == nth_weekday(y, 1, 1, 3)) return true;   // Martin Luther King Jr. Day
  if (date == nth_weekday(y, 2, 1, 3)) return true;                // Washington's Birthday
  if (date == easter_sunday(y) - 2) return true;                   // Good Friday
  if (date == nth_weekday(y, 5, 1, -1)) return true;               // Memorial Day
  if (y >= 2022 && date == observed(Date::from_ymd(y, 6, 19))) return true;  // Juneteenth
  if (date == observed(Date::from_ymd(y, 7, 4))) return true;     // Independence Day
  if (date == nth_weekday(y, 9, 1, 1)) return true;                // Labor Day
  if (date == nth_weekday(y, 11, 4, 4)) return true;               // Thanksgiving
  if (date == observed(Date::from_ymd(y, 12, 25))) return true;   // Christmas
  return false;
}

bool is_unscheduled_closure(Date date) {
  std::string text = date.to_string();
  return std::any_of(kUnscheduledClosures.begin(), kUnscheduledClosures.end(),
                     [&](const char* d) { return text == d; });
}

bool is_fx_holiday(Date date) {
  return (date.month() == 1 && date.day() == 1) || (date.month() == 12 && date.day() == 25);
}

}  // namespace

TradingCalendar::TradingCalendar(bool fx) : fx_(fx) {
  const int32_t last = Date::from_ymd(2100, 12, 31).days_since_epoch();
  holiday_.resize(static_cast<size_t>(last - kFirstCached + 1));
  for (int32_t day = kFirstCached; day <= last; ++day) {
    Date date(day);
    int wd = date.weekday();
    holiday_[static_cast<size_t>(day - kFirstCached)] =
        wd != 0 && wd != 6 &&
        (fx ? is_fx_holiday(date) : (is_rule_holiday(date) || is_unscheduled_closure(date)));
  }
}

const TradingCalendar& TradingCalendar::nyse() {
  static const TradingCalendar calendar(false);
  return calendar;
}

const TradingCalendar& TradingCalendar::fx() {
  static const TradingCalendar calendar(true);
  return calendar;
}

const TradingCalendar& TradingCalendar::by_name(std::string_view name) {
  if (name == "nyse" || name == "xnys" || name == "NYSE" || name == "XNYS") return nyse();
  if (name == "fx" || name == "FX" || name == "24x5") return fx();
  throw Error::InvalidInput(fmt::format("calendar '{}' is not known; use 'nyse' or 'fx'", name));
}

Date TradingCalendar::first_date() const {
  return fx_ ? Date::from_ymd(1971, 1, 1) : Date::from_ymd(1990, 1, 1);
}

Date TradingCalendar::last_date() const { return Date::from_ymd(2100, 12, 31); }

bool TradingCalendar::is_holiday(Date date) const {
  int wd = date.weekday();
  if (wd == 0 || wd == 6) return false;
  int64_t idx = int64_t{date.days_since_epoch()} - kFirstCached;
  if (idx >= 0 && idx < static_cast<int64_t>(holiday_.size())) return holiday_[static_cast<size_t>(idx)];
  if (fx_) return is_fx_holiday(date);
  return is_rule_holiday(date) || is_unscheduled_closure(date);
}

bool TradingCalendar::is_session(Date date) const {
  int wd = date.weekday();
  return wd != 0 && wd != 6 && !is_holiday(date);
}

Date TradingCalendar::next_session(Date date) const {
  Date d = date + 1;
  while (!is_session(d)) d = d + 1;
  return d;
}

Date TradingCalendar::previous_session(Date date) const {
  Date d = date - 1;
  while (!is_session(d)) d = d - 1;
  return d;
}

std::vector<Date> TradingCalendar::sessions(Date from, Date to) const {
  std::vector<Date> out;
  if (to < from) return out;
  out.reserve(static_cast<size_t>((to - from) * 5 / 7 + 2));
  for (Date d = from; d <= to; d = d + 1) {
    if (is_session(d)) out.push_back(d);
  }
  return out;
}

int new_york_utc_offset_hours(Date date) {
  const int y = date.year();
  Date dst_start, dst_end;
  if (y >= 2007) {
    dst_start = nth_weekday(y, 3, 0, 2);
    dst_end = nth_weekday(y, 11, 0, 1);
  } else {
    dst_start = nth_weekday(y, 4, 0, 1);
    dst_end = nth_weekday(y, 10, 0, -1);
  }
  return (date >= dst_start && date < dst_end) ? -4 : -5;
}

int64_t TradingCalendar::session_open_ts_ns(Date date) const {
  if (fx_) {
    const Date eve = date - 1;
    return to_ts_ns(eve) + (17 * 3600 - new_york_utc_offset_hours(eve) * 3600) * kNanosPerSecond;
  }
  int64_t local_open_s = 9 * 3600 + 30 * 60;
  return to_ts_ns(date) + (local_open_s - new_york_utc_offset_hours(date) * 3600) * kNanosPerSecond;
}

Date TradingCalendar::session_of(int64_t ts_ns) const {
  // The UTC date first, then the New York offset of that date (the offset changes at 02:00
  // local, never near an open or a close, so the date's offset is right for every bar that
  // matters).
  const int64_t shift = fx_ ? 7 * 3600 * kNanosPerSecond : 0;
  const Date guess = utc_date_of(ts_ns + shift);
  return utc_date_of(ts_ns + shift + new_york_utc_offset_hours(guess) * 3600 * kNanosPerSecond);
}

// Where the exchange departed from its standing early-close rules: 2002 closed early on Friday
// July 5 instead of Wednesday July 3, and 2003 added Friday December 26.
constexpr std::array<const char*, 2> kOneOffEarlyCloses = {"2002-07-05", "2003-12-26"};
constexpr std::array<const char*, 1> kRuleEarlyClosesNotHeld = {"2002-07-03"};

bool TradingCalendar::is_early_close(Date date) const {
  if (fx_ || !is_session(date)) return false;
  if (date.year() == 2002 || date.year() == 2003) {
    const std::string text = date.to_string();
    for (const char* d : kOneOffEarlyCloses) {
      if (text == d) return true;
    }
    for (const char* d : kRuleEarlyClosesNotHeld) {
      if (text == d) return false;
    }
  }
  const int month = date.month();
  const int day = date.day();
  // The eve of Independence Day when the holiday falls Tuesday to Friday.
  if (month == 7 && day == 3) {
    const int wd = Date::from_ymd(date.year(), 7, 4).weekday();
    return wd >= 2 && wd <= 5;
  }
  // The Friday after Thanksgiving.
  if (month == 11 && date.weekday() == 5 && is_holiday(date - 1)) return true;
  // Christmas Eve on a session.
  return month == 12 && day == 24;
}

int64_t TradingCalendar::session_close_ts_ns(Date date) const {
  if (fx_) return to_ts_ns(date) + (17 * 3600 - new_york_utc_offset_hours(date) * 3600) * kNanosPerSecond;
  int64_t local_close_s = (is_early_close(date) ? 13 : 16) * 3600;
  return to_ts_ns(date) + (local_close_s - new_york_utc_offset_hours(date) * 3600) * kNanosPerSecond;
}

}  // namespace trib

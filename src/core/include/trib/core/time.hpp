// Calendar dates and UTC timestamps.
//
// Date is a civil date (proleptic Gregorian) stored as days since 1970-01-01, which is exactly
// Parquet's DATE. Timestamps are int64 nanoseconds since the Unix epoch, UTC, exactly Parquet's
// TIMESTAMP(NANOS, isAdjustedToUTC=true); variables holding them end in _ns.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace trib {

class Date {
 public:
  constexpr Date() = default;
  constexpr explicit Date(int32_t days_since_epoch) : days_(days_since_epoch) {}

  // Throws Error::InvalidInput when the fields do not name a real date.
  static Date from_ymd(int year, int month, int day);
  // Parses YYYY-MM-DD. Throws Error::InvalidInput naming `what` (e.g. "--from") on bad text.
  static Date parse(std::string_view text, std::string_view what = "date");
  static std::optional<Date> try_parse(std::string_view text);
  static Date today_utc();

  int32_t days_since_epoch() const { return days_; }
  int year() const;
  int month() const;
  int day() const;
  // 0 = Sunday ... 6 = Saturday.
  int weekday() const;
  std::string to_string() const;  // YYYY-MM-DD

  Date operator+(int days) const { return Date(days_ + days); }
  Date operator-(int days) const { return Date(days_ - days); }
  int operator-(Date other) const { return days_ - other.days_; }
  auto operator<=>(const Date&) const = default;

 private:
  int32_t days_ = 0;
};

inline constexpr int64_t kNanosPerSecond = 1'000'000'000;
inline constexpr int64_t kNanosPerDay = 86'400 * kNanosPerSecond;

// The dates whose every nanosecond an int64 timestamp holds: 1677-09-22 .. 2262-04-10. Date
// itself reaches 0001..9999 (what Date::parse accepts); only these convert to timestamps.
inline constexpr int32_t kFirstTimestampDay = -106751;  // 1677-09-22
inline constexpr int32_t kLastTimestampDay = 106750;    // 2262-04-10
inline bool has_ts_ns(Date date) {
  return date.days_since_epoch() >= kFirstTimestampDay && date.days_since_epoch() <= kLastTimestampDay;
}
// Throws Error::InvalidInput naming the date and the range above.
[[noreturn]] void throw_outside_timestamp_range(Date date);

// Midnight UTC of `date`, in nanoseconds. A date outside has_ts_ns throws Error::InvalidInput
// (never a wrapped-around value); parsers check their own supported range before converting.
inline int64_t to_ts_ns(Date date) {
  if (!has_ts_ns(date)) throw_outside_timestamp_range(date);
  return int64_t{date.days_since_epoch()} * kNanosPerDay;
}
// The UTC date containing `ts_ns`.
Date utc_date_of(int64_t ts_ns);
// ISO-8601 UTC with the shortest exact fraction: 2020-01-02T14:30:00Z, ...T14:30:00.123Z.
std::string format_ts_ns(int64_t ts_ns);
// Accepts YYYY-MM-DD (midnight UTC) or YYYY-MM-DDTHH:MM:SS[.fraction][Z]; a date outside
// has_ts_ns is Error::InvalidInput like any other bad text.
int64_t parse_ts_ns(std::string_view text, std::string_view what = "timestamp");
// Current wall-clock time. Only for run records and logs, never for data files.
int64_t now_ts_ns();

}  // namespace trib

#include "trib/core/time.hpp"

#include <chrono>
#include <cstdio>

#include <fmt/format.h>

#include "trib/core/error.hpp"

namespace trib {
namespace {

// Howard Hinnant's days_from_civil / civil_from_days algorithms (public-domain math).
constexpr int32_t days_from_civil(int y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int>(doe) - 719468;
}

struct Civil {
  int year;
  unsigned month;
  unsigned day;
};

constexpr Civil civil_from_days(int32_t z_in) {
  int64_t z = z_in + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {static_cast<int>(y + (m <= 2)), m, d};
}

bool is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int days_in_month(int y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : kDays[m - 1];
}

bool parse_digits(std::string_view text, size_t pos, size_t count, int& out) {
  if (pos + count > text.size()) return false;
  int value = 0;
  for (size_t i = 0; i < count; ++i) {
    char c = text[pos + i];
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  out = value;
  return true;
}

}  // namespace

Date Date::from_ymd(int year, int month, int day) {
  if (year < 1 || year > 9999 || month < 1 || month > 12 || day < 1 ||
      day > days_in_month(year, month)) {
    throw Error::InvalidInput(fmt::format("{:04d}-{:02d}-{:02d} is not a calendar date", year,
                                          month, day));
  }
  return Date(days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day)));
}

std::optional<Date> Date::try_parse(std::string_view text) {
  int y, m, d;
  if (text.size() != 10 || text[4] != '-' || text[7] != '-' || !parse_digits(text, 0, 4, y) ||
      !parse_digits(text, 5, 2, m) || !parse_digits(text, 8, 2, d)) {
    return std::nullopt;
  }
  if (y < 1 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m)) return std::nullopt;
  return Date(days_from_civil(y, static_cast<unsigned>(m), static_cast<unsigned>(d)));
}

Date Date::parse(std::string_view text, std::string_view what) {
  if (auto date = try_parse(text)) return *date;
  throw Error::InvalidInput(
      fmt::format("{}: '{}' is not a date; use YYYY-MM-DD, e.g. 2020-01-31", what, text));
}

Date Date::today_utc() { return utc_date_of(now_ts_ns()); }

int Date::year() const { return civil_from_days(days_).year; }
int Date::month() const { return static_cast<int>(civil_from_days(days_).month); }
int Date::day() const { return static_cast<int>(civil_from_days(days_).day); }
int Date::weekday() const {
  // 1970-01-01 was a Thursday (4).
  int w = (days_ + 4) % 7;
  return w < 0 ? w + 7 : w;
}

std::string Date::to_string() const {
  Civil c = civil_from_days(days_);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", c.year, c.month, c.day);
  return buf;
}

void throw_outside_timestamp_range(Date date) {
  throw Error::InvalidInput(fmt::format(
      "date {} is outside what a nanosecond timestamp holds ({}..{})", date.to_string(),
      Date(kFirstTimestampDay).to_string(), Date(kLastTimestampDay).to_string()));
}

Date utc_date_of(int64_t ts_ns) {
  int64_t days = ts_ns / kNanosPerDay;
  if (ts_ns % kNanosPerDay < 0) --days;
  return Date(static_cast<int32_t>(days));
}

std::string format_ts_ns(int64_t ts_ns) {
  Date date = utc_date_of(ts_ns);
  int64_t in_day = ts_ns % kNanosPerDay;  // not ts - to_ts_ns(date): INT64_MIN's day has no start
  if (in_day < 0) in_day += kNanosPerDay;
  int64_t secs = in_day / kNanosPerSecond;
  int64_t frac = in_day % kNanosPerSecond;
  std::string out = fmt::format("{}T{:02d}:{:02d}:{:02d}", date.to_string(), secs / 3600,
                                (secs / 60) % 60, secs % 60);
  if (frac != 0) {
    std::string digits = fmt::format("{:09d}", frac);
    while (!digits.empty() && digits.back() == '0') digits.pop_back();
    out += '.';
    out += digits;
  }
  out += 'Z';
  return out;
}

int64_t parse_ts_ns(std::string_view text, std::string_view what) {
  auto fail = [&]() -> int64_t {
    throw Error::InvalidInput(fmt::format(
        "{}: '{}' is not a timestamp; use YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS[.fff]Z", what, text));
  };
  auto date = Date::try_parse(text.substr(0, 10));
  if (!date) return fail();
  if (!has_ts_ns(*date)) {
    throw Error::InvalidInput(fmt::format(
        "{}: '{}' is outside what a nanosecond timestamp holds ({}..{})", what, text,
        Date(kFirstTimestampDay).to_string(), Date(kLastTimestampDay).to_string()));
  }
  int64_t ts = to_ts_ns(*date);
  if (text.size() == 10) return ts;
  int h, m, s;
  if (text.size() < 19 || (text[10] != 'T' && text[10] != ' ') || text[13] != ':' ||
      text[16] != ':' || !parse_digits(text, 11, 2, h) || !parse_digits(text, 14, 2, m) ||
      !parse_digits(text, 17, 2, s) || h > 23 || m > 59 || s > 60) {
    return fail();
  }
  ts += (int64_t{h} * 3600 + m * 60 + s) * kNanosPerSecond;
  size_t pos = 19;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    int64_t scale = kNanosPerSecond / 10;
    size_t start = pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (scale > 0) ts += (text[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start) return fail();
  }
  if (pos < text.size() && text[pos] == 'Z') ++pos;
  if (pos != text.size()) return fail();
  return ts;
}

int64_t now_ts_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace trib

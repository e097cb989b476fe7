#include "trib/net/http_date.hpp"

#include <fmt/format.h>

#include <array>

#include "trib/core/time.hpp"

namespace trib::net {
namespace {

constexpr std::array<std::string_view, 7> kWeekdays = {"Sun", "Mon", "Tue", "Wed",
                                                       "Thu", "Fri", "Sat"};
constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

bool is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int days_in_month(int y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : kDays[m - 1];
}

// Reads exactly `width` digits at `pos`.
bool read_digits(std::string_view text, size_t pos, size_t width, int& value) {
  if (pos + width > text.size()) return false;
  value = 0;
  for (size_t i = pos; i < pos + width; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    value = value * 10 + (text[i] - '0');
  }
  return true;
}

}  // namespace

std::string format_http_date(int64_t unix_seconds) {
  int64_t days = unix_seconds / 86'400;
  int64_t secs = unix_seconds % 86'400;
  if (secs < 0) {
    secs += 86'400;
    days -= 1;
  }
  const Date date(static_cast<int32_t>(days));
  return fmt::format("{}, {:02d} {} {:04d} {:02d}:{:02d}:{:02d} GMT", kWeekdays[date.weekday()],
                     date.day(), kMonths[date.month() - 1], date.year(), secs / 3600,
                     secs / 60 % 60, secs % 60);
}

std::optional<int64_t> parse_http_date(std::string_view text) {
  // "Sun, 06 Nov 1994 08:49:37 GMT": fixed width, 29 characters.
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  if (text.size() != 29 || text.substr(3, 2) != ", " || text[7] != ' ' || text[11] != ' ' ||
      text[16] != ' ' || text[19] != ':' || text[22] != ':' || text.substr(25) != " GMT") {
    return std::nullopt;
  }
  bool weekday_ok = false;
  for (auto name : kWeekdays) weekday_ok = weekday_ok || text.substr(0, 3) == name;
  int month = 0;
  for (size_t i = 0; i < kMonths.size(); ++i) {
    if (text.substr(8, 3) == kMonths[i]) month = static_cast<int>(i) + 1;
  }
  int day = 0, year = 0, hour = 0, minute = 0, second = 0;
  if (!weekday_ok || month == 0 || !read_digits(text, 5, 2, day) ||
      !read_digits(text, 12, 4, year) || !read_digits(text, 17, 2, hour) ||
      !read_digits(text, 20, 2, minute) || !read_digits(text, 23, 2, second)) {
    return std::nullopt;
  }
  // 60 allows a leap second; it lands on the next minute, which is what a client wants.
  if (year < 1 || day < 1 || day > days_in_month(year, month) || hour > 23 || minute > 59 ||
      second > 60) {
    return std::nullopt;
  }
  // Fields are checked above, so from_ymd cannot throw.
  const int64_t days = Date::from_ymd(year, month, day).days_since_epoch();
  return days * 86'400 + hour * 3600 + minute * 60 + second;
}

}  // namespace trib::net

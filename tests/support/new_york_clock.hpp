// The fake clock of the scheduling tests: UTC nanoseconds of a New York wall-clock time on a
// date (the offset in force that date).
#pragma once

#include <cstdint>

#include "trib/core/calendar.hpp"
#include "trib/core/time.hpp"

namespace trib::testing {

inline int64_t new_york_ns(const char* date, int hour, int minute = 0) {
  const Date d = Date::parse(date);
  return to_ts_ns(d) + (int64_t{hour} * 3600 + int64_t{minute} * 60 - new_york_utc_offset_hours(d) * 3600LL) *
                           1'000'000'000;
}

}  // namespace trib::testing

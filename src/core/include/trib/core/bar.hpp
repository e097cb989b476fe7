// Bars and timeframes: the unit of market data every module speaks.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "trib/core/time.hpp"

namespace trib {

// Bar length. Persistent (partition paths, catalog rows): do not rename the strings.
enum class Timeframe { kDay1, kHour1, kMinute1 };

std::string_view to_string(Timeframe tf);  // "1d", "1h", "1m"
// Throws Error::InvalidInput listing the accepted values.
Timeframe parse_timeframe(std::string_view text);

// How curated files of a timeframe are partitioned: daily and slower by year, hourly by month,
// minutes by day. Returns the partition value for a session date: "2020", "2020-03", "2020-03-16".
std::string partition_of(Timeframe tf, Date session_date);
// A number that is equal for two dates exactly when partition_of gives them the same partition
// (year, month or day): to group many bars without formatting a string per bar.
int64_t partition_ordinal(Timeframe tf, Date session_date);

// One OHLCV bar as traded (no adjustments baked in).
struct Bar {
  int64_t ts_ns = 0;        // bar open, UTC
  Date session_date;        // the exchange's trading date
  double open = 0, high = 0, low = 0, close = 0;
  double volume = 0;
  std::optional<double> vwap;
  std::optional<int64_t> trades;

  bool operator==(const Bar&) const = default;
};

}  // namespace trib

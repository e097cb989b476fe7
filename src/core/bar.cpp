#include "trib/core/bar.hpp"

#include <fmt/format.h>

#include "trib/core/error.hpp"

namespace trib {

std::string_view to_string(Timeframe tf) {
  switch (tf) {
    case Timeframe::kDay1: return "1d";
    case Timeframe::kHour1: return "1h";
    case Timeframe::kMinute1: return "1m";
  }
  return "?";
}

Timeframe parse_timeframe(std::string_view text) {
  if (text == "1d") return Timeframe::kDay1;
  if (text == "1h") return Timeframe::kHour1;
  if (text == "1m") return Timeframe::kMinute1;
  throw Error::InvalidInput(fmt::format("timeframe '{}' is not supported; use 1d, 1h or 1m", text));
}

int64_t partition_ordinal(Timeframe tf, Date session_date) {
  switch (tf) {
    case Timeframe::kDay1: return session_date.year();
    case Timeframe::kHour1: return int64_t{session_date.year()} * 12 + session_date.month();
    case Timeframe::kMinute1: return session_date.days_since_epoch();
  }
  return session_date.days_since_epoch();
}

std::string partition_of(Timeframe tf, Date session_date) {
  std::string date = session_date.to_string();
  switch (tf) {
    case Timeframe::kDay1: return date.substr(0, 4);
    case Timeframe::kHour1: return date.substr(0, 7);
    case Timeframe::kMinute1: return date;
  }
  return date;
}

}  // namespace trib

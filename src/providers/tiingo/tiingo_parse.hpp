// Tiingo payloads (https://www.tiingo.com/documentation/end-of-day, /documentation/iex): the
// deterministic parser (no network; the fuzz target builds it alone) and Tiingo's error object.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "trib/providers/provider.hpp"

namespace trib::providers::tiingo {

// The text of Tiingo's error object {"detail": "..."} (Django REST framework's shape: "Error:
// Ticker 'XYZ' not found", "Invalid token."), or nullopt when `body` is not one.
std::optional<std::string> error_detail(std::string_view body);

// Daily prices (/tiingo/daily/<ticker>/prices) as JSON — an array of {date, open, high, low,
// close, volume, adjOpen.., divCash, splitFactor} — or as CSV (format=csv; header
// date,close,high,low,open,volume,adjClose,...,divCash,splitFactor, in any order). The bars are
// the as-traded fields, never adj*; divCash > 0 is a dividend and splitFactor != 1 a split on that
// date. With an intraday context (1m, 1h) the rows are IEX bars (/iex/<ticker>/prices), dated by
// the bar's open in UTC, volume optional. Bars ascending; every row that cannot be used is a
// finding; a body that is not a price array or CSV (an error object, metadata, crypto) is
// Error::DataLoss.
ParseResult parse(std::string_view bytes, const ParseContext& context);

}  // namespace trib::providers::tiingo

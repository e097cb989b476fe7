// The alpaca parser (pure: core, nlohmann and parse_util.hpp only, so scripts/fuzz-vendors builds
// it alone). An alpaca payload is one or more pages of Alpaca Market Data v2 bars stored back to
// back, each exactly as Alpaca sent it:
//   GET /v2/stocks/bars            {"bars":{"AAPL":[{"t","o","h","l","c","v","n","vw"}],...},
//                                   "next_page_token":"..."|null}
//   GET /v2/stocks/{symbol}/bars   {"bars":[...]|null,"symbol":"AAPL","next_page_token":...}
// `t` is RFC 3339 UTC ("2022-02-01T05:00:00Z"); a daily bar's `t` is midnight New York, so its
// session is the New York date of `t` and the bar is stamped at that session's open; intraday
// bars keep `t` as their open and take the New York date as session. vw -> vwap, n -> trades.
//   GET /v1/corporate-actions      {"corporate_actions":{"forward_splits":[..],"reverse_splits":
//                                   [..],"cash_dividends":[..],"name_changes":[..]},
//                                   "next_page_token":...}: splits, cash dividends and renames
//                                   become ParseResult::actions (other types are not read)
// A symbol's bars come out ascending by time whatever the order asked (sort=desc pages too);
// bars of one symbol split across pages are joined.
#pragma once

#include <optional>
#include <string_view>

#include "trib/providers/provider.hpp"

namespace trib::providers {

ParseResult parse_alpaca(std::string_view bytes, const ParseContext& context);

// RFC 3339 text ("2022-02-01T05:00:00Z", "...T00:00:00.5-05:00") as UTC nanoseconds; nullopt
// when it is not such a timestamp or its date is outside 1900-2100.
std::optional<int64_t> alpaca_timestamp_ns(std::string_view text);

}  // namespace trib::providers

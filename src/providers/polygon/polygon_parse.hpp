// The polygon parser (pure: core, nlohmann and parse_util.hpp only, so scripts/fuzz-vendors builds
// it alone). A polygon payload is one or more JSON pages stored back to back, each exactly as
// Polygon sent it; each page is recognised by its shape:
//   aggregates  /v2/aggs/ticker/{T}/range/...  {"ticker","queryCount","resultsCount","adjusted",
//               "results":[{"v","vw","o","c","h","l","t","n"}],"status","request_id","next_url"?}
//   splits      /v3/reference/splits           {"results":[{"execution_date","split_from",
//               "split_to","ticker"}],"status","request_id","next_url"?}
//   dividends   /v3/reference/dividends        {"results":[{"cash_amount","currency"?,
//               "ex_dividend_date","pay_date","record_date","declaration_date","ticker",...}]}
// Aggregates: `t` is the epoch ms of the bar's start. Daily bars are stamped 00:00 America/New_York
// (2005-04-01 05:00Z and 2005-04-04 04:00Z across the DST switch in the recorded sample), so the
// session is the New York date of `t` and the bar is stamped at that session's open; intraday
// bars keep `t` as their open and take the New York date as session. vw -> vwap, n -> trades.
#pragma once

#include <string_view>

#include "trib/providers/provider.hpp"

namespace trib::providers {

ParseResult parse_polygon(std::string_view bytes, const ParseContext& context);

}  // namespace trib::providers

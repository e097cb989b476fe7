// Stooq's daily CSV (https://stooq.com/q/d/l/?s=spy.us&i=d): the deterministic parser (no network;
// the fuzz target builds it alone) and the plain-text answers Stooq gives instead of data.
#pragma once

#include <string_view>

#include "trib/providers/provider.hpp"

namespace trib::providers::stooq {

// Stooq answers HTTP 200 with the body "No data" for a symbol it does not have (and for a window
// in which the symbol has no rows).
bool is_no_data(std::string_view body);

// Stooq's plain-text refusal once a client has made too many downloads in a day
// ("Exceeded the daily hits limit").
bool is_hits_limit(std::string_view body);

// Header Date,Open,High,Low,Close[,Volume] (names case-insensitive, extra columns ignored), dates
// YYYY-MM-DD, rows ascending. Stooq's prices are split- and dividend-adjusted back-series (the
// adapter says so in FetchResult.request); there are no corporate actions in the file. A row that
// cannot be a bar is a finding; a body without the header (including "No data") is Error::DataLoss.
ParseResult parse(std::string_view bytes, const ParseContext& context);

}  // namespace trib::providers::stooq

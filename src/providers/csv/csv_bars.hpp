// Header-driven parsing of daily-bar CSV text, shared by the csv and sim adapters.
#pragma once

#include <string_view>

#include "trib/providers/provider.hpp"

namespace trib::providers {

// Recognised headers (case-insensitive, surrounding spaces/quotes/BOM ignored):
//   date | session_date | timestamp  (YYYY-MM-DD or YYYYMMDD)   required
//   ts                               (ISO-8601 UTC bar open)      optional; else the session open
//   open high low close volume                                    required
//   adj close | adjclose | adj_close                              ignored (no baked-in adjustments)
//   name | symbol | ticker                                        multi-symbol files
// Throws Error::DataLoss when the header lacks a required column.
ParseResult parse_bar_csv(std::string_view text, const ParseContext& context);

// True when the header line names a symbol column.
bool csv_has_symbol_column(std::string_view text);

}  // namespace trib::providers

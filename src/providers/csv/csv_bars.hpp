// Parsing daily-bar files as users have them: header-driven CSV (shared by the csv and sim
// adapters), QuantConnect Lean's daily CSV, and Lean's zip holding one such CSV.
#pragma once

#include <string>
#include <string_view>

#include "trib/providers/provider.hpp"

namespace trib::providers {

// Header-driven CSV. Recognised headers (case-insensitive, surrounding spaces/quotes/BOM ignored):
//   date | session_date | timestamp  (YYYY-MM-DD or YYYYMMDD)   required
//   ts                               (ISO-8601 UTC bar open)      optional; else the session open
//   open high low close volume                                    required
//   adj close | adjclose | adj_close                              ignored (no baked-in adjustments)
//   name | symbol | ticker                                        multi-symbol files
// Rows come back in payload order, duplicates included (the sim vendor's injected duplicates
// are the ETL's to find). A date outside 1900-01-01..2100-12-31 is a finding
// ("date_out_of_range"), never converted to a timestamp. Throws Error::InvalidInput when the
// header lacks a required column, or when a single-symbol file comes without context.symbol.
ParseResult parse_bar_csv(std::string_view text, const ParseContext& context);

// What the csv vendor stores and parses: any file `parse_bar_csv` reads, a Lean daily CSV (no
// header; `yyyyMMdd HH:mm,open,high,low,close,volume`, prices as integers scaled by 10,000, the
// time always 00:00), or a zip holding one file of either kind (Lean's `daily/<symbol>.zip`).
// On top of parse_bar_csv: a symbol's rows that run newest first (Alpha Vantage's order) come
// back ascending; a second row for a date the file already gave is a finding ("duplicate_date",
// the first row in the file stays); rows in no order at all keep payload order (the caller
// refuses them). Throws Error::InvalidInput, naming what was expected, for bytes that are none
// of these (binary files, other archives, UTF-16 text); messages never quote bytes outside
// printable ASCII.
ParseResult parse_csv_payload(std::string_view bytes, const ParseContext& context);

// True when the payload names its own symbols (a header with a symbol column; never a Lean file).
bool csv_has_symbol_column(std::string_view bytes);

// True when the bytes start like a zip archive.
bool is_zip_archive(std::string_view bytes);

// `text` for a message: printable ASCII kept, every other byte as \xNN, cut to `max` bytes of
// input with "..." after.
std::string printable_excerpt(std::string_view text, size_t max = 80);

}  // namespace trib::providers

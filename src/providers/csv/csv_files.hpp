// The csv vendor's files as `trib ingest --file` names them: a file, a folder, or a glob pattern
// (quoted, so we expand it), and the symbol a single-symbol file's name gives.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "trib/core/symbol.hpp"

namespace trib::providers {

// The files `inputs` name, each once, in order: an existing file as given; a folder's data files
// (*.csv, *.txt, *.zip, any case; not hidden, not in sub-folders), sorted by name; otherwise a
// glob(3) pattern's regular files, sorted. Throws Error::NotFound for a plain path that does not
// exist, Error::InvalidInput for a pattern that matches no file or a folder with no data file.
std::vector<std::filesystem::path> expand_csv_inputs(const std::vector<std::string>& inputs);

// The symbol a file's name gives, or nullopt when it gives none:
//   0. named patterns first: Lean minute files yyyymmdd_<sym>_minute_trade.csv -> SYM; FXCM
//      <pair>-m1-<bid|ask>-<year>.csv -> PAIR.BID / PAIR.ASK (each side its own series);
//   1. drop the extensions .zip, .csv, .txt (any case, repeatedly): aapl.csv.zip -> aapl;
//   2. drop one vendor suffix: _us_daily, _us_d, _daily, _d, _us, .us (Stooq's spy_us_daily,
//      spy_us_d, aapl.us);
//   3. what is left must look like a ticker: an optional '^', 1-10 letters or digits with at least
//      one letter, then optionally '.' or '-' and 1-2 letters or digits (BRK.B, BF-B, ^GSPC);
//   4. upper-cased.
// So AAPL.csv, aapl.us.txt, aapl.zip -> AAPL; spy_us_daily.csv -> SPY; sp500-2000.csv,
// all_stocks_5yr.csv, 2020.csv -> none.
std::optional<Symbol> symbol_from_file_name(std::string_view file_name);

// A path for a message: control bytes replaced by '?'.
std::string display_path(const std::filesystem::path& path);

}  // namespace trib::providers

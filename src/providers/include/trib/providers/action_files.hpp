// Corporate actions from files (`trib actions import`): Lean's factor files and map files, and a
// CSV a user writes. The bytes are stored in the raw zone (vendor csv, dataset actions) like any
// payload, so `trib etl --rebuild` records the same actions again.
//
// Our CSV (a header naming the columns, any order; empty cells for what does not apply):
//   symbol,kind,ex_date,ratio,amount,currency,pay_date,record_date,declared_date,new_symbol,retracted
//   AAPL,split,2020-08-31,4,,,,,,,
//   AAPL,dividend,2020-08-07,,0.82,USD,2020-08-13,2020-08-10,2020-07-30,,
//   WMI,symbol_change,2009-08-05,,,,,,,WM,
//   AAPL,split,2020-08-30,4,,,,,,,true     <- withdraws a row imported by mistake
// symbol, kind and ex_date are required; ratio for a split (new shares per old), amount for a
// dividend, new_symbol for a symbol change. An optional reference_price column gives a dividend's
// close before the ex-date, used only where the bars lack that session.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "trib/core/corporate_action.hpp"
#include "trib/core/symbol.hpp"
#include "trib/providers/provider.hpp"

namespace trib::providers {

enum class ActionFileFormat { kLeanFactor, kLeanMap, kActionsCsv };
// "lean_factor" | "lean_map" | "actions_csv" (stored in the raw sidecar).
std::string_view to_string(ActionFileFormat format);
ActionFileFormat parse_action_file_format(std::string_view text);

// An action and whether the source withdraws it (our CSV's `retracted` column).
struct FileAction {
  CorporateAction action;
  bool retracted = false;
};

struct ActionFileParse {
  std::vector<FileAction> actions;
  std::vector<ParseFinding> findings;  // rows that are not valid actions, with line and reason
};

// `symbol`: the security a Lean file describes (its file name: aapl.csv -> AAPL; fb.1.csv is an
// earlier security that used the ticker FB). Ignored for our CSV, whose rows name their symbol.
// Lean factor file: the splits and dividends its rows encode (actions_from_lean_factors).
// Lean map file (`yyyyMMdd,ticker[,exchange]`: the ticker in use up to and including each
// date, the first row the first date of the security): a symbol change on the session after a
// row whose ticker differs from the next row's, and a delisting on the session after the last
// row unless it is 2050-12-31 (still trading).
// Never throws for bad rows (they are findings).
ActionFileParse parse_action_file(std::string_view bytes, ActionFileFormat format, const Symbol& symbol);

// The format and the security of a file, from its path: `.../factor_files/<sym>.csv` and
// `.../map_files/<sym>.csv` are Lean's (the security from the name, ".1" and "_" parts kept as
// Lean writes them), anything else our CSV. Throws Error::InvalidInput for a Lean file whose
// name is not a symbol.
struct ActionFileKind {
  ActionFileFormat format = ActionFileFormat::kActionsCsv;
  Symbol symbol;  // Lean files only
};
ActionFileKind classify_action_file(std::string_view path);

}  // namespace trib::providers

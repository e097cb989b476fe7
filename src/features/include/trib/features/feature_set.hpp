// Feature sets: named formulas of the expression language (features/expression.hpp) in a TOML
// file, versioned by the SHA-256 of its text, computed for a universe into
//   features/<set>/timeframe=<tf>/symbol=<S>/year=<YYYY>/data.parquet
// and committed in the catalog as dataset "features/<set>".
//
// File columns: ts TIMESTAMP(NANOS,UTC), session_date DATE, close DOUBLE (the price the features
// were computed on), then one DOUBLE OPTIONAL per feature in the set's order (null during a
// warm-up, after a gap, or where a value is not finite).
//
// Shipped sets (src/features/sets/, compiled in): "basic" (SMA/EMA/RSI/returns/volatility and a
// few everyday ratios) and "alpha158" (Qlib's 158 formulas). A file
// <workspace>/feature_sets/<name>.toml is found by name and wins over a shipped set; any other
// .toml is named by its path.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "trib/catalog/catalog.hpp"
#include "trib/core/bar.hpp"
#include "trib/core/symbol.hpp"
#include "trib/etl/adjusted_bars.hpp"
#include "trib/lake/object_store.hpp"

namespace trib::features {

struct FeatureSet {
  std::string name;    // "alpha158": the dataset is features/<name>
  std::string source;  // "built-in" or the file it was read from
  std::string text;    // the TOML as read
  std::string hash;    // SHA-256 of `text`, hex: a changed formula is a new version
  std::vector<std::pair<std::string, std::string>> features;  // name -> formula, in file order
};

// The shipped sets' names.
std::vector<std::string> builtin_feature_sets();
// Parses a set's TOML: a [features] table of name = "formula" (names are column names:
// letters, digits and _, not starting with a digit; not ts, session_date or close). Every
// formula is compiled, so a bad one is reported with its name and column.
// Error::InvalidInput naming what is wrong.
FeatureSet parse_feature_set(std::string name, std::string text, std::string source);
// A set by name (workspace file, then shipped) or by the path of a .toml file;
// Error::NotFound listing the sets there are.
FeatureSet load_feature_set(std::string_view name_or_path, const std::filesystem::path& workspace_root);

struct FeatureRunOptions {
  Timeframe tf = Timeframe::kDay1;
  etl::PriceOptions prices;  // the CLI passes trib.toml's [prices] adjust ("total" by default)
  bool full = false;         // recompute every session, not only the new ones
  unsigned threads = 0;      // symbols evaluated in parallel; 0 = one per core
};

struct FeatureRunStats {
  int symbols = 0;
  int symbols_full = 0;          // computed over their whole history
  int symbols_incremental = 0;   // only sessions after the last written one (with warm-up)
  int symbols_current = 0;       // nothing new
  int64_t rows_computed = 0;     // rows written (new or recomputed)
  int partitions_written = 0;    // created or replaced
  int partitions_unchanged = 0;
};

// Computes `set` for `universe` and commits one file per partition. Incremental: a symbol whose
// files were written by this set version from the same input bars gets only its new sessions,
// each computed from the warm-up rows it needs (the whole history for recursive indicators);
// anything else (a first run, an edited set, a new split or dividend changing adjusted
// history, `full`) recomputes the symbol. Idempotent: a rerun writes nothing. A set with
// cross-sectional operators computes every symbol from the same date (the earliest any needs).
// Error::InvalidInput for a symbol without bars.
FeatureRunStats write_feature_set(lake::ObjectStore& store, catalog::Catalog& catalog, const FeatureSet& set,
                                  const std::vector<Symbol>& universe, const FeatureRunOptions& options = {});

}  // namespace trib::features

// Batch inference: a registered model's forecasts written to the lake as
//   predictions/model=<id>/timeframe=<tf>/symbol=<S>/year=<YYYY>/data.parquet
// (columns ts, session_date, prediction DOUBLE, split INT32: the walk-forward split whose model
// made it, -1 for the final model), committed as dataset "predictions/<id>" like features.
//
// Only out-of-sample forecasts: the forecast for a date comes from the newest of the model's
// split models (or its final model) that had finished learning by that date: every label it
// learned from had ended by then. Dates before the first test window have none. A prediction is
// known at the close of its session date: a strategy deciding on date t reads predictions of
// dates <= t (read_predictions' as-of rule).
//
// Incremental and idempotent: each touched partition is rewritten with the range's rows replaced
// (the same model gives the same numbers, so a rerun changes nothing) and committed through the
// partition protocol.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "trib/catalog/catalog.hpp"
#include "trib/core/symbol.hpp"
#include "trib/core/time.hpp"
#include "trib/lake/object_store.hpp"

namespace trib::ml {

struct PredictOptions {
  std::optional<Date> from, to;     // default: the first test date .. the newest features
  std::filesystem::path workspace;  // for feature sets named by file
  unsigned threads = 0;
};

struct PredictStats {
  int symbols = 0;
  int64_t rows = 0;                 // forecasts written
  int64_t rows_without_model = 0;   // dates no model could forecast out of sample
  int partitions_written = 0, partitions_unchanged = 0;
  int32_t from_day = 0, to_day = 0;
};

PredictStats write_predictions(lake::ObjectStore& store, catalog::Catalog& catalog, const std::string& model_id,
                               const PredictOptions& options = {});

struct PredictionRow {
  int32_t day = 0;
  std::string symbol;
  double prediction = 0;
  int32_t split = 0;
};

// The model's predictions for `symbols` (empty: all) with session dates in [from, as_of]: what a
// strategy deciding at the close of `as_of` may know. Ordered by date, then symbol.
std::vector<PredictionRow> read_predictions(lake::ObjectStore& store, catalog::Catalog& catalog,
                                            const std::string& model_id, const std::vector<Symbol>& symbols,
                                            Date from, Date as_of);

}  // namespace trib::ml

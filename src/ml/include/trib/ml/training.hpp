// Walk-forward training: build the dataset, cut the splits, and for each split fit the
// preprocessing and the model on its training window (its validation window choosing what the
// config leaves open), predict its test window; then fit a final model on the newest window for
// predicting past the data. The test windows' predictions are out of sample by construction;
// the metrics are computed on them alone.
//
// The model id is "<name>-<12 hex of SHA-256(config, dataset hash, code version)>": the same
// config on the same data by the same code is the same model, so a rerun is a no-op (it reports
// the registered model). Artefacts are written to the lake first (deterministic bytes), the
// catalog row last: a crash in between leaves files that the rerun rewrites identically and then
// registers.
//
//   models/<id>/config.toml          the config as trained (defaults filled in)
//   models/<id>/manifest.json        features, universe, label, horizon, dataset hash, splits
//                                    (date ranges, rows, what fitting chose, when each model may
//                                    predict from)
//   models/<id>/split=<k>/model.<ext>, preprocess.json   one per split
//   models/<id>/final/model.<ext>, preprocess.json       for dates past the data
//   models/<id>/metrics.json         summary over the test dates, per split, per date
//   models/<id>/oos.parquet          out-of-sample predictions: session_date, symbol, split,
//                                    prediction, label (what the metrics were computed from)
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "trib/catalog/catalog.hpp"
#include "trib/lake/object_store.hpp"
#include "trib/ml/dataset.hpp"
#include "trib/ml/metrics.hpp"
#include "trib/ml/model_config.hpp"
#include "trib/ml/splits.hpp"

namespace trib::ml {

struct TrainOptions {
  std::filesystem::path workspace;  // where feature_sets/<name>.toml are looked up
  unsigned threads = 0;             // 0: one per core
  std::function<void(const std::string&)> progress;  // one line per step, for the CLI
  // When set, every split's prepared matrices are written there as .npy (float32 inputs,
  // float64 targets and labels) with a manifest.json: for checking against other tools.
  std::optional<std::filesystem::path> export_dir;
};

struct SplitReport {
  Split split;                 // rows cleared after training (counts kept)
  size_t train_rows = 0, valid_rows = 0, test_rows = 0;
  nlohmann::json fit;          // what the model chose (rounds, alpha) and its validation score
  MetricsSummary test;
  double prepare_seconds = 0, fit_seconds = 0;  // wall time (reports only, never in artefacts)
};

struct TrainResult {
  catalog::ModelRecord record;
  bool already_registered = false;
  std::vector<SplitReport> splits;
  MetricsSummary test;          // over every test date
  std::vector<DateMetrics> by_date;
  std::vector<std::pair<std::string, double>> importance;  // the final model's, descending
  DatasetStats dataset;
  double dataset_seconds = 0, final_seconds = 0;  // wall time (reports only, never in artefacts)
};

TrainResult train_model(lake::ObjectStore& store, catalog::Catalog& catalog, const ModelConfig& config,
                        const TrainOptions& options = {});

// The registered model `id`; Error::NotFound naming it and saying to run `trib ml list`.
catalog::ModelRecord find_model(catalog::Catalog& catalog, const std::string& id);
// A registered model's manifest (<artefacts>/manifest.json).
nlohmann::json read_manifest(lake::ObjectStore& store, const catalog::ModelRecord& model);

}  // namespace trib::ml

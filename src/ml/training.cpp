#include "trib/ml/training.hpp"

#include <algorithm>
#include <chrono>
#include <climits>
#include <cmath>
#include <fstream>
#include <memory>

#include <fmt/format.h>

#include "trib/core/config.hpp"
#include "trib/core/corporate_action.hpp"
#include "trib/core/error.hpp"
#include "trib/core/hash.hpp"
#include "trib/core/time.hpp"
#include "trib/features/feature_set.hpp"
#include "trib/lake/parquet.hpp"
#include "trib/ml/model.hpp"
#include "trib/ml/preprocess.hpp"

namespace trib::ml {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

void say(const TrainOptions& o, const std::string& line) {
  if (o.progress) o.progress(line);
}

// Every symbol with curated bars of the timeframe, sorted.
std::vector<Symbol> all_symbols(catalog::Catalog& catalog, Timeframe tf) {
  std::vector<std::string> names;
  for (const auto& p : catalog.list_partitions("bars", std::string(to_string(tf)))) {
    if (names.empty() || names.back() != p.key.symbol) names.push_back(p.key.symbol);
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  std::vector<Symbol> out;
  for (const auto& n : names) out.push_back(Symbol::parse(n));
  return out;
}

// NumPy's .npy format, version 1.0: a header naming dtype and shape, then the raw values.
void write_npy(const fs::path& path, const void* data, size_t bytes, const char* dtype, std::vector<size_t> shape) {
  std::string dims;
  for (size_t i = 0; i < shape.size(); ++i) dims += std::to_string(shape[i]) + (shape.size() == 1 || i + 1 < shape.size() ? "," : "");
  std::string header = fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': ({}), }}", dtype, dims);
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::ofstream out(path, std::ios::binary);
  out.write("\x93NUMPY\x01\x00", 8);
  const uint16_t len = static_cast<uint16_t>(header.size());
  out.put(static_cast<char>(len & 0xff));
  out.put(static_cast<char>(len >> 8));
  out << header;
  out.write(static_cast<const char*>(data), static_cast<std::streamsize>(bytes));
  if (!out) throw Error::Permanent(fmt::format("cannot write {}", path.string()));
}

void export_prepared(const fs::path& dir, const std::string& name, const Prepared& p, const Dataset& data) {
  write_npy(dir / ("X_" + name + ".npy"), p.x.values.data(), p.x.values.size() * sizeof(float), "<f4", {p.x.rows, p.x.cols});
  write_npy(dir / ("y_" + name + ".npy"), p.target.data(), p.target.size() * sizeof(double), "<f8", {p.target.size()});
  std::vector<double> label;
  std::vector<int32_t> day, symbol;
  for (size_t r : p.rows) {
    label.push_back(data.y[r]);
    day.push_back(data.day[r]);
    symbol.push_back(data.symbol[r]);
  }
  write_npy(dir / ("label_" + name + ".npy"), label.data(), label.size() * sizeof(double), "<f8", {label.size()});
  write_npy(dir / ("day_" + name + ".npy"), day.data(), day.size() * sizeof(int32_t), "<i4", {day.size()});
  write_npy(dir / ("symbol_" + name + ".npy"), symbol.data(), symbol.size() * sizeof(int32_t), "<i4", {symbol.size()});
  std::vector<uint32_t> groups = p.group_sizes;
  write_npy(dir / ("groups_" + name + ".npy"), groups.data(), groups.size() * sizeof(uint32_t), "<u4", {groups.size()});
}

TrainingData view(const Prepared& p) { return {&p.x, p.target, p.group_sizes}; }

json split_json(const Split& s) {
  return {{"index", s.index},
          {"train_from", Date(s.train_from).to_string()},
          {"train_to", Date(s.train_to).to_string()},
          {"valid_from", s.valid_from != 0 ? Date(s.valid_from).to_string() : ""},
          {"valid_to", s.valid_to != 0 ? Date(s.valid_to).to_string() : ""},
          {"test_from", s.test_from != 0 ? Date(s.test_from).to_string() : ""},
          {"test_to", s.test_to != 0 ? Date(s.test_to).to_string() : ""},
          {"train_rows", s.train_rows.size()},
          {"valid_rows", s.valid_rows.size()},
          {"test_rows", s.test_rows.size()},
          {"purged", s.purged},
          {"embargoed", s.embargoed}};
}

std::string oos_parquet(const Dataset& data, const std::vector<size_t>& rows, const std::vector<int32_t>& splits,
                        const std::vector<double>& predictions, const std::string& id) {
  std::vector<int32_t> days;
  std::vector<std::string> symbols;
  std::vector<double> labels;
  for (size_t r : rows) {
    days.push_back(data.day[r]);
    symbols.push_back(data.symbols[static_cast<size_t>(data.symbol[r])]);
    labels.push_back(data.y[r]);
  }
  parquet::Schema schema;
  schema.columns = {parquet::ColumnSchema::Date("session_date"), parquet::ColumnSchema::String("symbol"),
                    parquet::ColumnSchema::Int32("split"), parquet::ColumnSchema::Double("prediction"),
                    parquet::ColumnSchema::Double("label")};
  std::vector<parquet::ColumnVector> columns;
  columns.push_back(parquet::ColumnVector::of_i32(std::move(days)));
  columns.push_back(parquet::ColumnVector::of_strings(symbols));
  columns.push_back(parquet::ColumnVector::of_i32(splits));
  columns.push_back(parquet::ColumnVector::of_f64(predictions));
  columns.push_back(parquet::ColumnVector::of_f64(std::move(labels)));
  parquet::WriterOptions options;
  options.key_value = {{"trib.schema", "oos/1"}, {"trib.model", id}, {"trib.code_version", std::string(code_version())}};
  parquet::StringSink sink;
  parquet::Writer writer(sink, schema, options);
  writer.write_batch(columns);
  writer.close();
  return std::move(sink.buffer());
}

}  // namespace

TrainResult train_model(lake::ObjectStore& store, catalog::Catalog& catalog, const ModelConfig& config,
                        const TrainOptions& options) {
  TrainResult result;
  // 1. The dataset.
  DatasetSpec spec;
  spec.set = features::load_feature_set(config.feature_set, options.workspace);
  spec.label = config.label;
  if (config.universe.empty()) {
    spec.universe = all_symbols(catalog, config.tf);
    if (spec.universe.empty()) throw Error::NotFound("the lake has no bars to train on: ingest some first (trib ingest, trib backfill)");
  } else {
    for (const auto& s : config.universe) spec.universe.push_back(Symbol::parse(s));
  }
  spec.from = config.from.value_or(Date::from_ymd(1900, 1, 1));
  spec.to = config.to.value_or(Date::from_ymd(2999, 12, 31));
  spec.tf = config.tf;
  spec.prices.adjust = config.adjust;
  spec.threads = options.threads;
  say(options, fmt::format("dataset: feature set {} ({} features) x {} symbol(s), label {}", spec.set.name,
                           spec.set.features.size(), spec.universe.size(), config.label));
  auto started = std::chrono::steady_clock::now();
  auto seconds_since = [](std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
  };
  Dataset data = build_dataset(store, catalog, spec, &result.dataset);
  result.dataset_seconds = seconds_since(started);
  if (data.rows() == 0) throw Error::NotFound("the dataset has no rows: no feature rows fall in [dataset] from/to");
  say(options, fmt::format("dataset: {} rows over {} sessions ({} .. {}), hash {}", data.rows(), data.dates.size(),
                           Date(data.dates.front()).to_string(), Date(data.dates.back()).to_string(),
                           data.hash.substr(0, 12)));

  // 2. The id: this config on this data by this code.
  const std::string config_text = config.to_toml();
  const std::string id =
      config.name + "-" + sha256_hex(config_text + "|" + data.hash + "|" + std::string(code_version())).substr(0, 12);
  if (auto existing = catalog.get_model(id)) {
    result.record = *existing;
    result.already_registered = true;
    say(options, fmt::format("model {} is registered already (same config, data and code): nothing to train", id));
    return result;
  }

  // 3. Walk forward.
  std::vector<Split> splits = walk_forward_splits(data, config.split);
  const std::string prefix = "models/" + id + "/";
  std::vector<size_t> oos_rows;
  std::vector<int32_t> oos_split;
  std::vector<double> oos_pred;
  json split_docs = json::array();
  for (Split& s : splits) {
    started = std::chrono::steady_clock::now();
    const FittedPreprocess fitted = fit_preprocess(data, s.train_rows, config.preprocess);
    auto train = std::make_unique<Prepared>(prepare(data, s.train_rows, fitted, true));
    auto valid = std::make_unique<Prepared>(prepare(data, s.valid_rows, fitted, true));
    double prepare_seconds = seconds_since(started);
    started = std::chrono::steady_clock::now();
    auto model = make_model(config.kind, config.params, data.feature_names, config.seed);
    const json fit = model->fit(view(*train), view(*valid));
    const double fit_seconds = seconds_since(started);
    started = std::chrono::steady_clock::now();
    SplitReport report;
    report.train_rows = train->x.rows;
    report.valid_rows = valid->x.rows;
    if (options.export_dir) {
      const fs::path d = *options.export_dir / fmt::format("split={}", s.index);
      fs::create_directories(d);
      export_prepared(d, "train", *train, data);
      export_prepared(d, "valid", *valid, data);
    }
    train.reset();  // the test matrix is built once the training one is gone: a lower peak
    valid.reset();
    const Prepared test = prepare(data, s.test_rows, fitted, false);
    prepare_seconds += seconds_since(started);
    const auto predictions = model->predict(test.x);
    std::vector<int32_t> day, symbol;
    std::vector<double> label;
    for (size_t r : test.rows) {
      day.push_back(data.day[r]);
      symbol.push_back(data.symbol[r]);
      label.push_back(data.y[r]);
    }
    report.test_rows = test.x.rows;
    report.fit = fit;
    report.prepare_seconds = prepare_seconds;
    report.fit_seconds = fit_seconds;
    report.test = summarize(metrics_by_date(day, symbol, predictions, label, config.quantiles), config.quantiles);
    for (size_t i = 0; i < test.rows.size(); ++i) {
      oos_rows.push_back(test.rows[i]);
      oos_split.push_back(s.index);
      oos_pred.push_back(predictions[i]);
    }
    const std::string dir = fmt::format("{}split={}/", prefix, s.index);
    store.put(dir + "model." + model->extension(), model->save());
    store.put(dir + "preprocess.json", fitted.to_json().dump(1));
    if (options.export_dir) {
      const fs::path d = *options.export_dir / fmt::format("split={}", s.index);
      export_prepared(d, "test", test, data);
      write_npy(d / "pred_test.npy", predictions.data(), predictions.size() * sizeof(double), "<f8", {predictions.size()});
      std::ofstream(d / "fit.json") << json{{"fit", fit}, {"model", dir + "model." + model->extension()}}.dump(1);
    }
    json doc = split_json(s);
    doc["fit"] = fit;
    doc["test_metrics"] = report.test.to_json();
    doc["predicts_from"] = Date(s.test_from).to_string();
    split_docs.push_back(doc);
    say(options, fmt::format("split {}: train {} .. {} ({} rows, {} purged), test {} .. {}: rank IC {:.4f}", s.index,
                             Date(s.train_from).to_string(), Date(s.train_to).to_string(), report.train_rows, s.purged,
                             Date(s.test_from).to_string(), Date(s.test_to).to_string(), report.test.rank_ic_mean));
    s.train_rows.clear();
    s.valid_rows.clear();
    s.test_rows.clear();
    report.split = std::move(s);
    result.splits.push_back(std::move(report));
  }

  // 4. Metrics over every test date (the test windows follow each other, so the rows are in
  // date order).
  {
    std::vector<int32_t> day, symbol;
    std::vector<double> label;
    for (size_t r : oos_rows) {
      day.push_back(data.day[r]);
      symbol.push_back(data.symbol[r]);
      label.push_back(data.y[r]);
    }
    result.by_date = metrics_by_date(day, symbol, oos_pred, label, config.quantiles);
    result.test = summarize(result.by_date, config.quantiles);
  }

  // 5. The final model, for dates past the data.
  started = std::chrono::steady_clock::now();
  Split last = final_split(data, config.split);
  const FittedPreprocess final_fitted = fit_preprocess(data, last.train_rows, config.preprocess);
  auto final_model = make_model(config.kind, config.params, data.feature_names, config.seed);
  const Prepared final_train = prepare(data, last.train_rows, final_fitted, true);
  const Prepared final_valid = prepare(data, last.valid_rows, final_fitted, true);
  const json final_fit = final_model->fit(view(final_train), view(final_valid));
  result.final_seconds = seconds_since(started);
  store.put(prefix + "final/model." + final_model->extension(), final_model->save());
  store.put(prefix + "final/preprocess.json", final_fitted.to_json().dump(1));
  json final_doc = split_json(last);
  final_doc["fit"] = final_fit;
  final_doc["predicts_from"] = (Date(data.dates.back()) + 1).to_string();
  const auto importance = final_model->importance();
  for (size_t k = 0; k < importance.size(); ++k) result.importance.emplace_back(data.feature_names[k], importance[k]);
  std::stable_sort(result.importance.begin(), result.importance.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  say(options, fmt::format("final model: train {} .. {} ({} rows)", Date(last.train_from).to_string(),
                           Date(last.train_to).to_string(), last.train_rows.size()));

  // 6. Artefacts, then the catalog row (the commit point).
  json by_date = json::array();
  for (const auto& m : result.by_date) {
    by_date.push_back({{"date", Date(m.day).to_string()},
                       {"n", m.n},
                       {"ic", m.ic},
                       {"rank_ic", m.rank_ic},
                       {"hit_rate", std::isfinite(m.hit_rate) ? json(m.hit_rate) : json(nullptr)},
                       {"long_short", m.long_short},
                       {"turnover", std::isfinite(m.turnover) ? json(m.turnover) : json(nullptr)}});
  }
  json split_metrics = json::array();
  for (const auto& doc : split_docs) split_metrics.push_back({{"index", doc["index"]}, {"test", doc["test_metrics"]}, {"fit", doc["fit"]}});
  const json metrics = {{"test", result.test.to_json()}, {"splits", split_metrics}};
  json importance_doc = json::object();
  for (const auto& [name, value] : result.importance) importance_doc[name] = value;
  const json manifest = {{"id", id},
                         {"name", config.name},
                         {"kind", config.kind},
                         {"feature_set", spec.set.name},
                         {"feature_set_hash", spec.set.hash},
                         {"features", data.feature_names},
                         {"universe", data.symbols},
                         {"label", data.label},
                         {"label_horizon", data.label_horizon},
                         {"timeframe", std::string(to_string(config.tf))},
                         {"adjust", config.adjust == AdjustMode::kRaw ? "raw" : config.adjust == AdjustMode::kSplit ? "split" : "total"},
                         {"dataset_hash", data.hash},
                         {"dataset_rows", data.rows()},
                         {"from", Date(data.dates.front()).to_string()},
                         {"to", Date(data.dates.back()).to_string()},
                         {"splits", split_docs},
                         {"final", final_doc},
                         {"model_file", "model." + final_model->extension()},
                         {"code_version", std::string(code_version())}};
  store.put(prefix + "config.toml", config_text);
  store.put(prefix + "metrics.json", json{{"test", result.test.to_json()}, {"splits", split_metrics}, {"by_date", by_date}}.dump(1));
  store.put(prefix + "oos.parquet", oos_parquet(data, oos_rows, oos_split, oos_pred, id));
  store.put(prefix + "manifest.json", manifest.dump(1));

  catalog::ModelRecord& rec = result.record;
  rec.id = id;
  rec.name = config.name;
  rec.kind = config.kind;
  rec.feature_set = spec.set.name;
  rec.feature_set_hash = spec.set.hash;
  rec.label = data.label;
  rec.dataset_hash = data.hash;
  rec.config_toml = config_text;
  rec.code_version = std::string(code_version());
  rec.artefacts = prefix;
  rec.metrics_json = metrics.dump();
  rec.importance_json = importance_doc.dump();
  rec.from_day = data.dates.front();
  rec.to_day = data.dates.back();
  rec.splits = static_cast<int32_t>(splits.size());
  rec.created_at_ns = now_ts_ns();
  if (!catalog.record_model(rec)) {  // a concurrent identical run registered it first
    result.record = *catalog.get_model(id);
    result.already_registered = true;
  }
  return result;
}

catalog::ModelRecord find_model(catalog::Catalog& catalog, const std::string& id) {
  auto record = catalog.get_model(id);
  if (!record) throw Error::NotFound(fmt::format("model '{}' is not registered; `trib ml list` lists the models", id));
  return std::move(*record);
}

json read_manifest(lake::ObjectStore& store, const catalog::ModelRecord& model) {
  const json manifest = json::parse(store.get(model.artefacts + "manifest.json"), nullptr, false);
  if (manifest.is_discarded()) {
    throw Error::DataLoss(fmt::format("model {}: {}manifest.json is not JSON; train it again", model.id, model.artefacts));
  }
  return manifest;
}

}  // namespace trib::ml

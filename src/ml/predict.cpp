#include "trib/ml/predict.hpp"

#include <algorithm>
#include <climits>
#include <cmath>
#include <map>
#include <set>
#include <tuple>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "trib/core/config.hpp"
#include "trib/core/corporate_action.hpp"
#include "trib/core/error.hpp"
#include "trib/etl/bars_reader.hpp"
#include "trib/etl/partition_commit.hpp"
#include "trib/features/feature_set.hpp"
#include "trib/lake/layout.hpp"
#include "trib/lake/parquet.hpp"
#include "trib/ml/dataset.hpp"
#include "trib/ml/model.hpp"
#include "trib/ml/preprocess.hpp"
#include "trib/ml/training.hpp"

namespace trib::ml {
namespace {

using nlohmann::json;

constexpr int64_t kNanosPerDay = 86'400'000'000'000LL;

std::string dataset_name(const std::string& id) { return "predictions/" + id; }

std::string predictions_key(const std::string& id, Timeframe tf, const Symbol& symbol, const std::string& partition) {
  return fmt::format("predictions/model={}/timeframe={}/symbol={}/{}/data.parquet", id, to_string(tf),
                     symbol.path_component(), lake::partition_dir(tf, partition));
}

struct Rows {
  std::vector<int32_t> day;
  std::vector<double> prediction;
  std::vector<int32_t> split;
};

parquet::Schema schema() {
  parquet::Schema s;
  s.columns = {parquet::ColumnSchema::Date("session_date"), parquet::ColumnSchema::Double("prediction"),
               parquet::ColumnSchema::Int32("split")};
  return s;
}

std::string encode(const Rows& rows, const std::string& id, const Symbol& symbol, const std::string& partition) {
  std::vector<parquet::ColumnVector> columns;
  columns.push_back(parquet::ColumnVector::of_i32(rows.day));
  columns.push_back(parquet::ColumnVector::of_f64(rows.prediction));
  columns.push_back(parquet::ColumnVector::of_i32(rows.split));
  parquet::WriterOptions options;
  options.dictionary = false;
  options.key_value = {{"trib.schema", "predictions/1"},
                       {"trib.model", id},
                       {"trib.symbol", symbol.str()},
                       {"trib.partition", partition},
                       {"trib.code_version", std::string(code_version())}};
  parquet::StringSink sink;
  parquet::Writer writer(sink, schema(), options);
  writer.write_batch(columns);
  writer.close();
  return std::move(sink.buffer());
}

Rows decode(const std::string& bytes) {
  parquet::Reader reader(parquet::memory_source(bytes));
  Rows rows;
  for (int g = 0; g < reader.num_row_groups(); ++g) {
    const auto cols = reader.read_row_group(g, {0, 1, 2});
    rows.day.insert(rows.day.end(), cols[0].i32.begin(), cols[0].i32.end());
    rows.prediction.insert(rows.prediction.end(), cols[1].f64.begin(), cols[1].f64.end());
    rows.split.insert(rows.split.end(), cols[2].i32.begin(), cols[2].i32.end());
  }
  return rows;
}

// One of the model's fitted models and the first date it may forecast.
struct Member {
  int32_t index = 0;  // split, -1 final
  int32_t from_day = 0;
  std::unique_ptr<Model> model;
  FittedPreprocess fitted;
};

}  // namespace

PredictStats write_predictions(lake::ObjectStore& store, catalog::Catalog& catalog, const std::string& model_id,
                               const PredictOptions& options) {
  const catalog::ModelRecord record = find_model(catalog, model_id);
  const json manifest = read_manifest(store, record);
  const auto set = features::load_feature_set(manifest.at("feature_set").get<std::string>(), options.workspace);
  if (set.hash != manifest.at("feature_set_hash").get<std::string>()) {
    throw Error::InvalidInput(fmt::format(
        "feature set '{}' has changed since model {} was trained (its text hashes to {}, the model's to {}): the "
        "model would be fed features it never saw; restore the set or train a new model",
        set.name, model_id, set.hash.substr(0, 12), manifest.at("feature_set_hash").get<std::string>().substr(0, 12)));
  }
  const Timeframe tf = parse_timeframe(manifest.at("timeframe").get<std::string>());
  std::vector<Symbol> universe;
  for (const auto& s : manifest.at("universe")) universe.push_back(Symbol::parse(s.get<std::string>()));
  const auto features_names = manifest.at("features").get<std::vector<std::string>>();

  std::vector<Member> members;
  auto load_member = [&](const json& doc, const std::string& dir, int32_t index) {
    Member m;
    m.index = index;
    m.from_day = Date::parse(doc.at("predicts_from").get<std::string>()).days_since_epoch();
    m.model = load_model(record.kind, store.get(record.artefacts + dir + manifest.at("model_file").get<std::string>()),
                         features_names);
    m.fitted = FittedPreprocess::from_json(json::parse(store.get(record.artefacts + dir + "preprocess.json")));
    members.push_back(std::move(m));
  };
  for (const auto& doc : manifest.at("splits")) {
    load_member(doc, fmt::format("split={}/", doc.at("index").get<int>()), doc.at("index").get<int32_t>());
  }
  load_member(manifest.at("final"), "final/", -1);
  std::sort(members.begin(), members.end(), [](const Member& a, const Member& b) { return a.from_day < b.from_day; });

  PredictStats stats;
  const Date from = options.from.value_or(Date(members.front().from_day));
  const Date to = options.to.value_or(Date::from_ymd(2999, 12, 31));
  if (from > to) {
    throw Error::InvalidInput(fmt::format("--from {} is after --to {}", from.to_string(), to.to_string()));
  }

  // The features, brought up to date for the model's universe and price mode.
  features::FeatureRunOptions run;
  run.tf = tf;
  run.prices.adjust = parse_adjust_mode(manifest.at("adjust").get<std::string>());
  run.threads = options.threads;
  features::write_feature_set(store, catalog, set, universe, run);
  const Dataset rows = read_feature_rows(store, catalog, set, universe, from, to, tf);

  // Each date's forecasts from the newest member allowed to make them.
  std::vector<Rows> per_symbol(universe.size());
  std::map<size_t, std::vector<size_t>> by_member;  // member -> dataset rows
  for (size_t d = 0; d < rows.dates.size(); ++d) {
    size_t chosen = members.size();
    for (size_t m = 0; m < members.size(); ++m) {
      if (members[m].from_day <= rows.dates[d]) chosen = m;
    }
    if (chosen == members.size()) {
      stats.rows_without_model += static_cast<int64_t>(rows.date_begin[d + 1] - rows.date_begin[d]);
      continue;
    }
    auto& list = by_member[chosen];
    for (size_t r = rows.date_begin[d]; r < rows.date_begin[d + 1]; ++r) list.push_back(r);
  }
  for (const auto& [m, list] : by_member) {
    const Prepared prepared = prepare(rows, list, members[m].fitted, false);
    const auto predictions = members[m].model->predict(prepared.x);
    for (size_t i = 0; i < prepared.rows.size(); ++i) {
      const size_t r = prepared.rows[i];
      Rows& out = per_symbol[static_cast<size_t>(rows.symbol[r])];
      out.day.push_back(rows.day[r]);
      out.prediction.push_back(predictions[i]);
      out.split.push_back(members[m].index);
    }
  }

  // Per symbol and partition: the range's rows replace what was there for those dates.
  const std::string dataset = dataset_name(model_id);
  const std::string tf_name(to_string(tf));
  for (size_t s = 0; s < universe.size(); ++s) {
    Rows& fresh = per_symbol[s];
    // Ascending by date (members were visited in order of their windows).
    std::vector<size_t> order(fresh.day.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return fresh.day[a] < fresh.day[b]; });
    std::map<std::string, Rows> partitions;
    for (size_t i : order) {
      Rows& p = partitions[partition_of(tf, Date(fresh.day[i]))];
      p.day.push_back(fresh.day[i]);
      p.prediction.push_back(fresh.prediction[i]);
      p.split.push_back(fresh.split[i]);
    }
    if (partitions.empty()) continue;
    ++stats.symbols;
    stats.rows += static_cast<int64_t>(fresh.day.size());
    std::vector<etl::PendingVersion> pending;
    for (auto& [partition, rows_in] : partitions) {
      catalog::PartitionKey key{dataset, tf_name, universe[s].str(), partition};
      const auto current = catalog.get_partition(key);
      Rows merged;
      if (current) {  // the dates outside the range stay as they were
        const Rows old = decode(etl::read_committed_bytes(store, *current));
        std::vector<std::tuple<int32_t, double, int32_t>> all;
        for (size_t i = 0; i < old.day.size(); ++i) {
          if (old.day[i] < from.days_since_epoch() || old.day[i] > to.days_since_epoch()) {
            all.emplace_back(old.day[i], old.prediction[i], old.split[i]);
          }
        }
        for (size_t i = 0; i < rows_in.day.size(); ++i) {
          all.emplace_back(rows_in.day[i], rows_in.prediction[i], rows_in.split[i]);
        }
        std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return std::get<0>(a) < std::get<0>(b); });
        for (const auto& [day, prediction, split] : all) {
          merged.day.push_back(day);
          merged.prediction.push_back(prediction);
          merged.split.push_back(split);
        }
      } else {
        merged = std::move(rows_in);
      }
      etl::PendingVersion version;
      version.bytes = encode(merged, model_id, universe[s], partition);
      catalog::PartitionRecord& rec = version.commit.record;
      rec.key = key;
      rec.object_key = predictions_key(model_id, tf, universe[s], partition);
      rec.row_count = static_cast<int64_t>(merged.day.size());
      rec.min_ts_ns = static_cast<int64_t>(merged.day.front()) * kNanosPerDay;
      rec.max_ts_ns = static_cast<int64_t>(merged.day.back()) * kNanosPerDay;
      rec.code_version = std::string(code_version());
      version.commit.expected_version = current ? current->version : 0;
      pending.push_back(std::move(version));
    }
    for (const auto& result : etl::commit_versions(store, catalog, pending).results) {
      ++(result.outcome == catalog::CommitOutcome::kUnchanged ? stats.partitions_unchanged : stats.partitions_written);
    }
  }
  if (!rows.dates.empty()) {
    stats.from_day = rows.dates.front();
    stats.to_day = rows.dates.back();
  }
  return stats;
}

std::vector<PredictionRow> read_predictions(lake::ObjectStore& store, catalog::Catalog& catalog,
                                            const std::string& model_id, const std::vector<Symbol>& symbols,
                                            Date from, Date as_of) {
  find_model(catalog, model_id);
  std::set<std::string> wanted;
  for (const auto& s : symbols) wanted.insert(s.str());
  std::vector<PredictionRow> out;
  // Dates past 2262 do not fit in nanoseconds: no bound then (an as-of of 2999-12-31 is "all").
  auto ns_of = [](int64_t days) {
    return days > INT64_MAX / kNanosPerDay ? INT64_MAX : days < INT64_MIN / kNanosPerDay ? INT64_MIN : days * kNanosPerDay;
  };
  const int64_t from_ns = ns_of(from.days_since_epoch()), as_of_ns = ns_of(as_of.days_since_epoch());
  for (const auto& record : catalog.list_partitions(dataset_name(model_id))) {
    if (!wanted.empty() && wanted.count(record.key.symbol) == 0) continue;
    if (record.max_ts_ns < from_ns || record.min_ts_ns > as_of_ns) continue;
    const Rows rows = decode(etl::read_committed_bytes(store, record));
    for (size_t i = 0; i < rows.day.size(); ++i) {
      if (rows.day[i] < from.days_since_epoch() || rows.day[i] > as_of.days_since_epoch()) continue;
      out.push_back({rows.day[i], record.key.symbol, rows.prediction[i], rows.split[i]});
    }
  }
  std::sort(out.begin(), out.end(), [](const PredictionRow& a, const PredictionRow& b) {
    return a.day != b.day ? a.day < b.day : a.symbol < b.symbol;
  });
  return out;
}

}  // namespace trib::ml

// write_basic_features: curated bars -> features/basic Parquet files, one per partition,
// each committed through the catalog's manifest.
#include <cmath>
#include <set>
#include <string>
#include <vector>

#include "trib/core/config.hpp"
#include "trib/core/error.hpp"
#include "trib/core/hash.hpp"
#include "trib/etl/bars_reader.hpp"
#include "trib/etl/partition_commit.hpp"
#include "trib/features/feature_set.hpp"
#include "trib/lake/layout.hpp"
#include "trib/lake/parquet.hpp"

namespace trib::features {
namespace {

constexpr std::string_view kDataset = "features/basic";
constexpr std::string_view kSchemaVersion = "features/basic/1";

parquet::Schema basic_features_schema(const FeatureFrame& frame) {
  parquet::Schema schema;
  schema.columns.push_back(
      parquet::ColumnSchema::Timestamp("ts", parquet::TimeUnit::kNanos));
  schema.columns.push_back(parquet::ColumnSchema::Date("session_date"));
  schema.columns.push_back(parquet::ColumnSchema::Double("close"));
  for (const auto& [name, values] : frame.columns) {
    schema.columns.push_back(parquet::ColumnSchema::Double(name, /*optional=*/true));
  }
  return schema;
}

// Rows [begin, end) of `frame` as one Parquet file.
std::string encode_rows(const FeatureFrame& frame, size_t begin, size_t end,
                        const Symbol& symbol, Timeframe tf, const std::string& partition) {
  std::vector<parquet::ColumnVector> columns;
  columns.push_back(parquet::ColumnVector::of_i64(
      std::vector<int64_t>(frame.ts_ns.begin() + begin, frame.ts_ns.begin() + end)));
  std::vector<int32_t> days;
  days.reserve(end - begin);
  for (size_t i = begin; i < end; ++i) days.push_back(frame.session_date[i].days_since_epoch());
  columns.push_back(parquet::ColumnVector::of_i32(std::move(days)));
  columns.push_back(parquet::ColumnVector::of_f64(
      std::vector<double>(frame.close.begin() + begin, frame.close.begin() + end)));
  for (const auto& [name, values] : frame.columns) {
    std::vector<double> slot(end - begin, 0.0);
    std::vector<uint8_t> defined(end - begin, 0);
    for (size_t i = begin; i < end; ++i) {
      if (!std::isnan(values[i])) {  // NaN = null; the slot of a null holds 0
        slot[i - begin] = values[i];
        defined[i - begin] = 1;
      }
    }
    parquet::ColumnVector column = parquet::ColumnVector::of_f64(std::move(slot));
    column.defined = std::move(defined);
    columns.push_back(std::move(column));
  }

  parquet::WriterOptions options;
  // Lineage only; no wall clock, so equal rows give equal bytes and unchanged partitions stay
  // unchanged in the catalog.
  options.key_value = {{"trib.schema", std::string(kSchemaVersion)},
                       {"trib.symbol", symbol.str()},
                       {"trib.timeframe", std::string(to_string(tf))},
                       {"trib.partition", partition},
                       {"trib.code_version", std::string(code_version())}};
  parquet::StringSink sink;
  parquet::Writer writer(sink, basic_features_schema(frame), options);
  writer.write_batch(columns);
  writer.close();
  return std::move(sink.buffer());
}

}  // namespace

FeatureWriteStats write_basic_features(lake::ObjectStore& store, catalog::Catalog& catalog,
                                       const Symbol& symbol, Timeframe tf, const etl::PriceOptions& prices) {
  // The full history: warm-up of a partition's first rows comes from the previous partitions.
  std::vector<Bar> bars;
  for (auto& row : etl::read_adjusted_bars(store, catalog, etl::BarsQuery{symbol, tf, {}, {}}, prices).rows) {
    bars.push_back(row.bar);
  }
  const FeatureFrame frame = compute_basic_features(bars);

  FeatureWriteStats stats;
  stats.rows = static_cast<int64_t>(frame.ts_ns.size());
  // Bars are ascending, so each partition is one contiguous run of rows.
  std::set<std::string> seen;
  std::vector<etl::PendingVersion> pending;
  size_t begin = 0;
  while (begin < frame.ts_ns.size()) {
    const std::string partition = partition_of(tf, frame.session_date[begin]);
    if (!seen.insert(partition).second) {  // would overwrite a file written a moment ago
      throw Error::Internal("write_basic_features: session dates of " + symbol.str() +
                            " are not ascending (partition " + partition + " seen twice)");
    }
    size_t end = begin + 1;
    while (end < frame.ts_ns.size() && partition_of(tf, frame.session_date[end]) == partition) {
      ++end;
    }
    etl::PendingVersion p;
    p.bytes = encode_rows(frame, begin, end, symbol, tf, partition);
    catalog::PartitionRecord& record = p.commit.record;
    record.key = {std::string(kDataset), std::string(to_string(tf)), symbol.str(), partition};
    record.object_key = lake::features_key("basic", tf, symbol, partition);
    record.row_count = static_cast<int64_t>(end - begin);
    record.min_ts_ns = frame.ts_ns[begin];
    record.max_ts_ns = frame.ts_ns[end - 1];
    record.code_version = std::string(code_version());
    // Features are derived, not merged: whatever version is there is replaced.
    const auto current = catalog.get_partition(record.key);
    p.commit.expected_version = current ? current->version : 0;
    pending.push_back(std::move(p));
    begin = end;
  }
  // One commit for the symbol's partitions (docs/architecture.md, the commit protocol).
  for (const auto& result : etl::commit_versions(store, catalog, pending).results) {
    if (result.outcome == catalog::CommitOutcome::kUnchanged) {
      ++stats.partitions_unchanged;
    } else {
      ++stats.partitions_written;
    }
  }
  return stats;
}

}  // namespace trib::features

#include "trib/lake/bars_file.hpp"

#include <algorithm>
#include <tuple>

#include <fmt/format.h>

#include "trib/core/config.hpp"
#include "trib/core/error.hpp"

namespace trib::lake {

using parquet::ColumnSchema;
using parquet::ColumnVector;

namespace {
// Column positions in curated_bars_schema(). Persistent order.
enum BarColumn {
  kTs, kSessionDate, kOpen, kHigh, kLow, kClose, kVolume, kVwap, kTrades, kSource, kRawId,
  kFetchedAt, kNumColumns
};
}  // namespace

parquet::Schema curated_bars_schema() {
  parquet::Schema schema;
  schema.columns = {
      ColumnSchema::Timestamp("ts", parquet::TimeUnit::kNanos),
      ColumnSchema::Date("session_date"),
      ColumnSchema::Double("open"),
      ColumnSchema::Double("high"),
      ColumnSchema::Double("low"),
      ColumnSchema::Double("close"),
      ColumnSchema::Double("volume"),
      ColumnSchema::Double("vwap", /*optional=*/true),
      ColumnSchema::Int64("trades", /*optional=*/true),
      ColumnSchema::String("source"),
      ColumnSchema::String("raw_id"),
      ColumnSchema::Timestamp("fetched_at", parquet::TimeUnit::kNanos),
  };
  return schema;
}

namespace {

// Encodes n rows; bar_of(i) gives row i's Bar, lineage_of(i) its (source, raw_id, fetched_at).
template <typename BarOf, typename LineageOf>
std::string encode_rows(size_t n, BarOf bar_of, LineageOf lineage_of, const Symbol& symbol,
                        Timeframe tf, const std::string& partition,
                        std::string_view schema_version = kBarsSchemaVersion) {
  const bool unique_ts = schema_version == kBarsSchemaVersion;
  std::vector<ColumnVector> columns(kNumColumns);
  auto& ts = columns[kTs];
  ts.type = parquet::PhysicalType::kInt64;
  auto& date = columns[kSessionDate];
  date.type = parquet::PhysicalType::kInt32;
  for (int c : {kOpen, kHigh, kLow, kClose, kVolume, kVwap}) {
    columns[c].type = parquet::PhysicalType::kDouble;
    columns[c].f64.reserve(n);
  }
  auto& trades = columns[kTrades];
  trades.type = parquet::PhysicalType::kInt64;
  columns[kSource].type = parquet::PhysicalType::kByteArray;
  columns[kRawId].type = parquet::PhysicalType::kByteArray;
  columns[kSource].offsets.push_back(0);
  columns[kRawId].offsets.push_back(0);
  auto& fetched = columns[kFetchedAt];
  fetched.type = parquet::PhysicalType::kInt64;
  fetched.i64.reserve(n);
  ts.i64.reserve(n);
  date.i32.reserve(n);
  bool any_vwap = false, any_trades = false;
  for (size_t i = 0; i < n; ++i) {
    any_vwap |= bar_of(i).vwap.has_value();
    any_trades |= bar_of(i).trades.has_value();
  }
  if (any_vwap) columns[kVwap].defined.reserve(n);
  if (any_trades) trades.defined.reserve(n);

  int64_t prev_ts = INT64_MIN;
  for (size_t i = 0; i < n; ++i) {
    const Bar& bar = bar_of(i);
    const auto [source, raw_id, fetched_at_ns] = lineage_of(i);
    if (bar.ts_ns < prev_ts || (unique_ts && bar.ts_ns == prev_ts)) {
      throw Error::Internal(fmt::format("curated rows for {} {} are not strictly ascending at {}",
                                        symbol.str(), partition, format_ts_ns(bar.ts_ns)));
    }
    prev_ts = bar.ts_ns;
    ts.i64.push_back(bar.ts_ns);
    date.i32.push_back(bar.session_date.days_since_epoch());
    columns[kOpen].f64.push_back(bar.open);
    columns[kHigh].f64.push_back(bar.high);
    columns[kLow].f64.push_back(bar.low);
    columns[kClose].f64.push_back(bar.close);
    columns[kVolume].f64.push_back(bar.volume);
    columns[kVwap].f64.push_back(bar.vwap.value_or(0.0));
    if (any_vwap) columns[kVwap].defined.push_back(bar.vwap.has_value());
    trades.i64.push_back(bar.trades.value_or(0));
    if (any_trades) trades.defined.push_back(bar.trades.has_value());
    columns[kSource].append_string(source);
    columns[kRawId].append_string(raw_id);
    fetched.i64.push_back(fetched_at_ns);
  }
  // A column of all nulls: every slot undefined.
  if (!any_vwap) columns[kVwap].defined.assign(n, 0);
  if (!any_trades) trades.defined.assign(n, 0);
  for (auto& c : columns) c.num_rows = n;

  parquet::WriterOptions options;
  options.compression = parquet::Compression::kZstd;
  options.key_value = {
      {"trib.schema", std::string(schema_version)},
      {"trib.code_version", std::string(code_version())},
      {"trib.symbol", symbol.str()},
      {"trib.timeframe", std::string(to_string(tf))},
      {"trib.partition", partition},
  };
  parquet::StringSink sink;
  parquet::Writer writer(sink, curated_bars_schema(), options);
  writer.write_batch(columns);
  writer.close();
  return std::move(sink.buffer());
}

}  // namespace

std::string encode_bars_file(const std::vector<CuratedBar>& rows, const Symbol& symbol,
                             Timeframe tf, const std::string& partition) {
  return encode_rows(
      rows.size(), [&](size_t i) -> const Bar& { return rows[i].bar; },
      [&](size_t i) {
        return std::tuple<std::string_view, std::string_view, int64_t>(
            rows[i].source, rows[i].raw_id, rows[i].fetched_at_ns);
      },
      symbol, tf, partition);
}

std::string encode_bars_file(std::span<const Bar* const> bars, const Lineage& lineage,
                             const Symbol& symbol, Timeframe tf, const std::string& partition) {
  const std::tuple<std::string_view, std::string_view, int64_t> shared(
      lineage.source, lineage.raw_id, lineage.fetched_at_ns);
  return encode_rows(
      bars.size(), [&](size_t i) -> const Bar& { return *bars[i]; },
      [&](size_t) { return shared; }, symbol, tf, partition);
}

namespace {

std::vector<CuratedBar> decode_rows(parquet::Reader& reader, int64_t from_ts_ns, int64_t to_ts_ns,
                                    std::string_view expected_schema) {
  const auto& meta = reader.metadata();
  // bars/1 files (before fetch-time lineage) read with fetched_at 0.
  const auto version = meta.kv("trib.schema");
  const bool v1 = expected_schema == kBarsSchemaVersion && version && *version == "bars/1";
  if ((version || expected_schema != kBarsSchemaVersion) && !v1 &&
      (!version || *version != expected_schema)) {
    throw Error::DataLoss(fmt::format("file has schema '{}'; this build reads '{}' here",
                                      version.value_or("(none)"), expected_schema));
  }
  std::vector<int> columns;
  for (const auto& column : curated_bars_schema().columns) {
    int idx = meta.schema.find(column.name);
    if (idx < 0 && !column.optional && !(v1 && column.name == "fetched_at")) {
      throw Error::DataLoss(fmt::format("curated file lacks column '{}'", column.name));
    }
    columns.push_back(idx);
  }
  std::vector<CuratedBar> out;
  out.reserve(static_cast<size_t>(meta.num_rows));
  for (int rg : reader.row_groups_in_range(columns[kTs], from_ts_ns, to_ts_ns)) {
    std::vector<int> present;
    for (int idx : columns) {
      if (idx >= 0) present.push_back(idx);
    }
    std::vector<ColumnVector> read = reader.read_row_group(rg, present);
    std::vector<const ColumnVector*> by_col(kNumColumns, nullptr);
    for (size_t c = 0, p = 0; c < columns.size(); ++c) {
      if (columns[c] >= 0) by_col[c] = &read[p++];
    }
    const size_t n = by_col[kTs]->num_rows;
    for (size_t row = 0; row < n; ++row) {
      int64_t ts = by_col[kTs]->i64[row];
      if (ts < from_ts_ns || ts > to_ts_ns) continue;
      CuratedBar cb;
      cb.bar.ts_ns = ts;
      cb.bar.session_date = Date(by_col[kSessionDate]->i32[row]);
      cb.bar.open = by_col[kOpen]->f64[row];
      cb.bar.high = by_col[kHigh]->f64[row];
      cb.bar.low = by_col[kLow]->f64[row];
      cb.bar.close = by_col[kClose]->f64[row];
      cb.bar.volume = by_col[kVolume]->f64[row];
      if (by_col[kVwap] && !by_col[kVwap]->is_null(row)) cb.bar.vwap = by_col[kVwap]->f64[row];
      if (by_col[kTrades] && !by_col[kTrades]->is_null(row)) cb.bar.trades = by_col[kTrades]->i64[row];
      cb.source = std::string(by_col[kSource]->str(row));
      cb.raw_id = std::string(by_col[kRawId]->str(row));
      if (by_col[kFetchedAt]) cb.fetched_at_ns = by_col[kFetchedAt]->i64[row];
      out.push_back(std::move(cb));
    }
  }
  return out;
}

}  // namespace

std::vector<CuratedBar> decode_bars_file(parquet::Reader& reader, int64_t from_ts_ns,
                                         int64_t to_ts_ns) {
  return decode_rows(reader, from_ts_ns, to_ts_ns, kBarsSchemaVersion);
}

std::string encode_overlap_file(std::vector<CuratedBar> rows, const Symbol& symbol, Timeframe tf) {
  const auto order = [](const CuratedBar& r) {
    return std::tie(r.bar.ts_ns, r.source, r.raw_id, r.fetched_at_ns);
  };
  std::sort(rows.begin(), rows.end(), [&](const auto& a, const auto& b) { return order(a) < order(b); });
  rows.erase(std::unique(rows.begin(), rows.end(),
                         [&](const auto& a, const auto& b) { return order(a) == order(b); }),
             rows.end());
  return encode_rows(
      rows.size(), [&](size_t i) -> const Bar& { return rows[i].bar; },
      [&](size_t i) {
        return std::tuple<std::string_view, std::string_view, int64_t>(
            rows[i].source, rows[i].raw_id, rows[i].fetched_at_ns);
      },
      symbol, tf, "", kOverlapSchemaVersion);
}

std::vector<CuratedBar> decode_overlap_file(parquet::Reader& reader) {
  return decode_rows(reader, INT64_MIN, INT64_MAX, kOverlapSchemaVersion);
}

}  // namespace trib::lake

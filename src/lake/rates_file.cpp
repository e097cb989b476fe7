#include "trib/lake/rates_file.hpp"

#include <fmt/format.h>

#include "trib/core/config.hpp"
#include "trib/core/error.hpp"

namespace trib::lake {

using parquet::ColumnSchema;
using parquet::ColumnVector;

namespace {
// Column positions in curated_rates_schema(). Persistent order.
enum RatesColumn { kDate, kValue, kSource, kRawId, kFetchedAt, kNumColumns };
}  // namespace

parquet::Schema curated_rates_schema() {
  parquet::Schema schema;
  schema.columns = {
      ColumnSchema::Date("date"),
      ColumnSchema::Double("value", /*optional=*/true),
      ColumnSchema::String("source"),
      ColumnSchema::String("raw_id"),
      ColumnSchema::Timestamp("fetched_at", parquet::TimeUnit::kNanos),
  };
  return schema;
}

std::string curated_rates_key(const Symbol& series, std::string_view year) {
  return fmt::format("curated/rates/series={}/year={}/data.parquet", series.path_component(), year);
}

std::string rates_quarantine_key(const Symbol& series, std::string_view raw_key_hash) {
  return fmt::format("quarantine/rates/series={}/raw={}.parquet", series.path_component(),
                     raw_key_hash.substr(0, 16));
}

std::string encode_rates_file(const std::vector<CuratedObservation>& rows, const Symbol& series,
                              std::string_view year) {
  const size_t n = rows.size();
  std::vector<ColumnVector> columns(kNumColumns);
  columns[kDate].type = parquet::PhysicalType::kInt32;
  columns[kValue].type = parquet::PhysicalType::kDouble;
  columns[kSource].type = parquet::PhysicalType::kByteArray;
  columns[kRawId].type = parquet::PhysicalType::kByteArray;
  columns[kFetchedAt].type = parquet::PhysicalType::kInt64;
  columns[kSource].offsets.push_back(0);
  columns[kRawId].offsets.push_back(0);
  columns[kDate].i32.reserve(n);
  columns[kValue].f64.reserve(n);
  columns[kValue].defined.reserve(n);
  columns[kFetchedAt].i64.reserve(n);
  int32_t previous = INT32_MIN;
  for (const auto& row : rows) {
    const int32_t day = row.date.days_since_epoch();
    if (day <= previous) {
      throw Error::Internal(fmt::format("curated observations of {} {} are not strictly ascending at {}",
                                        series.str(), year, row.date.to_string()));
    }
    previous = day;
    columns[kDate].i32.push_back(day);
    columns[kValue].f64.push_back(row.value.value_or(0.0));
    columns[kValue].defined.push_back(row.value.has_value() ? 1 : 0);
    columns[kSource].append_string(row.source);
    columns[kRawId].append_string(row.raw_id);
    columns[kFetchedAt].i64.push_back(row.fetched_at_ns);
  }
  for (auto& c : columns) c.num_rows = n;

  parquet::WriterOptions options;
  options.compression = parquet::Compression::kZstd;
  options.key_value = {
      {"trib.schema", std::string(kRatesSchemaVersion)},
      {"trib.code_version", std::string(code_version())},
      {"trib.series", series.str()},
      {"trib.partition", std::string(year)},
  };
  parquet::StringSink sink;
  parquet::Writer writer(sink, curated_rates_schema(), options);
  writer.write_batch(columns);
  writer.close();
  return std::move(sink.buffer());
}

std::vector<CuratedObservation> decode_rates_file(parquet::Reader& reader, std::optional<Date> from,
                                                  std::optional<Date> to) {
  const auto& meta = reader.metadata();
  const auto version = meta.kv("trib.schema");
  if (!version || *version != kRatesSchemaVersion) {
    throw Error::DataLoss(fmt::format("curated rates file has schema '{}'; this build reads '{}'",
                                      version.value_or("(none)"), kRatesSchemaVersion));
  }
  std::vector<int> columns;
  for (const auto& column : curated_rates_schema().columns) {
    const int idx = meta.schema.find(column.name);
    if (idx < 0) throw Error::DataLoss(fmt::format("curated rates file lacks column '{}'", column.name));
    columns.push_back(idx);
  }
  const int32_t lo = from ? from->days_since_epoch() : INT32_MIN;
  const int32_t hi = to ? to->days_since_epoch() : INT32_MAX;
  std::vector<CuratedObservation> out;
  out.reserve(static_cast<size_t>(meta.num_rows));
  for (int rg : reader.row_groups_in_range(columns[kDate], lo, hi)) {
    const std::vector<ColumnVector> read = reader.read_row_group(rg, columns);
    for (size_t row = 0; row < read[kDate].num_rows; ++row) {
      const int32_t day = read[kDate].i32[row];
      if (day < lo || day > hi) continue;
      CuratedObservation o;
      o.date = Date(day);
      if (!read[kValue].is_null(row)) o.value = read[kValue].f64[row];
      o.source = std::string(read[kSource].str(row));
      o.raw_id = std::string(read[kRawId].str(row));
      o.fetched_at_ns = read[kFetchedAt].i64[row];
      out.push_back(std::move(o));
    }
  }
  return out;
}

}  // namespace trib::lake

// Curated bar files: the Parquet schema of curated/bars and its encoding and decoding.
//
// Columns (persistent: renaming or retyping one is a schema version bump):
//   ts TIMESTAMP(NANOS, UTC), session_date DATE, open high low close volume DOUBLE,
//   vwap DOUBLE OPTIONAL, trades INT64 OPTIONAL, source STRING, raw_id STRING.
// Key-value metadata: trib.schema = "bars/1", trib.code_version, trib.symbol, trib.timeframe,
// trib.partition. No wall-clock anywhere: equal rows give equal bytes.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "trib/core/bar.hpp"
#include "trib/core/symbol.hpp"
#include "trib/lake/parquet.hpp"

namespace trib::lake {

inline constexpr std::string_view kBarsSchemaVersion = "bars/1";

// A curated row: the bar plus lineage.
struct CuratedBar {
  Bar bar;
  std::string source;  // vendor
  std::string raw_id;  // sha256 of the raw object the row came from
  bool operator==(const CuratedBar&) const = default;
};

parquet::Schema curated_bars_schema();

// Encodes rows (sorted by ts, unique) as one Parquet file.
std::string encode_bars_file(const std::vector<CuratedBar>& rows, const Symbol& symbol,
                             Timeframe tf, const std::string& partition);
// Decodes a curated file; rows with ts outside [from_ts_ns, to_ts_ns] are skipped, and row
// groups whose ts statistics fall outside are never read.
std::vector<CuratedBar> decode_bars_file(parquet::Reader& reader,
                                         int64_t from_ts_ns = INT64_MIN,
                                         int64_t to_ts_ns = INT64_MAX);

}  // namespace trib::lake

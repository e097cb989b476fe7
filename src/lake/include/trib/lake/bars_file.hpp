// Curated bar files: the Parquet schema of curated/bars and its encoding and decoding.
//
// Columns (persistent: renaming or retyping one is a schema version bump):
//   ts TIMESTAMP(NANOS, UTC), session_date DATE, open high low close volume DOUBLE,
//   vwap DOUBLE OPTIONAL, trades INT64 OPTIONAL, source STRING, raw_id STRING,
//   fetched_at TIMESTAMP(NANOS, UTC) (when the raw object was fetched: the merge precedence).
// Key-value metadata: trib.schema = "bars/2" (bars/1 files, without fetched_at, still read), trib.code_version, trib.symbol, trib.timeframe,
// trib.partition. No wall-clock anywhere: equal rows give equal bytes.
#pragma once

#include <optional>
#include <span>
#include <string_view>
#include <string>
#include <vector>

#include "trib/core/bar.hpp"
#include "trib/core/symbol.hpp"
#include "trib/lake/parquet.hpp"

namespace trib::lake {

inline constexpr std::string_view kBarsSchemaVersion = "bars/2";

// A curated row: the bar plus lineage.
struct CuratedBar {
  Bar bar;
  std::string source;  // vendor
  std::string raw_id;  // sha256 of the raw object the row came from
  int64_t fetched_at_ns = 0;  // when that raw object was fetched
  bool operator==(const CuratedBar&) const = default;
};

// The merge precedence of two rows for one timestamp: the later fetch wins, ties broken by raw
// id, so the outcome never depends on the order payloads are applied or replayed in.
inline bool takes_precedence(const CuratedBar& candidate, const CuratedBar& current) {
  if (candidate.fetched_at_ns != current.fetched_at_ns) {
    return candidate.fetched_at_ns > current.fetched_at_ns;
  }
  return candidate.raw_id > current.raw_id;
}

parquet::Schema curated_bars_schema();

// Encodes rows (sorted by ts, unique) as one Parquet file.
std::string encode_bars_file(const std::vector<CuratedBar>& rows, const Symbol& symbol,
                             Timeframe tf, const std::string& partition);
// The lineage every row of one payload shares.
struct Lineage {
  std::string_view source, raw_id;
  int64_t fetched_at_ns = 0;
};
// The same bytes as encoding CuratedBars made of `bars` and `lineage`, without building them
// (a partition filled by one payload: no per-row strings).
std::string encode_bars_file(std::span<const Bar* const> bars, const Lineage& lineage,
                             const Symbol& symbol, Timeframe tf, const std::string& partition);

// Decodes a curated file; rows with ts outside [from_ts_ns, to_ts_ns] are skipped, and row
// groups whose ts statistics fall outside are never read.
std::vector<CuratedBar> decode_bars_file(parquet::Reader& reader,
                                         int64_t from_ts_ns = INT64_MIN,
                                         int64_t to_ts_ns = INT64_MAX);

// Overlap files (quarantine/overlaps/...): rows a vendor delivered for timestamps whose curated
// row is another vendor's (etl/bar_conflicts.hpp). The curated columns, trib.schema =
// "bars-overlap/1", sorted by (ts, source, raw_id, fetched_at); a timestamp may repeat (one row
// per vendor and delivery), an identical row may not.
inline constexpr std::string_view kOverlapSchemaVersion = "bars-overlap/1";
std::string encode_overlap_file(std::vector<CuratedBar> rows, const Symbol& symbol, Timeframe tf);
std::vector<CuratedBar> decode_overlap_file(parquet::Reader& reader);

}  // namespace trib::lake

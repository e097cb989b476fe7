// Curated economic series (dataset "rates", e.g. FRED's DFF): the Parquet schema of
// curated/rates and its encoding and decoding. A series keeps its own calendar (FRED's daily
// series have weekends, monthly ones the first of the month): rows are dated, not stamped at a
// session open, and a value the vendor marks missing is a null, not a dropped row.
//
// Columns (persistent: renaming or retyping one is a schema version bump):
//   date DATE, value DOUBLE OPTIONAL, source STRING, raw_id STRING,
//   fetched_at TIMESTAMP(NANOS, UTC) (when the raw object was fetched: the merge precedence).
// Key-value metadata: trib.schema = "rates/1", trib.code_version, trib.series, trib.partition.
// Layout: curated/rates/series=<ID>/year=<YYYY>/data.parquet, one file per series and year.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "trib/core/symbol.hpp"
#include "trib/core/time.hpp"
#include "trib/lake/parquet.hpp"

namespace trib::lake {

inline constexpr std::string_view kRatesSchemaVersion = "rates/1";

// A curated observation: the value plus lineage.
struct CuratedObservation {
  Date date;
  std::optional<double> value;  // nullopt: the vendor published the date without a value
  std::string source;           // vendor
  std::string raw_id;           // sha256 of the raw object the row came from
  int64_t fetched_at_ns = 0;
  bool operator==(const CuratedObservation&) const = default;
};

// Same precedence as bars: the later fetch wins, ties broken by raw id.
inline bool takes_precedence(const CuratedObservation& candidate, const CuratedObservation& current) {
  if (candidate.fetched_at_ns != current.fetched_at_ns) {
    return candidate.fetched_at_ns > current.fetched_at_ns;
  }
  return candidate.raw_id > current.raw_id;
}

parquet::Schema curated_rates_schema();

// curated/rates/series=<ID>/year=<YYYY>/data.parquet
std::string curated_rates_key(const Symbol& series, std::string_view year);
// quarantine/rates/series=<ID>/raw=<hash of the raw key, 16 hex>.parquet (as for bars: one file
// per raw object, rewritten identically on a retry)
std::string rates_quarantine_key(const Symbol& series, std::string_view raw_key_hash);

// Encodes rows (strictly ascending by date) as one Parquet file.
std::string encode_rates_file(const std::vector<CuratedObservation>& rows, const Symbol& series,
                              std::string_view year);
// Decodes a curated rates file; rows outside [from, to] are skipped (and row groups whose date
// statistics fall outside are never read).
std::vector<CuratedObservation> decode_rates_file(parquet::Reader& reader,
                                                  std::optional<Date> from = std::nullopt,
                                                  std::optional<Date> to = std::nullopt);

}  // namespace trib::lake

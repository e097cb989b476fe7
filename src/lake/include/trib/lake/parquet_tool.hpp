// The logic behind `trib parquet inspect` and `trib parquet cat`: a user's window into any flat
// Parquet file, ours or another writer's.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "trib/lake/parquet.hpp"

namespace trib::parquet {

// Schema, row groups, per-chunk encodings, compression, sizes and statistics, key-value
// metadata. `json` prints one JSON document instead of text.
void inspect(const Reader& reader, std::ostream& out, bool json = false);

struct CatOptions {
  std::vector<std::string> columns;  // empty = all; unknown names are Error::InvalidInput
  int64_t limit = -1;                // -1 = all rows
  std::string format = "csv";        // "csv" (RFC 4180 with a header) or "json" (JSON Lines)
  size_t batch_rows = BatchReader::kDefaultBatchRows;  // rows decoded at a time; >= 1
};

// Prints rows. Values by logical type: DATE as YYYY-MM-DD; TIMESTAMP as ISO-8601 UTC with the
// shortest exact fraction; DECIMAL as exact decimal text; unsigned integers as unsigned; floats
// with the shortest text that round-trips; strings as text; other binary as 0x-hex. Nulls are
// empty unquoted fields in CSV and null in JSON.
void cat(const Reader& reader, const CatOptions& options, std::ostream& out);

// One value as cat prints it (no CSV quoting); `null_text` for nulls.
std::string format_value(const ColumnSchema& schema, const ColumnVector& column, size_t row);

}  // namespace trib::parquet

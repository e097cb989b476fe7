// The hot cache of one (symbol, timeframe) as one value (BLOB / BYTEA), shared by both catalog
// backends: rows ascending by ts, lineage (source, raw id, fetch time) stored once per distinct
// value and referenced by index. A refresh rewrites one value instead of hundreds of rows.
// Format 1, host byte order (little-endian here): "TRHC", u8 format, u32 lineage count, each
// (u16 len, source, u16 len, raw id, i64 fetched_at), u32 row count, each row (i64 ts,
// i32 session_date, 5 x f64 OHLCV, u8 flags: 1 vwap, 2 trades, [f64 vwap], [i64 trades],
// u32 lineage index). Fuzzed: scripts/fuzz-hot-cache.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "trib/catalog/catalog.hpp"

namespace trib::catalog {

// Error::InvalidInput for rows out of order or a non-finite price or volume (inside a commit,
// that rolls the whole commit back).
std::string encode_hot_rows(const std::vector<HotBar>& rows);
// Error::DataLoss, naming the fix, for anything encode_hot_rows could not have written; never
// allocates more than the bytes can describe.
std::vector<HotBar> decode_hot_rows(std::string_view bytes);

}  // namespace trib::catalog

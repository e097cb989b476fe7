// Reading curated bars: the catalog's manifest says which partitions exist; only those that
// overlap [from, to] are opened, and inside them row groups are skipped by ts statistics.
#pragma once

#include <optional>
#include <vector>

#include "trib/catalog/catalog.hpp"
#include "trib/core/bar.hpp"
#include "trib/core/symbol.hpp"
#include "trib/lake/bars_file.hpp"
#include "trib/lake/object_store.hpp"

namespace trib::etl {

struct BarsQuery {
  Symbol symbol;
  Timeframe timeframe = Timeframe::kDay1;
  std::optional<Date> from, to;  // session dates, inclusive
  // The lake as it was then (`--as-of`): each partition's version committed last at or before
  // this time (catalog partition_history), partitions first committed later left out.
  int64_t as_of_ns = INT64_MAX;
};

// The bytes of one partition's committed version (any dataset): its immutable object (verified
// against the catalog's SHA-256), else the live file when it matches; Error::DataLoss, saying
// how to rebuild from raw, when no copy matches. `key_read` receives the key the bytes came from.
std::string read_committed_bytes(lake::ObjectStore& store, const catalog::PartitionRecord& record,
                                 std::string* key_read = nullptr);

// The committed rows of one partition in [from_ts_ns, to_ts_ns], read from the version's
// immutable object (verified against the catalog's SHA-256), else from the live file when it
// matches; Error::DataLoss, saying how to rebuild from raw, when no copy matches.
std::vector<lake::CuratedBar> read_committed_partition(lake::ObjectStore& store,
                                                       const catalog::PartitionRecord& record,
                                                       int64_t from_ts_ns = INT64_MIN,
                                                       int64_t to_ts_ns = INT64_MAX);

// Rows sorted by ts. Throws Error::NotFound when the symbol has no curated partitions.
// `partitions_read`, when given, receives how many partition files were opened.
std::vector<lake::CuratedBar> read_curated_bars(lake::ObjectStore& store, catalog::Catalog& catalog,
                                                const BarsQuery& query, int* partitions_read = nullptr);
// The newest `sessions` bars of a symbol, ascending: from the catalog's hot cache when it holds
// that many (no Parquet is opened: what a live strategy reads every cycle), else from the lake.
// `from_hot_cache`, when given, says which. Throws Error::NotFound when the symbol has no bars.
std::vector<Bar> read_recent_bars(lake::ObjectStore& store, catalog::Catalog& catalog,
                                  const Symbol& symbol, Timeframe tf, size_t sessions,
                                  bool* from_hot_cache = nullptr);

// A curated row as the hot cache holds it, and back.
catalog::HotBar to_hot_bar(const lake::CuratedBar& row);
catalog::HotBar to_hot_bar(const Bar& bar, const std::string& source, const std::string& raw_id,
                           int64_t fetched_at_ns);
Bar bar_of(const catalog::HotBar& hot);

// Convenience: just the bars.
std::vector<Bar> read_bars(lake::ObjectStore& store, catalog::Catalog& catalog, const BarsQuery& query);

}  // namespace trib::etl

#include "trib/etl/bars_reader.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "trib/core/error.hpp"
#include "trib/core/hash.hpp"
#include "trib/lake/layout.hpp"
#include "trib/lake/parquet.hpp"

namespace trib::etl {

std::string read_committed_bytes(lake::ObjectStore& store, const catalog::PartitionRecord& record,
                                 std::string* key_read) {
  // The committed version is its immutable object; the live file is only a published copy (which
  // a crash may have left stale). Older builds committed the live file itself and saved replaced
  // versions under the numbered layout.
  std::vector<std::string> candidates;
  if (!record.version_key.empty()) candidates.push_back(record.version_key);
  candidates.push_back(record.object_key);
  if (record.version_key.empty()) {
    candidates.push_back(lake::version_key(record.object_key, record.version, record.content_sha256));
  }
  for (const auto& key : candidates) {
    std::string bytes;
    try {
      bytes = store.get(key);
    } catch (const Error& e) {
      if (e.category() == ErrorCategory::kNotFound) continue;
      throw;
    }
    if (sha256_hex(bytes) != record.content_sha256) continue;
    if (key_read != nullptr) *key_read = key;
    return bytes;
  }
  throw Error::DataLoss(fmt::format(
      "no copy of {} {} {} {} version {} matches its catalog row (looked at {}); rebuild the "
      "partition from raw with `trib etl --rebuild --symbol {}`",
      record.key.dataset, record.key.symbol, record.key.timeframe, record.key.partition,
      record.version, fmt::join(candidates, ", "), record.key.symbol));
}

std::vector<lake::CuratedBar> read_committed_partition(lake::ObjectStore& store,
                                                       const catalog::PartitionRecord& record,
                                                       int64_t from_ts_ns, int64_t to_ts_ns) {
  std::string key;
  std::string bytes = read_committed_bytes(store, record, &key);
  parquet::Reader reader(parquet::memory_source(std::move(bytes)), key);
  return lake::decode_bars_file(reader, from_ts_ns, to_ts_ns);
}

std::vector<lake::CuratedBar> read_curated_bars(lake::ObjectStore& store,
                                                catalog::Catalog& catalog,
                                                const BarsQuery& query, int* partitions_read) {
  auto partitions = catalog.list_partitions("bars", std::string(to_string(query.timeframe)),
                                            query.symbol.str());
  if (partitions.empty()) {
    throw Error::NotFound(fmt::format(
        "no curated {} bars for {}; ingest them first (trib ingest / trib backfill)",
        to_string(query.timeframe), query.symbol.str()));
  }
  const bool time_travel = query.as_of_ns != INT64_MAX;
  if (time_travel) {
    // Each partition's version in force then; a partition not committed yet did not exist.
    int64_t first_commit = INT64_MAX;
    std::vector<catalog::PartitionRecord> then;
    for (const auto& current : partitions) {
      std::optional<catalog::PartitionRecord> chosen;
      auto versions = catalog.partition_history(current.key);  // the replaced ones
      versions.push_back(current);
      for (auto& version : versions) {
        first_commit = std::min(first_commit, version.committed_at_ns);
        if (version.committed_at_ns <= query.as_of_ns && (!chosen || version.version > chosen->version)) {
          chosen = std::move(version);
        }
      }
      if (chosen) then.push_back(std::move(*chosen));
    }
    if (then.empty()) {
      throw Error::NotFound(fmt::format("no curated {} bars for {} as of {}: the first were committed at {}",
                                        to_string(query.timeframe), query.symbol.str(),
                                        format_ts_ns(query.as_of_ns), format_ts_ns(first_commit)));
    }
    partitions = std::move(then);
  }
  // Partition values sort like the dates they start with ("2020" < "2020-03" < "2021"), so a
  // partition overlaps [from, to] when it is not entirely before from or after to.
  const std::string from_key = query.from ? partition_of(query.timeframe, *query.from) : "";
  const std::string to_key = query.to ? partition_of(query.timeframe, *query.to) : "";
  // [from, to] are session dates; an intraday session may start the evening before (FX) or run
  // past midnight UTC, so the ts range read is a day wider and rows are kept by session date.
  const int64_t from_ts = query.from ? to_ts_ns(*query.from - 1) : INT64_MIN;
  const int64_t to_ts = query.to ? to_ts_ns(*query.to + 2) - 1 : INT64_MAX;
  std::vector<lake::CuratedBar> out;
  int opened = 0;
  for (const auto& partition : partitions) {
    const std::string& value = partition.key.partition;
    if (!from_key.empty() && value < from_key) continue;
    if (!to_key.empty() && value > to_key) continue;
    if (partition.max_ts_ns < from_ts || partition.min_ts_ns > to_ts) continue;
    std::vector<lake::CuratedBar> rows;
    try {
      rows = read_committed_partition(store, partition, from_ts, to_ts);
    } catch (const Error& e) {
      if (!time_travel || e.category() != ErrorCategory::kDataLoss) throw;
      throw Error::NotFound(fmt::format(
          "{} {} partition {} as of {} (version {}) is no longer held: `trib vacuum` removed the versions "
          "replaced before its window; ask for a later --as-of",
          query.symbol.str(), to_string(query.timeframe), partition.key.partition,
          format_ts_ns(query.as_of_ns), partition.version));
    }
    ++opened;
    std::erase_if(rows, [&](const lake::CuratedBar& r) {
      return (query.from && r.bar.session_date < *query.from) || (query.to && r.bar.session_date > *query.to);
    });
    out.insert(out.end(), std::make_move_iterator(rows.begin()), std::make_move_iterator(rows.end()));
  }
  if (partitions_read != nullptr) *partitions_read = opened;
  return out;
}

catalog::HotBar to_hot_bar(const Bar& bar, const std::string& source, const std::string& raw_id,
                           int64_t fetched_at_ns) {
  catalog::HotBar h;
  h.ts_ns = bar.ts_ns;
  h.session_date = bar.session_date.days_since_epoch();
  h.open = bar.open;
  h.high = bar.high;
  h.low = bar.low;
  h.close = bar.close;
  h.volume = bar.volume;
  h.vwap = bar.vwap;
  h.trades = bar.trades;
  h.source = source;
  h.raw_id = raw_id;
  h.fetched_at_ns = fetched_at_ns;
  return h;
}

catalog::HotBar to_hot_bar(const lake::CuratedBar& row) {
  return to_hot_bar(row.bar, row.source, row.raw_id, row.fetched_at_ns);
}

Bar bar_of(const catalog::HotBar& h) {
  Bar b;
  b.ts_ns = h.ts_ns;
  b.session_date = Date(h.session_date);
  b.open = h.open;
  b.high = h.high;
  b.low = h.low;
  b.close = h.close;
  b.volume = h.volume;
  b.vwap = h.vwap;
  b.trades = h.trades;
  return b;
}

std::vector<Bar> read_recent_bars(lake::ObjectStore& store, catalog::Catalog& catalog,
                                  const Symbol& symbol, Timeframe tf, size_t sessions,
                                  bool* from_hot_cache) {
  std::vector<catalog::HotBar> hot = catalog.hot_bars(symbol.str(), std::string(to_string(tf)));
  if (hot.size() >= sessions && sessions > 0) {
    if (from_hot_cache != nullptr) *from_hot_cache = true;
    std::vector<Bar> bars;
    bars.reserve(sessions);
    for (size_t i = hot.size() - sessions; i < hot.size(); ++i) bars.push_back(bar_of(hot[i]));
    return bars;
  }
  if (from_hot_cache != nullptr) *from_hot_cache = false;
  std::vector<Bar> bars = read_bars(store, catalog, BarsQuery{symbol, tf, {}, {}});
  if (bars.size() > sessions) bars.erase(bars.begin(), bars.end() - static_cast<ptrdiff_t>(sessions));
  return bars;
}

std::vector<Bar> read_bars(lake::ObjectStore& store, catalog::Catalog& catalog,
                           const BarsQuery& query) {
  auto rows = read_curated_bars(store, catalog, query);
  std::vector<Bar> bars;
  bars.reserve(rows.size());
  for (auto& row : rows) bars.push_back(row.bar);
  return bars;
}

}  // namespace trib::etl

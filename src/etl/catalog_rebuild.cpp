#include "trib/etl/catalog_rebuild.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "trib/core/error.hpp"
#include "trib/core/hash.hpp"
#include "trib/core/log.hpp"
#include "trib/etl/bars_reader.hpp"
#include "trib/lake/bars_file.hpp"
#include "trib/lake/layout.hpp"
#include "trib/lake/parquet.hpp"
#include "trib/lake/rates_file.hpp"
#include "trib/etl/rates_reader.hpp"

namespace trib::etl {
namespace {

constexpr std::string_view kSidecarSuffix = ".request.json";

// "curated/bars/timeframe=1d/symbol=AAPL/year=2020/data.parquet" -> its parts, or nullopt.
struct LivePath {
  Timeframe timeframe;
  Symbol symbol;
  std::string partition;
};

std::optional<LivePath> parse_live_key(const std::string& key) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= key.size()) {
    size_t end = key.find('/', start);
    if (end == std::string::npos) end = key.size();
    parts.push_back(key.substr(start, end - start));
    start = end + 1;
  }
  if (parts.size() != 6 || parts[0] != "curated" || parts[1] != "bars" ||
      parts[5] != "data.parquet") {
    return std::nullopt;
  }
  auto value = [](const std::string& part, std::string_view name) -> std::optional<std::string> {
    if (!part.starts_with(std::string(name) + "=")) return std::nullopt;
    return part.substr(name.size() + 1);
  };
  auto tf = value(parts[2], "timeframe");
  auto sym = value(parts[3], "symbol");
  const size_t eq = parts[4].find('=');
  if (!tf || !sym || eq == std::string::npos) return std::nullopt;
  try {
    LivePath p{parse_timeframe(*tf), Symbol::from_path_component(*sym), parts[4].substr(eq + 1)};
    if (lake::curated_bars_key(p.timeframe, p.symbol, p.partition) != key) return std::nullopt;
    return p;
  } catch (const Error&) {
    return std::nullopt;
  }
}

// "curated/rates/series=DFF/year=2023/data.parquet" -> (series, year), or nullopt.
std::optional<std::pair<Symbol, std::string>> parse_rates_key(const std::string& key) {
  constexpr std::string_view kPrefix = "curated/rates/series=";
  if (!key.starts_with(kPrefix)) return std::nullopt;
  const size_t slash = key.find('/', kPrefix.size());
  if (slash == std::string::npos || key.compare(slash, 6, "/year=") != 0) return std::nullopt;
  const size_t end = key.find('/', slash + 6);
  if (end == std::string::npos) return std::nullopt;
  try {
    Symbol series = Symbol::from_path_component(key.substr(kPrefix.size(), slash - kPrefix.size()));
    std::string year = key.substr(slash + 6, end - slash - 6);
    if (lake::curated_rates_key(series, year) != key) return std::nullopt;
    return std::make_pair(std::move(series), std::move(year));
  } catch (const Error&) {
    return std::nullopt;
  }
}

// Records a live file's partition row (its version object written if missing): unchanged when
// the catalog already has this content, else the next version.
void restore_partition_row(lake::ObjectStore& store, catalog::Catalog& catalog,
                           catalog::PartitionRecord& record, const std::string& bytes,
                           CatalogRebuildStats& stats) {
  if (!store.exists(record.version_key)) store.put_if_absent(record.version_key, bytes);
  auto existing = catalog.get_partition(record.key);
  if (existing && existing->content_sha256 == record.content_sha256) {
    ++stats.unchanged;
    return;
  }
  record.version = existing ? existing->version + 1 : 1;
  record.committed_at_ns = now_ts_ns();
  catalog.restore_partition(record);
  ++stats.partitions;
}

}  // namespace

CatalogRebuildStats rebuild_catalog(lake::ObjectStore& store, catalog::Catalog& catalog) {
  CatalogRebuildStats stats;
  // Raw objects, from their sidecars (written before the payload, so a payload without one is
  // impossible; a sidecar without its payload is a fetch that crashed in between: skipped).
  std::map<std::string, std::string> calendars;  // symbol -> the calendar its payloads were ingested on
  for (const std::string& key : store.list("raw/")) {
    if (!key.ends_with(kSidecarSuffix)) continue;
    const std::string payload = key.substr(0, key.size() - kSidecarSuffix.size());
    if (!store.exists(payload)) continue;
    nlohmann::json sidecar = nlohmann::json::parse(store.get(key), nullptr, false);
    if (sidecar.is_discarded() || !sidecar.is_object()) {
      log::warn("catalog rebuild: sidecar {} is not JSON; its raw object is not recorded", key);
      continue;
    }
    catalog::RawObjectRecord r;
    r.object_key = payload;
    r.vendor = sidecar.value("vendor", "");
    r.dataset = sidecar.value("dataset", "bars");
    r.symbol = sidecar.value("symbol", "");
    r.sha256 = sidecar.value("sha256", "");
    r.size = sidecar.value("size", int64_t{0});
    const size_t at = payload.find("/fetched=");
    if (at != std::string::npos) r.fetched_date = payload.substr(at + 9, 10);
    r.fetched_at_ns = sidecar.value("fetched_at_ns", int64_t{0});
    r.task_id = sidecar.value("task_id", "");
    r.window_from = sidecar.value("window_from", "");
    r.window_to = sidecar.value("window_to", "");
    // The request JSON as the fetch recorded it (the payload's own sidecar, without the
    // fields RawStore adds), so a rebuilt catalog describes the object as the original did.
    nlohmann::json request = sidecar;
    request.erase("sha256");
    request.erase("size");
    r.request_json = request.dump();
    catalog.record_raw_object(r);
    ++stats.raw_objects;
    if (!r.symbol.empty() && sidecar.value("calendar", "") != "") calendars[r.symbol] = sidecar.value("calendar", "");
  }
  // Partitions, from the live files; newest rows per (symbol, timeframe) for the hot cache.
  std::map<std::pair<std::string, std::string>, std::vector<catalog::HotBar>> hot;
  std::map<std::tuple<std::string, std::string>, std::string> watermarks;  // (vendor, symbol)
  std::set<std::string> symbols;
  for (const std::string& key : store.list("curated/bars/")) {
    auto live = parse_live_key(key);
    if (!live) {
      ++stats.skipped_files;
      continue;
    }
    std::string bytes = store.get(key);
    const std::string sha = sha256_hex(bytes);
    parquet::Reader reader(parquet::memory_source(bytes), key);
    std::vector<lake::CuratedBar> rows = lake::decode_bars_file(reader);
    if (rows.empty()) {
      ++stats.skipped_files;
      continue;
    }
    catalog::PartitionRecord record;
    record.key = {"bars", std::string(to_string(live->timeframe)), live->symbol.str(),
                  live->partition};
    record.object_key = key;
    record.content_sha256 = sha;
    record.version_key = lake::version_object_key(key, sha);
    record.row_count = static_cast<int64_t>(rows.size());
    record.min_ts_ns = rows.front().bar.ts_ns;
    record.max_ts_ns = rows.back().bar.ts_ns;
    record.code_version = reader.metadata().kv("trib.code_version").value_or("");
    restore_partition_row(store, catalog, record, bytes, stats);
    // The sessions the file holds, for coverage: always, so a catalog whose partition rows
    // predate them (or were restored without them) is completed.
    std::vector<int32_t> session_days;
    session_days.reserve(rows.size());
    for (const auto& row : rows) session_days.push_back(row.bar.session_date.days_since_epoch());
    catalog.replace_partition_sessions(record.key, session_days);
    symbols.insert(live->symbol.str());
    const auto calendar = calendars.find(live->symbol.str());
    catalog.upsert_instrument(live->symbol.str(), rows.back().source,
                              calendar != calendars.end() ? calendar->second : "nyse");
    auto& cached = hot[{live->symbol.str(), record.key.timeframe}];
    std::vector<catalog::HotBar> incoming;
    for (const auto& row : rows) {
      incoming.push_back(to_hot_bar(row));
      auto& mark = watermarks[{row.source, live->symbol.str()}];
      const std::string date = row.bar.session_date.to_string();
      if (date > mark) mark = date;
    }
    cached = catalog::merge_hot_rows(std::move(cached), incoming, catalog.hot_cache_sessions());
  }
  for (const auto& [key, rows] : hot) catalog.replace_hot_bars(key.first, key.second, rows);
  for (const auto& [key, date] : watermarks) {
    catalog.advance_watermark({std::get<0>(key), "bars", std::get<1>(key), date});
  }
  // Economic series (dataset "rates"): partitions and each series' watermark.
  std::map<std::pair<std::string, std::string>, std::string> rate_marks;  // (vendor, series)
  for (const std::string& key : store.list("curated/rates/")) {
    auto live = parse_rates_key(key);
    if (!live) {
      ++stats.skipped_files;
      continue;
    }
    std::string bytes = store.get(key);
    const std::string sha = sha256_hex(bytes);
    parquet::Reader reader(parquet::memory_source(bytes), key);
    std::vector<lake::CuratedObservation> rows = lake::decode_rates_file(reader);
    if (rows.empty()) {
      ++stats.skipped_files;
      continue;
    }
    catalog::PartitionRecord record;
    record.key = {kRatesDataset, kRatesTimeframe, live->first.str(), live->second};
    record.object_key = key;
    record.content_sha256 = sha;
    record.version_key = lake::version_object_key(key, sha);
    record.row_count = static_cast<int64_t>(rows.size());
    record.min_ts_ns = to_ts_ns(rows.front().date);
    record.max_ts_ns = to_ts_ns(rows.back().date);
    record.code_version = reader.metadata().kv("trib.code_version").value_or("");
    restore_partition_row(store, catalog, record, bytes, stats);
    for (const auto& row : rows) {
      auto& mark = rate_marks[{row.source, live->first.str()}];
      mark = std::max(mark, row.date.to_string());
    }
  }
  for (const auto& [key, date] : rate_marks) {
    catalog.advance_watermark({key.first, kRatesDataset, key.second, date});
  }
  stats.symbols = static_cast<int64_t>(symbols.size());
  return stats;
}

}  // namespace trib::etl

#include "trib/lake/layout.hpp"

#include <set>

#include <fmt/format.h>

#include "trib/lake/object_store.hpp"

namespace trib::lake {

std::string raw_key(std::string_view vendor, std::string_view dataset,
                    std::string_view symbol_component, Date fetched, std::string_view sha256,
                    std::string_view ext, std::string_view window) {
  if (!window.empty()) {
    return fmt::format("raw/vendor={}/dataset={}/symbol={}/fetched={}/{}.w{}.{}", vendor, dataset,
                       symbol_component, fetched.to_string(), sha256, window, ext);
  }
  return fmt::format("raw/vendor={}/dataset={}/symbol={}/fetched={}/{}.{}", vendor, dataset,
                     symbol_component, fetched.to_string(), sha256, ext);
}

std::string raw_sidecar_key(std::string_view raw_key) {
  return fmt::format("{}.request.json", raw_key);
}

std::string partition_dir(Timeframe tf, std::string_view partition) {
  switch (tf) {
    case Timeframe::kDay1: return fmt::format("year={}", partition);
    case Timeframe::kHour1: return fmt::format("month={}", partition);
    case Timeframe::kMinute1: return fmt::format("day={}", partition);
  }
  return fmt::format("part={}", partition);
}

std::string curated_bars_key(Timeframe tf, const Symbol& symbol, std::string_view partition) {
  return fmt::format("curated/bars/timeframe={}/symbol={}/{}/data.parquet", to_string(tf),
                     symbol.path_component(), partition_dir(tf, partition));
}

std::string features_key(std::string_view feature_set, Timeframe tf, const Symbol& symbol,
                         std::string_view partition) {
  return fmt::format("features/{}/timeframe={}/symbol={}/{}/data.parquet", feature_set,
                     to_string(tf), symbol.path_component(), partition_dir(tf, partition));
}

std::vector<std::string> feature_datasets(const ObjectStore& store) {
  std::set<std::string> sets;
  for (const auto& key : store.list("features/")) {
    const size_t slash = key.find('/', 9);
    if (slash != std::string::npos) sets.insert(key.substr(0, slash));
  }
  return {sets.begin(), sets.end()};
}

std::string quarantine_key(Timeframe tf, const Symbol& symbol, std::string_view raw_sha256) {
  return fmt::format("quarantine/bars/timeframe={}/symbol={}/raw={}.parquet", to_string(tf),
                     symbol.path_component(), raw_sha256.substr(0, 16));
}

std::string version_key(std::string_view live_key, int64_t version, std::string_view sha256) {
  std::string_view stem = live_key;
  if (stem.size() > 8 && stem.substr(stem.size() - 8) == ".parquet") stem.remove_suffix(8);
  return fmt::format("_versions/{}/v{:06d}-{}.parquet", stem, version, sha256.substr(0, 16));
}

}  // namespace trib::lake

namespace trib::lake {

std::string version_object_key(std::string_view live_key, std::string_view sha256) {
  // ".../year=2020/data.parquet" -> "_versions/.../year=2020.<sha256>.parquet": the versions of
  // a symbol's partitions share one folder (no folder per partition to create and sync).
  constexpr std::string_view kLiveName = "/data.parquet";
  if (live_key.ends_with(kLiveName)) {
    live_key.remove_suffix(kLiveName.size());
    return fmt::format("_versions/{}.{}.parquet", live_key, sha256);
  }
  std::string_view stem = live_key;
  if (stem.ends_with(".parquet")) stem.remove_suffix(8);
  return fmt::format("_versions/{}/{}.parquet", stem, sha256);
}

}  // namespace trib::lake

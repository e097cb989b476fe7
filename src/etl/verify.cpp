#include "trib/etl/verify.hpp"

#include <map>
#include <set>

#include "trib/core/error.hpp"
#include "trib/core/log.hpp"
#include "trib/etl/bars_reader.hpp"
#include "trib/etl/rates_reader.hpp"
#include "trib/lake/overlay_store.hpp"

namespace trib::etl {
namespace {

std::string id_of(const catalog::PartitionKey& k) {
  return k.dataset + "/" + k.timeframe + "/" + k.symbol + "/" + k.partition;
}

// Removes the scratch folder however verify ends.
struct ScratchFolder {
  std::filesystem::path path;
  ~ScratchFolder() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

}  // namespace

VerifyReport verify_from_raw(lake::ObjectStore& store, catalog::Catalog& catalog, const VerifyOptions& options) {
  VerifyReport report;
  ScratchFolder scratch{options.scratch};
  std::filesystem::remove_all(scratch.path);
  std::filesystem::create_directories(scratch.path);
  {
    // The rebuild: every raw object applied from nothing, into scratch (reads of raw/ fall through
    // to the lake; nothing is written there).
    auto overlay = lake::open_overlay_store(store, lake::open_local_store(scratch.path / "lake"));
    catalog::CatalogOptions catalog_options;
    catalog_options.hot_cache_sessions = 0;
    auto rebuilt = catalog::open_sqlite_catalog(scratch.path / "catalog.db", catalog_options);
    EtlOptions etl_options = options.etl;
    etl_options.rebuild = true;
    EtlEngine engine(*overlay, *rebuilt, etl_options);
    for (const auto& raw : catalog.list_raw_objects()) {
      if (!options.symbol.empty() && !raw.symbol.empty() && raw.symbol != options.symbol) continue;
      engine.apply_raw_object(raw, "verify");
      ++report.raw_objects;
    }

    std::map<std::string, catalog::PartitionRecord> committed, from_raw;
    for (const char* dataset : {"bars", kRatesDataset}) {
      for (auto& r : catalog.list_partitions(dataset, "", options.symbol)) committed.emplace(id_of(r.key), std::move(r));
      for (auto& r : rebuilt->list_partitions(dataset, "", options.symbol)) from_raw.emplace(id_of(r.key), std::move(r));
    }
    std::set<std::string> ids;
    for (const auto& [id, _] : committed) ids.insert(id);
    for (const auto& [id, _] : from_raw) ids.insert(id);
    for (const auto& id : ids) {
      PartitionCheck check;
      auto c = committed.find(id);
      auto r = from_raw.find(id);
      check.key = c != committed.end() ? c->second.key : r->second.key;
      if (c != committed.end()) check.committed_sha256 = c->second.content_sha256;
      if (r != from_raw.end()) check.rebuilt_sha256 = r->second.content_sha256;
      if (c == committed.end()) {
        check.status = "missing";
        ++report.missing;
      } else {
        const catalog::PartitionRecord& record = c->second;
        if (r == from_raw.end()) {
          check.status = "not_from_raw";
          ++report.not_from_raw;
        } else if (check.rebuilt_sha256 != check.committed_sha256 &&
                   !(record.key.dataset == "bars" &&
                     read_committed_partition(store, record) == read_committed_partition(*overlay, r->second))) {
          // Bars written by another build may differ in bytes (its code version is in the
          // metadata) and hold the same rows: only different rows are a difference.
          check.status = "differs";
          ++report.differs;
        } else {
          check.status = "ok";
          ++report.ok;
        }
      }
      report.partitions.push_back(std::move(check));
    }
  }
  return report;
}

}  // namespace trib::etl

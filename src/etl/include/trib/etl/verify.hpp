// `trib verify`: is the curated zone what the raw zone says it should be? Every curated partition
// is rebuilt from the raw objects into scratch space (a temporary local folder and catalog; the
// lake is only read), and the rebuilt content's SHA-256 is compared with the catalog's and with
// the live file's.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "trib/catalog/catalog.hpp"
#include "trib/etl/etl.hpp"
#include "trib/lake/object_store.hpp"

namespace trib::etl {

struct PartitionCheck {
  catalog::PartitionKey key;
  // "ok"; "differs" (committed content is not what raw rebuilds to); "not_from_raw" (no raw
  // object produces it); "missing" (raw produces it, the catalog has no such partition);
  // "corrupt" (the committed version object does not match its SHA-256 or is gone).
  std::string status;
  std::string committed_sha256, rebuilt_sha256;
  bool live_stale = false;  // the live file is not the committed version (repairable)
};

struct VerifyReport {
  int64_t raw_objects = 0;
  std::vector<PartitionCheck> partitions;  // every partition of the catalog or the rebuild
  int64_t ok = 0, differs = 0, not_from_raw = 0, missing = 0, corrupt = 0, stale_live = 0, repaired = 0;
};

struct VerifyOptions {
  EtlOptions etl;                        // the precedence the lake was built with (trib.toml)
  std::string symbol;                    // only this symbol's raw objects and partitions ("": all)
  bool repair = false;                   // republish stale live files
  std::filesystem::path scratch;         // scratch folder (created; removed afterwards)
};

VerifyReport verify_from_raw(lake::ObjectStore& store, catalog::Catalog& catalog, const VerifyOptions& options);

}  // namespace trib::etl

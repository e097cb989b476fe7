// `trib verify`: is the curated zone what the raw zone says it should be? Every curated partition
// is rebuilt from the raw objects into scratch space (a temporary local folder and catalog; the
// lake is only read), and the rebuilt rows are compared with the committed ones. The version
// objects' hashes and the live files are `trib verify`'s other checks (repair_live_files), made
// once there, not here.
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
  // object produces it); "missing" (raw produces it, the catalog has no such partition).
  std::string status;
  std::string committed_sha256, rebuilt_sha256;
};

struct VerifyReport {
  int64_t raw_objects = 0;
  std::vector<PartitionCheck> partitions;  // every partition of the catalog or the rebuild
  int64_t ok = 0, differs = 0, not_from_raw = 0, missing = 0;
};

struct VerifyOptions {
  EtlOptions etl;                        // the precedence the lake was built with (trib.toml)
  std::string symbol;                    // only this symbol's raw objects and partitions ("": all)
  std::filesystem::path scratch;         // scratch folder (created; removed afterwards)
};

VerifyReport verify_from_raw(lake::ObjectStore& store, catalog::Catalog& catalog, const VerifyOptions& options);

}  // namespace trib::etl

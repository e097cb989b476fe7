// Reconstructing the catalog from the lake (`trib catalog rebuild`), for a catalog that was lost
// or emptied while the lake survived: raw objects from their sidecars, the partition manifest
// from the live curated files (each gets its immutable version object if it lacks one), the hot
// cache and watermarks from the newest rows. Data-quality counts are not in the lake; `trib etl`
// recounts them from raw.
#pragma once

#include <cstdint>

#include "trib/catalog/catalog.hpp"
#include "trib/lake/object_store.hpp"

namespace trib::etl {

struct CatalogRebuildStats {
  int64_t raw_objects = 0;     // recorded (already known ones included)
  int64_t partitions = 0;      // restored from live files
  int64_t unchanged = 0;       // already in the catalog with the same content
  int64_t skipped_files = 0;   // files under curated/ that are not partition files
  int64_t symbols = 0;
};

CatalogRebuildStats rebuild_catalog(lake::ObjectStore& store, catalog::Catalog& catalog);

}  // namespace trib::etl

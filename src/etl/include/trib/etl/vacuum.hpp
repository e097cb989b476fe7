// `trib vacuum`: removes the immutable version objects (_versions/...) that no `--as-of` read
// within the retention window can need. A version is needed by an --as-of in (now - window, now]
// while it was in force at some time in that window, i.e. unless it was replaced before
// now - window. The version in force now (the live one) is never removed, nor any object a kept
// version shares (versions are content-addressed: A -> B -> A reuses A's object). Raw objects are
// never touched: the raw zone is immutable. The catalog keeps the rows of removed versions, so
// an --as-of that asks for one says it was vacuumed.
#pragma once

#include <string>
#include <vector>

#include "trib/catalog/catalog.hpp"
#include "trib/lake/object_store.hpp"

namespace trib::etl {

struct VacuumItem {
  catalog::PartitionKey key;
  int64_t version = 0;
  std::string version_key;
  int64_t replaced_at_ns = 0;  // when the next version was committed
  uint64_t bytes = 0;
};

struct VacuumPlan {
  int64_t horizon_ns = 0;             // versions replaced before this are removable
  std::vector<VacuumItem> removable;  // objects still present, by partition then version
  int64_t partitions = 0, versions_kept = 0;
  uint64_t bytes = 0;                 // of the removable objects
};

// Datasets: bars, rates and the feature sets' partitions (every dataset the catalog lists).
VacuumPlan plan_vacuum(const lake::ObjectStore& store, catalog::Catalog& catalog, int64_t horizon_ns);
// Removes the plan's objects; returns how many were removed (one already gone is skipped).
int64_t apply_vacuum(lake::ObjectStore& store, const VacuumPlan& plan);

// "30d", "12h", "90m", "0d" -> nanoseconds; Error::InvalidInput naming the accepted forms.
int64_t parse_retention(const std::string& text);

}  // namespace trib::etl

// The commit protocol for partition files, on any object store (docs/architecture.md):
//   1. each new version is written as an immutable object, _versions/<live key>/<sha256>.parquet
//      (put-if-absent; its fsyncs grouped with the other versions of the batch);
//   2. one conditional catalog transaction is the commit point: each row moves from the version
//      the writer merged onto (expected_version) to the new one, or the whole batch fails with
//      Error::Conflict (the queue retries the merge on top of the winner: no lost update); the
//      hot cache and watermarks change in the same transaction;
//   3. the live files are published from their version objects (local: a hard link renamed into
//      place; blob: a server-side copy), and any live file a crash left stale is republished.
// No transaction is held open across object I/O.
#pragma once

#include <string>
#include <vector>

#include "trib/catalog/catalog.hpp"
#include "trib/lake/object_store.hpp"

namespace trib::etl {

// A partition's new version on its way to the commit point.
struct PendingVersion {
  // record: key, object_key, row_count, min/max ts and code_version set by the caller (hashes
  // and version key are filled from `bytes`); expected_version, hot rows, watermarks as wanted.
  catalog::PartitionCommit commit;
  // The file. Empty when the content is unchanged: then commit.record is the current row (the
  // commit advances watermarks and repairs the live file only).
  std::string bytes;
};

struct CommitReport {
  std::vector<catalog::CommitResult> results;  // in the order of `pending`
  int live_files_repaired = 0;                 // stale live files of unchanged partitions
};

// Runs steps 1-3 for a batch (one catalog transaction); the object writes of steps 1 and 3 on
// `threads` threads.
CommitReport commit_versions(lake::ObjectStore& store, catalog::Catalog& catalog,
                             std::vector<PendingVersion>& pending, int threads = 1);

// True when the live file holds its version object's bytes (same ETag, or on blob storage the
// same size and content MD5); false when either is absent.
bool live_is_published(const std::optional<lake::ObjectInfo>& version, const std::optional<lake::ObjectInfo>& live);

// Republishes one live file from its version object when they differ; appends the key to
// `to_sync` (the caller syncs). False when it was already published (or the row predates
// version objects).
bool publish_live(lake::ObjectStore& store, const catalog::PartitionRecord& record,
                  std::vector<std::string>& to_sync);

}  // namespace trib::etl

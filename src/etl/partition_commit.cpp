#include "trib/etl/partition_commit.hpp"

#include <chrono>

#include <fmt/format.h>

#include "trib/core/error.hpp"
#include "trib/core/hash.hpp"
#include "trib/core/log.hpp"
#include "trib/lake/layout.hpp"
#include "parallel.hpp"

namespace trib::etl {

bool live_is_published(const std::optional<lake::ObjectInfo>& version, const std::optional<lake::ObjectInfo>& live) {
  if (!version || !live) return false;
  // On the local store the live file is a hard link of its version object: equal ETags mean it
  // is published. On blob storage a copy has an ETag of its own: equal size and content MD5
  // (which Copy Blob carries over) mean it is published.
  if (live->etag == version->etag) return true;
  return !live->content_md5.empty() && live->content_md5 == version->content_md5 && live->size == version->size;
}

bool publish_live(lake::ObjectStore& store, const catalog::PartitionRecord& record,
                  std::vector<std::string>& to_sync) {
  if (record.version_key.empty()) return false;  // committed by an older build: nothing to do
  auto version = store.head(record.version_key);
  if (!version) {
    throw Error::DataLoss(fmt::format(
        "version object '{}' of {} {} is missing; rebuild from raw with `trib etl --rebuild`",
        record.version_key, record.key.symbol, record.key.partition));
  }
  if (live_is_published(version, store.head(record.object_key))) return false;
  store.copy(record.version_key, record.object_key, lake::Durability::kDeferred);
  to_sync.push_back(record.object_key);
  return true;
}

CommitReport commit_versions(lake::ObjectStore& store, catalog::Catalog& catalog,
                             std::vector<PendingVersion>& pending, int threads) {
  CommitReport report;
  if (pending.empty()) return report;
  const auto t_start = std::chrono::steady_clock::now();
  // 1. Immutable version objects, durable before the commit point names them.
  std::vector<char> wrote(pending.size(), 0);
  internal::parallel_for(pending.size(), threads, [&](size_t i) {
    PendingVersion& p = pending[i];
    if (p.bytes.empty()) return;
    catalog::PartitionRecord& record = p.commit.record;
    record.content_sha256 = sha256_hex(p.bytes);
    record.version_key = lake::version_object_key(record.object_key, record.content_sha256);
    wrote[i] = store.put_if(record.version_key, p.bytes, lake::WriteCondition::absent(),
                            lake::Durability::kDeferred)
                   .has_value();
  });
  std::vector<std::string> written;
  for (size_t i = 0; i < pending.size(); ++i) {
    if (wrote[i]) written.push_back(pending[i].commit.record.version_key);
  }
  const auto t_written = std::chrono::steady_clock::now();
  store.sync(written);
  const auto t_synced = std::chrono::steady_clock::now();
  // 2. The commit point.
  std::vector<catalog::PartitionCommit> commits;
  commits.reserve(pending.size());
  for (auto& p : pending) commits.push_back(std::move(p.commit));  // hot rows are not copied
  report.results = catalog.commit_partitions(commits);
  const auto t_committed = std::chrono::steady_clock::now();
  // 3. Publish (and repair).
  std::vector<std::vector<std::string>> published(pending.size());
  std::vector<char> republished(pending.size(), 0);
  internal::parallel_for(pending.size(), threads, [&](size_t i) {
    republished[i] = publish_live(store, commits[i].record, published[i]);
  });
  std::vector<std::string> to_sync;
  for (size_t i = 0; i < pending.size(); ++i) {
    to_sync.insert(to_sync.end(), published[i].begin(), published[i].end());
    if (republished[i] && report.results[i].outcome == catalog::CommitOutcome::kUnchanged) {
      ++report.live_files_repaired;
    }
  }
  store.sync(to_sync);
  const auto ms = [](auto from, auto to) {
    return std::chrono::duration<double, std::milli>(to - from).count();
  };
  log::debug("commit of {} partition(s): version objects {:.0f} ms, sync {:.0f} ms, catalog "
             "{:.0f} ms, publish+sync {:.0f} ms",
             pending.size(), ms(t_start, t_written), ms(t_written, t_synced),
             ms(t_synced, t_committed), ms(t_committed, std::chrono::steady_clock::now()));
  return report;
}

}  // namespace trib::etl

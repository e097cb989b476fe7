// lake: where bytes live. The object store interface (a local folder now, Azure Blob later), the
// zone and partition layout, the write-once raw store and Parquet (parquet.hpp).
// It knows nothing of catalogs, queues or vendors.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "trib/net/azure_storage.hpp"

namespace trib::lake {

// When a write becomes durable (survives a crash of the machine).
//   kSync:     before the call returns (local: fsync of the file and of its folder).
//   kDeferred: only once the caller has called ObjectStore::sync() with the key, so that many
//              writes share one round of fsyncs (group commit). Readers see the object as soon
//              as the call returns, never torn; but until sync() returns, a machine crash may
//              lose it or leave it empty, so nothing that refers to it (a catalog commit) may
//              be made durable before then.
enum class Durability { kSync, kDeferred };

// The precondition of a conditional write (put_if).
//   kAlways: no condition.
//   kAbsent: nothing is at the key (HTTP If-None-Match: *).
//   kMatch:  the object at the key has ETag `etag` (HTTP If-Match: etag); never holds when
//            the key is absent.
enum class WriteIf { kAlways, kAbsent, kMatch };

struct WriteCondition {
  WriteIf when = WriteIf::kAlways;
  std::string etag;  // for kMatch

  static WriteCondition always() { return {}; }
  static WriteCondition absent() { return {WriteIf::kAbsent, {}}; }
  static WriteCondition match(std::string etag) { return {WriteIf::kMatch, std::move(etag)}; }
};

// What head() and list_info() tell about an object. The ETag is opaque: compare it for equality
// with another ETag of the same key, pass it to WriteCondition::match, nothing else. It changes
// whenever the object at the key is replaced (even by the same bytes) and stays the same while it
// is not; the one exception is a copy() of an unchanged source onto a key that already holds a
// copy of that very object, which may leave the ETag as it was (the bytes are still the ones it
// named, so a kMatch against it is still sound).
struct ObjectInfo {
  std::string key;
  uint64_t size = 0;
  std::string etag;
  // Base64 MD5 of the content when the store keeps one (Azure: Content-MD5, which Copy Blob
  // carries over, so a copy and its source compare equal here while their ETags differ); ""
  // when it does not (local: a copy is a hard link, so equal ETags already mean equal bytes).
  std::string content_md5;
};

// Keys are '/'-separated relative paths ("curated/bars/timeframe=1d/..."). A key with an empty,
// "." or ".." segment, a leading '/', a backslash or a NUL is refused with Error::InvalidInput,
// so no key can name anything outside the store. Every method refuses such keys. Segments that
// start with '.' are the store's own (temp and lock files): refused in keys, never listed.
class ObjectStore {
 public:
  virtual ~ObjectStore() = default;

  // Writes `bytes` at `key` only if nothing is there. Returns true if written, false if an
  // object already existed (its content is left untouched). Atomic: readers never see a torn
  // object; two racing writers of the same key leave exactly one.
  virtual bool put_if_absent(std::string_view key, std::string_view bytes,
                             Durability durability = Durability::kSync) = 0;
  // Replaces the object at `key` atomically (local: temp + fsync + rename; blob: one PUT).
  virtual void put(std::string_view key, std::string_view bytes,
                   Durability durability = Durability::kSync) = 0;
  // Writes `bytes` at `key` when `condition` holds (kAbsent = If-None-Match: *, kMatch = If-Match:
  // etag); returns the new ETag, or nullopt when the condition failed (nothing written). Atomic:
  // two racing conditional writers of one key (threads or processes) never both succeed, and
  // readers never see a torn object. Error::InvalidInput for kMatch with an empty etag.
  virtual std::optional<std::string> put_if(std::string_view key, std::string_view bytes,
                                            const WriteCondition& condition,
                                            Durability durability = Durability::kSync) = 0;
  // Throws Error::NotFound when absent.
  virtual std::string get(std::string_view key) const = 0;
  // Size and ETag of the object at `key`; nullopt when absent.
  virtual std::optional<ObjectInfo> head(std::string_view key) const = 0;
  // Bytes [offset, offset+length) of the object, clipped at its end (so offset == size gives "").
  // Error::NotFound when absent; Error::InvalidInput when offset > size.
  virtual std::string get_range(std::string_view key, uint64_t offset, uint64_t length) const = 0;
  virtual bool exists(std::string_view key) const = 0;
  virtual std::optional<uint64_t> size(std::string_view key) const = 0;
  // Keys under `prefix` (a folder-like prefix ending in '/' or empty), sorted. Temp files of
  // in-flight writes (and every other name starting with '.') are never listed.
  virtual std::vector<std::string> list(std::string_view prefix) const = 0;
  // list() with each object's size and ETag, sorted by key.
  virtual std::vector<ObjectInfo> list_info(std::string_view prefix) const = 0;
  // Server-side copy of an existing object to `to`, replacing it atomically (local: hard link of
  // the source to a temp name + rename over the target, no bytes copied; blob: Copy Blob).
  // Returns the target's new ETag. The source is left as it was (content and ETag).
  // Error::NotFound when `from` is absent.
  virtual std::string copy(std::string_view from, std::string_view to,
                           Durability durability = Durability::kSync) = 0;
  // Makes earlier kDeferred writes and copies of `keys` durable (local: fsync each file and each
  // distinct parent folder once; blob: nothing to do). Keys that are absent by now are skipped.
  virtual void sync(const std::vector<std::string>& keys) = 0;
  // Returns true if something was removed.
  virtual bool remove(std::string_view key) = 0;
  // Where a key lives, for messages and for tools that read files directly (DuckDB).
  virtual std::string describe(std::string_view key) const = 0;
  // Local path of a key when the store is a local folder, else nullopt.
  virtual std::optional<std::filesystem::path> local_path(std::string_view key) const = 0;
};

// Throws Error::InvalidInput when `key` is not a safe relative key (see above).
void validate_key(std::string_view key);

// A store in an Azure Blob Storage container (works on ADLS Gen2 accounts through the Blob
// endpoint), objects named <prefix><key>. See azure_blob_store.cpp for how each operation maps to
// the REST API; in short: conditional writes are Put Blob / Put Block List with If-None-Match: *
// or If-Match: <ETag>, so put-if-absent and compare-and-swap hold across machines; a write larger
// than single_put_max_bytes goes up in blocks and becomes visible atomically at Put Block List;
// every write carries Content-MD5, so the service refuses a body corrupted on the way; range reads
// are Get Blob with x-ms-range; copy is Copy Blob; writes are durable when acknowledged (sync() has
// nothing to do). Retries (429, 5xx, timeouts) are the StorageClient's. A conditional write whose
// answer was lost and whose retry then found the condition failed checks the blob's Content-MD5:
// when the bytes there are ours, the write succeeded.
struct AzureStoreOptions {
  std::string container;      // 3-63 lower-case letters, digits and single hyphens
  std::string prefix;         // optional folder inside the container ("lake/"); '/' appended
  bool create_container = false;  // create it when missing (trib init); else missing = NotFound
  uint64_t single_put_max_bytes = uint64_t{32} << 20;
  uint64_t block_bytes = uint64_t{8} << 20;
  net::azure::ClientOptions client;
  std::shared_ptr<net::azure::ClientStats> stats;  // shared by every store opened with these options
};

// Opens the container (one request: it must exist, unless create_container, and the credential
// must be accepted: Error::NotFound / Error::Permanent with the fix otherwise). One object per
// thread. Error::InvalidInput for a container or prefix name Azure would refuse.
std::unique_ptr<ObjectStore> open_azure_store(const net::azure::StorageAccount& account, const AzureStoreOptions& options);

// One page of a List Blobs answer (EnumerationResults XML): the blobs with size and ETag, and the
// marker of the next page ("" on the last). Throws Error::DataLoss on XML that is not a listing.
struct BlobListPage {
  std::vector<ObjectInfo> blobs;  // key = the full blob name
  std::string next_marker;
};
BlobListPage parse_blob_list(std::string_view xml);
// An ETag in the one form the store hands out: quoted, as the ETag header gives it (List Blobs
// may give it bare).
std::string quoted_etag(std::string_view etag);

// A store rooted at a local folder (created if missing). See local_store.cpp for how its ETags
// and conditional writes work; in short: ETag = (device, inode, size, modification time in ns)
// of the file, and conditional replacements serialize on a per-key advisory lock, so they are
// atomic across the threads and processes of one machine.
std::unique_ptr<ObjectStore> open_local_store(const std::filesystem::path& root);

}  // namespace trib::lake

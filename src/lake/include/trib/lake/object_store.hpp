// lake: where bytes live. The object store interface (a local folder now, Azure Blob later), the
// zone and partition layout, the write-once raw store and Parquet (parquet.hpp).
// It knows nothing of catalogs, queues or vendors.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace trib::lake {

// Keys are '/'-separated relative paths ("curated/bars/timeframe=1d/..."). A key with an empty,
// "." or ".." segment, a leading '/', a backslash or a NUL is refused with Error::InvalidInput,
// so no key can name anything outside the store.
class ObjectStore {
 public:
  virtual ~ObjectStore() = default;

  // Writes `bytes` at `key` only if nothing is there. Returns true if written, false if an
  // object already existed (its content is left untouched). Atomic: readers never see a torn
  // object; two racing writers of the same key leave exactly one.
  virtual bool put_if_absent(std::string_view key, std::string_view bytes) = 0;
  // Replaces the object at `key` atomically (local: temp + fsync + rename; blob: one PUT).
  virtual void put(std::string_view key, std::string_view bytes) = 0;
  // Throws Error::NotFound when absent.
  virtual std::string get(std::string_view key) const = 0;
  virtual bool exists(std::string_view key) const = 0;
  virtual std::optional<uint64_t> size(std::string_view key) const = 0;
  // Keys under `prefix` (a folder-like prefix ending in '/' or empty), sorted. Temp files of
  // in-flight writes are never listed.
  virtual std::vector<std::string> list(std::string_view prefix) const = 0;
  // Returns true if something was removed.
  virtual bool remove(std::string_view key) = 0;
  // Where a key lives, for messages and for tools that read files directly (DuckDB).
  virtual std::string describe(std::string_view key) const = 0;
  // Local path of a key when the store is a local folder, else nullopt.
  virtual std::optional<std::filesystem::path> local_path(std::string_view key) const = 0;
};

// Throws Error::InvalidInput when `key` is not a safe relative key (see above).
void validate_key(std::string_view key);

// A store rooted at a local folder (created if missing).
std::unique_ptr<ObjectStore> open_local_store(const std::filesystem::path& root);

}  // namespace trib::lake

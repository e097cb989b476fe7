// runtime: trib.toml -> the configured backends, worker pools, signal handling. The CLI (and
// later the server and the Azure Functions handler) start through here, so no wiring is written
// twice and which backend runs is configuration, never a code fork.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "trib/catalog/catalog.hpp"
#include "trib/core/config.hpp"
#include "trib/lake/object_store.hpp"
#include "trib/queue/task_queue.hpp"

namespace trib::runtime {

// The backends of one workspace. `store` and `catalog` belong to the thread that opened them;
// other threads open their own with open_store() / open_catalog().
struct Backends {
  Config config;
  std::unique_ptr<lake::ObjectStore> store;
  std::unique_ptr<catalog::Catalog> catalog;

  std::unique_ptr<lake::ObjectStore> open_store() const;
  std::unique_ptr<catalog::Catalog> open_catalog() const;
  // A catalog session the database itself keeps from writing (CatalogOptions::read_only).
  std::unique_ptr<catalog::Catalog> open_read_only_catalog() const;
  // The task queue ([queue] name, or `name`).
  std::unique_ptr<queue::TaskQueue> open_queue(const std::string& name = "") const;
  // "sqlite:/path/catalog.db" or "postgres:postgresql://user@host/db" (never a password).
  std::string describe_catalog() const;
};

struct OpenOptions {
  // `trib catalog rebuild` opens a workspace whose catalog is missing or empty on purpose.
  bool allow_empty_catalog = false;
};

// Opens the backends `config` names. Refuses (Error::DataLoss, with the fix) a SQLite catalog
// that is missing or zero bytes next to a lake that holds data: opening it would silently start
// an empty catalog that vouches for nothing in the lake.
Backends open_backends(const Config& config, OpenOptions options = {});
// Loads <dir>/trib.toml and opens its backends.
Backends open_workspace(const std::filesystem::path& dir, OpenOptions options = {});

// Creates (or completes) a workspace: trib.toml (defaults), the lake folder, a migrated catalog
// and queue. Returns false when trib.toml already existed (nothing is overwritten).
bool init_workspace(const std::filesystem::path& dir);

// A run id: "<kind>-<UTC yyyymmddThhmmss>-<4 hex>" (run records only, never in data files).
std::string new_run_id(const std::string& kind);

}  // namespace trib::runtime

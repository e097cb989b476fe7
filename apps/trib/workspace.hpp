// The CLI's view of a workspace: its config and the backends it names, opened once per command.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "trib/catalog/catalog.hpp"
#include "trib/core/config.hpp"
#include "trib/lake/object_store.hpp"
#include "trib/queue/task_queue.hpp"

namespace trib::cli {

struct Workspace {
  Config config;
  std::unique_ptr<lake::ObjectStore> store;
  std::unique_ptr<catalog::Catalog> catalog;

  // Loads trib.toml and opens the lake and catalog. Throws Error::NotFound (with the `trib init`
  // hint) when the folder is not a workspace.
  static Workspace open(const std::filesystem::path& dir);
  std::unique_ptr<queue::TaskQueue> open_queue() const;
};

// Creates (or completes) a workspace: trib.toml, the lake folder, a migrated catalog.
// Returns false when it already existed (nothing is overwritten).
bool init_workspace(const std::filesystem::path& dir);

// A run id: "<kind>-<UTC yyyymmddThhmmss>-<4 hex>" (run records only, never in data files).
std::string new_run_id(const std::string& kind);

}  // namespace trib::cli

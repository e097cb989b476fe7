// The CLI's view of a workspace: the backends trib.toml names, opened through runtime (the same
// wiring the server and the Azure Functions handler use).
#pragma once

#include "trib/runtime/backends.hpp"

namespace trib::cli {

using Workspace = runtime::Backends;
using runtime::init_workspace;
using runtime::new_run_id;

inline Workspace open_workspace(const std::string& dir) { return runtime::open_workspace(dir); }

}  // namespace trib::cli

// A scratch store over a read-only base: what is written goes to `scratch`, what is read comes
// from `scratch` when it holds the key and from `base` otherwise; listings are the union. For
// work that must read the lake and never change it (`trib verify` rebuilding every partition
// from raw into scratch space).
#pragma once

#include <memory>

#include "trib/lake/object_store.hpp"

namespace trib::lake {

// `base` must outlive the store. Removing a key removes the scratch copy only.
std::unique_ptr<ObjectStore> open_overlay_store(const ObjectStore& base, std::unique_ptr<ObjectStore> scratch);

}  // namespace trib::lake

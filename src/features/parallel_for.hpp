// The features library's fan-out over symbols: core's parallel_for.
#pragma once

#include "trib/core/parallel_for.hpp"

namespace trib::features {
using ::trib::parallel_for;
}  // namespace trib::features

// Crash points for the fault tests: with TRIB_FAILPOINT=<name> in the environment the process
// kills itself (SIGKILL: no unwinding, no flush) when it reaches the point of that name, which
// is how the tests stop the live runner between two steps of a cycle. Unset, a point costs a
// getenv.
#pragma once

#include <csignal>
#include <cstdlib>
#include <string_view>

namespace trib::broker {

inline void failpoint(std::string_view name) {
  const char* armed = std::getenv("TRIB_FAILPOINT");
  if (armed != nullptr && name == armed) std::raise(SIGKILL);
}

}  // namespace trib::broker

// Graceful shutdown on SIGINT / SIGTERM: the first signal asks running work to stop after the
// task in hand (workers finish, commit, and give nothing up half done); a second one ends the
// process at once (the default action), and leased tasks return to the queue when their lease
// expires.
#pragma once

#include <atomic>

namespace trib::runtime {

// Installs the handlers (idempotent) and returns the flag they set.
const std::atomic<bool>& install_shutdown_handlers();
// The flag, whether or not handlers are installed (tests set it through request_shutdown).
const std::atomic<bool>& shutdown_flag();
void request_shutdown();
// The signal that asked for the shutdown (SIGINT, SIGTERM), 0 when none did.
int shutdown_signal();

}  // namespace trib::runtime

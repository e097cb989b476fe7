#include "trib/runtime/shutdown.hpp"

#include <signal.h>

namespace trib::runtime {
namespace {

std::atomic<bool> g_stop{false};
std::atomic<int> g_signal{0};

void on_signal(int sig) {
  if (g_stop.exchange(true)) {
    // Second signal: the user means it. Default action, re-raised.
    ::signal(sig, SIG_DFL);
    ::raise(sig);
    return;
  }
  g_signal.store(sig);
}

}  // namespace

const std::atomic<bool>& install_shutdown_handlers() {
  static const bool installed = [] {
    struct sigaction action {};
    action.sa_handler = on_signal;
    sigemptyset(&action.sa_mask);
    ::sigaction(SIGINT, &action, nullptr);
    ::sigaction(SIGTERM, &action, nullptr);
    return true;
  }();
  (void)installed;
  return g_stop;
}

const std::atomic<bool>& shutdown_flag() { return g_stop; }
void request_shutdown() { g_stop.store(true); }
int shutdown_signal() { return g_signal.load(); }

}  // namespace trib::runtime

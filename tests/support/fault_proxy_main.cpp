// fault_proxy: the test FaultProxy (tests/support/fault_proxy.hpp) as a process of its own, for
// shell tests that put it in front of Azurite.
//
//   fault_proxy --target-port P [--target-host 127.0.0.1] [--fail 0.1] [--lose 0.05]
//               [--drop 0.02] [--seed N] [--port-file F] [--stats-file F]
//
// It listens on a free port of 127.0.0.1, prints that port on stdout (and writes it to
// --port-file, atomically, once it accepts connections), and forwards until SIGTERM or SIGINT;
// then it writes what it injected as one JSON object to --stats-file (atomically) and stdout.
// SIGUSR1 sets every rate to 0 (a clean pass-through from then on). Exit 2 on bad arguments.
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>

#include "fault_proxy.hpp"

namespace {

[[noreturn]] void usage(const std::string& why) {
  std::fprintf(stderr,
               "fault_proxy: %s\nusage: fault_proxy --target-port P [--target-host H] [--fail R] "
               "[--lose R] [--drop R] [--seed N] [--port-file F] [--stats-file F]\n",
               why.c_str());
  std::exit(2);
}

double rate(const std::string& name, const char* text) {
  char* end = nullptr;
  const double r = std::strtod(text, &end);
  if (end == text || *end != '\0' || !(r >= 0 && r <= 1)) usage(name + " must be a number in [0, 1]");
  return r;
}

long long integer(const std::string& name, const char* text, long long lo, long long hi) {
  char* end = nullptr;
  const long long n = std::strtoll(text, &end, 10);
  if (end == text || *end != '\0' || n < lo || n > hi) usage(name + " is out of range");
  return n;
}

// Writes `text` to `path` through a temp file and rename(2): a reader never sees half of it.
void write_file(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  FILE* f = std::fopen(tmp.c_str(), "w");
  if (f == nullptr) throw std::runtime_error("cannot write " + tmp + ": " + std::strerror(errno));
  const bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  if (std::fclose(f) != 0 || !ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    throw std::runtime_error("cannot write " + path + ": " + std::strerror(errno));
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string target_host = "127.0.0.1", port_file, stats_file;
  int target_port = 0;
  double fail = 0.1, lose = 0.05, drop = 0.02;
  unsigned long long seed = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (i + 1 >= argc) usage(arg == "--help" ? "help" : "missing value for " + arg);
    const char* value = argv[++i];
    if (arg == "--target-port") {
      target_port = static_cast<int>(integer(arg, value, 1, 65535));
    } else if (arg == "--target-host") {
      target_host = value;
    } else if (arg == "--fail") {
      fail = rate(arg, value);
    } else if (arg == "--lose") {
      lose = rate(arg, value);
    } else if (arg == "--drop") {
      drop = rate(arg, value);
    } else if (arg == "--seed") {
      seed = static_cast<unsigned long long>(integer(arg, value, 0, (1LL << 62)));
    } else if (arg == "--port-file") {
      port_file = value;
    } else if (arg == "--stats-file") {
      stats_file = value;
    } else {
      usage("unknown option " + arg);
    }
  }
  if (target_port == 0) usage("--target-port is required");
  if (fail + lose + drop > 1) usage("--fail + --lose + --drop must not exceed 1");

  // The signals we wait for are blocked before any thread starts, so every thread inherits the
  // mask and only sigwait below sees them.
  sigset_t wait_for;
  sigemptyset(&wait_for);
  sigaddset(&wait_for, SIGTERM);
  sigaddset(&wait_for, SIGINT);
  sigaddset(&wait_for, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &wait_for, nullptr);

  try {
    trib::testing::FaultProxy proxy(fail, lose, seed, drop);
    proxy.start(target_host, target_port);
    std::printf("%d\n", proxy.port());
    std::fflush(stdout);
    if (!port_file.empty()) write_file(port_file, std::to_string(proxy.port()) + "\n");
    while (true) {
      int sig = 0;
      if (sigwait(&wait_for, &sig) != 0) continue;
      if (sig == SIGUSR1) {
        proxy.set_rates(0, 0, 0);
        continue;
      }
      break;
    }
    proxy.stop();
    const auto& s = proxy.stats();
    char json[512];
    std::snprintf(json, sizeof json,
                  "{\"port\":%d,\"target_port\":%d,\"seed\":%llu,\"fail\":%g,\"lose\":%g,\"drop\":%g,"
                  "\"forwarded\":%d,\"failed_before\":%d,\"lost_answers\":%d,\"dropped_before\":%d,"
                  "\"dropped_after\":%d,\"upstream_errors\":%d,\"deliveries\":%d,\"redeliveries\":%d}\n",
                  proxy.port(), target_port, seed, fail, lose, drop, s.forwarded.load(), s.failed_before.load(),
                  s.lost_answers.load(), s.dropped_before.load(), s.dropped_after.load(), s.upstream_errors.load(),
                  s.deliveries.load(), s.redeliveries.load());
    std::fputs(json, stdout);
    if (!stats_file.empty()) write_file(stats_file, json);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fault_proxy: %s\n", e.what());
    return 1;
  }
  return 0;
}

// tests/mock_vendor: the mock vendor server as a process, for CLI tests and benchmarks.
//   mock_vendor --port-file FILE [--port N] [--budget VENDOR=PER_MINUTE[/BURST]] [--unknown SYMBOL]
// Writes its port to FILE once listening; runs until SIGTERM/SIGINT, then prints the stats JSON
// to stdout. Faults and budgets can also be set while it runs: GET /_mock/inject, /_mock/budget,
// /_mock/unknown, /_mock/stats (see mock_vendor.hpp).
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>

#include "mock_vendor.hpp"

int main(int argc, char** argv) {
  std::string port_file;
  int port = 0;
  trib::testing::MockVendorServer server;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "mock_vendor: %s needs a value\n", arg.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (arg == "--port-file") {
      port_file = next();
    } else if (arg == "--port") {
      port = std::stoi(next());
    } else if (arg == "--budget") {
      const std::string spec = next();
      const auto eq = spec.find('=');
      const auto slash = spec.find('/', eq);
      const std::string vendor = spec.substr(0, eq);
      const double per_minute = std::stod(spec.substr(eq + 1, slash == std::string::npos ? std::string::npos : slash - eq - 1));
      const int burst = slash == std::string::npos ? 1 : std::stoi(spec.substr(slash + 1));
      server.enforce_budget(vendor, per_minute, burst);
    } else if (arg == "--unknown") {
      server.add_unknown_symbol(next());
    } else {
      std::fprintf(stderr, "usage: mock_vendor --port-file FILE [--port N] [--budget V=N[/B]] [--unknown SYM]\n");
      return 2;
    }
  }
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);  // threads started below inherit the mask
  server.start(port);
  if (!port_file.empty()) {
    const std::string tmp = port_file + ".tmp";
    std::ofstream(tmp) << server.port() << "\n";
    std::rename(tmp.c_str(), port_file.c_str());
  }
  int sig = 0;
  sigwait(&set, &sig);
  std::string stats;
  {
    httplib::Client c("127.0.0.1", server.port());
    if (auto r = c.Get("/_mock/stats")) stats = r->body;
  }
  server.stop();
  std::cout << stats << std::endl;
  return 0;
}

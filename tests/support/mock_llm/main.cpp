// tests/mock_llm: the mock Chat Completions server (mock_llm.hpp) as a process, for CLI and Node
// tests.   mock_llm --port-file FILE [--script FILE.json]
// Writes its port to FILE once listening; runs until SIGTERM/SIGINT. The script can also be
// replaced while it runs (POST /_mock/script) and the requests read back (GET /_mock/requests).
#include <signal.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "mock_llm.hpp"

int main(int argc, char** argv) {
  std::string port_file, script_file;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string arg = argv[i];
    if (arg == "--port-file") {
      port_file = argv[i + 1];
    } else if (arg == "--script") {
      script_file = argv[i + 1];
    } else {
      std::fprintf(stderr, "usage: mock_llm --port-file FILE [--script FILE.json]\n");
      return 2;
    }
  }
  if (port_file.empty()) {
    std::fprintf(stderr, "usage: mock_llm --port-file FILE [--script FILE.json]\n");
    return 2;
  }
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);  // the server's threads inherit the mask
  trib::testing::MockLlmServer server;
  if (!script_file.empty()) {
    std::ifstream in(script_file);
    std::stringstream text;
    text << in.rdbuf();
    server.load_script(nlohmann::json::parse(text.str()));
  }
  server.start();
  {
    const std::string tmp = port_file + ".tmp";
    std::ofstream(tmp) << server.port() << "\n";
    std::rename(tmp.c_str(), port_file.c_str());
  }
  int sig = 0;
  sigwait(&set, &sig);
  server.stop();
  return 0;
}

// Azurite for tests: where the emulator is, and a container or queue name of its own for each
// test so test processes can share one server in parallel (ctest --parallel).
//
// Under ctest the server is started and stopped by the `azurite_server_start` /
// `azurite_server_stop` fixture tests (tests/CMakeLists.txt, tests/support/backend_tests.cmake.in,
// scripts/azurite-test-server), and every test whose name contains "Azure" / "azure" gets
// TRIB_TEST_AZURE_CONNECTION_STRING_FILE and TRIB_TEST_AZURE_REQUIRED=1: there a missing server is
// a failure. Run by hand without TRIB_TEST_AZURE_CONNECTION_STRING, such a test is skipped:
//   scripts/azurite-test-server start /tmp/az
//   TRIB_TEST_AZURE_CONNECTION_STRING="$(scripts/azurite-test-server url /tmp/az)" build/tests/lake_test
#pragma once

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <random>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace trib::testing {

// The emulator's connection string: $TRIB_TEST_AZURE_CONNECTION_STRING, else the first line of
// $TRIB_TEST_AZURE_CONNECTION_STRING_FILE, else "".
inline std::string azure_test_connection_string() {
  if (const char* s = std::getenv("TRIB_TEST_AZURE_CONNECTION_STRING"); s != nullptr && *s != '\0') return s;
  if (const char* file = std::getenv("TRIB_TEST_AZURE_CONNECTION_STRING_FILE"); file != nullptr && *file != '\0') {
    std::ifstream in(file);
    std::string line;
    if (std::getline(in, line)) return line;
  }
  return "";
}

inline bool azure_test_required() {
  const char* required = std::getenv("TRIB_TEST_AZURE_REQUIRED");
  return required != nullptr && std::string(required) == "1";
}

// A fresh lower-case name valid for a container or a queue: "<prefix>-<pid>-<n>-<random>".
inline std::string azure_unique_name(const std::string& prefix) {
  static std::atomic<int> counter{0};
  std::random_device random;
  return fmt::format("{}-{}-{}-{:06x}", prefix, ::getpid(), counter.fetch_add(1), random() & 0xffffff);
}

}  // namespace trib::testing

// In a fixture's SetUp() or a test body: declares `var` as the emulator's connection string, or
// skips the test with the reason when none is configured (fails instead under ctest).
#define TRIB_AZURE_TEST_OR_SKIP(var)                                                            \
  const std::string var = ::trib::testing::azure_test_connection_string();                     \
  if (var.empty()) {                                                                           \
    if (::trib::testing::azure_test_required()) {                                              \
      FAIL() << "TRIB_TEST_AZURE_REQUIRED=1 but no Azurite connection string (did "            \
                "azurite_server_start fail? see <build>/azurite-test/azurite.log)";            \
    }                                                                                          \
    GTEST_SKIP() << "Azure test skipped: TRIB_TEST_AZURE_CONNECTION_STRING is not set. Run it " \
                    "under ctest (which starts Azurite), or: scripts/azurite-test-server start " \
                    "/tmp/az && export TRIB_TEST_AZURE_CONNECTION_STRING=\"$(scripts/azurite-test-server url /tmp/az)\""; \
  }

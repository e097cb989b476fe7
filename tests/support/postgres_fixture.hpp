// PostgreSQL for tests: where the test server is, and a schema of its own for each test so test
// processes can share one server in parallel (ctest --parallel).
//
// Under ctest the server is started and stopped by the `postgres_server_start` /
// `postgres_server_stop` fixture tests (tests/CMakeLists.txt, tests/support/backend_tests.cmake.in,
// scripts/pg-test-server), and every test whose name contains "Postgres" / "postgres" gets
// TRIB_TEST_PG_URL_FILE (the URL file the server writes) and TRIB_TEST_PG_REQUIRED=1: there a
// missing server is a failure. Run by hand, a test without TRIB_TEST_PG_URL is skipped with the
// reason (GTEST_SKIP). To run one by hand against a throwaway server:
//   scripts/pg-test-server start /tmp/pg
//   TRIB_TEST_PG_URL=$(scripts/pg-test-server url /tmp/pg) build/tests/queue_test
#pragma once

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <random>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "trib/db/postgres.hpp"

namespace trib::testing {

// The test server's URL: $TRIB_TEST_PG_URL, else the first line of $TRIB_TEST_PG_URL_FILE, else "".
inline std::string pg_test_url() {
  if (const char* url = std::getenv("TRIB_TEST_PG_URL"); url != nullptr && *url != '\0') {
    return url;
  }
  if (const char* file = std::getenv("TRIB_TEST_PG_URL_FILE"); file != nullptr && *file != '\0') {
    std::ifstream in(file);
    std::string line;
    if (std::getline(in, line)) return line;
  }
  return "";
}

// True under ctest (TRIB_TEST_PG_REQUIRED=1): the PostgreSQL tests must run, not skip.
inline bool pg_test_required() {
  const char* required = std::getenv("TRIB_TEST_PG_REQUIRED");
  return required != nullptr && std::string(required) == "1";
}

// `url` with libpq's `options=-csearch_path=<schema>`, for a URL or a keyword/value string.
inline std::string pg_url_with_schema(const std::string& url, const std::string& schema) {
  if (url.starts_with("postgresql://") || url.starts_with("postgres://")) {
    const char separator = url.find('?') == std::string::npos ? '?' : '&';
    return fmt::format("{}{}options=-csearch_path%3D{}", url, separator, schema);
  }
  return fmt::format("{} options='-csearch_path={}'", url, schema);
}

// A fresh schema on the test server (t_<pid>_<n>_<random>), dropped with everything in it when
// the object goes. url() is the server's URL with that schema first on the search path, so
// tables and schema_migrations created through it land there.
class PgTestSchema {
 public:
  explicit PgTestSchema(const std::string& server_url) : server_url_(server_url) {
    static std::atomic<int> counter{0};
    std::random_device random;
    name_ = fmt::format("t_{}_{}_{:06x}", ::getpid(), counter.fetch_add(1), random() & 0xffffff);
    db::PgConnection admin(server_url_);
    admin.exec_script("CREATE SCHEMA " + name_);
    url_ = pg_url_with_schema(server_url_, name_);
  }
  ~PgTestSchema() {
    try {
      db::PgConnection admin(server_url_);
      admin.exec_script("DROP SCHEMA IF EXISTS " + name_ + " CASCADE");
    } catch (const std::exception& e) {
      ADD_FAILURE() << "dropping test schema " << name_ << ": " << e.what();
    }
  }
  PgTestSchema(const PgTestSchema&) = delete;
  PgTestSchema& operator=(const PgTestSchema&) = delete;

  const std::string& name() const { return name_; }
  const std::string& url() const { return url_; }
  const std::string& server_url() const { return server_url_; }

 private:
  std::string server_url_;
  std::string name_;
  std::string url_;
};

}  // namespace trib::testing

// In a fixture's SetUp() or a test body: declares `var` as the test server's URL, or skips the
// test with the reason when none is configured (fails instead under ctest, where one must be).
#define TRIB_PG_TEST_URL_OR_SKIP(var)                                                          \
  const std::string var = ::trib::testing::pg_test_url();                                     \
  if (var.empty()) {                                                                          \
    if (::trib::testing::pg_test_required()) {                                                \
      FAIL() << "TRIB_TEST_PG_REQUIRED=1 but neither TRIB_TEST_PG_URL nor "                   \
                "TRIB_TEST_PG_URL_FILE names a running server (did postgres_server_start "   \
                "fail? see its output and <build>/pg-test/postgres.log)";                     \
    }                                                                                         \
    GTEST_SKIP() << "PostgreSQL test skipped: TRIB_TEST_PG_URL is not set. Run it under "     \
                    "ctest (which starts a server), or: scripts/pg-test-server start /tmp/pg " \
                    "&& export TRIB_TEST_PG_URL=$(scripts/pg-test-server url /tmp/pg)";       \
  }

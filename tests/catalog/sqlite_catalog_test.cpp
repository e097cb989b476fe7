// What only the SQLite catalog has: a file in the workspace, in WAL mode, shared by processes.
// Everything both backends promise is tested in the parameterized suites (catalog_fixture.hpp).
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "catalog_fixture.hpp"
#include "trib/catalog/catalog.hpp"
#include "trib/core/error.hpp"

namespace trib::catalog {
namespace {

using testing::category_of;
using testing::exit_code_of;

class SqliteCatalogTest : public ::testing::Test {
 protected:
  testing::TempDir tmp_;
  const fs::path db_ = tmp_.path() / "sub" / "catalog.db";
};

TEST_F(SqliteCatalogTest, CreatesTheFileAndItsFolderInWalMode) {
  auto catalog = open_sqlite_catalog(db_);
  EXPECT_TRUE(fs::exists(db_));
  EXPECT_EQ(catalog->describe(), "sqlite:" + db_.string());
  RawSql raw(Backend::kSqlite, db_.string());
  EXPECT_EQ(raw.text("PRAGMA journal_mode"), "wal");
}

TEST_F(SqliteCatalogTest, ProcessesRacingToCreateTheFileLeaveOneWalDatabase) {
  std::vector<pid_t> children;
  for (int i = 0; i < 4; ++i) {
    children.push_back(spawn([&] {
      auto c = open_sqlite_catalog(db_);
      return c->schema_version() == 8 ? 0 : 2;
    }));
  }
  for (pid_t pid : children) EXPECT_EQ(exit_code_of(pid), 0);
  RawSql raw(Backend::kSqlite, db_.string());
  EXPECT_EQ(raw.number("SELECT count(*) FROM schema_migrations WHERE component = 'catalog'"), 8);
  EXPECT_EQ(raw.text("PRAGMA journal_mode"), "wal");
}

TEST_F(SqliteCatalogTest, AFileThatIsNotADatabaseIsDataLoss) {
  fs::create_directories(db_.parent_path());
  testing::spit(db_, std::string(4096, 'x'));
  EXPECT_EQ(category_of([&] { open_sqlite_catalog(db_); }), ErrorCategory::kDataLoss);
}

// The hot cache of a symbol is one encoded value; a damaged one is reported, never misread.
TEST_F(SqliteCatalogTest, ADamagedHotCacheEntryIsDataLossWithTheFix) {
  auto catalog = open_sqlite_catalog(db_);
  HotBar h;
  h.ts_ns = 1'000;
  h.open = h.high = h.low = h.close = 10;
  h.volume = 5;
  h.vwap = 10.5;
  h.trades = 7;
  h.source = "csv";
  h.raw_id = std::string(64, 'a');
  h.fetched_at_ns = 42;
  HotBar later = h;
  later.ts_ns = 2'000;
  later.vwap.reset();
  later.raw_id = std::string(64, 'b');
  catalog->replace_hot_bars("AAPL", "1d", {h, later});
  EXPECT_EQ(catalog->hot_bars("AAPL", "1d"), (std::vector<HotBar>{h, later}));
  for (const char* damage : {"x'00'", "substr(rows, 1, length(rows) - 3)", "rows || x'00'",
                             "x'5452484302'"}) {
    RawSql raw(Backend::kSqlite, db_.string());
    raw.exec(std::string("UPDATE hot_cache SET rows = ") + damage);
    const std::string message = testing::expect_error(
        [&] { catalog->hot_bars("AAPL", "1d"); }, ErrorCategory::kDataLoss);
    EXPECT_NE(message.find("hot cache"), std::string::npos) << damage << ": " << message;
    catalog->replace_hot_bars("AAPL", "1d", {h, later});
  }
  // Out-of-order or non-finite rows are refused before anything is written.
  HotBar bad = h;
  bad.close = std::nan("");
  EXPECT_EQ(category_of([&] { catalog->replace_hot_bars("AAPL", "1d", {bad}); }),
            ErrorCategory::kInvalidInput);
  EXPECT_EQ(catalog->hot_bars("AAPL", "1d").size(), 2u);
}

// Another connection's write transaction (another process's commit) makes a commit wait for it,
// not fail: the busy timeout covers a short transaction.
TEST_F(SqliteCatalogTest, ACommitWaitsForAnotherWritersTransaction) {
  auto catalog = open_sqlite_catalog(db_);
  RawSql other(Backend::kSqlite, db_.string());
  other.exec("BEGIN IMMEDIATE");
  std::thread release([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    other.exec("COMMIT");
  });
  PartitionRecord r;
  r.key = {"bars", "1d", "AAPL", "2020"};
  r.object_key = "live";
  r.version_key = "v1";
  r.content_sha256 = "sha";
  const auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(catalog->commit_partition({r, 0, {}, {}}).outcome, CommitOutcome::kCreated);
  EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(250));
  release.join();
}

}  // namespace
}  // namespace trib::catalog

// The SQLite layer shared by the catalog and the embedded queue: connection setup, migrations,
// transactions and error categories.
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "trib/db/sqlite.hpp"
#include "trib/core/error.hpp"
#include "../core/test_util.hpp"

namespace trib::db {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

using testing::category_of;
using testing::exit_code_of;

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

// A plain sqlite3 connection for looking under the hood.
class RawDb {
 public:
  explicit RawDb(const fs::path& path) { sqlite3_open(path.c_str(), &db_); }
  ~RawDb() { sqlite3_close(db_); }
  std::string text(const std::string& sql) {
    sqlite3_stmt* s = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db_, sql.c_str(), -1, &s, nullptr), SQLITE_OK) << sql;
    std::string out;
    if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0) != nullptr) {
      out = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
    }
    sqlite3_finalize(s);
    return out;
  }
  int64_t number(const std::string& sql) { return std::stoll(text(sql)); }

 private:
  sqlite3* db_ = nullptr;
};

// ---- the SQLite layer ---------------------------------------------------------------------------

class SqliteDbTest : public ::testing::Test {
 protected:
  testing::TempDir tmp_;
  const fs::path dir_ = tmp_.path();
};

TEST_F(SqliteDbTest, ConnectionUsesWalNormalSyncForeignKeysAndBusyTimeout) {
  SqliteDb db(dir_ / "sub" / "x.db");  // creates the folder
  {
    auto s = db.query("PRAGMA journal_mode");
    ASSERT_TRUE(s.step());
    EXPECT_EQ(s.text(0), "wal");
  }
  EXPECT_EQ(db.scalar("PRAGMA synchronous"), 1);  // NORMAL
  EXPECT_EQ(db.scalar("PRAGMA foreign_keys"), 1);
  EXPECT_EQ(db.scalar("PRAGMA busy_timeout"), kSqliteBusyTimeoutMs);
}

TEST_F(SqliteDbTest, MigrationsApplyInOrderOnceAndRecordThemselves) {
  const Migration v1[] = {{1, "a", "CREATE TABLE a (x INTEGER)"}};
  const Migration v2[] = {{1, "a", "CREATE TABLE a (x INTEGER)"},
                          {2, "b", "CREATE TABLE b (y INTEGER); INSERT INTO b VALUES (7)"}};
  SqliteDb db(dir_ / "m.db");
  EXPECT_EQ(db.schema_version("test"), 0);
  EXPECT_EQ(db.migrate("test", v1), 1);
  EXPECT_EQ(db.migrate("test", v1), 1);  // idempotent: CREATE TABLE a would fail if re-run
  EXPECT_EQ(db.migrate("test", v2), 2);
  EXPECT_EQ(db.migrate("test", v2), 2);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM b"), 1);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM schema_migrations WHERE component = 'test'"), 2);
  EXPECT_EQ(db.schema_version("other"), 0);  // components are independent
  // A database newer than the build is refused rather than silently misused.
  EXPECT_EQ(category_of([&] { db.migrate("test", v1); }), ErrorCategory::kPermanent);
}

TEST_F(SqliteDbTest, FailedMigrationRollsBackAsAWhole) {
  const Migration bad[] = {
      {1, "half", "CREATE TABLE ok (x INTEGER); CREATE TABLE broken (x INTEGR NOT NUL"}};
  SqliteDb db(dir_ / "m.db");
  const std::string message = error_of([&] { db.migrate("test", bad); });
  EXPECT_THAT(message, HasSubstr("test migration 1 (half)"));
  EXPECT_EQ(category_of([&] { db.migrate("test", bad); }), ErrorCategory::kInternal);
  EXPECT_EQ(db.schema_version("test"), 0);
  EXPECT_FALSE(db.scalar("SELECT 1 FROM sqlite_master WHERE name = 'ok'").has_value());

  const Migration misnumbered[] = {{2, "x", "SELECT 1"}};
  EXPECT_EQ(category_of([&] { db.migrate("test", misnumbered); }), ErrorCategory::kInternal);
}

TEST_F(SqliteDbTest, NestedTransactionsAreSavepoints) {
  SqliteDb db(dir_ / "t.db");
  db.exec("CREATE TABLE t (x INTEGER)");
  db.transaction([&] {
    db.execute("INSERT INTO t VALUES (1)");
    EXPECT_THROW(db.transaction([&] {
      db.execute("INSERT INTO t VALUES (2)");
      throw Error::Conflict("inner");
    }),
                 Error);
    db.transaction([&] { db.execute("INSERT INTO t VALUES (3)"); });
  });
  auto s = db.query("SELECT group_concat(x, ',') FROM (SELECT x FROM t ORDER BY x)");
  ASSERT_TRUE(s.step());
  EXPECT_EQ(s.text(0), "1,3");
}

TEST_F(SqliteDbTest, OuterRollbackUndoesEverything) {
  SqliteDb db(dir_ / "t.db");
  db.exec("CREATE TABLE t (x INTEGER)");
  EXPECT_THROW(db.transaction([&] {
    db.execute("INSERT INTO t VALUES (1)");
    throw std::runtime_error("boom");
  }),
               std::runtime_error);
  EXPECT_FALSE(db.in_transaction());
  EXPECT_EQ(db.scalar("SELECT count(*) FROM t"), 0);
}

TEST_F(SqliteDbTest, SameStatementCanBeUsedReentrantly) {
  SqliteDb db(dir_ / "t.db");
  db.exec("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1), (2), (3)");
  int64_t sum = 0;
  auto outer = db.query("SELECT x FROM t WHERE x >= ? ORDER BY x", 1);
  while (outer.step()) {
    auto inner = db.query("SELECT x FROM t WHERE x >= ? ORDER BY x", outer.int64(0));
    while (inner.step()) sum += inner.int64(0);
  }
  EXPECT_EQ(sum, (1 + 2 + 3) + (2 + 3) + 3);
}

TEST_F(SqliteDbTest, ErrorCategoriesFollowTheResultCode) {
  SqliteDb db(dir_ / "t.db");
  EXPECT_EQ(category_of([&] { db.fail(SQLITE_BUSY, "BEGIN IMMEDIATE"); }),
            ErrorCategory::kRetryable);
  EXPECT_EQ(category_of([&] { db.fail(SQLITE_IOERR_WRITE, "x"); }), ErrorCategory::kRetryable);
  EXPECT_EQ(category_of([&] { db.fail(SQLITE_CORRUPT, "x"); }), ErrorCategory::kDataLoss);
  EXPECT_EQ(category_of([&] { db.exec("SELEC 1"); }), ErrorCategory::kInternal);
  EXPECT_THAT(error_of([&] { db.exec("SELECT * FROM nowhere"); }),
              ::testing::AllOf(HasSubstr("t.db"), HasSubstr("nowhere")));
}

TEST_F(SqliteDbTest, WriterBlockedPastTheTimeoutGetsRetryable) {
  // The real 30 s timeout is too slow for a unit test: shorten it on this connection only.
  SqliteDb holder(dir_ / "t.db");
  holder.exec("CREATE TABLE t (x INTEGER)");
  SqliteDb waiter(dir_ / "t.db");
  sqlite3_busy_timeout(waiter.handle(), 100);
  holder.transaction([&] {
    holder.execute("INSERT INTO t VALUES (1)");
    EXPECT_EQ(category_of([&] { waiter.transaction([] {}); }), ErrorCategory::kRetryable);
  });
  waiter.transaction([&] { waiter.execute("INSERT INTO t VALUES (2)"); });  // free again
  EXPECT_EQ(waiter.scalar("SELECT count(*) FROM t"), 2);
}

}  // namespace
}  // namespace trib::db

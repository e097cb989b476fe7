// The PostgreSQL layer: parameters and results, transactions (rollback, savepoints, retry on
// serialization failure and deadlock), migrations (including racing migrators), error
// categories, and passwords kept out of every message. PostgresTest.* needs the test server
// (tests/support/postgres_fixture.hpp); PgUrlTest.* and PgErrorCategoryTest.* do not.
#include <atomic>
#include <cmath>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "trib/core/error.hpp"
#include "trib/db/postgres.hpp"
#include "../core/test_util.hpp"
#include "../support/postgres_fixture.hpp"

namespace trib::db {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::category_of;

// The PgError `f` throws (a test failure when it throws none or another type).
template <typename F>
PgError pg_error_of(F&& f) {
  try {
    f();
  } catch (const PgError& e) {
    return e;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected a PgError, got: " << e.what();
    return PgError(ErrorCategory::kInternal, e.what(), "");
  }
  ADD_FAILURE() << "expected a PgError";
  return PgError(ErrorCategory::kInternal, "no error", "");
}

// ---- without a server --------------------------------------------------------------------------

TEST(PgUrlTest, RedactsPasswordsInEveryForm) {
  EXPECT_EQ(redact_pg_url("postgresql://trib:s3cret@db.example:5432/trib"),
            "postgresql://trib:***@db.example:5432/trib");
  EXPECT_EQ(redact_pg_url("postgres://trib:p%40ss@db/x?sslmode=require"),
            "postgres://trib:***@db/x?sslmode=require");
  // An unencoded '@' in the password: the last '@' before the path ends the user info.
  EXPECT_EQ(redact_pg_url("postgresql://u:a@b@host/db"), "postgresql://u:***@host/db");
  EXPECT_EQ(redact_pg_url("postgresql://host/db?user=u&password=hunter2&sslmode=disable"),
            "postgresql://host/db?user=u&password=***&sslmode=disable");
  EXPECT_EQ(redact_pg_url("host=db user=u password=hunter2 dbname=x"),
            "host=db user=u password=*** dbname=x");
  EXPECT_EQ(redact_pg_url("host=db password = 'top secret \\' quoted' dbname=x"),
            "host=db password = *** dbname=x");
  // Nothing to hide: unchanged (a user name alone is not a secret).
  EXPECT_EQ(redact_pg_url("postgresql://trib@127.0.0.1:5432/trib?options=-csearch_path%3Ds"),
            "postgresql://trib@127.0.0.1:5432/trib?options=-csearch_path%3Ds");
  EXPECT_EQ(redact_pg_url("host=db user=passwordless"), "host=db user=passwordless");
}

TEST(PgUrlTest, UnparsableUrlIsInvalidInputAndNamesNoPassword) {
  const PgError e =
      pg_error_of([] { PgConnection db("postgresql://u:s3cret-pw@host/db?bogus_option=1"); });
  EXPECT_EQ(e.category(), ErrorCategory::kInvalidInput);
  EXPECT_THAT(e.what(), AllOf(HasSubstr("bogus_option"), HasSubstr("postgresql://u:***@host"),
                              Not(HasSubstr("s3cret-pw"))));
  EXPECT_EQ(category_of([] { PgConnection db("host=x port"); }), ErrorCategory::kInvalidInput);
}

TEST(PgUrlTest, UnreachableServerIsRetryableAndNamesNoPassword) {
  // Port 1 on loopback: nothing listens there, the connection is refused at once.
  const PgError e =
      pg_error_of([] { PgConnection db("postgresql://postgres:hunter22@127.0.0.1:1/postgres"); });
  EXPECT_EQ(e.category(), ErrorCategory::kRetryable);
  EXPECT_THAT(e.what(), AllOf(HasSubstr("cannot connect"), HasSubstr("127.0.0.1:1"),
                              Not(HasSubstr("hunter22"))));
  const PgError kv = pg_error_of(
      [] { PgConnection db("host=127.0.0.1 port=1 user=x password='top secret' dbname=y"); });
  EXPECT_EQ(kv.category(), ErrorCategory::kRetryable);
  EXPECT_THAT(kv.what(), Not(HasSubstr("top secret")));
}

TEST(PgErrorCategoryTest, SqlstatesMapToWhatACallerShouldDo) {
  EXPECT_EQ(pg_error_category("08006"), ErrorCategory::kRetryable);  // connection failure
  EXPECT_EQ(pg_error_category("57P01"), ErrorCategory::kRetryable);  // admin shutdown
  EXPECT_EQ(pg_error_category("57014"), ErrorCategory::kRetryable);  // query cancelled
  EXPECT_EQ(pg_error_category("53300"), ErrorCategory::kRetryable);  // too many connections
  EXPECT_EQ(pg_error_category("40001"), ErrorCategory::kRetryable);  // serialization failure
  EXPECT_EQ(pg_error_category("40P01"), ErrorCategory::kRetryable);  // deadlock
  EXPECT_EQ(pg_error_category("55P03"), ErrorCategory::kRetryable);  // lock not available
  EXPECT_EQ(pg_error_category("23505"), ErrorCategory::kConflict);   // unique violation
  EXPECT_EQ(pg_error_category("23502"), ErrorCategory::kInternal);   // not-null violation
  EXPECT_EQ(pg_error_category("22P02"), ErrorCategory::kInvalidInput);
  EXPECT_EQ(pg_error_category("XX001"), ErrorCategory::kDataLoss);  // data corrupted
  EXPECT_EQ(pg_error_category("XX002"), ErrorCategory::kDataLoss);  // index corrupted
  EXPECT_EQ(pg_error_category("XX000"), ErrorCategory::kInternal);
  EXPECT_EQ(pg_error_category("28P01"), ErrorCategory::kPermanent);  // bad password
  EXPECT_EQ(pg_error_category("3D000"), ErrorCategory::kPermanent);  // no such database
  EXPECT_EQ(pg_error_category("42501"), ErrorCategory::kPermanent);  // insufficient privilege
  EXPECT_EQ(pg_error_category("42601"), ErrorCategory::kInternal);   // syntax error
  EXPECT_EQ(pg_error_category(""), ErrorCategory::kInternal);
}

TEST(PgParamTest, TextForms) {
  EXPECT_EQ(to_pg_param(int64_t{-9223372036854775807 - 1}), "-9223372036854775808");
  EXPECT_EQ(to_pg_param(true), "true");
  EXPECT_EQ(to_pg_param(0.1), "0.1");
  EXPECT_EQ(to_pg_param(std::numeric_limits<double>::infinity()), "Infinity");
  EXPECT_EQ(to_pg_param(std::nan("")), "NaN");
  EXPECT_EQ(to_pg_param(std::optional<int>()), std::nullopt);
  EXPECT_EQ(to_pg_param(std::nullopt), std::nullopt);
  EXPECT_EQ(to_pg_param("abc"), "abc");
  EXPECT_EQ(to_pg_param(std::vector<std::string>{"a", "b\"c", "d\\e", "NULL"}),
            R"({"a","b\"c","d\\e","NULL"})");
}

// ---- against the test server -------------------------------------------------------------------

class PostgresTest : public ::testing::Test {
 protected:
  void SetUp() override {
    TRIB_PG_TEST_URL_OR_SKIP(server_url);
    schema_ = std::make_unique<testing::PgTestSchema>(server_url);
    db_ = std::make_unique<PgConnection>(schema_->url());
  }
  void TearDown() override {
    db_.reset();
    schema_.reset();
  }
  const std::string& url() const { return schema_->url(); }

  std::unique_ptr<testing::PgTestSchema> schema_;
  std::unique_ptr<PgConnection> db_;
};

TEST_F(PostgresTest, ParametersRoundTripAsBoundData) {
  PgConnection& db = *db_;
  db.exec_script(
      "CREATE TABLE t (i bigint, d double precision, b boolean, s text, n integer);"
      "CREATE TABLE keep (x integer); INSERT INTO keep VALUES (1)");
  const std::string hostile = "x'); DROP TABLE keep; --";
  const std::string unicode = "caf\xc3\xa9 \"quoted\" \\back\\ \n newline";
  const double tiny = 5e-324;
  EXPECT_EQ(db.exec("INSERT INTO t VALUES ($1, $2, $3, $4, $5)",
                    std::numeric_limits<int64_t>::max(), 0.1, true, hostile, std::nullopt)
                .affected_rows(),
            1);
  db.exec("INSERT INTO t VALUES ($1, $2, $3, $4, $5)", std::numeric_limits<int64_t>::min(), tiny,
          false, unicode, std::optional<int>(7));
  PgResult rows = db.exec("SELECT i, d, b, s, n FROM t ORDER BY i DESC");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].int64(0), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(rows[0].real(1), 0.1);  // exact: the shortest form reads back as the same double
  EXPECT_TRUE(rows[0].boolean(2));
  EXPECT_EQ(rows[0].text(3), hostile);
  EXPECT_TRUE(rows[0].is_null(4));
  EXPECT_EQ(rows[0].optional_int64(4), std::nullopt);
  EXPECT_EQ(rows[0].text(4), "");
  EXPECT_EQ(rows[1].int64(0), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(rows[1].real(1), tiny);
  EXPECT_FALSE(rows[1].boolean(2));
  EXPECT_EQ(rows[1].text(3), unicode);
  EXPECT_EQ(rows[1].integer(4), 7);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM keep"), 1);  // the hostile string was only data

  // Special doubles, arrays, and iteration.
  auto special = db.row("SELECT $1::float8, $2::float8, $3::float8",
                        std::numeric_limits<double>::quiet_NaN(),
                        std::numeric_limits<double>::infinity(),
                        -std::numeric_limits<double>::infinity());
  ASSERT_TRUE(special.has_value());
  EXPECT_TRUE(std::isnan(special->real(0)));
  EXPECT_EQ(special->real(1), std::numeric_limits<double>::infinity());
  EXPECT_EQ(special->real(2), -std::numeric_limits<double>::infinity());
  std::vector<std::string> seen;
  for (PgRow row : db.exec("SELECT unnest($1::text[]) ORDER BY 1",
                           std::vector<std::string>{"b", "a\"q", "NULL"})) {
    seen.push_back(row.text(0));
  }
  EXPECT_THAT(seen, ::testing::ElementsAre("NULL", "a\"q", "b"));
  EXPECT_EQ(db.exec("UPDATE t SET n = 1").affected_rows(), 2);
  EXPECT_FALSE(db.row("SELECT 1 WHERE false").has_value());
  EXPECT_EQ(db.scalar("SELECT NULL::int"), std::nullopt);
}

TEST_F(PostgresTest, BadReadsAndNulBytesAreErrors) {
  PgResult r = db_->exec("SELECT 'abc'::text, NULL::bigint");
  EXPECT_EQ(category_of([&] { r[0].int64(0); }), ErrorCategory::kInternal);
  EXPECT_EQ(category_of([&] { r[0].int64(1); }), ErrorCategory::kInternal);  // NULL
  EXPECT_EQ(category_of([&] { r[0].text(2); }), ErrorCategory::kInternal);   // no such column
  EXPECT_EQ(category_of([&] { r[1]; }), ErrorCategory::kInternal);          // no such row
  const PgError nul = pg_error_of([&] { db_->exec("SELECT $1::text", std::string("a\0b", 3)); });
  EXPECT_EQ(nul.category(), ErrorCategory::kInvalidInput);
  EXPECT_THAT(nul.what(), HasSubstr("$1"));
}

TEST_F(PostgresTest, ErrorsCarryCategorySqlstateUrlAndStatement) {
  db_->exec_script("CREATE TABLE u (k text PRIMARY KEY)");
  db_->exec("INSERT INTO u VALUES ($1)", "same");
  const PgError dup = pg_error_of([&] { db_->exec("INSERT INTO u VALUES ($1)", "same"); });
  EXPECT_EQ(dup.category(), ErrorCategory::kConflict);
  EXPECT_EQ(dup.sqlstate(), kPgUniqueViolation);
  EXPECT_THAT(dup.what(), AllOf(HasSubstr("postgres postgresql://"), HasSubstr("SQLSTATE 23505"),
                                HasSubstr("INSERT INTO u")));
  const PgError syntax = pg_error_of([&] { db_->exec("SELEC 1"); });
  EXPECT_EQ(syntax.category(), ErrorCategory::kInternal);
  EXPECT_EQ(syntax.sqlstate(), "42601");
  EXPECT_EQ(pg_error_of([&] { db_->exec("SELECT * FROM nowhere"); }).category(),
            ErrorCategory::kInternal);
  EXPECT_EQ(pg_error_of([&] { db_->exec("SELECT 1 / $1::int", 0); }).category(),
            ErrorCategory::kInvalidInput);  // 22012 division by zero
  EXPECT_EQ(pg_error_of([&] { db_->exec("SELECT $1::int", "twelve"); }).category(),
            ErrorCategory::kInvalidInput);  // 22P02
  // The connection is still usable after each failure.
  EXPECT_EQ(db_->scalar("SELECT count(*) FROM u"), 1);
}

TEST_F(PostgresTest, UnknownRoleOrDatabaseIsPermanentAndNamesNoPassword) {
  const std::string server = schema_->server_url();  // postgresql://postgres@127.0.0.1:PORT/...
  const size_t at = server.find('@');
  ASSERT_NE(at, std::string::npos);
  const std::string host_and_db = server.substr(at + 1);
  const PgError role = pg_error_of(
      [&] { PgConnection db("postgresql://no_such_role:pw-secret-9@" + host_and_db); });
  EXPECT_EQ(role.category(), ErrorCategory::kPermanent);
  EXPECT_THAT(role.what(), AllOf(HasSubstr("no_such_role"), Not(HasSubstr("pw-secret-9"))));
  const std::string host = host_and_db.substr(0, host_and_db.find('/'));
  const PgError database =
      pg_error_of([&] { PgConnection db("postgresql://postgres@" + host + "/no_such_db"); });
  EXPECT_EQ(database.category(), ErrorCategory::kPermanent);
  EXPECT_THAT(database.what(), HasSubstr("no_such_db"));
}

TEST_F(PostgresTest, LostConnectionIsRetryableAndTheNextCallReconnects) {
  const int pid = db_->backend_pid();
  PgConnection admin(url());
  EXPECT_EQ(admin.scalar("SELECT count(*) FROM pg_stat_activity WHERE pid = $1", pid), 1);
  admin.exec("SELECT pg_terminate_backend($1)", pid);  // SQLSTATE 57P01 for the victim
  const PgError lost = pg_error_of([&] { db_->exec("SELECT 1"); });
  EXPECT_EQ(lost.category(), ErrorCategory::kRetryable) << lost.what();
  EXPECT_FALSE(db_->connected());
  EXPECT_EQ(db_->scalar("SELECT 41 + 1"), 42);  // a new session
  EXPECT_TRUE(db_->connected());
  EXPECT_NE(db_->backend_pid(), pid);
}

TEST_F(PostgresTest, TransactionsCommitReturnAndRollBack) {
  db_->exec_script("CREATE TABLE t (x integer)");
  const int64_t n = db_->transaction([](PgTx& tx) {
    tx.exec("INSERT INTO t VALUES ($1), ($2)", 1, 2);
    return *tx.scalar("SELECT count(*) FROM t");
  });
  EXPECT_EQ(n, 2);
  EXPECT_THROW(db_->transaction([](PgTx& tx) {
    tx.exec("INSERT INTO t VALUES (3)");
    throw std::runtime_error("boom");
  }),
               std::runtime_error);
  EXPECT_THROW(db_->transaction([](PgTx& tx) {
    tx.exec("INSERT INTO t VALUES (4)");
    tx.exec("INSERT INTO nowhere VALUES (4)");
  }),
               PgError);
  EXPECT_EQ(db_->scalar("SELECT count(*) FROM t"), 2);
  // Read-only transactions refuse writes (Permanent: it will fail the same way again).
  const PgError ro = pg_error_of([&] {
    db_->transaction([](PgTx& tx) { tx.exec("INSERT INTO t VALUES (5)"); },
                     PgTxOptions{.read_only = true});
  });
  EXPECT_EQ(ro.category(), ErrorCategory::kPermanent);
  EXPECT_EQ(ro.sqlstate(), "25006");
}

TEST_F(PostgresTest, SavepointUndoesOnlyItsOwnStatements) {
  db_->exec_script("CREATE TABLE t (x integer)");
  db_->transaction([](PgTx& tx) {
    tx.exec("INSERT INTO t VALUES (1)");
    EXPECT_THROW(tx.savepoint([](PgTx& inner) {
      inner.exec("INSERT INTO t VALUES (2)");
      inner.exec("INSERT INTO nowhere VALUES (2)");  // aborts only the savepoint
    }),
                 PgError);
    tx.savepoint([](PgTx& inner) { inner.exec("INSERT INTO t VALUES (3)"); });
  });
  auto s = db_->row("SELECT string_agg(x::text, ',' ORDER BY x) FROM t");
  EXPECT_EQ(s->text(0), "1,3");
}

TEST_F(PostgresTest, SerializationFailureRunsTheBodyAgain) {
  db_->exec_script("CREATE TABLE counter (v integer); INSERT INTO counter VALUES (0)");
  PgConnection other(url());
  int runs = 0;
  db_->transaction(
      [&](PgTx& tx) {
        ++runs;
        const int64_t v = *tx.scalar("SELECT v FROM counter");  // snapshot taken here
        // On the first run, another session commits an increment after our snapshot: our
        // update of the same row must fail with 40001 and the body run again.
        if (runs == 1) other.exec("UPDATE counter SET v = v + 1");
        tx.exec("UPDATE counter SET v = $1", v + 1);
      },
      PgTxOptions{.isolation = PgIsolation::kRepeatableRead});
  EXPECT_EQ(runs, 2);
  EXPECT_EQ(db_->scalar("SELECT v FROM counter"), 2);  // no lost update

  // When every run collides, the last failure comes out as Retryable with its SQLSTATE.
  runs = 0;
  const PgError e = pg_error_of([&] {
    db_->transaction(
        [&](PgTx& tx) {
          ++runs;
          const int64_t v = *tx.scalar("SELECT v FROM counter");
          other.exec("UPDATE counter SET v = v + 1");
          tx.exec("UPDATE counter SET v = $1", v + 1);
        },
        PgTxOptions{.isolation = PgIsolation::kSerializable, .max_attempts = 3});
  });
  EXPECT_EQ(runs, 3);
  EXPECT_EQ(e.category(), ErrorCategory::kRetryable);
  EXPECT_EQ(e.sqlstate(), kPgSerializationFailure);
}

TEST_F(PostgresTest, DeadlockVictimIsRunAgain) {
  db_->exec_script("CREATE TABLE r (id integer PRIMARY KEY, v integer);"
                   "INSERT INTO r VALUES (1, 0), (2, 0)");
  std::atomic<int> arrived{0};
  std::atomic<int> total_runs{0};
  std::atomic<int> failures{0};
  auto worker = [&](int first, int second) {
    try {
      PgConnection db(url());
      int runs = 0;
      db.transaction([&](PgTx& tx) {
        ++runs;
        tx.exec("SET LOCAL deadlock_timeout = '20ms'");
        tx.exec("UPDATE r SET v = v + 1 WHERE id = $1", first);
        if (runs == 1) {  // both hold their first row before either asks for its second
          arrived.fetch_add(1);
          while (arrived.load() < 2) std::this_thread::yield();
        }
        tx.exec("UPDATE r SET v = v + 1 WHERE id = $1", second);
      });
      total_runs.fetch_add(runs);
    } catch (const std::exception& e) {
      ADD_FAILURE() << e.what();
      failures.fetch_add(1);
    }
  };
  std::thread a(worker, 1, 2), b(worker, 2, 1);
  a.join();
  b.join();
  EXPECT_EQ(failures.load(), 0);
  // At least one victim ran again (a retry can deadlock once more with the other's first run).
  EXPECT_GE(total_runs.load(), 3);
  EXPECT_EQ(db_->scalar("SELECT sum(v) FROM r"), 4);
}

TEST_F(PostgresTest, MigrationsApplyInOrderOnceAndRecordThemselves) {
  const Migration v1[] = {{1, "a", "CREATE TABLE a (x integer)"}};
  const Migration v2[] = {{1, "a", "CREATE TABLE a (x integer)"},
                          {2, "b", "CREATE TABLE b (y integer); INSERT INTO b VALUES (7)"}};
  PgConnection& db = *db_;
  EXPECT_EQ(db.schema_version("test"), 0);
  EXPECT_EQ(db.migrate("test", v1), 1);
  EXPECT_EQ(db.migrate("test", v1), 1);  // idempotent: CREATE TABLE a would fail if re-run
  EXPECT_EQ(db.migrate("test", v2), 2);
  EXPECT_EQ(db.migrate("test", v2), 2);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM b"), 1);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM schema_migrations WHERE component = 'test'"), 2);
  EXPECT_EQ(db.row("SELECT name FROM schema_migrations WHERE version = 2")->text(0), "b");
  EXPECT_EQ(db.schema_version("other"), 0);  // components are independent
  // The tables are in the test's schema, not in public.
  EXPECT_EQ(db.row("SELECT to_regclass('schema_migrations')::text")->text(0),
            "schema_migrations");
  EXPECT_EQ(db.scalar("SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() "
                      "AND tablename IN ('a', 'b', 'schema_migrations')"),
            3);
  // A database newer than the build is refused rather than silently misused.
  EXPECT_EQ(category_of([&] { db.migrate("test", v1); }), ErrorCategory::kPermanent);
}

TEST_F(PostgresTest, FailedMigrationRollsBackAsAWhole) {
  const Migration bad[] = {
      {1, "half", "CREATE TABLE ok (x integer); CREATE TABLE broken (x integr NOT NUL"}};
  const Error e = pg_error_of([&] { db_->migrate("test", bad); });
  EXPECT_THAT(e.what(), HasSubstr("test migration 1 (half)"));
  EXPECT_EQ(e.category(), ErrorCategory::kInternal);
  EXPECT_EQ(db_->schema_version("test"), 0);
  EXPECT_FALSE(db_->row("SELECT 1 FROM pg_tables WHERE schemaname = current_schema() AND "
                        "tablename = 'ok'")
                   .has_value());
  const Migration misnumbered[] = {{2, "x", "SELECT 1"}};
  EXPECT_EQ(category_of([&] { db_->migrate("test", misnumbered); }), ErrorCategory::kInternal);
}

TEST_F(PostgresTest, RacingMigratorsApplyEachStepOnce) {
  const Migration steps[] = {
      {1, "log", "CREATE TABLE log (step integer); INSERT INTO log VALUES (1)"},
      {2, "more", "INSERT INTO log VALUES (2); CREATE TABLE other (x integer)"},
  };
  const Migration queue_steps[] = {{1, "q", "CREATE TABLE q (x integer)"}};
  constexpr int kMigrators = 8;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kMigrators; ++t) {
    threads.emplace_back([&, t] {
      try {
        PgConnection db(url());
        // Half migrate a second component at the same time: both share schema_migrations.
        if (t % 2 == 0) {
          EXPECT_EQ(db.migrate("queue", queue_steps), 1);
        }
        EXPECT_EQ(db.migrate("test", steps), 2);
      } catch (const std::exception& e) {
        ADD_FAILURE() << e.what();
        failures.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  auto log = db_->row("SELECT string_agg(step::text, ',' ORDER BY step) FROM log");
  EXPECT_EQ(log->text(0), "1,2");
  EXPECT_EQ(db_->scalar("SELECT count(*) FROM schema_migrations"), 3);
}

TEST_F(PostgresTest, SchemasAreIndependent) {
  testing::PgTestSchema second(schema_->server_url());
  PgConnection other(second.url());
  const Migration v1[] = {{1, "a", "CREATE TABLE a (x integer)"}};
  EXPECT_EQ(db_->migrate("test", v1), 1);
  EXPECT_EQ(other.schema_version("test"), 0);
  EXPECT_EQ(other.migrate("test", v1), 1);
  db_->exec("INSERT INTO a VALUES (1)");
  EXPECT_EQ(other.scalar("SELECT count(*) FROM a"), 0);
}

}  // namespace
}  // namespace trib::db

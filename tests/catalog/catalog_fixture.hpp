// One test suite for every Catalog implementation: CatalogTest is parameterized by the backend
// (SQLite in a temp folder, PostgreSQL in a fresh schema per test) and every TEST_P runs on both,
// named Backends/<Suite>.<Test>/Sqlite and .../Postgres. catalog_test.cpp (manifest, commits,
// hot cache, raw objects, runs, tasks, watermarks, data quality, migrations), ledger_test.cpp
// and commit_race_test.cpp (concurrent writers: threads and processes) each instantiate their
// suite (CatalogTest, LedgerTest, CatalogConcurrencyTest) over both backends.
// sqlite_catalog_test.cpp holds what only SQLite has (the file, WAL, its locking).
//
// PostgreSQL runs need the test server (tests/support/postgres_fixture.hpp): under ctest the
// server is started by the `postgres` fixture for every test whose name contains "Postgres", and
// a missing server fails the test; run by hand without TRIB_TEST_PG_URL they are skipped.
//
// fork(): no database connection may be open in the parent across fork() (SQLite's rule; a
// PostgreSQL session must not be shared either), so tests that fork close catalog_ first.
#pragma once

#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "trib/catalog/catalog.hpp"
#include "trib/core/error.hpp"
#include "trib/core/hash.hpp"
#include "trib/db/postgres.hpp"
#include "../core/test_util.hpp"
#include "../support/postgres_fixture.hpp"

namespace trib {
// Micros in test failure messages as decimals ("-10.4"), not bytes.
inline void PrintTo(const Micros& value, std::ostream* out) { *out << value.to_string(); }
}  // namespace trib

namespace trib::catalog {

namespace fs = std::filesystem;

enum class Backend { kSqlite, kPostgres };

inline std::string backend_name(const ::testing::TestParamInfo<Backend>& info) {
  return info.param == Backend::kSqlite ? "Sqlite" : "Postgres";
}
inline void PrintTo(Backend backend, std::ostream* out) {
  *out << (backend == Backend::kSqlite ? "sqlite" : "postgres");
}

// Plain SQL on a catalog's database, beside the catalog, for looking under the hood. Statements
// must be valid on both SQLite and PostgreSQL.
class RawSql {
 public:
  RawSql(Backend backend, const std::string& where) : backend_(backend) {
    if (backend_ == Backend::kSqlite) {
      EXPECT_EQ(sqlite3_open(where.c_str(), &sqlite_), SQLITE_OK) << where;
    } else {
      pg_ = std::make_unique<db::PgConnection>(where);
    }
  }
  ~RawSql() {
    if (sqlite_ != nullptr) sqlite3_close(sqlite_);
  }
  RawSql(const RawSql&) = delete;
  RawSql& operator=(const RawSql&) = delete;

  // The first column of the first row as text ("" when there is none or it is NULL).
  std::string text(const std::string& sql) {
    if (pg_) {
      auto row = pg_->row(sql);
      return row ? row->text(0) : "";
    }
    sqlite3_stmt* s = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(sqlite_, sql.c_str(), -1, &s, nullptr), SQLITE_OK)
        << sql << ": " << sqlite3_errmsg(sqlite_);
    std::string out;
    if (s != nullptr && sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0) != nullptr) {
      out = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
    }
    sqlite3_finalize(s);
    return out;
  }
  int64_t number(const std::string& sql) {
    const std::string value = text(sql);
    EXPECT_FALSE(value.empty()) << sql;
    return value.empty() ? -1 : std::stoll(value);
  }
  void exec(const std::string& sql) {
    if (pg_) {
      pg_->exec_script(sql);
      return;
    }
    char* error = nullptr;
    EXPECT_EQ(sqlite3_exec(sqlite_, sql.c_str(), nullptr, nullptr, &error), SQLITE_OK)
        << sql << ": " << (error != nullptr ? error : "");
    sqlite3_free(error);
  }
  bool table_exists(const std::string& name) {
    if (pg_) {
      return number(
                 "SELECT count(*) FROM information_schema.tables WHERE table_schema = "
                 "current_schema() AND table_name = '" +
                 name + "'") == 1;
    }
    return number("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '" + name +
                  "'") == 1;
  }

 private:
  Backend backend_;
  sqlite3* sqlite_ = nullptr;
  std::unique_ptr<db::PgConnection> pg_;
};

class CatalogTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (postgres()) {
      TRIB_PG_TEST_URL_OR_SKIP(server_url);
      server_url_ = server_url;
    }
    where_ = fresh_location();
    catalog_ = open();
  }
  void TearDown() override {
    catalog_.reset();  // before tmp_ removes the folder and the schemas are dropped
    schemas_.clear();
  }

  bool postgres() const { return GetParam() == Backend::kPostgres; }

  // A new, empty place for a catalog: a file path (SQLite) or a URL naming a fresh schema
  // (PostgreSQL), removed at the end of the test.
  std::string fresh_location() {
    if (postgres()) {
      schemas_.push_back(std::make_unique<testing::PgTestSchema>(server_url_));
      return schemas_.back()->url();
    }
    static std::atomic<int> counter{0};
    return (tmp_.path() / ("catalog-" + std::to_string(counter.fetch_add(1)) + ".db")).string();
  }

  // A new catalog object (its own connection) on `where` (default: this test's catalog).
  std::unique_ptr<Catalog> open(CatalogOptions options = {}) const {
    return open_at(where_, options);
  }
  std::unique_ptr<Catalog> open_at(const std::string& where, CatalogOptions options = {}) const {
    return postgres() ? open_postgres_catalog(where, options)
                      : open_sqlite_catalog(fs::path(where), options);
  }
  RawSql raw(const std::string& where = "") const {
    return RawSql(GetParam(), where.empty() ? where_ : where);
  }

  // ---- builders ----

  static PartitionKey key(const std::string& symbol, const std::string& partition,
                          const std::string& timeframe = "1d") {
    return {"bars", timeframe, symbol, partition};
  }

  static PartitionRecord record(const std::string& symbol, const std::string& partition,
                                const std::string& sha, int64_t rows = 10) {
    PartitionRecord r;
    r.key = key(symbol, partition);
    r.object_key =
        "curated/bars/timeframe=1d/symbol=" + symbol + "/year=" + partition + "/data.parquet";
    r.version_key = "_versions/" + r.object_key + "/" + sha;
    r.row_count = rows;
    r.content_sha256 = sha;
    r.min_ts_ns = 100;
    r.max_ts_ns = 200;
    r.code_version = "0.1.0";
    r.version = 99;  // ignored: the catalog numbers versions
    return r;
  }

  static PartitionCommit commit(PartitionRecord record, int64_t expected_version,
                                std::vector<HotBar> hot_rows = {},
                                std::vector<Watermark> watermarks = {}) {
    PartitionCommit c;
    c.record = std::move(record);
    c.expected_version = expected_version;
    c.hot_rows = std::move(hot_rows);
    c.watermarks = std::move(watermarks);
    return c;
  }

  // A daily bar on day `day` (days since the epoch), its prices derived from `close`.
  static HotBar bar(int32_t day, double close, const std::string& raw_id = "raw-1") {
    HotBar h;
    h.ts_ns = int64_t{day} * 86'400'000'000'000 + 14 * 3'600'000'000'000 + 30 * 60'000'000'000;
    h.session_date = day;
    h.open = close - 0.5;
    h.high = close + 1.25;
    h.low = close - 1.75;
    h.close = close;
    h.volume = 1e6 + day;
    if (day % 2 == 0) h.vwap = close + 0.1;
    if (day % 3 == 0) h.trades = 1000 + day;
    h.source = "sim";
    h.raw_id = raw_id;
    h.fetched_at_ns = 1'700'000'000'000'000'000 + day;
    return h;
  }
  // Bars for days [first, last], close = day + offset.
  static std::vector<HotBar> bars(int32_t first, int32_t last, double offset = 0) {
    std::vector<HotBar> out;
    for (int32_t day = first; day <= last; ++day) out.push_back(bar(day, day + offset));
    return out;
  }

  testing::TempDir tmp_;
  std::string server_url_;
  std::vector<std::unique_ptr<testing::PgTestSchema>> schemas_;
  std::string where_;
  std::unique_ptr<Catalog> catalog_;
};

// The message of the trib::Error `f` throws, or "(no error)".
inline std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

using trib::testing::spawn;

// The universe and vendor budgets (universe_budget_test.cpp).
class UniverseBudgetTest : public CatalogTest {};
class ModelRegistryTest : public CatalogTest {};

}  // namespace trib::catalog

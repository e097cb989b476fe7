// The SQLite catalog: connection setup, migrations, the partition manifest, raw objects, runs,
// watermarks and data-quality counts. The ledger and the cross-process commit race have their
// own files.
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "trib/catalog/catalog.hpp"
#include "trib/core/error.hpp"
#include "../core/test_util.hpp"

namespace trib::catalog {
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

// ---- the catalog ------------------------------------------------------------------------------

class CatalogTest : public ::testing::Test {
 protected:
  void SetUp() override { catalog_ = open_sqlite_catalog(db_); }
  void TearDown() override { catalog_.reset(); }  // before tmp_ removes the folder

  static PartitionRecord record(const std::string& symbol, const std::string& partition,
                                const std::string& sha, int64_t rows = 10) {
    PartitionRecord r;
    r.key = {"bars", "1d", symbol, partition};
    r.object_key = "curated/bars/1d/" + symbol + "/" + partition + ".parquet";
    r.row_count = rows;
    r.content_sha256 = sha;
    r.min_ts_ns = 100;
    r.max_ts_ns = 200;
    r.code_version = "0.1.0";
    r.version = 99;  // ignored: the catalog numbers versions
    return r;
  }

  testing::TempDir tmp_;
  const fs::path dir_ = tmp_.path(), db_ = dir_ / "catalog.db";
  std::unique_ptr<Catalog> catalog_;
};

TEST_F(CatalogTest, OpenMigratesAndReopenIsIdempotent) {
  EXPECT_EQ(catalog_->schema_version(), 1);
  catalog_->migrate();
  catalog_->migrate();
  auto again = open_sqlite_catalog(db_);
  EXPECT_EQ(again->schema_version(), 1);
  RawDb raw(db_);
  EXPECT_EQ(raw.number("SELECT count(*) FROM schema_migrations WHERE component = 'catalog'"), 1);
  for (const char* table : {"instruments", "partitions", "partition_versions", "raw_objects",
                            "runs", "watermarks", "dq_results", "orders", "fills", "positions",
                            "accounts"}) {
    EXPECT_EQ(raw.number(std::string("SELECT count(*) FROM sqlite_master WHERE name = '") +
                         table + "'"),
              1)
        << table;
  }
}

TEST_F(CatalogTest, ProcessesRacingToCreateTheCatalogAllSucceed) {
  const fs::path fresh = dir_ / "fresh.db";
  std::vector<pid_t> children;
  for (int i = 0; i < 4; ++i) {
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      int rc = 1;
      try {
        auto c = open_sqlite_catalog(fresh);
        c->migrate();
        rc = c->schema_version() == 1 ? 0 : 2;
      } catch (const std::exception& e) {
        std::fprintf(stderr, "child: %s\n", e.what());
      }
      ::_exit(rc);
    }
    children.push_back(pid);
  }
  for (pid_t pid : children) EXPECT_EQ(exit_code_of(pid), 0);
  RawDb raw(fresh);
  EXPECT_EQ(raw.number("SELECT count(*) FROM schema_migrations"), 1);
  EXPECT_EQ(raw.text("PRAGMA journal_mode"), "wal");
}

TEST_F(CatalogTest, Instruments) {
  catalog_->upsert_instrument("MSFT", "sim", "nyse");
  catalog_->upsert_instrument("AAPL", "sim", "nyse");
  catalog_->upsert_instrument("AAPL", "csv", "nyse");  // updates, no duplicate
  EXPECT_THAT(catalog_->list_instruments(), ElementsAre("AAPL", "MSFT"));
  RawDb raw(db_);
  EXPECT_EQ(raw.text("SELECT vendor FROM instruments WHERE symbol = 'AAPL'"), "csv");
  EXPECT_EQ(category_of([&] { catalog_->upsert_instrument("", "sim", "nyse"); }),
            ErrorCategory::kInvalidInput);
}

TEST_F(CatalogTest, FirstCommitCreatesVersionOne) {
  int publishes = 0;
  const auto outcome =
      catalog_->commit_partition(record("AAPL", "2020", "sha-a"), [&](const auto& previous) {
        ++publishes;
        EXPECT_FALSE(previous.has_value());
      });
  EXPECT_EQ(outcome, CommitOutcome::kCreated);
  EXPECT_EQ(publishes, 1);
  auto got = catalog_->get_partition({"bars", "1d", "AAPL", "2020"});
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->version, 1);
  EXPECT_EQ(got->content_sha256, "sha-a");
  EXPECT_EQ(got->row_count, 10);
  EXPECT_EQ(got->object_key, "curated/bars/1d/AAPL/2020.parquet");
  EXPECT_EQ(got->min_ts_ns, 100);
  EXPECT_EQ(got->max_ts_ns, 200);
  EXPECT_EQ(got->code_version, "0.1.0");
  EXPECT_GT(got->committed_at_ns, 0);
  EXPECT_TRUE(catalog_->partition_history(got->key).empty());
}

TEST_F(CatalogTest, SameContentIsUnchangedAndNeverPublished) {
  catalog_->commit_partition(record("AAPL", "2020", "sha-a"), [](const auto&) {});
  const auto before = catalog_->get_partition({"bars", "1d", "AAPL", "2020"});
  bool published = false;
  EXPECT_EQ(catalog_->commit_partition(record("AAPL", "2020", "sha-a"),
                                       [&](const auto&) { published = true; }),
            CommitOutcome::kUnchanged);
  EXPECT_FALSE(published);
  const auto after = catalog_->get_partition({"bars", "1d", "AAPL", "2020"});
  EXPECT_EQ(after->version, 1);
  EXPECT_EQ(after->committed_at_ns, before->committed_at_ns);
}

TEST_F(CatalogTest, NewContentReplacesAndKeepsTheOldVersion) {
  catalog_->commit_partition(record("AAPL", "2020", "sha-a"), [](const auto&) {});
  std::optional<PartitionRecord> seen;
  EXPECT_EQ(catalog_->commit_partition(record("AAPL", "2020", "sha-b", 11),
                                       [&](const auto& previous) { seen = previous; }),
            CommitOutcome::kReplaced);
  ASSERT_TRUE(seen.has_value());
  EXPECT_EQ(seen->version, 1);
  EXPECT_EQ(seen->content_sha256, "sha-a");
  // Same hash, different row count: still a change.
  EXPECT_EQ(catalog_->commit_partition(record("AAPL", "2020", "sha-b", 12), [](const auto&) {}),
            CommitOutcome::kReplaced);

  const PartitionKey key{"bars", "1d", "AAPL", "2020"};
  EXPECT_EQ(catalog_->get_partition(key)->version, 3);
  const auto history = catalog_->partition_history(key);
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[0].version, 1);
  EXPECT_EQ(history[0].content_sha256, "sha-a");
  EXPECT_EQ(history[0].row_count, 10);
  EXPECT_EQ(history[1].version, 2);
  EXPECT_EQ(history[1].content_sha256, "sha-b");
  EXPECT_EQ(history[1].row_count, 11);
}

TEST_F(CatalogTest, PublishThatThrowsRecordsNothingAndKeepsItsError) {
  catalog_->commit_partition(record("AAPL", "2020", "sha-a"), [](const auto&) {});
  const PartitionKey key{"bars", "1d", "AAPL", "2020"};
  try {
    catalog_->commit_partition(record("AAPL", "2020", "sha-b"), [](const auto&) {
      throw Error::Conflict("partition moved while merging");
    });
    FAIL() << "publish's error must propagate";
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::kConflict);
    EXPECT_STREQ(e.what(), "partition moved while merging");  // unchanged
  }
  EXPECT_THROW(catalog_->commit_partition(record("AAPL", "2021", "sha-x"),
                                          [](const auto&) { throw std::runtime_error("disk"); }),
               std::runtime_error);
  EXPECT_EQ(catalog_->get_partition(key)->content_sha256, "sha-a");
  EXPECT_EQ(catalog_->get_partition(key)->version, 1);
  EXPECT_FALSE(catalog_->get_partition({"bars", "1d", "AAPL", "2021"}).has_value());
  EXPECT_TRUE(catalog_->partition_history(key).empty());
  // The lock was released: the next commit goes through.
  EXPECT_EQ(catalog_->commit_partition(record("AAPL", "2020", "sha-b"), [](const auto&) {}),
            CommitOutcome::kReplaced);
}

TEST_F(CatalogTest, PublishMayReadTheCatalogInsideTheCommit) {
  catalog_->commit_partition(record("AAPL", "2020", "sha-a"), [](const auto&) {});
  catalog_->commit_partition(record("AAPL", "2020", "sha-b"), [&](const auto& previous) {
    auto current = catalog_->get_partition({"bars", "1d", "AAPL", "2020"});
    ASSERT_TRUE(current.has_value());
    EXPECT_EQ(current->version, previous->version);
    catalog_->upsert_instrument("AAPL", "sim", "nyse");  // a nested write: a savepoint
  });
  EXPECT_EQ(catalog_->get_partition({"bars", "1d", "AAPL", "2020"})->version, 2);
  EXPECT_THAT(catalog_->list_instruments(), ElementsAre("AAPL"));
}

TEST_F(CatalogTest, CommitRejectsIncompleteRecords) {
  auto r = record("AAPL", "2020", "");
  EXPECT_EQ(category_of([&] { catalog_->commit_partition(r, [](const auto&) {}); }),
            ErrorCategory::kInvalidInput);
  r = record("AAPL", "", "sha");
  EXPECT_THAT(error_of([&] { catalog_->commit_partition(r, [](const auto&) {}); }),
              HasSubstr("bars/1d/AAPL/"));
}

TEST_F(CatalogTest, ListPartitionsFiltersAndSorts) {
  for (const auto& [symbol, partition] : std::vector<std::pair<std::string, std::string>>{
           {"MSFT", "2021"}, {"AAPL", "2021"}, {"MSFT", "2020"}, {"AAPL", "2020"}}) {
    catalog_->commit_partition(record(symbol, partition, "sha"), [](const auto&) {});
  }
  auto other = record("AAPL", "2020", "sha");
  other.key.timeframe = "1h";
  catalog_->commit_partition(other, [](const auto&) {});
  other.key.dataset = "features/basic";
  catalog_->commit_partition(other, [](const auto&) {});

  auto names = [](const std::vector<PartitionRecord>& v) {
    std::vector<std::string> out;
    for (const auto& p : v) {
      out.push_back(p.key.symbol + "/" + p.key.timeframe + "/" + p.key.partition);
    }
    return out;
  };
  EXPECT_THAT(names(catalog_->list_partitions("bars", "1d")),
              ElementsAre("AAPL/1d/2020", "AAPL/1d/2021", "MSFT/1d/2020", "MSFT/1d/2021"));
  EXPECT_THAT(names(catalog_->list_partitions("bars", "", "AAPL")),
              ElementsAre("AAPL/1d/2020", "AAPL/1h/2020", "AAPL/1d/2021"));
  EXPECT_THAT(names(catalog_->list_partitions("bars", "1h")), ElementsAre("AAPL/1h/2020"));
  EXPECT_THAT(names(catalog_->list_partitions("features/basic")), ElementsAre("AAPL/1h/2020"));
  EXPECT_TRUE(catalog_->list_partitions("nope").empty());
}

TEST_F(CatalogTest, RawObjectsInsertOnce) {
  RawObjectRecord r{"raw/sim/bars/AAPL/2024-01-02/abc.csv", "sim", "bars", "AAPL", "abc", 123,
                    "2024-01-02", R"({"timeframe":"1d"})"};
  EXPECT_TRUE(catalog_->record_raw_object(r));
  EXPECT_FALSE(catalog_->record_raw_object(r));
  RawObjectRecord multi{"raw/csv/bars/_/2024-01-02/def.csv", "csv", "bars", "", "def", 9,
                        "2024-01-02", "{}"};
  EXPECT_TRUE(catalog_->record_raw_object(multi));

  auto all = catalog_->list_raw_objects();
  ASSERT_EQ(all.size(), 2u);
  auto sim = catalog_->list_raw_objects("sim");
  ASSERT_EQ(sim.size(), 1u);
  EXPECT_EQ(sim[0].object_key, r.object_key);
  EXPECT_EQ(sim[0].sha256, "abc");
  EXPECT_EQ(sim[0].size, 123);
  EXPECT_EQ(sim[0].fetched_date, "2024-01-02");
  EXPECT_EQ(sim[0].request_json, r.request_json);
  EXPECT_EQ(catalog_->list_raw_objects("", "AAPL").size(), 1u);
  EXPECT_TRUE(catalog_->list_raw_objects("csv", "AAPL").empty());
}

TEST_F(CatalogTest, RunsStartAndFinish) {
  catalog_->start_run({"run-1", "ingest", R"({"vendor":"sim"})", "", "", 0, 0});
  auto run = catalog_->get_run("run-1");
  ASSERT_TRUE(run.has_value());
  EXPECT_EQ(run->kind, "ingest");
  EXPECT_EQ(run->status, "running");
  EXPECT_EQ(run->params_json, R"({"vendor":"sim"})");
  EXPECT_GT(run->started_at_ns, 0);
  EXPECT_EQ(run->finished_at_ns, 0);

  catalog_->finish_run("run-1", "ok", R"({"rows":5})");
  run = catalog_->get_run("run-1");
  EXPECT_EQ(run->status, "ok");
  EXPECT_EQ(run->stats_json, R"({"rows":5})");
  EXPECT_GE(run->finished_at_ns, run->started_at_ns);

  EXPECT_FALSE(catalog_->get_run("run-2").has_value());
  EXPECT_EQ(category_of([&] { catalog_->finish_run("run-2", "ok", "{}"); }),
            ErrorCategory::kNotFound);
  EXPECT_EQ(category_of([&] { catalog_->start_run({"run-1", "etl", "{}", "", "", 0, 0}); }),
            ErrorCategory::kConflict);
}

TEST_F(CatalogTest, WatermarksOnlyAdvance) {
  EXPECT_FALSE(catalog_->get_watermark("sim", "bars", "AAPL").has_value());
  catalog_->advance_watermark("sim", "bars", "AAPL", "2020-06-30");
  EXPECT_EQ(catalog_->get_watermark("sim", "bars", "AAPL"), "2020-06-30");
  catalog_->advance_watermark("sim", "bars", "AAPL", "2020-01-31");  // older: ignored
  EXPECT_EQ(catalog_->get_watermark("sim", "bars", "AAPL"), "2020-06-30");
  catalog_->advance_watermark("sim", "bars", "AAPL", "2020-12-31");
  EXPECT_EQ(catalog_->get_watermark("sim", "bars", "AAPL"), "2020-12-31");
  EXPECT_FALSE(catalog_->get_watermark("sim", "bars", "MSFT").has_value());
  EXPECT_FALSE(catalog_->get_watermark("csv", "bars", "AAPL").has_value());
  EXPECT_EQ(category_of([&] { catalog_->advance_watermark("sim", "bars", "AAPL", "2021-2-1"); }),
            ErrorCategory::kInvalidInput);
  EXPECT_EQ(catalog_->get_watermark("sim", "bars", "AAPL"), "2020-12-31");
}

TEST_F(CatalogTest, DqCountsAddUpPerRunAndSummarisePerDatasetAndRule) {
  catalog_->record_dq({"run-1", "bars", "AAPL", "high_below_low", 2});
  catalog_->record_dq({"run-1", "bars", "AAPL", "high_below_low", 3});
  catalog_->record_dq({"run-1", "bars", "MSFT", "high_below_low", 1});
  catalog_->record_dq({"run-1", "bars", "MSFT", "negative_volume", 4});
  catalog_->record_dq({"run-2", "bars", "AAPL", "high_below_low", 10});
  catalog_->record_dq({"run-2", "features/basic", "AAPL", "nan", 7});

  RawDb raw(db_);
  EXPECT_EQ(raw.number("SELECT rows FROM dq_results WHERE run_id = 'run-1' AND symbol = 'AAPL'"),
            5);

  auto one = catalog_->dq_summary("run-1");
  ASSERT_EQ(one.size(), 2u);
  EXPECT_EQ(one[0].run_id, "run-1");
  EXPECT_EQ(one[0].dataset, "bars");
  EXPECT_EQ(one[0].rule, "high_below_low");
  EXPECT_EQ(one[0].rows, 6);
  EXPECT_EQ(one[1].rule, "negative_volume");
  EXPECT_EQ(one[1].rows, 4);

  auto all = catalog_->dq_summary();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].rule, "high_below_low");
  EXPECT_EQ(all[0].rows, 16);
  EXPECT_EQ(all[1].rule, "negative_volume");
  EXPECT_EQ(all[2].dataset, "features/basic");
  EXPECT_EQ(all[2].rows, 7);
  EXPECT_TRUE(catalog_->dq_summary("run-9").empty());
}

}  // namespace
}  // namespace trib::catalog

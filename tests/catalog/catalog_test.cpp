// The catalog on every backend (catalog_fixture.hpp): migrations, instruments, the partition
// manifest and its conditional commit, group commits, the hot cache, watermarks, raw objects,
// runs, tasks and data-quality counts. The ledger and the concurrency tests have their own files.
#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "catalog_fixture.hpp"
#include "trib/catalog/catalog.hpp"
#include "trib/core/error.hpp"
#include "trib/db/postgres.hpp"
#include "trib/db/sqlite.hpp"
#include "../../src/catalog/schema.hpp"  // the shipped migration 1, to build a v1 catalog

namespace trib::catalog {
namespace {

using testing::category_of;
using ::testing::ElementsAre;
using testing::exit_code_of;
using ::testing::HasSubstr;
using ::testing::Not;

INSTANTIATE_TEST_SUITE_P(Backends, CatalogTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres), backend_name);

std::vector<std::string> names(const std::vector<PartitionRecord>& v) {
  std::vector<std::string> out;
  for (const auto& p : v)
    out.push_back(p.key.symbol + "/" + p.key.timeframe + "/" + p.key.partition);
  return out;
}

std::vector<int32_t> days_of(const std::vector<HotBar>& rows) {
  std::vector<int32_t> out;
  for (const auto& h : rows) out.push_back(h.session_date);
  return out;
}

// ---- migrations and opening ----------------------------------------------------------------

TEST_P(CatalogTest, OpenMigratesAndReopenIsIdempotent) {
  EXPECT_EQ(catalog_->schema_version(), 8);
  catalog_->migrate();
  catalog_->migrate();
  auto again = open();
  EXPECT_EQ(again->schema_version(), 8);
  auto sql = raw();
  EXPECT_EQ(sql.number("SELECT count(*) FROM schema_migrations WHERE component = 'catalog'"), 8);
  for (const char* table :
       {"instruments", "partitions", "partition_versions", "raw_objects", "runs", "watermarks",
        "dq_counts", "tasks_done", "hot_cache", "ledger_accounts", "ledger_orders", "ledger_fills",
        "ledger_positions", "universe", "vendor_budgets", "calendar_sessions", "partition_sessions",
        "corporate_actions", "models"}) {
    EXPECT_TRUE(sql.table_exists(table)) << table;
  }
  // Migration 2 replaced these.
  for (const char* table : {"dq_results", "orders", "fills", "positions", "accounts"}) {
    EXPECT_FALSE(sql.table_exists(table)) << table;
  }
}

TEST_P(CatalogTest, ProcessesRacingToCreateTheCatalogAllSucceed) {
  const std::string fresh = fresh_location();
  catalog_.reset();  // nothing open across fork()
  std::vector<pid_t> children;
  for (int i = 0; i < 4; ++i) {
    children.push_back(spawn([&] {
      auto c = open_at(fresh);
      c->migrate();
      return c->schema_version() == 8 ? 0 : 2;
    }));
  }
  for (pid_t pid : children) EXPECT_EQ(exit_code_of(pid), 0);
  EXPECT_EQ(raw(fresh).number("SELECT count(*) FROM schema_migrations"), 8);
  EXPECT_EQ(open_at(fresh)->schema_version(), 8);
}

TEST_P(CatalogTest, DescribeNamesTheBackendAndNeverThePassword) {
  if (!postgres()) {
    EXPECT_EQ(catalog_->describe(), "sqlite:" + where_);
    return;
  }
  EXPECT_EQ(catalog_->describe(), "postgres:" + where_);
  // The test server trusts every local connection, so a password in the URL is accepted (and
  // ignored): the catalog opens, and neither describe() nor an error names the password.
  std::string with_password = where_;
  const size_t at = with_password.find('@');
  ASSERT_NE(at, std::string::npos) << where_;
  with_password.insert(at, ":s3cret-pw");
  auto c = open_at(with_password);
  EXPECT_THAT(c->describe(), HasSubstr(":***@"));
  EXPECT_THAT(c->describe(), Not(HasSubstr("s3cret-pw")));
  EXPECT_TRUE(c->describe().starts_with("postgres:postgresql://"));
}

TEST_P(CatalogTest, ACatalogFromANewerBuildIsRefused) {
  raw().exec(postgres() ? "INSERT INTO schema_migrations (component, version, name) "
                          "VALUES ('catalog', 99, 'from the future')"
                        : "INSERT INTO schema_migrations (component, version, name, applied_at_ns) "
                          "VALUES ('catalog', 99, 'from the future', 1)");
  EXPECT_EQ(category_of([&] { open(); }), ErrorCategory::kPermanent);
}

TEST_P(CatalogTest, NegativeHotCacheSizeIsRefused) {
  CatalogOptions options;
  options.hot_cache_sessions = -1;
  EXPECT_EQ(category_of([&] { open(options); }), ErrorCategory::kInvalidInput);
}

// A catalog written by the first release (migration 1: REAL ledger values, dq counts per run,
// raw objects without a fetch time) opens with today's code: everything is carried into
// migration 2's tables, money and quantities as exact micro-units.
TEST_P(CatalogTest, MigratesAVersionOneCatalogToMicroUnits) {
  const std::string v1 = fresh_location();
  if (postgres()) {
    db::PgConnection conn(v1);
    ASSERT_EQ(conn.migrate("catalog", postgres_catalog_migrations().first(1)), 1);
  } else {
    db::SqliteDb file{fs::path(v1)};
    ASSERT_EQ(file.migrate("catalog", catalog_migrations().first(1)), 1);
  }
  {
    auto sql = raw(v1);
    sql.exec(
        "INSERT INTO accounts (account, initial_cash, net_flow, created_at_ns) VALUES "
        "('paper', 10000.1, -1000.55, 5), ('fresh', NULL, 0.3, 6);"
        "INSERT INTO orders VALUES ('o1', 'sma', 'AAPL', 'buy', 0.1, 'limit', 101.5, "
        "'2024-01-05', 'filled', '', 'paper', 'paper-1', 10, 11);"
        "INSERT INTO orders VALUES ('o2', 'sma', 'MSFT', 'sell', 3, 'market', NULL, "
        "'2024-01-05', 'denied', 'max_order_notional', 'paper', '', 12, 13);"
        "INSERT INTO fills VALUES ('f1', 'paper', 'o1', 'AAPL', 'buy', 0.3, 33.333333, 0.005, "
        "20, 21);"
        "INSERT INTO positions VALUES ('paper', 'AAPL', -2.5, 99.99, 0.30000000000000004, 30);"
        "INSERT INTO dq_results VALUES ('run-1', 'bars', 'AAPL', 'high_below_low', 3);"
        "INSERT INTO dq_results VALUES ('run-1', 'bars', 'MSFT', 'high_below_low', 0);"
        "INSERT INTO raw_objects VALUES ('raw/a', 'sim', 'bars', 'AAPL', 'abc', 12, "
        "'2024-01-02', '{}', 777);"
        "INSERT INTO runs VALUES ('run-1', 'ingest', '{}', 'ok', '{}', 1, 2);"
        "INSERT INTO partitions VALUES ('bars', '1d', 'AAPL', '2024', 'curated/x', 5, 'sha', "
        "1, 2, 1, '0.1.0', 3);"
        "INSERT INTO watermarks VALUES ('sim', 'bars', 'AAPL', '2024-01-05', 4);"
        "INSERT INTO instruments VALUES ('AAPL', 'sim', 'nyse', 5);");
  }

  auto c = open_at(v1);
  EXPECT_EQ(c->schema_version(), 8);
  // 10,000.1 - 1,000.55, exactly; an account whose initial cash was never named takes it now.
  EXPECT_EQ(c->account_cash("paper", Micros::parse("1")), Micros::parse("8999.55"));
  EXPECT_EQ(c->account_cash("fresh", Micros::parse("7")), Micros::parse("7.3"));

  const auto o1 = c->get_order("o1");
  ASSERT_TRUE(o1.has_value());
  EXPECT_EQ(o1->qty.raw(), 100'000);
  EXPECT_EQ(o1->limit_price, Micros::parse("101.5"));
  EXPECT_EQ(o1->side, Side::kBuy);
  EXPECT_EQ(o1->status, OrderStatus::kFilled);
  EXPECT_EQ(o1->broker_order_id, "paper-1");
  // Migration 8: the account and filled quantity from the order's fills.
  EXPECT_EQ(o1->account, "paper");
  EXPECT_EQ(o1->filled_qty, Micros::parse("0.3"));
  const auto o2 = c->get_order("o2");
  ASSERT_TRUE(o2.has_value());
  EXPECT_EQ(o2->qty, Micros::parse("3"));
  EXPECT_FALSE(o2->limit_price.has_value());
  EXPECT_EQ(o2->side, Side::kSell);
  EXPECT_EQ(o2->status, OrderStatus::kDenied);
  EXPECT_EQ(o2->reason, "max_order_notional");

  const auto fills = c->list_fills();
  ASSERT_EQ(fills.size(), 1u);
  EXPECT_EQ(fills[0].qty, Micros::parse("0.3"));
  EXPECT_EQ(fills[0].price, Micros::parse("33.333333"));
  EXPECT_EQ(fills[0].commission, Micros::parse("0.005"));
  EXPECT_EQ(fills[0].ts_ns, 20);

  const auto position = c->get_position("paper", "AAPL");
  ASSERT_TRUE(position.has_value());
  EXPECT_EQ(position->qty, Micros::parse("-2.5"));
  EXPECT_EQ(position->avg_price, Micros::parse("99.99"));
  EXPECT_EQ(position->realized_pnl, Micros::parse("0.3"));  // 0.1 + 0.2 in binary, rounded
  EXPECT_EQ(position->updated_at_ns, 30);

  // dq counts are kept per run under a synthetic raw object; zero counts are dropped.
  const auto dq = c->dq_summary("run-1");
  ASSERT_EQ(dq.size(), 1u);
  EXPECT_EQ(dq[0].rule, "high_below_low");
  EXPECT_EQ(dq[0].rows, 3);
  EXPECT_EQ(raw(v1).text("SELECT raw_object FROM dq_counts"), "run:run-1");

  const auto raw_object = c->get_raw_object("raw/a");
  ASSERT_TRUE(raw_object.has_value());
  EXPECT_EQ(raw_object->fetched_at_ns, 777);  // the record time is the best fetch time known
  EXPECT_EQ(raw_object->task_id, "");
  EXPECT_EQ(raw_object->window_from, "");

  const auto partition = c->get_partition(key("AAPL", "2024"));
  ASSERT_TRUE(partition.has_value());
  EXPECT_EQ(partition->version, 1);
  EXPECT_EQ(partition->version_key, "");  // committed before version objects
  EXPECT_EQ(c->get_run("run-1")->status, RunStatus::kOk);
  EXPECT_EQ(c->get_watermark("sim", "bars", "AAPL"), "2024-01-05");
  EXPECT_THAT(c->list_instruments(), ElementsAre("AAPL"));
}

// ---- instruments ------------------------------------------------------------------------------

TEST_P(CatalogTest, Instruments) {
  catalog_->upsert_instrument("MSFT", "sim", "nyse");
  catalog_->upsert_instrument("AAPL", "sim", "nyse");
  catalog_->upsert_instrument("AAPL", "csv", "nyse");  // updates, no duplicate
  EXPECT_THAT(catalog_->list_instruments(), ElementsAre("AAPL", "MSFT"));
  auto sql = raw();
  EXPECT_EQ(sql.text("SELECT vendor FROM instruments WHERE symbol = 'AAPL'"), "csv");
  // The same values again write nothing.
  const std::string stamp = sql.text("SELECT updated_at_ns FROM instruments WHERE symbol = 'AAPL'");
  catalog_->upsert_instrument("AAPL", "csv", "nyse");
  EXPECT_EQ(sql.text("SELECT updated_at_ns FROM instruments WHERE symbol = 'AAPL'"), stamp);
  EXPECT_EQ(category_of([&] { catalog_->upsert_instrument("", "sim", "nyse"); }),
            ErrorCategory::kInvalidInput);
}

// ---- the manifest and its commit point --------------------------------------------------------

TEST_P(CatalogTest, FirstCommitCreatesVersionOne) {
  const CommitResult result =
      catalog_->commit_partition(commit(record("AAPL", "2020", "sha-a"), 0));
  EXPECT_EQ(result.outcome, CommitOutcome::kCreated);
  EXPECT_EQ(result.version, 1);
  auto got = catalog_->get_partition(key("AAPL", "2020"));
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->key, key("AAPL", "2020"));
  EXPECT_EQ(got->version, 1);
  EXPECT_EQ(got->content_sha256, "sha-a");
  EXPECT_EQ(got->row_count, 10);
  EXPECT_EQ(got->object_key, "curated/bars/timeframe=1d/symbol=AAPL/year=2020/data.parquet");
  EXPECT_EQ(got->version_key,
            "_versions/curated/bars/timeframe=1d/symbol=AAPL/year=2020/data.parquet/sha-a");
  EXPECT_EQ(got->min_ts_ns, 100);
  EXPECT_EQ(got->max_ts_ns, 200);
  EXPECT_EQ(got->code_version, "0.1.0");
  EXPECT_GT(got->committed_at_ns, 0);
  EXPECT_TRUE(catalog_->partition_history(got->key).empty());
  EXPECT_FALSE(catalog_->get_partition(key("AAPL", "2021")).has_value());
}

TEST_P(CatalogTest, SameContentIsUnchangedEvenWhenTheVersionMoved) {
  catalog_->commit_partition(commit(record("AAPL", "2020", "sha-a"), 0));
  const auto before = catalog_->get_partition(key("AAPL", "2020"));
  // On the current version.
  CommitResult again = catalog_->commit_partition(commit(record("AAPL", "2020", "sha-a"), 1));
  EXPECT_EQ(again.outcome, CommitOutcome::kUnchanged);
  EXPECT_EQ(again.version, 1);
  // A writer that read no row (expected 0) but produced the same bytes: nothing to do either.
  again = catalog_->commit_partition(commit(record("AAPL", "2020", "sha-a"), 0));
  EXPECT_EQ(again.outcome, CommitOutcome::kUnchanged);
  EXPECT_EQ(again.version, 1);
  // Two versions on: still the committed content.
  catalog_->commit_partition(commit(record("AAPL", "2020", "sha-b"), 1));
  catalog_->commit_partition(commit(record("AAPL", "2020", "sha-c"), 2));
  again = catalog_->commit_partition(commit(record("AAPL", "2020", "sha-c"), 1));
  EXPECT_EQ(again.outcome, CommitOutcome::kUnchanged);
  EXPECT_EQ(again.version, 3);

  const auto after = catalog_->get_partition(key("AAPL", "2020"));
  EXPECT_EQ(after->version, 3);
  EXPECT_EQ(catalog_->partition_history(key("AAPL", "2020")).size(), 2u);
  EXPECT_EQ(before->version, 1);
}

TEST_P(CatalogTest, UnchangedCommitKeepsTheRowAsItWas) {
  catalog_->commit_partition(commit(record("AAPL", "2020", "sha-a"), 0));
  const auto before = catalog_->get_partition(key("AAPL", "2020"));
  auto same = record("AAPL", "2020", "sha-a");
  same.code_version = "0.2.0";  // another build produced the same bytes
  EXPECT_EQ(catalog_->commit_partition(commit(same, 1)).outcome, CommitOutcome::kUnchanged);
  const auto after = catalog_->get_partition(key("AAPL", "2020"));
  EXPECT_EQ(after->committed_at_ns, before->committed_at_ns);
  EXPECT_EQ(after->code_version, "0.1.0");
  EXPECT_TRUE(catalog_->partition_history(key("AAPL", "2020")).empty());
}

TEST_P(CatalogTest, NewContentReplacesAndKeepsTheOldVersion) {
  catalog_->commit_partition(commit(record("AAPL", "2020", "sha-a"), 0));
  CommitResult result = catalog_->commit_partition(commit(record("AAPL", "2020", "sha-b", 11), 1));
  EXPECT_EQ(result.outcome, CommitOutcome::kReplaced);
  EXPECT_EQ(result.version, 2);
  // Same hash, different row count: still a change.
  result = catalog_->commit_partition(commit(record("AAPL", "2020", "sha-b", 12), 2));
  EXPECT_EQ(result.outcome, CommitOutcome::kReplaced);
  EXPECT_EQ(result.version, 3);

  const PartitionKey k = key("AAPL", "2020");
  const auto live = catalog_->get_partition(k);
  EXPECT_EQ(live->version, 3);
  EXPECT_EQ(live->row_count, 12);
  const auto history = catalog_->partition_history(k);
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[0].version, 1);
  EXPECT_EQ(history[0].content_sha256, "sha-a");
  EXPECT_EQ(history[0].row_count, 10);
  EXPECT_EQ(history[0].version_key, record("AAPL", "2020", "sha-a").version_key);
  EXPECT_EQ(history[0].key, k);
  EXPECT_GT(history[0].committed_at_ns, 0);
  EXPECT_EQ(history[1].version, 2);
  EXPECT_EQ(history[1].content_sha256, "sha-b");
  EXPECT_EQ(history[1].row_count, 11);
  EXPECT_LE(history[0].committed_at_ns, history[1].committed_at_ns);
  EXPECT_LE(history[1].committed_at_ns, live->committed_at_ns);
}

// The v2 form of "a publish that refuses records nothing": the writer merged onto a version that
// is no longer current, so the commit is a Conflict and nothing of it is written.
TEST_P(CatalogTest, StaleExpectedVersionIsAConflictAndWritesNothing) {
  catalog_->commit_partition(commit(record("AAPL", "2020", "sha-a"), 0, bars(1, 3),
                                    {{"sim", "bars", "AAPL", "2020-01-03"}}));
  const auto before = catalog_->get_partition(key("AAPL", "2020"));
  const auto hot_before = catalog_->hot_bars("AAPL", "1d");

  // Expected 0 (the writer saw no row), 2 (ahead) or 5: each a Conflict naming the partition.
  for (int64_t expected : {0, 2, 5}) {
    std::string message;
    try {
      catalog_->commit_partition(commit(record("AAPL", "2020", "sha-b"), expected, bars(1, 5, 10),
                                        {{"sim", "bars", "AAPL", "2020-12-31"}}));
      ADD_FAILURE() << "expected " << expected << " must conflict";
    } catch (const Error& e) {
      EXPECT_EQ(e.category(), ErrorCategory::kConflict) << e.what();
      message = e.what();
    }
    EXPECT_THAT(message, HasSubstr("bars/1d/AAPL/2020"));
  }
  // On a partition that has no row, only expected 0 creates it.
  EXPECT_EQ(
      category_of([&] { catalog_->commit_partition(commit(record("AAPL", "2021", "sha-x"), 1)); }),
      ErrorCategory::kConflict);
  EXPECT_FALSE(catalog_->get_partition(key("AAPL", "2021")).has_value());

  const auto after = catalog_->get_partition(key("AAPL", "2020"));
  EXPECT_EQ(after->version, 1);
  EXPECT_EQ(after->content_sha256, "sha-a");
  EXPECT_EQ(after->committed_at_ns, before->committed_at_ns);
  EXPECT_TRUE(catalog_->partition_history(key("AAPL", "2020")).empty());
  EXPECT_EQ(catalog_->hot_bars("AAPL", "1d"), hot_before);
  EXPECT_EQ(catalog_->get_watermark("sim", "bars", "AAPL"), "2020-01-03");
  // Merged again on top of version 1, it goes through.
  EXPECT_EQ(catalog_->commit_partition(commit(record("AAPL", "2020", "sha-b"), 1)).outcome,
            CommitOutcome::kReplaced);
}

TEST_P(CatalogTest, CommitRejectsIncompleteRecords) {
  EXPECT_EQ(category_of([&] { catalog_->commit_partition(commit(record("AAPL", "2020", ""), 0)); }),
            ErrorCategory::kInvalidInput);
  EXPECT_THAT(error_of([&] { catalog_->commit_partition(commit(record("AAPL", "", "sha"), 0)); }),
              HasSubstr("bars/1d/AAPL/"));
  auto no_version_key = record("AAPL", "2020", "sha");
  no_version_key.version_key.clear();
  EXPECT_EQ(category_of([&] { catalog_->commit_partition(commit(no_version_key, 0)); }),
            ErrorCategory::kInvalidInput);
  EXPECT_EQ(
      category_of([&] { catalog_->commit_partition(commit(record("AAPL", "2020", "sha"), -1)); }),
      ErrorCategory::kInvalidInput);
  // A bad watermark refuses the whole group before anything is written.
  EXPECT_EQ(category_of([&] {
              catalog_->commit_partitions({commit(record("AAPL", "2020", "sha"), 0),
                                           commit(record("MSFT", "2020", "sha"), 0, {},
                                                  {{"sim", "bars", "MSFT", "2020-2-1"}})});
            }),
            ErrorCategory::kInvalidInput);
  EXPECT_TRUE(catalog_->list_partitions("bars").empty());
  EXPECT_TRUE(catalog_->commit_partitions({}).empty());
}

TEST_P(CatalogTest, ListPartitionsFiltersAndSortsByBytes) {
  for (const auto& [symbol, partition] : std::vector<std::pair<std::string, std::string>>{
           {"MSFT", "2021"}, {"AAPL", "2021"}, {"MSFT", "2020"}, {"AAPL", "2020"}}) {
    catalog_->commit_partition(commit(record(symbol, partition, "sha"), 0));
  }
  auto other = record("AAPL", "2020", "sha");
  other.key.timeframe = "1h";
  catalog_->commit_partition(commit(other, 0));
  other.key.dataset = "features/basic";
  catalog_->commit_partition(commit(other, 0));

  EXPECT_THAT(names(catalog_->list_partitions("bars", "1d")),
              ElementsAre("AAPL/1d/2020", "AAPL/1d/2021", "MSFT/1d/2020", "MSFT/1d/2021"));
  EXPECT_THAT(names(catalog_->list_partitions("bars", "", "AAPL")),
              ElementsAre("AAPL/1d/2020", "AAPL/1h/2020", "AAPL/1d/2021"));
  EXPECT_THAT(names(catalog_->list_partitions("bars", "1h")), ElementsAre("AAPL/1h/2020"));
  EXPECT_THAT(names(catalog_->list_partitions("features/basic")), ElementsAre("AAPL/1h/2020"));
  EXPECT_TRUE(catalog_->list_partitions("nope").empty());

  // Punctuation sorts by byte value on every backend ('-' < '.' < 'A' < '^'), not by a
  // locale's rules.
  for (const char* symbol : {"^GSPC", "BRKA", "BRK.B", "BRK-A"}) {
    catalog_->commit_partition(commit(record(symbol, "2020", "sha"), 0));
  }
  EXPECT_THAT(names(catalog_->list_partitions("bars", "1d", "")),
              ElementsAre("AAPL/1d/2020", "AAPL/1d/2021", "BRK-A/1d/2020", "BRK.B/1d/2020",
                          "BRKA/1d/2020", "MSFT/1d/2020", "MSFT/1d/2021", "^GSPC/1d/2020"));
  if (postgres()) {
    // Whatever the server's default collation: every text column of the catalog is "C".
    EXPECT_EQ(raw().number("SELECT count(*) FROM information_schema.columns WHERE "
                           "table_schema = current_schema() AND data_type = 'text' AND "
                           "table_name <> 'schema_migrations' AND "
                           "coalesce(collation_name, '') <> 'C'"),
              0);
  }
}

TEST_P(CatalogTest, RestorePartitionSetsTheRowAsFound) {
  auto found = record("AAPL", "2020", "sha-lake");
  found.version = 7;
  found.committed_at_ns = 123456789;
  catalog_->restore_partition(found);
  auto got = catalog_->get_partition(found.key);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->version, 7);
  EXPECT_EQ(got->committed_at_ns, 123456789);
  EXPECT_EQ(got->content_sha256, "sha-lake");
  // No version check, no history.
  found.version = 3;
  found.content_sha256 = "sha-older";
  catalog_->restore_partition(found);
  EXPECT_EQ(catalog_->get_partition(found.key)->version, 3);
  EXPECT_TRUE(catalog_->partition_history(found.key).empty());
  // The next writer merges onto what was restored.
  EXPECT_EQ(
      category_of([&] { catalog_->commit_partition(commit(record("AAPL", "2020", "n"), 7)); }),
      ErrorCategory::kConflict);
  const CommitResult result = catalog_->commit_partition(commit(record("AAPL", "2020", "n"), 3));
  EXPECT_EQ(result.outcome, CommitOutcome::kReplaced);
  EXPECT_EQ(result.version, 4);
  ASSERT_EQ(catalog_->partition_history(found.key).size(), 1u);
  EXPECT_EQ(catalog_->partition_history(found.key)[0].content_sha256, "sha-older");
}

// ---- group commits ----------------------------------------------------------------------------

TEST_P(CatalogTest, GroupCommitAppliesEachInOrder) {
  catalog_->commit_partition(commit(record("MSFT", "2020", "m1"), 0));
  catalog_->commit_partition(commit(record("IBM", "2020", "i1"), 0));
  const auto results = catalog_->commit_partitions({
      commit(record("MSFT", "2020", "m2"), 1),  // replaced
      commit(record("AAPL", "2020", "a1"), 0),  // created
      commit(record("IBM", "2020", "i1"), 1),   // unchanged
      commit(record("AAPL", "2021", "b1"), 0),  // created
  });
  ASSERT_EQ(results.size(), 4u);
  EXPECT_EQ(results[0].outcome, CommitOutcome::kReplaced);
  EXPECT_EQ(results[0].version, 2);
  EXPECT_EQ(results[1].outcome, CommitOutcome::kCreated);
  EXPECT_EQ(results[1].version, 1);
  EXPECT_EQ(results[2].outcome, CommitOutcome::kUnchanged);
  EXPECT_EQ(results[2].version, 1);
  EXPECT_EQ(results[3].outcome, CommitOutcome::kCreated);
  EXPECT_EQ(catalog_->list_partitions("bars").size(), 4u);

  // One partition twice in a group: applied one after the other, in the caller's order.
  const auto twice = catalog_->commit_partitions(
      {commit(record("ZZZ", "2020", "z1"), 0), commit(record("ZZZ", "2020", "z2"), 1)});
  EXPECT_EQ(twice[0].outcome, CommitOutcome::kCreated);
  EXPECT_EQ(twice[1].outcome, CommitOutcome::kReplaced);
  EXPECT_EQ(twice[1].version, 2);
  EXPECT_EQ(catalog_->get_partition(key("ZZZ", "2020"))->content_sha256, "z2");
}

TEST_P(CatalogTest, GroupCommitIsAllOrNothing) {
  catalog_->commit_partition(
      commit(record("MSFT", "2020", "m1"), 0, bars(1, 3), {{"sim", "bars", "MSFT", "2020-01-03"}}));
  catalog_->commit_partition(commit(record("IBM", "2020", "i1"), 0));
  const auto hot_before = catalog_->hot_bars("MSFT", "1d");
  std::string message;
  try {
    catalog_->commit_partitions({
        commit(record("AAPL", "2020", "a1"), 0, bars(1, 2),
               {{"sim", "bars", "AAPL", "2020-12-31"}}),
        commit(record("MSFT", "2020", "m2"), 1, bars(1, 4, 5),
               {{"sim", "bars", "MSFT", "2020-12-31"}}),
        commit(record("IBM", "2020", "i2"), 0),  // stale: IBM is at version 1
    });
    ADD_FAILURE() << "a stale member must fail the group";
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::kConflict);
    message = e.what();
  }
  EXPECT_THAT(message, HasSubstr("bars/1d/IBM/2020"));
  EXPECT_FALSE(catalog_->get_partition(key("AAPL", "2020")).has_value());
  EXPECT_EQ(catalog_->get_partition(key("MSFT", "2020"))->content_sha256, "m1");
  EXPECT_EQ(catalog_->get_partition(key("MSFT", "2020"))->version, 1);
  EXPECT_TRUE(catalog_->partition_history(key("MSFT", "2020")).empty());
  EXPECT_EQ(catalog_->get_partition(key("IBM", "2020"))->content_sha256, "i1");
  EXPECT_TRUE(catalog_->hot_bars("AAPL", "1d").empty());
  EXPECT_EQ(catalog_->hot_bars("MSFT", "1d"), hot_before);
  EXPECT_FALSE(catalog_->get_watermark("sim", "bars", "AAPL").has_value());
  EXPECT_EQ(catalog_->get_watermark("sim", "bars", "MSFT"), "2020-01-03");
}

// ---- hot cache --------------------------------------------------------------------------------

TEST_P(CatalogTest, HotCacheHoldsTheCommittedRowsExactly) {
  std::vector<HotBar> rows = bars(18'000, 18'006);
  rows[1].close = 0.1;
  rows[2].open = 1.0 / 3.0;
  rows[3].volume = 123456789.123456789;
  rows[4].high = 1e300;
  rows[5].low = -2.5e-300;
  rows[6].trades = INT64_MAX;
  rows[0].vwap = std::nullopt;
  rows[0].trades = std::nullopt;
  rows[0].source = "csv";
  rows[0].raw_id = "raw/csv/bars/symbol=AAPL/fetched=2024-01-02/abc.csv";
  catalog_->commit_partition(commit(record("AAPL", "2019", "sha"), 0, rows));
  EXPECT_EQ(catalog_->hot_bars("AAPL", "1d"), rows);
  // A time range, both ends inclusive.
  EXPECT_THAT(days_of(catalog_->hot_bars("AAPL", "1d", rows[2].ts_ns, rows[4].ts_ns)),
              ElementsAre(18'002, 18'003, 18'004));
  EXPECT_TRUE(catalog_->hot_bars("AAPL", "1d", rows[6].ts_ns + 1).empty());
  // Per symbol and timeframe.
  EXPECT_TRUE(catalog_->hot_bars("AAPL", "1h").empty());
  EXPECT_TRUE(catalog_->hot_bars("MSFT", "1d").empty());
  EXPECT_EQ(catalog_->hot_cache_sessions(), 300);
}

// The cache is the newest N rows of everything committed, whatever order partitions arrive in.
TEST_P(CatalogTest, HotCacheKeepsTheNewestRowsAfterCommitsOutOfOrder) {
  CatalogOptions options;
  options.hot_cache_sessions = 5;
  auto c = open(options);
  EXPECT_EQ(c->hot_cache_sessions(), 5);
  c->commit_partition(commit(record("AAPL", "2021", "b"), 0, bars(400, 403)));  // 4 rows
  EXPECT_THAT(days_of(c->hot_bars("AAPL", "1d")), ElementsAre(400, 401, 402, 403));
  c->commit_partition(commit(record("AAPL", "2020", "a"), 0, bars(100, 110)));  // older
  EXPECT_THAT(days_of(c->hot_bars("AAPL", "1d")), ElementsAre(110, 400, 401, 402, 403));
  c->commit_partition(commit(record("AAPL", "2019", "z"), 0, bars(1, 3)));  // all too old
  EXPECT_THAT(days_of(c->hot_bars("AAPL", "1d")), ElementsAre(110, 400, 401, 402, 403));
  c->commit_partition(commit(record("AAPL", "2022", "c"), 0, bars(700, 702)));  // newer
  EXPECT_THAT(days_of(c->hot_bars("AAPL", "1d")), ElementsAre(402, 403, 700, 701, 702));

  // A replaced partition brings new values for its days (and new days).
  c->commit_partition(commit(record("AAPL", "2021", "b2"), 1, bars(400, 404, 0.5)));
  const auto rows = c->hot_bars("AAPL", "1d");
  EXPECT_THAT(days_of(rows), ElementsAre(403, 404, 700, 701, 702));
  EXPECT_EQ(rows[0], bar(403, 403.5));
  EXPECT_EQ(rows[1], bar(404, 404.5));
  EXPECT_EQ(rows[2], bar(700, 700));

  // An unchanged commit (same content) does not touch the cache, whatever rows it carries.
  c->commit_partition(commit(record("AAPL", "2022", "c"), 1, bars(700, 702, 99)));
  EXPECT_EQ(c->hot_bars("AAPL", "1d"), rows);

  // A group that touches one symbol twice merges both.
  c->commit_partitions({commit(record("AAPL", "2023", "d"), 0, bars(800, 801)),
                        commit(record("AAPL", "2024", "e"), 0, bars(900, 901))});
  EXPECT_THAT(days_of(c->hot_bars("AAPL", "1d")), ElementsAre(702, 800, 801, 900, 901));
  // The other catalog object (default 300 sessions) reads the same cache.
  EXPECT_EQ(catalog_->hot_bars("AAPL", "1d"), c->hot_bars("AAPL", "1d"));
}

TEST_P(CatalogTest, HotCacheOffWithZeroSessions) {
  CatalogOptions options;
  options.hot_cache_sessions = 0;
  auto c = open(options);
  EXPECT_EQ(c->hot_cache_sessions(), 0);
  c->commit_partition(commit(record("AAPL", "2020", "a"), 0, bars(1, 10)));
  EXPECT_TRUE(c->hot_bars("AAPL", "1d").empty());
  c->replace_hot_bars("AAPL", "1d", bars(1, 10));
  EXPECT_TRUE(c->hot_bars("AAPL", "1d").empty());
  // A catalog with the cache on filled it; one with it off empties what it commits over.
  catalog_->commit_partition(commit(record("MSFT", "2020", "m"), 0, bars(1, 10)));
  EXPECT_EQ(c->hot_bars("MSFT", "1d").size(), 10u);
  c->commit_partition(commit(record("MSFT", "2020", "m2"), 1, bars(1, 11)));
  EXPECT_TRUE(c->hot_bars("MSFT", "1d").empty());
}

TEST_P(CatalogTest, ReplaceHotBarsReplacesTheWholeCacheAndKeepsTheNewest) {
  CatalogOptions options;
  options.hot_cache_sessions = 3;
  auto c = open(options);
  c->commit_partition(commit(record("AAPL", "2020", "a"), 0, bars(10, 20)));
  c->commit_partition(commit(record("MSFT", "2020", "m"), 0, bars(10, 20)));
  c->replace_hot_bars("AAPL", "1d", bars(1, 5, 0.25));
  EXPECT_THAT(days_of(c->hot_bars("AAPL", "1d")), ElementsAre(3, 4, 5));
  EXPECT_EQ(c->hot_bars("AAPL", "1d")[0], bar(3, 3.25));
  EXPECT_THAT(days_of(c->hot_bars("MSFT", "1d")), ElementsAre(18, 19, 20));  // untouched
  c->replace_hot_bars("AAPL", "1d", {});
  EXPECT_TRUE(c->hot_bars("AAPL", "1d").empty());
}

// ---- watermarks -------------------------------------------------------------------------------

TEST_P(CatalogTest, WatermarksOnlyAdvance) {
  EXPECT_FALSE(catalog_->get_watermark("sim", "bars", "AAPL").has_value());
  catalog_->advance_watermark({"sim", "bars", "AAPL", "2020-06-30"});
  EXPECT_EQ(catalog_->get_watermark("sim", "bars", "AAPL"), "2020-06-30");
  catalog_->advance_watermark({"sim", "bars", "AAPL", "2020-01-31"});  // older: ignored
  EXPECT_EQ(catalog_->get_watermark("sim", "bars", "AAPL"), "2020-06-30");
  catalog_->advance_watermark({"sim", "bars", "AAPL", "2020-12-31"});
  EXPECT_EQ(catalog_->get_watermark("sim", "bars", "AAPL"), "2020-12-31");
  EXPECT_FALSE(catalog_->get_watermark("sim", "bars", "MSFT").has_value());
  EXPECT_FALSE(catalog_->get_watermark("csv", "bars", "AAPL").has_value());
  EXPECT_FALSE(catalog_->get_watermark("sim", "features", "AAPL").has_value());
  for (const char* bad : {"2021-2-1", "2021-02-30", "", "20210201"}) {
    EXPECT_EQ(category_of([&] {
                catalog_->advance_watermark({"sim", "bars", "AAPL", bad});
              }),
              ErrorCategory::kInvalidInput)
        << bad;
  }
  EXPECT_EQ(catalog_->get_watermark("sim", "bars", "AAPL"), "2020-12-31");
}

TEST_P(CatalogTest, WatermarksAdvanceWithASuccessfulCommitOnly) {
  catalog_->commit_partition(
      commit(record("AAPL", "2020", "a"), 0, {}, {{"sim", "bars", "AAPL", "2020-06-30"}}));
  EXPECT_EQ(catalog_->get_watermark("sim", "bars", "AAPL"), "2020-06-30");
  // Unchanged content still advances (the payload was fully ingested).
  catalog_->commit_partition(
      commit(record("AAPL", "2020", "a"), 1, {}, {{"sim", "bars", "AAPL", "2020-07-31"}}));
  EXPECT_EQ(catalog_->get_watermark("sim", "bars", "AAPL"), "2020-07-31");
  // Never backwards.
  catalog_->commit_partition(
      commit(record("AAPL", "2020", "b"), 1, {}, {{"sim", "bars", "AAPL", "2020-01-31"}}));
  EXPECT_EQ(catalog_->get_watermark("sim", "bars", "AAPL"), "2020-07-31");
  // A conflict advances nothing.
  EXPECT_EQ(category_of([&] {
              catalog_->commit_partition(commit(
                  record("AAPL", "2020", "c"), 1, {},
                  {{"sim", "bars", "AAPL", "2020-12-31"}, {"sim", "bars", "MSFT", "2020-12-31"}}));
            }),
            ErrorCategory::kConflict);
  EXPECT_EQ(catalog_->get_watermark("sim", "bars", "AAPL"), "2020-07-31");
  EXPECT_FALSE(catalog_->get_watermark("sim", "bars", "MSFT").has_value());
  // Several watermarks in one group, the same key twice: the newest stands.
  catalog_->commit_partitions(
      {commit(record("AAPL", "2021", "d"), 0, {}, {{"sim", "bars", "AAPL", "2021-03-31"}}),
       commit(record("MSFT", "2021", "e"), 0, {},
              {{"sim", "bars", "MSFT", "2021-02-28"}, {"sim", "bars", "AAPL", "2021-01-31"}})});
  EXPECT_EQ(catalog_->get_watermark("sim", "bars", "AAPL"), "2021-03-31");
  EXPECT_EQ(catalog_->get_watermark("sim", "bars", "MSFT"), "2021-02-28");
}

// ---- raw objects ------------------------------------------------------------------------------

TEST_P(CatalogTest, RawObjectsInsertOnceWithEveryField) {
  RawObjectRecord r{"raw/vendor=sim/dataset=bars/symbol=AAPL/fetched=2024-01-02/abc.csv",
                    "sim",
                    "bars",
                    "AAPL",
                    "abc",
                    123,
                    "2024-01-02",
                    R"({"timeframe":"1d"})",
                    1'704'200'000'123'456'789,
                    "task-7",
                    "2023-01-01",
                    "2023-12-31"};
  EXPECT_TRUE(catalog_->record_raw_object(r));
  auto second = r;
  second.size = 999;  // the first record stands
  EXPECT_FALSE(catalog_->record_raw_object(second));
  EXPECT_EQ(catalog_->get_raw_object(r.object_key), r);
  EXPECT_FALSE(catalog_->get_raw_object("raw/missing").has_value());

  RawObjectRecord multi{"raw/vendor=csv/dataset=bars/symbol=_/fetched=2024-01-02/def.csv",
                        "csv",
                        "bars",
                        "",
                        "def",
                        9,
                        "2024-01-02",
                        "{}",
                        5,
                        "",
                        "",
                        ""};
  EXPECT_TRUE(catalog_->record_raw_object(multi));
  EXPECT_EQ(catalog_->get_raw_object(multi.object_key), multi);
  EXPECT_EQ(catalog_->list_raw_objects().size(), 2u);
  EXPECT_THAT(catalog_->list_raw_objects("sim"), ElementsAre(r));
  EXPECT_THAT(catalog_->list_raw_objects("", "AAPL"), ElementsAre(r));
  EXPECT_TRUE(catalog_->list_raw_objects("csv", "AAPL").empty());
  EXPECT_EQ(category_of([&] {
              catalog_->record_raw_object(
                  {"", "sim", "bars", "", "x", 1, "2024-01-02", "{}", 0, "", "", ""});
            }),
            ErrorCategory::kInvalidInput);
}

TEST_P(CatalogTest, RawObjectsListInFetchOrderAndByTask) {
  // Recorded in another order than fetched; two with the same fetch time order by key.
  const std::vector<std::pair<std::string, int64_t>> objects{
      {"raw/d", 300}, {"raw/b", 100}, {"raw/c", 200}, {"raw/a", 200}, {"raw/e", -5}};
  for (const auto& [object_key, fetched_at] : objects) {
    RawObjectRecord r{object_key,   "sim",
                      "bars",       "AAPL",
                      "sha",        1,
                      "2024-01-02", "{}",
                      fetched_at,   object_key < "raw/c" ? "task-1" : "task-2",
                      "",           ""};
    ASSERT_TRUE(catalog_->record_raw_object(r));
  }
  std::vector<std::string> keys;
  for (const auto& r : catalog_->list_raw_objects()) keys.push_back(r.object_key);
  EXPECT_THAT(keys, ElementsAre("raw/e", "raw/b", "raw/a", "raw/c", "raw/d"));

  keys.clear();
  for (const auto& r : catalog_->raw_objects_of_task("task-1")) keys.push_back(r.object_key);
  EXPECT_THAT(keys, ElementsAre("raw/a", "raw/b"));
  EXPECT_EQ(catalog_->raw_objects_of_task("task-2").size(), 3u);
  EXPECT_TRUE(catalog_->raw_objects_of_task("task-9").empty());
  EXPECT_TRUE(catalog_->raw_objects_of_task("").empty());  // local files have no task
}

// ---- runs, enums, tasks -----------------------------------------------------------------------

TEST_P(CatalogTest, RunsStartAndFinish) {
  catalog_->start_run({"run-1", "ingest", R"({"vendor":"sim"})", RunStatus::kRunning, "", 0, 0});
  auto run = catalog_->get_run("run-1");
  ASSERT_TRUE(run.has_value());
  EXPECT_EQ(run->run_id, "run-1");
  EXPECT_EQ(run->kind, "ingest");
  EXPECT_EQ(run->status, RunStatus::kRunning);
  EXPECT_EQ(run->params_json, R"({"vendor":"sim"})");
  EXPECT_GT(run->started_at_ns, 0);
  EXPECT_EQ(run->finished_at_ns, 0);

  catalog_->finish_run("run-1", RunStatus::kOk, R"({"rows":5})");
  run = catalog_->get_run("run-1");
  EXPECT_EQ(run->status, RunStatus::kOk);
  EXPECT_EQ(run->stats_json, R"({"rows":5})");
  EXPECT_GE(run->finished_at_ns, run->started_at_ns);

  // A given start time is kept.
  catalog_->start_run({"run-3", "etl", "{}", RunStatus::kRunning, "", 42, 0});
  EXPECT_EQ(catalog_->get_run("run-3")->started_at_ns, 42);

  EXPECT_FALSE(catalog_->get_run("run-2").has_value());
  EXPECT_EQ(category_of([&] { catalog_->finish_run("run-2", RunStatus::kOk, "{}"); }),
            ErrorCategory::kNotFound);
  EXPECT_EQ(category_of([&] {
              catalog_->start_run({"run-1", "etl", "{}", RunStatus::kRunning, "", 0, 0});
            }),
            ErrorCategory::kConflict);
  EXPECT_EQ(catalog_->get_run("run-1")->kind, "ingest");
  EXPECT_EQ(category_of([&] {
              catalog_->start_run({"", "etl", "{}", RunStatus::kRunning, "", 0, 0});
            }),
            ErrorCategory::kInvalidInput);
}

TEST_P(CatalogTest, EnumsRoundTripThroughTheirStoredNames) {
  // Persistent names (schema.hpp): a rename would orphan stored rows.
  const std::vector<std::pair<RunStatus, std::string>> runs{
      {RunStatus::kRunning, "running"},
      {RunStatus::kOk, "ok"},
      {RunStatus::kFailed, "failed"},
      {RunStatus::kInterrupted, "interrupted"}};
  for (const auto& [status, name] : runs) {
    EXPECT_EQ(to_string(status), name);
    EXPECT_EQ(parse_run_status(name), status);
    catalog_->start_run({"run-" + name, "ingest", "{}", status, "{}", 1, 0});
    EXPECT_EQ(catalog_->get_run("run-" + name)->status, status);
    EXPECT_EQ(raw().text("SELECT status FROM runs WHERE run_id = 'run-" + name + "'"), name);
  }
  catalog_->finish_run("run-running", RunStatus::kInterrupted, "{}");
  EXPECT_EQ(catalog_->get_run("run-running")->status, RunStatus::kInterrupted);

  const std::vector<std::pair<OrderStatus, std::string>> orders{
      {OrderStatus::kNew, "new"},           {OrderStatus::kAccepted, "accepted"},
      {OrderStatus::kFilled, "filled"},     {OrderStatus::kDenied, "denied"},
      {OrderStatus::kRejected, "rejected"}, {OrderStatus::kCancelled, "cancelled"}};
  for (const auto& [status, name] : orders) {
    EXPECT_EQ(to_string(status), name);
    EXPECT_EQ(parse_order_status(name), status);
    OrderRecord o;
    o.client_order_id = "o-" + name;
    o.symbol = "AAPL";
    o.side = status == OrderStatus::kNew ? Side::kSell : Side::kBuy;
    o.qty = Micros::parse("1");
    o.status = status;
    ASSERT_TRUE(catalog_->insert_order_if_absent(o));
    EXPECT_EQ(catalog_->get_order(o.client_order_id)->status, status);
    EXPECT_EQ(catalog_->get_order(o.client_order_id)->side, o.side);
  }
  catalog_->update_order("o-new", OrderStatus::kCancelled, "user", "");
  EXPECT_EQ(catalog_->get_order("o-new")->status, OrderStatus::kCancelled);
  EXPECT_EQ(raw().text("SELECT side FROM ledger_orders WHERE client_order_id = 'o-new'"), "sell");
  EXPECT_EQ(raw().text("SELECT status FROM ledger_orders WHERE client_order_id = 'o-new'"),
            "cancelled");

  EXPECT_EQ(to_string(Side::kBuy), "buy");
  EXPECT_EQ(to_string(Side::kSell), "sell");
  EXPECT_EQ(parse_side("sell"), Side::kSell);
  EXPECT_EQ(sign_of(Side::kBuy), 1);
  EXPECT_EQ(sign_of(Side::kSell), -1);
  EXPECT_THAT(error_of([] { parse_side("hold"); }), HasSubstr("buy, sell"));
  EXPECT_EQ(category_of([] { parse_run_status("done"); }), ErrorCategory::kInvalidInput);
  EXPECT_EQ(category_of([] { parse_order_status("Filled"); }), ErrorCategory::kInvalidInput);
}

TEST_P(CatalogTest, TasksDoneAreIdempotent) {
  EXPECT_FALSE(catalog_->is_task_done("t1"));
  EXPECT_TRUE(catalog_->mark_task_done("t1", "run-1"));
  EXPECT_FALSE(catalog_->mark_task_done("t1", "run-1"));  // redelivered
  EXPECT_FALSE(catalog_->mark_task_done("t1", "run-2"));  // re-run: the first record stands
  EXPECT_TRUE(catalog_->mark_task_done("t2", "run-1"));
  EXPECT_TRUE(catalog_->mark_task_done("t3", "run-2"));
  EXPECT_TRUE(catalog_->is_task_done("t1"));
  EXPECT_FALSE(catalog_->is_task_done("t9"));
  EXPECT_EQ(catalog_->count_tasks_done("run-1"), 2);
  EXPECT_EQ(catalog_->count_tasks_done("run-2"), 1);
  EXPECT_EQ(catalog_->count_tasks_done("run-9"), 0);
  EXPECT_EQ(category_of([&] { catalog_->mark_task_done("", "run-1"); }),
            ErrorCategory::kInvalidInput);
}

TEST_P(CatalogTest, RunsAreListedNewestFirstByKind) {
  catalog_->start_run({"a", "ingest", "{}", RunStatus::kRunning, "", 10, 0});
  catalog_->start_run({"b", "backtest", "{}", RunStatus::kRunning, "", 30, 0});
  catalog_->start_run({"c", "ingest", "{}", RunStatus::kRunning, "", 20, 0});
  catalog_->finish_run("c", RunStatus::kOk, R"({"rows":1})");
  auto ids = [](const std::vector<RunRecord>& runs) {
    std::vector<std::string> out;
    for (const auto& r : runs) out.push_back(r.run_id);
    return out;
  };
  EXPECT_EQ(ids(catalog_->list_runs("", 10)), (std::vector<std::string>{"b", "c", "a"}));
  EXPECT_EQ(ids(catalog_->list_runs("ingest", 10)), (std::vector<std::string>{"c", "a"}));
  EXPECT_EQ(ids(catalog_->list_runs("", 1)), (std::vector<std::string>{"b"}));
  EXPECT_TRUE(catalog_->list_runs("trade", 10).empty());
  const auto c = catalog_->list_runs("ingest", 1).at(0);
  EXPECT_EQ(c.status, RunStatus::kOk);
  EXPECT_EQ(c.stats_json, R"({"rows":1})");
}

TEST_P(CatalogTest, TaskThroughputCountsTasksDonePerBucket) {
  for (const char* id : {"a", "b", "c", "d"}) ASSERT_TRUE(catalog_->mark_task_done(id, "run-1"));
  // Pin the times: two in the hour from 10:00, one at 12:30, one long before.
  const int64_t hour = int64_t{3600} * 1'000'000'000, base = 1'700'000'000 / 3600 * hour;
  raw().exec(fmt::format("UPDATE tasks_done SET done_at_ns = {} WHERE task_id = 'a'", base + 10 * hour + 1));
  raw().exec(fmt::format("UPDATE tasks_done SET done_at_ns = {} WHERE task_id = 'b'", base + 10 * hour + hour - 1));
  raw().exec(fmt::format("UPDATE tasks_done SET done_at_ns = {} WHERE task_id = 'c'", base + 12 * hour + hour / 2));
  raw().exec(fmt::format("UPDATE tasks_done SET done_at_ns = {} WHERE task_id = 'd'", base - 100 * hour));
  const auto t = catalog_->task_throughput(base, hour);
  EXPECT_EQ(t.total, 4);
  using Bucket = std::pair<int64_t, int64_t>;
  EXPECT_EQ(t.buckets, (std::vector<Bucket>{{base + 10 * hour, 2}, {base + 12 * hour, 1}}));
  EXPECT_TRUE(catalog_->task_throughput(INT64_MAX, hour).buckets.empty());
  EXPECT_EQ(catalog_->task_throughput(INT64_MAX, hour).total, 4);
  EXPECT_EQ(category_of([&] { catalog_->task_throughput(0, 0); }), ErrorCategory::kInvalidInput);
}

// ---- data quality -----------------------------------------------------------------------------

TEST_P(CatalogTest, DqCountsAreReplacedPerRawObjectAndSummarised) {
  catalog_->replace_dq("raw/a", "bars",
                       {{"AAPL", {{"high_below_low", 2}, {"negative_volume", 4}}},
                        {"MSFT", {{"high_below_low", 1}}}},
                       "run-1");
  catalog_->replace_dq("raw/b", "bars", {{"AAPL", {{"high_below_low", 10}}}}, "run-2");
  catalog_->replace_dq("raw/b", "features/basic", {{"AAPL", {{"nan", 7}}}}, "run-2");

  auto one = catalog_->dq_summary("run-1");
  ASSERT_EQ(one.size(), 2u);
  EXPECT_EQ(one[0].run_id, "run-1");
  EXPECT_EQ(one[0].dataset, "bars");
  EXPECT_EQ(one[0].rule, "high_below_low");
  EXPECT_EQ(one[0].rows, 3);
  EXPECT_EQ(one[1].rule, "negative_volume");
  EXPECT_EQ(one[1].rows, 4);

  auto all = catalog_->dq_summary();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].rule, "high_below_low");
  EXPECT_EQ(all[0].rows, 13);
  EXPECT_EQ(all[1].rule, "negative_volume");
  EXPECT_EQ(all[2].dataset, "features/basic");
  EXPECT_EQ(all[2].rows, 7);
  EXPECT_TRUE(catalog_->dq_summary("run-9").empty());

  // Redelivery of raw/a (another run) recounts it: replaced, not added; what is absent or zero
  // drops out; the recount belongs to the run that made it.
  catalog_->replace_dq("raw/a", "bars", {{"AAPL", {{"high_below_low", 2}, {"negative_volume", 0}}}},
                       "run-3");
  EXPECT_TRUE(catalog_->dq_summary("run-1").empty());
  auto recount = catalog_->dq_summary("run-3");
  ASSERT_EQ(recount.size(), 1u);
  EXPECT_EQ(recount[0].rows, 2);
  all = catalog_->dq_summary();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].rows, 12);  // 2 (raw/a) + 10 (raw/b)
  EXPECT_EQ(raw().number("SELECT count(*) FROM dq_counts WHERE raw_object = 'raw/a'"), 1);
  // Replacing a dataset leaves the payload's other datasets alone.
  catalog_->replace_dq("raw/b", "bars", {}, "run-4");
  all = catalog_->dq_summary();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].rows, 2);
  EXPECT_EQ(all[1].dataset, "features/basic");

  EXPECT_EQ(category_of([&] { catalog_->replace_dq("", "bars", {}, "run-5"); }),
            ErrorCategory::kInvalidInput);
  EXPECT_EQ(category_of([&] {
              catalog_->replace_dq("raw/c", "bars", {{"A", {{"r", -1}}}}, "r");
            }),
            ErrorCategory::kInvalidInput);
  EXPECT_EQ(category_of([&] {
              catalog_->replace_dq("raw/c", "bars", {{"A", {{"", 1}}}}, "r");
            }),
            ErrorCategory::kInvalidInput);
  EXPECT_EQ(catalog_->dq_summary().size(), 2u);
}

}  // namespace
}  // namespace trib::catalog

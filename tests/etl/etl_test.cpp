// The ETL against a real SQLite catalog and a real local lake, with failing catalogs wrapped
// around the real one to inject races and crashes at the commit point.
#include <gtest/gtest.h>

#include <filesystem>

#include <unistd.h>

#include "trib/core/calendar.hpp"
#include "trib/core/error.hpp"
#include "trib/core/hash.hpp"
#include "trib/etl/bars_reader.hpp"
#include "trib/etl/etl.hpp"
#include "trib/lake/layout.hpp"

namespace fs = std::filesystem;
using namespace trib;

namespace {

Bar bar(const char* date, double close) {
  Bar b;
  b.session_date = Date::parse(date);
  b.ts_ns = TradingCalendar::nyse().session_open_ts_ns(b.session_date);
  b.open = close - 0.5, b.high = close + 1, b.low = close - 1, b.close = close, b.volume = 1000;
  return b;
}

ingest::FetchedRaw payload(const std::string& raw_id, std::vector<Bar> bars,
                           std::vector<providers::ParseFinding> findings = {}) {
  ingest::FetchedRaw f;
  f.vendor = "test";
  f.symbol = Symbol::parse("ABC");
  f.raw.sha256 = raw_id;
  f.run_id = "run-1";
  f.parsed.bars[f.symbol] = std::move(bars);
  f.parsed.findings = std::move(findings);
  return f;
}

// Delegates everything to a real catalog except commit_partition, which tests can sabotage.
class SabotagedCatalog : public catalog::Catalog {
 public:
  explicit SabotagedCatalog(catalog::Catalog& real) : real_(real) {}
  std::function<void()> before_commit;                // runs before delegating
  bool crash_after_publish = false;                   // publish, then "die" before recording
  void migrate() override { real_.migrate(); }
  int schema_version() override { return real_.schema_version(); }
  void upsert_instrument(const std::string& s, const std::string& v, const std::string& c) override { real_.upsert_instrument(s, v, c); }
  std::vector<std::string> list_instruments() override { return real_.list_instruments(); }
  std::optional<catalog::PartitionRecord> get_partition(const catalog::PartitionKey& k) override { return real_.get_partition(k); }
  std::vector<catalog::PartitionRecord> list_partitions(const std::string& d, const std::string& t, const std::string& s) override { return real_.list_partitions(d, t, s); }
  catalog::CommitOutcome commit_partition(
      const catalog::PartitionRecord& record,
      const std::function<void(const std::optional<catalog::PartitionRecord>&)>& publish) override {
    if (before_commit) {
      auto hook = std::move(before_commit);
      before_commit = nullptr;
      hook();
    }
    if (crash_after_publish) {
      publish(real_.get_partition(record.key));
      throw Error::Internal("simulated crash after publish, before the catalog commit");
    }
    return real_.commit_partition(record, publish);
  }
  bool record_raw_object(const catalog::RawObjectRecord& r) override { return real_.record_raw_object(r); }
  std::vector<catalog::RawObjectRecord> list_raw_objects(const std::string& v, const std::string& s) override { return real_.list_raw_objects(v, s); }
  void start_run(const catalog::RunRecord& r) override { real_.start_run(r); }
  void finish_run(const std::string& id, const std::string& st, const std::string& js) override { real_.finish_run(id, st, js); }
  std::optional<catalog::RunRecord> get_run(const std::string& id) override { return real_.get_run(id); }
  std::optional<std::string> get_watermark(const std::string& v, const std::string& d, const std::string& s) override { return real_.get_watermark(v, d, s); }
  void advance_watermark(const std::string& v, const std::string& d, const std::string& s, const std::string& date) override { real_.advance_watermark(v, d, s, date); }
  void record_dq(const catalog::DqResult& r) override { real_.record_dq(r); }
  std::vector<catalog::DqResult> dq_summary(const std::string& id) override { return real_.dq_summary(id); }
  bool insert_order_if_absent(const catalog::OrderRecord& o) override { return real_.insert_order_if_absent(o); }
  std::optional<catalog::OrderRecord> get_order(const std::string& id) override { return real_.get_order(id); }
  void update_order(const std::string& id, const std::string& s, const std::string& r, const std::string& b) override { real_.update_order(id, s, r, b); }
  std::vector<catalog::OrderRecord> list_orders(const std::string& s) override { return real_.list_orders(s); }
  bool apply_fill(const std::string& a, const catalog::FillRecord& f) override { return real_.apply_fill(a, f); }
  std::vector<catalog::FillRecord> list_fills(const std::string& id) override { return real_.list_fills(id); }
  std::optional<catalog::PositionRecord> get_position(const std::string& a, const std::string& s) override { return real_.get_position(a, s); }
  std::vector<catalog::PositionRecord> list_positions(const std::string& a) override { return real_.list_positions(a); }
  double account_cash(const std::string& a, double c) override { return real_.account_cash(a, c); }

 private:
  catalog::Catalog& real_;
};

class EtlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("trib-etl-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    store_ = lake::open_local_store(dir_ / "lake");
    catalog_ = catalog::open_sqlite_catalog(dir_ / "catalog.db");
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::vector<lake::CuratedBar> read(const char* from = nullptr, const char* to = nullptr) {
    etl::BarsQuery q;
    q.symbol = Symbol::parse("ABC");
    if (from) q.from = Date::parse(from);
    if (to) q.to = Date::parse(to);
    return etl::read_curated_bars(*store_, *catalog_, q);
  }

  fs::path dir_;
  std::unique_ptr<lake::ObjectStore> store_;
  std::unique_ptr<catalog::Catalog> catalog_;
};

}  // namespace

TEST_F(EtlTest, MergesIdempotentlyAcrossPartitions) {
  etl::EtlEngine engine(*store_, *catalog_);
  auto first = engine.apply(payload("r1", {bar("2019-12-30", 100), bar("2019-12-31", 101),
                                           bar("2020-01-02", 102), bar("2020-01-03", 103)}));
  EXPECT_EQ(first.partitions_created, 2);
  EXPECT_EQ(first.rows_accepted, 4);
  const std::string key2020 = lake::curated_bars_key(Timeframe::kDay1, Symbol::parse("ABC"), "2020");
  const std::string bytes = store_->get(key2020);

  auto again = engine.apply(payload("r1", {bar("2019-12-30", 100), bar("2019-12-31", 101),
                                           bar("2020-01-02", 102), bar("2020-01-03", 103)}));
  EXPECT_EQ(again.partitions_unchanged, 2);
  EXPECT_EQ(again.partitions_created + again.partitions_replaced, 0);
  EXPECT_EQ(store_->get(key2020), bytes) << "byte-identical after a redelivery";
  EXPECT_EQ(catalog_->get_partition({"bars", "1d", "ABC", "2020"})->version, 1);

  // A later payload revises one bar and adds one: the newer fetch wins, the rest stays.
  auto revised = engine.apply(payload("r2", {bar("2020-01-03", 103.5), bar("2020-01-06", 104)}));
  EXPECT_EQ(revised.partitions_replaced, 1);
  auto rows = read("2020-01-01");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].bar.close, 102);
  EXPECT_EQ(rows[0].raw_id, "r1");
  EXPECT_EQ(rows[1].bar.close, 103.5);
  EXPECT_EQ(rows[1].raw_id, "r2");
  EXPECT_EQ(rows[2].bar.session_date.to_string(), "2020-01-06");
  auto record = catalog_->get_partition({"bars", "1d", "ABC", "2020"});
  EXPECT_EQ(record->version, 2);
  EXPECT_EQ(record->row_count, 3);
  // The replaced version is kept outside the globbed tree.
  EXPECT_EQ(store_->get(lake::version_key(key2020, 1, sha256_hex(bytes))), bytes);
  EXPECT_EQ(read().size(), 5u);
  EXPECT_EQ(read("2019-12-31", "2020-01-02").size(), 2u);
}

TEST_F(EtlTest, QuarantinesBadRowsWithReasonsAndCountsThem) {
  etl::EtlEngine engine(*store_, *catalog_);
  Bar bad = bar("2020-01-03", 103);
  bad.low = 200;  // above the close
  auto stats = engine.apply(payload("r1", {bar("2020-01-02", 102), bad},
                                    {{7, "bad_number", "column 'Close': 'x' is not a number", "2020-01-06,1,2,1,x,5"}}));
  EXPECT_EQ(stats.rows_in, 3);
  EXPECT_EQ(stats.rows_accepted, 1);
  EXPECT_EQ(stats.rows_quarantined, 2);
  EXPECT_EQ(stats.quarantined_by_rule.at("ohlc_inconsistent"), 1);
  EXPECT_EQ(stats.quarantined_by_rule.at("bad_number"), 1);
  auto files = store_->list("quarantine/");
  ASSERT_EQ(files.size(), 1u);
  parquet::Reader reader(parquet::memory_source(store_->get(files[0])));
  EXPECT_EQ(reader.metadata().num_rows, 2);
  int64_t total = 0;
  for (const auto& r : catalog_->dq_summary("run-1")) total += r.rows;
  EXPECT_EQ(total, 2);
}

TEST_F(EtlTest, ConcurrentCommitBetweenReadAndCommitIsAConflictNotALostUpdate) {
  SabotagedCatalog sabotaged(*catalog_);
  etl::EtlEngine engine(*store_, sabotaged);
  engine.apply(payload("r1", {bar("2020-01-02", 102)}));
  // Another writer commits r2 after our engine has read version 1 but before it commits.
  sabotaged.before_commit = [&] {
    etl::EtlEngine other(*store_, *catalog_);
    other.apply(payload("r2", {bar("2020-01-03", 103)}));
  };
  try {
    engine.apply(payload("r3", {bar("2020-01-06", 104)}));
    FAIL() << "expected a conflict";
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::kConflict);
    EXPECT_TRUE(e.retryable());
  }
  // The retry (the queue redelivers) merges on top of the other writer's commit.
  engine.apply(payload("r3", {bar("2020-01-06", 104)}));
  EXPECT_EQ(read().size(), 3u);
}

TEST_F(EtlTest, CrashAfterTheFileIsReplacedButBeforeTheCommitLosesNothing) {
  SabotagedCatalog sabotaged(*catalog_);
  etl::EtlEngine engine(*store_, sabotaged);
  engine.apply(payload("r1", {bar("2020-01-02", 102)}));
  sabotaged.crash_after_publish = true;
  EXPECT_THROW(engine.apply(payload("r2", {bar("2020-01-03", 103)})), Error);
  // The live file holds r2's uncommitted merge; the catalog still says version 1.
  EXPECT_EQ(catalog_->get_partition({"bars", "1d", "ABC", "2020"})->version, 1);
  sabotaged.crash_after_publish = false;
  // A different payload arrives before r2 is retried: it must merge onto the committed version,
  // not onto r2's uncommitted file.
  engine.apply(payload("r3", {bar("2020-01-06", 104)}));
  auto rows = read();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1].raw_id, "r3");
  // r2's redelivery then lands on top.
  engine.apply(payload("r2", {bar("2020-01-03", 103)}));
  EXPECT_EQ(read().size(), 3u);
}

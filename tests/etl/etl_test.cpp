// The ETL against a real SQLite catalog and a real local lake, with a catalog wrapped around the
// real one to inject races and crashes at the commit point.
#include <gtest/gtest.h>

#include <filesystem>
#include <algorithm>
#include <cmath>
#include <map>

#include <unistd.h>

#include "trib/core/calendar.hpp"
#include "trib/core/error.hpp"
#include "trib/core/hash.hpp"
#include "trib/etl/bar_conflicts.hpp"
#include "trib/etl/bars_reader.hpp"
#include "trib/etl/etl.hpp"
#include "trib/lake/layout.hpp"
#include "trib/lake/parquet.hpp"
#include "trib/lake/raw_store.hpp"
#include "../core/test_util.hpp"

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

// A stored payload of symbol ABC, already parsed (the ETL then does not read the raw zone).
// `fetched_at` orders payloads: the later fetch wins.
ingest::FetchedRaw payload(const std::string& raw_id, std::vector<Bar> bars, int64_t fetched_at = 1,
                           std::vector<providers::ParseFinding> findings = {}) {
  ingest::FetchedRaw f;
  f.record.object_key = "raw/vendor=test/dataset=bars/symbol=ABC/fetched=2020-01-01/" + raw_id + ".csv";
  f.record.vendor = "test";
  f.record.symbol = "ABC";
  f.record.sha256 = raw_id;
  f.record.fetched_at_ns = fetched_at;
  f.symbol = Symbol::parse("ABC");
  f.run_id = "run-1";
  providers::ParseResult parsed;
  parsed.bars[f.symbol] = std::move(bars);
  parsed.findings = std::move(findings);
  f.parsed = std::move(parsed);
  return f;
}

// Delegates everything to a real catalog; commit_partitions can be sabotaged.
class SabotagedCatalog : public catalog::Catalog {
 public:
  explicit SabotagedCatalog(catalog::Catalog& real) : real_(real) {}
  std::function<void()> before_commit;  // runs once before delegating
  bool crash_after_commit = false;      // commit, then "die" before the live files are published

  void migrate() override { real_.migrate(); }
  int schema_version() override { return real_.schema_version(); }
  std::string describe() const override { return real_.describe(); }
  void upsert_instrument(const std::string& s, const std::string& v, const std::string& c) override { real_.upsert_instrument(s, v, c); }
  std::vector<std::string> list_instruments() override { return real_.list_instruments(); }
  std::optional<catalog::InstrumentRecord> get_instrument(const std::string& s) override { return real_.get_instrument(s); }
  std::optional<catalog::PartitionRecord> get_partition(const catalog::PartitionKey& k) override { return real_.get_partition(k); }
  std::vector<catalog::PartitionRecord> list_partitions(const std::string& d, const std::string& t, const std::string& s) override { return real_.list_partitions(d, t, s); }
  catalog::CommitResult commit_partition(const catalog::PartitionCommit& c) override { return commit_partitions({c}).front(); }
  std::vector<catalog::CommitResult> commit_partitions(const std::vector<catalog::PartitionCommit>& commits) override {
    if (before_commit) {
      auto hook = std::move(before_commit);
      before_commit = nullptr;
      hook();
    }
    auto results = real_.commit_partitions(commits);
    if (crash_after_commit) throw Error::Internal("simulated crash after the commit, before publishing");
    return results;
  }
  std::vector<catalog::PartitionRecord> partition_history(const catalog::PartitionKey& k) override { return real_.partition_history(k); }
  void restore_partition(const catalog::PartitionRecord& r) override { real_.restore_partition(r); }
  void replace_partition_sessions(const catalog::PartitionKey& k, const std::vector<int32_t>& d) override { real_.replace_partition_sessions(k, d); }
  void ensure_calendar_sessions(const std::string& c, int32_t f, int32_t t, const std::vector<int32_t>& s) override { real_.ensure_calendar_sessions(c, f, t, s); }
  std::vector<catalog::CoverageYear> session_coverage(const std::string& d, const std::string& tf, const std::string& s, const std::string& c, int32_t f, int32_t t) override { return real_.session_coverage(d, tf, s, c, f, t); }
  std::vector<catalog::HotBar> hot_bars(const std::string& s, const std::string& t, int64_t f, int64_t to) override { return real_.hot_bars(s, t, f, to); }
  void replace_hot_bars(const std::string& s, const std::string& t, const std::vector<catalog::HotBar>& r) override { real_.replace_hot_bars(s, t, r); }
  int hot_cache_sessions() const override { return real_.hot_cache_sessions(); }
  bool record_raw_object(const catalog::RawObjectRecord& r) override { return real_.record_raw_object(r); }
  std::optional<catalog::RawObjectRecord> get_raw_object(const std::string& k) override { return real_.get_raw_object(k); }
  std::vector<catalog::RawObjectRecord> raw_objects_of_task(const std::string& t) override { return real_.raw_objects_of_task(t); }
  std::vector<catalog::RawObjectRecord> list_raw_objects(const std::string& v, const std::string& s) override { return real_.list_raw_objects(v, s); }
  void start_run(const catalog::RunRecord& r) override { real_.start_run(r); }
  void finish_run(const std::string& id, catalog::RunStatus st, const std::string& js) override { real_.finish_run(id, st, js); }
  std::optional<catalog::RunRecord> get_run(const std::string& id) override { return real_.get_run(id); }
  std::vector<catalog::RunRecord> list_runs(const std::string& k, int64_t n) override { return real_.list_runs(k, n); }
  bool mark_task_done(const std::string& t, const std::string& r) override { return real_.mark_task_done(t, r); }
  bool is_task_done(const std::string& t) override { return real_.is_task_done(t); }
  int64_t count_tasks_done(const std::string& r) override { return real_.count_tasks_done(r); }
  TaskThroughput task_throughput(int64_t since, int64_t bucket) override { return real_.task_throughput(since, bucket); }
  std::optional<std::string> get_watermark(const std::string& v, const std::string& d, const std::string& s) override { return real_.get_watermark(v, d, s); }
  void advance_watermark(const catalog::Watermark& w) override { real_.advance_watermark(w); }
  void replace_dq(const std::string& r, const std::string& d, const std::map<std::string, std::map<std::string, int64_t>>& c, const std::string& run) override { real_.replace_dq(r, d, c, run); }
  std::vector<catalog::DqResult> dq_summary(const std::string& id) override { return real_.dq_summary(id); }
  bool insert_order_if_absent(const catalog::OrderRecord& o) override { return real_.insert_order_if_absent(o); }
  std::optional<catalog::OrderRecord> get_order(const std::string& id) override { return real_.get_order(id); }
  void update_order(const std::string& id, catalog::OrderStatus s, const std::string& r, const std::string& b) override { real_.update_order(id, s, r, b); }
  std::vector<catalog::OrderRecord> list_orders(const std::string& s) override { return real_.list_orders(s); }
  bool apply_fill(const std::string& a, const catalog::FillRecord& f) override { return real_.apply_fill(a, f); }
  std::vector<catalog::FillRecord> list_fills(const std::string& id) override { return real_.list_fills(id); }
  std::optional<catalog::PositionRecord> get_position(const std::string& a, const std::string& s) override { return real_.get_position(a, s); }
  std::vector<catalog::PositionRecord> list_positions(const std::string& a) override { return real_.list_positions(a); }
  Micros account_cash(const std::string& a, Micros c) override { return real_.account_cash(a, c); }
  int apply_order_update(const std::string& a, const std::string& id, catalog::OrderStatus s, const std::string& r,
                         const std::string& b, const std::vector<catalog::FillRecord>& f) override {
    return real_.apply_order_update(a, id, s, r, b, f);
  }
  std::optional<catalog::TradingStateRecord> get_trading_state(const std::string& a) override { return real_.get_trading_state(a); }
  void put_trading_state(const catalog::TradingStateRecord& t) override { real_.put_trading_state(t); }
  void record_denial(const catalog::RiskDenialRecord& d) override { real_.record_denial(d); }
  bool apply_adjustment(const catalog::LedgerAdjustment& a) override { return real_.apply_adjustment(a); }
  std::vector<catalog::RiskDenialRecord> list_denials(const std::string& a) override { return real_.list_denials(a); }
  bool upsert_universe(const catalog::UniverseEntry& e) override { return real_.upsert_universe(e); }
  bool remove_universe(const std::string& s, const std::string& v, const std::string& d, const std::string& t) override { return real_.remove_universe(s, v, d, t); }
  std::vector<catalog::UniverseEntry> list_universe(const std::string& v) override { return real_.list_universe(v); }
  void set_universe_status(const std::string& s, const std::string& v, const std::string& d, const std::string& t, const std::string& st, const std::string& r) override { real_.set_universe_status(s, v, d, t, st, r); }
  catalog::BudgetReservation reserve_vendor_request(const std::string& v, const catalog::BudgetRule& r, int64_t n) override { return real_.reserve_vendor_request(v, r, n); }
  void pause_vendor(const std::string& v, int64_t u) override { real_.pause_vendor(v, u); }
  std::optional<catalog::BudgetState> vendor_budget_state(const std::string& v) override { return real_.vendor_budget_state(v); }
  int64_t record_actions(const std::vector<catalog::ActionRecord>& r) override { return real_.record_actions(r); }
  std::vector<catalog::ActionRecord> list_actions(const std::string& s, int64_t t) override { return real_.list_actions(s, t); }
  bool record_model(const catalog::ModelRecord& m) override { return real_.record_model(m); }
  std::optional<catalog::ModelRecord> get_model(const std::string& id) override { return real_.get_model(id); }
  std::vector<catalog::ModelRecord> list_models() override { return real_.list_models(); }

 private:
  catalog::Catalog& real_;
};

class EtlTest : public ::testing::Test {
 protected:
  void SetUp() override { open(300); }

  void open(int hot_sessions) {
    catalog_.reset();
    store_ = lake::open_local_store(dir_.path() / "lake");
    catalog::CatalogOptions options;
    options.hot_cache_sessions = hot_sessions;
    catalog_ = catalog::open_sqlite_catalog(dir_.path() / "catalog.db", options);
  }

  std::vector<lake::CuratedBar> read(const char* from = nullptr, const char* to = nullptr) {
    etl::BarsQuery q;
    q.symbol = Symbol::parse("ABC");
    if (from) q.from = Date::parse(from);
    if (to) q.to = Date::parse(to);
    return etl::read_curated_bars(*store_, *catalog_, q);
  }

  // The hot cache must equal the newest N rows the lake holds (read through the catalog).
  void expect_hot_cache_equals_lake(size_t n) {
    auto rows = read();
    auto hot = catalog_->hot_bars("ABC", "1d");
    const size_t want = std::min(n, rows.size());
    ASSERT_EQ(hot.size(), want);
    for (size_t i = 0; i < want; ++i) {
      const auto& r = rows[rows.size() - want + i];
      EXPECT_EQ(hot[i].ts_ns, r.bar.ts_ns);
      EXPECT_EQ(hot[i].close, r.bar.close);
      EXPECT_EQ(hot[i].raw_id, r.raw_id);
      EXPECT_EQ(hot[i].fetched_at_ns, r.fetched_at_ns);
    }
  }

  std::string live_bytes(const char* year) {
    return store_->get(lake::curated_bars_key(Timeframe::kDay1, Symbol::parse("ABC"), year));
  }

  trib::testing::TempDir dir_;
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
  const std::string bytes = live_bytes("2020");

  auto again = engine.apply(payload("r1", {bar("2019-12-30", 100), bar("2019-12-31", 101),
                                           bar("2020-01-02", 102), bar("2020-01-03", 103)}));
  EXPECT_EQ(again.partitions_unchanged, 2);
  EXPECT_EQ(again.partitions_created + again.partitions_replaced, 0);
  EXPECT_EQ(live_bytes("2020"), bytes) << "byte-identical after a redelivery";
  auto v1 = catalog_->get_partition({"bars", "1d", "ABC", "2020"});
  EXPECT_EQ(v1->version, 1);
  EXPECT_EQ(v1->version_key, lake::version_object_key(v1->object_key, sha256_hex(bytes)));

  // A later fetch revises one bar and adds one: the newer fetch wins, the rest stays.
  auto revised = engine.apply(payload("r2", {bar("2020-01-03", 103.5), bar("2020-01-06", 104)}, 2));
  EXPECT_EQ(revised.partitions_replaced, 1);
  auto rows = read("2020-01-01");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].bar.close, 102);
  EXPECT_EQ(rows[0].raw_id, "r1");
  EXPECT_EQ(rows[1].bar.close, 103.5);
  EXPECT_EQ(rows[1].raw_id, "r2");
  EXPECT_EQ(rows[1].fetched_at_ns, 2);
  EXPECT_EQ(rows[2].bar.session_date.to_string(), "2020-01-06");
  auto record = catalog_->get_partition({"bars", "1d", "ABC", "2020"});
  EXPECT_EQ(record->version, 2);
  EXPECT_EQ(record->row_count, 3);
  // The replaced version stays readable (as-of reads) outside the globbed tree, and is in the
  // partition's history.
  EXPECT_EQ(store_->get(v1->version_key), bytes);
  auto history = catalog_->partition_history({"bars", "1d", "ABC", "2020"});
  ASSERT_EQ(history.size(), 1u);
  EXPECT_EQ(history[0].version_key, v1->version_key);
  EXPECT_EQ(read().size(), 5u);
  EXPECT_EQ(read("2019-12-31", "2020-01-02").size(), 2u);
  // The live file is a published copy of the committed version object.
  EXPECT_EQ(live_bytes("2020"), store_->get(record->version_key));
  EXPECT_TRUE(store_->list("curated/bars/timeframe=1d/symbol=ABC/year=2020/") ==
              std::vector<std::string>{record->object_key});
}

TEST_F(EtlTest, TheLaterFetchWinsWhateverTheOrderPayloadsAreApplied) {
  // Three fetches of overlapping bars, applied in every order: the same bytes every time.
  std::vector<ingest::FetchedRaw> fetches = {
      payload("aa", {bar("2020-01-02", 100), bar("2020-01-03", 101)}, 10),
      payload("bb", {bar("2020-01-03", 201), bar("2020-01-06", 202)}, 30),
      payload("cc", {bar("2020-01-02", 300), bar("2020-01-06", 302)}, 20)};
  std::vector<int> order = {0, 1, 2};
  std::string reference;
  do {
    trib::testing::TempDir dir;
    auto store = lake::open_local_store(dir.path() / "lake");
    auto cat = catalog::open_sqlite_catalog(dir.path() / "catalog.db");
    etl::EtlEngine engine(*store, *cat);
    for (int i : order) engine.apply(fetches[static_cast<size_t>(i)]);
    const std::string bytes =
        store->get(lake::curated_bars_key(Timeframe::kDay1, Symbol::parse("ABC"), "2020"));
    if (reference.empty()) {
      reference = bytes;
      etl::BarsQuery q{Symbol::parse("ABC")};
      auto rows = etl::read_curated_bars(*store, *cat, q);
      ASSERT_EQ(rows.size(), 3u);
      EXPECT_EQ(rows[0].bar.close, 300);  // cc (t=20) beats aa (t=10)
      EXPECT_EQ(rows[1].bar.close, 201);  // bb (t=30) beats aa
      EXPECT_EQ(rows[2].bar.close, 202);  // bb (t=30) beats cc (t=20)
    }
    EXPECT_EQ(bytes, reference) << "order " << order[0] << order[1] << order[2];
  } while (std::next_permutation(order.begin(), order.end()));
}

TEST_F(EtlTest, AnOlderFetchRedeliveredAfterANewerOneChangesNothing) {
  etl::EtlEngine engine(*store_, *catalog_);
  engine.apply(payload("new", {bar("2020-01-02", 110)}, 200));
  const std::string bytes = live_bytes("2020");
  auto stats = engine.apply(payload("old", {bar("2020-01-02", 100)}, 100));
  EXPECT_EQ(stats.partitions_unchanged, 1);
  EXPECT_EQ(live_bytes("2020"), bytes);
  EXPECT_EQ(read()[0].bar.close, 110);
}

TEST_F(EtlTest, RebuildFromRawReproducesTheCuratedFilesByteForByte) {
  std::vector<ingest::FetchedRaw> fetches = {
      payload("r1", {bar("2019-12-31", 99), bar("2020-01-02", 100)}, 10),
      payload("r2", {bar("2020-01-02", 105), bar("2020-01-03", 106)}, 20)};
  {
    etl::EtlEngine engine(*store_, *catalog_);
    for (const auto& f : fetches) engine.apply(f);
  }
  const std::string y2019 = live_bytes("2019"), y2020 = live_bytes("2020");
  // The curated zone is lost (live files and version objects); rebuild in the other order.
  fs::remove_all(dir_.path() / "lake" / "curated");
  fs::remove_all(dir_.path() / "lake" / "_versions");
  etl::EtlOptions options;
  options.rebuild = true;
  etl::EtlEngine rebuild(*store_, *catalog_, options);
  rebuild.apply(fetches[1]);
  rebuild.apply(fetches[0]);
  EXPECT_EQ(live_bytes("2019"), y2019);
  EXPECT_EQ(live_bytes("2020"), y2020);
  EXPECT_EQ(read().size(), 3u);
}

TEST_F(EtlTest, RowsOutsideTheIngestWindowAreNotCurated) {
  auto f = payload("r1", {bar("2019-12-31", 99), bar("2020-01-02", 100), bar("2020-01-03", 101)});
  f.record.window_from = "2020-01-01";
  f.record.window_to = "2020-01-02";
  etl::EtlEngine engine(*store_, *catalog_);
  auto stats = engine.apply(f);
  EXPECT_EQ(stats.rows_outside_window, 2);
  EXPECT_EQ(stats.rows_accepted, 1);
  auto rows = read();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].bar.session_date.to_string(), "2020-01-02");
}

TEST_F(EtlTest, QuarantinesBadRowsAndCountsThemOncePerRawObject) {
  etl::EtlEngine engine(*store_, *catalog_);
  Bar bad = bar("2020-01-03", 103);
  bad.low = 200;  // above the close
  auto f = payload("r1", {bar("2020-01-02", 102), bad}, 1,
                   {{7, "bad_number", "column 'Close': 'x' is not a number", "2020-01-06,1,2,1,x,5"}});
  auto stats = engine.apply(f);
  EXPECT_EQ(stats.rows_in, 3);
  EXPECT_EQ(stats.rows_accepted, 1);
  EXPECT_EQ(stats.rows_quarantined, 2);
  EXPECT_EQ(stats.quarantined_by_rule.at("ohlc_inconsistent"), 1);
  EXPECT_EQ(stats.quarantined_by_rule.at("bad_number"), 1);
  auto files = store_->list("quarantine/");
  ASSERT_EQ(files.size(), 1u);
  parquet::Reader reader(parquet::memory_source(store_->get(files[0])));
  EXPECT_EQ(reader.metadata().num_rows, 2);
  auto total = [&](const std::string& run) {
    int64_t n = 0;
    for (const auto& r : catalog_->dq_summary(run)) n += r.rows;
    return n;
  };
  EXPECT_EQ(total("run-1"), 2);
  // Redelivered, and re-run by another run: still the true count, not a sum of attempts.
  engine.apply(f);
  f.run_id = "run-2";
  engine.apply(f);
  EXPECT_EQ(total(""), 2);
  EXPECT_EQ(total("run-2"), 2);
  EXPECT_EQ(total("run-1"), 0);
  EXPECT_EQ(store_->list("quarantine/").size(), 1u);
}

TEST_F(EtlTest, AnUnparseablePayloadIsQuarantinedWholeWithItsReason) {
  // The raw zone holds an error page where a CSV was expected.
  lake::RawStore raw(*store_);
  lake::RawPut put;
  put.vendor = "csv";
  put.dataset = "bars";
  put.symbol_component = "ABC";
  put.fetched = Date::parse("2020-01-06");
  put.ext = "csv";
  put.sidecar = {{"vendor", "csv"}};
  auto stored = raw.put(put, "<html><body>503 Service Unavailable</body></html>\n");
  ingest::FetchedRaw f;
  f.record.object_key = stored.key;
  f.record.vendor = "csv";
  f.record.symbol = "ABC";
  f.record.sha256 = stored.sha256;
  f.symbol = Symbol::parse("ABC");
  f.run_id = "run-1";
  etl::EtlEngine engine(*store_, *catalog_);
  auto stats = engine.apply(f);
  EXPECT_EQ(stats.payloads_quarantined, 1);
  EXPECT_TRUE(catalog_->list_partitions("bars").empty());
  auto notes = store_->list("quarantine/payloads/");
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_NE(store_->get(notes[0]).find(stored.key), std::string::npos);
  auto dq = catalog_->dq_summary();
  ASSERT_EQ(dq.size(), 1u);
  EXPECT_EQ(dq[0].rule, "unparseable_payload");
  EXPECT_NE(store_->get(stored.key).find("503"), std::string::npos)
      << "the evidence stays in the raw zone";
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
  EXPECT_EQ(read().size(), 2u) << "the loser wrote nothing the catalog vouches for";
  // The retry (the queue redelivers) merges on top of the other writer's commit.
  engine.apply(payload("r3", {bar("2020-01-06", 104)}));
  EXPECT_EQ(read().size(), 3u);
  EXPECT_EQ(catalog_->get_partition({"bars", "1d", "ABC", "2020"})->version, 3);
}

TEST_F(EtlTest, CrashBetweenTheCommitAndThePublishIsRepairedAndReadersNeverSeeIt) {
  SabotagedCatalog sabotaged(*catalog_);
  etl::EtlEngine engine(*store_, sabotaged);
  engine.apply(payload("r1", {bar("2020-01-02", 102)}));
  const std::string v1 = live_bytes("2020");
  sabotaged.crash_after_commit = true;
  EXPECT_THROW(engine.apply(payload("r2", {bar("2020-01-03", 103)}, 2)), Error);
  sabotaged.crash_after_commit = false;
  // Committed (version 2) but not published: the live file is still version 1. Readers through
  // the catalog read the committed version object.
  auto record = catalog_->get_partition({"bars", "1d", "ABC", "2020"});
  EXPECT_EQ(record->version, 2);
  EXPECT_EQ(live_bytes("2020"), v1);
  EXPECT_EQ(read().size(), 2u);
  expect_hot_cache_equals_lake(300);
  EXPECT_EQ(etl::repair_live_files(*store_, *catalog_, "bars", /*dry_run=*/true), 1);
  // The redelivered task finds its content committed and publishes the live file.
  auto stats = engine.apply(payload("r2", {bar("2020-01-03", 103)}, 2));
  EXPECT_EQ(stats.partitions_unchanged, 1);
  EXPECT_EQ(stats.live_files_repaired, 1);
  EXPECT_EQ(live_bytes("2020"), store_->get(record->version_key));
  EXPECT_EQ(etl::repair_live_files(*store_, *catalog_), 0);
}

TEST_F(EtlTest, VerifyRepairRepublishesAStaleLiveFile) {
  etl::EtlEngine engine(*store_, *catalog_);
  engine.apply(payload("r1", {bar("2020-01-02", 102)}));
  const std::string key = lake::curated_bars_key(Timeframe::kDay1, Symbol::parse("ABC"), "2020");
  const std::string good = store_->get(key);
  store_->put(key, "stale bytes");  // what a torn publish by an old build could leave
  EXPECT_EQ(etl::repair_live_files(*store_, *catalog_), 1);
  EXPECT_EQ(store_->get(key), good);
}

TEST_F(EtlTest, HotCacheEqualsTheLakeAfterIngestReplacementAndAFailedCommit) {
  open(3);
  etl::EtlEngine engine(*store_, *catalog_);
  engine.apply(payload("r1", {bar("2019-12-27", 96), bar("2019-12-30", 97), bar("2019-12-31", 98),
                              bar("2020-01-02", 100), bar("2020-01-03", 101)}));
  expect_hot_cache_equals_lake(3);
  // A replaced partition (revised bar) and an older partition arriving late.
  engine.apply(payload("r2", {bar("2020-01-03", 111), bar("2020-01-06", 112)}, 5));
  engine.apply(payload("r3", {bar("2019-06-03", 50)}, 6));
  expect_hot_cache_equals_lake(3);
  // A commit that dies inside its transaction (a hot row the cache refuses) changes neither the
  // partition nor the cache: they move together or not at all.
  const auto before = catalog_->get_partition({"bars", "1d", "ABC", "2020"});
  Bar poisoned = bar("2020-01-07", 113);
  poisoned.open = poisoned.high = poisoned.low = poisoned.close = 113;
  catalog::PartitionCommit commit;
  commit.record = *before;
  commit.record.content_sha256 = std::string(64, 'f');
  commit.record.version_key = "_versions/x/ffff.parquet";
  commit.expected_version = before->version;
  catalog::HotBar hot;
  hot.ts_ns = poisoned.ts_ns;
  hot.open = std::nan("");  // NOT NULL in the cache: the insert fails
  commit.hot_rows = {hot};
  EXPECT_THROW(catalog_->commit_partition(commit), Error);
  EXPECT_EQ(catalog_->get_partition({"bars", "1d", "ABC", "2020"})->version, before->version);
  expect_hot_cache_equals_lake(3);
}

TEST_F(EtlTest, WatermarksAdvanceWithTheCommit) {
  SabotagedCatalog sabotaged(*catalog_);
  etl::EtlEngine engine(*store_, sabotaged);
  engine.apply(payload("r1", {bar("2020-01-02", 100), bar("2020-01-03", 101)}));
  EXPECT_EQ(catalog_->get_watermark("test", "bars", "ABC"), "2020-01-03");
  sabotaged.before_commit = [&] { throw Error::Retryable("catalog unreachable"); };
  EXPECT_THROW(engine.apply(payload("r2", {bar("2020-01-06", 102)}, 2)), Error);
  EXPECT_EQ(catalog_->get_watermark("test", "bars", "ABC"), "2020-01-03")
      << "no commit, no watermark";
  engine.apply(payload("r2", {bar("2020-01-06", 102)}, 2));
  EXPECT_EQ(catalog_->get_watermark("test", "bars", "ABC"), "2020-01-06");
}

TEST_F(EtlTest, APayloadOfManyPartitionsGivesTheSameFilesOnOneThreadOrMany) {
  // 20 years of one symbol: 20 partitions, above the threshold for parallel work.
  std::vector<Bar> bars;
  const auto sessions = TradingCalendar::nyse().sessions(Date::parse("2000-01-01"), Date::parse("2019-12-31"));
  for (size_t i = 0; i < sessions.size(); i += 20) {
    bars.push_back(bar(sessions[i].to_string().c_str(), 100 + static_cast<double>(i % 7)));
  }
  auto files_with = [&](int threads) {
    trib::testing::TempDir dir;
    auto store = lake::open_local_store(dir.path() / "lake");
    auto cat = catalog::open_sqlite_catalog(dir.path() / "catalog.db");
    etl::EtlOptions options;
    options.threads = threads;
    etl::EtlEngine engine(*store, *cat, options);
    auto stats = engine.apply(payload("r1", bars));
    EXPECT_EQ(stats.partitions_created, 20);
    EXPECT_EQ(stats.rows_quarantined, 0);
    std::map<std::string, std::string> files;
    for (const auto& key : store->list("curated/")) files[key] = store->get(key);
    for (const auto& key : store->list("_versions/")) files[key] = store->get(key);
    auto hot = cat->hot_bars("ABC", "1d");
    EXPECT_EQ(hot.size(), std::min<size_t>(bars.size(), 300));
    EXPECT_EQ(hot.back().ts_ns, bars.back().ts_ns);
    return files;
  };
  const auto one = files_with(1);
  EXPECT_EQ(one.size(), 40u);
  EXPECT_EQ(files_with(4), one);
}

// ---- vendor precedence ([prices] bar_precedence) and the rows kept aside ----

namespace {

ingest::FetchedRaw vendor_payload(const std::string& vendor, const std::string& raw_id, std::vector<Bar> bars,
                                  int64_t fetched_at) {
  ingest::FetchedRaw f = payload(raw_id, std::move(bars), fetched_at);
  f.record.vendor = vendor;
  f.record.object_key = "raw/vendor=" + vendor + "/dataset=bars/symbol=ABC/fetched=2020-01-01/" + raw_id + ".csv";
  return f;
}

// Every overlap row of ABC, from every overlap file (their union), and the files' bytes.
std::pair<std::vector<lake::CuratedBar>, std::map<std::string, std::string>> overlaps(lake::ObjectStore& store) {
  std::vector<lake::CuratedBar> rows;
  std::map<std::string, std::string> files;
  for (const auto& key : store.list(etl::overlaps_prefix(Timeframe::kDay1))) {
    std::string bytes = store.get(key);
    files[key] = bytes;
    parquet::Reader reader(parquet::memory_source(std::move(bytes)), key);
    for (auto& r : lake::decode_overlap_file(reader)) rows.push_back(std::move(r));
  }
  return {rows, files};
}

etl::EtlOptions lean_then_yahoo() {
  etl::EtlOptions o;
  o.bar_precedence = etl::SourcePrecedence::parse("lean,yahoo");
  return o;
}

}  // namespace

TEST_F(EtlTest, ThePreferredVendorWinsWhateverTheOrderAndTheOtherRowIsKeptAside) {
  // Yahoo's fetch is the later one, and still loses the shared session to Lean.
  const auto lean = vendor_payload("lean", "L1", {bar("2020-01-02", 10), bar("2020-01-03", 11)}, 1);
  const auto yahoo = vendor_payload("yahoo", "Y1", {bar("2020-01-03", 11.2), bar("2020-01-06", 12)}, 5);
  std::vector<std::vector<lake::CuratedBar>> curated;
  for (bool lean_first : {true, false}) {
    trib::testing::TempDir dir;
    auto store = lake::open_local_store(dir.path() / "lake");
    auto catalog = catalog::open_sqlite_catalog(dir.path() / "catalog.db", {});
    etl::EtlEngine engine(*store, *catalog, lean_then_yahoo());
    engine.apply(lean_first ? lean : yahoo);
    engine.apply(lean_first ? yahoo : lean);
    curated.push_back(etl::read_curated_bars(*store, *catalog, {Symbol::parse("ABC"), Timeframe::kDay1, {}, {}}));
    auto [aside, files] = overlaps(*store);
    ASSERT_EQ(aside.size(), 1u) << "lean first: " << lean_first;
    EXPECT_EQ(aside[0].source, "yahoo");
    EXPECT_EQ(aside[0].bar.close, 11.2);
    EXPECT_EQ(aside[0].fetched_at_ns, 5);
    // Replayed (a redelivered task, `trib etl`): the curated rows stay; the row kept aside may be
    // noted again under the replayed payload (Yahoo's, when Lean displaced it first), never twice
    // in one file, and a second replay writes nothing.
    engine.apply(lean);
    engine.apply(yahoo);
    auto [again, files_again] = overlaps(*store);
    for (const auto& r : again) EXPECT_EQ(r, aside[0]);
    EXPECT_LE(files_again.size(), 2u);
    engine.apply(lean);
    engine.apply(yahoo);
    EXPECT_EQ(overlaps(*store).second, files_again);
    EXPECT_EQ(etl::read_curated_bars(*store, *catalog, {Symbol::parse("ABC"), Timeframe::kDay1, {}, {}}),
              curated.back());
  }
  ASSERT_EQ(curated[0].size(), 3u);
  EXPECT_EQ(curated[0], curated[1]);
  EXPECT_EQ(curated[0][1].source, "lean");
  EXPECT_EQ(curated[0][1].bar.close, 11);
  EXPECT_EQ(curated[0][2].source, "yahoo");
  // One vendor's later fetch still replaces its own row, and keeps nothing aside.
  etl::EtlEngine engine(*store_, *catalog_, lean_then_yahoo());
  engine.apply(vendor_payload("lean", "L1", {bar("2020-01-02", 10)}, 1));
  engine.apply(vendor_payload("lean", "L2", {bar("2020-01-02", 10.5)}, 2));
  EXPECT_EQ(read().front().bar.close, 10.5);
  EXPECT_TRUE(overlaps(*store_).first.empty());
}

TEST_F(EtlTest, ACrashAfterTheCommitLosesNoOverlapRowOnTheRetry) {
  SabotagedCatalog sabotaged(*catalog_);
  etl::EtlEngine engine(*store_, sabotaged, lean_then_yahoo());
  engine.apply(vendor_payload("yahoo", "Y1", {bar("2020-01-03", 11.2)}, 5));
  sabotaged.crash_after_commit = true;
  const auto lean = vendor_payload("lean", "L1", {bar("2020-01-03", 11)}, 1);
  EXPECT_THROW(engine.apply(lean), Error);
  sabotaged.crash_after_commit = false;
  // Committed: the retry sees Lean's own row in place and nothing to set aside; the displaced
  // Yahoo row recorded before the commit stays.
  engine.apply(lean);
  auto [aside, files] = overlaps(*store_);
  ASSERT_EQ(aside.size(), 1u);
  EXPECT_EQ(aside[0].source, "yahoo");
  EXPECT_EQ(read().front().source, "lean");
}

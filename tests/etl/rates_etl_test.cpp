// The ETL of economic series (dataset "rates") against a real SQLite catalog and a local lake:
// FRED's real payload from vendor-samples, missing values kept as nulls, findings quarantined,
// the ingest window, the merge precedence in either order, idempotence, rebuild, the reader and
// the catalog rebuild.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "trib/catalog/catalog.hpp"
#include "trib/core/error.hpp"
#include "trib/core/hash.hpp"
#include "trib/etl/catalog_rebuild.hpp"
#include "trib/etl/etl.hpp"
#include "trib/etl/rates_reader.hpp"
#include "trib/lake/object_store.hpp"
#include "trib/lake/parquet.hpp"
#include "trib/lake/rates_file.hpp"
#include "trib/providers/provider.hpp"
#include "../core/test_util.hpp"

namespace fs = std::filesystem;
using namespace trib;

namespace {

std::optional<std::string> shared_sample(const std::string& relative) {
  const char* env = std::getenv("TRIB_SHARED_DATA");
  const fs::path root = env != nullptr ? fs::path(env) : fs::path(TRIB_SOURCE_DIR) / "../shared/data";
  std::ifstream in(root / "vendor-samples" / relative, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

providers::Observation obs(const char* date, std::optional<double> value) {
  return {Date::parse(date), value};
}

// A stored FRED payload of `series`, already parsed.
ingest::FetchedRaw payload(const std::string& raw_id, const std::string& series,
                           std::vector<providers::Observation> observations, int64_t fetched_at = 1,
                           std::vector<providers::ParseFinding> findings = {}) {
  ingest::FetchedRaw f;
  f.record.object_key = "raw/vendor=fred/dataset=rates/symbol=" + series + "/fetched=2024-01-01/" + raw_id + ".json";
  f.record.vendor = "fred";
  f.record.dataset = "rates";
  f.record.symbol = series;
  f.record.sha256 = raw_id;
  f.record.fetched_at_ns = fetched_at;
  f.symbol = Symbol::parse(series);
  f.run_id = "run-1";
  providers::ParseResult parsed;
  parsed.series[series] = std::move(observations);
  parsed.findings = std::move(findings);
  f.parsed = std::move(parsed);
  return f;
}

class RatesEtlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = lake::open_local_store(dir_.path() / "lake");
    catalog_ = catalog::open_sqlite_catalog(dir_.path() / "catalog.db", {});
  }
  std::vector<lake::CuratedObservation> read(const char* series = "DFF") {
    return etl::read_rates(*store_, *catalog_, Symbol::parse(series));
  }
  trib::testing::TempDir dir_;
  std::unique_ptr<lake::ObjectStore> store_;
  std::unique_ptr<catalog::Catalog> catalog_;
};

}  // namespace

TEST_F(RatesEtlTest, RecordedDffPayloadBecomesOneYearPartitionWithEveryCalendarDay) {
  auto bytes = shared_sample("fred/bodies/series_observations__DFF.json");
  if (!bytes) GTEST_SKIP() << "no ../shared/data here";
  // Parsed by the real provider, from the raw zone, as `trib update` does.
  auto provider = providers::make_provider("fred");
  providers::ParseContext context;
  context.symbol = Symbol::parse("DFF");
  ingest::FetchedRaw f;
  f.record.object_key = "raw/x.json";
  f.record.vendor = "fred";
  f.record.dataset = "rates";
  f.record.symbol = "DFF";
  f.record.sha256 = "abc123";
  f.record.fetched_at_ns = 5;
  f.symbol = Symbol::parse("DFF");
  f.parsed = provider->parse(*bytes, context);
  etl::EtlEngine engine(*store_, *catalog_);
  const etl::EtlStats stats = engine.apply(f);
  EXPECT_EQ(stats.rows_in, 157);
  EXPECT_EQ(stats.rows_accepted, 157);
  EXPECT_EQ(stats.partitions_created, 1);
  const auto rows = read();
  ASSERT_EQ(rows.size(), 157u);  // 2023-01-01..2023-06-06: every calendar day, weekends too
  EXPECT_EQ(rows.front().date, Date::parse("2023-01-01"));
  EXPECT_EQ(rows.front().value, 4.33);
  EXPECT_EQ(rows.back().date, Date::parse("2023-06-06"));
  EXPECT_EQ(rows.back().source, "fred");
  EXPECT_EQ(rows.back().raw_id, "abc123");
  EXPECT_EQ(rows.back().fetched_at_ns, 5);
  // The watermark is the series' last observation.
  auto mark = catalog_->get_watermark("fred", "rates", "DFF");
  ASSERT_TRUE(mark);
  EXPECT_EQ(*mark, "2023-06-06");
  // The live file is where the layout says, with the schema the docs describe.
  const std::string key = lake::curated_rates_key(Symbol::parse("DFF"), "2023");
  EXPECT_EQ(key, "curated/rates/series=DFF/year=2023/data.parquet");
  parquet::Reader reader(parquet::memory_source(store_->get(key)), key);
  EXPECT_EQ(reader.metadata().kv("trib.schema").value_or(""), "rates/1");
  EXPECT_EQ(reader.metadata().num_rows, 157);
}

TEST_F(RatesEtlTest, MissingValuesStayNullsAndFindingsAreQuarantinedWithTheirReason) {
  etl::EtlEngine engine(*store_, *catalog_);
  auto stats = engine.apply(payload(
      "r1", "DFF", {obs("2023-12-29", 5.33), obs("2023-12-30", std::nullopt), obs("2024-01-02", 5.31)}, 1,
      {{4, "bad_number", "value \"n/a\" for 2024-01-03 is not a number", "date=2024-01-03 value=n/a"}}));
  EXPECT_EQ(stats.rows_in, 4);
  EXPECT_EQ(stats.rows_accepted, 3);
  EXPECT_EQ(stats.rows_quarantined, 1);
  EXPECT_EQ(stats.partitions_created, 2);  // 2023 and 2024
  const auto rows = read();
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_FALSE(rows[1].value.has_value());
  EXPECT_EQ(rows[2].value, 5.31);
  const std::string raw_key = "raw/vendor=fred/dataset=rates/symbol=DFF/fetched=2024-01-01/r1.json";
  EXPECT_TRUE(store_->exists(lake::rates_quarantine_key(Symbol::parse("DFF"), sha256_hex(raw_key))));
  bool counted = false;
  for (const auto& r : catalog_->dq_summary("")) {
    if (r.dataset == "rates" && r.rule == "bad_number" && r.rows == 1) counted = true;
  }
  EXPECT_TRUE(counted);
  // Only the asked range is read.
  auto some = etl::read_rates(*store_, *catalog_, Symbol::parse("DFF"), Date::parse("2023-12-30"),
                              Date::parse("2023-12-31"));
  ASSERT_EQ(some.size(), 1u);
  EXPECT_EQ(some[0].date, Date::parse("2023-12-30"));
}

TEST_F(RatesEtlTest, LaterFetchWinsWhateverTheOrderAndReapplyingChangesNothing) {
  auto old_fetch = payload("r-old", "DFF", {obs("2023-03-01", 4.57), obs("2023-03-02", 4.57)}, 10);
  auto new_fetch = payload("r-new", "DFF", {obs("2023-03-02", 4.58), obs("2023-03-03", 4.58)}, 20);
  std::vector<lake::CuratedObservation> results[2];
  for (int order = 0; order < 2; ++order) {
    trib::testing::TempDir dir;
    auto store = lake::open_local_store(dir.path() / "lake");
    auto catalog = catalog::open_sqlite_catalog(dir.path() / "catalog.db", {});
    etl::EtlEngine engine(*store, *catalog);
    engine.apply(order == 0 ? old_fetch : new_fetch);
    engine.apply(order == 0 ? new_fetch : old_fetch);
    const auto again = engine.apply(new_fetch);
    EXPECT_EQ(again.partitions_unchanged, 1);
    EXPECT_EQ(again.partitions_replaced, 0);
    results[order] = etl::read_rates(*store, *catalog, Symbol::parse("DFF"));
  }
  ASSERT_EQ(results[0].size(), 3u);
  EXPECT_EQ(results[0], results[1]);
  EXPECT_EQ(results[0][1].value, 4.58);  // the revision from the later fetch
  EXPECT_EQ(results[0][1].raw_id, "r-new");
  EXPECT_EQ(results[0][0].raw_id, "r-old");
}

TEST_F(RatesEtlTest, RowsOutsideTheIngestWindowAreLeftOut) {
  auto f = payload("r1", "DFF", {obs("2023-01-31", 4.33), obs("2023-02-01", 4.58), obs("2023-02-02", 4.58)});
  f.record.window_from = "2023-02-01";
  f.record.window_to = "2023-02-01";
  etl::EtlEngine engine(*store_, *catalog_);
  const auto stats = engine.apply(f);
  EXPECT_EQ(stats.rows_outside_window, 2);
  const auto rows = read();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].date, Date::parse("2023-02-01"));
}

TEST_F(RatesEtlTest, RebuildStartsFromRawAndCatalogRebuildRestoresPartitionsAndWatermark) {
  {
    etl::EtlEngine engine(*store_, *catalog_);
    engine.apply(payload("r1", "HQMCB10YR", {obs("2023-01-01", 4.98), obs("2023-02-01", 5.13)}, 1));
    engine.apply(payload("r2", "HQMCB10YR", {obs("2023-03-01", 5.18)}, 2));
  }
  {
    etl::EtlOptions options;
    options.rebuild = true;
    etl::EtlEngine engine(*store_, *catalog_, options);
    // Only the second payload re-applied with --rebuild: the partition holds its row alone.
    engine.apply(payload("r2", "HQMCB10YR", {obs("2023-03-01", 5.18)}, 2));
    ASSERT_EQ(read("HQMCB10YR").size(), 1u);
    engine.apply(payload("r1", "HQMCB10YR", {obs("2023-01-01", 4.98), obs("2023-02-01", 5.13)}, 1));
    ASSERT_EQ(read("HQMCB10YR").size(), 3u);
  }
  // A lost catalog: rebuilt from the lake, the series reads the same and its watermark is back.
  const auto before = read("HQMCB10YR");
  auto fresh = catalog::open_sqlite_catalog(dir_.path() / "fresh.db", {});
  etl::rebuild_catalog(*store_, *fresh);
  EXPECT_EQ(etl::read_rates(*store_, *fresh, Symbol::parse("HQMCB10YR")), before);
  auto mark = fresh->get_watermark("fred", "rates", "HQMCB10YR");
  ASSERT_TRUE(mark);
  EXPECT_EQ(*mark, "2023-03-01");
}

TEST_F(RatesEtlTest, UnknownSeriesIsNotFoundNamingHowToAddIt) {
  try {
    read("DGS10");
    FAIL() << "expected NotFound";
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::kNotFound);
    EXPECT_NE(std::string(e.what()).find("trib universe add DGS10 --vendor fred --dataset rates"),
              std::string::npos);
  }
}

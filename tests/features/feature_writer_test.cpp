// write_basic_features end to end: real SPY bars (1998-2000) curated into a local lake with a
// SQLite catalog, features written, read back with our Parquet reader, and rewritten unchanged.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>

#include "trib/catalog/catalog.hpp"
#include "trib/core/calendar.hpp"
#include "trib/core/config.hpp"
#include "trib/core/error.hpp"
#include "trib/core/hash.hpp"
#include "trib/etl/partition_commit.hpp"
#include "trib/features/feature_set.hpp"
#include "trib/lake/bars_file.hpp"
#include "trib/lake/layout.hpp"
#include "trib/lake/object_store.hpp"
#include "trib/lake/parquet.hpp"

namespace trib::features {
namespace {

namespace fs = std::filesystem;

// SPY from the Lean raw daily file (prices scaled by 10,000), sessions in [first_year, last_year].
std::vector<lake::CuratedBar> load_spy(int first_year, int last_year) {
  std::ifstream in(std::string(TRIB_SHARED_DATA) +
                   "/equities-daily/lean-us-equity-daily/raw/spy.csv");
  std::vector<lake::CuratedBar> rows;
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    size_t start = 0;
    for (size_t comma; (comma = line.find(',', start)) != std::string::npos; start = comma + 1) {
      f.push_back(line.substr(start, comma - start));
    }
    f.push_back(line.substr(start));
    if (f.size() != 6) continue;
    const int y = std::stoi(f[0].substr(0, 4));
    if (y < first_year || y > last_year) continue;
    lake::CuratedBar row;
    row.bar.session_date =
        Date::from_ymd(y, std::stoi(f[0].substr(4, 2)), std::stoi(f[0].substr(6, 2)));
    row.bar.ts_ns = TradingCalendar::nyse().session_open_ts_ns(row.bar.session_date);
    row.bar.open = std::stod(f[1]) / 10'000;
    row.bar.high = std::stod(f[2]) / 10'000;
    row.bar.low = std::stod(f[3]) / 10'000;
    row.bar.close = std::stod(f[4]) / 10'000;
    row.bar.volume = std::stod(f[5]);
    row.source = "lean";
    row.raw_id = std::string(64, '0');
    rows.push_back(row);
  }
  return rows;
}

class FeatureWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("trib_features_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    store_ = lake::open_local_store(dir_ / "lake");
    catalog_ = catalog::open_sqlite_catalog(dir_ / "catalog.db");
    rows_ = load_spy(1998, 2000);
    // Curate the bars the way ETL does: one file per year, committed in the manifest.
    std::map<std::string, std::vector<lake::CuratedBar>> by_year;
    for (const auto& r : rows_) by_year[partition_of(Timeframe::kDay1, r.bar.session_date)].push_back(r);
    std::vector<etl::PendingVersion> pending;
    for (const auto& [year, rows] : by_year) {
      etl::PendingVersion p;
      p.bytes = lake::encode_bars_file(rows, spy_, Timeframe::kDay1, year);
      catalog::PartitionRecord& rec = p.commit.record;
      rec.key = {"bars", "1d", "SPY", year};
      rec.object_key = lake::curated_bars_key(Timeframe::kDay1, spy_, year);
      rec.row_count = static_cast<int64_t>(rows.size());
      rec.min_ts_ns = rows.front().bar.ts_ns;
      rec.max_ts_ns = rows.back().bar.ts_ns;
      rec.code_version = std::string(code_version());
      pending.push_back(std::move(p));
    }
    etl::commit_versions(*store_, *catalog_, pending);
  }
  void TearDown() override {
    catalog_.reset();
    store_.reset();
    fs::remove_all(dir_);
  }

  fs::path dir_;
  std::unique_ptr<lake::ObjectStore> store_;
  std::unique_ptr<catalog::Catalog> catalog_;
  Symbol spy_ = Symbol::parse("SPY");
  std::vector<lake::CuratedBar> rows_;
};

TEST_F(FeatureWriterTest, WritesOneFilePerYearAndIsIdempotent) {
  ASSERT_EQ(rows_.size(), 252u + 252u + 252u);  // SPY sessions in 1998, 1999, 2000
  const FeatureWriteStats stats = write_basic_features(*store_, *catalog_, spy_);
  EXPECT_EQ(stats.rows, 756);
  EXPECT_EQ(stats.partitions_written, 3);
  EXPECT_EQ(stats.partitions_unchanged, 0);

  const auto parts = catalog_->list_partitions("features/basic", "1d", "SPY");
  ASSERT_EQ(parts.size(), 3u);
  std::map<std::string, std::string> bytes_of;
  for (const auto& p : parts) {
    EXPECT_EQ(p.object_key, lake::features_key("basic", Timeframe::kDay1, spy_, p.key.partition));
    EXPECT_EQ(p.object_key,
              "features/basic/timeframe=1d/symbol=SPY/year=" + p.key.partition + "/data.parquet");
    EXPECT_EQ(p.row_count, 252);
    EXPECT_EQ(p.version, 1);
    EXPECT_EQ(p.code_version, code_version());
    const std::string bytes = store_->get(p.object_key);
    EXPECT_EQ(p.content_sha256, sha256_hex(bytes));
    bytes_of[p.key.partition] = bytes;
  }
  EXPECT_EQ(parts[0].key.partition, "1998");
  EXPECT_EQ(parts[0].min_ts_ns, rows_.front().bar.ts_ns);
  EXPECT_EQ(parts[2].max_ts_ns, rows_.back().bar.ts_ns);

  // Same bars again: nothing rewritten, byte-identical files (no wall clock in them).
  const FeatureWriteStats again = write_basic_features(*store_, *catalog_, spy_);
  EXPECT_EQ(again.partitions_written, 0);
  EXPECT_EQ(again.partitions_unchanged, 3);
  for (const auto& p : catalog_->list_partitions("features/basic", "1d", "SPY")) {
    EXPECT_EQ(p.version, 1);
    EXPECT_EQ(store_->get(p.object_key), bytes_of[p.key.partition]);
  }
}

TEST_F(FeatureWriterTest, FileSchemaMetadataNullsAndValues) {
  write_basic_features(*store_, *catalog_, spy_);
  const std::vector<std::string> names = {"ts",     "session_date", "close",     "sma_20",
                                          "sma_50", "ema_12",       "ema_26",    "rsi_14",
                                          "log_return", "volatility_20"};
  for (const std::string year : {"1998", "1999"}) {
    parquet::Reader reader(parquet::memory_source(store_->get(
                               lake::features_key("basic", Timeframe::kDay1, spy_, year))),
                           year);
    const auto& md = reader.metadata();
    EXPECT_EQ(md.num_rows, 252);
    EXPECT_EQ(md.kv("trib.schema"), "features/basic/1");
    EXPECT_EQ(md.kv("trib.symbol"), "SPY");
    EXPECT_EQ(md.kv("trib.timeframe"), "1d");
    EXPECT_EQ(md.kv("trib.partition"), year);
    EXPECT_EQ(md.kv("trib.code_version"), std::string(code_version()));
    ASSERT_EQ(md.schema.columns.size(), names.size());
    for (size_t c = 0; c < names.size(); ++c) EXPECT_EQ(md.schema.columns[c].name, names[c]);
    EXPECT_EQ(md.schema.columns[0].logical, parquet::LogicalType::kTimestamp);
    EXPECT_EQ(md.schema.columns[1].logical, parquet::LogicalType::kDate);
    EXPECT_FALSE(md.schema.columns[2].optional);
    EXPECT_TRUE(md.schema.columns[3].optional);

    std::vector<parquet::ColumnVector> cols;
    for (int g = 0; g < reader.num_row_groups(); ++g) {
      auto group = reader.read_row_group(g, {0, 1, 2, 3, 8});
      if (cols.empty()) {
        cols = std::move(group);
        continue;
      }
      for (size_t c = 0; c < cols.size(); ++c) {  // row groups concatenated (tiny files: 1)
        auto& dst = cols[c];
        auto& src = group[c];
        dst.i64.insert(dst.i64.end(), src.i64.begin(), src.i64.end());
        dst.i32.insert(dst.i32.end(), src.i32.begin(), src.i32.end());
        dst.f64.insert(dst.f64.end(), src.f64.begin(), src.f64.end());
        dst.defined.insert(dst.defined.end(), src.defined.begin(), src.defined.end());
        dst.num_rows += src.num_rows;
      }
    }
    ASSERT_EQ(cols[0].num_rows, 252u);
    const size_t offset = year == "1998" ? 0 : 252;
    for (size_t i = 0; i < 252; ++i) {
      const Bar& bar = rows_[offset + i].bar;
      ASSERT_EQ(cols[0].i64[i], bar.ts_ns);
      ASSERT_EQ(cols[1].i32[i], bar.session_date.days_since_epoch());
      ASSERT_EQ(cols[2].f64[i], bar.close);
      // sma_20: null for the first 19 rows of 1998 only; 1999 starts warm (full history).
      const size_t global = offset + i;
      ASSERT_EQ(cols[3].is_null(i), global < 19) << year << " row " << i;
      if (global >= 19) {
        double s = 0;  // naive window sum
        for (size_t j = global - 19; j <= global; ++j) s += rows_[j].bar.close;
        ASSERT_NEAR(cols[3].f64[i], s / 20, 1e-9);
      }
      ASSERT_EQ(cols[4].is_null(i), global < 1);  // log_return
      if (global >= 1) {
        ASSERT_NEAR(cols[4].f64[i], std::log(bar.close / rows_[global - 1].bar.close), 1e-15);
      }
    }
  }
}

TEST_F(FeatureWriterTest, UnknownSymbolIsNotFound) {
  try {
    write_basic_features(*store_, *catalog_, Symbol::parse("NOPE"));
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::kNotFound);
  }
  EXPECT_TRUE(catalog_->list_partitions("features/basic").empty());
}

}  // namespace
}  // namespace trib::features

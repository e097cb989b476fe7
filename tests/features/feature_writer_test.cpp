// write_feature_set end to end: real SPY bars (1998-2000) curated into a local lake with a
// SQLite catalog, the basic and alpha158 sets written, read back with our Parquet reader,
// rewritten unchanged; written day by day they equal one pass, byte for byte; a new split
// recomputes the history it re-adjusts.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
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
    commit_bars(*store_, *catalog_, rows_);
  }

  // Curates `rows` the way ETL does: one file per year, committed in the manifest (a year
  // committed again is replaced).
  void commit_bars(lake::ObjectStore& store, catalog::Catalog& catalog, const std::vector<lake::CuratedBar>& rows,
                   const Symbol& symbol = Symbol::parse("SPY")) {
    std::map<std::string, std::vector<lake::CuratedBar>> by_year;
    for (const auto& r : rows) by_year[partition_of(Timeframe::kDay1, r.bar.session_date)].push_back(r);
    std::vector<etl::PendingVersion> pending;
    for (const auto& [year, part] : by_year) {
      etl::PendingVersion p;
      p.bytes = lake::encode_bars_file(part, symbol, Timeframe::kDay1, year);
      catalog::PartitionRecord& rec = p.commit.record;
      rec.key = {"bars", "1d", symbol.str(), year};
      rec.object_key = lake::curated_bars_key(Timeframe::kDay1, symbol, year);
      rec.row_count = static_cast<int64_t>(part.size());
      rec.min_ts_ns = part.front().bar.ts_ns;
      rec.max_ts_ns = part.back().bar.ts_ns;
      rec.code_version = std::string(code_version());
      const auto current = catalog.get_partition(rec.key);
      p.commit.expected_version = current ? current->version : 0;
      pending.push_back(std::move(p));
    }
    etl::commit_versions(store, catalog, pending);
  }

  FeatureRunStats write(const std::string& set_name, lake::ObjectStore& store, catalog::Catalog& catalog,
                        bool full = false) {
    FeatureRunOptions options;
    options.full = full;
    return write_feature_set(store, catalog, load_feature_set(set_name, dir_), {spy_}, options);
  }
  FeatureRunStats write(const std::string& set_name = "basic") { return write(set_name, *store_, *catalog_); }

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
  const FeatureRunStats stats = write();
  EXPECT_EQ(stats.rows_computed, 756);
  EXPECT_EQ(stats.symbols_full, 1);
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
  const FeatureRunStats again = write();
  EXPECT_EQ(again.symbols_current, 1);
  EXPECT_EQ(again.rows_computed, 0);
  EXPECT_EQ(again.partitions_written, 0);
  // --full recomputes and commits the same bytes: unchanged.
  const FeatureRunStats full = write("basic", *store_, *catalog_, true);
  EXPECT_EQ(full.partitions_written, 0);
  EXPECT_EQ(full.partitions_unchanged, 3);
  for (const auto& p : catalog_->list_partitions("features/basic", "1d", "SPY")) {
    EXPECT_EQ(p.version, 1);
    EXPECT_EQ(store_->get(p.object_key), bytes_of[p.key.partition]);
  }
}

TEST_F(FeatureWriterTest, FileSchemaMetadataNullsAndValues) {
  write();
  const FeatureSet basic = load_feature_set("basic", dir_);
  std::vector<std::string> names = {"ts", "session_date", "close"};
  for (const auto& [name, formula] : basic.features) names.push_back(name);
  ASSERT_EQ(std::vector<std::string>(names.begin() + 3, names.begin() + 10),
            (std::vector<std::string>{"sma_20", "sma_50", "ema_12", "ema_26", "rsi_14", "log_return", "volatility_20"}));
  for (const std::string year : {"1998", "1999"}) {
    parquet::Reader reader(parquet::memory_source(store_->get(
                               lake::features_key("basic", Timeframe::kDay1, spy_, year))),
                           year);
    const auto& md = reader.metadata();
    EXPECT_EQ(md.num_rows, 252);
    EXPECT_EQ(md.kv("trib.schema"), "features/2");
    EXPECT_EQ(md.kv("trib.feature_set"), "basic");
    EXPECT_EQ(md.kv("trib.feature_set_sha256"), basic.hash);
    EXPECT_EQ(md.kv("trib.adjust"), "raw");
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

TEST_F(FeatureWriterTest, UnknownSymbolIsRefused) {
  try {
    write_feature_set(*store_, *catalog_, load_feature_set("basic", dir_), {Symbol::parse("NOPE")});
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("NOPE"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(catalog_->list_partitions("features/basic").empty());
}

// The bytes of every partition of `dataset`, by partition.
std::map<std::string, std::string> files_of(lake::ObjectStore& store, catalog::Catalog& catalog, const std::string& dataset,
                                            const std::string& symbol = "SPY") {
  std::map<std::string, std::string> out;
  for (const auto& p : catalog.list_partitions(dataset, "1d", symbol)) out[p.key.partition] = store.get(p.object_key);
  return out;
}

TEST_F(FeatureWriterTest, DayByDayEqualsOnePassByteForByte) {
  // A second workspace fed the same bars in four steps: 1998 and half of 1999, then one more
  // session, then the rest of 1999, then 2000. Each step computes only the new sessions.
  const fs::path other = dir_ / "other";
  auto store = lake::open_local_store(other / "lake");
  auto catalog = catalog::open_sqlite_catalog(other / "catalog.db");
  const size_t cuts[] = {252 + 126, 252 + 127, 504, 756};
  size_t done = 0;
  for (size_t cut : cuts) {
    commit_bars(*store, *catalog, std::vector<lake::CuratedBar>(rows_.begin(), rows_.begin() + static_cast<long>(cut)));
    for (const char* set : {"basic", "alpha158"}) {
      const FeatureRunStats s = write(set, *store, *catalog);
      EXPECT_EQ(s.rows_computed, static_cast<int64_t>(cut - done)) << set << " at " << cut;
      EXPECT_EQ(done == 0 ? s.symbols_full : s.symbols_incremental, 1) << set << " at " << cut;
    }
    done = cut;
  }
  for (const char* set : {"basic", "alpha158"}) {
    write(set);  // one pass over the three years
    const auto one_pass = files_of(*store_, *catalog_, std::string("features/") + set);
    const auto day_by_day = files_of(*store, *catalog, std::string("features/") + set);
    ASSERT_EQ(one_pass.size(), 3u) << set;
    ASSERT_EQ(day_by_day.size(), 3u) << set;
    for (const auto& [partition, bytes] : one_pass) {
      EXPECT_TRUE(day_by_day.at(partition) == bytes) << set << " " << partition << " differs";
    }
  }
}

TEST_F(FeatureWriterTest, CrossSectionalSetsDayByDayEqualOnePass) {
  // Three symbols (SPY and two transforms of it, one starting a year late) ranked against each
  // other each day, with a time-series mean of the rank on top.
  auto transformed = [&](double scale, double tilt, size_t skip) {
    std::vector<lake::CuratedBar> rows(rows_.begin() + static_cast<long>(skip), rows_.end());
    for (size_t i = 0; i < rows.size(); ++i) {
      for (double* v : {&rows[i].bar.open, &rows[i].bar.high, &rows[i].bar.low, &rows[i].bar.close}) {
        *v = *v * scale * (1 + tilt * std::sin(static_cast<double>(i) * 0.1));
      }
    }
    return rows;
  };
  const Symbol qqq = Symbol::parse("QQQ"), iwm = Symbol::parse("IWM");
  const std::vector<Symbol> universe = {spy_, qqq, iwm};
  const FeatureSet set = parse_feature_set("cs",
                                           "[features]\n"
                                           "MOM = \"CSRank($close / Ref($close, 20) - 1)\"\n"
                                           "MOM5 = \"Mean(CSRank($close / Ref($close, 20) - 1), 5)\"\n"
                                           "Z = \"CSZScore(Std($close, 10) / $close)\"\n",
                                           "cs.toml");
  commit_bars(*store_, *catalog_, transformed(0.5, 0.05, 0), qqq);
  commit_bars(*store_, *catalog_, transformed(2.0, -0.03, 252), iwm);
  EXPECT_EQ(write_feature_set(*store_, *catalog_, set, universe).symbols_full, 3);

  const fs::path other = dir_ / "other";
  auto store = lake::open_local_store(other / "lake");
  auto catalog = catalog::open_sqlite_catalog(other / "catalog.db");
  for (size_t cut : {300u, 301u, 600u, 756u}) {
    auto head = [&](std::vector<lake::CuratedBar> rows) {  // the sessions up to SPY's row `cut`
      const int64_t last = rows_[cut - 1].bar.ts_ns;
      rows.erase(std::remove_if(rows.begin(), rows.end(), [&](const auto& r) { return r.bar.ts_ns > last; }), rows.end());
      return rows;
    };
    commit_bars(*store, *catalog, head(rows_));
    commit_bars(*store, *catalog, head(transformed(0.5, 0.05, 0)), qqq);
    const auto late = head(transformed(2.0, -0.03, 252));
    if (!late.empty()) commit_bars(*store, *catalog, late, iwm);
    const std::vector<Symbol> present = late.empty() ? std::vector<Symbol>{spy_, qqq} : universe;
    write_feature_set(*store, *catalog, set, present);
  }
  for (const Symbol& symbol : universe) {
    const auto one_pass = files_of(*store_, *catalog_, "features/cs", symbol.str());
    const auto day_by_day = files_of(*store, *catalog, "features/cs", symbol.str());
    ASSERT_EQ(one_pass.size(), day_by_day.size()) << symbol.str();
    for (const auto& [partition, bytes] : one_pass) {
      EXPECT_TRUE(day_by_day.at(partition) == bytes) << symbol.str() << " " << partition << " differs";
    }
  }
}

TEST_F(FeatureWriterTest, ANewSplitRecomputesTheHistoryItAdjusts) {
  FeatureRunOptions total;
  total.prices.adjust = AdjustMode::kTotal;
  const FeatureSet basic = load_feature_set("basic", dir_);
  EXPECT_EQ(write_feature_set(*store_, *catalog_, basic, {spy_}, total).symbols_full, 1);
  const auto before = files_of(*store_, *catalog_, "features/basic");
  EXPECT_EQ(write_feature_set(*store_, *catalog_, basic, {spy_}, total).symbols_current, 1);
  // A (fictitious) 2-for-1 split in mid-1999 halves every earlier adjusted price.
  catalog::ActionRecord split;
  split.action.kind = CorporateAction::Kind::kSplit;
  split.action.symbol = spy_;
  split.action.ex_date = Date::from_ymd(1999, 6, 1);
  split.action.split_ratio = 2;
  split.source = "user";
  split.knowledge_ts_ns = 1;
  catalog_->record_actions({split});
  const FeatureRunStats after = write_feature_set(*store_, *catalog_, basic, {spy_}, total);
  EXPECT_EQ(after.symbols_full, 1);
  EXPECT_EQ(after.rows_computed, 756);
  const auto files = files_of(*store_, *catalog_, "features/basic");
  EXPECT_NE(files.at("1998"), before.at("1998"));  // the close column halves
}

}  // namespace
}  // namespace trib::features

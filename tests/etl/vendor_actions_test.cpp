// The corporate actions a vendor payload reports go into the catalog through the ETL, as the
// vendor's, known from the payload's fetch time: once however often the payload is applied; an
// invalid one is quarantined with its reason and counted; and read_adjusted_bars over a real
// lake and catalog uses them (Yahoo's NVDA payload: split-adjusted on delivery, read as traded).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "trib/catalog/catalog.hpp"
#include "trib/etl/adjusted_bars.hpp"
#include "trib/etl/corporate_actions.hpp"
#include "trib/etl/etl.hpp"
#include "trib/lake/object_store.hpp"
#include "trib/providers/provider.hpp"
#include "../core/test_util.hpp"

namespace fs = std::filesystem;
using namespace trib;

namespace {

std::optional<std::string> yahoo_nvda_body() {
  const char* env = std::getenv("TRIB_SHARED_DATA");
  const fs::path root = env != nullptr ? fs::path(env) : fs::path(TRIB_SOURCE_DIR) / "../shared/data";
  std::ifstream in(root / "vendor-samples/yahoo/chart/historical-via-chart-NVDA-split-2021-02-01-to-2022-01-31.csv.json");
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  const auto wrapper = nlohmann::json::parse(ss.str());
  const auto& response = wrapper.at("response");
  return response.contains("bodyJson") ? response.at("bodyJson").dump() : response.at("body").get<std::string>();
}

class VendorActionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = lake::open_local_store(dir_.path() / "lake");
    catalog_ = catalog::open_sqlite_catalog(dir_.path() / "catalog.db", {});
  }
  ingest::FetchedRaw payload(const std::string& vendor, const std::string& symbol, providers::ParseResult parsed,
                             int64_t fetched_at) {
    ingest::FetchedRaw f;
    f.record.object_key = fmt::format("raw/vendor={}/dataset=bars/symbol={}/x{}.json", vendor, symbol, fetched_at);
    f.record.vendor = vendor;
    f.record.dataset = "bars";
    f.record.symbol = symbol;
    f.record.sha256 = fmt::format("sha{}", fetched_at);
    f.record.fetched_at_ns = fetched_at;
    f.symbol = Symbol::parse(symbol);
    f.run_id = "run-1";
    f.parsed = std::move(parsed);
    return f;
  }
  trib::testing::TempDir dir_;
  std::unique_ptr<lake::ObjectStore> store_;
  std::unique_ptr<catalog::Catalog> catalog_;
};

TEST_F(VendorActionsTest, YahooSplitIsRecordedOnceAndReadersUseIt) {
  const auto body = yahoo_nvda_body();
  if (!body) GTEST_SKIP() << "no ../shared/data here";
  providers::ParseContext context;
  context.symbol = Symbol::parse("NVDA");
  const auto parsed = providers::make_provider("yahoo")->parse(*body, context);
  const int64_t fetched = parse_ts_ns("2022-02-01T12:00:00Z");
  etl::EtlEngine engine(*store_, *catalog_);
  const auto stats = engine.apply(payload("yahoo", "NVDA", parsed, fetched));
  EXPECT_EQ(stats.actions_added, 1);
  EXPECT_EQ(stats.rows_accepted, 252);
  EXPECT_EQ(engine.apply(payload("yahoo", "NVDA", parsed, fetched)).actions_added, 0);
  // The next day's fetch repeats the event: nothing new, the first knowledge time stays.
  EXPECT_EQ(engine.apply(payload("yahoo", "NVDA", parsed, fetched + kNanosPerDay)).actions_added, 0);
  const auto known = catalog_->list_actions("NVDA");
  ASSERT_EQ(known.size(), 1u);
  EXPECT_EQ(known[0].source, "yahoo");
  EXPECT_EQ(known[0].knowledge_ts_ns, fetched);
  EXPECT_EQ(known[0].action.ex_date, Date::parse("2021-07-20"));
  EXPECT_TRUE(catalog_->list_actions("NVDA", fetched - 1).empty());

  etl::BarsQuery query{Symbol::parse("NVDA"), Timeframe::kDay1, Date::parse("2021-07-16"), Date::parse("2021-07-21")};
  etl::PriceOptions raw;
  const auto as_traded = etl::read_adjusted_bars(*store_, *catalog_, query, raw);
  ASSERT_EQ(as_traded.rows.size(), 4u);
  // Fetched in 2022: Yahoo had divided the pre-split rows by 4 (and not yet by the 2024 split's 10).
  const auto stored = etl::read_curated_bars(*store_, *catalog_, query);
  EXPECT_DOUBLE_EQ(as_traded.rows[0].bar.close, stored[0].bar.close * 4);
  EXPECT_DOUBLE_EQ(as_traded.rows[3].bar.close, stored[3].bar.close);
  etl::PriceOptions split;
  split.adjust = AdjustMode::kSplit;
  const auto adjusted = etl::read_adjusted_bars(*store_, *catalog_, query, split);
  for (size_t i = 0; i < 4; ++i) EXPECT_NEAR(adjusted.rows[i].bar.close, stored[i].bar.close, 1e-12 * stored[i].bar.close);
  // As of before the fetch nothing was known: Yahoo's values are all there is.
  split.actions_as_of_ns = fetched - 1;
  EXPECT_DOUBLE_EQ(etl::read_adjusted_bars(*store_, *catalog_, query, split).rows[0].bar.close, stored[0].bar.close);
}

TEST_F(VendorActionsTest, AnInvalidActionIsQuarantinedWithItsReason) {
  providers::ParseResult parsed;
  Bar bar;
  bar.session_date = Date::parse("2021-03-01");
  bar.ts_ns = parse_ts_ns("2021-03-01T14:30:00Z");
  bar.open = bar.high = bar.low = bar.close = 10;
  bar.volume = 100;
  parsed.bars[Symbol::parse("XYZ")] = {bar};
  CorporateAction bad;
  bad.kind = CorporateAction::Kind::kSplit;
  bad.ex_date = Date::parse("2021-02-01");
  bad.split_ratio = 0;  // no symbol: the payload's
  CorporateAction good = bad;
  good.kind = CorporateAction::Kind::kDividend;
  good.cash_amount = 0.25;
  parsed.actions = {bad, good};
  etl::EtlEngine engine(*store_, *catalog_);
  const auto stats = engine.apply(payload("polygon", "XYZ", parsed, 5));
  EXPECT_EQ(stats.actions_added, 1);
  EXPECT_EQ(stats.actions_quarantined, 1);
  EXPECT_EQ(stats.quarantined_by_rule.at("bad_corporate_action"), 1);
  const auto known = catalog_->list_actions("XYZ");
  ASSERT_EQ(known.size(), 1u);
  EXPECT_EQ(known[0].action.symbol.str(), "XYZ");
  const auto keys = store_->list("quarantine/actions/");
  ASSERT_EQ(keys.size(), 1u);
  const auto note = nlohmann::json::parse(store_->get(keys[0]));
  EXPECT_EQ(note["actions"][0]["reason"], "split ratio 0 is not a positive number");
  bool counted = false;
  for (const auto& r : catalog_->dq_summary()) counted = counted || (r.rule == "bad_corporate_action" && r.rows == 1);
  EXPECT_TRUE(counted);
}

}  // namespace

// Alpaca's corporate actions page (GET /v1/corporate-actions) through the ETL: recorded as
// alpaca's, known from the fetch, and a conflict with another source is a finding.
TEST_F(VendorActionsTest, AlpacaCorporateActionsAreRecordedAsAlpacas) {
  const std::string page = R"({"corporate_actions":{"forward_splits":[{"symbol":"AAPL","new_rate":4,"old_rate":1,
    "process_date":"2020-08-31","ex_date":"2020-08-31","record_date":"2020-08-24","payable_date":"2020-08-28"}],
    "cash_dividends":[{"symbol":"AAPL","rate":0.82,"special":false,"foreign":false,"process_date":"2020-08-13",
    "ex_date":"2020-08-07","record_date":"2020-08-10","payable_date":"2020-08-13"}]},"next_page_token":null})";
  providers::ParseContext context;
  context.symbol = Symbol::parse("AAPL");
  const auto parsed = providers::make_provider("alpaca")->parse(page, context);
  const int64_t fetched = parse_ts_ns("2020-09-01T12:00:00Z");
  etl::EtlEngine engine(*store_, *catalog_);
  EXPECT_EQ(engine.apply(payload("alpaca", "AAPL", parsed, fetched)).actions_added, 2);
  EXPECT_EQ(engine.apply(payload("alpaca", "AAPL", parsed, fetched)).actions_added, 0);
  const auto known = catalog_->list_actions("AAPL");
  ASSERT_EQ(known.size(), 2u);
  for (const auto& r : known) {
    EXPECT_EQ(r.source, "alpaca");
    EXPECT_EQ(r.knowledge_ts_ns, fetched);
  }
  // A user's file that says 2:1: one split, two versions, a conflict; [prices] action_precedence
  // puts the user first.
  catalog::ActionRecord user = known[0].action.kind == CorporateAction::Kind::kSplit ? known[0] : known[1];
  user.source = "user";
  user.action.split_ratio = 2;
  user.knowledge_ts_ns = fetched + 1;
  catalog_->record_actions({user});
  const auto resolved = etl::resolve_actions(catalog_->list_actions("AAPL"),
                                             etl::SourcePrecedence::parse("user,alpaca"));
  ASSERT_EQ(resolved.conflicts.size(), 1u);
  EXPECT_EQ(resolved.conflicts[0].chosen_source, "user");
}

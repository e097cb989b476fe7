// Adjusted prices on read (etl/adjusted_bars.hpp) and choosing between sources
// (etl/corporate_actions.hpp), on real data where there is some:
//  - AAPL's raw Lean bars with the actions Lean's factor file encodes: our total-return and
//    split-adjusted closes equal raw x Lean's own factors on every session 1998-2021, and the
//    split-adjusted series is continuous across the 7:1 and 4:1 splits;
//  - Yahoo's NVDA chart (split-adjusted as of its fetch, after the 2024 10:1 split): raw prices
//    come back as traded (2021-02-01 closes at 13.237 x 40 = 529.48) and split mode equals
//    Yahoo's own values;
//  - a split- and dividend-adjusted vendor (Stooq's basis) is turned back into raw exactly;
//  - sources that disagree: the preferred one is used and the disagreement is reported.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "trib/core/error.hpp"
#include "trib/core/time.hpp"
#include "trib/etl/adjusted_bars.hpp"
#include "trib/etl/corporate_actions.hpp"
#include "trib/providers/action_files.hpp"
#include "trib/providers/provider.hpp"
#include "../../src/providers/csv/lean_factors.hpp"
#include "../core/lean_data.hpp"
#include "../core/test_util.hpp"

namespace fs = std::filesystem;
using namespace trib;
using namespace trib::etl;

namespace {

fs::path shared_data() { return trib::testing::shared_data(); }
fs::path lean_dir() { return shared_data() / "equities-daily/lean-us-equity-daily"; }

std::vector<lake::CuratedBar> lean_raw(const std::string& symbol) {
  std::vector<lake::CuratedBar> out;
  for (const Bar& b : trib::testing::lean_raw_daily(symbol)) out.push_back({b, "csv", "", 0});
  return out;
}

catalog::ActionRecord record(CorporateAction::Kind kind, const std::string& ex, double value,
                             const std::string& source) {
  catalog::ActionRecord r;
  r.action.kind = kind;
  r.action.symbol = Symbol::parse("AAPL");
  r.action.ex_date = Date::parse(ex);
  if (kind == CorporateAction::Kind::kSplit) r.action.split_ratio = value;
  if (kind == CorporateAction::Kind::kDividend) r.action.cash_amount = value, r.action.currency = "USD";
  r.source = source;
  return r;
}

TEST(AdjustedBars, AaplTotalAndSplitModesEqualLeansFactorsOnEverySession) {
  if (!fs::exists(lean_dir())) GTEST_SKIP() << "no ../shared/data here";
  const std::string factor_text = trib::testing::slurp(lean_dir() / "factor_files/aapl.csv");
  const auto lean = providers::parse_lean_factor_file(factor_text);  // Lean's numbers: the reference
  std::vector<CorporateAction> actions;
  for (const auto& a : providers::parse_action_file(factor_text, providers::ActionFileFormat::kLeanFactor,
                                                    Symbol::parse("AAPL")).actions) {
    actions.push_back(a.action);
  }
  const auto raw = lean_raw("AAPL");
  ASSERT_EQ(raw.size(), 5849u);
  const auto total = adjust_history(raw, std::nullopt, std::nullopt, actions, AdjustMode::kTotal);
  const auto split = adjust_history(raw, std::nullopt, std::nullopt, actions, AdjustMode::kSplit);
  const auto as_traded = adjust_history(raw, std::nullopt, std::nullopt, actions, AdjustMode::kRaw);
  ASSERT_EQ(total.rows.size(), raw.size());
  EXPECT_TRUE(total.notes.empty());
  double worst = 0;
  for (size_t i = 0; i < raw.size(); ++i) {
    const AdjustmentFactor& f = factor_on(lean, raw[i].bar.session_date);
    const double want_total = raw[i].bar.close * f.split * f.dividend;
    const double want_split = raw[i].bar.close * f.split;
    worst = std::max(worst, std::abs(total.rows[i].bar.close / want_total - 1));
    worst = std::max(worst, std::abs(split.rows[i].bar.close / want_split - 1));
    ASSERT_NEAR(split.rows[i].bar.volume, raw[i].bar.volume / f.split, 1e-6 * raw[i].bar.volume / f.split);
    ASSERT_EQ(as_traded.rows[i], raw[i]);
  }
  EXPECT_LT(worst, 2e-6);
  // Continuous across the splits (the raw series drops 86% and 75%).
  auto ret_on = [&](const AdjustedBars& b, const char* day) {
    for (size_t i = 1; i < b.rows.size(); ++i) {
      if (b.rows[i].bar.session_date == Date::parse(day)) return b.rows[i].bar.close / b.rows[i - 1].bar.close - 1;
    }
    return std::nan("");
  };
  EXPECT_LT(std::abs(ret_on(split, "2014-06-09")), 0.02);
  EXPECT_LT(std::abs(ret_on(split, "2020-08-31")), 0.04);
  EXPECT_LT(ret_on(as_traded, "2014-06-09"), -0.85);
  // Hand-computed: 2020-08-28 closed at 499.23 before the 4:1 split -> 124.8075 split-adjusted.
  for (const auto& r : split.rows) {
    if (r.bar.session_date == Date::parse("2020-08-28")) {
      EXPECT_NEAR(r.bar.close, 499.23 / 4, 1e-9);
    }
  }
  // A window reads the same values as the whole history (the factors depend on what follows).
  const auto window = adjust_history(
      std::vector<lake::CuratedBar>(raw.begin() + 4000, raw.end()), Date::parse("2014-01-02"),
      Date::parse("2014-12-31"), actions, AdjustMode::kTotal);
  for (const auto& r : window.rows) {
    const AdjustmentFactor& f = factor_on(lean, r.bar.session_date);
    size_t i = 0;
    while (raw[i].bar.session_date != r.bar.session_date) ++i;
    ASSERT_NEAR(r.bar.close / (raw[i].bar.close * f.split * f.dividend), 1, 2e-6);
  }
}

TEST(AdjustedBars, YahooSplitAdjustedRowsReadAsTradedAndAreNotAdjustedTwice) {
  const fs::path file = shared_data() / "vendor-samples/yahoo/chart/historical-via-chart-NVDA-split-2021-02-01-to-2022-01-31.csv.json";
  if (!fs::exists(file)) GTEST_SKIP() << "no ../shared/data here";
  const auto wrapper = nlohmann::json::parse(trib::testing::slurp(file));
  const auto& response = wrapper.at("response");
  const std::string body = response.contains("bodyJson") ? response.at("bodyJson").dump()
                                                         : response.at("body").get<std::string>();
  providers::ParseContext context;
  context.symbol = Symbol::parse("NVDA");
  const auto parsed = providers::make_provider("yahoo")->parse(body, context);
  std::vector<lake::CuratedBar> rows;
  for (const Bar& b : parsed.bars.at(Symbol::parse("NVDA"))) {
    rows.push_back({b, "yahoo", "raw-id", parse_ts_ns("2025-01-02T00:00:00Z")});
  }
  std::vector<CorporateAction> actions = parsed.actions;  // the 2021-07-20 4:1 split
  ASSERT_EQ(actions.size(), 1u);
  CorporateAction ten = actions[0];  // known from another source: 10:1 on 2024-06-10
  ten.ex_date = Date::parse("2024-06-10");
  ten.split_ratio = 10;
  actions.push_back(ten);
  const auto raw = adjust_history(rows, std::nullopt, std::nullopt, actions, AdjustMode::kRaw);
  const auto split = adjust_history(rows, std::nullopt, std::nullopt, actions, AdjustMode::kSplit);
  ASSERT_EQ(raw.rows.size(), rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    const bool before = rows[i].bar.session_date < Date::parse("2021-07-20");
    const double m = before ? 40 : 10;
    ASSERT_NEAR(raw.rows[i].bar.close, rows[i].bar.close * m, 1e-9 * m * rows[i].bar.close);
    ASSERT_NEAR(raw.rows[i].bar.volume, rows[i].bar.volume / m, 1e-6);
    ASSERT_NEAR(split.rows[i].bar.close, rows[i].bar.close, 1e-12 * rows[i].bar.close);
  }
  EXPECT_NEAR(raw.rows.front().bar.close, 529.48, 0.01);  // NVDA's close on 2021-02-01, as traded
  // A row fetched before the 2024 split was not adjusted for it.
  auto early = rows;
  for (auto& r : early) r.fetched_at_ns = parse_ts_ns("2022-02-01T00:00:00Z");
  const auto raw_early = adjust_history(early, std::nullopt, std::nullopt, actions, AdjustMode::kRaw);
  EXPECT_NEAR(raw_early.rows.front().bar.close, rows.front().bar.close * 4, 1e-9);
}

TEST(AdjustedBars, ATotalReturnVendorIsTurnedBackIntoRawExactly) {
  // Raw closes, a 2:1 split on day 4 and a dividend of 1.5 on day 6; the vendor (Stooq's basis)
  // delivered them adjusted for both, as of a fetch after day 8.
  const std::vector<double> raw_close = {100, 102, 101, 52, 53, 50.5, 51, 52};
  const Date first = Date::parse("2021-03-01");
  std::vector<CorporateAction> actions(2);
  actions[0].kind = CorporateAction::Kind::kSplit;
  actions[0].symbol = Symbol::parse("SPY");
  actions[0].ex_date = first + 3;
  actions[0].split_ratio = 2;
  actions[1].kind = CorporateAction::Kind::kDividend;
  actions[1].symbol = Symbol::parse("SPY");
  actions[1].ex_date = first + 5;
  actions[1].cash_amount = 1.5;
  std::vector<lake::CuratedBar> raw_rows, vendor_rows;
  for (size_t i = 0; i < raw_close.size(); ++i) {
    lake::CuratedBar r;
    r.bar.session_date = first + static_cast<int>(i);
    r.bar.ts_ns = to_ts_ns(r.bar.session_date);
    r.bar.open = r.bar.high = r.bar.low = r.bar.close = raw_close[i];
    r.bar.volume = 1000;
    r.source = "csv";
    raw_rows.push_back(r);
  }
  const auto total = adjust_history(raw_rows, std::nullopt, std::nullopt, actions, AdjustMode::kTotal);
  // Hand-computed: dividend factor 1 - 1.5 / 53, split 1/2 before day 4.
  EXPECT_NEAR(total.rows[0].bar.close, 100 * 0.5 * (1 - 1.5 / 53), 1e-12);
  EXPECT_NEAR(total.rows[4].bar.close, 53 * (1 - 1.5 / 53), 1e-12);
  EXPECT_NEAR(total.rows[5].bar.close, 50.5, 1e-12);
  for (auto r : total.rows) {
    r.source = "stooq";
    r.fetched_at_ns = parse_ts_ns("2021-04-01");
    vendor_rows.push_back(r);
  }
  const auto back = adjust_history(vendor_rows, std::nullopt, std::nullopt, actions, AdjustMode::kRaw);
  for (size_t i = 0; i < raw_close.size(); ++i) {
    EXPECT_NEAR(back.rows[i].bar.close, raw_close[i], 1e-9) << i;
    EXPECT_NEAR(back.rows[i].bar.volume, 1000, 1e-9) << i;
  }
  const auto again = adjust_history(vendor_rows, std::nullopt, std::nullopt, actions, AdjustMode::kTotal);
  for (size_t i = 0; i < raw_close.size(); ++i) EXPECT_NEAR(again.rows[i].bar.close, total.rows[i].bar.close, 1e-9);
}

TEST(AdjustedBars, ADividendAboveTheCloseIsLeftOutWithANote) {
  std::vector<lake::CuratedBar> rows(3);
  for (int i = 0; i < 3; ++i) {
    rows[i].bar.session_date = Date::parse("2021-03-01") + i;
    rows[i].bar.close = rows[i].bar.open = rows[i].bar.high = rows[i].bar.low = 10;
    rows[i].source = "csv";
  }
  CorporateAction d;
  d.kind = CorporateAction::Kind::kDividend;
  d.symbol = Symbol::parse("X");
  d.ex_date = Date::parse("2021-03-02");
  d.cash_amount = 25;  // in another currency or basis
  const auto out = adjust_history(rows, std::nullopt, std::nullopt, {d}, AdjustMode::kTotal);
  ASSERT_EQ(out.notes.size(), 1u);
  EXPECT_NE(out.notes[0].find("not below the previous close"), std::string::npos);
  EXPECT_EQ(out.rows[0].bar.close, 10);
}

TEST(ResolveActions, ThePreferredSourceWinsAndDisagreementsAreConflicts) {
  using K = CorporateAction::Kind;
  const auto precedence = ActionPrecedence::parse("user, lean,polygon,alphavantage,yahoo");
  std::vector<catalog::ActionRecord> known = {
      record(K::kSplit, "2014-06-09", 7, "yahoo"),
      record(K::kSplit, "2014-06-09", 7.0000001, "lean"),   // same action, printed to 7 digits
      record(K::kDividend, "2020-08-07", 0.205, "alphavantage"),
      record(K::kDividend, "2020-08-07", 0.82, "polygon"),   // before / after the split: a conflict
      record(K::kSplit, "2020-08-28", 4, "yahoo"),
      record(K::kSplit, "2020-08-31", 4, "lean"),           // dates differ by a weekend
      record(K::kDividend, "2021-02-05", 0.205, "zeta"),    // unlisted sources come last, by name
      record(K::kDividend, "2021-02-05", 0.205, "beta"),
  };
  const auto r = resolve_actions(known, precedence);
  ASSERT_EQ(r.actions.size(), 4u);
  EXPECT_EQ(r.chosen[0].source, "lean");
  EXPECT_EQ(r.chosen[1].source, "polygon");
  EXPECT_DOUBLE_EQ(r.actions[1].cash_amount, 0.82);
  EXPECT_EQ(r.chosen[2].source, "lean");
  EXPECT_EQ(r.actions[2].ex_date, Date::parse("2020-08-31"));
  EXPECT_EQ(r.chosen[3].source, "beta");
  ASSERT_EQ(r.conflicts.size(), 2u);
  EXPECT_EQ(r.conflicts[0].chosen_source, "polygon");
  EXPECT_NE(r.conflicts[0].reason.find("0.82 USD (polygon) vs 0.205 USD (alphavantage)"), std::string::npos)
      << r.conflicts[0].reason;
  EXPECT_NE(r.conflicts[1].reason.find("ex-date 2020-08-31 (lean) vs 2020-08-28 (yahoo)"), std::string::npos)
      << r.conflicts[1].reason;
  EXPECT_EQ(precedence.rank("user"), 0);
  EXPECT_EQ(precedence.rank("lean"), 1);
}

}  // namespace

// Our adjustment factors (core/corporate_action.hpp) against Lean's factor files
// (../shared/data/equities-daily/lean-us-equity-daily): the splits and dividends each file
// encodes, applied by our code to Lean's raw daily closes, give Lean's split and price factors
// on every row (1e-6 relative). Files whose ticker has no raw bars here are checked by the round
// trip through their own reference prices. And on real data: AAPL's split-adjusted closes are
// continuous across the 7:1 (2014-06-09) and 4:1 (2020-08-31) splits.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <algorithm>
#include <cstdio>
#include <map>
#include <sstream>

#include "../../src/providers/csv/lean_factors.hpp"
#include "trib/core/calendar.hpp"
#include "trib/core/corporate_action.hpp"
#include "trib/core/error.hpp"
#include "../core/lean_data.hpp"
#include "../core/test_util.hpp"

namespace fs = std::filesystem;
using namespace trib;

namespace {

fs::path lean_dir() {
  return trib::testing::shared_data() / "equities-daily/lean-us-equity-daily";
}

// symbol -> raw daily bars, from the converted CSV.
std::map<std::string, std::vector<Bar>> raw_bars() { return trib::testing::lean_raw_daily_all(); }

// Lean prints factors to 7 decimals (0.0178571 for 1/56: 2.4e-6 off): equal means within 1e-6
// relative or half a unit of the 7th decimal, whichever is larger.
void expect_near_rel(double got, double want, const std::string& what) {
  EXPECT_LE(std::abs(got - want), std::max(1e-6 * std::abs(want), 5.01e-8)) << what << ": ours " << got << ", Lean " << want;
}

// A ratio of two such printed factors carries both roundings: 1e-5 relative.
void expect_ratio_near(double got, double want, const std::string& what) {
  EXPECT_LE(std::abs(got - want), 1e-5 * std::abs(want)) << what << ": ours " << got << ", Lean " << want;
}

}  // namespace

// The first date the ticker names the current security (its map file: the day after the
// second-to-last row; rows before belong to other names or another issuer).
Date current_name_from(const std::string& ticker_lower) {
  const fs::path p = lean_dir() / "map_files" / (ticker_lower + ".csv");
  if (!fs::exists(p)) return Date(0);
  std::istringstream in(trib::testing::slurp(p));
  std::vector<std::string> dates;
  std::string line;
  while (std::getline(in, line)) {
    if (line.size() >= 8) dates.push_back(line.substr(0, 8));
  }
  if (dates.size() < 2) return Date(0);
  const std::string& d = dates[dates.size() - 2];
  return Date::parse(d.substr(0, 4) + "-" + d.substr(4, 2) + "-" + d.substr(6, 2)) + 1;
}

TEST(LeanFactors, OurFactorsFromTheirActionsEqualLeansFactorFilesOnEveryRow) {
  // The algorithm: with each row's reference price as the close before the ex-date, our
  // cumulative split and dividend factors reproduce every row of all 22 files.
  if (!fs::exists(lean_dir() / "factor_files")) GTEST_SKIP() << "no ../shared/data here";
  int files = 0, rows_checked = 0, actions_seen = 0;
  for (const auto& entry : fs::directory_iterator(lean_dir() / "factor_files")) {
    const std::string file = entry.path().filename().string();
    std::string ticker = file.substr(0, file.size() - 4);
    for (auto& c : ticker) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    const auto lean = providers::parse_lean_factor_file(trib::testing::slurp(entry.path()));
    ASSERT_GE(lean.size(), 1u) << file;
    EXPECT_EQ(lean.back().through, Date(kFactorsForeverDay)) << file;
    const auto actions = providers::actions_from_lean_factors(lean, Symbol::parse(ticker));
    actions_seen += static_cast<int>(actions.size());
    ++files;
    std::vector<Bar> closes;
    for (size_t i = 0; i + 1 < lean.size(); ++i) {
      Bar b;
      b.session_date = lean[i].through;
      b.close = lean[i].reference_close;
      closes.push_back(b);
    }
    if (closes.empty()) continue;
    Bar last = closes.back();
    last.session_date = TradingCalendar::nyse().next_session(last.session_date);
    closes.push_back(last);
    const auto ours = adjustment_factors(closes, actions);
    for (size_t i = 0; i + 1 < lean.size(); ++i) {
      const AdjustmentFactor& f = factor_on(ours, lean[i].through);
      expect_near_rel(f.split, lean[i].split, file + " split " + lean[i].through.to_string());
      expect_near_rel(f.dividend, lean[i].dividend, file + " price " + lean[i].through.to_string());
      ++rows_checked;
    }
  }
  EXPECT_EQ(files, 22);
  EXPECT_GT(actions_seen, 300);
  EXPECT_GT(rows_checked, 300);
}

TEST(LeanFactors, EachEventFromRawClosesEqualsLeansWhereTheirReferencePriceIsTheRawClose) {
  // On Lean's raw bars (from the date the ticker names the current security): every event's
  // factor computed from our raw close before the ex-date equals Lean's, except where Lean's
  // reference price is not that close (a data quirk of the files, counted and bounded here).
  if (!fs::exists(lean_dir() / "factor_files")) GTEST_SKIP() << "no ../shared/data here";
  const auto bars = raw_bars();
  int events = 0, quirks = 0, tickers = 0;
  for (const auto& entry : fs::directory_iterator(lean_dir() / "factor_files")) {
    const std::string file = entry.path().filename().string();
    const std::string lower = file.substr(0, file.size() - 4);
    std::string ticker = lower;
    for (auto& c : ticker) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    auto it = bars.find(ticker);
    if (it == bars.end()) continue;
    ++tickers;
    const Date from = current_name_from(lower);
    std::vector<Bar> raw;
    for (const Bar& b : it->second) {
      if (b.session_date >= from) raw.push_back(b);
    }
    const auto lean = providers::parse_lean_factor_file(trib::testing::slurp(entry.path()));
    const auto actions = providers::actions_from_lean_factors(lean, Symbol::parse(ticker));
    const auto ours = adjustment_factors(raw, actions);
    for (size_t i = 0; i + 1 < lean.size(); ++i) {
      const Date t = lean[i].through;
      if (raw.empty() || t < raw.front().session_date || t >= raw.back().session_date) continue;
      const Date next = TradingCalendar::nyse().next_session(t);
      const double lean_split = lean[i + 1].split / lean[i].split;
      const double lean_div = lean[i].dividend / lean[i + 1].dividend;
      const double our_split = factor_on(ours, next).split / factor_on(ours, t).split;
      const double our_div = factor_on(ours, t).dividend / factor_on(ours, next).dividend;
      auto bar = std::lower_bound(raw.begin(), raw.end(), t, [](const Bar& b, Date d) { return b.session_date < d; });
      const bool same_reference = bar != raw.end() && bar->session_date == t &&
                                  std::abs(bar->close - lean[i].reference_close) <= 0.005;
      ++events;
      expect_ratio_near(our_split, lean_split, file + " split after " + t.to_string());
      if (!same_reference) {
        ++quirks;
        std::printf("  %s %s: Lean's reference price %.4f, raw close %.4f\n", ticker.c_str(), t.to_string().c_str(),
                    lean[i].reference_close, bar != raw.end() ? bar->close : 0.0);
        continue;
      }
      expect_ratio_near(our_div, lean_div, file + " dividend after " + t.to_string());
    }
  }
  EXPECT_GE(tickers, 14);
  EXPECT_GT(events, 300);
  EXPECT_LE(quirks * 20, events) << "more than 5% of Lean's reference prices disagree with its raw closes";
}

TEST(LeanFactors, AaplSplitAdjustedClosesAreContinuousAcrossItsSplits) {
  if (!fs::exists(lean_dir() / "factor_files")) GTEST_SKIP() << "no ../shared/data here";
  auto bars = raw_bars().at("AAPL");
  const auto actions = providers::actions_from_lean_factors(
      providers::parse_lean_factor_file(trib::testing::slurp(lean_dir() / "factor_files/aapl.csv")), Symbol::parse("AAPL"));
  const auto factors = adjustment_factors(bars, actions);
  auto raw = bars;
  adjust_bars(bars, factors, AdjustMode::kSplit);
  for (const char* ex : {"2014-06-09", "2020-08-31"}) {
    const Date d = Date::parse(ex);
    size_t i = 0;
    while (bars[i].session_date < d) ++i;
    ASSERT_EQ(bars[i].session_date, d);
    const double raw_return = raw[i].close / raw[i - 1].close - 1;
    const double adjusted_return = bars[i].close / bars[i - 1].close - 1;
    EXPECT_LT(raw_return, -0.7) << ex << ": the raw series shows the split as a crash";
    EXPECT_LT(std::abs(adjusted_return), 0.05) << ex;
  }
  // Hand-computed: the 4:1 split, AAPL's raw close 499.23 on 2020-08-28 is 124.8075 adjusted,
  // and 1998-01-02's 16.25 is 16.25 / 112 (2 x 2 x 7 x 4).
  size_t i = 0;
  while (raw[i].session_date < Date::parse("2020-08-28")) ++i;
  EXPECT_NEAR(bars[i].close, 499.23 / 4, 1e-6 * 499.23 / 4);  // Lean prints factors to ~7 digits
  EXPECT_NEAR(bars[0].close, 16.25 / 112, 1e-6 * 16.25 / 112);
  EXPECT_NEAR(bars[0].volume, raw[0].volume * 112, 1e-6 * raw[0].volume * 112);
  // Total return also removes the dividends: 2020-11-05 (day before the 0.205 ex-date) scales by
  // 1 - 0.205 / 119.03.
  auto total = raw;
  adjust_bars(total, factors, AdjustMode::kTotal);
  while (raw[i].session_date < Date::parse("2020-11-05")) ++i;
  const AdjustmentFactor& f = factor_on(factors, Date::parse("2020-11-05"));
  EXPECT_NEAR(total[i].close / raw[i].close, f.dividend, 1e-12);
  EXPECT_NEAR(factor_on(factors, Date::parse("2020-11-05")).dividend / factor_on(factors, Date::parse("2020-11-06")).dividend,
              1 - 0.205 / 119.03, 2e-6);
}

TEST(LeanFactors, BadRowsAndBadActionsAreInvalidInputNamingTheLine) {
  for (const char* text : {"20200101,1,1\n", "2020-01-01,1,1,0\n", "20200101,0,1,5\n", "20200102,1,1,1\n20200101,1,1,1\n"}) {
    try {
      providers::parse_lean_factor_file(text);
      ADD_FAILURE() << text;
    } catch (const Error& e) {
      EXPECT_EQ(e.category(), ErrorCategory::kInvalidInput);
      EXPECT_NE(std::string(e.what()).find("line"), std::string::npos) << e.what();
    }
  }
  std::vector<Bar> bars(3);
  bars[0].session_date = Date::parse("2024-01-02"), bars[0].close = 10;
  bars[1].session_date = Date::parse("2024-01-03"), bars[1].close = 10;
  bars[2].session_date = Date::parse("2024-01-04"), bars[2].close = 10;
  CorporateAction dividend;
  dividend.kind = CorporateAction::Kind::kDividend;
  dividend.symbol = Symbol::parse("XYZ");
  dividend.ex_date = Date::parse("2024-01-03");
  dividend.cash_amount = 12;  // more than the close before it
  EXPECT_THROW(adjustment_factors(bars, {dividend}), Error);
  EXPECT_THROW(parse_adjust_mode("adjusted"), Error);
}

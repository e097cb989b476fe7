// Corporate actions in the catalog, on every backend: versions by knowledge time, idempotent
// recording, --as-of listing, retractions, symbol changes, exact values, refusals.
#include <cmath>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "catalog_fixture.hpp"
#include "trib/catalog/catalog.hpp"
#include "trib/core/error.hpp"

namespace trib::catalog {
namespace {

using testing::category_of;

class CorporateActionsTest : public CatalogTest {};
INSTANTIATE_TEST_SUITE_P(Backends, CorporateActionsTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres), backend_name);

ActionRecord split(const std::string& symbol, const std::string& ex_date, double ratio,
                   const std::string& source, int64_t known_at) {
  ActionRecord r;
  r.action.kind = CorporateAction::Kind::kSplit;
  r.action.symbol = Symbol::parse(symbol);
  r.action.ex_date = Date::parse(ex_date);
  r.action.split_ratio = ratio;
  r.source = source;
  r.origin = "raw/" + source;
  r.knowledge_ts_ns = known_at;
  return r;
}

ActionRecord dividend(const std::string& symbol, const std::string& ex_date, double cash,
                      const std::string& source, int64_t known_at) {
  ActionRecord r = split(symbol, ex_date, 0, source, known_at);
  r.action.kind = CorporateAction::Kind::kDividend;
  r.action.cash_amount = cash;
  r.action.currency = "USD";
  r.action.pay_date = Date::parse(ex_date) + 14;
  return r;
}

TEST_P(CorporateActionsTest, RecordingIsIdempotentAndKeepsTheFirstKnowledgeTime) {
  const auto aapl = split("AAPL", "2014-06-09", 7, "alphavantage", 100);
  EXPECT_EQ(catalog_->record_actions({aapl, dividend("AAPL", "2014-05-08", 3.29, "alphavantage", 100)}), 2);
  EXPECT_EQ(catalog_->record_actions({aapl}), 0);  // the same payload applied again
  auto later = aapl;
  later.knowledge_ts_ns = 500;
  later.origin = "raw/another-fetch";
  EXPECT_EQ(catalog_->record_actions({later}), 0);  // tomorrow's fetch repeats the history
  const auto listed = catalog_->list_actions("AAPL");
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[0].action.kind, CorporateAction::Kind::kDividend);  // by ex-date
  EXPECT_EQ(listed[1], aapl);  // first knowledge time and origin kept
  EXPECT_TRUE(catalog_->list_actions("AAPL", 99).empty());
  EXPECT_EQ(catalog_->list_actions("AAPL", 100).size(), 2u);
}

TEST_P(CorporateActionsTest, ACorrectionIsANewVersionAndAsOfSeesTheOldOne) {
  ASSERT_EQ(catalog_->record_actions({dividend("MSFT", "2021-02-17", 0.65, "yahoo", 1000)}), 1);
  ASSERT_EQ(catalog_->record_actions({dividend("MSFT", "2021-02-17", 0.56, "yahoo", 2000)}), 1);
  EXPECT_DOUBLE_EQ(catalog_->list_actions("MSFT").at(0).action.cash_amount, 0.56);
  EXPECT_DOUBLE_EQ(catalog_->list_actions("MSFT", 1999).at(0).action.cash_amount, 0.65);
  // A late arrival of the old value dated before the correction changes nothing in force now.
  EXPECT_EQ(catalog_->record_actions({dividend("MSFT", "2021-02-17", 0.65, "yahoo", 1500)}), 0);
  EXPECT_DOUBLE_EQ(catalog_->list_actions("MSFT").at(0).action.cash_amount, 0.56);

  auto withdrawn = dividend("MSFT", "2021-02-17", 0.56, "yahoo", 3000);
  withdrawn.retracted = true;
  ASSERT_EQ(catalog_->record_actions({withdrawn}), 1);
  EXPECT_TRUE(catalog_->list_actions("MSFT").empty());
  EXPECT_EQ(catalog_->list_actions("MSFT", 2999).size(), 1u);
}

TEST_P(CorporateActionsTest, SourcesAreKeptSideBySide) {
  ASSERT_EQ(catalog_->record_actions({split("NVDA", "2021-07-20", 4, "yahoo", 10),
                                      split("NVDA", "2021-07-20", 4, "polygon", 20),
                                      split("NVDA", "2021-07-20", 4, "polygon", 30)}),
            2);
  const auto listed = catalog_->list_actions("");
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[0].source, "polygon");
  EXPECT_EQ(listed[1].source, "yahoo");
}

TEST_P(CorporateActionsTest, ValuesRoundTripExactly) {
  // Lean's factor files give ratios such as 1/112 and dividends with many digits.
  auto r = split("AAPL", "2000-06-21", 1.0 / 3.0, "lean", 1);
  auto d = dividend("SPY", "2020-12-18", 1.58 + 1e-12, "lean", 1);
  d.action.record_date = Date::parse("2020-12-21");
  d.action.declared_date = Date::parse("2020-12-01");
  ASSERT_EQ(catalog_->record_actions({r, d}), 2);
  EXPECT_EQ(catalog_->list_actions("AAPL").at(0), r);
  EXPECT_EQ(catalog_->list_actions("SPY").at(0), d);
}

TEST_P(CorporateActionsTest, ASymbolChangeIsListedUnderBothTickers) {
  ActionRecord change = split("WMI", "2009-08-05", 0, "lean", 1);
  change.action.kind = CorporateAction::Kind::kSymbolChange;
  change.action.new_symbol = "WM";
  ActionRecord gone = split("UW", "1998-07-17", 0, "lean", 1);
  gone.action.kind = CorporateAction::Kind::kDelisting;
  ASSERT_EQ(catalog_->record_actions({change, gone}), 2);
  EXPECT_EQ(catalog_->list_actions("WM").at(0), change);
  EXPECT_EQ(catalog_->list_actions("WMI").at(0), change);
  EXPECT_EQ(catalog_->list_actions("UW").at(0), gone);
}

TEST_P(CorporateActionsTest, InvalidActionsAreRefusedAndNothingIsWritten) {
  const auto good = split("AAPL", "2014-06-09", 7, "lean", 1);
  auto zero = split("AAPL", "2020-08-31", 0, "lean", 1);
  EXPECT_EQ(category_of([&] { catalog_->record_actions({good, zero}); }), ErrorCategory::kInvalidInput);
  auto nan = dividend("AAPL", "2020-08-07", std::nan(""), "lean", 1);
  EXPECT_EQ(category_of([&] { catalog_->record_actions({nan}); }), ErrorCategory::kInvalidInput);
  auto nobody = good;
  nobody.source = "";
  EXPECT_EQ(category_of([&] { catalog_->record_actions({nobody}); }), ErrorCategory::kInvalidInput);
  auto change = good;
  change.action.kind = CorporateAction::Kind::kSymbolChange;
  EXPECT_EQ(category_of([&] { catalog_->record_actions({change}); }), ErrorCategory::kInvalidInput);
  EXPECT_TRUE(catalog_->list_actions("").empty());
  try {
    catalog_->record_actions({zero});
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("AAPL split 2020-08-31 from 'lean'"));
    EXPECT_THAT(e.what(), ::testing::HasSubstr("4 for a 4-for-1"));
  }
}

}  // namespace
}  // namespace trib::catalog

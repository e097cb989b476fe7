// The names an instrument traded under (etl/symbol_history.hpp), on the chains Lean's map files
// describe: WM (UW -> WMI -> WM), QQQ (QQQ -> QQQQ -> QQQ), GOOGL and GOOG (the 2014 share-class
// reshuffle, where GOOG's ticker moved to the new class C).
#include <gtest/gtest.h>

#include <map>

#include "trib/etl/symbol_history.hpp"

using namespace trib;
using namespace trib::etl;

namespace {

CorporateAction change(const char* from, const char* to, const char* ex) {
  CorporateAction a;
  a.kind = CorporateAction::Kind::kSymbolChange;
  a.symbol = Symbol::parse(from);
  a.new_symbol = to;
  a.ex_date = Date::parse(ex);
  return a;
}

// changes_into over a fixed list, as the catalog answers (changes out of the name come too).
auto lookup(std::vector<CorporateAction> all) {
  return [all](const Symbol& name) {
    std::vector<CorporateAction> out;
    for (const auto& a : all) {
      if (a.symbol == name || a.new_symbol == name.str()) out.push_back(a);
    }
    return out;
  };
}

NameSpan span(const char* s, const char* from, const char* to) {
  NameSpan n{Symbol::parse(s), std::nullopt, std::nullopt};
  if (*from) n.from = Date::parse(from);
  if (*to) n.to = Date::parse(to);
  return n;
}

}  // namespace

TEST(SymbolHistory, WasteManagementIsWmiThenUwBackInTime) {
  const auto changes = lookup({change("UW", "WMI", "1998-07-17"), change("WMI", "WM", "2009-08-05")});
  EXPECT_EQ(symbol_history(Symbol::parse("WM"), changes),
            (std::vector<NameSpan>{span("UW", "", "1998-07-16"), span("WMI", "1998-07-17", "2009-08-04"),
                                   span("WM", "2009-08-05", "")}));
  // Read as WMI (the name it had then), the instrument's history up to its last WMI row.
  EXPECT_EQ(symbol_history(Symbol::parse("WMI"), changes),
            (std::vector<NameSpan>{span("UW", "", "1998-07-16"), span("WMI", "1998-07-17", "")}));
}

TEST(SymbolHistory, QqqWasQqqqForSixYearsAndTheChainEndsWhereItStarted) {
  const auto changes = lookup({change("QQQ", "QQQQ", "2004-12-01"), change("QQQQ", "QQQ", "2011-03-23")});
  EXPECT_EQ(symbol_history(Symbol::parse("QQQ"), changes),
            (std::vector<NameSpan>{span("QQQ", "", "2004-11-30"), span("QQQQ", "2004-12-01", "2011-03-22"),
                                   span("QQQ", "2011-03-23", "")}));
}

TEST(SymbolHistory, ATickerThatMovedToAnotherClassIsNotItsOldSelf) {
  // Lean's googl.csv: GOOG until 2014-04-02, GOOGL after; goog.csv: GOOCV until 2014-04-02, GOOG after.
  const auto changes = lookup({change("GOOG", "GOOGL", "2014-04-03"), change("GOOCV", "GOOG", "2014-04-03")});
  EXPECT_EQ(symbol_history(Symbol::parse("GOOGL"), changes),
            (std::vector<NameSpan>{span("GOOG", "", "2014-04-02"), span("GOOGL", "2014-04-03", "")}));
  // GOOG before 2014-04-03 was class A (now GOOGL): GOOG's history is GOOCV's.
  EXPECT_EQ(symbol_history(Symbol::parse("GOOG"), changes),
            (std::vector<NameSpan>{span("GOOCV", "", "2014-04-02"), span("GOOG", "2014-04-03", "")}));
}

TEST(SymbolHistory, NoChangesIsOneOpenSpanAndACycleInBadDataStops) {
  EXPECT_EQ(symbol_history(Symbol::parse("AAPL"), lookup({})), (std::vector<NameSpan>{span("AAPL", "", "")}));
  // A change into itself says nothing; one dated after the span is another era of the name.
  EXPECT_EQ(symbol_history(Symbol::parse("AAPL"), lookup({change("AAPL", "AAPL", "2001-01-02")})),
            (std::vector<NameSpan>{span("AAPL", "", "")}));
  // A -> B -> A -> B ... on ever earlier dates: the walk stops after kMaxNames names.
  std::vector<CorporateAction> cycle;
  for (int year = 1950; year < 2050; ++year) {
    const std::string ex = std::to_string(year) + "-01-03";
    cycle.push_back(year % 2 ? change("AAA", "BBB", ex.c_str()) : change("BBB", "AAA", ex.c_str()));
  }
  EXPECT_LE(symbol_history(Symbol::parse("AAA"), lookup(cycle)).size(), static_cast<size_t>(kMaxNames) + 1);
}

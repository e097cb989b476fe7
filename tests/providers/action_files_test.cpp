// Action files (`trib actions import`): Lean map files read as symbol changes and delistings on
// the real files of ../shared/data, our CSV with every column and with bad rows, and how a path
// says which format a file is.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "trib/core/error.hpp"
#include "trib/providers/action_files.hpp"
#include "../core/test_util.hpp"

namespace fs = std::filesystem;
using namespace trib;
using namespace trib::providers;

namespace {

fs::path lean_dir() {
  return trib::testing::shared_data() / "equities-daily/lean-us-equity-daily";
}

ActionFileParse parse_file(const fs::path& path) {
  const auto kind = classify_action_file(path.generic_string());
  return parse_action_file(trib::testing::slurp(path), kind.format, kind.symbol);
}

TEST(ActionFiles, LeanMapFilesGiveSymbolChangesAndDelistings) {
  if (!fs::exists(lean_dir() / "map_files")) GTEST_SKIP() << "no ../shared/data here";
  // wm.csv: UW until 1998-07-16, WMI until 2009-08-04, WM since.
  const auto wm = parse_file(lean_dir() / "map_files/wm.csv");
  ASSERT_TRUE(wm.findings.empty());
  ASSERT_EQ(wm.actions.size(), 2u);
  EXPECT_EQ(wm.actions[0].action.kind, CorporateAction::Kind::kSymbolChange);
  EXPECT_EQ(wm.actions[0].action.symbol.str(), "UW");
  EXPECT_EQ(wm.actions[0].action.new_symbol, "WMI");
  EXPECT_EQ(wm.actions[0].action.ex_date.to_string(), "1998-07-17");
  EXPECT_EQ(wm.actions[1].action.symbol.str(), "WMI");
  EXPECT_EQ(wm.actions[1].action.new_symbol, "WM");
  EXPECT_EQ(wm.actions[1].action.ex_date.to_string(), "2009-08-05");
  // fb.1.csv: the FB that traded 1999-2003, delisted after its last session 2003-03-28 (a Friday).
  const auto fb1 = parse_file(lean_dir() / "map_files/fb.1.csv");
  ASSERT_EQ(fb1.actions.size(), 1u);
  EXPECT_EQ(fb1.actions[0].action.kind, CorporateAction::Kind::kDelisting);
  EXPECT_EQ(fb1.actions[0].action.symbol.str(), "FB");
  EXPECT_EQ(fb1.actions[0].action.ex_date.to_string(), "2003-03-31");
  // googl.csv: the class A shares traded as GOOG until 2014-04-02.
  const auto googl = parse_file(lean_dir() / "map_files/googl.csv");
  ASSERT_EQ(googl.actions.size(), 1u);
  EXPECT_EQ(googl.actions[0].action.symbol.str(), "GOOG");
  EXPECT_EQ(googl.actions[0].action.new_symbol, "GOOGL");
  EXPECT_EQ(googl.actions[0].action.ex_date.to_string(), "2014-04-03");
  // A security still trading with one ticker: nothing.
  EXPECT_TRUE(parse_file(lean_dir() / "map_files/aapl.csv").actions.empty());
}

TEST(ActionFiles, EveryLeanFileParsesWithoutFindings) {
  if (!fs::exists(lean_dir() / "map_files")) GTEST_SKIP() << "no ../shared/data here";
  size_t splits = 0, dividends = 0;
  for (const char* dir : {"factor_files", "map_files"}) {
    for (const auto& entry : fs::directory_iterator(lean_dir() / dir)) {
      const auto parsed = parse_file(entry.path());
      EXPECT_TRUE(parsed.findings.empty()) << entry.path() << ": " << parsed.findings.front().reason;
      for (const auto& a : parsed.actions) {
        splits += a.action.kind == CorporateAction::Kind::kSplit;
        dividends += a.action.kind == CorporateAction::Kind::kDividend;
      }
    }
  }
  EXPECT_GT(splits, 10u);
  EXPECT_GT(dividends, 500u);
}

TEST(ActionFiles, APathSaysTheFormatAndTheSecurity) {
  auto k = classify_action_file("/data/lean/factor_files/aapl.csv");
  EXPECT_EQ(k.format, ActionFileFormat::kLeanFactor);
  EXPECT_EQ(k.symbol.str(), "AAPL");
  k = classify_action_file("map_files/fb.1.csv");
  EXPECT_EQ(k.format, ActionFileFormat::kLeanMap);
  EXPECT_EQ(k.symbol.str(), "FB");
  k = classify_action_file("factor_files/tap.a.csv");
  EXPECT_EQ(k.symbol.str(), "TAP.A");
  k = classify_action_file("/home/me/my-actions.csv");
  EXPECT_EQ(k.format, ActionFileFormat::kActionsCsv);
  EXPECT_EQ(parse_action_file_format("lean_map"), ActionFileFormat::kLeanMap);
  EXPECT_THROW(parse_action_file_format("zip"), Error);
}

TEST(ActionFiles, OurCsvReadsEveryColumnInAnyOrder) {
  const std::string csv =
      "\xEF\xBB\xBFSymbol,kind,ex_date,amount,ratio,pay_date,record_date,declared_date,currency,new_symbol,retracted\r\n"
      "AAPL,dividend,2020-08-07,0.82,,2020-08-13,2020-08-10,2020-07-30,USD,,\r\n"
      "AAPL,split,2020-08-31,,4,,,,,,\r\n"
      "WMI,symbol_change,2009-08-05,,,,,,,wm,\r\n"
      "UW,delisting,1998-07-17,,,,,,,,\r\n"
      "AAPL,split,2020-08-30,,,,,,,,true\r\n";
  const auto parsed = parse_action_file(csv, ActionFileFormat::kActionsCsv, Symbol());
  ASSERT_TRUE(parsed.findings.empty()) << parsed.findings.front().reason;
  ASSERT_EQ(parsed.actions.size(), 5u);
  const auto& d = parsed.actions[0].action;
  EXPECT_EQ(d.kind, CorporateAction::Kind::kDividend);
  EXPECT_DOUBLE_EQ(d.cash_amount, 0.82);
  EXPECT_EQ(d.pay_date->to_string(), "2020-08-13");
  EXPECT_EQ(d.record_date->to_string(), "2020-08-10");
  EXPECT_EQ(d.declared_date->to_string(), "2020-07-30");
  EXPECT_EQ(d.currency, "USD");
  EXPECT_DOUBLE_EQ(parsed.actions[1].action.split_ratio, 4);
  EXPECT_EQ(parsed.actions[2].action.new_symbol, "WM");
  EXPECT_EQ(parsed.actions[3].action.kind, CorporateAction::Kind::kDelisting);
  EXPECT_TRUE(parsed.actions[4].retracted);
}

TEST(ActionFiles, BadRowsAreFindingsWithTheirLineAndBadHeadersAreRefused) {
  const std::string csv =
      "symbol,kind,ex_date,ratio,amount\n"
      "AAPL,split,2020-08-31,0,\n"
      "AAPL,dividend,2020-13-07,,0.82\n"
      "AAPL,bonus,2020-08-07,,0.82\n"
      "AAPL,dividend,2020-08-07,,-1\n"
      "AAPL,split,2014-06-09,7,\n";
  const auto parsed = parse_action_file(csv, ActionFileFormat::kActionsCsv, Symbol());
  ASSERT_EQ(parsed.findings.size(), 4u);
  EXPECT_EQ(parsed.findings[0].line, 2);
  EXPECT_NE(parsed.findings[0].reason.find("4-for-1"), std::string::npos);
  EXPECT_EQ(parsed.findings[1].rule, "bad_date");
  EXPECT_NE(parsed.findings[2].reason.find("bonus"), std::string::npos);
  EXPECT_EQ(parsed.findings[3].line, 5);
  ASSERT_EQ(parsed.actions.size(), 1u);
  try {
    parse_action_file("symbol,kind,exdate\n", ActionFileFormat::kActionsCsv, Symbol());
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::kInvalidInput);
    EXPECT_NE(std::string(e.what()).find("'exdate' is not known"), std::string::npos);
  }
  const auto map = parse_action_file("20100602,bno\nnot-a-date,bno\n20090101,bno\n", ActionFileFormat::kLeanMap,
                                     Symbol::parse("BNO"));
  EXPECT_EQ(map.findings.size(), 2u);
}

}  // namespace

// The csv vendor: fetch returns file bytes; parse reads Yahoo / Stooq / Kaggle daily files and
// turns every unusable row into a finding.
#include <chrono>
#include <cstdlib>
#include <set>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "../core/test_util.hpp"
#include "trib/core/error.hpp"
#include "trib/providers/provider.hpp"
#include "../../src/providers/csv/csv_files.hpp"
#include <algorithm>

namespace trib::providers {
namespace {

namespace fs = std::filesystem;
using testing::expect_error;
using ::testing::HasSubstr;
using testing::slurp;
using testing::spit;
using testing::TempDir;

const fs::path kVegaSp500 =
    fs::path(TRIB_SOURCE_DIR) / "node_modules/vega-datasets/data/sp500-2000.csv";
const fs::path kShared = TRIB_SHARED_DATA;

ParseResult parse_text(std::string_view text, std::string_view symbol = "TEST") {
  ParseContext context;
  if (!symbol.empty()) context.symbol = Symbol::parse(symbol);
  return make_provider("csv")->parse(text, context);
}

FetchResult fetch_file(const fs::path& path) {
  FetchRequest request;
  request.params["file"] = path.string();
  return make_provider("csv")->fetch(request);
}

// Data rows of a CSV counted naively: non-empty lines after the first.
size_t count_data_lines(const std::string& text) {
  size_t lines = 0, start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    if (end > start && !(end == start + 1 && text[start] == '\r')) ++lines;
    start = end + 1;
  }
  return lines - 1;
}

const Bar* find_bar(const std::vector<Bar>& bars, std::string_view date) {
  for (const Bar& b : bars) {
    if (b.session_date == Date::parse(date)) return &b;
  }
  return nullptr;
}

// --- fetch ---------------------------------------------------------------------------------------

TEST(CsvFetch, ReturnsTheFileBytesExactly) {
  TempDir dir;
  const std::string bytes =
      "\xEF\xBB\xBF"
      "Date,Open,High,Low,Close,Volume\r\n"
      "2020-01-02,1,2,0.5,1.5,100\r\n";
  spit(dir.path() / "x.csv", bytes);
  FetchResult r = fetch_file(dir.path() / "x.csv");
  EXPECT_EQ(r.bytes, bytes);
  EXPECT_EQ(r.ext, "csv");
  EXPECT_EQ(r.content_type, "text/csv");
  EXPECT_FALSE(r.multi_symbol);
  EXPECT_EQ(r.request["vendor"], "csv");
}

TEST(CsvFetch, MultiSymbolWhenTheHeaderHasASymbolColumn) {
  TempDir dir;
  for (const char* column : {"Name", "symbol", "TICKER"}) {
    spit(dir.path() / "m.csv", fmt::format("date,open,high,low,close,volume,{}\n", column));
    EXPECT_TRUE(fetch_file(dir.path() / "m.csv").multi_symbol) << column;
  }
}

TEST(CsvFetch, MissingFileIsNotFoundNamingThePath) {
  TempDir dir;
  const fs::path missing = dir.path() / "nope.csv";
  EXPECT_THAT(expect_error([&] { fetch_file(missing); }, ErrorCategory::kNotFound),
              HasSubstr(missing.string()));
}

TEST(CsvFetch, FolderOrNoFileIsInvalidInput) {
  TempDir dir;
  EXPECT_THAT(expect_error([&] { fetch_file(dir.path()); }, ErrorCategory::kInvalidInput),
              HasSubstr(dir.path().string()));
  expect_error([] { make_provider("csv")->fetch(FetchRequest{}); }, ErrorCategory::kInvalidInput);
}

// --- real files ----------------------------------------------------------------------------------

TEST(CsvParse, VegaSp500File) {
  const std::string text = slurp(kVegaSp500);
  ASSERT_FALSE(text.empty()) << kVegaSp500;
  FetchResult fetched = fetch_file(kVegaSp500);
  EXPECT_EQ(fetched.bytes, text);
  EXPECT_FALSE(fetched.multi_symbol);
  ParseResult parsed = parse_text(fetched.bytes, "^GSPC");
  EXPECT_TRUE(parsed.findings.empty());
  ASSERT_EQ(parsed.bars.size(), 1u);
  const auto& bars = parsed.bars.at(Symbol::parse("^GSPC"));
  EXPECT_EQ(bars.size(), count_data_lines(text));
  EXPECT_EQ(bars.size(), 5105u);  // wc -l is 5105 because the last line has no newline
  EXPECT_EQ(bars.front().session_date, Date::parse("2000-01-03"));
  EXPECT_EQ(bars.back().session_date, Date::parse("2020-04-17"));
  // Values read from the file's text.
  EXPECT_EQ(bars.front().open, 1469.25);
  EXPECT_EQ(bars.front().close, 1455.219971);
  EXPECT_EQ(bars.front().volume, 931800000);
  const Bar* crash = find_bar(bars, "2008-10-10");
  ASSERT_NE(crash, nullptr);
  EXPECT_EQ(crash->close, 899.219971);
  EXPECT_EQ(crash->low, 839.799988);
  EXPECT_EQ(crash->volume, 11456230000.0);
  EXPECT_EQ(bars.back().close, 2874.560059);
  EXPECT_EQ(bars.back().volume, 5792140000.0);
  // Daily bars are stamped with the 09:30 New York open.
  EXPECT_EQ(format_ts_ns(bars.front().ts_ns), "2000-01-03T14:30:00Z");
  EXPECT_EQ(format_ts_ns(find_bar(bars, "2019-07-01")->ts_ns), "2019-07-01T13:30:00Z");
  for (size_t i = 1; i < bars.size(); ++i) {
    ASSERT_LT(bars[i - 1].session_date, bars[i].session_date) << "payload order kept";
  }
}

TEST(CsvParse, KaggleAllStocksFile) {
  TempDir dir;
  const fs::path csv = dir.path() / "all_stocks_5yr.csv";
  const std::string command =
      fmt::format("zstd -q -dc '{}' > '{}'",
                  (kShared / "equities-daily/all_stocks_5yr.csv.zst").string(), csv.string());
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
  FetchResult fetched = fetch_file(csv);
  EXPECT_TRUE(fetched.multi_symbol);
  ASSERT_EQ(count_data_lines(fetched.bytes), 619'040u);

  const auto start = std::chrono::steady_clock::now();
  ParseResult parsed = parse_text(fetched.bytes, "");
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  RecordProperty("parse_seconds", std::to_string(seconds));
  // Well under a second in Release; the bound leaves room for sanitizer builds.
  EXPECT_LT(seconds, 3.0);

  size_t bars = 0;
  for (const auto& [symbol, list] : parsed.bars) bars += list.size();
  EXPECT_EQ(parsed.bars.size(), 505u);
  // SOURCE.md: 11 rows have an empty open (some also empty high/low); nothing else is unusable.
  EXPECT_EQ(parsed.findings.size(), 11u);
  EXPECT_EQ(bars + parsed.findings.size(), 619'040u);
  for (const ParseFinding& f : parsed.findings) {
    EXPECT_EQ(f.rule, "missing_value") << f.reason;
    EXPECT_THAT(f.reason, HasSubstr("'open'"));
  }
  // Line 82951 of the file is "2017-07-26,,,,69.0842,3,BHF".
  bool bhf = false;
  for (const ParseFinding& f : parsed.findings) {
    if (f.line == 82951) {
      bhf = true;
      EXPECT_EQ(f.raw_text, "2017-07-26,,,,69.0842,3,BHF");
    }
  }
  EXPECT_TRUE(bhf);

  const auto& aapl = parsed.bars.at(Symbol::parse("AAPL"));
  EXPECT_EQ(aapl.size(), 1259u);
  const Bar* june = find_bar(aapl, "2016-06-01");  // 2016-06-01,99.02,99.54,98.33,98.46,29173285
  ASSERT_NE(june, nullptr);
  EXPECT_EQ(june->open, 99.02);
  EXPECT_EQ(june->high, 99.54);
  EXPECT_EQ(june->low, 98.33);
  EXPECT_EQ(june->close, 98.46);
  EXPECT_EQ(june->volume, 29173285);
  EXPECT_EQ(aapl.front().session_date, Date::parse("2013-02-08"));
  EXPECT_EQ(aapl.front().close, 67.8542);
  EXPECT_EQ(parsed.bars.at(Symbol::parse("APTV")).size(), 44u);
  EXPECT_EQ(parsed.bars.count(Symbol::parse("BRK.B")), 1u);
}

TEST(CsvParse, StooqSample) {
  const std::string text = slurp(kShared / "vendor-samples/stooq/spy_us_daily.csv");
  ASSERT_FALSE(text.empty());
  ParseResult parsed = parse_text(text, "SPY");
  EXPECT_TRUE(parsed.findings.empty());
  const auto& bars = parsed.bars.at(Symbol::parse("SPY"));
  EXPECT_EQ(bars.size(), 2000u);
  EXPECT_EQ(bars.front().session_date, Date::parse("2018-02-26"));
  EXPECT_EQ(bars.front().close, 247.373);  // 2018-02-26,245.63,247.46,245.018,247.373,96911825
  EXPECT_EQ(bars.front().volume, 96911825);
  EXPECT_EQ(bars.back().session_date, Date::parse("2026-02-09"));
}

// --- header handling -----------------------------------------------------------------------------

TEST(CsvParse, YahooHeaderIgnoresAdjClose) {
  for (const char* adj : {"Adj Close", "adjclose", "adj_close", "ADJ CLOSE"}) {
    std::string text = fmt::format(
        "Date,Open,High,Low,Close,{},Volume\n"
        "2020-01-02,10,12,9,11,5.5,1000\n",
        adj);
    ParseResult parsed = parse_text(text);
    ASSERT_EQ(parsed.bars.at(Symbol::parse("TEST")).size(), 1u) << adj;
    const Bar& b = parsed.bars.at(Symbol::parse("TEST"))[0];
    EXPECT_EQ(b.close, 11) << adj;  // never the adjusted 5.5
    EXPECT_EQ(b.volume, 1000);
  }
}

TEST(CsvParse, ToleratesBomCrlfWhitespaceAndQuotes) {
  const std::string text =
      "\xEF\xBB\xBF"
      " \"Date\" , \"OPEN\",high , Low,\"Close\" ,Volume\r\n"
      "\"2020-01-02\", 10 ,\"12\",9, 11 ,\"1,000\"\r\n"
      "2020-01-03,11,13,10,12,2000\r\n"
      "\r\n";
  ParseResult parsed = parse_text(text);
  // "1,000" inside quotes is one field but not a number.
  ASSERT_EQ(parsed.findings.size(), 1u);
  EXPECT_EQ(parsed.findings[0].line, 2);
  EXPECT_EQ(parsed.findings[0].rule, "bad_number");
  EXPECT_THAT(parsed.findings[0].reason, HasSubstr("'1,000'"));
  EXPECT_THAT(parsed.findings[0].reason, HasSubstr("Volume"));
  const auto& bars = parsed.bars.at(Symbol::parse("TEST"));
  ASSERT_EQ(bars.size(), 1u);
  EXPECT_EQ(bars[0].session_date, Date::parse("2020-01-03"));
  EXPECT_EQ(bars[0].high, 13);

  ParseResult quoted = parse_text(
      "Date,Open,High,Low,Close,Volume\n"
      "\"2020-01-02\", \"10\" ,\"12\",9, 11 ,\"1000\"\n");
  EXPECT_TRUE(quoted.findings.empty());
  ASSERT_EQ(quoted.bars.at(Symbol::parse("TEST")).size(), 1u);
  EXPECT_EQ(quoted.bars.at(Symbol::parse("TEST"))[0].open, 10);
  EXPECT_EQ(quoted.bars.at(Symbol::parse("TEST"))[0].volume, 1000);
}

TEST(CsvParse, CompactDatesAndColumnOrder) {
  ParseResult parsed = parse_text(
      "volume,close,low,high,open,date\n"
      "500,4,1,5,2,20200102\n"
      "600,5,2,6,3,2020-01-03\n");
  EXPECT_TRUE(parsed.findings.empty());
  const auto& bars = parsed.bars.at(Symbol::parse("TEST"));
  ASSERT_EQ(bars.size(), 2u);
  EXPECT_EQ(bars[0].session_date, Date::parse("2020-01-02"));
  EXPECT_EQ(bars[0].open, 2);
  EXPECT_EQ(bars[0].high, 5);
  EXPECT_EQ(bars[0].low, 1);
  EXPECT_EQ(bars[0].close, 4);
  EXPECT_EQ(bars[0].volume, 500);
  EXPECT_EQ(bars[0].ts_ns, TradingCalendar::nyse().session_open_ts_ns(Date::parse("2020-01-02")));
}

// A file we cannot read is the user's input to fix (exit 2), not data loss.
TEST(CsvParse, MissingVolumeColumnIsInvalidInputNamingColumns) {
  std::string message =
      expect_error([] { parse_text("Date,Open,High,Low,Close\n2020-01-02,1,2,0.5,1.5\n"); },
                   ErrorCategory::kInvalidInput);
  EXPECT_THAT(message, HasSubstr("Volume"));
  EXPECT_THAT(message, HasSubstr("Date, Open, High, Low, Close"));  // the columns found
}

TEST(CsvParse, UnrecognisableHeaderIsInvalidInputListingExpectedHeaders) {
  for (const char* text : {"hello,world\n1,2\n", "2020-01-02,1,2,0.5,1.5,100\n", ""}) {
    std::string message = expect_error([&] { parse_text(text); }, ErrorCategory::kInvalidInput);
    EXPECT_THAT(message, HasSubstr("Date,Open,High,Low,Close,Adj Close,Volume")) << text;
    EXPECT_THAT(message, HasSubstr("date,open,high,low,close,volume,Name")) << text;
  }
}

TEST(CsvParse, IntradayTimesAsDailyBarsAreRefusedClearly) {
  std::string message = expect_error(
      [] {
        parse_text("Datetime,Open,High,Low,Close,Volume\n2020-01-02 09:30:00,1,2,0.5,1.5,9\n");
      },
      ErrorCategory::kInvalidInput);
  EXPECT_THAT(message, HasSubstr("column 'Datetime' holds intraday times; ingest the file with --timeframe 1m"));
  // A "timestamp" column holding plain dates (Alpha Vantage daily CSV) is a date column.
  ParseResult parsed =
      parse_text("timestamp,open,high,low,close,volume\n2020-01-02,1,2,0.5,1.5,9\n");
  EXPECT_EQ(parsed.bars.at(Symbol::parse("TEST")).size(), 1u);
}

// --- findings ------------------------------------------------------------------------------------

TEST(CsvParse, BadRowsBecomeFindingsWithLineNumbers) {
  const std::string text =
      "Date,Open,High,Low,Close,Adj Close,Volume\n"  // 1
      "2020-01-02,10,12,9,11,11,1000\n"              // 2 ok
      "2020-01-03,10,12,9,11,11\n"                   // 3 too few fields
      "2020-01-06,10,12,9,11,11,1000,7\n"            // 4 too many fields
      "2020-01-07,null,null,null,null,null,null\n"   // 5 Yahoo holiday row
      "2020-01-08,10,12,abc,11,11,1000\n"            // 6 bad number
      "2020-13-01,10,12,9,11,11,1000\n"              // 7 bad date
      "01/09/2020,10,12,9,11,11,1000\n"              // 8 bad date format
      "\n"                                           // 9 blank: not a row
      "2020-01-10,10,12,9,NaN,11,1000\n"             // 10 NaN
      "2020-01-13,10,12,9,11,11,\n"                  // 11 empty volume
      "2020-01-14,10,12,9,11,11,1e3\n";              // 12 ok (exponent)
  ParseResult parsed = parse_text(text);
  const auto& bars = parsed.bars.at(Symbol::parse("TEST"));
  ASSERT_EQ(bars.size(), 2u);
  EXPECT_EQ(bars[1].volume, 1000);
  struct Expected {
    int64_t line;
    const char* rule;
    const char* in_reason;
  };
  const Expected expected[] = {{3, "malformed_row", "found 6"}, {4, "malformed_row", "found 8"},
                               {5, "missing_value", "Open"},    {6, "bad_number", "'abc'"},
                               {7, "bad_date", "'2020-13-01'"}, {8, "bad_date", "'01/09/2020'"},
                               {10, "missing_value", "Close"},  {11, "missing_value", "Volume"}};
  ASSERT_EQ(parsed.findings.size(), std::size(expected));
  for (size_t i = 0; i < std::size(expected); ++i) {
    const ParseFinding& f = parsed.findings[i];
    EXPECT_EQ(f.line, expected[i].line);
    EXPECT_EQ(f.rule, expected[i].rule) << f.line;
    EXPECT_THAT(f.reason, HasSubstr(expected[i].in_reason)) << f.line;
    EXPECT_EQ(f.reason.find('\n'), std::string::npos);
  }
  EXPECT_EQ(parsed.findings[3].raw_text, "2020-01-08,10,12,abc,11,11,1000");
  EXPECT_THAT(parsed.findings[3].reason, HasSubstr("Low"));
}

TEST(CsvParse, RawTextIsTruncated) {
  std::string text = "Date,Open,High,Low,Close,Volume\n2020-01-02," + std::string(500, 'x') + "\n";
  ParseResult parsed = parse_text(text);
  ASSERT_EQ(parsed.findings.size(), 1u);
  EXPECT_EQ(parsed.findings[0].raw_text.size(), 200u);
}

TEST(CsvParse, MultiSymbolFileGroupsBySymbolAndFlagsBadSymbols) {
  const std::string text =
      "date,open,high,low,close,volume,Name\n"
      "2020-01-02,1,2,0.5,1.5,10,AAPL\n"
      "2020-01-02,3,4,2.5,3.5,20,brk.b\n"
      "2020-01-03,1,2,0.5,1.6,11,aapl\n"
      "2020-01-03,1,2,0.5,1.6,11,../etc\n"
      "2020-01-03,1,2,0.5,1.6,11,\n"
      "2020-01-06,1,2,0.5,1.7,12,AAPL\n";
  ParseResult parsed = parse_text(text, "");
  ASSERT_EQ(parsed.bars.size(), 2u);
  const auto& aapl = parsed.bars.at(Symbol::parse("AAPL"));
  ASSERT_EQ(aapl.size(), 3u);
  EXPECT_EQ(aapl[1].close, 1.6);
  EXPECT_EQ(parsed.bars.at(Symbol::parse("BRK.B")).size(), 1u);
  ASSERT_EQ(parsed.findings.size(), 2u);
  EXPECT_EQ(parsed.findings[0].line, 5);
  EXPECT_EQ(parsed.findings[0].rule, "bad_symbol");
  EXPECT_THAT(parsed.findings[0].reason, HasSubstr("'../etc'"));
  EXPECT_EQ(parsed.findings[1].line, 6);
  EXPECT_EQ(parsed.findings[1].rule, "bad_symbol");
}

// Rows in no order (neither oldest nor newest first) keep payload order: the CLI refuses them.
// A date given twice is a finding; the file's first row for it stays.
TEST(CsvParse, OutOfOrderRowsKeepPayloadOrderAndRepeatedDatesAreFindings) {
  ParseResult parsed = parse_text(
      "Date,Open,High,Low,Close,Volume\n"
      "2020-01-06,1,2,0.5,1.5,10\n"
      "2020-01-02,1,2,0.5,1.5,10\n"
      "2020-01-03,1,2,0.5,1.5,10\n"
      "2020-01-03,1,2,0.5,1.6,10\n");
  ASSERT_EQ(parsed.findings.size(), 1u);
  EXPECT_EQ(parsed.findings[0].line, 5);
  EXPECT_EQ(parsed.findings[0].rule, "duplicate_date");
  EXPECT_THAT(parsed.findings[0].reason, HasSubstr("2020-01-03 appears again (first on line 4"));
  EXPECT_EQ(parsed.findings[0].raw_text, "2020-01-03,1,2,0.5,1.6,10");
  const auto& bars = parsed.bars.at(Symbol::parse("TEST"));
  ASSERT_EQ(bars.size(), 3u);
  EXPECT_EQ(bars[0].session_date, Date::parse("2020-01-06"));
  EXPECT_EQ(bars[1].session_date, Date::parse("2020-01-02"));
  EXPECT_EQ(bars[2].session_date, Date::parse("2020-01-03"));
  EXPECT_EQ(bars[2].close, 1.5);
}

TEST(CsvParse, SingleSymbolFileNeedsASymbol) {
  expect_error([] { parse_text("Date,Open,High,Low,Close,Volume\n", ""); },
               ErrorCategory::kInvalidInput);
}

}  // namespace

// --- intraday ------------------------------------------------------------------------------------

namespace {

ParseResult parse_intraday(std::string_view text, std::string_view symbol, const TradingCalendar& calendar,
                           std::string file_name = "") {
  ParseContext context;
  if (!symbol.empty()) context.symbol = Symbol::parse(symbol);
  context.timeframe = Timeframe::kMinute1;
  context.calendar = &calendar;
  context.file_name = std::move(file_name);
  return make_provider("csv")->parse(text, context);
}

const fs::path kMinute = kShared / "intraday/lean-us-equity-minute";

}  // namespace

TEST(CsvIntraday, FxcmMinutesOnTheFxCalendar) {
  const std::string text = slurp(kShared / "intraday/fxcm/gbpusd-m1-bid-2012.csv");
  if (text.empty()) GTEST_SKIP() << "no ../shared/data here";
  const ParseResult r = parse_intraday(text, "GBPUSD.BID", TradingCalendar::fx());
  EXPECT_TRUE(r.findings.empty());
  const auto& bars = r.bars.at(Symbol::parse("GBPUSD.BID"));
  ASSERT_EQ(bars.size(), 30117u);
  EXPECT_EQ(format_ts_ns(bars[0].ts_ns), "2012-02-01T00:00:00Z");
  EXPECT_EQ(bars[0].session_date, Date::parse("2012-02-01"));  // 19:00 New York on Jan 31: Feb 1's session
  EXPECT_DOUBLE_EQ(bars[0].open, 1.57597);
  EXPECT_EQ(bars[0].volume, 0);  // FXCM's files carry no volume
  // The first bar after the weekend, Sunday 22:01 UTC (17:01 New York), is in Monday's session.
  auto monday = std::find_if(bars.begin(), bars.end(), [](const Bar& b) { return b.ts_ns >= parse_ts_ns("2012-02-05T00:00:00Z"); });
  ASSERT_NE(monday, bars.end());
  EXPECT_EQ(format_ts_ns(monday->ts_ns), "2012-02-05T22:01:00Z");
  EXPECT_EQ(monday->session_date, Date::parse("2012-02-06"));
  EXPECT_EQ(symbol_from_file_name("gbpusd-m1-bid-2012.csv")->str(), "GBPUSD.BID");
  EXPECT_EQ(symbol_from_file_name("usdjpy-m1-ask-2013.csv")->str(), "USDJPY.ASK");
}

TEST(CsvIntraday, LeanMinuteFilesEqualTheConvertedCsvOfTheSameBars) {
  const std::string converted = slurp(kMinute / "lean_us_equity_minute_trade_bars.csv");
  if (converted.empty()) GTEST_SKIP() << "no ../shared/data here";
  // The converted file: symbol,bar_start_et (New York, no offset),open,...; every symbol's bars.
  const ParseResult all = parse_intraday(converted, "", TradingCalendar::nyse());
  EXPECT_TRUE(all.findings.empty());
  const auto& want = all.bars.at(Symbol::parse("AAPL"));
  // Lean's own files, one per day, the date in the name, times in ms since midnight New York.
  std::vector<Bar> got;
  for (const char* day : {"20140605", "20140606", "20140609"}) {
    const std::string name = std::string(day) + "_aapl_minute_trade.csv";
    EXPECT_EQ(symbol_from_file_name(name)->str(), "AAPL");
    const ParseResult r = parse_intraday(slurp(kMinute / "raw/aapl" / name), "AAPL", TradingCalendar::nyse(), name);
    EXPECT_TRUE(r.findings.empty());
    for (const Bar& b : r.bars.at(Symbol::parse("AAPL"))) got.push_back(b);
  }
  ASSERT_EQ(got.size(), want.size());
  EXPECT_EQ(got.size(), 2303u);
  for (size_t i = 0; i < got.size(); ++i) {
    ASSERT_EQ(got[i].ts_ns, want[i].ts_ns) << i;
    ASSERT_EQ(got[i].session_date, want[i].session_date) << i;
    ASSERT_DOUBLE_EQ(got[i].close, want[i].close) << i;
    ASSERT_EQ(got[i].volume, want[i].volume) << i;
  }
  // 04:15 New York in June (EDT) is 08:15 UTC; Lean writes 644.80 as 6448000.
  EXPECT_EQ(format_ts_ns(got[0].ts_ns), "2014-06-05T08:15:00Z");
  EXPECT_DOUBLE_EQ(got[0].open, 644.8);
}

TEST(CsvIntraday, RefusalsNameTheFix) {
  const std::string trade = slurp(kMinute / "raw/aapl/20140605_aapl_minute_trade.csv");
  if (trade.empty()) GTEST_SKIP() << "no ../shared/data here";
  EXPECT_THAT(expect_error([&] { parse_intraday(trade, "AAPL", TradingCalendar::nyse(), "aapl.csv"); },
                           ErrorCategory::kInvalidInput),
              HasSubstr("keeps its date in its name (yyyyMMdd_<symbol>_minute_trade.csv)"));
  EXPECT_THAT(expect_error([&] { parse_text(trade, "AAPL"); }, ErrorCategory::kInvalidInput),
              HasSubstr("ingest it with --timeframe 1m"));
  const std::string quote = slurp(kMinute / "raw/aapl/20140605_aapl_minute_quote.csv");
  EXPECT_THAT(expect_error([&] { parse_intraday(quote, "AAPL", TradingCalendar::nyse(), "20140605_aapl_minute_quote.csv"); },
                           ErrorCategory::kInvalidInput),
              HasSubstr("Lean minute quote file"));
  EXPECT_THAT(expect_error([&] { parse_intraday("Date,Open,High,Low,Close,Volume\n2020-01-02,1,2,0.5,1.5,9\n", "X",
                                                TradingCalendar::nyse()); },
                           ErrorCategory::kInvalidInput),
              HasSubstr("holds dates (daily bars), not --timeframe 1m bars"));
  // Offsets, 'Z', fractions; a bad time is a finding.
  const ParseResult r = parse_intraday(
      "timestamp,open,high,low,close\n2020-01-02T14:30:00Z,1,2,0.5,1.5\n2020-01-02 09:31:00.5-05:00,1,2,0.5,1.5\n"
      "2020-01-02 09:32,1,2,0.5,1.5\n2020-01-02 25:00,1,2,0.5,1.5\n",
      "X", TradingCalendar::nyse());
  const auto& bars = r.bars.at(Symbol::parse("X"));
  ASSERT_EQ(bars.size(), 3u);
  EXPECT_EQ(format_ts_ns(bars[0].ts_ns), "2020-01-02T14:30:00Z");
  EXPECT_EQ(format_ts_ns(bars[1].ts_ns), "2020-01-02T14:31:00.5Z");
  EXPECT_EQ(format_ts_ns(bars[2].ts_ns), "2020-01-02T14:32:00Z");  // New York time, EST
  ASSERT_EQ(r.findings.size(), 1u);
  EXPECT_EQ(r.findings[0].rule, "bad_date");
}

}  // namespace trib::providers

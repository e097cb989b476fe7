// The yahoo adapter: the recorded chart payloads parsed with values read off the files by hand,
// fetch through the mock vendor server (request shape, faults), and Yahoo's error answers.
#include <atomic>
#include <chrono>
#include <mutex>
#include <vector>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "../../src/providers/yahoo/yahoo_parse.hpp"
#include "../core/test_util.hpp"
#include "mock_vendor.hpp"
#include "trib/core/error.hpp"
#include "trib/net/http_client.hpp"
#include "trib/providers/provider.hpp"

namespace trib::providers {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing::expect_error;
using testing::MockVendorServer;
using testing::VendorFault;

// The raw Yahoo payload inside a yahoo-finance2 fixture: response.bodyJson, or the string
// response.body.
std::string unwrap(const std::string& file) {
  const auto wrapper = nlohmann::ordered_json::parse(testing::read_vendor_sample("yahoo/chart/" + file));
  const auto& response = wrapper.at("response");
  if (response.contains("bodyJson")) return response.at("bodyJson").dump();
  return response.at("body").get<std::string>();
}

ParseResult parse_sample(const std::string& file, std::string_view symbol, Timeframe tf = Timeframe::kDay1) {
  ParseContext context;
  context.symbol = Symbol::parse(symbol);
  context.timeframe = tf;
  return make_provider("yahoo")->parse(unwrap(file), context);
}

ParseResult parse_text(const std::string& text, std::string_view symbol = "AAPL",
                       Timeframe tf = Timeframe::kDay1) {
  ParseContext context;
  context.symbol = Symbol::parse(symbol);
  context.timeframe = tf;
  return make_provider("yahoo")->parse(text, context);
}

const std::vector<Bar>& bars_of(const ParseResult& r, std::string_view symbol) {
  return r.bars.at(Symbol::parse(symbol));
}

const Bar* find_bar(const std::vector<Bar>& bars, std::string_view date) {
  for (const Bar& b : bars) {
    if (b.session_date == Date::parse(date)) return &b;
  }
  return nullptr;
}

// --- recorded payloads ---------------------------------------------------------------------------

TEST(YahooParse, AaplDailyTakesTheCloseNotAdjclose) {
  const ParseResult r = parse_sample("chart-AAPL-2020-01-01-to-2020-01-03.json", "AAPL");
  EXPECT_TRUE(r.findings.empty());
  EXPECT_TRUE(r.actions.empty());
  const auto& bars = bars_of(r, "AAPL");
  ASSERT_EQ(bars.size(), 1u);
  // timestamp 1577975400 = 2020-01-02T14:30Z, the 09:30 New York open.
  EXPECT_EQ(bars[0].session_date, Date::parse("2020-01-02"));
  EXPECT_EQ(format_ts_ns(bars[0].ts_ns), "2020-01-02T14:30:00Z");
  EXPECT_EQ(bars[0].open, 74.05999755859375);
  EXPECT_EQ(bars[0].high, 75.1500015258789);
  EXPECT_EQ(bars[0].low, 73.79750061035156);
  EXPECT_EQ(bars[0].close, 75.0875015258789);  // adjclose is 72.71607208251953
  EXPECT_EQ(bars[0].volume, 135480400);
}

TEST(YahooParse, AaplSplitAndDividendEvents) {
  const ParseResult r = parse_sample("chart-AAPL-2020-08-31-to-2020-11-07.json", "AAPL");
  EXPECT_TRUE(r.findings.empty());
  const auto& bars = bars_of(r, "AAPL");
  ASSERT_EQ(bars.size(), 49u);
  EXPECT_EQ(bars.front().session_date, Date::parse("2020-08-31"));
  EXPECT_EQ(format_ts_ns(bars.front().ts_ns), "2020-08-31T13:30:00Z");  // EDT
  EXPECT_EQ(bars.front().open, 127.58000183105469);
  EXPECT_EQ(bars.front().high, 131);
  EXPECT_EQ(bars.front().low, 126);
  EXPECT_EQ(bars.front().close, 129.0399932861328);  // adjclose 125.82673645019531
  EXPECT_EQ(bars.front().volume, 225702700);
  EXPECT_EQ(bars[1].session_date, Date::parse("2020-09-01"));
  EXPECT_EQ(bars[1].close, 134.17999267578125);
  EXPECT_EQ(bars.back().session_date, Date::parse("2020-11-06"));
  EXPECT_EQ(format_ts_ns(bars.back().ts_ns), "2020-11-06T14:30:00Z");  // EST after 2020-11-01
  EXPECT_EQ(bars.back().close, 118.69000244140625);
  EXPECT_EQ(bars.back().volume, 114457900);
  // events: splits {"1598880600": {numerator 4, denominator 1, "4:1"}},
  //         dividends {"1604673000": {amount 0.205}}
  ASSERT_EQ(r.actions.size(), 2u);
  EXPECT_EQ(r.actions[0].kind, CorporateAction::Kind::kSplit);
  EXPECT_EQ(r.actions[0].symbol, Symbol::parse("AAPL"));
  EXPECT_EQ(r.actions[0].ex_date, Date::parse("2020-08-31"));
  EXPECT_EQ(r.actions[0].split_ratio, 4.0);
  EXPECT_EQ(r.actions[1].kind, CorporateAction::Kind::kDividend);
  EXPECT_EQ(r.actions[1].ex_date, Date::parse("2020-11-06"));
  EXPECT_EQ(r.actions[1].cash_amount, 0.205);
  EXPECT_EQ(r.actions[1].currency, "USD");
  for (size_t i = 1; i < bars.size(); ++i) ASSERT_LT(bars[i - 1].session_date, bars[i].session_date);
}

TEST(YahooParse, NvdaSplit) {
  const ParseResult r = parse_sample("historical-via-chart-NVDA-split-2021-02-01-to-2022-01-31.csv.json", "NVDA");
  EXPECT_TRUE(r.findings.empty());
  const auto& bars = bars_of(r, "NVDA");
  ASSERT_EQ(bars.size(), 252u);
  EXPECT_EQ(bars.front().session_date, Date::parse("2021-02-01"));
  EXPECT_EQ(bars.front().close, 13.237000465393066);
  EXPECT_EQ(bars.back().session_date, Date::parse("2022-01-28"));
  EXPECT_EQ(bars.back().close, 22.84000015258789);
  EXPECT_EQ(bars.back().volume, 543774000);
  ASSERT_EQ(r.actions.size(), 1u);  // {"1626787800": {numerator 4, denominator 1, "4:1"}}
  EXPECT_EQ(r.actions[0].kind, CorporateAction::Kind::kSplit);
  EXPECT_EQ(r.actions[0].ex_date, Date::parse("2021-07-20"));
  EXPECT_EQ(r.actions[0].split_ratio, 4.0);
}

TEST(YahooParse, MsftFourDividends) {
  const ParseResult r =
      parse_sample("historical-via-chart-MSFT-dividends-2021-02-01-to-2022-01-31.csv.json", "MSFT");
  EXPECT_TRUE(r.findings.empty());
  const auto& bars = bars_of(r, "MSFT");
  ASSERT_EQ(bars.size(), 252u);
  EXPECT_EQ(bars.front().open, 235.05999755859375);
  EXPECT_EQ(bars.front().close, 239.64999389648438);
  EXPECT_EQ(bars.back().close, 308.260009765625);
  // dividends keyed 1613572200, 1621431000, 1629293400, 1637159400 (14:30Z / 13:30Z opens).
  const std::vector<std::pair<std::string, double>> expected = {
      {"2021-02-17", 0.56}, {"2021-05-19", 0.56}, {"2021-08-18", 0.56}, {"2021-11-17", 0.62}};
  ASSERT_EQ(r.actions.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(r.actions[i].kind, CorporateAction::Kind::kDividend);
    EXPECT_EQ(r.actions[i].ex_date, Date::parse(expected[i].first));
    EXPECT_EQ(r.actions[i].cash_amount, expected[i].second);
    EXPECT_EQ(r.actions[i].currency, "USD");
  }
  // An ex-date is a session of the file.
  for (const auto& a : r.actions) EXPECT_NE(find_bar(bars, a.ex_date.to_string()), nullptr);
}

TEST(YahooParse, OneMinuteDayWithANullAndATrailingBarOutsideTheWindow) {
  const ParseResult r = parse_sample(
      "chart-AAPL-2024-10-02-to-2024-10-03-includePrePost-false-interval-1m.json", "AAPL", Timeframe::kMinute1);
  // 391 timestamps: 390 regular-session minutes of 2024-10-02 (13:30Z..19:59Z), one of them all
  // null (index 105, 15:15Z), and a trailing bar at 2024-10-03T20:00Z (16:00 New York on the
  // next day: outside the requested window and every trading period the payload lists).
  const auto& bars = bars_of(r, "AAPL");
  EXPECT_EQ(bars.size(), 389u);
  ASSERT_EQ(r.findings.size(), 2u);
  EXPECT_EQ(r.findings[0].rule, "null_value");
  EXPECT_EQ(r.findings[0].line, 106);
  EXPECT_THAT(r.findings[0].reason, HasSubstr("close"));
  EXPECT_THAT(r.findings[0].reason, HasSubstr("2024-10-02T15:15Z"));
  EXPECT_THAT(r.findings[0].raw_text, HasSubstr("timestamp=1727882100"));
  EXPECT_EQ(r.findings[1].rule, "outside_session");
  EXPECT_EQ(r.findings[1].line, 391);
  EXPECT_THAT(r.findings[1].reason, HasSubstr("2024-10-03T20:00Z"));
  EXPECT_EQ(bars.size() + r.findings.size(), 391u);
  EXPECT_EQ(format_ts_ns(bars.front().ts_ns), "2024-10-02T13:30:00Z");
  EXPECT_EQ(bars.front().session_date, Date::parse("2024-10-02"));
  EXPECT_EQ(bars.front().open, 225.88999938964844);
  EXPECT_EQ(bars.front().close, 225.6999969482422);
  EXPECT_EQ(bars.front().volume, 1205461);
  // Index 104 (15:14Z) is the last bar before the null, index 106 (15:16Z) the first after it.
  EXPECT_EQ(format_ts_ns(bars[104].ts_ns), "2024-10-02T15:14:00Z");
  EXPECT_EQ(bars[104].close, 226.1300048828125);
  EXPECT_EQ(format_ts_ns(bars[105].ts_ns), "2024-10-02T15:16:00Z");
  EXPECT_EQ(bars[105].close, 226.3800048828125);
  EXPECT_EQ(format_ts_ns(bars.back().ts_ns), "2024-10-02T19:59:00Z");
  EXPECT_EQ(bars.back().close, 226.80999755859375);
  for (const Bar& b : bars) ASSERT_EQ(b.session_date, Date::parse("2024-10-02"));
}

TEST(YahooParse, WeekendWindowWithoutTimestampsIsEmpty) {
  const ParseResult r = parse_sample(
      "chart-AAPL-2025-02-01-to-2025-02-02-includePrePost-false-interval-1m.json", "AAPL", Timeframe::kMinute1);
  EXPECT_TRUE(bars_of(r, "AAPL").empty());
  EXPECT_TRUE(r.findings.empty());
  EXPECT_TRUE(r.actions.empty());
}

TEST(YahooParse, SmallDailyFiles) {
  {
    const ParseResult r = parse_sample("chart-AAPL.json", "AAPL");
    const auto& bars = bars_of(r, "AAPL");
    ASSERT_EQ(bars.size(), 1u);
    EXPECT_EQ(bars[0].session_date, Date::parse("2022-02-22"));
    EXPECT_EQ(bars[0].close, 164.32000732421875);
    EXPECT_EQ(bars[0].volume, 91162800);
  }
  {
    const ParseResult r = parse_sample("chart-QQQ-2020-01-01-to-2020-01-03.json", "QQQ");
    const auto& bars = bars_of(r, "QQQ");
    ASSERT_EQ(bars.size(), 1u);
    EXPECT_EQ(bars[0].session_date, Date::parse("2020-01-02"));
    EXPECT_EQ(bars[0].open, 214.39999389648438);
    EXPECT_EQ(bars[0].close, 216.16000366210938);
  }
  {
    // Gold futures stamped 05:00Z = midnight in New York: still 2020-01-02.
    const ParseResult r = parse_sample("chart-GC_F-2020-01-01-to-2020-01-03.json", "GC=F");
    const auto& bars = bars_of(r, "GC=F");
    ASSERT_EQ(bars.size(), 1u);
    EXPECT_EQ(bars[0].session_date, Date::parse("2020-01-02"));
    EXPECT_EQ(bars[0].close, 1524.5);
    EXPECT_EQ(bars[0].volume, 214);
  }
}

TEST(YahooParse, BitcoinKeepsTheHolidayAndTakesUtcDates) {
  // UTC zone, bars at 00:00Z on 2020-01-01 (an NYSE holiday), 01-02 and 01-03.
  const ParseResult r = parse_sample("chart-BTC-USD-2020-01-01-to-2020-01-03.json", "BTC-USD");
  EXPECT_TRUE(r.findings.empty());
  const auto& bars = bars_of(r, "BTC-USD");
  ASSERT_EQ(bars.size(), 3u);
  EXPECT_EQ(bars[0].session_date, Date::parse("2020-01-01"));
  EXPECT_EQ(bars[0].open, 7194.89208984375);
  EXPECT_EQ(bars[0].close, 7200.17431640625);
  EXPECT_EQ(bars[0].volume, 18565664997.0);
  EXPECT_EQ(bars[1].session_date, Date::parse("2020-01-02"));
  EXPECT_EQ(bars[2].session_date, Date::parse("2020-01-03"));
  EXPECT_EQ(bars[2].close, 7344.88427734375);
}

TEST(YahooParse, WeekendBitcoinBarIsARow) {
  // 2020-01-04 is a Saturday: a crypto session all the same.
  const std::string payload = R"({"chart":{"result":[{"meta":{"symbol":"BTC-USD","exchangeTimezoneName":"UTC",
    "gmtoffset":0,"currency":"USD","dataGranularity":"1d"},"timestamp":[1578096000],
    "indicators":{"quote":[{"open":[7345.37],"high":[7427.39],"low":[7309.51],"close":[7410.66],
    "volume":[18444271275]}]}}],"error":null}})";
  const ParseResult r = parse_text(payload, "BTC-USD");
  ASSERT_EQ(bars_of(r, "BTC-USD").size(), 1u);
  EXPECT_EQ(bars_of(r, "BTC-USD")[0].session_date, Date::parse("2020-01-04"));
  EXPECT_TRUE(r.findings.empty());
}

TEST(YahooParse, EuroDollarInLondonTime) {
  const ParseResult r = parse_sample("chart-EURUSD_X-2020-01-01-to-2020-01-03.json", "EURUSD=X");
  EXPECT_TRUE(r.findings.empty());
  const auto& bars = bars_of(r, "EURUSD=X");
  ASSERT_EQ(bars.size(), 3u);
  EXPECT_EQ(bars[0].session_date, Date::parse("2020-01-01"));
  EXPECT_EQ(bars[0].open, 1.1220825910568237);
  EXPECT_EQ(bars[0].volume, 0);
  EXPECT_EQ(bars[2].session_date, Date::parse("2020-01-03"));
  EXPECT_EQ(bars[2].close, 1.1171437501907349);
}

TEST(YahooParse, XetraInBerlinTime) {
  // Europe/Berlin, gmtoffset 3600; bars at 07:00Z (09:00 CEST) on 08-04, 08-07, 08-08.
  const ParseResult r = parse_sample("chart-WSU.DE-2023-08-04-to-2023-08-09.json", "WSU.DE");
  EXPECT_TRUE(r.findings.empty());
  const auto& bars = bars_of(r, "WSU.DE");
  ASSERT_EQ(bars.size(), 3u);
  EXPECT_EQ(bars[0].session_date, Date::parse("2023-08-04"));
  EXPECT_EQ(bars[0].open, 34.25);
  EXPECT_EQ(bars[0].close, 34.45000076293945);
  EXPECT_EQ(bars[0].volume, 1251);
  EXPECT_EQ(bars[1].session_date, Date::parse("2023-08-07"));
  EXPECT_EQ(bars[1].low, 34);
  EXPECT_EQ(bars[2].session_date, Date::parse("2023-08-08"));
  EXPECT_EQ(bars[2].close, 33.20000076293945);
  EXPECT_EQ(bars[2].volume, 10846);
}

TEST(YahooParse, SummerMidnightStampThroughAWinterOffsetStaysOnItsDate) {
  // FX daily bars start at 00:00 London time: 23:00Z the day before in summer. gmtoffset is the
  // offset when the request was made (0 in winter): the bar still belongs to 2023-07-03.
  const std::string payload = R"({"chart":{"result":[{"meta":{"symbol":"EURUSD=X","exchangeTimezoneName":"Europe/London",
    "gmtoffset":0,"currency":"USD","dataGranularity":"1d"},"timestamp":[1688338800],
    "indicators":{"quote":[{"open":[1.09],"high":[1.0917],"low":[1.087],"close":[1.0909],"volume":[0]}]}}],"error":null}})";
  const ParseResult r = parse_text(payload, "EURUSD=X");
  ASSERT_EQ(bars_of(r, "EURUSD=X").size(), 1u);
  EXPECT_EQ(bars_of(r, "EURUSD=X")[0].session_date, Date::parse("2023-07-03"));
}

TEST(YahooParse, ThirtyMinuteBarsWithPrePost) {
  const std::string payload = unwrap("chart-TSLA-2021-11-22-to-2021-11-23-interval-30m.json");
  ParseContext context;
  context.symbol = Symbol::parse("TSLA");
  context.timeframe = Timeframe::kMinute1;
  const ParseResult r = parse_yahoo_chart_interval(payload, context, "30m");
  EXPECT_TRUE(r.findings.empty());
  const auto& bars = bars_of(r, "TSLA");
  ASSERT_EQ(bars.size(), 30u);  // 04:00 .. 18:30 New York, inside the pre/regular/post periods
  EXPECT_EQ(format_ts_ns(bars.front().ts_ns), "2021-11-22T09:00:00Z");
  EXPECT_EQ(bars.front().open, 1148.51);
  EXPECT_EQ(bars.front().close, 1168.7);
  EXPECT_EQ(format_ts_ns(bars.back().ts_ns), "2021-11-22T23:30:00Z");
  EXPECT_EQ(bars.back().close, 1156.49);
  for (const Bar& b : bars) EXPECT_EQ(b.session_date, Date::parse("2021-11-22"));
  // Asked as hourly bars, the payload is not what was asked.
  context.timeframe = Timeframe::kHour1;
  EXPECT_THAT(expect_error([&] { make_provider("yahoo")->parse(payload, context); }, ErrorCategory::kDataLoss),
              HasSubstr("30m"));
}

TEST(YahooParse, DailyPayloadAskedAsMinutesIsDataLoss) {
  EXPECT_THAT(expect_error([] { parse_sample("chart-AAPL.json", "AAPL", Timeframe::kMinute1); },
                           ErrorCategory::kDataLoss),
              HasSubstr("1d"));
}

TEST(YahooParse, PayloadForAnotherSymbolIsDataLoss) {
  EXPECT_THAT(expect_error([] { parse_sample("chart-QQQ-2020-01-01-to-2020-01-03.json", "AAPL"); },
                           ErrorCategory::kDataLoss),
              HasSubstr("QQQ"));
}

// --- rows it cannot use ------------------------------------------------------------------------

TEST(YahooParse, EveryUnusableRowIsAFinding) {
  // Rows: good; null close; string price; year 4026 timestamp; zero low; the same session as
  // row 1; negative volume; a float timestamp; good with null volume.
  const std::string payload = R"({"chart":{"result":[{"meta":{"symbol":"AAPL","exchangeTimezoneName":"America/New_York",
    "gmtoffset":-18000,"currency":"USD","dataGranularity":"1d"},
    "timestamp":[1577975400,1578061800,1578321000,64000000000,1578407400,1577990000,1578493800,1578580200.5,1578666600],
    "indicators":{"quote":[{
      "open":  [74.06, 74.29, "abc", 75, 74.96, 74.0, 75.8, 77, 77.65],
      "high":  [75.15, 75.14, 74.99, 75, 75.22, 74.5, 76.11, 78, 78.17],
      "low":   [73.80, 74.13, 73.19, 75, 0,     73.0, 74.29, 76, 77.06],
      "close": [75.09, null,  74.95, 75, 74.60, 74.2, 75.80, 77.5, 77.58],
      "volume":[135480400, 146322800, 118387200, 1, 108872000, 5, -3, 7, null]}],
    "adjclose":[{"adjclose":[72.7, 72.0, 72.6, 72.0, 72.2, 72.0, 73.4, 75.0, 75.1]}]}}],"error":null}})";
  const ParseResult r = parse_text(payload);
  const auto& bars = bars_of(r, "AAPL");
  ASSERT_EQ(bars.size(), 2u);
  EXPECT_EQ(bars[0].session_date, Date::parse("2020-01-02"));
  EXPECT_EQ(bars[0].close, 75.09);
  EXPECT_EQ(bars[1].session_date, Date::parse("2020-01-10"));
  EXPECT_EQ(bars[1].volume, 0);  // null volume: none reported
  ASSERT_EQ(r.findings.size(), 7u);
  const std::vector<std::pair<int64_t, std::string>> expected = {
      {2, "null_value"}, {3, "bad_number"}, {4, "bad_date"}, {5, "nonpositive_price"},
      {6, "duplicate_session"}, {7, "bad_number"}, {8, "bad_date"}};
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(r.findings[i].line, expected[i].first) << i;
    EXPECT_EQ(r.findings[i].rule, expected[i].second) << i;
    EXPECT_FALSE(r.findings[i].raw_text.empty());
  }
  EXPECT_THAT(r.findings[0].reason, HasSubstr("close null"));
  EXPECT_THAT(r.findings[1].reason, HasSubstr("open = \"abc\""));
  EXPECT_THAT(r.findings[2].reason, HasSubstr("64000000000"));
  EXPECT_THAT(r.findings[3].reason, HasSubstr("low = 0"));
  EXPECT_THAT(r.findings[5].reason, HasSubstr("volume = -3"));
}

TEST(YahooParse, BadEventsAreFindings) {
  const std::string payload = R"({"chart":{"result":[{"meta":{"symbol":"AAPL","dataGranularity":"1d"},
    "events":{"splits":{"1":{"date":99999999999999,"numerator":4,"denominator":1},
                        "1598880600":{"date":1598880600,"numerator":0,"denominator":1},
                        "1598967000":{"date":1598967000,"splitRatio":"1:10"}},
              "dividends":{"1604673000":{"amount":"x","date":1604673000}}}}],"error":null}})";
  const ParseResult r = parse_text(payload);
  ASSERT_EQ(r.actions.size(), 1u);  // the 1:10 reverse split from splitRatio
  EXPECT_EQ(r.actions[0].ex_date, Date::parse("2020-09-01"));
  EXPECT_DOUBLE_EQ(r.actions[0].split_ratio, 0.1);
  ASSERT_EQ(r.findings.size(), 3u);
  EXPECT_EQ(r.findings[0].rule, "bad_date");
  EXPECT_EQ(r.findings[1].rule, "bad_action");
  EXPECT_EQ(r.findings[2].rule, "bad_number");
}

TEST(YahooParse, UnreadablePayloadsAreDataLoss) {
  for (const std::string& bad :
       {std::string("not json"), std::string("{\"chart\":{\"result\":[{\"meta\":{},\"timestamp\":[1]"),
        std::string("[]"), std::string("{\"finance\":{}}"),
        std::string(R"({"chart":{"result":null,"error":{"code":"Not Found","description":"No data found, symbol may be delisted"}}})"),
        std::string(R"({"chart":{"result":[],"error":null}})"),
        std::string(R"({"chart":{"result":[{"meta":{"symbol":"AAPL"},"timestamp":[1577975400]}],"error":null}})"),
        std::string(R"({"chart":{"result":[{"meta":{"symbol":"X","exchangeTimezoneName":"Asia/Tokyo"},"timestamp":[]}],"error":null}})")}) {
    SCOPED_TRACE(bad);
    expect_error([&] { parse_text(bad, bad.find("\"X\"") != std::string::npos ? "X" : "AAPL"); },
                 ErrorCategory::kDataLoss);
  }
}

// --- fetch through the mock vendor server ------------------------------------------------------

class CountingGate final : public RequestGate {
 public:
  void acquire(std::string_view) override { ++acquired; }
  void pause(std::string_view vendor, int64_t until_unix_ms) override {
    std::lock_guard lock(mutex);
    pauses.emplace_back(std::string(vendor), until_unix_ms);
  }
  std::atomic<int> acquired{0};
  std::mutex mutex;
  std::vector<std::pair<std::string, int64_t>> pauses;
};

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class YahooFetch : public ::testing::Test {
 protected:
  void SetUp() override { server.start(); }

  std::unique_ptr<Provider> provider(ProviderOptions options = {}, std::shared_ptr<RequestGate> g = nullptr) {
    options["base_url"] = server.base_url("yahoo");
    return make_provider("yahoo", options, std::move(g));
  }

  static FetchRequest request(std::string_view symbol, std::string_view from, std::string_view to,
                              Timeframe tf = Timeframe::kDay1) {
    FetchRequest r;
    r.symbol = Symbol::parse(symbol);
    r.from = Date::parse(from);
    r.to = Date::parse(to);
    r.timeframe = tf;
    return r;
  }

  testing::MockRequest last_request() {
    const auto log = server.requests();
    EXPECT_FALSE(log.empty());
    return log.empty() ? testing::MockRequest{} : log.back();
  }

  MockVendorServer server;
};

TEST_F(YahooFetch, AsksTheChartApiForTheWindowAndReturnsTheRecording) {
  const FetchResult f = provider()->fetch(request("AAPL", "2020-08-31", "2020-11-06"));
  const auto seen = last_request();
  EXPECT_EQ(seen.vendor, "yahoo");
  EXPECT_EQ(seen.path, "/v8/finance/chart/AAPL");
  EXPECT_EQ(seen.param("period1"), "1598832000");  // 2020-08-31T00:00Z
  EXPECT_EQ(seen.param("period2"), "1604707200");  // 2020-11-07T00:00Z: the day after `to`
  EXPECT_EQ(seen.param("interval"), "1d");
  EXPECT_EQ(seen.param("events"), "div|split");
  EXPECT_EQ(seen.param("includeAdjustedClose"), "true");
  EXPECT_FALSE(seen.has_param("includePrePost"));
  EXPECT_EQ(f.ext, "json");
  EXPECT_EQ(f.content_type, "application/json");
  EXPECT_EQ(f.status, 200);
  EXPECT_EQ(f.request["path"], "/v8/finance/chart/AAPL");
  EXPECT_EQ(f.request["params"]["period1"], "1598832000");
  EXPECT_EQ(f.bytes, unwrap("chart-AAPL-2020-08-31-to-2020-11-07.json"));
  ParseContext context;
  context.symbol = Symbol::parse("AAPL");
  const ParseResult r = make_provider("yahoo")->parse(f.bytes, context);
  EXPECT_EQ(bars_of(r, "AAPL").size(), 49u);
  EXPECT_EQ(r.actions.size(), 2u);
}

TEST_F(YahooFetch, BytesAreExactlyWhatTheServerSent) {
  const FetchResult f = provider()->fetch(request("SIM0042", "2024-01-01", "2024-01-31"));
  auto client = net::make_curl_client();
  net::HttpRequest direct;
  direct.url = server.base_url("yahoo") + "/v8/finance/chart/SIM0042?period1=1704067200&period2=1706745600&interval=1d&events=div%7Csplit&includeAdjustedClose=true";
  const auto response = client->send(direct);
  EXPECT_EQ(f.bytes, response.body);
  ParseContext context;
  context.symbol = Symbol::parse("SIM0042");
  const ParseResult r = make_provider("yahoo")->parse(f.bytes, context);
  const auto& bars = bars_of(r, "SIM0042");
  const auto synth = testing::synthetic_daily_bars("SIM0042", Date::parse("2024-01-01"), Date::parse("2024-01-31"));
  ASSERT_EQ(bars.size(), 21u);  // January 2024: 23 weekdays less New Year's Day and MLK day
  ASSERT_EQ(synth.size(), bars.size());
  for (size_t i = 0; i < bars.size(); ++i) {
    EXPECT_EQ(bars[i].session_date, synth[i].date);
    EXPECT_NEAR(bars[i].close, synth[i].close, 1e-4);
    EXPECT_EQ(bars[i].volume, synth[i].volume);
  }
}

TEST_F(YahooFetch, IntradayAsksForTheRegularSession) {
  const FetchResult f = provider()->fetch(request("AAPL", "2024-10-02", "2024-10-02", Timeframe::kMinute1));
  const auto seen = last_request();
  EXPECT_EQ(seen.param("interval"), "1m");
  EXPECT_EQ(seen.param("period1"), "1727827200");
  EXPECT_EQ(seen.param("period2"), "1727913600");
  EXPECT_EQ(seen.param("includePrePost"), "false");
  ParseContext context;
  context.symbol = Symbol::parse("AAPL");
  context.timeframe = Timeframe::kMinute1;
  EXPECT_EQ(bars_of(make_provider("yahoo")->parse(f.bytes, context), "AAPL").size(), 389u);

  const FetchResult h = provider()->fetch(request("SIM0001", "2024-03-04", "2024-03-05", Timeframe::kHour1));
  EXPECT_EQ(last_request().param("interval"), "1h");
  context.symbol = Symbol::parse("SIM0001");
  context.timeframe = Timeframe::kHour1;
  const ParseResult hr = make_provider("yahoo")->parse(h.bytes, context);
  ASSERT_EQ(bars_of(hr, "SIM0001").size(), 14u);  // 7 hourly bars (09:30 .. 15:30) a session
  EXPECT_EQ(format_ts_ns(bars_of(hr, "SIM0001")[0].ts_ns), "2024-03-04T14:30:00Z");
}

TEST_F(YahooFetch, SymbolsWithReservedCharactersArePercentEncoded) {
  const FetchResult f = provider()->fetch(request("EURUSD=X", "2020-01-01", "2020-01-02"));
  EXPECT_EQ(last_request().path, "/v8/finance/chart/EURUSD=X");
  EXPECT_EQ(f.request["path"], "/v8/finance/chart/EURUSD%3DX");
  EXPECT_EQ(f.bytes, unwrap("chart-EURUSD_X-2020-01-01-to-2020-01-03.json"));
  provider()->fetch(request("^GSPC", "2024-01-02", "2024-01-05"));
  EXPECT_EQ(last_request().path, "/v8/finance/chart/^GSPC");
}

TEST_F(YahooFetch, WindowWithoutSessionsIsAnEmptyResult) {
  const FetchResult f = provider()->fetch(request("SIM0001", "2024-03-09", "2024-03-10"));
  ParseContext context;
  context.symbol = Symbol::parse("SIM0001");
  const ParseResult r = make_provider("yahoo")->parse(f.bytes, context);
  EXPECT_TRUE(bars_of(r, "SIM0001").empty());
  EXPECT_TRUE(r.findings.empty());
}

TEST_F(YahooFetch, RefusesOtherDatasetsAndBackwardWindows) {
  FetchRequest r = request("AAPL", "2024-01-02", "2024-01-05");
  r.dataset = "rates";
  expect_error([&] { provider()->fetch(r); }, ErrorCategory::kInvalidInput);
  expect_error([&] { provider()->fetch(request("AAPL", "2024-01-05", "2024-01-02")); }, ErrorCategory::kInvalidInput);
  EXPECT_EQ(server.request_count("yahoo"), 0);
}

TEST_F(YahooFetch, NeedsNoKey) {
  // Yahoo's chart API takes no key: nothing is read from the environment, nothing is sent.
  provider()->fetch(request("AAPL", "2020-01-01", "2020-01-02"));
  const auto seen = last_request();
  for (const auto& [name, _] : seen.params) {
    EXPECT_THAT(name, Not(HasSubstr("key")));
    EXPECT_THAT(name, Not(HasSubstr("crumb")));
  }
  EXPECT_EQ(seen.header("authorization"), "");
}

// --- faults -------------------------------------------------------------------------------------

TEST_F(YahooFetch, RateLimitIsWaitedOutAsAsked) {
  auto gate = std::make_shared<CountingGate>();
  server.inject("yahoo", {VendorFault::k429, 1, /*retry_after_s=*/1});
  const auto start = std::chrono::steady_clock::now();
  const int64_t wall_start = now_ms();
  const FetchResult f = provider({}, gate)->fetch(request("AAPL", "2020-01-01", "2020-01-02"));
  const auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_GE(waited, std::chrono::milliseconds(950));
  EXPECT_EQ(server.request_count("yahoo"), 2);
  EXPECT_EQ(gate->acquired.load(), 2);
  ASSERT_EQ(gate->pauses.size(), 1u);  // the wait, told to everyone sharing the budget
  EXPECT_EQ(gate->pauses[0].first, "yahoo");
  EXPECT_GE(gate->pauses[0].second, wall_start + 900);
  EXPECT_EQ(f.bytes, unwrap("chart-AAPL-2020-01-01-to-2020-01-03.json"));
}

TEST_F(YahooFetch, ServerErrorsAreRetryable) {
  for (VendorFault fault : {VendorFault::k500, VendorFault::k503}) {
    server.inject("yahoo", {fault});
    expect_error([&] { provider()->fetch(request("AAPL", "2020-01-01", "2020-01-02")); }, ErrorCategory::kRetryable);
  }
}

TEST_F(YahooFetch, SlowAnswerTimesOutRetryable) {
  server.inject("yahoo", {VendorFault::kSlow, 1, 1, /*delay_ms=*/2000});
  const auto start = std::chrono::steady_clock::now();
  expect_error([&] { provider({{"timeout_ms", "500"}})->fetch(request("AAPL", "2020-01-01", "2020-01-02")); },
               ErrorCategory::kRetryable);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(1900));
}

TEST_F(YahooFetch, TruncatedBodyIsRetryable) {
  server.inject("yahoo", {VendorFault::kTruncated});
  expect_error([&] { provider()->fetch(request("AAPL", "2020-08-31", "2020-11-06")); }, ErrorCategory::kRetryable);
}

TEST_F(YahooFetch, EmptyBodyIsRetryable) {
  server.inject("yahoo", {VendorFault::kEmpty});
  EXPECT_THAT(expect_error([&] { provider()->fetch(request("AAPL", "2020-01-01", "2020-01-02")); },
                           ErrorCategory::kRetryable),
              HasSubstr("empty body"));
}

TEST_F(YahooFetch, HtmlPageIsRetryableAndOnlyExcerpted) {
  server.inject("yahoo", {VendorFault::kHtml});
  const std::string message = expect_error(
      [&] { provider()->fetch(request("AAPL", "2020-01-01", "2020-01-02")); }, ErrorCategory::kRetryable);
  EXPECT_THAT(message, HasSubstr("HTML"));
  EXPECT_THAT(message, Not(HasSubstr("cloudfront")));  // the page's tail is not echoed
  EXPECT_THAT(message, Not(HasSubstr("\n")));
}

TEST_F(YahooFetch, VendorErrorBodyIsInvalidInput) {
  server.inject("yahoo", {VendorFault::kVendorError});
  EXPECT_THAT(expect_error([&] { provider()->fetch(request("AAPL", "2020-01-01", "2020-01-02")); },
                           ErrorCategory::kInvalidInput),
              HasSubstr("Bad Request"));
}

TEST_F(YahooFetch, UnknownSymbolIsNotFound) {
  server.inject("yahoo", {VendorFault::kUnknownSymbol});
  EXPECT_THAT(expect_error([&] { provider()->fetch(request("AAPL", "2020-01-01", "2020-01-02")); },
                           ErrorCategory::kNotFound),
              HasSubstr("yahoo does not know symbol AAPL"));
  server.add_unknown_symbol("ZZZZQ");
  const std::string message = expect_error(
      [&] { provider()->fetch(request("ZZZZQ", "2020-01-01", "2020-01-02")); }, ErrorCategory::kNotFound);
  EXPECT_THAT(message, HasSubstr("yahoo does not know symbol ZZZZQ"));
  EXPECT_THAT(message, HasSubstr("symbol may be delisted"));
}

TEST_F(YahooFetch, OneMinuteWindowTooLongIsRefused) {
  // Yahoo serves at most 8 days of 1m bars per request (422 Unprocessable Entity).
  expect_error([&] { provider()->fetch(request("SIM0001", "2024-03-01", "2024-03-29", Timeframe::kMinute1)); },
               ErrorCategory::kInvalidInput);
}

}  // namespace
}  // namespace trib::providers

// The polygon adapter: the recorded Polygon.io payloads parsed and checked by hand against the
// files (../shared/data/vendor-samples/polygon, SOURCE.md), the requests it sends to the mock
// vendor server (paths, parameters, the bearer header, next_url paging), and one test per fault.
#include <chrono>
#include <cstdlib>
#include <mutex>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "../core/test_util.hpp"
#include "mock_vendor.hpp"
#include "trib/core/error.hpp"
#include "trib/providers/provider.hpp"

namespace trib::providers {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing::expect_error;
using testing::InjectedFault;
using testing::MockRequest;
using testing::MockVendorServer;
using testing::read_vendor_sample;
using testing::VendorFault;

constexpr const char* kAggs0401 = "polygon/mocks/v2/aggs/ticker/AAPL/range/1/day/2005-04-01/2005-04-04.json";
constexpr const char* kAggs0402 = "polygon/mocks/v2/aggs/ticker/AAPL/range/1/day/2005-04-02/2005-04-04.json";

ParseResult parse_text(std::string_view text, std::string_view symbol = "AAPL",
                       Timeframe tf = Timeframe::kDay1) {
  ParseContext context;
  if (!symbol.empty()) context.symbol = Symbol::parse(symbol);
  context.timeframe = tf;
  return make_provider("polygon")->parse(text, context);
}

int64_t utc_ns(std::string_view text) { return parse_ts_ns(text); }

// --- parse: the recorded payloads -------------------------------------------------------------------

TEST(PolygonParse, RecordedDailyAggregatesAcrossTheDstSwitch) {
  for (const char* file : {kAggs0401, kAggs0402}) {
    SCOPED_TRACE(file);
    ParseResult r = parse_text(read_vendor_sample(file));
    EXPECT_TRUE(r.findings.empty());
    ASSERT_EQ(r.bars.size(), 1u);
    const auto& bars = r.bars.at(Symbol::parse("AAPL"));
    ASSERT_EQ(bars.size(), 2u);
    // t 1112331600000 = 2005-04-01T05:00Z = 00:00 EST: session 2005-04-01, stamped at its open
    // 09:30 EST = 14:30Z.
    EXPECT_EQ(bars[0].session_date, Date::parse("2005-04-01"));
    EXPECT_EQ(bars[0].ts_ns, utc_ns("2005-04-01T14:30:00Z"));
    EXPECT_EQ(bars[0].open, 1.5032);
    EXPECT_EQ(bars[0].high, 1.5064);
    EXPECT_EQ(bars[0].low, 1.4489);
    EXPECT_EQ(bars[0].close, 1.4604);
    EXPECT_EQ(bars[0].volume, 642646396.0);
    EXPECT_EQ(bars[0].vwap, 1.469);
    EXPECT_EQ(bars[0].trades, 82132);
    // t 1112587200000 = 2005-04-04T04:00Z = 00:00 EDT (DST began 2005-04-03): session
    // 2005-04-04, open 09:30 EDT = 13:30Z.
    EXPECT_EQ(bars[1].session_date, Date::parse("2005-04-04"));
    EXPECT_EQ(bars[1].ts_ns, utc_ns("2005-04-04T13:30:00Z"));
    EXPECT_EQ(bars[1].open, 1.4639);
    EXPECT_EQ(bars[1].high, 1.4754);
    EXPECT_EQ(bars[1].low, 1.4343);
    EXPECT_EQ(bars[1].close, 1.4675);
    EXPECT_EQ(bars[1].volume, 578172308.0);
    EXPECT_EQ(bars[1].vwap, 1.4589);
    EXPECT_EQ(bars[1].trades, 65543);
  }
}

TEST(PolygonParse, RecordedPreviousClose) {
  ParseResult r = parse_text(read_vendor_sample("polygon/mocks/v2/aggs/ticker/AAPL/prev.json"));
  EXPECT_TRUE(r.findings.empty());
  const auto& bars = r.bars.at(Symbol::parse("AAPL"));
  ASSERT_EQ(bars.size(), 1u);
  // t 1651003200000 = 2022-04-26T20:00Z (16:00 EDT): still the New York session of 2022-04-26.
  EXPECT_EQ(bars[0].session_date, Date::parse("2022-04-26"));
  EXPECT_EQ(bars[0].open, 162.25);
  EXPECT_EQ(bars[0].high, 162.34);
  EXPECT_EQ(bars[0].low, 156.72);
  EXPECT_EQ(bars[0].close, 156.8);
  EXPECT_EQ(bars[0].volume, 95595226.0);
  EXPECT_EQ(bars[0].vwap, 158.6074);
  EXPECT_EQ(bars[0].trades, 899965);
}

TEST(PolygonParse, RecordedSplits) {
  ParseResult r = parse_text(read_vendor_sample("polygon/mocks/v3/reference/splits.json"), "GOOGL");
  EXPECT_TRUE(r.findings.empty());
  EXPECT_TRUE(r.bars.empty());
  ASSERT_EQ(r.actions.size(), 10u);
  const CorporateAction& googl = r.actions[0];
  EXPECT_EQ(googl.kind, CorporateAction::Kind::kSplit);
  EXPECT_EQ(googl.symbol, Symbol::parse("GOOGL"));
  EXPECT_EQ(googl.ex_date, Date::parse("2022-07-18"));
  EXPECT_EQ(googl.split_ratio, 20.0);  // split_from 1, split_to 20
  EXPECT_EQ(r.actions[1].symbol, Symbol::parse("GOOG"));
  EXPECT_EQ(r.actions[6].symbol, Symbol::parse("AMZN"));
  EXPECT_EQ(r.actions[6].ex_date, Date::parse("2022-06-06"));
  EXPECT_EQ(r.actions[6].split_ratio, 20.0);
  // BRW: split_from 2, split_to 1, a reverse split.
  EXPECT_EQ(r.actions[7].symbol, Symbol::parse("BRW"));
  EXPECT_EQ(r.actions[7].split_ratio, 0.5);
  // CIG.C: 3 -> 4.
  EXPECT_EQ(r.actions[9].symbol, Symbol::parse("CIG.C"));
  EXPECT_EQ(r.actions[9].ex_date, Date::parse("2022-05-02"));
  EXPECT_DOUBLE_EQ(r.actions[9].split_ratio, 4.0 / 3.0);
}

TEST(PolygonParse, RecordedDividends) {
  ParseResult r = parse_text(read_vendor_sample("polygon/mocks/v3/reference/dividends.json"), "CSSEN");
  EXPECT_TRUE(r.findings.empty());
  ASSERT_EQ(r.actions.size(), 10u);
  const CorporateAction& first = r.actions[0];
  EXPECT_EQ(first.kind, CorporateAction::Kind::kDividend);
  EXPECT_EQ(first.symbol, Symbol::parse("CSSEN"));
  EXPECT_EQ(first.ex_date, Date::parse("2025-06-12"));
  EXPECT_EQ(first.cash_amount, 0.59375);
  EXPECT_EQ(first.pay_date, Date::parse("2025-06-30"));
  EXPECT_EQ(first.record_date, Date::parse("2025-06-15"));
  EXPECT_EQ(first.declared_date, Date::parse("2020-09-09"));
  EXPECT_EQ(first.currency, "");  // the recorded rows name no currency
  const CorporateAction& airtp = r.actions[7];
  EXPECT_EQ(airtp.symbol, Symbol::parse("AIRTP"));
  EXPECT_EQ(airtp.ex_date, Date::parse("2023-11-13"));
  EXPECT_EQ(airtp.cash_amount, 0.5);
  EXPECT_EQ(airtp.pay_date, Date::parse("2023-11-15"));
  EXPECT_EQ(r.actions[9].ex_date, Date::parse("2023-08-11"));
}

TEST(PolygonParse, PagesAreRecognisedByTheirShape) {
  // An "actions" payload: splits page, then dividends page; with a bars page in front as
  // option actions=true stores it.
  const std::string payload = read_vendor_sample(kAggs0401) + "\n" +
                              read_vendor_sample("polygon/mocks/v3/reference/splits.json") + "\n" +
                              read_vendor_sample("polygon/mocks/v3/reference/dividends.json");
  ParseResult r = parse_text(payload);
  EXPECT_TRUE(r.findings.empty());
  EXPECT_EQ(r.bars.at(Symbol::parse("AAPL")).size(), 2u);
  ASSERT_EQ(r.actions.size(), 20u);
  EXPECT_EQ(r.actions[0].kind, CorporateAction::Kind::kSplit);
  EXPECT_EQ(r.actions[10].kind, CorporateAction::Kind::kDividend);
}

TEST(PolygonParse, PagesThatAreNotBarsOrActionsAreDataLoss) {
  // Quotes (the recorded page with a next_url) and ticker details are no dataset of ours.
  expect_error([] { parse_text(read_vendor_sample("polygon/mocks/v3/quotes/AAPL.json")); },
               ErrorCategory::kDataLoss);
  expect_error([] { parse_text(read_vendor_sample("polygon/mocks/v3/reference/tickers/AAPL.json")); },
               ErrorCategory::kDataLoss);
}

// --- parse: hand-made payloads --------------------------------------------------------------------

TEST(PolygonParse, IntradayBarsKeepTheirOpenAndTakeTheNewYorkDate) {
  // 2020-03-06 20:00Z is 15:00 EST; 2020-03-10 00:00Z is 20:00 EDT on 2020-03-09.
  const std::string payload = R"({"ticker":"AAPL","queryCount":2,"resultsCount":2,"adjusted":false,
    "results":[{"v":100,"vw":1.5,"o":1,"c":2,"h":2.5,"l":0.5,"t":1583524800000,"n":3},
               {"v":200,"o":3,"c":4,"h":4.5,"l":2.5,"t":1583798400000}],"status":"OK","request_id":"x"})";
  ParseResult r = parse_text(payload, "AAPL", Timeframe::kHour1);
  EXPECT_TRUE(r.findings.empty());
  const auto& bars = r.bars.at(Symbol::parse("AAPL"));
  ASSERT_EQ(bars.size(), 2u);
  EXPECT_EQ(bars[0].ts_ns, utc_ns("2020-03-06T20:00:00Z"));
  EXPECT_EQ(bars[0].session_date, Date::parse("2020-03-06"));
  EXPECT_EQ(bars[1].ts_ns, utc_ns("2020-03-10T00:00:00Z"));
  EXPECT_EQ(bars[1].session_date, Date::parse("2020-03-09"));
  EXPECT_FALSE(bars[1].vwap.has_value());
  EXPECT_FALSE(bars[1].trades.has_value());
}

TEST(PolygonParse, EveryUnusableRowIsAFinding) {
  const std::string payload = R"({"ticker":"AAPL","queryCount":7,"resultsCount":7,"adjusted":false,"results":[
    {"v":1,"o":1,"c":1,"h":1,"l":1,"t":1112331600000},
    {"v":1,"o":null,"c":1,"h":1,"l":1,"t":1112331600000},
    {"v":"lots","o":1,"c":1,"h":1,"l":1,"t":1112331600000},
    {"v":1,"o":1,"c":1,"h":1,"l":1,"t":7258118400000},
    {"v":1,"o":1,"c":1,"h":1,"l":1},
    [1,2,3],
    {"v":1,"o":1,"c":1,"h":1,"t":1112331600000}
  ],"status":"OK","request_id":"x"})";
  ParseResult r = parse_text(payload);
  EXPECT_EQ(r.bars.at(Symbol::parse("AAPL")).size(), 1u);
  ASSERT_EQ(r.findings.size(), 6u);
  EXPECT_EQ(r.findings[0].rule, "null_value");
  EXPECT_THAT(r.findings[0].reason, HasSubstr("'o'"));
  EXPECT_EQ(r.findings[0].line, 2);
  EXPECT_EQ(r.findings[1].rule, "bad_number");
  EXPECT_THAT(r.findings[1].reason, HasSubstr("lots"));
  EXPECT_EQ(r.findings[2].rule, "bad_date");  // 2200-01-01: outside 1900-2100
  EXPECT_THAT(r.findings[2].reason, HasSubstr("7258118400000"));
  EXPECT_EQ(r.findings[3].rule, "missing_value");
  EXPECT_EQ(r.findings[4].rule, "malformed_row");
  EXPECT_EQ(r.findings[5].rule, "missing_value");
  EXPECT_THAT(r.findings[5].reason, HasSubstr("'l'"));
  EXPECT_THAT(r.findings[5].raw_text, HasSubstr("1112331600000"));
}

TEST(PolygonParse, ActionRowsItCannotUseAreFindings) {
  const std::string payload = R"({"results":[
    {"execution_date":"2022-07-18","split_from":0,"split_to":20,"ticker":"GOOGL"},
    {"execution_date":"18/07/2022","split_from":1,"split_to":20,"ticker":"GOOGL"},
    {"execution_date":"2022-07-18","split_from":1,"split_to":2,"ticker":"bad ticker!"}
  ],"status":"OK","request_id":"x"}
{"results":[{"cash_amount":-1,"ex_dividend_date":"2023-01-03","ticker":"AIRTP"},
            {"cash_amount":0.25,"ex_dividend_date":"2999-01-03","ticker":"AIRTP"},
            {"cash_amount":0.25,"currency":"usd","ex_dividend_date":"2023-01-03","pay_date":"soon"}],
 "status":"OK","request_id":"y"})";
  ParseResult r = parse_text(payload, "AIRTP");
  ASSERT_EQ(r.findings.size(), 5u);
  EXPECT_EQ(r.findings[0].rule, "bad_number");
  EXPECT_EQ(r.findings[1].rule, "bad_date");
  EXPECT_EQ(r.findings[2].rule, "bad_symbol");
  EXPECT_EQ(r.findings[3].rule, "nonpositive_amount");
  EXPECT_EQ(r.findings[4].rule, "bad_date");
  EXPECT_EQ(r.findings[4].line, 5);
  ASSERT_EQ(r.actions.size(), 1u);
  // No ticker in the row: the payload's symbol; an unreadable optional date is left out.
  EXPECT_EQ(r.actions[0].symbol, Symbol::parse("AIRTP"));
  EXPECT_EQ(r.actions[0].currency, "USD");
  EXPECT_FALSE(r.actions[0].pay_date.has_value());
}

TEST(PolygonParse, BarsOfAnotherTickerAreFindings) {
  ParseResult r = parse_text(read_vendor_sample(kAggs0401), "MSFT");
  EXPECT_TRUE(r.bars[Symbol::parse("MSFT")].empty());
  ASSERT_EQ(r.findings.size(), 2u);
  EXPECT_EQ(r.findings[0].rule, "unexpected_symbol");
}

TEST(PolygonParse, AnEmptyWindowIsNoBarsAndNoFindings) {
  ParseResult r = parse_text(
      R"({"ticker":"XYZ","queryCount":0,"resultsCount":0,"adjusted":false,"status":"OK","request_id":"x","count":0})",
      "XYZ");
  EXPECT_TRUE(r.findings.empty());
  EXPECT_TRUE(r.bars[Symbol::parse("XYZ")].empty());
}

TEST(PolygonParse, UnreadablePayloadsAreDataLoss) {
  for (const std::string& bad :
       {std::string(""), std::string("not json"), std::string("<html>502</html>"),
        read_vendor_sample(kAggs0401).substr(0, 150),
        std::string(R"({"status":"ERROR","request_id":"x","error":"Unknown API Key"})"),
        std::string(R"({"ticker":"AAPL","results":{"t":1}})"), std::string("[1,2]")}) {
    SCOPED_TRACE(bad);
    expect_error([&] { parse_text(bad); }, ErrorCategory::kDataLoss);
  }
}

// --- fetch through the mock vendor server ---------------------------------------------------------

class RecordingGate final : public RequestGate {
 public:
  void acquire(std::string_view) override {
    std::lock_guard lock(mutex_);
    ++acquired;
  }
  void pause(std::string_view vendor, int64_t until_unix_ms) override {
    std::lock_guard lock(mutex_);
    pauses.emplace_back(std::string(vendor), until_unix_ms);
  }
  std::mutex mutex_;
  int acquired = 0;
  std::vector<std::pair<std::string, int64_t>> pauses;
};

class PolygonFetch : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.start();
    ::setenv("POLYGON_API_KEY", MockVendorServer::kApiKey, 1);
  }
  void TearDown() override { ::unsetenv("POLYGON_API_KEY"); }

  std::unique_ptr<Provider> provider(ProviderOptions extra = {}) {
    ProviderOptions options = {{"base_url", server_.base_url("polygon")}};
    for (auto& [k, v] : extra) options[k] = v;
    return make_provider("polygon", options, gate_);
  }

  static FetchRequest bars(std::string_view symbol, std::string_view from, std::string_view to,
                           Timeframe tf = Timeframe::kDay1) {
    FetchRequest request;
    request.symbol = Symbol::parse(symbol);
    request.from = Date::parse(from);
    request.to = Date::parse(to);
    request.timeframe = tf;
    return request;
  }

  std::vector<MockRequest> seen() const { return server_.requests(); }

  // Runs `f` expecting `category`; the message must not carry the key.
  template <typename F>
  std::string fails(F&& f, ErrorCategory category) {
    const std::string message = expect_error(std::forward<F>(f), category);
    EXPECT_THAT(message, Not(HasSubstr(MockVendorServer::kApiKey)));
    return message;
  }

  MockVendorServer server_;
  std::shared_ptr<RecordingGate> gate_ = std::make_shared<RecordingGate>();
};

TEST_F(PolygonFetch, RecordedWindowComesBackByteForByte) {
  FetchResult r = provider()->fetch(bars("AAPL", "2005-04-01", "2005-04-04"));
  EXPECT_EQ(r.bytes, read_vendor_sample(kAggs0401));
  EXPECT_EQ(r.ext, "json");
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_FALSE(r.multi_symbol);
  const auto requests = seen();
  ASSERT_EQ(requests.size(), 1u);  // bars came back: no ticker check
  const MockRequest& q = requests[0];
  EXPECT_EQ(q.path, "/v2/aggs/ticker/AAPL/range/1/day/2005-04-01/2005-04-04");
  EXPECT_EQ(q.param("adjusted"), "false");
  EXPECT_EQ(q.param("sort"), "asc");
  EXPECT_EQ(q.param("limit"), "50000");
  EXPECT_FALSE(q.has_param("apiKey"));
  EXPECT_EQ(q.header("authorization"), std::string("Bearer ") + MockVendorServer::kApiKey);
  EXPECT_EQ(gate_->acquired, 1);
  EXPECT_EQ(r.request["path"], q.path);
  EXPECT_EQ(r.request["params"]["adjusted"], "false");
  EXPECT_EQ(r.request["pages"].size(), 1u);
  ParseResult parsed = provider()->parse(r.bytes, {Symbol::parse("AAPL")});
  EXPECT_EQ(parsed.bars.at(Symbol::parse("AAPL")).size(), 2u);
}

TEST_F(PolygonFetch, FollowsNextUrlAcrossPagesWithTheHeader) {
  FetchResult r = provider({{"limit", "25"}})->fetch(bars("MSFT", "2020-01-01", "2020-03-31"));
  const auto requests = seen();
  ASSERT_EQ(requests.size(), 3u);  // 62 sessions, 25 a page
  EXPECT_EQ(requests[0].param("limit"), "25");
  for (size_t i = 1; i < requests.size(); ++i) {
    EXPECT_EQ(requests[i].path, "/v2/aggs/ticker/MSFT/range/1/day/2020-01-01/2020-03-31");
    EXPECT_TRUE(requests[i].has_param("cursor"));
    EXPECT_EQ(requests[i].params.size(), 1u);
    EXPECT_EQ(requests[i].header("authorization"), std::string("Bearer ") + MockVendorServer::kApiKey);
  }
  ASSERT_EQ(r.request["pages"].size(), 3u);
  EXPECT_EQ(r.request["results"], 62);
  ParseResult parsed = provider()->parse(r.bytes, {Symbol::parse("MSFT")});
  EXPECT_TRUE(parsed.findings.empty());
  const auto& got = parsed.bars.at(Symbol::parse("MSFT"));
  const auto sessions = TradingCalendar::nyse().sessions(Date::parse("2020-01-01"), Date::parse("2020-03-31"));
  ASSERT_EQ(got.size(), sessions.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].session_date, sessions[i]);
    EXPECT_EQ(got[i].ts_ns, TradingCalendar::nyse().session_open_ts_ns(sessions[i]));
  }
}

TEST_F(PolygonFetch, IntradayBars) {
  FetchResult r = provider()->fetch(bars("MSFT", "2020-03-06", "2020-03-09", Timeframe::kHour1));
  EXPECT_EQ(seen().at(0).path, "/v2/aggs/ticker/MSFT/range/1/hour/2020-03-06/2020-03-09");
  ParseContext context{Symbol::parse("MSFT"), Timeframe::kHour1};
  ParseResult parsed = provider()->parse(r.bytes, context);
  const auto& got = parsed.bars.at(Symbol::parse("MSFT"));
  ASSERT_EQ(got.size(), 14u);  // two sessions of 7 hourly bars (the mock's)
  EXPECT_EQ(got.front().ts_ns, utc_ns("2020-03-06T14:30:00Z"));  // EST
  EXPECT_EQ(got[7].ts_ns, utc_ns("2020-03-09T13:30:00Z"));       // EDT after the switch
  EXPECT_EQ(got[7].session_date, Date::parse("2020-03-09"));
}

TEST_F(PolygonFetch, ActionsDatasetIsSplitsThenDividends) {
  FetchRequest request = bars("GOOGL", "2022-01-01", "2022-12-31");
  request.dataset = "actions";
  FetchResult r = provider()->fetch(request);
  const auto requests = seen();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].path, "/v3/reference/splits");
  EXPECT_EQ(requests[0].param("ticker"), "GOOGL");
  EXPECT_EQ(requests[0].param("execution_date.gte"), "2022-01-01");
  EXPECT_EQ(requests[0].param("execution_date.lte"), "2022-12-31");
  EXPECT_EQ(requests[0].param("limit"), "1000");
  EXPECT_EQ(requests[1].path, "/v3/reference/dividends");
  EXPECT_EQ(requests[1].param("ticker"), "GOOGL");
  EXPECT_EQ(requests[1].param("ex_dividend_date.gte"), "2022-01-01");
  EXPECT_EQ(requests[1].param("ex_dividend_date.lte"), "2022-12-31");
  for (const auto& q : requests) {
    EXPECT_EQ(q.header("authorization"), std::string("Bearer ") + MockVendorServer::kApiKey);
  }
  ParseResult parsed = provider()->parse(r.bytes, {Symbol::parse("GOOGL")});
  EXPECT_TRUE(parsed.findings.empty());
  ASSERT_EQ(parsed.actions.size(), 1u);
  EXPECT_EQ(parsed.actions[0].ex_date, Date::parse("2022-07-18"));
  EXPECT_EQ(parsed.actions[0].split_ratio, 20.0);
}

TEST_F(PolygonFetch, DividendsArePagedToo) {
  FetchRequest request = bars("CSSEN", "2023-01-01", "2025-12-31");
  request.dataset = "actions";
  FetchResult r = provider({{"limit", "3"}})->fetch(request);
  // splits: one empty page; dividends: 8 rows for CSSEN in the recording, 3 a page.
  EXPECT_EQ(seen().size(), 4u);
  EXPECT_EQ(r.request["pages"].size(), 4u);
  ParseResult parsed = provider()->parse(r.bytes, {Symbol::parse("CSSEN")});
  ASSERT_EQ(parsed.actions.size(), 8u);
  EXPECT_EQ(parsed.actions[0].ex_date, Date::parse("2025-06-12"));
  EXPECT_EQ(parsed.actions[7].ex_date, Date::parse("2023-09-14"));
}

TEST_F(PolygonFetch, BarsWithActionsOptionAppendsTheirPages) {
  FetchResult r = provider({{"actions", "true"}})->fetch(bars("GOOGL", "2022-07-11", "2022-07-22"));
  ASSERT_EQ(seen().size(), 3u);
  ParseResult parsed = provider()->parse(r.bytes, {Symbol::parse("GOOGL")});
  EXPECT_EQ(parsed.bars.at(Symbol::parse("GOOGL")).size(), 10u);
  ASSERT_EQ(parsed.actions.size(), 1u);
  EXPECT_EQ(parsed.actions[0].split_ratio, 20.0);
}

TEST_F(PolygonFetch, AWindowWithoutSessionsIsEmptyWithoutAsking) {
  FetchResult r = provider()->fetch(bars("AAPL", "2020-01-04", "2020-01-05"));  // a weekend
  EXPECT_EQ(seen().size(), 1u);
  ParseResult parsed = provider()->parse(r.bytes, {Symbol::parse("AAPL")});
  EXPECT_TRUE(parsed.findings.empty());
  EXPECT_TRUE(parsed.bars[Symbol::parse("AAPL")].empty());
}

TEST_F(PolygonFetch, NoBarsForAKnownTickerIsAValidEmptyPayload) {
  // The aggregates answer empty once (as for a halted ticker); the ticker details say it exists.
  server_.inject("polygon", {VendorFault::kUnknownSymbol, 1});
  FetchResult r = provider()->fetch(bars("AAPL", "2020-01-06", "2020-01-10"));
  const auto requests = seen();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[1].path, "/v3/reference/tickers/AAPL");
  EXPECT_EQ(requests[1].param("date"), "2020-01-10");
  EXPECT_EQ(requests[1].header("authorization"), std::string("Bearer ") + MockVendorServer::kApiKey);
  EXPECT_EQ(r.request["ticker_check"]["status"], 200);
  ParseResult parsed = provider()->parse(r.bytes, {Symbol::parse("AAPL")});
  EXPECT_TRUE(parsed.bars[Symbol::parse("AAPL")].empty());
}

TEST_F(PolygonFetch, UnknownTickerIsNotFound) {
  server_.add_unknown_symbol("ZZZQ");
  const std::string message =
      fails([&] { provider()->fetch(bars("ZZZQ", "2020-01-06", "2020-01-10")); }, ErrorCategory::kNotFound);
  EXPECT_THAT(message, HasSubstr("polygon does not know symbol ZZZQ"));
  EXPECT_EQ(seen().size(), 2u);
}

// --- faults -----------------------------------------------------------------------------------------

TEST_F(PolygonFetch, Fault429IsWaitedOutNotAnError) {
  server_.inject("polygon", {VendorFault::k429, 1, /*retry_after_s=*/1});
  const auto start = std::chrono::steady_clock::now();
  FetchResult r = provider()->fetch(bars("AAPL", "2005-04-01", "2005-04-04"));
  const auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_GE(waited, std::chrono::milliseconds(900));
  EXPECT_EQ(r.bytes, read_vendor_sample(kAggs0401));
  EXPECT_EQ(seen().size(), 2u);
  ASSERT_EQ(gate_->pauses.size(), 1u);  // the wait told the shared budget
  EXPECT_EQ(gate_->pauses[0].first, "polygon");
}

TEST_F(PolygonFetch, Fault500And503AreRetryable) {
  for (VendorFault f : {VendorFault::k500, VendorFault::k503}) {
    server_.inject("polygon", {f, 1});
    fails([&] { provider()->fetch(bars("AAPL", "2005-04-01", "2005-04-04")); }, ErrorCategory::kRetryable);
  }
}

TEST_F(PolygonFetch, FaultSlowTimesOutRetryable) {
  InjectedFault slow{VendorFault::kSlow, 1};
  slow.delay_ms = 2000;
  server_.inject("polygon", slow);
  fails([&] { provider({{"timeout_ms", "500"}})->fetch(bars("AAPL", "2005-04-01", "2005-04-04")); },
        ErrorCategory::kRetryable);
}

TEST_F(PolygonFetch, FaultTruncatedIsRetryable) {
  server_.inject("polygon", {VendorFault::kTruncated, 1});
  fails([&] { provider()->fetch(bars("AAPL", "2005-04-01", "2005-04-04")); }, ErrorCategory::kRetryable);
}

TEST_F(PolygonFetch, FaultEmptyIsRetryable) {
  server_.inject("polygon", {VendorFault::kEmpty, 1});
  const std::string message = fails([&] { provider()->fetch(bars("AAPL", "2005-04-01", "2005-04-04")); },
                                    ErrorCategory::kRetryable);
  EXPECT_THAT(message, HasSubstr("empty body"));
}

TEST_F(PolygonFetch, FaultHtmlIsRetryableWithOnlyAnExcerpt) {
  server_.inject("polygon", {VendorFault::kHtml, 1});
  const std::string message = fails([&] { provider()->fetch(bars("AAPL", "2005-04-01", "2005-04-04")); },
                                    ErrorCategory::kRetryable);
  EXPECT_THAT(message, HasSubstr("HTML"));
  EXPECT_THAT(message, Not(HasSubstr("cloudfront")));  // the page's tail is not echoed
  EXPECT_LT(message.size(), 400u);
}

TEST_F(PolygonFetch, FaultVendorErrorIsRateLimitedAndPausesTheBudget) {
  server_.inject("polygon", {VendorFault::kVendorError, 1});
  const std::string message = fails([&] { provider()->fetch(bars("AAPL", "2005-04-01", "2005-04-04")); },
                                    ErrorCategory::kRateLimited);
  EXPECT_THAT(message, HasSubstr("exceeded the maximum requests"));
  ASSERT_EQ(gate_->pauses.size(), 1u);
  EXPECT_GT(gate_->pauses[0].second, std::chrono::duration_cast<std::chrono::milliseconds>(
                                         std::chrono::system_clock::now().time_since_epoch())
                                             .count() + 50'000);
}

TEST_F(PolygonFetch, FaultUnknownSymbolIsNotFound) {
  // The aggregates answer and the ticker check both in Polygon's unknown-ticker words.
  server_.inject("polygon", {VendorFault::kUnknownSymbol, 2});
  const std::string message = fails([&] { provider()->fetch(bars("AAPL", "2020-01-06", "2020-01-10")); },
                                    ErrorCategory::kNotFound);
  EXPECT_THAT(message, HasSubstr("polygon does not know symbol AAPL"));
}

TEST_F(PolygonFetch, MissingKeyIsPermanentNamingTheVariable) {
  ::unsetenv("POLYGON_API_KEY");
  const std::string message = fails([&] { provider()->fetch(bars("AAPL", "2005-04-01", "2005-04-04")); },
                                    ErrorCategory::kPermanent);
  EXPECT_THAT(message, HasSubstr("POLYGON_API_KEY"));
  EXPECT_EQ(seen().size(), 0u);
}

TEST_F(PolygonFetch, WrongKeyIsPermanent) {
  ::setenv("POLYGON_API_KEY", "not-the-mock-key-42", 1);
  const std::string message = fails([&] { provider()->fetch(bars("AAPL", "2005-04-01", "2005-04-04")); },
                                    ErrorCategory::kPermanent);
  EXPECT_THAT(message, HasSubstr("Unknown API Key"));
}

TEST_F(PolygonFetch, TheKeyIsNeverInTheRequestDescription) {
  FetchRequest actions = bars("CSSEN", "2023-01-01", "2025-12-31");
  actions.dataset = "actions";
  for (const FetchRequest& request :
       {bars("MSFT", "2020-01-01", "2020-03-31"), actions, bars("AAPL", "2005-04-01", "2005-04-04")}) {
    FetchResult r = provider({{"limit", "25"}})->fetch(request);
    EXPECT_THAT(r.request.dump(), Not(HasSubstr(MockVendorServer::kApiKey)));
    EXPECT_THAT(r.content_type + r.ext, Not(HasSubstr(MockVendorServer::kApiKey)));
  }
}

TEST_F(PolygonFetch, BadOptionsAreInvalidInput) {
  expect_error([&] { provider({{"adjusted", "maybe"}})->fetch(bars("AAPL", "2005-04-01", "2005-04-04")); },
               ErrorCategory::kInvalidInput);
  expect_error([&] { provider()->fetch(bars("AAPL", "2005-04-04", "2005-04-01")); },
               ErrorCategory::kInvalidInput);
  FetchRequest rates = bars("AAPL", "2005-04-01", "2005-04-04");
  rates.dataset = "rates";
  expect_error([&] { provider()->fetch(rates); }, ErrorCategory::kInvalidInput);
  EXPECT_EQ(seen().size(), 0u);
}

}  // namespace
}  // namespace trib::providers

// The alpaca adapter: alpaca-py's recorded Market Data v2 bars parsed and checked by hand against
// the files (../shared/data/vendor-samples/alpaca, SOURCE.md), the requests it sends to the mock
// vendor server (path, parameters, both key headers, page_token paging, several symbols at once),
// and one test per fault.
#include <algorithm>
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

const std::string kDir = "alpaca/alpaca-py-tests/test_historical_stock_data__";
const std::string kBars = kDir + "test_get_bars__1.json";
const std::string kDesc = kDir + "test_get_bars_desc__1.json";
const std::string kMulti = kDir + "test_multisymbol_get_bars__1.json";
const std::string kSingleEmpty = kDir + "test_get_bars_single_empty_response__1.json";
const std::string kMultiEmpty = kDir + "test_get_bars_multi_empty_response__1.json";

ParseResult parse_text(std::string_view text, std::string_view symbol = "AAPL",
                       Timeframe tf = Timeframe::kDay1) {
  ParseContext context;
  if (!symbol.empty()) context.symbol = Symbol::parse(symbol);
  context.timeframe = tf;
  return make_provider("alpaca")->parse(text, context);
}

int64_t utc_ns(std::string_view text) { return parse_ts_ns(text); }

// --- parse: the recorded payloads -------------------------------------------------------------------

TEST(AlpacaParse, RecordedDailyBars) {
  ParseResult r = parse_text(read_vendor_sample(kBars));
  EXPECT_TRUE(r.findings.empty());
  ASSERT_EQ(r.bars.size(), 1u);
  const auto& bars = r.bars.at(Symbol::parse("AAPL"));
  ASSERT_EQ(bars.size(), 2u);
  // t "2022-02-01T05:00:00Z" = 00:00 EST: session 2022-02-01, stamped at 09:30 EST = 14:30Z.
  EXPECT_EQ(bars[0].session_date, Date::parse("2022-02-01"));
  EXPECT_EQ(bars[0].ts_ns, utc_ns("2022-02-01T14:30:00Z"));
  EXPECT_EQ(bars[0].open, 174.0);
  EXPECT_EQ(bars[0].high, 174.84);
  EXPECT_EQ(bars[0].low, 172.31);
  EXPECT_EQ(bars[0].close, 174.61);
  EXPECT_EQ(bars[0].volume, 85998033.0);
  EXPECT_EQ(bars[0].trades, 732412);
  EXPECT_EQ(bars[0].vwap, 173.703516);
  EXPECT_EQ(bars[1].session_date, Date::parse("2022-02-02"));
  EXPECT_EQ(bars[1].open, 174.64);
  EXPECT_EQ(bars[1].high, 175.88);
  EXPECT_EQ(bars[1].low, 173.33);
  EXPECT_EQ(bars[1].close, 175.84);
  EXPECT_EQ(bars[1].volume, 84817432.0);
  EXPECT_EQ(bars[1].trades, 675034);
  EXPECT_EQ(bars[1].vwap, 174.941288);
}

TEST(AlpacaParse, RecordedDescendingPageComesOutAscending) {
  ParseResult r = parse_text(read_vendor_sample(kDesc), "TSLA");
  EXPECT_TRUE(r.findings.empty());
  const auto& bars = r.bars.at(Symbol::parse("TSLA"));
  ASSERT_EQ(bars.size(), 3u);
  // The file lists 09-27, 09-26, 09-25 (t 04:00Z = 00:00 EDT).
  EXPECT_EQ(bars[0].session_date, Date::parse("2023-09-25"));
  EXPECT_EQ(bars[0].ts_ns, utc_ns("2023-09-25T13:30:00Z"));
  EXPECT_EQ(bars[0].open, 243.38);
  EXPECT_EQ(bars[0].high, 247.1);
  EXPECT_EQ(bars[0].low, 238.31);
  EXPECT_EQ(bars[0].close, 246.99);
  EXPECT_EQ(bars[0].volume, 104668716.0);
  EXPECT_EQ(bars[0].trades, 1196613);
  EXPECT_EQ(bars[0].vwap, 244.197325);
  EXPECT_EQ(bars[1].session_date, Date::parse("2023-09-26"));
  EXPECT_EQ(bars[1].low, 241.6601);
  EXPECT_EQ(bars[2].session_date, Date::parse("2023-09-27"));
  EXPECT_EQ(bars[2].open, 244.262);
  EXPECT_EQ(bars[2].close, 240.5);
}

TEST(AlpacaParse, RecordedMultiSymbolBars) {
  ParseResult r = parse_text(read_vendor_sample(kMulti), "");
  EXPECT_TRUE(r.findings.empty());
  ASSERT_EQ(r.bars.size(), 2u);
  const auto& aapl = r.bars.at(Symbol::parse("AAPL"));
  const auto& tsla = r.bars.at(Symbol::parse("TSLA"));
  ASSERT_EQ(aapl.size(), 1u);
  ASSERT_EQ(tsla.size(), 1u);
  EXPECT_EQ(aapl[0].session_date, Date::parse("2022-03-09"));
  EXPECT_EQ(aapl[0].open, 161.51);
  EXPECT_EQ(aapl[0].high, 163.41);
  EXPECT_EQ(aapl[0].low, 159.41);
  EXPECT_EQ(aapl[0].close, 162.95);
  EXPECT_EQ(aapl[0].volume, 88496480.0);
  EXPECT_EQ(aapl[0].trades, 700291);
  EXPECT_EQ(aapl[0].vwap, 161.942117);
  EXPECT_EQ(tsla[0].session_date, Date::parse("2022-03-09"));
  EXPECT_EQ(tsla[0].open, 839.0);
  EXPECT_EQ(tsla[0].high, 860.56);
  EXPECT_EQ(tsla[0].low, 832.01);
  EXPECT_EQ(tsla[0].close, 858.97);
  EXPECT_EQ(tsla[0].volume, 19227323.0);
  EXPECT_EQ(tsla[0].trades, 528531);
  EXPECT_EQ(tsla[0].vwap, 850.616587);
}

TEST(AlpacaParse, RecordedEmptyResponsesAreNoBarsAndNoFindings) {
  for (const std::string& file : {kSingleEmpty, kMultiEmpty}) {
    ParseResult r = parse_text(read_vendor_sample(file));
    EXPECT_TRUE(r.findings.empty());
    EXPECT_TRUE(r.bars[Symbol::parse("AAPL")].empty());
    EXPECT_EQ(r.bars.size(), 1u);
  }
}

TEST(AlpacaParse, RecordedPayloadsThatAreNotBarPages) {
  // The latest-bar endpoint keys one bar object (not a list) by symbol: a finding, not a guess.
  ParseResult latest = parse_text(read_vendor_sample(kDir + "test_stock_latest_bar__1.json"), "SPY");
  EXPECT_TRUE(latest.bars[Symbol::parse("SPY")].empty());
  ASSERT_EQ(latest.findings.size(), 1u);
  EXPECT_EQ(latest.findings[0].rule, "malformed_row");
  // Trades have no "bars" at all.
  expect_error([] { parse_text(read_vendor_sample(kDir + "test_get_trades__1.json")); },
               ErrorCategory::kDataLoss);
}

// --- parse: hand-made payloads --------------------------------------------------------------------

TEST(AlpacaParse, IntradayBarsKeepTheirOpenAndTakeTheNewYorkDate) {
  const std::string payload = R"({"bars":{"AAPL":[
    {"t":"2022-02-02T01:00:00Z","o":1,"h":2,"l":0.5,"c":1.5,"v":10,"n":2,"vw":1.2},
    {"t":"2022-02-01T10:00:00-05:00","o":1,"h":2,"l":0.5,"c":1.5,"v":10}]},"next_page_token":null})";
  ParseResult r = parse_text(payload, "AAPL", Timeframe::kHour1);
  EXPECT_TRUE(r.findings.empty());
  const auto& bars = r.bars.at(Symbol::parse("AAPL"));
  ASSERT_EQ(bars.size(), 2u);
  EXPECT_EQ(bars[0].ts_ns, utc_ns("2022-02-01T15:00:00Z"));  // sorted ascending
  EXPECT_EQ(bars[0].session_date, Date::parse("2022-02-01"));
  EXPECT_FALSE(bars[0].trades.has_value());
  EXPECT_EQ(bars[1].ts_ns, utc_ns("2022-02-02T01:00:00Z"));  // 20:00 EST on 2022-02-01
  EXPECT_EQ(bars[1].session_date, Date::parse("2022-02-01"));
}

TEST(AlpacaParse, PagesOfOneSymbolAreJoinedInTimeOrder) {
  const std::string payload =
      R"({"bars":{"AAPL":[{"t":"2022-02-03T05:00:00Z","o":1,"h":1,"l":1,"c":1,"v":1}]},"next_page_token":"x"})"
      "\n"
      R"({"bars":{"AAPL":[{"t":"2022-02-01T05:00:00Z","o":2,"h":2,"l":2,"c":2,"v":2}],
                  "MSFT":[{"t":"2022-02-01T05:00:00Z","o":3,"h":3,"l":3,"c":3,"v":3}]},"next_page_token":null})";
  ParseResult r = parse_text(payload, "");
  const auto& aapl = r.bars.at(Symbol::parse("AAPL"));
  ASSERT_EQ(aapl.size(), 2u);
  EXPECT_EQ(aapl[0].session_date, Date::parse("2022-02-01"));
  EXPECT_EQ(aapl[1].session_date, Date::parse("2022-02-03"));
  EXPECT_EQ(r.bars.at(Symbol::parse("MSFT")).size(), 1u);
}

TEST(AlpacaParse, TheSingleSymbolEndpointShape) {
  ParseResult r = parse_text(
      R"({"bars":[{"t":"2022-02-01T05:00:00Z","o":1,"h":1,"l":1,"c":1,"v":1}],"symbol":"MSFT","next_page_token":null})",
      "MSFT");
  EXPECT_EQ(r.bars.at(Symbol::parse("MSFT")).size(), 1u);
  EXPECT_TRUE(parse_text(R"({"bars":null,"symbol":"MSFT","next_page_token":null})", "MSFT").findings.empty());
}

TEST(AlpacaParse, EveryUnusableRowIsAFinding) {
  const std::string payload = R"({"bars":{
    "AAPL":[{"t":"2022-02-01T05:00:00Z","o":1,"h":1,"l":1,"c":1,"v":1},
            {"t":"Feb 2 2022","o":1,"h":1,"l":1,"c":1,"v":1},
            {"t":"2150-02-01T05:00:00Z","o":1,"h":1,"l":1,"c":1,"v":1},
            {"t":"2022-02-03T05:00:00Z","o":null,"h":1,"l":1,"c":1,"v":1},
            {"t":"2022-02-04T05:00:00Z","o":1,"h":1,"l":1,"c":1,"v":"many"},
            {"o":1,"h":1,"l":1,"c":1,"v":1},
            "oops"],
    "bad sym!":[{"t":"2022-02-01T05:00:00Z","o":1,"h":1,"l":1,"c":1,"v":1}],
    "MSFT":{"t":"2022-02-01T05:00:00Z"}},"next_page_token":null})";
  ParseResult r = parse_text(payload, "");
  EXPECT_EQ(r.bars.at(Symbol::parse("AAPL")).size(), 1u);
  ASSERT_EQ(r.findings.size(), 8u);
  EXPECT_EQ(r.findings[0].rule, "bad_date");
  EXPECT_THAT(r.findings[0].reason, HasSubstr("Feb 2 2022"));
  EXPECT_EQ(r.findings[0].line, 2);
  EXPECT_EQ(r.findings[1].rule, "bad_date");  // 2150: outside 1900-2100
  EXPECT_EQ(r.findings[2].rule, "null_value");
  EXPECT_THAT(r.findings[2].reason, HasSubstr("'o'"));
  EXPECT_EQ(r.findings[3].rule, "bad_number");
  EXPECT_THAT(r.findings[3].reason, HasSubstr("many"));
  EXPECT_EQ(r.findings[4].rule, "missing_value");
  EXPECT_EQ(r.findings[5].rule, "malformed_row");
  // nlohmann keeps object keys sorted: "MSFT" comes before "bad sym!".
  EXPECT_EQ(r.findings[6].rule, "malformed_row");
  EXPECT_EQ(r.findings[7].rule, "bad_symbol");
  EXPECT_THAT(r.findings[7].raw_text, HasSubstr("2022-02-01T05:00:00Z"));
}

TEST(AlpacaParse, UnreadablePayloadsAreDataLoss) {
  for (const std::string& bad :
       {std::string(""), std::string("not json"), std::string("<html>502</html>"),
        read_vendor_sample(kBars).substr(0, 120), std::string(R"({"message":"forbidden."})"),
        std::string(R"({"code":42210000,"message":"invalid symbol: $$"})"),
        std::string(R"({"bars":"AAPL"})"), std::string("[1,2]")}) {
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

class AlpacaFetch : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.start();
    ::setenv("APCA_API_KEY_ID", MockVendorServer::kApiKey, 1);
    ::setenv("APCA_API_SECRET_KEY", MockVendorServer::kApiSecret, 1);
  }
  void TearDown() override {
    ::unsetenv("APCA_API_KEY_ID");
    ::unsetenv("APCA_API_SECRET_KEY");
  }

  std::unique_ptr<Provider> provider(ProviderOptions extra = {}) {
    ProviderOptions options = {{"base_url", server_.base_url("alpaca")}};
    for (auto& [k, v] : extra) options[k] = v;
    return make_provider("alpaca", options, gate_);
  }

  static FetchRequest bars(std::string_view symbol, std::string_view from, std::string_view to,
                           Timeframe tf = Timeframe::kDay1) {
    FetchRequest request;
    if (!symbol.empty()) request.symbol = Symbol::parse(symbol);
    request.from = Date::parse(from);
    request.to = Date::parse(to);
    request.timeframe = tf;
    return request;
  }

  std::vector<MockRequest> seen() const { return server_.requests(); }

  static void expect_keys(const MockRequest& q) {
    EXPECT_EQ(q.header("apca-api-key-id"), MockVendorServer::kApiKey);
    EXPECT_EQ(q.header("apca-api-secret-key"), MockVendorServer::kApiSecret);
    EXPECT_FALSE(q.has_param("apiKey"));
  }

  // Runs `f` expecting `category`; the message must carry neither credential.
  template <typename F>
  std::string fails(F&& f, ErrorCategory category) {
    const std::string message = expect_error(std::forward<F>(f), category);
    EXPECT_THAT(message, Not(HasSubstr(MockVendorServer::kApiKey)));
    EXPECT_THAT(message, Not(HasSubstr(MockVendorServer::kApiSecret)));
    return message;
  }

  MockVendorServer server_;
  std::shared_ptr<RecordingGate> gate_ = std::make_shared<RecordingGate>();
};

TEST_F(AlpacaFetch, RecordedPageThenItsPageToken) {
  FetchResult r = provider()->fetch(bars("AAPL", "2022-02-01", "2022-02-02"));
  // The recorded page carries a next_page_token; the page it leads to is empty.
  EXPECT_EQ(r.bytes, read_vendor_sample(kBars) + "\n" + read_vendor_sample(kSingleEmpty));
  EXPECT_EQ(r.ext, "json");
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_FALSE(r.multi_symbol);
  const auto requests = seen();
  ASSERT_EQ(requests.size(), 2u);
  const MockRequest& q = requests[0];
  EXPECT_EQ(q.path, "/v2/stocks/bars");
  EXPECT_EQ(q.param("symbols"), "AAPL");
  EXPECT_EQ(q.param("timeframe"), "1Day");
  EXPECT_EQ(q.param("start"), "2022-02-01T05:00:00Z");  // 00:00 EST
  EXPECT_EQ(q.param("end"), "2022-02-03T04:59:59Z");    // the last second of 2022-02-02 in New York
  EXPECT_EQ(q.param("limit"), "10000");
  EXPECT_EQ(q.param("adjustment"), "raw");
  EXPECT_EQ(q.param("feed"), "iex");
  EXPECT_FALSE(q.has_param("page_token"));
  expect_keys(q);
  EXPECT_EQ(requests[1].param("page_token"), "QUFQTHxEfDIwMjItMDItMDJUMDU6MDA6MDAuMDAwMDAwMDAwWg==");
  EXPECT_EQ(requests[1].param("start"), q.param("start"));
  expect_keys(requests[1]);
  EXPECT_EQ(r.request["path"], "/v2/stocks/bars");
  EXPECT_EQ(r.request["params"]["feed"], "iex");
  EXPECT_EQ(r.request["pages"].size(), 2u);
  EXPECT_EQ(r.request["bars"], 2);
  ParseResult parsed = provider()->parse(r.bytes, {Symbol::parse("AAPL")});
  const auto& got = parsed.bars.at(Symbol::parse("AAPL"));
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].close, 174.61);
  EXPECT_EQ(got[1].close, 175.84);
}

TEST_F(AlpacaFetch, SeveralSymbolsInOneRequest) {
  FetchRequest request = bars("", "2022-03-09", "2022-03-09");
  request.params["symbols"] = "AAPL,TSLA";
  FetchResult r = provider()->fetch(request);
  EXPECT_TRUE(r.multi_symbol);
  EXPECT_EQ(r.bytes, read_vendor_sample(kMulti));
  ASSERT_EQ(seen().size(), 1u);
  EXPECT_EQ(seen()[0].param("symbols"), "AAPL,TSLA");
  ParseResult parsed = provider()->parse(r.bytes, {});
  EXPECT_EQ(parsed.bars.at(Symbol::parse("AAPL"))[0].close, 162.95);
  EXPECT_EQ(parsed.bars.at(Symbol::parse("TSLA"))[0].close, 858.97);
}

TEST_F(AlpacaFetch, FollowsPageTokensAcrossPages) {
  FetchResult r = provider({{"limit", "25"}})->fetch(bars("MSFT", "2020-01-01", "2020-03-31"));
  const auto requests = seen();
  ASSERT_EQ(requests.size(), 3u);  // 62 sessions, 25 a page
  EXPECT_FALSE(requests[0].has_param("page_token"));
  for (size_t i = 1; i < requests.size(); ++i) {
    EXPECT_TRUE(requests[i].has_param("page_token"));
    EXPECT_EQ(requests[i].param("limit"), "25");
    EXPECT_EQ(requests[i].param("symbols"), "MSFT");
    expect_keys(requests[i]);
  }
  EXPECT_EQ(r.request["bars"], 62);
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

TEST_F(AlpacaFetch, SeveralSymbolsAcrossPages) {
  FetchRequest request = bars("", "2020-01-01", "2020-03-31");
  request.params["symbols"] = "MSFT, ibm";
  FetchResult r = provider({{"limit", "50"}})->fetch(request);
  EXPECT_EQ(seen().size(), 3u);  // 124 bars, 50 a page
  EXPECT_EQ(seen()[0].param("symbols"), "MSFT,IBM");
  ParseResult parsed = provider()->parse(r.bytes, {});
  EXPECT_EQ(parsed.bars.at(Symbol::parse("MSFT")).size(), 62u);
  EXPECT_EQ(parsed.bars.at(Symbol::parse("IBM")).size(), 62u);
}

TEST_F(AlpacaFetch, IntradayAndFeed) {
  FetchResult r = provider({{"feed", "sip"}})->fetch(bars("MSFT", "2020-03-06", "2020-03-09", Timeframe::kHour1));
  const MockRequest q = seen().at(0);
  EXPECT_EQ(q.param("timeframe"), "1Hour");
  EXPECT_EQ(q.param("feed"), "sip");
  EXPECT_EQ(q.param("start"), "2020-03-06T05:00:00Z");
  EXPECT_EQ(q.param("end"), "2020-03-10T03:59:59Z");  // EDT from 2020-03-08
  ParseResult parsed = provider()->parse(r.bytes, {Symbol::parse("MSFT"), Timeframe::kHour1});
  const auto& got = parsed.bars.at(Symbol::parse("MSFT"));
  ASSERT_EQ(got.size(), 14u);  // two sessions of 7 hourly bars (the mock's)
  EXPECT_EQ(got.front().ts_ns, utc_ns("2020-03-06T14:30:00Z"));
  EXPECT_EQ(got[7].ts_ns, utc_ns("2020-03-09T13:30:00Z"));
  EXPECT_EQ(got[7].session_date, Date::parse("2020-03-09"));
}

TEST_F(AlpacaFetch, AWindowWithoutBarsIsAValidEmptyPayload) {
  FetchResult r = provider()->fetch(bars("AAPL", "2020-01-04", "2020-01-05"));  // a weekend
  EXPECT_EQ(r.bytes, read_vendor_sample(kSingleEmpty));
  EXPECT_EQ(seen().size(), 1u);
  EXPECT_TRUE(provider()->parse(r.bytes, {Symbol::parse("AAPL")}).bars[Symbol::parse("AAPL")].empty());
}

TEST_F(AlpacaFetch, AnUnknownButWellFormedSymbolIsAValidEmptyPayload) {
  // Alpaca leaves a symbol it has nothing for out of "bars" (200): no NotFound to report.
  server_.add_unknown_symbol("ZZZQ");
  FetchResult r = provider()->fetch(bars("ZZZQ", "2020-01-06", "2020-01-10"));
  EXPECT_EQ(r.bytes, read_vendor_sample(kSingleEmpty));
  EXPECT_EQ(seen().size(), 1u);
}

TEST_F(AlpacaFetch, ASymbolAlpacaRejectsIsNotFound) {
  const std::string message =
      fails([&] { provider()->fetch(bars("^GSPC", "2020-01-06", "2020-01-10")); }, ErrorCategory::kNotFound);
  EXPECT_THAT(message, HasSubstr("alpaca does not know symbol ^GSPC"));
  EXPECT_THAT(message, HasSubstr("invalid symbol"));
}

// --- faults -----------------------------------------------------------------------------------------

TEST_F(AlpacaFetch, Fault429IsWaitedOutNotAnError) {
  server_.inject("alpaca", {VendorFault::k429, 1, /*retry_after_s=*/1});
  const auto start = std::chrono::steady_clock::now();
  FetchResult r = provider()->fetch(bars("AAPL", "2022-03-09", "2022-03-09"));
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(900));
  EXPECT_EQ(seen().size(), 2u);
  ASSERT_EQ(gate_->pauses.size(), 1u);
  EXPECT_EQ(gate_->pauses[0].first, "alpaca");
  EXPECT_EQ(provider()->parse(r.bytes, {Symbol::parse("AAPL")}).bars.at(Symbol::parse("AAPL")).size(), 1u);
}

TEST_F(AlpacaFetch, Fault500And503AreRetryable) {
  for (VendorFault f : {VendorFault::k500, VendorFault::k503}) {
    server_.inject("alpaca", {f, 1});
    fails([&] { provider()->fetch(bars("AAPL", "2022-03-09", "2022-03-09")); }, ErrorCategory::kRetryable);
  }
}

TEST_F(AlpacaFetch, FaultSlowTimesOutRetryable) {
  InjectedFault slow{VendorFault::kSlow, 1};
  slow.delay_ms = 2000;
  server_.inject("alpaca", slow);
  fails([&] { provider({{"timeout_ms", "500"}})->fetch(bars("AAPL", "2022-03-09", "2022-03-09")); },
        ErrorCategory::kRetryable);
}

TEST_F(AlpacaFetch, FaultTruncatedIsRetryable) {
  server_.inject("alpaca", {VendorFault::kTruncated, 1});
  fails([&] { provider()->fetch(bars("AAPL", "2022-03-09", "2022-03-09")); }, ErrorCategory::kRetryable);
}

TEST_F(AlpacaFetch, FaultEmptyIsRetryable) {
  server_.inject("alpaca", {VendorFault::kEmpty, 1});
  EXPECT_THAT(fails([&] { provider()->fetch(bars("AAPL", "2022-03-09", "2022-03-09")); },
                    ErrorCategory::kRetryable),
              HasSubstr("empty body"));
}

TEST_F(AlpacaFetch, FaultHtmlIsRetryableWithOnlyAnExcerpt) {
  server_.inject("alpaca", {VendorFault::kHtml, 1});
  const std::string message =
      fails([&] { provider()->fetch(bars("AAPL", "2022-03-09", "2022-03-09")); }, ErrorCategory::kRetryable);
  EXPECT_THAT(message, HasSubstr("HTML"));
  EXPECT_THAT(message, Not(HasSubstr("cloudfront")));
  EXPECT_LT(message.size(), 400u);
}

TEST_F(AlpacaFetch, FaultVendorErrorIsPermanentNamingTheSubscription) {
  server_.inject("alpaca", {VendorFault::kVendorError, 1});
  const std::string message = fails([&] { provider({{"feed", "sip"}})->fetch(bars("AAPL", "2022-03-09", "2022-03-09")); },
                                    ErrorCategory::kPermanent);
  EXPECT_THAT(message, HasSubstr("subscription does not permit"));
  EXPECT_THAT(message, HasSubstr("feed=sip"));
}

TEST_F(AlpacaFetch, FaultUnknownSymbolIsAValidEmptyPayload) {
  // Alpaca's answer for a symbol it has nothing for is the recorded empty response (see
  // alpaca_provider.cpp: NotFound only for its 422 "invalid symbol").
  server_.inject("alpaca", {VendorFault::kUnknownSymbol, 1});
  FetchResult r = provider()->fetch(bars("AAPL", "2022-03-09", "2022-03-09"));
  EXPECT_EQ(r.bytes, read_vendor_sample(kSingleEmpty));
  EXPECT_EQ(r.request["bars"], 0);
}

TEST_F(AlpacaFetch, MissingKeysArePermanentNamingTheVariable) {
  ::unsetenv("APCA_API_KEY_ID");
  EXPECT_THAT(fails([&] { provider()->fetch(bars("AAPL", "2022-03-09", "2022-03-09")); },
                    ErrorCategory::kPermanent),
              HasSubstr("APCA_API_KEY_ID"));
  ::setenv("APCA_API_KEY_ID", MockVendorServer::kApiKey, 1);
  ::unsetenv("APCA_API_SECRET_KEY");
  EXPECT_THAT(fails([&] { provider()->fetch(bars("AAPL", "2022-03-09", "2022-03-09")); },
                    ErrorCategory::kPermanent),
              HasSubstr("APCA_API_SECRET_KEY"));
  EXPECT_EQ(seen().size(), 0u);
}

TEST_F(AlpacaFetch, WrongKeysArePermanent) {
  ::setenv("APCA_API_SECRET_KEY", "not-the-mock-secret-42", 1);
  const std::string message =
      fails([&] { provider()->fetch(bars("AAPL", "2022-03-09", "2022-03-09")); }, ErrorCategory::kPermanent);
  EXPECT_THAT(message, HasSubstr("forbidden."));
  EXPECT_THAT(message, HasSubstr("APCA_API_SECRET_KEY"));
}

TEST_F(AlpacaFetch, TheKeysAreNeverInTheRequestDescription) {
  FetchRequest multi = bars("", "2020-01-01", "2020-03-31");
  multi.params["symbols"] = "MSFT,IBM";
  for (const FetchRequest& request : {bars("MSFT", "2020-01-01", "2020-03-31"), multi,
                                      bars("AAPL", "2022-02-01", "2022-02-02")}) {
    FetchResult r = provider({{"limit", "50"}})->fetch(request);
    const std::string described = r.request.dump();
    EXPECT_THAT(described, Not(HasSubstr(MockVendorServer::kApiKey)));
    EXPECT_THAT(described, Not(HasSubstr(MockVendorServer::kApiSecret)));
    EXPECT_THAT(r.content_type + r.ext, Not(HasSubstr(MockVendorServer::kApiKey)));
  }
}

TEST_F(AlpacaFetch, BadOptionsAreInvalidInput) {
  expect_error([&] { provider({{"feed", "nasdaq"}})->fetch(bars("AAPL", "2022-03-09", "2022-03-09")); },
               ErrorCategory::kInvalidInput);
  expect_error([&] { provider({{"limit", "20000"}})->fetch(bars("AAPL", "2022-03-09", "2022-03-09")); },
               ErrorCategory::kInvalidInput);
  expect_error([&] { provider()->fetch(bars("", "2022-03-09", "2022-03-09")); }, ErrorCategory::kInvalidInput);
  EXPECT_EQ(seen().size(), 0u);
}

}  // namespace
}  // namespace trib::providers

// ---- corporate actions (GET /v1/corporate-actions) ----------------------------------------------

namespace trib::providers {
namespace {

TEST_F(AlpacaFetch, CorporateActionsAreFetchedAndParsed) {
  FetchRequest request = bars("AAPL", "2020-01-01", "2020-12-31");
  request.dataset = "actions";
  FetchResult r = provider({{"limit", "10000"}})->fetch(request);
  const auto requests = seen();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].path, "/v1/corporate-actions");
  EXPECT_EQ(requests[0].param("symbols"), "AAPL");
  EXPECT_EQ(requests[0].param("types"), "forward_split,reverse_split,cash_dividend,name_change");
  EXPECT_EQ(requests[0].param("start"), "2020-01-01");
  EXPECT_EQ(requests[0].param("end"), "2020-12-31");
  expect_keys(requests[0]);
  EXPECT_EQ(r.request["corporate_actions"], 4);
  const ParseResult parsed = provider()->parse(r.bytes, {Symbol::parse("AAPL")});
  EXPECT_TRUE(parsed.findings.empty());
  EXPECT_TRUE(parsed.bars.at(Symbol::parse("AAPL")).empty());
  ASSERT_EQ(parsed.actions.size(), 4u);
  std::vector<std::string> got;
  for (const auto& a : parsed.actions) {
    got.push_back(fmt::format("{} {} {} {}", to_string(a.kind), a.ex_date.to_string(), a.split_ratio, a.cash_amount));
  }
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (std::vector<std::string>{"dividend 2020-05-08 0 0.82", "dividend 2020-08-07 0 0.82",
                                           "dividend 2020-11-06 0 0.205", "split 2020-08-31 4 0"}));
}

TEST_F(AlpacaFetch, BarsWithActionsOptionStoreBothAndSplitsReverseSplitsRenamesParse) {
  FetchRequest request = bars("", "2020-01-01", "2022-12-31");
  request.params["symbols"] = "TSLA,GE,FB";
  FetchResult r = provider({{"actions", "true"}})->fetch(request);
  // Bar pages first, then the actions (limit 1000: one page).
  const auto requests = seen();
  ASSERT_GE(requests.size(), 2u);
  EXPECT_EQ(requests.front().path, "/v2/stocks/bars");
  EXPECT_EQ(requests.back().path, "/v1/corporate-actions");
  const ParseResult parsed = provider()->parse(r.bytes, {});
  EXPECT_FALSE(parsed.bars.at(Symbol::parse("TSLA")).empty());
  std::vector<std::string> got;
  for (const auto& a : parsed.actions) {
    got.push_back(fmt::format("{} {} {} {} {}", a.symbol.str(), to_string(a.kind), a.ex_date.to_string(), a.split_ratio,
                              a.new_symbol));
  }
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (std::vector<std::string>{"FB symbol_change 2022-06-09 0 META", "GE split 2021-08-02 0.125 ",
                                           "TSLA split 2020-08-31 5 ", "TSLA split 2022-08-25 3 "}));
}

TEST(AlpacaParse, UnusableCorporateActionsAreFindings) {
  const std::string page = R"({"corporate_actions":{"forward_splits":[{"symbol":"AAPL","new_rate":0,"old_rate":1,
    "ex_date":"2020-08-31"},{"symbol":"AAPL","new_rate":4,"old_rate":1,"ex_date":"31/08/2020"}],
    "cash_dividends":[{"symbol":"bad symbol","rate":1,"ex_date":"2020-08-07"},{"symbol":"AAPL","rate":-1,
    "ex_date":"2020-08-07"}],"name_changes":"x"},"next_page_token":null})";
  const ParseResult parsed = make_provider("alpaca")->parse(page, {});
  EXPECT_TRUE(parsed.actions.empty());
  std::vector<std::string> rules;
  for (const auto& f : parsed.findings) rules.push_back(f.rule);
  EXPECT_EQ(rules, (std::vector<std::string>{"bad_number", "bad_date", "bad_symbol", "bad_number", "malformed_row"}));
}

}  // namespace
}  // namespace trib::providers

// The tiingo adapter: every recorded body parsed with values read off the files (the JSON and CSV
// of the same request give the same bars), hand-made rows that cannot be bars and corporate
// actions, fetch through the mock vendor server (request shape, the Authorization header), one
// test per fault, Tiingo's error objects, and the API key kept out of everything we write.
#include <chrono>
#include <cstdlib>
#include <mutex>
#include <vector>

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
using testing::MockVendorServer;
using testing::VendorFault;

ParseResult parse_text(std::string_view text, std::string_view symbol = "GOOGL", Timeframe tf = Timeframe::kDay1) {
  ParseContext context;
  context.symbol = Symbol::parse(symbol);
  context.timeframe = tf;
  return make_provider("tiingo")->parse(text, context);
}

ParseResult parse_body(const std::string& file, std::string_view symbol = "GOOGL", Timeframe tf = Timeframe::kDay1) {
  return parse_text(testing::read_vendor_sample("tiingo/bodies/" + file), symbol, tf);
}

const std::vector<Bar>& bars_of(const ParseResult& r, std::string_view symbol = "GOOGL") {
  return r.bars.at(Symbol::parse(symbol));
}

void expect_ohlcv(const Bar& b, double o, double h, double l, double c, double v) {
  EXPECT_DOUBLE_EQ(b.open, o);
  EXPECT_DOUBLE_EQ(b.high, h);
  EXPECT_DOUBLE_EQ(b.low, l);
  EXPECT_DOUBLE_EQ(b.close, c);
  EXPECT_DOUBLE_EQ(b.volume, v);
}

// --- recorded bodies ------------------------------------------------------------------------------

TEST(TiingoParse, GooglWithDateJsonAndCsv) {
  for (const char* file : {"ticker_price_with_date__1.json", "ticker_price_with_date_csv__1.csv"}) {
    SCOPED_TRACE(file);
    const ParseResult r = parse_body(file);
    EXPECT_TRUE(r.findings.empty());
    EXPECT_TRUE(r.actions.empty());  // divCash 0.0, splitFactor 1.0
    const auto& bars = bars_of(r);
    ASSERT_EQ(bars.size(), 2u);
    EXPECT_EQ(bars[0].session_date, Date::parse("2015-01-02"));
    EXPECT_EQ(format_ts_ns(bars[0].ts_ns), "2015-01-02T14:30:00Z");  // session open, 09:30 EST
    expect_ohlcv(bars[0], 532.6, 535.8, 527.88, 529.55, 1327870);
    EXPECT_EQ(bars[1].session_date, Date::parse("2015-01-05"));
    expect_ohlcv(bars[1], 527.15, 527.9899, 517.75, 519.46, 2059119);
  }
}

TEST(TiingoParse, PandasDailyEquivalentJsonAndCsvGiveTheSameBars) {
  const ParseResult json = parse_body("ticker_price_pandas_daily_equivalent_requesting_json_or_csv__1.json");
  const ParseResult csv = parse_body("ticker_price_pandas_daily_equivalent_requesting_json_or_csv__2.csv");
  EXPECT_TRUE(json.findings.empty());
  EXPECT_TRUE(csv.findings.empty());
  ASSERT_EQ(bars_of(json).size(), 10u);
  EXPECT_EQ(bars_of(json), bars_of(csv));
  EXPECT_EQ(bars_of(json).front().session_date, Date::parse("2018-01-05"));
  expect_ohlcv(bars_of(json).front(), 1103.45, 1113.58, 1101.8, 1110.29, 1493389);
  EXPECT_EQ(bars_of(json).back().session_date, Date::parse("2018-01-19"));
  expect_ohlcv(bars_of(json).back(), 1138.03, 1143.78, 1132.5, 1143.5, 1418376);
  // 2018-01-15 (Martin Luther King Jr. Day) is absent: 01-12 is followed by 01-16.
  for (const Bar& b : bars_of(json)) EXPECT_NE(b.session_date, Date::parse("2018-01-15"));
  EXPECT_EQ(bars_of(json)[5].session_date, Date::parse("2018-01-12"));
  EXPECT_EQ(bars_of(json)[6].session_date, Date::parse("2018-01-16"));
  expect_ohlcv(bars_of(json)[6], 1140.31, 1148.88, 1126.66, 1130.7, 1783881);
}

TEST(TiingoParse, LatestPriceAndWeeklyBodies) {
  const ParseResult latest = parse_body("ticker_price__1.json");
  ASSERT_EQ(bars_of(latest).size(), 1u);
  EXPECT_EQ(bars_of(latest)[0].session_date, Date::parse("2018-04-12"));  // "2018-04-12T00:00:00+00:00"
  expect_ohlcv(bars_of(latest)[0], 1031.47, 1044.65, 1026.05, 1037.29, 1644794);

  // resampleFreq=weekly bodies are rows of the same shape (dated by the week's last session);
  // the adapter only asks for daily ones.
  const ParseResult weekly = parse_body("ticker_price_weekly__1.json");
  ASSERT_EQ(bars_of(weekly).size(), 3u);
  expect_ohlcv(bars_of(weekly)[0], 1053.02, 1113.58, 1053.02, 1110.29, 5889084);
  const ParseResult aapl = parse_body("ticker_price_pandas_weekly_multiple_tickers__2.json", "AAPL");
  ASSERT_EQ(bars_of(aapl, "AAPL").size(), 3u);
  // The as-traded close 177.09, not adjClose 175.6994621711.
  expect_ohlcv(bars_of(aapl, "AAPL")[1], 174.35, 177.36, 173.0, 177.09, 107548622);
  EXPECT_EQ(bars_of(parse_body("ticker_price_pandas_weekly_multiple_tickers__1.json")),
            bars_of(weekly));
}

TEST(TiingoParse, IexIntradayBarsAreDatedByTheirOpen) {
  const ParseResult r = parse_body("intraday_price__1.json", "GOOGL", Timeframe::kMinute1);
  EXPECT_TRUE(r.findings.empty());
  const auto& bars = bars_of(r);
  ASSERT_EQ(bars.size(), 13u);  // SOURCE.md: 13 IEX 30-min bars, 14:30Z .. 20:30Z
  EXPECT_EQ(format_ts_ns(bars.front().ts_ns), "2018-01-02T14:30:00Z");
  expect_ohlcv(bars.front(), 1057.47, 1061.91, 1054.17, 1061.91, 0);  // no volume asked for
  EXPECT_EQ(format_ts_ns(bars.back().ts_ns), "2018-01-02T20:30:00Z");
  for (const Bar& b : bars) EXPECT_EQ(b.session_date, Date::parse("2018-01-02"));
  // As daily rows they are not session dates: every one is a finding, none a bar.
  const ParseResult daily = parse_body("intraday_price__1.json");
  EXPECT_TRUE(bars_of(daily).empty());
  ASSERT_EQ(daily.findings.size(), 13u);
  EXPECT_EQ(daily.findings[0].rule, "bad_date");
}

TEST(TiingoParse, MetadataAndCryptoBodiesAreNotPrices) {
  EXPECT_THAT(expect_error([] { parse_body("ticker_metadata__1.json"); }, ErrorCategory::kDataLoss),
              HasSubstr("instead of an array"));
  EXPECT_THAT(expect_error([] { parse_body("crypto_price_history__1.json"); }, ErrorCategory::kDataLoss),
              HasSubstr("crypto"));
}

// --- hand-made payloads ---------------------------------------------------------------------------

TEST(TiingoParse, DividendsAndSplitsBecomeActions) {
  const ParseResult r = parse_text(R"([
    {"date":"2020-08-07T00:00:00.000Z","close":444.45,"high":454.7,"low":441.17,"open":452.82,"volume":49511403,
     "adjClose":110.1,"divCash":0.82,"splitFactor":1.0},
    {"date":"2020-08-31T00:00:00.000Z","close":129.04,"high":131.0,"low":126.0,"open":127.58,"volume":225702700,
     "adjClose":127.9,"divCash":0.0,"splitFactor":4.0}])", "AAPL");
  ASSERT_EQ(bars_of(r, "AAPL").size(), 2u);
  EXPECT_DOUBLE_EQ(bars_of(r, "AAPL")[0].close, 444.45);
  ASSERT_EQ(r.actions.size(), 2u);
  EXPECT_EQ(r.actions[0].kind, CorporateAction::Kind::kDividend);
  EXPECT_EQ(r.actions[0].ex_date, Date::parse("2020-08-07"));
  EXPECT_DOUBLE_EQ(r.actions[0].cash_amount, 0.82);
  EXPECT_EQ(r.actions[1].kind, CorporateAction::Kind::kSplit);
  EXPECT_EQ(r.actions[1].ex_date, Date::parse("2020-08-31"));
  EXPECT_DOUBLE_EQ(r.actions[1].split_ratio, 4.0);
  EXPECT_EQ(r.actions[1].symbol, Symbol::parse("AAPL"));
  // The same in CSV.
  const ParseResult c = parse_text(
      "date,close,high,low,open,volume,divCash,splitFactor\n"
      "2020-08-31,129.04,131.0,126.0,127.58,225702700,0.0,4.0\n", "AAPL");
  ASSERT_EQ(c.actions.size(), 1u);
  EXPECT_DOUBLE_EQ(c.actions[0].split_ratio, 4.0);
}

TEST(TiingoParse, EveryUnusableRowIsAFinding) {
  const ParseResult r = parse_text(R"([
    {"date":"2020-01-02T00:00:00.000Z","close":1.5,"high":2,"low":0.5,"open":1,"volume":10},
    {"date":"2020-01-03T00:00:00.000Z","close":null,"high":2,"low":0.5,"open":1,"volume":10},
    {"date":"4026-01-02T00:00:00.000Z","close":1.5,"high":2,"low":0.5,"open":1,"volume":10},
    {"close":1.5,"high":2,"low":0.5,"open":1,"volume":10},
    {"date":"2020-01-07T00:00:00.000Z","close":"x","high":2,"low":0.5,"open":1,"volume":10},
    {"date":"2020-01-08T00:00:00.000Z","close":1.5,"high":2,"low":0.5,"open":1},
    {"date":"2020-01-09T00:00:00.000Z","close":1.5,"high":2,"low":0.5,"open":1,"volume":10,"splitFactor":0},
    7])");
  ASSERT_EQ(bars_of(r).size(), 1u);
  std::vector<std::pair<int64_t, std::string>> got;
  for (const auto& f : r.findings) got.emplace_back(f.line, f.rule);
  EXPECT_EQ(got, (std::vector<std::pair<int64_t, std::string>>{{2, "null_value"},
                                                                {3, "bad_date"},
                                                                {4, "missing_field"},
                                                                {5, "bad_number"},
                                                                {6, "missing_field"},
                                                                {7, "bad_action"},
                                                                {8, "malformed_row"}}));
  EXPECT_THAT(r.findings[0].reason, HasSubstr("close"));
  EXPECT_THAT(r.findings[0].raw_text, HasSubstr("2020-01-03"));
}

TEST(TiingoParse, ADeeplyNestedRowIsAFindingWithAShortExcerpt) {
  const std::string deep = std::string(200000, '[') + std::string(200000, ']');
  const ParseResult r = parse_text("[" + deep + "]");
  ASSERT_EQ(r.findings.size(), 1u);
  EXPECT_EQ(r.findings[0].rule, "malformed_row");
  EXPECT_LE(r.findings[0].raw_text.size(), 200u);
}

TEST(TiingoParse, UnreadablePayloadsAreDataLoss) {
  for (const std::string text : {"", "[{\"date\":", "{\"detail\":\"Error: Ticker 'XYZ' not found\"}", "\"x\"",
                                 "You have run over your 500 symbol look up for this month.", "close,open\n1,2\n"}) {
    SCOPED_TRACE(text);
    expect_error([&] { parse_text(text); }, ErrorCategory::kDataLoss);
  }
  EXPECT_TRUE(bars_of(parse_text("[]")).empty());  // a window without sessions
}

// --- fetch through the mock vendor ----------------------------------------------------------------

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

class TiingoFetch : public ::testing::Test {
 protected:
  void SetUp() override {
    ::setenv("TIINGO_API_KEY", MockVendorServer::kApiKey, 1);
    server_.start();
    gate_ = std::make_shared<RecordingGate>();
  }
  void TearDown() override {
    ::unsetenv("TIINGO_API_KEY");
    server_.stop();
  }

  std::unique_ptr<Provider> provider(ProviderOptions extra = {}) {
    extra["base_url"] = server_.base_url("tiingo");
    return make_provider("tiingo", extra, gate_);
  }

  static FetchRequest daily(std::string_view symbol, std::string_view from, std::string_view to) {
    FetchRequest request;
    request.symbol = Symbol::parse(symbol);
    request.from = Date::parse(from);
    request.to = Date::parse(to);
    return request;
  }

  std::string fault(VendorFault f, ErrorCategory category, ProviderOptions options = {}, int delay_ms = 3000) {
    InjectedFault injected;
    injected.fault = f;
    injected.delay_ms = delay_ms;
    server_.inject("tiingo", injected);
    const std::string msg =
        expect_error([&] { provider(options)->fetch(daily("GOOGL", "2015-01-01", "2015-01-05")); }, category);
    EXPECT_THAT(msg, Not(HasSubstr(MockVendorServer::kApiKey)));
    return msg;
  }

  MockVendorServer server_;
  std::shared_ptr<RecordingGate> gate_;
};

TEST_F(TiingoFetch, DailyPricesWithTheTokenInTheHeader) {
  const FetchResult r = provider()->fetch(daily("GOOGL", "2015-01-01", "2015-01-05"));
  const auto seen = server_.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].path, "/tiingo/daily/GOOGL/prices");
  EXPECT_EQ(seen[0].param("startDate"), "2015-01-01");
  EXPECT_EQ(seen[0].param("endDate"), "2015-01-05");
  EXPECT_EQ(seen[0].param("format"), "json");
  EXPECT_EQ(seen[0].param("resampleFreq"), "daily");
  EXPECT_EQ(seen[0].header("authorization"), std::string("Token ") + MockVendorServer::kApiKey);
  EXPECT_FALSE(seen[0].has_param("token"));
  EXPECT_EQ(r.bytes, testing::read_vendor_sample("tiingo/bodies/ticker_price_with_date__1.json"));
  EXPECT_EQ(r.ext, "json");
  EXPECT_EQ(r.request["path"], "/tiingo/daily/GOOGL/prices");
  EXPECT_EQ(r.request["params"]["startDate"], "2015-01-01");
  EXPECT_THAT(r.request.dump(), Not(HasSubstr(MockVendorServer::kApiKey)));
  EXPECT_EQ(gate_->acquired, 1);
}

TEST_F(TiingoFetch, CsvFormatGivesTheSameBars) {
  const FetchResult j = provider()->fetch(daily("GOOGL", "2018-01-05", "2018-01-19"));
  const FetchResult c = provider({{"format", "csv"}})->fetch(daily("GOOGL", "2018-01-05", "2018-01-19"));
  EXPECT_EQ(server_.requests().at(1).param("format"), "csv");
  EXPECT_EQ(c.ext, "csv");
  EXPECT_THAT(c.content_type, HasSubstr("text/csv"));
  ParseContext context;
  context.symbol = Symbol::parse("GOOGL");
  const auto jb = provider()->parse(j.bytes, context).bars.at(context.symbol);
  const auto cb = provider()->parse(c.bytes, context).bars.at(context.symbol);
  ASSERT_EQ(jb.size(), 10u);
  EXPECT_EQ(jb, cb);
}

TEST_F(TiingoFetch, ShareClassesAndSyntheticBars) {
  const FetchResult r = provider()->fetch(daily("BRK.B", "2021-03-01", "2021-03-31"));
  EXPECT_EQ(server_.requests().at(0).path, "/tiingo/daily/BRK-B/prices");
  ParseContext context;
  context.symbol = Symbol::parse("BRK.B");
  const ParseResult parsed = provider()->parse(r.bytes, context);
  EXPECT_TRUE(parsed.findings.empty());
  const auto& bars = parsed.bars.at(context.symbol);
  const auto expected = testing::synthetic_daily_bars("BRK.B", Date::parse("2021-03-01"), Date::parse("2021-03-31"));
  ASSERT_EQ(bars.size(), expected.size());
  ASSERT_EQ(bars.size(), 23u);
  for (size_t i = 0; i < bars.size(); ++i) {
    EXPECT_EQ(bars[i].session_date, expected[i].date);
    EXPECT_DOUBLE_EQ(bars[i].close, expected[i].close);
    EXPECT_DOUBLE_EQ(bars[i].volume, expected[i].volume);
  }
}

TEST_F(TiingoFetch, IntradayFromIex) {
  FetchRequest request = daily("MSFT", "2021-03-01", "2021-03-02");
  request.timeframe = Timeframe::kMinute1;
  const FetchResult r = provider()->fetch(request);
  const auto seen = server_.requests().at(0);
  EXPECT_EQ(seen.path, "/iex/MSFT/prices");
  EXPECT_EQ(seen.param("resampleFreq"), "1min");
  EXPECT_EQ(seen.param("columns"), "open,high,low,close,volume");
  ParseContext context;
  context.symbol = request.symbol;
  context.timeframe = Timeframe::kMinute1;
  const ParseResult parsed = provider()->parse(r.bytes, context);
  EXPECT_TRUE(parsed.findings.empty());
  const auto& bars = parsed.bars.at(context.symbol);
  ASSERT_EQ(bars.size(), 2u * 390);
  EXPECT_EQ(format_ts_ns(bars.front().ts_ns), "2021-03-01T14:30:00Z");
  EXPECT_GT(bars.front().volume, 0);
}

// --- faults ---------------------------------------------------------------------------------------

TEST_F(TiingoFetch, Fault429IsWaitedOutNotAnError) {
  InjectedFault f;
  f.fault = VendorFault::k429;
  f.retry_after_s = 1;
  server_.inject("tiingo", f);
  const auto t0 = std::chrono::steady_clock::now();
  const FetchResult r = provider()->fetch(daily("GOOGL", "2015-01-01", "2015-01-05"));
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(900));
  EXPECT_EQ(r.bytes, testing::read_vendor_sample("tiingo/bodies/ticker_price_with_date__1.json"));
  EXPECT_EQ(server_.request_count("tiingo"), 2);
  EXPECT_EQ(gate_->pauses.size(), 1u);
  EXPECT_EQ(gate_->acquired, 2);
}

TEST_F(TiingoFetch, Fault500IsRetryable) { fault(VendorFault::k500, ErrorCategory::kRetryable); }

TEST_F(TiingoFetch, Fault503IsRetryable) { fault(VendorFault::k503, ErrorCategory::kRetryable); }

TEST_F(TiingoFetch, FaultSlowTimesOutRetryable) {
  fault(VendorFault::kSlow, ErrorCategory::kRetryable, {{"timeout_ms", "500"}}, 1500);
}

TEST_F(TiingoFetch, FaultTruncatedIsRetryable) { fault(VendorFault::kTruncated, ErrorCategory::kRetryable); }

TEST_F(TiingoFetch, FaultEmptyIsRetryable) {
  EXPECT_THAT(fault(VendorFault::kEmpty, ErrorCategory::kRetryable), HasSubstr("empty body"));
}

TEST_F(TiingoFetch, FaultHtmlIsRetryableWithAnExcerptOnly) {
  const std::string msg = fault(VendorFault::kHtml, ErrorCategory::kRetryable);
  EXPECT_THAT(msg, HasSubstr("HTML"));
  EXPECT_THAT(msg, Not(HasSubstr("cloudfront")));
  EXPECT_LT(msg.size(), 400u);
}

TEST_F(TiingoFetch, FaultVendorErrorIsTheUsageLimit) {
  const std::string msg = fault(VendorFault::kVendorError, ErrorCategory::kRateLimited);
  EXPECT_THAT(msg, HasSubstr("500 symbol look up"));
  EXPECT_TRUE(gate_->pauses.empty());  // the monthly new-symbol allowance: other symbols still answer
}

TEST_F(TiingoFetch, FaultUnknownSymbolIsNotFound) {
  const std::string msg = fault(VendorFault::kUnknownSymbol, ErrorCategory::kNotFound);
  EXPECT_THAT(msg, HasSubstr("tiingo does not know symbol GOOGL"));
  EXPECT_THAT(msg, HasSubstr("Ticker 'GOOGL' not found"));
  server_.add_unknown_symbol("NOPE");
  EXPECT_THAT(
      expect_error([&] { provider()->fetch(daily("NOPE", "2020-01-02", "2020-01-31")); }, ErrorCategory::kNotFound),
      HasSubstr("tiingo does not know symbol NOPE"));
}

TEST_F(TiingoFetch, MissingKeyIsPermanentNamingTheVariable) {
  ::unsetenv("TIINGO_API_KEY");
  EXPECT_THAT(expect_error([&] { provider()->fetch(daily("GOOGL", "2015-01-01", "2015-01-05")); },
                           ErrorCategory::kPermanent),
              HasSubstr("TIINGO_API_KEY"));
  EXPECT_EQ(server_.request_count("tiingo"), 0);
}

TEST_F(TiingoFetch, WrongKeyIsPermanent) {
  ::setenv("TIINGO_API_KEY", "wrong-token-98765", 1);
  const std::string msg =
      expect_error([&] { provider()->fetch(daily("GOOGL", "2015-01-01", "2015-01-05")); }, ErrorCategory::kPermanent);
  EXPECT_THAT(msg, HasSubstr("Invalid token."));
  EXPECT_THAT(msg, Not(HasSubstr("wrong-token-98765")));
}

TEST_F(TiingoFetch, TheKeyIsNeverWrittenAnywhere) {
  const FetchResult r = provider({{"format", "csv"}})->fetch(daily("GOOGL", "2018-01-05", "2018-01-19"));
  EXPECT_THAT(r.request.dump(), Not(HasSubstr(MockVendorServer::kApiKey)));
  EXPECT_THAT(r.content_type, Not(HasSubstr(MockVendorServer::kApiKey)));
  EXPECT_THAT(r.bytes, Not(HasSubstr(MockVendorServer::kApiKey)));
  for (VendorFault f : {VendorFault::k500, VendorFault::k503, VendorFault::kHtml, VendorFault::kVendorError,
                        VendorFault::kUnknownSymbol, VendorFault::kEmpty, VendorFault::kTruncated}) {
    InjectedFault injected;
    injected.fault = f;
    server_.inject("tiingo", injected);
    try {
      provider()->fetch(daily("GOOGL", "2015-01-01", "2015-01-05"));
      ADD_FAILURE() << "fault " << static_cast<int>(f) << " did not fail the fetch";
    } catch (const Error& e) {
      EXPECT_THAT(std::string(e.what()), Not(HasSubstr(MockVendorServer::kApiKey)));
    }
  }
}

}  // namespace
}  // namespace trib::providers

// The alphavantage adapter: every recorded payload parsed with values read off the files by hand,
// fetch through the mock vendor server (request shape, key in the query, one page per month of
// intraday data), one test per fault, Alpha Vantage's HTTP-200 error bodies, and the API key kept
// out of everything we write.
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

ParseResult parse_text(std::string_view text, std::string_view symbol = "MSFT", Timeframe tf = Timeframe::kDay1) {
  ParseContext context;
  if (!symbol.empty()) context.symbol = Symbol::parse(symbol);
  context.timeframe = tf;
  return make_provider("alphavantage")->parse(text, context);
}

ParseResult parse_sample(const std::string& file, std::string_view symbol, Timeframe tf = Timeframe::kDay1) {
  return parse_text(testing::read_vendor_sample("alphavantage/" + file), symbol, tf);
}

const std::vector<Bar>& bars_of(const ParseResult& r, std::string_view symbol) {
  return r.bars.at(Symbol::parse(symbol));
}

void expect_ohlcv(const Bar& b, double o, double h, double l, double c, double v) {
  EXPECT_DOUBLE_EQ(b.open, o);
  EXPECT_DOUBLE_EQ(b.high, h);
  EXPECT_DOUBLE_EQ(b.low, l);
  EXPECT_DOUBLE_EQ(b.close, c);
  EXPECT_DOUBLE_EQ(b.volume, v);
}

// --- recorded payloads ---------------------------------------------------------------------------

TEST(AlphaVantageParse, CrazzyghostDailyAscendingAtTheSessionOpen) {
  const ParseResult r = parse_sample("crazzyghost/daily.json", "IBM");
  EXPECT_TRUE(r.findings.empty());
  EXPECT_TRUE(r.actions.empty());
  const auto& bars = bars_of(r, "IBM");
  ASSERT_EQ(bars.size(), 2u);
  // The file lists 2020-05-08 first; bars come out oldest first.
  EXPECT_EQ(bars[0].session_date, Date::parse("2020-05-07"));
  EXPECT_EQ(format_ts_ns(bars[0].ts_ns), "2020-05-07T13:30:00Z");  // 09:30 EDT
  expect_ohlcv(bars[0], 122.98, 123.26, 120.85, 121.23, 4412047);
  EXPECT_EQ(bars[1].session_date, Date::parse("2020-05-08"));
  expect_ohlcv(bars[1], 122.67, 122.80, 121.06, 121.79, 2538547);
}

TEST(AlphaVantageParse, CrazzyghostDailyAdjustedKeepsAsTradedCloseAndReportsTheDividend) {
  const ParseResult r = parse_sample("crazzyghost/dailyadjusted.json", "IBM");
  EXPECT_TRUE(r.findings.empty());
  const auto& bars = bars_of(r, "IBM");
  ASSERT_EQ(bars.size(), 2u);
  expect_ohlcv(bars[0], 122.98, 123.26, 120.85, 121.23, 4412047);
  expect_ohlcv(bars[1], 122.67, 122.80, 121.06, 121.805, 2542577);  // "6. volume", not "5."
  // "7. dividend amount": "1.6300" on 2020-05-07; split coefficients are all 1.0000.
  ASSERT_EQ(r.actions.size(), 1u);
  EXPECT_EQ(r.actions[0].kind, CorporateAction::Kind::kDividend);
  EXPECT_EQ(r.actions[0].symbol, Symbol::parse("IBM"));
  EXPECT_EQ(r.actions[0].ex_date, Date::parse("2020-05-07"));
  EXPECT_DOUBLE_EQ(r.actions[0].cash_amount, 1.63);
}

TEST(AlphaVantageParse, KirlutDailyAdjustedAndNotAdjusted) {
  const ParseResult adj = parse_sample("kirlut/daily-adjusted.json", "MSFT");
  EXPECT_TRUE(adj.findings.empty());
  EXPECT_TRUE(adj.actions.empty());  // dividend 0.0000, split 1.0000 on every row
  const auto& a = bars_of(adj, "MSFT");
  ASSERT_EQ(a.size(), 3u);
  EXPECT_EQ(a[0].session_date, Date::parse("2018-05-08"));
  expect_ohlcv(a[0], 95.8456, 96.16, 95.0631, 95.81, 23484589);
  expect_ohlcv(a[2], 97.46, 97.87, 97.07, 97.57, 8798622);

  const ParseResult raw = parse_sample("kirlut/daily-not-adjusted.json", "MSFT");
  const auto& b = bars_of(raw, "MSFT");
  ASSERT_EQ(b.size(), 3u);
  EXPECT_EQ(b[2].session_date, Date::parse("2018-05-10"));
  expect_ohlcv(b[2], 97.46, 97.87, 97.05, 97.48, 12229563);
  expect_ohlcv(b[1], 96.01, 96.97, 95.05, 96.94, 27278881);
}

TEST(AlphaVantageParse, KirlutIntradayLabelsAreBarEndsInNewYork) {
  const ParseResult r = parse_sample("kirlut/intraday.json", "MSFT", Timeframe::kMinute1);
  EXPECT_TRUE(r.findings.empty());
  const auto& bars = bars_of(r, "MSFT");
  ASSERT_EQ(bars.size(), 3u);
  // "2018-05-04 15:58:00" (EDT, UTC-4) ends the minute that opened 15:57 = 19:57Z.
  EXPECT_EQ(format_ts_ns(bars[0].ts_ns), "2018-05-04T19:57:00Z");
  expect_ohlcv(bars[0], 94.98, 95.04, 94.96, 95.00, 129749);
  // "16:00:00" holds the closing cross: the 15:59-16:00 minute.
  EXPECT_EQ(format_ts_ns(bars[2].ts_ns), "2018-05-04T19:59:00Z");
  expect_ohlcv(bars[2], 94.97, 95.22, 94.97, 95.16, 2522498);
  for (const Bar& b : bars) EXPECT_EQ(b.session_date, Date::parse("2018-05-04"));
}

TEST(AlphaVantageParse, RomelTorresCompactIntradayHundredMinutes) {
  const ParseResult r = parse_sample("romeltorres/mock_time_series.json", "MSFT", Timeframe::kMinute1);
  EXPECT_TRUE(r.findings.empty());
  const auto& bars = bars_of(r, "MSFT");
  ASSERT_EQ(bars.size(), 100u);  // SOURCE.md: 100 bars 13:17 .. 14:56 US/Eastern
  // "2017-12-18 13:17:00" (EST, UTC-5): the minute opening 13:16 = 18:16Z.
  EXPECT_EQ(format_ts_ns(bars.front().ts_ns), "2017-12-18T18:16:00Z");
  expect_ohlcv(bars.front(), 86.8101, 86.82, 86.79, 86.80, 31172);
  EXPECT_EQ(format_ts_ns(bars.back().ts_ns), "2017-12-18T19:55:00Z");
  expect_ohlcv(bars.back(), 86.49, 86.50, 86.475, 86.50, 10494);
  for (size_t i = 1; i < bars.size(); ++i) EXPECT_EQ(bars[i].ts_ns - bars[i - 1].ts_ns, 60 * kNanosPerSecond);
}

TEST(AlphaVantageParse, ExtendedCsvNewestFirstWithExtendedHours) {
  const ParseResult r = parse_sample("romeltorres/mock_time_series_extended.csv", "MSFT", Timeframe::kMinute1);
  EXPECT_TRUE(r.findings.empty());
  const auto& bars = bars_of(r, "MSFT");
  ASSERT_EQ(bars.size(), 11190u);  // SOURCE.md: 11,190 rows
  // Last line of the file, "2020-11-23 04:01:00,211.5,211.5,211.5,211.5,162": 04:00 EST = 09:00Z.
  EXPECT_EQ(format_ts_ns(bars.front().ts_ns), "2020-11-23T09:00:00Z");
  expect_ohlcv(bars.front(), 211.5, 211.5, 211.5, 211.5, 162);
  // First data line, "2020-12-18 20:00:00,218.79,218.79,218.75,218.75,1102": 19:59 EST is
  // 00:59Z on the 19th, still the 18th's session in New York.
  EXPECT_EQ(format_ts_ns(bars.back().ts_ns), "2020-12-19T00:59:00Z");
  EXPECT_EQ(bars.back().session_date, Date::parse("2020-12-18"));
  expect_ohlcv(bars.back(), 218.79, 218.79, 218.75, 218.75, 1102);
  // "2020-12-18 09:31:00,...,6499753": the opening cross in the minute opened at 09:30.
  const int64_t open_ts = parse_ts_ns("2020-12-18T14:30:00Z");
  auto it = std::find_if(bars.begin(), bars.end(), [&](const Bar& b) { return b.ts_ns == open_ts; });
  ASSERT_NE(it, bars.end());
  expect_ohlcv(*it, 218.59, 219.69, 218.59, 219.63, 6499753);
  for (size_t i = 1; i < bars.size(); ++i) ASSERT_LT(bars[i - 1].ts_ns, bars[i].ts_ns);
}

TEST(AlphaVantageParse, FxDailyHasNoVolume) {
  const ParseResult r = parse_sample("crazzyghost/fx_daily.json", "EUR/USD");
  EXPECT_TRUE(r.findings.empty());
  const auto& bars = bars_of(r, "EUR/USD");
  ASSERT_EQ(bars.size(), 2u);
  EXPECT_EQ(bars[0].session_date, Date::parse("2020-05-05"));
  expect_ohlcv(bars[0], 1.0904, 1.0926, 1.0825, 1.0840, 0);
  expect_ohlcv(bars[1], 1.0839, 1.0844, 1.0780, 1.0794, 0);
}

TEST(AlphaVantageParse, SymbolFromMetaDataWhenTheContextHasNone) {
  const ParseResult r = parse_sample("crazzyghost/daily.json", "");
  EXPECT_EQ(bars_of(r, "IBM").size(), 2u);
  const ParseResult fx = parse_sample("crazzyghost/fx_daily.json", "");
  EXPECT_EQ(bars_of(fx, "EUR/USD").size(), 2u);
}

TEST(AlphaVantageParse, KirlutBadDataIsAFindingNotABar) {
  const ParseResult r = parse_sample("kirlut/bad-data.json", "MSFT");
  auto it = r.bars.find(Symbol::parse("MSFT"));
  EXPECT_TRUE(it == r.bars.end() || it->second.empty());
  ASSERT_EQ(r.findings.size(), 1u);
  EXPECT_EQ(r.findings[0].rule, "bad_number");
  EXPECT_EQ(r.findings[0].line, 1);
  EXPECT_THAT(r.findings[0].reason, HasSubstr("2018-05-10"));
  EXPECT_THAT(r.findings[0].reason, HasSubstr("open \"r\""));
  EXPECT_THAT(r.findings[0].raw_text, HasSubstr("\"open\":\"r\""));
  EXPECT_TRUE(r.actions.empty());
}

TEST(AlphaVantageParse, IntervalsOtherThanOneMinuteAndOneHourAreRefused) {
  // crazzyghost/intraday.json is 5min: neither 1m nor 1h bars.
  const std::string msg = expect_error(
      [] { parse_sample("crazzyghost/intraday.json", "IBM", Timeframe::kMinute1); }, ErrorCategory::kDataLoss);
  EXPECT_THAT(msg, HasSubstr("5min"));
  expect_error([] { parse_sample("kirlut/intraday.json", "MSFT", Timeframe::kDay1); }, ErrorCategory::kDataLoss);
  expect_error([] { parse_sample("crazzyghost/daily.json", "IBM", Timeframe::kMinute1); }, ErrorCategory::kDataLoss);
}

TEST(AlphaVantageParse, OtherRecordedPayloadsAreNotBars) {
  for (const char* file : {"crazzyghost/weekly.json", "crazzyghost/weeklyadjusted.json", "crazzyghost/monthly.json",
                           "crazzyghost/monthlyadjusted.json", "kirlut/weekly-adjusted.json",
                           "kirlut/weekly-not-adjusted.json", "kirlut/monthly-adjusted.json",
                           "kirlut/monthly-not-adjusted.json"}) {
    SCOPED_TRACE(file);
    const std::string msg = expect_error([&] { parse_sample(file, "IBM"); }, ErrorCategory::kDataLoss);
    EXPECT_THAT(msg, HasSubstr("only daily and intraday"));
  }
  for (const char* file : {"crazzyghost/globalquote.json", "crazzyghost/treasury_yield.json",
                           "crazzyghost/federal_funds_rate.json", "kirlut/stock-quotes.json",
                           "romeltorres/global_quote.json", "romeltorres/mock_foreign_exchange.json"}) {
    SCOPED_TRACE(file);
    const std::string msg = expect_error([&] { parse_sample(file, "IBM"); }, ErrorCategory::kDataLoss);
    EXPECT_THAT(msg, HasSubstr("no time series"));
  }
}

TEST(AlphaVantageParse, ErrorBodiesAreDataLossNamingTheMessage) {
  for (const char* file : {"errors/note_rate_limit_5_per_minute_legacy.json", "errors/information_premium_endpoint.json",
                           "errors/information_rate_limit_25_per_day.json",
                           "errors/information_rate_limit_25_per_day_key_variant.json",
                           "errors/error_message_invalid_api_call_time_series_daily.json"}) {
    SCOPED_TRACE(file);
    const std::string msg = expect_error([&] { parse_sample(file, "IBM"); }, ErrorCategory::kDataLoss);
    EXPECT_THAT(msg, HasSubstr("error body"));
  }
}

// --- hand-made payloads: every row a bar or a finding ----------------------------------------------

std::string daily_json(const std::string& rows) {
  return R"j({"Meta Data": {"2. Symbol": "MSFT", "5. Time Zone": "US/Eastern"}, "Time Series (Daily)": {)j" + rows + "}}";
}

TEST(AlphaVantageParse, EveryUnusableRowIsAFinding) {
  const std::string text = daily_json(R"j(
    "2020-01-06": {"1. open": "1", "2. high": "2", "3. low": "0.5", "4. close": "1.5", "5. volume": "10"},
    "2020-13-01": {"1. open": "1", "2. high": "2", "3. low": "0.5", "4. close": "1.5", "5. volume": "10"},
    "4026-01-02": {"1. open": "1", "2. high": "2", "3. low": "0.5", "4. close": "1.5", "5. volume": "10"},
    "2020-01-03": {"1. open": null, "2. high": "2", "3. low": "0.5", "4. close": "1.5", "5. volume": "10"},
    "2020-01-02": {"1. open": "1", "2. high": "2", "3. low": "0.5", "4. close": "1.5"},
    "2019-12-31": "not a row",
    "2019-12-30": {"1. open": "1e999", "2. high": "2", "3. low": "0.5", "4. close": "1.5", "5. volume": "10"})j");
  const ParseResult r = parse_text(text);
  ASSERT_EQ(bars_of(r, "MSFT").size(), 1u);
  EXPECT_EQ(bars_of(r, "MSFT")[0].session_date, Date::parse("2020-01-06"));
  ASSERT_EQ(r.findings.size(), 6u);
  std::vector<std::pair<int64_t, std::string>> got;
  for (const auto& f : r.findings) got.emplace_back(f.line, f.rule);
  EXPECT_EQ(got, (std::vector<std::pair<int64_t, std::string>>{{2, "bad_date"},
                                                                {3, "bad_date"},
                                                                {4, "null_value"},
                                                                {5, "missing_field"},
                                                                {6, "malformed_row"},
                                                                {7, "bad_number"}}));
  EXPECT_THAT(r.findings[1].reason, HasSubstr("4026-01-02"));
  EXPECT_THAT(r.findings[3].reason, HasSubstr("volume"));
}

TEST(AlphaVantageParse, ADuplicatedDateKeepsBothRowsForTheEtlToJudge) {
  const std::string text = daily_json(R"j(
    "2020-01-02": {"1. open": "1", "2. high": "2", "3. low": "0.5", "4. close": "1.5", "5. volume": "10"},
    "2020-01-02": {"1. open": "9", "2. high": "9", "3. low": "9", "4. close": "9", "5. volume": "90"})j");
  const ParseResult r = parse_text(text);
  ASSERT_EQ(bars_of(r, "MSFT").size(), 2u);
  EXPECT_DOUBLE_EQ(bars_of(r, "MSFT")[0].open, 1);
  EXPECT_DOUBLE_EQ(bars_of(r, "MSFT")[1].open, 9);
}

TEST(AlphaVantageParse, SplitCoefficientAndDividendBecomeActions) {
  const std::string text = R"j({"Meta Data": {"2. Symbol": "AAPL"}, "Time Series (Daily)": {
    "2020-08-31": {"1. open": "127.58", "2. high": "131.0", "3. low": "126.0", "4. close": "129.04",
                   "5. adjusted close": "127.9", "6. volume": "225702700", "7. dividend amount": "0.0000",
                   "8. split coefficient": "4.0"},
    "2020-08-07": {"1. open": "452.82", "2. high": "454.7", "3. low": "441.17", "4. close": "444.45",
                   "5. adjusted close": "110.1", "6. volume": "49511403", "7. dividend amount": "0.8200",
                   "8. split coefficient": "1.0"},
    "2020-08-06": {"1. open": "1", "2. high": "2", "3. low": "0.5", "4. close": "1.5",
                   "5. adjusted close": "1", "6. volume": "10", "7. dividend amount": "-1",
                   "8. split coefficient": "1.0"}}})j";
  const ParseResult r = parse_text(text, "AAPL");
  ASSERT_EQ(bars_of(r, "AAPL").size(), 2u);
  EXPECT_DOUBLE_EQ(bars_of(r, "AAPL")[1].close, 129.04);  // as traded, not the adjusted close
  ASSERT_EQ(r.actions.size(), 2u);
  EXPECT_EQ(r.actions[0].kind, CorporateAction::Kind::kDividend);
  EXPECT_EQ(r.actions[0].ex_date, Date::parse("2020-08-07"));
  EXPECT_DOUBLE_EQ(r.actions[0].cash_amount, 0.82);
  EXPECT_EQ(r.actions[1].kind, CorporateAction::Kind::kSplit);
  EXPECT_EQ(r.actions[1].ex_date, Date::parse("2020-08-31"));
  EXPECT_DOUBLE_EQ(r.actions[1].split_ratio, 4.0);
  ASSERT_EQ(r.findings.size(), 1u);
  EXPECT_EQ(r.findings[0].rule, "bad_action");
}

TEST(AlphaVantageParse, IntradayAcrossTheDaylightSavingSwitch) {
  // 2020-03-08 is the switch: 09:31 on Friday 03-06 is EST, on Monday 03-09 EDT.
  const std::string text = R"j({"Meta Data": {"2. Symbol": "SPY", "6. Time Zone": "US/Eastern"},
    "Time Series (60min)": {
      "2020-03-09 10:30:00": {"1. open": "1", "2. high": "2", "3. low": "0.5", "4. close": "1.5", "5. volume": "1"},
      "2020-03-06 10:30:00": {"1. open": "1", "2. high": "2", "3. low": "0.5", "4. close": "1.5", "5. volume": "1"}}})j";
  const ParseResult r = parse_text(text, "SPY", Timeframe::kHour1);
  const auto& bars = bars_of(r, "SPY");
  ASSERT_EQ(bars.size(), 2u);
  EXPECT_EQ(format_ts_ns(bars[0].ts_ns), "2020-03-06T14:30:00Z");
  EXPECT_EQ(format_ts_ns(bars[1].ts_ns), "2020-03-09T13:30:00Z");
}

TEST(AlphaVantageParse, MonthPagesBackToBack) {
  const std::string page1 = testing::read_vendor_sample("alphavantage/romeltorres/mock_time_series.json");
  const std::string page2 = testing::read_vendor_sample("alphavantage/kirlut/intraday.json");
  const ParseResult r = parse_text(page1 + "\n" + page2, "MSFT", Timeframe::kMinute1);
  EXPECT_TRUE(r.findings.empty());
  const auto& bars = bars_of(r, "MSFT");
  ASSERT_EQ(bars.size(), 103u);
  EXPECT_EQ(bars.back().session_date, Date::parse("2018-05-04"));
  // A page cut short is data loss, like a single one.
  expect_error([&] { parse_text(page1 + "\n" + page2.substr(0, 100), "MSFT", Timeframe::kMinute1); },
               ErrorCategory::kDataLoss);
}

TEST(AlphaVantageParse, ADeeplyNestedRowIsAFindingWithAShortExcerpt) {
  const std::string deep = std::string(200000, '[') + std::string(200000, ']');
  const ParseResult r = parse_text(daily_json("\"2020-01-02\": " + deep));
  ASSERT_EQ(r.findings.size(), 1u);
  EXPECT_EQ(r.findings[0].rule, "malformed_row");
  EXPECT_LE(r.findings[0].raw_text.size(), 200u);
}

TEST(AlphaVantageParse, UnreadablePayloadsAreDataLoss) {
  for (const std::string text : {"", "   ", "{\"Meta Data\": {", "<html></html>", "[1,2,3]", "{}",
                                 "date,price\n2020-01-01,1\n"}) {
    SCOPED_TRACE(text);
    expect_error([&] { parse_text(text); }, ErrorCategory::kDataLoss);
  }
}

TEST(AlphaVantageParse, CsvRowsWithTheWrongShapeAreFindings) {
  const ParseResult r = parse_text(
      "timestamp,open,high,low,close,volume\r\n"
      "2020-01-03,1,2,0.5,1.5,10\r\n"
      "2020-01-02,1,2,0.5\r\n"
      "2020-01-01x,1,2,0.5,1.5,10\r\n"
      "2019-12-31,1,2,,1.5,10\r\n",
      "MSFT");
  ASSERT_EQ(bars_of(r, "MSFT").size(), 1u);
  ASSERT_EQ(r.findings.size(), 3u);
  EXPECT_EQ(r.findings[0].line, 3);
  EXPECT_EQ(r.findings[0].rule, "malformed_row");
  EXPECT_EQ(r.findings[0].raw_text, "2020-01-02,1,2,0.5");
  EXPECT_EQ(r.findings[1].rule, "bad_date");
  EXPECT_EQ(r.findings[2].rule, "bad_number");
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

int64_t unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Wraps the alphavantage routes, answering vendor_error() with another recorded error body.
class ErrorBodyRoutes final : public testing::VendorRoutes {
 public:
  explicit ErrorBodyRoutes(std::string file) : inner_(testing::make_alphavantage_routes()), file_(std::move(file)) {}
  std::string name() const override { return inner_->name(); }
  std::optional<testing::MockAnswer> check_auth(const testing::MockRequest& r) const override {
    return inner_->check_auth(r);
  }
  std::optional<testing::MockAnswer> handle(const testing::MockRequest& r) const override { return inner_->handle(r); }
  testing::MockAnswer vendor_error(const testing::MockRequest&) const override {
    return {200, "application/json", testing::read_vendor_sample("alphavantage/errors/" + file_), {}};
  }
  testing::MockAnswer unknown_symbol(const testing::MockRequest& r) const override { return inner_->unknown_symbol(r); }
  std::string symbol_of(const testing::MockRequest& r) const override { return inner_->symbol_of(r); }

 private:
  std::unique_ptr<testing::VendorRoutes> inner_;
  std::string file_;
};

class AlphaVantageFetch : public ::testing::Test {
 protected:
  void SetUp() override {
    ::setenv("ALPHAVANTAGE_API_KEY", MockVendorServer::kApiKey, 1);
    server_.start();
    gate_ = std::make_shared<RecordingGate>();
  }
  void TearDown() override {
    ::unsetenv("ALPHAVANTAGE_API_KEY");
    server_.stop();
  }

  std::unique_ptr<Provider> provider(ProviderOptions extra = {}) {
    extra["base_url"] = server_.base_url("alphavantage");
    return make_provider("alphavantage", extra, gate_);
  }

  static FetchRequest daily(std::string_view symbol, std::string_view from, std::string_view to) {
    FetchRequest request;
    request.symbol = Symbol::parse(symbol);
    request.from = Date::parse(from);
    request.to = Date::parse(to);
    return request;
  }

  // Every error message a test saw, checked for the key at the end.
  std::string fault(VendorFault f, ErrorCategory category, ProviderOptions options = {}, int delay_ms = 3000) {
    InjectedFault injected;
    injected.fault = f;
    injected.delay_ms = delay_ms;
    server_.inject("alphavantage", injected);
    const std::string msg =
        expect_error([&] { provider(options)->fetch(daily("IBM", "2020-05-07", "2020-05-08")); }, category);
    EXPECT_THAT(msg, Not(HasSubstr(MockVendorServer::kApiKey)));
    return msg;
  }

  MockVendorServer server_;
  std::shared_ptr<RecordingGate> gate_;
};

TEST_F(AlphaVantageFetch, DailyAdjustedByDefaultWithTheKeyInTheQuery) {
  const FetchResult r = provider()->fetch(daily("IBM", "2020-05-07", "2020-05-08"));
  EXPECT_EQ(r.bytes, testing::read_vendor_sample("alphavantage/crazzyghost/dailyadjusted.json"));
  EXPECT_EQ(r.ext, "json");
  EXPECT_THAT(r.content_type, HasSubstr("application/json"));
  const auto seen = server_.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].path, "/query");
  EXPECT_EQ(seen[0].param("function"), "TIME_SERIES_DAILY_ADJUSTED");
  EXPECT_EQ(seen[0].param("symbol"), "IBM");
  EXPECT_EQ(seen[0].param("outputsize"), "full");  // 2020 is not within the latest 100 sessions
  EXPECT_EQ(seen[0].param("apikey"), MockVendorServer::kApiKey);
  EXPECT_EQ(r.request["path"], "/query");
  EXPECT_EQ(r.request["params"]["function"], "TIME_SERIES_DAILY_ADJUSTED");
  EXPECT_EQ(r.request["params"]["symbol"], "IBM");
  EXPECT_FALSE(r.request["params"].contains("apikey"));
  EXPECT_THAT(r.request.dump(), Not(HasSubstr(MockVendorServer::kApiKey)));
  EXPECT_EQ(gate_->acquired, 1);

  ParseContext context;
  context.symbol = Symbol::parse("IBM");
  const ParseResult parsed = provider()->parse(r.bytes, context);
  EXPECT_EQ(bars_of(parsed, "IBM").size(), 2u);
  EXPECT_EQ(parsed.actions.size(), 1u);
}

TEST_F(AlphaVantageFetch, CompactForARecentWindowAndSyntheticBarsForOtherSymbols) {
  const Date today = Date::today_utc();
  FetchRequest request;
  request.symbol = Symbol::parse("ZZTOP");
  request.from = today - 20;
  request.to = today;
  request.params["function"] = "TIME_SERIES_DAILY";
  const FetchResult r = provider()->fetch(request);
  EXPECT_EQ(server_.requests().at(0).param("outputsize"), "compact");
  EXPECT_EQ(server_.requests().at(0).param("function"), "TIME_SERIES_DAILY");
  ParseContext context;
  context.symbol = request.symbol;
  const ParseResult parsed = provider()->parse(r.bytes, context);
  EXPECT_TRUE(parsed.findings.empty());
  const auto& bars = bars_of(parsed, "ZZTOP");
  EXPECT_LE(bars.size(), 100u);
  EXPECT_GE(bars.size(), 90u);
  const auto expected = testing::synthetic_daily_bars("ZZTOP", bars.front().session_date, bars.back().session_date);
  ASSERT_EQ(expected.size(), bars.size());
  for (size_t i = 0; i < bars.size(); ++i) {
    EXPECT_EQ(bars[i].session_date, expected[i].date);
    EXPECT_NEAR(bars[i].close, expected[i].close, 1e-9);
  }
}

TEST_F(AlphaVantageFetch, IntradayAsksOneMonthPerPage) {
  FetchRequest request = daily("MSFT", "2017-12-01", "2018-05-31");
  request.timeframe = Timeframe::kMinute1;
  const FetchResult r = provider()->fetch(request);
  const auto seen = server_.requests();
  ASSERT_EQ(seen.size(), 6u);
  const std::vector<std::string> months{"2017-12", "2018-01", "2018-02", "2018-03", "2018-04", "2018-05"};
  for (size_t i = 0; i < seen.size(); ++i) {
    EXPECT_EQ(seen[i].param("function"), "TIME_SERIES_INTRADAY");
    EXPECT_EQ(seen[i].param("interval"), "1min");
    EXPECT_EQ(seen[i].param("outputsize"), "full");
    EXPECT_EQ(seen[i].param("month"), months[i]);
    EXPECT_EQ(seen[i].param("apikey"), MockVendorServer::kApiKey);
  }
  EXPECT_EQ(r.request["pages"], 6);
  EXPECT_EQ(r.request["months"], nlohmann::json(months));
  // The first and last pages are the recordings, stored as sent.
  EXPECT_TRUE(r.bytes.starts_with(testing::read_vendor_sample("alphavantage/romeltorres/mock_time_series.json")));
  EXPECT_TRUE(r.bytes.ends_with(testing::read_vendor_sample("alphavantage/kirlut/intraday.json")));
  ParseContext context;
  context.symbol = Symbol::parse("MSFT");
  context.timeframe = Timeframe::kMinute1;
  const ParseResult parsed = provider()->parse(r.bytes, context);
  EXPECT_TRUE(parsed.findings.empty());
  const auto& bars = bars_of(parsed, "MSFT");
  EXPECT_EQ(format_ts_ns(bars.front().ts_ns), "2017-12-18T18:16:00Z");
  EXPECT_EQ(format_ts_ns(bars.back().ts_ns), "2018-05-04T19:59:00Z");
  // January..April 2018 are synthetic regular-hours minutes: 390 per session.
  const size_t sessions = TradingCalendar::nyse().sessions(Date::parse("2018-01-01"), Date::parse("2018-04-30")).size();
  EXPECT_EQ(bars.size(), 100 + 3 + sessions * 390);
  for (size_t i = 1; i < bars.size(); ++i) ASSERT_LT(bars[i - 1].ts_ns, bars[i].ts_ns);
}

TEST_F(AlphaVantageFetch, HourBarsAskForSixtyMinutes) {
  FetchRequest request = daily("ZZTOP", "2021-03-01", "2021-03-31");
  request.timeframe = Timeframe::kHour1;
  const FetchResult r = provider()->fetch(request);
  EXPECT_EQ(server_.requests().at(0).param("interval"), "60min");
  EXPECT_EQ(server_.requests().at(0).param("month"), "2021-03");
  ParseContext context;
  context.symbol = request.symbol;
  context.timeframe = Timeframe::kHour1;
  const ParseResult parsed = provider()->parse(r.bytes, context);
  const auto& bars = bars_of(parsed, "ZZTOP");
  ASSERT_EQ(bars.size(), TradingCalendar::nyse().sessions(request.from, request.to).size() * 6);
  // 2021-03-01 is EST: the first hour opens 09:30 = 14:30Z.
  EXPECT_EQ(format_ts_ns(bars.front().ts_ns), "2021-03-01T14:30:00Z");
}

TEST_F(AlphaVantageFetch, FxDailyAsksForTheCurrencyPair) {
  FetchRequest request = daily("EUR/USD", "2020-05-05", "2020-05-06");
  request.params["function"] = "FX_DAILY";
  const FetchResult r = provider()->fetch(request);
  const auto seen = server_.requests().at(0);
  EXPECT_EQ(seen.param("function"), "FX_DAILY");
  EXPECT_EQ(seen.param("from_symbol"), "EUR");
  EXPECT_EQ(seen.param("to_symbol"), "USD");
  EXPECT_FALSE(seen.has_param("symbol"));
  EXPECT_EQ(r.bytes, testing::read_vendor_sample("alphavantage/crazzyghost/fx_daily.json"));
}

TEST_F(AlphaVantageFetch, CsvDatatype) {
  FetchRequest request = daily("MSFT", "2020-12-01", "2020-12-31");
  request.timeframe = Timeframe::kMinute1;
  const FetchResult r = provider({{"datatype", "csv"}})->fetch(request);
  EXPECT_EQ(server_.requests().at(0).param("datatype"), "csv");
  EXPECT_EQ(r.ext, "csv");
  EXPECT_EQ(r.bytes, testing::read_vendor_sample("alphavantage/romeltorres/mock_time_series_extended.csv"));
}

TEST_F(AlphaVantageFetch, BadRequestsAreRefusedBeforeAsking) {
  FetchRequest request = daily("IBM", "2020-05-07", "2020-05-08");
  request.params["function"] = "TIME_SERIES_WEEKLY";
  expect_error([&] { provider()->fetch(request); }, ErrorCategory::kInvalidInput);
  request.params["function"] = "TIME_SERIES_INTRADAY";  // for a 1d task
  expect_error([&] { provider()->fetch(request); }, ErrorCategory::kInvalidInput);
  request.params["function"] = "FX_DAILY";  // IBM is not a pair
  expect_error([&] { provider()->fetch(request); }, ErrorCategory::kInvalidInput);
  EXPECT_EQ(server_.request_count("alphavantage"), 0);
}

// --- faults ---------------------------------------------------------------------------------------

TEST_F(AlphaVantageFetch, Fault429IsWaitedOutNotAnError) {
  InjectedFault f;
  f.fault = VendorFault::k429;
  f.retry_after_s = 1;
  server_.inject("alphavantage", f);
  const auto t0 = std::chrono::steady_clock::now();
  const int64_t before = unix_ms();
  const FetchResult r = provider()->fetch(daily("IBM", "2020-05-07", "2020-05-08"));
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(900));
  EXPECT_EQ(r.bytes, testing::read_vendor_sample("alphavantage/crazzyghost/dailyadjusted.json"));
  EXPECT_EQ(server_.request_count("alphavantage"), 2);
  ASSERT_EQ(gate_->pauses.size(), 1u);  // the wait, told to everyone sharing the budget
  EXPECT_NEAR(static_cast<double>(gate_->pauses[0].second - before), 1000.0, 1500.0);
  EXPECT_EQ(gate_->acquired, 2);
}

TEST_F(AlphaVantageFetch, Fault500IsRetryable) { fault(VendorFault::k500, ErrorCategory::kRetryable); }

TEST_F(AlphaVantageFetch, Fault503IsRetryable) { fault(VendorFault::k503, ErrorCategory::kRetryable); }

TEST_F(AlphaVantageFetch, FaultSlowTimesOutRetryable) {
  const auto t0 = std::chrono::steady_clock::now();
  fault(VendorFault::kSlow, ErrorCategory::kRetryable, {{"timeout_ms", "500"}}, 1500);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(1400));
}

TEST_F(AlphaVantageFetch, FaultTruncatedIsRetryable) { fault(VendorFault::kTruncated, ErrorCategory::kRetryable); }

TEST_F(AlphaVantageFetch, FaultEmptyIsRetryable) {
  EXPECT_THAT(fault(VendorFault::kEmpty, ErrorCategory::kRetryable), HasSubstr("empty body"));
}

TEST_F(AlphaVantageFetch, FaultHtmlIsRetryableWithAnExcerptOnly) {
  const std::string msg = fault(VendorFault::kHtml, ErrorCategory::kRetryable);
  EXPECT_THAT(msg, HasSubstr("HTML"));
  EXPECT_THAT(msg, Not(HasSubstr("cloudfront")));  // the page's tail is not echoed
  EXPECT_LT(msg.size(), 400u);
}

TEST_F(AlphaVantageFetch, FaultVendorErrorIsTheThrottleNote) {
  const int64_t before = unix_ms();
  const std::string msg = fault(VendorFault::kVendorError, ErrorCategory::kRateLimited);
  EXPECT_THAT(msg, HasSubstr("5 calls per minute"));
  ASSERT_EQ(gate_->pauses.size(), 1u);
  EXPECT_EQ(gate_->pauses[0].first, "alphavantage");
  EXPECT_GE(gate_->pauses[0].second, before + 60'000);
  EXPECT_LE(gate_->pauses[0].second, unix_ms() + 60'000);
}

TEST_F(AlphaVantageFetch, FaultUnknownSymbolIsNotFound) {
  const std::string msg = fault(VendorFault::kUnknownSymbol, ErrorCategory::kNotFound);
  EXPECT_THAT(msg, HasSubstr("alphavantage does not know symbol IBM"));
  EXPECT_THAT(msg, HasSubstr("Invalid API call"));
  server_.add_unknown_symbol("NOPE");
  const std::string msg2 =
      expect_error([&] { provider()->fetch(daily("NOPE", "2020-05-07", "2020-05-08")); }, ErrorCategory::kNotFound);
  EXPECT_THAT(msg2, HasSubstr("alphavantage does not know symbol NOPE"));
}

TEST_F(AlphaVantageFetch, MissingKeyIsPermanentNamingTheVariable) {
  ::unsetenv("ALPHAVANTAGE_API_KEY");
  const std::string msg =
      expect_error([&] { provider()->fetch(daily("IBM", "2020-05-07", "2020-05-08")); }, ErrorCategory::kPermanent);
  EXPECT_THAT(msg, HasSubstr("ALPHAVANTAGE_API_KEY"));
  EXPECT_EQ(server_.request_count("alphavantage"), 0);
}

TEST_F(AlphaVantageFetch, WrongKeyIsPermanent) {
  ::setenv("ALPHAVANTAGE_API_KEY", "wrong-key-123456", 1);
  const std::string msg =
      expect_error([&] { provider()->fetch(daily("IBM", "2020-05-07", "2020-05-08")); }, ErrorCategory::kPermanent);
  EXPECT_THAT(msg, HasSubstr("ALPHAVANTAGE_API_KEY"));
  EXPECT_THAT(msg, Not(HasSubstr("wrong-key-123456")));
}

TEST_F(AlphaVantageFetch, RecordedErrorBodiesAndTheirCategories) {
  struct Case {
    const char* file;
    ErrorCategory category;
    const char* says;
  };
  const Case cases[] = {
      {"information_rate_limit_25_per_day.json", ErrorCategory::kRateLimited, "25 requests per day"},
      {"information_rate_limit_25_per_day_key_variant.json", ErrorCategory::kRateLimited, "25 requests per day"},
      {"information_premium_endpoint.json", ErrorCategory::kPermanent, "premium"},
      {"error_message_invalid_api_call_time_series_daily.json", ErrorCategory::kNotFound,
       "alphavantage does not know symbol IBM (Invalid API call"},
      {"note_rate_limit_5_per_minute_legacy.json", ErrorCategory::kRateLimited, "pause for 60 s"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.file);
    server_.add_routes(std::make_unique<ErrorBodyRoutes>(c.file));
    gate_->pauses.clear();
    const int64_t before = unix_ms();
    const std::string msg = fault(VendorFault::kVendorError, c.category);
    EXPECT_THAT(msg, HasSubstr(c.says));
    if (std::string(c.file).find("per_day") != std::string::npos) {
      ASSERT_EQ(gate_->pauses.size(), 1u);
      const int64_t midnight = (before / 86'400'000 + 1) * 86'400'000;
      EXPECT_GE(gate_->pauses[0].second, midnight);
      EXPECT_LE(gate_->pauses[0].second, midnight + 86'400'000);
      EXPECT_EQ(gate_->pauses[0].second % 86'400'000, 0);
    } else if (c.category != ErrorCategory::kRateLimited) {
      EXPECT_TRUE(gate_->pauses.empty());
    }
  }
}

TEST_F(AlphaVantageFetch, TheKeyIsNeverWrittenAnywhere) {
  FetchRequest request = daily("MSFT", "2018-04-01", "2018-05-31");
  request.timeframe = Timeframe::kMinute1;
  const FetchResult r = provider()->fetch(request);
  EXPECT_THAT(r.request.dump(), Not(HasSubstr(MockVendorServer::kApiKey)));
  EXPECT_THAT(r.content_type, Not(HasSubstr(MockVendorServer::kApiKey)));
  EXPECT_THAT(r.bytes, Not(HasSubstr(MockVendorServer::kApiKey)));
  for (VendorFault f : {VendorFault::k500, VendorFault::k503, VendorFault::kHtml, VendorFault::kVendorError,
                        VendorFault::kUnknownSymbol, VendorFault::kEmpty, VendorFault::kTruncated}) {
    InjectedFault injected;
    injected.fault = f;
    server_.inject("alphavantage", injected);
    try {
      provider()->fetch(daily("IBM", "2020-05-07", "2020-05-08"));
      ADD_FAILURE() << "fault " << static_cast<int>(f) << " did not fail the fetch";
    } catch (const Error& e) {
      EXPECT_THAT(std::string(e.what()), Not(HasSubstr(MockVendorServer::kApiKey)));
    }
  }
}

}  // namespace
}  // namespace trib::providers

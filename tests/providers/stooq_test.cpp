// The stooq adapter: the recorded SPY download parsed with values read off the file and SOURCE.md,
// hand-made rows that cannot be bars, fetch through the mock vendor server (request shape, symbol
// mapping, the adjusted flag), one test per fault and Stooq's plain-text non-answers.
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

ParseResult parse_text(std::string_view text, std::string_view symbol = "SPY") {
  ParseContext context;
  context.symbol = Symbol::parse(symbol);
  return make_provider("stooq")->parse(text, context);
}

void expect_ohlcv(const Bar& b, double o, double h, double l, double c, double v) {
  EXPECT_DOUBLE_EQ(b.open, o);
  EXPECT_DOUBLE_EQ(b.high, h);
  EXPECT_DOUBLE_EQ(b.low, l);
  EXPECT_DOUBLE_EQ(b.close, c);
  EXPECT_DOUBLE_EQ(b.volume, v);
}

// --- the recorded download ------------------------------------------------------------------------

TEST(StooqParse, SpyDailyDownload) {
  const ParseResult r = parse_text(testing::read_vendor_sample("stooq/spy_us_daily.csv"));
  EXPECT_TRUE(r.findings.empty());
  EXPECT_TRUE(r.actions.empty());  // adjusted back-series: no actions in the file
  const auto& bars = r.bars.at(Symbol::parse("SPY"));
  ASSERT_EQ(bars.size(), 2000u);  // SOURCE.md: header + 2,000 rows, 2018-02-26 .. 2026-02-09
  EXPECT_EQ(bars.front().session_date, Date::parse("2018-02-26"));
  EXPECT_EQ(format_ts_ns(bars.front().ts_ns), "2018-02-26T14:30:00Z");  // 09:30 EST
  // "2018-02-26,245.63,247.46,245.018,247.373,96911825": SOURCE.md's adjusted close 247.373.
  expect_ohlcv(bars.front(), 245.63, 247.46, 245.018, 247.373, 96911825);
  EXPECT_EQ(bars.back().session_date, Date::parse("2026-02-09"));
  expect_ohlcv(bars.back(), 689.42, 695.66, 688.34, 695.16, 34459507);
  EXPECT_EQ(bars[1].session_date, Date::parse("2018-02-27"));
  expect_ohlcv(bars[1], 247.555, 248.292, 244.214, 244.281, 111326455);
  for (size_t i = 1; i < bars.size(); ++i) ASSERT_LT(bars[i - 1].session_date, bars[i].session_date);
}

// --- hand-made payloads ---------------------------------------------------------------------------

TEST(StooqParse, EveryUnusableRowIsAFinding) {
  const ParseResult r = parse_text(
      "Date,Open,High,Low,Close,Volume\r\n"
      "2020-01-02,1,2,0.5,1.5,100\r\n"
      "2020-01-03,1,2,0.5\r\n"
      "20200106,1,2,0.5,1.5,100\r\n"
      "4026-01-02,1,2,0.5,1.5,100\r\n"
      "2020-01-07,1,2,,1.5,100\r\n"
      "2020-01-08,1,x,0.5,1.5,100\r\n"
      "\r\n");
  ASSERT_EQ(r.bars.at(Symbol::parse("SPY")).size(), 1u);
  std::vector<std::pair<int64_t, std::string>> got;
  for (const auto& f : r.findings) got.emplace_back(f.line, f.rule);
  EXPECT_EQ(got, (std::vector<std::pair<int64_t, std::string>>{
                     {3, "malformed_row"}, {4, "bad_date"}, {5, "bad_date"}, {6, "null_value"}, {7, "bad_number"}}));
  EXPECT_EQ(r.findings[0].raw_text, "2020-01-03,1,2,0.5");
  EXPECT_THAT(r.findings[4].reason, HasSubstr("High"));
  EXPECT_THAT(r.findings[4].reason, HasSubstr("'x'"));
}

TEST(StooqParse, IndexWithoutVolumeColumn) {
  const ParseResult r = parse_text("Date,Open,High,Low,Close\n2020-01-02,3244.67,3258.14,3235.53,3257.85\n", "^SPX");
  ASSERT_EQ(r.bars.at(Symbol::parse("^SPX")).size(), 1u);
  expect_ohlcv(r.bars.at(Symbol::parse("^SPX"))[0], 3244.67, 3258.14, 3235.53, 3257.85, 0);
}

TEST(StooqParse, NoDataAndOtherNonCsvAreDataLoss) {
  for (const std::string text : {"No data", "", "Exceeded the daily hits limit", "<html>x</html>", "Date;Open\n"}) {
    SCOPED_TRACE(text);
    expect_error([&] { parse_text(text); }, ErrorCategory::kDataLoss);
  }
  ParseContext minute;
  minute.symbol = Symbol::parse("SPY");
  minute.timeframe = Timeframe::kMinute1;
  expect_error([&] { make_provider("stooq")->parse("Date,Open,High,Low,Close\n", minute); }, ErrorCategory::kDataLoss);
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

class StooqFetch : public ::testing::Test {
 protected:
  void SetUp() override {
    ::unsetenv("STOOQ_API_KEY");
    server_.start();
    gate_ = std::make_shared<RecordingGate>();
  }
  void TearDown() override {
    ::unsetenv("STOOQ_API_KEY");
    server_.stop();
  }

  std::unique_ptr<Provider> provider(ProviderOptions extra = {}) {
    extra["base_url"] = server_.base_url("stooq");
    return make_provider("stooq", extra, gate_);
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
    server_.inject("stooq", injected);
    return expect_error([&] { provider(options)->fetch(daily("SPY", "2018-02-26", "2018-03-02")); }, category);
  }

  MockVendorServer server_;
  std::shared_ptr<RecordingGate> gate_;
};

TEST_F(StooqFetch, SpyWindowFromTheRecording) {
  const FetchResult r = provider()->fetch(daily("SPY", "2018-02-26", "2018-02-28"));
  const auto seen = server_.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].path, "/q/d/l/");
  EXPECT_EQ(seen[0].param("s"), "spy.us");
  EXPECT_EQ(seen[0].param("i"), "d");
  EXPECT_EQ(seen[0].param("d1"), "20180226");
  EXPECT_EQ(seen[0].param("d2"), "20180228");
  EXPECT_FALSE(seen[0].has_param("apikey"));
  EXPECT_EQ(seen[0].header("authorization"), "");
  // The recorded lines, CRLF and all.
  EXPECT_EQ(r.bytes,
            "Date,Open,High,Low,Close,Volume\r\n"
            "2018-02-26,245.63,247.46,245.018,247.373,96911825\r\n"
            "2018-02-27,247.555,248.292,244.214,244.281,111326455\r\n"
            "2018-02-28,245.393,245.869,241.507,241.822,136949282\r\n");
  EXPECT_EQ(r.ext, "csv");
  EXPECT_EQ(r.request["path"], "/q/d/l/");
  EXPECT_EQ(r.request["params"]["s"], "spy.us");
  EXPECT_EQ(r.request["adjusted"], true);  // Stooq's prices are adjusted back-series
  EXPECT_EQ(r.request["auth"], "none");
  const ParseResult parsed = provider()->parse(r.bytes, ParseContext{Symbol::parse("SPY")});
  ASSERT_EQ(parsed.bars.at(Symbol::parse("SPY")).size(), 3u);
  EXPECT_DOUBLE_EQ(parsed.bars.at(Symbol::parse("SPY"))[0].close, 247.373);
}

TEST_F(StooqFetch, SymbolMapping) {
  struct Case {
    const char* symbol;
    ProviderOptions options;
    const char* s;
  };
  const Case cases[] = {{"AAPL", {}, "aapl.us"},
                        {"BRK.B", {}, "brk-b.us"},
                        {"^SPX", {}, "^spx"},
                        {"EUR/USD", {}, "eurusd"},
                        {"VOD", {{"stooq_symbol", "VOD.UK"}}, "vod.uk"}};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.symbol);
    server_.reset_log();
    const FetchResult r = provider(c.options)->fetch(daily(c.symbol, "2021-03-01", "2021-03-05"));
    EXPECT_EQ(server_.requests().at(0).param("s"), c.s);
    const ParseResult parsed = provider()->parse(r.bytes, ParseContext{Symbol::parse(c.symbol)});
    EXPECT_TRUE(parsed.findings.empty());
    EXPECT_EQ(parsed.bars.at(Symbol::parse(c.symbol)).size(), 5u);
  }
}

TEST_F(StooqFetch, SyntheticBarsInStooqsFormat) {
  const FetchResult r = provider()->fetch(daily("MSFT", "2021-01-01", "2021-12-31"));
  EXPECT_TRUE(r.bytes.starts_with("Date,Open,High,Low,Close,Volume\r\n"));
  const ParseResult parsed = provider()->parse(r.bytes, ParseContext{Symbol::parse("MSFT")});
  const auto& bars = parsed.bars.at(Symbol::parse("MSFT"));
  const auto expected = testing::synthetic_daily_bars("MSFT", Date::parse("2021-01-01"), Date::parse("2021-12-31"));
  ASSERT_EQ(bars.size(), expected.size());
  ASSERT_EQ(bars.size(), 252u);
  for (size_t i = 0; i < bars.size(); ++i) {
    EXPECT_EQ(bars[i].session_date, expected[i].date);
    EXPECT_NEAR(bars[i].close, expected[i].close, 5e-4);
  }
}

TEST_F(StooqFetch, OptionalKeyIsSentButNeverRecorded) {
  ::setenv("STOOQ_API_KEY", MockVendorServer::kApiKey, 1);
  const FetchResult r = provider()->fetch(daily("SPY", "2018-02-26", "2018-02-28"));
  EXPECT_EQ(server_.requests().at(0).param("apikey"), MockVendorServer::kApiKey);
  EXPECT_THAT(r.request.dump(), Not(HasSubstr(MockVendorServer::kApiKey)));
  server_.add_unknown_symbol("NOPE");
  const std::string msg =
      expect_error([&] { provider()->fetch(daily("NOPE", "2020-01-02", "2020-01-31")); }, ErrorCategory::kNotFound);
  EXPECT_THAT(msg, Not(HasSubstr(MockVendorServer::kApiKey)));
}

TEST_F(StooqFetch, RefusesWhatStooqDoesNotServe) {
  FetchRequest request = daily("SPY", "2020-01-02", "2020-01-03");
  request.timeframe = Timeframe::kMinute1;
  expect_error([&] { provider()->fetch(request); }, ErrorCategory::kInvalidInput);
  request = daily("SPY", "2020-01-03", "2020-01-02");
  expect_error([&] { provider()->fetch(request); }, ErrorCategory::kInvalidInput);
  EXPECT_EQ(server_.request_count("stooq"), 0);
}

// --- faults ---------------------------------------------------------------------------------------

TEST_F(StooqFetch, Fault429IsWaitedOutNotAnError) {
  InjectedFault f;
  f.fault = VendorFault::k429;
  f.retry_after_s = 1;
  server_.inject("stooq", f);
  const auto t0 = std::chrono::steady_clock::now();
  const FetchResult r = provider()->fetch(daily("SPY", "2018-02-26", "2018-02-28"));
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(900));
  EXPECT_THAT(r.bytes, HasSubstr("2018-02-26,245.63"));
  EXPECT_EQ(server_.request_count("stooq"), 2);
  EXPECT_EQ(gate_->pauses.size(), 1u);
  EXPECT_EQ(gate_->acquired, 2);
}

TEST_F(StooqFetch, Fault500IsRetryable) { fault(VendorFault::k500, ErrorCategory::kRetryable); }

TEST_F(StooqFetch, Fault503IsRetryable) { fault(VendorFault::k503, ErrorCategory::kRetryable); }

TEST_F(StooqFetch, FaultSlowTimesOutRetryable) {
  fault(VendorFault::kSlow, ErrorCategory::kRetryable, {{"timeout_ms", "500"}}, 1500);
}

TEST_F(StooqFetch, FaultTruncatedIsRetryable) { fault(VendorFault::kTruncated, ErrorCategory::kRetryable); }

TEST_F(StooqFetch, FaultEmptyIsRetryable) {
  EXPECT_THAT(fault(VendorFault::kEmpty, ErrorCategory::kRetryable), HasSubstr("empty body"));
}

TEST_F(StooqFetch, FaultHtmlIsRetryableWithAnExcerptOnly) {
  const std::string msg = fault(VendorFault::kHtml, ErrorCategory::kRetryable);
  EXPECT_THAT(msg, HasSubstr("HTML"));
  EXPECT_THAT(msg, Not(HasSubstr("cloudfront")));
  EXPECT_LT(msg.size(), 400u);
}

TEST_F(StooqFetch, FaultVendorErrorIsTheDailyHitsLimit) {
  const int64_t before = unix_ms();
  const std::string msg = fault(VendorFault::kVendorError, ErrorCategory::kRateLimited);
  EXPECT_THAT(msg, HasSubstr("Exceeded the daily hits limit"));
  ASSERT_EQ(gate_->pauses.size(), 1u);
  EXPECT_EQ(gate_->pauses[0].first, "stooq");
  EXPECT_EQ(gate_->pauses[0].second, (before / 86'400'000 + 1) * 86'400'000);  // next 00:00 UTC
}

TEST_F(StooqFetch, FaultUnknownSymbolIsNotFound) {
  EXPECT_THAT(fault(VendorFault::kUnknownSymbol, ErrorCategory::kNotFound), HasSubstr("stooq does not know symbol SPY"));
  server_.add_unknown_symbol("NOPE");
  const std::string msg =
      expect_error([&] { provider()->fetch(daily("NOPE", "2020-01-02", "2020-01-31")); }, ErrorCategory::kNotFound);
  EXPECT_THAT(msg, HasSubstr("stooq does not know symbol NOPE"));
  EXPECT_THAT(msg, HasSubstr("No data"));
}

}  // namespace
}  // namespace trib::providers

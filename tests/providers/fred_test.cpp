// The fred adapter: the recorded observation payloads parsed with values read off the files by
// hand, fetch through the mock vendor server (request shape, api_key, offset paging, faults), and
// the key kept out of everything the fetch leaves behind.
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <vector>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

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

ParseResult parse_payload(std::string_view payload, std::string_view series) {
  ParseContext context;
  context.symbol = Symbol::parse(series);
  return make_provider("fred")->parse(payload, context);
}

std::string sample(const std::string& name) { return testing::read_vendor_sample("fred/bodies/" + name); }

const Observation* find_obs(const std::vector<Observation>& obs, std::string_view date) {
  for (const auto& o : obs) {
    if (o.date == Date::parse(date)) return &o;
  }
  return nullptr;
}

// --- recorded payloads ---------------------------------------------------------------------------

TEST(FredParse, DffIsDailyWithWeekends) {
  const ParseResult r = parse_payload(sample("series_observations__DFF.json"), "DFF");
  EXPECT_TRUE(r.findings.empty());
  EXPECT_TRUE(r.bars.empty());
  const auto& obs = r.series.at("DFF");
  ASSERT_EQ(obs.size(), 157u);  // "count":157
  EXPECT_EQ(obs.front().date, Date::parse("2023-01-01"));  // a Sunday and a holiday
  EXPECT_EQ(obs.front().value, 4.33);
  EXPECT_EQ(obs.back().date, Date::parse("2023-06-06"));
  EXPECT_EQ(obs.back().value, 5.08);
  // Every calendar day, weekends included: the series' own calendar.
  for (size_t i = 1; i < obs.size(); ++i) ASSERT_EQ(obs[i].date - obs[i - 1].date, 1) << obs[i].date.to_string();
  // Values read off the file.
  EXPECT_EQ(find_obs(obs, "2023-01-07")->value, 4.33);  // Saturday
  EXPECT_EQ(find_obs(obs, "2023-02-01")->value, 4.33);
  EXPECT_EQ(find_obs(obs, "2023-02-02")->value, 4.58);
  EXPECT_EQ(find_obs(obs, "2023-02-09")->value, 4.57);
  EXPECT_EQ(find_obs(obs, "2023-03-22")->value, 4.58);
  EXPECT_EQ(find_obs(obs, "2023-03-23")->value, 4.83);
  EXPECT_EQ(find_obs(obs, "2023-05-03")->value, 4.83);
  EXPECT_EQ(find_obs(obs, "2023-05-04")->value, 5.08);
}

TEST(FredParse, HqmMonthly) {
  const ParseResult r = parse_payload(sample("series_observations__HQMCB10YR.json"), "HQMCB10YR");
  EXPECT_TRUE(r.findings.empty());
  const auto& obs = r.series.at("HQMCB10YR");
  const std::vector<std::pair<std::string, double>> expected = {
      {"2023-01-01", 4.98}, {"2023-02-01", 5.13}, {"2023-03-01", 5.18},
      {"2023-04-01", 4.92}, {"2023-05-01", 5.09}, {"2023-06-01", 5.22}};
  ASSERT_EQ(obs.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(obs[i].date, Date::parse(expected[i].first));
    EXPECT_EQ(obs[i].value, expected[i].second);
  }
}

TEST(FredParse, MissingMarkerIsAMissingValueAndOtherTextAFinding) {
  const std::string payload = R"({"count":7,"offset":0,"limit":100000,"observations":[
    {"date":"2023-01-02","value":"."},
    {"date":"2023-01-03","value":"4.33"},
    {"date":"2023-01-04","value":"n/a"},
    {"date":"2023-13-01","value":"4.30"},
    {"date":"2023-01-03","value":"4.40"},
    "garbage",
    {"date":"4026-01-01","value":"1"},
    {"date":"2023-01-05"}]})";
  const ParseResult r = parse_payload(payload, "DFF");
  const auto& obs = r.series.at("DFF");
  ASSERT_EQ(obs.size(), 2u);
  EXPECT_EQ(obs[0].date, Date::parse("2023-01-02"));
  EXPECT_FALSE(obs[0].value.has_value());
  EXPECT_EQ(obs[1].value, 4.33);
  ASSERT_EQ(r.findings.size(), 6u);
  const std::vector<std::pair<int64_t, std::string>> expected = {
      {3, "bad_number"}, {4, "bad_date"}, {5, "duplicate_date"}, {6, "malformed_row"}, {7, "bad_date"},
      {8, "missing_value"}};
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(r.findings[i].line, expected[i].first) << i;
    EXPECT_EQ(r.findings[i].rule, expected[i].second) << i;
    EXPECT_FALSE(r.findings[i].raw_text.empty());
  }
  EXPECT_THAT(r.findings[0].reason, HasSubstr("\"n/a\""));
  EXPECT_THAT(r.findings[1].reason, HasSubstr("2023-13-01"));
}

TEST(FredParse, PagesBackToBack) {
  const std::string page1 =
      R"({"count":3,"offset":0,"limit":2,"observations":[{"date":"2023-01-01","value":"4.33"},{"date":"2023-01-02","value":"4.34"}]})";
  const std::string page2 = R"({"count":3,"offset":2,"limit":2,"observations":[{"date":"2023-01-03","value":"4.35"}]})";
  const ParseResult r = parse_payload(page1 + "\n" + page2, "DFF");
  const auto& obs = r.series.at("DFF");
  ASSERT_EQ(obs.size(), 3u);
  EXPECT_EQ(obs[2].date, Date::parse("2023-01-03"));
  EXPECT_EQ(obs[2].value, 4.35);
}

TEST(FredParse, UnreadablePayloadsAreDataLoss) {
  for (const std::string& bad :
       {std::string(""), std::string("not json"), std::string(R"({"observations":[{"date":"2023-01-01")"),
        std::string(R"({"count":1})"), std::string("[1,2]"),
        std::string(R"({"error_code":400,"error_message":"Bad Request.  The series does not exist."})"),
        std::string(R"({"count":0,"observations":[]} {"observations":5})")}) {
    SCOPED_TRACE(bad);
    expect_error([&] { parse_payload(bad, "DFF"); }, ErrorCategory::kDataLoss);
  }
  expect_error([] { make_provider("fred")->parse(R"({"observations":[]})", ParseContext{}); },
               ErrorCategory::kInvalidInput);
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

class FredFetch : public ::testing::Test {
 protected:
  void SetUp() override {
    server.start();
    ::setenv("FRED_API_KEY", MockVendorServer::kApiKey, 1);
  }
  void TearDown() override { ::unsetenv("FRED_API_KEY"); }

  std::unique_ptr<Provider> provider(ProviderOptions options = {}, std::shared_ptr<RequestGate> g = nullptr) {
    options["base_url"] = server.base_url("fred");
    return make_provider("fred", options, std::move(g));
  }

  static FetchRequest request(std::string_view series, std::string_view from, std::string_view to) {
    FetchRequest r;
    r.dataset = "rates";
    r.symbol = Symbol::parse(series);
    r.from = Date::parse(from);
    r.to = Date::parse(to);
    return r;
  }

  FetchResult fetch(std::string_view series = "DFF", std::string_view from = "2023-01-01",
                    std::string_view to = "2023-06-06", ProviderOptions options = {},
                    std::shared_ptr<RequestGate> g = nullptr) {
    return provider(std::move(options), std::move(g))->fetch(request(series, from, to));
  }

  // Runs a fetch expected to fail; checks the key is nowhere in the message.
  std::string fetch_error(ErrorCategory category, ProviderOptions options = {}) {
    const std::string message = expect_error([&] { fetch("DFF", "2023-01-01", "2023-06-06", options); }, category);
    EXPECT_THAT(message, Not(HasSubstr(MockVendorServer::kApiKey)));
    return message;
  }

  MockVendorServer server;
};

TEST_F(FredFetch, AsksForTheSeriesWithTheKeyInTheQuery) {
  const FetchResult f = fetch();
  const auto log = server.requests();
  ASSERT_EQ(log.size(), 1u);
  const auto& seen = log[0];
  EXPECT_EQ(seen.vendor, "fred");
  EXPECT_EQ(seen.path, "/fred/series/observations");
  EXPECT_EQ(seen.param("series_id"), "DFF");
  EXPECT_EQ(seen.param("observation_start"), "2023-01-01");
  EXPECT_EQ(seen.param("observation_end"), "2023-06-06");
  EXPECT_EQ(seen.param("file_type"), "json");
  EXPECT_EQ(seen.param("limit"), "100000");
  EXPECT_EQ(seen.param("offset"), "0");
  EXPECT_EQ(seen.param("api_key"), MockVendorServer::kApiKey);
  EXPECT_EQ(seen.header("authorization"), "");
  // The recorded body, byte for byte.
  EXPECT_EQ(f.bytes, sample("series_observations__DFF.json"));
  EXPECT_EQ(f.ext, "json");
  EXPECT_EQ(f.content_type, "application/json");
  EXPECT_EQ(f.request["vendor"], "fred");
  EXPECT_EQ(f.request["path"], "/fred/series/observations");
  EXPECT_EQ(f.request["params"]["series_id"], "DFF");
  EXPECT_EQ(f.request["params"]["limit"], "100000");
  EXPECT_EQ(f.request["pages"].size(), 1u);
  EXPECT_EQ(f.request["pages"][0]["observations"], 157);
  // The key is nowhere in what the fetch leaves behind.
  EXPECT_THAT(f.request.dump(), Not(HasSubstr(MockVendorServer::kApiKey)));
  EXPECT_THAT(f.request.dump(), Not(HasSubstr("api_key")));
  EXPECT_THAT(f.bytes, Not(HasSubstr(MockVendorServer::kApiKey)));
  EXPECT_THAT(f.content_type + f.ext, Not(HasSubstr(MockVendorServer::kApiKey)));
  ParseContext context;
  context.symbol = Symbol::parse("DFF");
  EXPECT_EQ(make_provider("fred")->parse(f.bytes, context).series.at("DFF").size(), 157u);
}

TEST_F(FredFetch, FollowsOffsetPagesUntilCount) {
  const FetchResult f = fetch("DFF", "2023-01-01", "2023-06-06", {{"page_limit", "50"}});
  const auto log = server.requests();
  ASSERT_EQ(log.size(), 4u);  // 157 = 50 + 50 + 50 + 7
  for (size_t i = 0; i < log.size(); ++i) {
    EXPECT_EQ(log[i].param("limit"), "50");
    EXPECT_EQ(log[i].param("offset"), std::to_string(50 * i));
    EXPECT_EQ(log[i].param("api_key"), MockVendorServer::kApiKey);
  }
  ASSERT_EQ(f.request["pages"].size(), 4u);
  EXPECT_EQ(f.request["pages"][3]["offset"], 150);
  EXPECT_EQ(f.request["pages"][3]["observations"], 7);
  EXPECT_EQ(std::count(f.bytes.begin(), f.bytes.end(), '\n'), 3);
  const ParseResult paged = parse_payload(f.bytes, "DFF");
  const ParseResult whole = parse_payload(sample("series_observations__DFF.json"), "DFF");
  EXPECT_TRUE(paged.findings.empty());
  EXPECT_EQ(paged.series.at("DFF"), whole.series.at("DFF"));
}

TEST_F(FredFetch, SubWindowOfARecordingKeepsTheWeekend) {
  const FetchResult f = fetch("DFF", "2023-01-06", "2023-01-09");
  const ParseResult r = parse_payload(f.bytes, "DFF");
  const auto& obs = r.series.at("DFF");
  ASSERT_EQ(obs.size(), 4u);  // Friday, Saturday, Sunday, Monday
  EXPECT_EQ(obs[1].date, Date::parse("2023-01-07"));
  for (const auto& o : obs) EXPECT_EQ(o.value, 4.33);
}

TEST_F(FredFetch, SyntheticSeriesOutsideTheRecordings) {
  const FetchResult f = fetch("SIMRATE", "2024-01-01", "2024-01-31");
  EXPECT_EQ(server.requests().back().param("series_id"), "SIMRATE");
  const ParseResult r = parse_payload(f.bytes, "SIMRATE");
  const auto& obs = r.series.at("SIMRATE");
  ASSERT_EQ(obs.size(), 21u);
  EXPECT_EQ(obs.front().date, Date::parse("2024-01-02"));
  ASSERT_TRUE(obs.front().value.has_value());
}

TEST_F(FredFetch, SeriesIdFromParams) {
  FetchRequest r = request("DFF", "2023-01-01", "2023-06-06");
  r.params["series_id"] = "HQMCB10YR";
  const FetchResult f = provider()->fetch(r);
  EXPECT_EQ(server.requests().back().param("series_id"), "HQMCB10YR");
  EXPECT_EQ(f.bytes, sample("series_observations__HQMCB10YR.json"));
  r.params["series_id"] = "DFF&api_key=x";
  expect_error([&] { provider()->fetch(r); }, ErrorCategory::kInvalidInput);
}

TEST_F(FredFetch, MockServesSeriesMetadata) {
  auto client = net::make_curl_client();
  net::HttpRequest direct;
  direct.url = server.base_url("fred") + "/fred/series?series_id=DFF&file_type=json&api_key=" +
               MockVendorServer::kApiKey;
  const auto response = client->send(direct);
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, sample("series__DFF.json"));
  direct.url = server.base_url("fred") + "/fred/series?series_id=DFF&file_type=json";
  EXPECT_EQ(client->send(direct).status, 400);
}

TEST_F(FredFetch, RefusesBarsAndBackwardWindows) {
  FetchRequest r = request("DFF", "2023-01-01", "2023-06-06");
  r.dataset = "bars";
  expect_error([&] { provider()->fetch(r); }, ErrorCategory::kInvalidInput);
  expect_error([&] { fetch("DFF", "2023-06-06", "2023-01-01"); }, ErrorCategory::kInvalidInput);
  EXPECT_EQ(server.request_count("fred"), 0);
}

// --- the key ------------------------------------------------------------------------------------

TEST_F(FredFetch, MissingKeyIsPermanentNamingTheVariable) {
  ::unsetenv("FRED_API_KEY");
  EXPECT_THAT(fetch_error(ErrorCategory::kPermanent), HasSubstr("FRED_API_KEY"));
  EXPECT_EQ(server.request_count("fred"), 0);
}

TEST_F(FredFetch, KeyFredDoesNotKnowIsPermanent) {
  ::setenv("FRED_API_KEY", "not-a-registered-key-42", 1);
  const std::string message = fetch_error(ErrorCategory::kPermanent);
  EXPECT_THAT(message, HasSubstr("FRED_API_KEY"));
  EXPECT_THAT(message, HasSubstr("not registered"));
  EXPECT_THAT(message, Not(HasSubstr("not-a-registered-key-42")));
}

// --- faults -------------------------------------------------------------------------------------

TEST_F(FredFetch, RateLimitIsWaitedOutAsAsked) {
  auto gate = std::make_shared<CountingGate>();
  server.inject("fred", {VendorFault::k429, 1, /*retry_after_s=*/1});
  const auto start = std::chrono::steady_clock::now();
  const FetchResult f = fetch("DFF", "2023-01-01", "2023-06-06", {}, gate);
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(950));
  EXPECT_EQ(server.request_count("fred"), 2);
  EXPECT_EQ(gate->acquired.load(), 2);
  ASSERT_EQ(gate->pauses.size(), 1u);
  EXPECT_EQ(gate->pauses[0].first, "fred");
  EXPECT_EQ(f.bytes, sample("series_observations__DFF.json"));
}

TEST_F(FredFetch, ServerErrorsAreRetryable) {
  for (VendorFault fault : {VendorFault::k500, VendorFault::k503}) {
    server.inject("fred", {fault});
    fetch_error(ErrorCategory::kRetryable);
  }
}

TEST_F(FredFetch, SlowAnswerTimesOutRetryable) {
  server.inject("fred", {VendorFault::kSlow, 1, 1, /*delay_ms=*/2000});
  fetch_error(ErrorCategory::kRetryable, {{"timeout_ms", "500"}});
}

TEST_F(FredFetch, TruncatedBodyIsRetryable) {
  server.inject("fred", {VendorFault::kTruncated});
  fetch_error(ErrorCategory::kRetryable);
}

TEST_F(FredFetch, TruncatedSecondPageIsRetryable) {
  server.inject("fred", {VendorFault::kNone});  // the first page as usual
  server.inject("fred", {VendorFault::kTruncated});
  expect_error([&] { fetch("DFF", "2023-01-01", "2023-06-06", {{"page_limit", "100"}}); }, ErrorCategory::kRetryable);
  EXPECT_EQ(server.request_count("fred"), 2);
}

TEST_F(FredFetch, EmptyBodyIsRetryable) {
  server.inject("fred", {VendorFault::kEmpty});
  EXPECT_THAT(fetch_error(ErrorCategory::kRetryable), HasSubstr("empty body"));
}

TEST_F(FredFetch, HtmlPageIsRetryableAndOnlyExcerpted) {
  server.inject("fred", {VendorFault::kHtml});
  const std::string message = fetch_error(ErrorCategory::kRetryable);
  EXPECT_THAT(message, HasSubstr("HTML"));
  EXPECT_THAT(message, Not(HasSubstr("cloudfront")));
}

TEST_F(FredFetch, VendorErrorBodyIsInvalidInput) {
  server.inject("fred", {VendorFault::kVendorError});
  EXPECT_THAT(fetch_error(ErrorCategory::kInvalidInput), HasSubstr("Bad Request"));
}

TEST_F(FredFetch, UnknownSeriesIsNotFound) {
  server.inject("fred", {VendorFault::kUnknownSymbol});
  EXPECT_THAT(fetch_error(ErrorCategory::kNotFound), HasSubstr("fred does not know symbol DFF"));
  server.add_unknown_symbol("NOSUCHSERIES");
  const std::string message =
      expect_error([&] { fetch("NOSUCHSERIES", "2023-01-01", "2023-01-31"); }, ErrorCategory::kNotFound);
  EXPECT_THAT(message, HasSubstr("fred does not know symbol NOSUCHSERIES"));
  EXPECT_THAT(message, HasSubstr("The series does not exist"));
}

}  // namespace
}  // namespace trib::providers

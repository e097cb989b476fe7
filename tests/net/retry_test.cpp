#include "trib/net/retry.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <deque>
#include <set>
#include <variant>

#include "trib/core/error.hpp"
#include "trib/net/http_date.hpp"

namespace trib::net {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

// Plays back a script of responses and transport errors, one per send().
class ScriptedClient : public HttpClient {
 public:
  using Step = std::variant<HttpResponse, Error>;
  explicit ScriptedClient(std::vector<Step> steps) : steps_(steps.begin(), steps.end()) {}

  HttpResponse send(const HttpRequest& request) override {
    ++calls;
    if (steps_.empty()) throw Error::Internal("script ran out");
    Step step = std::move(steps_.front());
    steps_.pop_front();
    if (auto* error = std::get_if<Error>(&step)) throw *error;
    return std::get<HttpResponse>(std::move(step));
  }

  int calls = 0;

 private:
  std::deque<Step> steps_;
};

class RecordingSleeper : public Sleeper {
 public:
  void sleep_ms(int64_t ms) override { delays.push_back(ms); }
  int64_t now_unix_ms() override { return now_ms; }

  std::vector<int64_t> delays;
  int64_t now_ms = 1'700'000'000'000;
};

HttpResponse status(int code, std::string body = "", HeaderList headers = {}) {
  HttpResponse response;
  response.status = code;
  response.headers = std::move(headers);
  response.body = std::move(body);
  return response;
}

// g++ 12 warns (-Wmissing-field-initializers) on designated initializers that omit members, so
// policies are built by editing the defaults.
template <typename Edit>
RetryPolicy policy(Edit edit) {
  RetryPolicy p;
  edit(p);
  return p;
}
RetryPolicy defaults() { return RetryPolicy{}; }
RetryPolicy attempts(int n) {
  return policy([&](RetryPolicy& p) { p.max_attempts = n; });
}
RetryPolicy jitter(Jitter j) {
  return policy([&](RetryPolicy& p) { p.jitter = j; });
}

HttpRequest make_request() {
  HttpRequest request;
  request.url = "https://api.example.com/v1/bars?apikey=KEY123456";
  return request;
}
const HttpRequest kRequest = make_request();

TEST(Classify, StatusTable) {
  EXPECT_EQ(classify_status(200), std::nullopt);
  EXPECT_EQ(classify_status(204), std::nullopt);
  for (int s : {408, 425, 500, 502, 503, 504}) {
    EXPECT_EQ(classify_status(s), ErrorCategory::kRetryable) << s;
  }
  EXPECT_EQ(classify_status(429), ErrorCategory::kRateLimited);
  EXPECT_EQ(classify_status(400), ErrorCategory::kInvalidInput);
  EXPECT_EQ(classify_status(422), ErrorCategory::kInvalidInput);
  EXPECT_EQ(classify_status(401), ErrorCategory::kPermanent);
  EXPECT_EQ(classify_status(403), ErrorCategory::kPermanent);
  EXPECT_EQ(classify_status(404), ErrorCategory::kNotFound);
  EXPECT_EQ(classify_status(409), ErrorCategory::kConflict);
  EXPECT_EQ(classify_status(412), ErrorCategory::kConflict);
  EXPECT_EQ(classify_status(501), ErrorCategory::kPermanent);
  EXPECT_EQ(classify_status(301), ErrorCategory::kPermanent);
  EXPECT_EQ(classify_status(418), ErrorCategory::kPermanent);
  EXPECT_EQ(classify(status(503)), ErrorCategory::kRetryable);
}

TEST(RetryAfter, SecondsAndHttpDate) {
  const int64_t now_ms = 1'700'000'000'000;
  EXPECT_EQ(retry_after_ms(status(429, "", {{"Retry-After", "2"}}), now_ms), 2000);
  EXPECT_EQ(retry_after_ms(status(429, "", {{"retry-after", " 0 "}}), now_ms), 0);
  EXPECT_EQ(retry_after_ms(status(429, "", {{"Retry-After", "99999999999999"}}), now_ms),
            86'400'000);
  const std::string in_7s = format_http_date(now_ms / 1000 + 7);
  EXPECT_EQ(retry_after_ms(status(429, "", {{"Retry-After", in_7s}}), now_ms), 7000);
  const std::string past = format_http_date(now_ms / 1000 - 60);
  EXPECT_EQ(retry_after_ms(status(503, "", {{"Retry-After", past}}), now_ms), 0);
  EXPECT_EQ(retry_after_ms(status(429, "", {{"Retry-After", "soon"}}), now_ms), std::nullopt);
  EXPECT_EQ(retry_after_ms(status(429, "", {{"Retry-After", "-3"}}), now_ms), std::nullopt);
  EXPECT_EQ(retry_after_ms(status(429), now_ms), std::nullopt);
}

TEST(Backoff, ExponentialAndCappedWithoutJitter) {
  const RetryPolicy capped = policy([](RetryPolicy& p) {
    p.base_delay_ms = 250;
    p.max_delay_ms = 3000;
    p.jitter = Jitter::kNone;
  });
  std::mt19937_64 rng(1);
  std::vector<int64_t> delays;
  for (int retry = 1; retry <= 7; ++retry) delays.push_back(backoff_delay_ms(capped, retry, rng));
  EXPECT_THAT(delays, ElementsAre(250, 500, 1000, 2000, 3000, 3000, 3000));
  // Huge retry numbers must not overflow.
  EXPECT_EQ(backoff_delay_ms(capped, 1000, rng), 3000);
}

TEST(Backoff, JitterStaysInsideItsBounds) {
  std::mt19937_64 rng(42);
  for (int retry = 1; retry <= 10; ++retry) {
    const int64_t cap = std::min<int64_t>(30'000, int64_t{250} << (retry - 1));
    for (int i = 0; i < 200; ++i) {
      const int64_t full = backoff_delay_ms(jitter(Jitter::kFull), retry, rng);
      EXPECT_GE(full, 0);
      EXPECT_LE(full, cap);
      const int64_t equal = backoff_delay_ms(jitter(Jitter::kEqual), retry, rng);
      EXPECT_GE(equal, cap / 2);
      EXPECT_LE(equal, cap);
    }
  }
}

TEST(Backoff, FullJitterActuallyVaries) {
  std::mt19937_64 rng(7);
  std::set<int64_t> seen;
  for (int i = 0; i < 50; ++i) seen.insert(backoff_delay_ms(jitter(Jitter::kFull), 4, rng));
  EXPECT_GT(seen.size(), 10u);
}

TEST(SendWithRetry, SucceedsAfterTransientFailuresWithinBackoffBounds) {
  ScriptedClient client({status(503), status(503), status(200, "ok")});
  RecordingSleeper sleeper;
  const RetryPolicy seeded = policy([](RetryPolicy& p) { p.jitter_seed = 99; });
  const HttpResponse response = send_with_retry(client, kRequest, seeded, sleeper);
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "ok");
  EXPECT_EQ(client.calls, 3);
  ASSERT_EQ(sleeper.delays.size(), 2u);
  EXPECT_GE(sleeper.delays[0], 0);
  EXPECT_LE(sleeper.delays[0], 250);
  EXPECT_GE(sleeper.delays[1], 0);
  EXPECT_LE(sleeper.delays[1], 500);

  // The same seed gives the same delays.
  ScriptedClient again({status(503), status(503), status(200, "ok")});
  RecordingSleeper sleeper2;
  send_with_retry(again, kRequest, seeded, sleeper2);
  EXPECT_EQ(sleeper2.delays, sleeper.delays);
}

TEST(SendWithRetry, ExactDelaysWithoutJitter) {
  ScriptedClient client({status(500), status(502), status(504), status(408), status(204)});
  RecordingSleeper sleeper;
  send_with_retry(client, kRequest, jitter(Jitter::kNone), sleeper);
  EXPECT_THAT(sleeper.delays, ElementsAre(250, 500, 1000, 2000));
}

TEST(SendWithRetry, RateLimitedHonoursRetryAfterSeconds) {
  ScriptedClient client({status(429, "slow down", {{"Retry-After", "2"}}), status(200)});
  RecordingSleeper sleeper;
  EXPECT_EQ(send_with_retry(client, kRequest, defaults(), sleeper).status, 200);
  EXPECT_THAT(sleeper.delays, ElementsAre(2000));
}

TEST(SendWithRetry, RetryAfterDateAndCap) {
  RecordingSleeper sleeper;
  const std::string in_5s = format_http_date(sleeper.now_ms / 1000 + 5);
  ScriptedClient client({status(503, "", {{"Retry-After", in_5s}}),
                         status(429, "", {{"Retry-After", "3600"}}), status(200)});
  send_with_retry(client, kRequest, policy([](RetryPolicy& p) { p.max_delay_ms = 30'000; }),
                  sleeper);
  // The date is honoured; an hour is capped at max_delay_ms.
  EXPECT_THAT(sleeper.delays, ElementsAre(5000, 30'000));
}

TEST(SendWithRetry, NotFoundFailsAtOnce) {
  ScriptedClient client({status(404, "no such symbol"), status(200)});
  RecordingSleeper sleeper;
  try {
    send_with_retry(client, kRequest, defaults(), sleeper);
    FAIL() << "expected NotFound";
  } catch (const Error& error) {
    EXPECT_EQ(error.category(), ErrorCategory::kNotFound);
    EXPECT_THAT(error.what(), HasSubstr("404"));
    EXPECT_THAT(error.what(), HasSubstr("no such symbol"));
  }
  EXPECT_EQ(client.calls, 1);
  EXPECT_TRUE(sleeper.delays.empty());
}

TEST(SendWithRetry, OtherFinalStatusesKeepTheirCategory) {
  const std::vector<std::pair<int, ErrorCategory>> cases = {{400, ErrorCategory::kInvalidInput},
                                                            {401, ErrorCategory::kPermanent},
                                                            {409, ErrorCategory::kConflict},
                                                            {412, ErrorCategory::kConflict}};
  for (const auto& [code, category] : cases) {
    ScriptedClient client({status(code), status(200)});
    RecordingSleeper sleeper;
    try {
      send_with_retry(client, kRequest, defaults(), sleeper);
      ADD_FAILURE() << code << " did not throw";
    } catch (const Error& error) {
      EXPECT_EQ(error.category(), category) << code;
    }
    EXPECT_EQ(client.calls, 1) << code;
  }
}

TEST(SendWithRetry, ExhaustingAttemptsThrowsRetryableWithStatusAndExcerpt) {
  const std::string long_body = "upstream overloaded\n" + std::string(1000, 'z');
  ScriptedClient client(std::vector<ScriptedClient::Step>(5, status(503, long_body)));
  RecordingSleeper sleeper;
  try {
    send_with_retry(client, kRequest, attempts(5), sleeper);
    FAIL() << "expected Retryable";
  } catch (const Error& error) {
    EXPECT_EQ(error.category(), ErrorCategory::kRetryable);
    const std::string message = error.what();
    EXPECT_THAT(message, HasSubstr("HTTP 503"));
    EXPECT_THAT(message, HasSubstr("5 attempts"));
    EXPECT_THAT(message, HasSubstr("upstream overloaded"));
    EXPECT_THAT(message, HasSubstr("api.example.com"));
    EXPECT_THAT(message, Not(HasSubstr("KEY123456")));
    EXPECT_LT(message.size(), 400u);  // an excerpt, not the whole body
  }
  EXPECT_EQ(client.calls, 5);
  EXPECT_EQ(sleeper.delays.size(), 4u);
}

TEST(SendWithRetry, ExhaustedRateLimitThrowsRateLimited) {
  ScriptedClient client({status(429), status(429)});
  RecordingSleeper sleeper;
  try {
    send_with_retry(client, kRequest, attempts(2), sleeper);
    FAIL();
  } catch (const Error& error) {
    EXPECT_EQ(error.category(), ErrorCategory::kRateLimited);
  }
}

TEST(SendWithRetry, TransportErrorsAreRetried) {
  ScriptedClient client(
      {Error::Retryable("connection reset"), Error::Retryable("timeout"), status(200, "fine")});
  RecordingSleeper sleeper;
  EXPECT_EQ(send_with_retry(client, kRequest, defaults(), sleeper).body, "fine");
  EXPECT_EQ(client.calls, 3);
  EXPECT_EQ(sleeper.delays.size(), 2u);
}

TEST(SendWithRetry, TransportErrorOnLastAttemptSaysSo) {
  ScriptedClient client({Error::Retryable("connection reset"), Error::Retryable("refused")});
  RecordingSleeper sleeper;
  try {
    send_with_retry(client, kRequest, attempts(2), sleeper);
    FAIL();
  } catch (const Error& error) {
    EXPECT_EQ(error.category(), ErrorCategory::kRetryable);
    EXPECT_THAT(error.what(), HasSubstr("refused"));
    EXPECT_THAT(error.what(), HasSubstr("2 attempts"));
  }
}

TEST(SendWithRetry, NonRetryableTransportErrorsPropagateAtOnce) {
  ScriptedClient client({Error::InvalidInput("bad url"), status(200)});
  RecordingSleeper sleeper;
  EXPECT_THROW(send_with_retry(client, kRequest, defaults(), sleeper), Error);
  EXPECT_EQ(client.calls, 1);
}

TEST(SendWithRetry, SingleAttemptPolicyNeverSleeps) {
  ScriptedClient client({status(503)});
  RecordingSleeper sleeper;
  EXPECT_THROW(send_with_retry(client, kRequest, attempts(1), sleeper), Error);
  EXPECT_TRUE(sleeper.delays.empty());
  ScriptedClient none({});
  EXPECT_THROW(send_with_retry(none, kRequest, attempts(0), sleeper), Error);
  EXPECT_EQ(none.calls, 0);
}

}  // namespace
}  // namespace trib::net

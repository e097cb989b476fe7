#include "trib/net/retry.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "trib/core/log.hpp"
#include "trib/net/http_date.hpp"

namespace trib::net {
namespace {

constexpr size_t kBodyExcerptChars = 200;

bool worth_retrying(ErrorCategory category) {
  return category == ErrorCategory::kRetryable || category == ErrorCategory::kRateLimited;
}

// The start of a body, on one line, for an error message: enough to show a vendor's error text.
std::string excerpt(std::string_view body) {
  std::string out(body.substr(0, kBodyExcerptChars));
  for (char& c : out) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  if (body.size() > kBodyExcerptChars) out += "...";
  return out;
}

std::mt19937_64 make_rng(const RetryPolicy& policy) {
  if (policy.jitter_seed) return std::mt19937_64(*policy.jitter_seed);
  std::random_device device;
  return std::mt19937_64((uint64_t{device()} << 32) ^ device());
}

}  // namespace

std::optional<ErrorCategory> classify_status(int status) {
  if (status >= 200 && status < 300) return std::nullopt;
  switch (status) {
    case 408:  // request timeout
    case 425:  // too early
      return ErrorCategory::kRetryable;
    case 429:
      return ErrorCategory::kRateLimited;
    case 400:
    case 422:
      return ErrorCategory::kInvalidInput;
    case 401:
    case 403:
      return ErrorCategory::kPermanent;
    case 404:
      return ErrorCategory::kNotFound;
    case 409:
    case 412:
      return ErrorCategory::kConflict;
    case 501:  // not implemented
    case 505:  // HTTP version not supported
      return ErrorCategory::kPermanent;
    default:
      // Other 5xx (500, 502, 503, 504, and the proxies' 520-599) are the server's trouble and
      // usually pass; other 4xx and 1xx/3xx will come back the same.
      return status >= 500 && status < 600 ? ErrorCategory::kRetryable : ErrorCategory::kPermanent;
  }
}

std::optional<ErrorCategory> classify(const HttpResponse& response) {
  return classify_status(response.status);
}

std::optional<int64_t> retry_after_ms(const HttpResponse& response, int64_t now_unix_ms) {
  const auto value = response.header("Retry-After");
  if (!value) return std::nullopt;
  std::string_view text = *value;
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  if (text.empty()) return std::nullopt;
  if (std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    // Delta-seconds. Anything past a day is nonsense for us; saturate rather than overflow.
    if (text.size() > 9) return int64_t{86'400'000};
    return std::min<int64_t>(std::stoll(std::string(text)) * 1000, 86'400'000);
  }
  const auto when = parse_http_date(text);
  if (!when) return std::nullopt;
  return std::max<int64_t>(0, *when * 1000 - now_unix_ms);
}

int64_t backoff_delay_ms(const RetryPolicy& policy, int retry, std::mt19937_64& rng) {
  const int64_t base = std::max<int64_t>(0, policy.base_delay_ms);
  const int64_t cap = std::max<int64_t>(0, policy.max_delay_ms);
  // base * 2^(retry-1), stopping the doubling once past the cap so it cannot overflow.
  int64_t delay = base;
  for (int i = 1; i < retry && delay < cap; ++i) delay *= 2;
  delay = std::min(delay, cap);
  switch (policy.jitter) {
    case Jitter::kNone:
      return delay;
    case Jitter::kFull:
      return std::uniform_int_distribution<int64_t>(0, delay)(rng);
    case Jitter::kEqual:
      return delay / 2 + std::uniform_int_distribution<int64_t>(0, delay - delay / 2)(rng);
  }
  return delay;
}

void RealSleeper::sleep_ms(int64_t ms) {
  if (ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

int64_t RealSleeper::now_unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

HttpResponse send_with_retry(HttpClient& client, const HttpRequest& request,
                             const RetryPolicy& policy, Sleeper& sleeper) {
  TRIB_CHECK(policy.max_attempts >= 1,
             Error::InvalidInput("RetryPolicy.max_attempts must be at least 1"));
  std::mt19937_64 rng = make_rng(policy);
  const std::string where = fmt::format("{} {}", request.method, log::redact(request.url));

  for (int attempt = 1;; ++attempt) {
    const bool last = attempt >= policy.max_attempts;
    HttpResponse response;
    try {
      response = client.send(request);
    } catch (const Error& error) {
      // A transport failure: no response, so no Retry-After either.
      if (!worth_retrying(error.category())) throw;
      if (last) {
        throw Error(error.category(), fmt::format("{} (gave up after {} attempt{})", error.what(),
                                                  attempt, attempt == 1 ? "" : "s"));
      }
      log::debug("{} on attempt {}/{}, retrying", error.what(), attempt, policy.max_attempts);
      sleeper.sleep_ms(backoff_delay_ms(policy, attempt, rng));
      continue;
    }

    const auto category = classify(response);
    if (!category) return response;
    if (last || !worth_retrying(*category)) {
      throw Error(*category,
                  log::redact(fmt::format("{} failed with HTTP {} after {} attempt{}: {}", where,
                                          response.status, attempt, attempt == 1 ? "" : "s",
                                          excerpt(response.body))));
    }
    log::debug("{}: HTTP {} on attempt {}/{}, retrying", where, response.status, attempt,
               policy.max_attempts);
    // The server knows its own recovery time better than our backoff does.
    const auto server_delay_ms = retry_after_ms(response, sleeper.now_unix_ms());
    sleeper.sleep_ms(server_delay_ms
                         ? std::min(*server_delay_ms, std::max<int64_t>(0, policy.max_delay_ms))
                         : backoff_delay_ms(policy, attempt, rng));
  }
}

}  // namespace trib::net

// Retrying HTTP exchanges: what an HTTP status means for the caller (classify), how long to wait
// between attempts (capped exponential backoff with jitter, or the server's Retry-After), and the
// loop that puts them together (send_with_retry). Time is behind the Sleeper seam so tests record
// delays instead of sleeping, and the jitter RNG can be seeded for deterministic tests.
//
// send_with_retry resends the same request, so use it only for idempotent requests (GET, PUT of a
// whole object, DELETE, or a POST the server de-duplicates, e.g. by client order id).
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <string>

#include "trib/core/error.hpp"
#include "trib/net/http_client.hpp"

namespace trib::net {

enum class Jitter {
  kNone,   // wait exactly the capped exponential delay (tests, or a single client)
  kFull,   // uniform in [0, delay]: spreads many clients best (the default)
  kEqual,  // delay/2 + uniform in [0, delay/2]: never retries immediately
};

struct RetryPolicy {
  int max_attempts = 5;  // total attempts, the first included; at least 1
  int64_t base_delay_ms = 250;
  int64_t max_delay_ms = 30'000;  // caps the backoff and any Retry-After
  Jitter jitter = Jitter::kFull;
  // Seed for the jitter RNG; nullopt seeds from std::random_device.
  std::optional<uint64_t> jitter_seed;
};

// What a response means: nullopt for success (2xx), else the category of the error it is.
//   408 425 500 502 503 504 and other 5xx except 501/505 -> kRetryable
//   429 -> kRateLimited
//   400 422 -> kInvalidInput; 404 -> kNotFound; 409 412 -> kConflict
//   401 403, 501 505, 3xx (redirects are not followed) and every other status -> kPermanent
std::optional<ErrorCategory> classify(const HttpResponse& response);
std::optional<ErrorCategory> classify_status(int status);

// The server's Retry-After as a delay in milliseconds: delta-seconds, or an HTTP-date relative to
// `now_unix_ms` (a date in the past gives 0). nullopt when absent or unparseable.
std::optional<int64_t> retry_after_ms(const HttpResponse& response, int64_t now_unix_ms);

// The backoff before retry number `retry` (1 = after the first failed attempt):
// min(max_delay, base * 2^(retry-1)) with the policy's jitter applied.
int64_t backoff_delay_ms(const RetryPolicy& policy, int retry, std::mt19937_64& rng);

// Time for the retry loop: how to wait, and the wall-clock for Retry-After dates.
class Sleeper {
 public:
  virtual ~Sleeper() = default;
  virtual void sleep_ms(int64_t ms) = 0;
  virtual int64_t now_unix_ms() = 0;
};

// Really sleeps (std::this_thread::sleep_for) and reads the system clock.
class RealSleeper : public Sleeper {
 public:
  void sleep_ms(int64_t ms) override;
  int64_t now_unix_ms() override;
};

// Sends `request` until it succeeds or attempts run out. A response that classifies as retryable
// or rate-limited, or a transport failure thrown as Error::Retryable / Error::RateLimited, is
// retried after a delay: the server's Retry-After when present (capped by max_delay_ms), else the
// backoff. Any other error status throws at once. Returns the 2xx response; otherwise throws an
// Error of the last outcome's category whose message has the method, the redacted URL, the
// status, the attempt count and a short, redacted excerpt of the body.
HttpResponse send_with_retry(HttpClient& client, const HttpRequest& request,
                             const RetryPolicy& policy, Sleeper& sleeper);

}  // namespace trib::net

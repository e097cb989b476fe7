// Client-side rate limiting per host: a token bucket for each configured host, so one process
// stays under a vendor's published limit (e.g. 5 requests/s, bursts of 10) instead of learning it
// from 429s. Thread-safe: one limiter is shared by every worker thread talking to a vendor.
//
// Waiting is by reservation: acquire() takes a token even when the bucket is empty (the count
// goes negative) and then sleeps until that token would have been refilled. Callers are thus
// served in the order they asked, each computes its wait once, and no thread spins.
// The bucket is kept as its equivalent "theoretical arrival time" (GCRA) in integer nanoseconds,
// so refill arithmetic is exact and tests can assert waits to the nanosecond.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace trib::net {

struct RateLimit {
  double requests_per_second = 1.0;  // refill rate; > 0
  double burst = 1.0;                // bucket capacity; >= 1
};

// Monotonic time and sleeping, injectable so tests run on a fake clock.
class LimiterClock {
 public:
  virtual ~LimiterClock() = default;
  virtual int64_t now_ns() = 0;
  virtual void sleep_ns(int64_t ns) = 0;
};

// std::chrono::steady_clock and std::this_thread::sleep_for.
std::shared_ptr<LimiterClock> steady_limiter_clock();

class RateLimiter {
 public:
  // Hosts without a limit of their own use `default_limit`; nullopt leaves them unlimited.
  explicit RateLimiter(std::optional<RateLimit> default_limit = std::nullopt,
                       std::shared_ptr<LimiterClock> clock = steady_limiter_clock());

  // Sets (or replaces, with a full bucket) the limit for `host` (case-insensitive, no port).
  // Throws Error::InvalidInput when rate <= 0 or burst < 1.
  void set_limit(std::string_view host, RateLimit limit);

  // Blocks until a token for `host` is available and takes it. Returns the time waited in ns.
  int64_t acquire(std::string_view host);
  // Takes a token if one is available now; never blocks.
  bool try_acquire(std::string_view host);
  // Tokens available now (may be negative while callers wait); +infinity when unlimited.
  double available(std::string_view host);

 private:
  struct Bucket {
    int64_t interval_ns = 0;   // time to refill one token: 1 s / rate
    int64_t tolerance_ns = 0;  // (burst - 1) intervals: how far ahead of schedule we may run
    int64_t tat_ns = 0;        // when the bucket would be full again if nobody took a token
  };
  static Bucket make_bucket(const RateLimit& limit, int64_t now_ns);
  // The bucket for `host`, created on first use; nullptr when the host is unlimited. Needs mutex_.
  Bucket* find_locked(std::string_view host, int64_t now_ns);

  std::optional<RateLimit> default_limit_;
  std::shared_ptr<LimiterClock> clock_;
  std::mutex mutex_;
  std::map<std::string, Bucket, std::less<>> buckets_;
};

}  // namespace trib::net

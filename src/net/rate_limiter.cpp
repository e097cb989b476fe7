#include "trib/net/rate_limiter.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <limits>
#include <thread>

#include "trib/core/error.hpp"

namespace trib::net {
namespace {

class SteadyLimiterClock final : public LimiterClock {
 public:
  int64_t now_ns() override {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
  void sleep_ns(int64_t ns) override {
    if (ns > 0) std::this_thread::sleep_for(std::chrono::nanoseconds(ns));
  }
};

std::string host_key(std::string_view host) {
  std::string key(host);
  for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return key;
}

void validate(const RateLimit& limit) {
  if (!(limit.requests_per_second > 0) || !std::isfinite(limit.requests_per_second) ||
      !(limit.burst >= 1) || !std::isfinite(limit.burst)) {
    throw Error::InvalidInput(
        fmt::format("rate limit needs requests_per_second > 0 and burst >= 1 (got {} and {})",
                    limit.requests_per_second, limit.burst));
  }
}

}  // namespace

std::shared_ptr<LimiterClock> steady_limiter_clock() {
  static const auto clock = std::make_shared<SteadyLimiterClock>();
  return clock;
}

RateLimiter::RateLimiter(std::optional<RateLimit> default_limit,
                         std::shared_ptr<LimiterClock> clock)
    : default_limit_(default_limit), clock_(std::move(clock)) {
  if (default_limit_) validate(*default_limit_);
  TRIB_CHECK(clock_ != nullptr, Error::InvalidInput("RateLimiter needs a clock"));
}

void RateLimiter::set_limit(std::string_view host, RateLimit limit) {
  validate(limit);
  const int64_t now = clock_->now_ns();
  std::lock_guard lock(mutex_);
  buckets_[host_key(host)] = make_bucket(limit, now);
}

RateLimiter::Bucket RateLimiter::make_bucket(const RateLimit& limit, int64_t now_ns) {
  Bucket bucket;
  bucket.interval_ns = std::max<int64_t>(1, std::llround(1e9 / limit.requests_per_second));
  bucket.tolerance_ns = std::llround((limit.burst - 1.0) * static_cast<double>(bucket.interval_ns));
  bucket.tat_ns = now_ns;  // full
  return bucket;
}

RateLimiter::Bucket* RateLimiter::find_locked(std::string_view host, int64_t now_ns) {
  const std::string key = host_key(host);
  auto it = buckets_.find(key);
  if (it == buckets_.end()) {
    if (!default_limit_) return nullptr;
    it = buckets_.emplace(key, make_bucket(*default_limit_, now_ns)).first;
  }
  return &it->second;
}

int64_t RateLimiter::acquire(std::string_view host) {
  int64_t wait_ns = 0;
  {
    // Threads read the clock before taking the lock, so `now` may trail the last caller's by a
    // little; max() below keeps the schedule monotonic regardless.
    const int64_t now = clock_->now_ns();
    std::lock_guard lock(mutex_);
    Bucket* bucket = find_locked(host, now);
    if (bucket == nullptr) return 0;
    // Reserve: the token is ours now even if it has not been refilled yet (see the header).
    const int64_t tat = std::max(bucket->tat_ns, now);
    wait_ns = std::max<int64_t>(0, tat - bucket->tolerance_ns - now);
    bucket->tat_ns = tat + bucket->interval_ns;
  }
  if (wait_ns > 0) clock_->sleep_ns(wait_ns);
  return wait_ns;
}

bool RateLimiter::try_acquire(std::string_view host) {
  const int64_t now = clock_->now_ns();
  std::lock_guard lock(mutex_);
  Bucket* bucket = find_locked(host, now);
  if (bucket == nullptr) return true;
  const int64_t tat = std::max(bucket->tat_ns, now);
  if (tat - now > bucket->tolerance_ns) return false;
  bucket->tat_ns = tat + bucket->interval_ns;
  return true;
}

double RateLimiter::available(std::string_view host) {
  const int64_t now = clock_->now_ns();
  std::lock_guard lock(mutex_);
  Bucket* bucket = find_locked(host, now);
  if (bucket == nullptr) return std::numeric_limits<double>::infinity();
  const int64_t tat = std::max(bucket->tat_ns, now);
  return static_cast<double>(now + bucket->tolerance_ns + bucket->interval_ns - tat) /
         static_cast<double>(bucket->interval_ns);
}

}  // namespace trib::net

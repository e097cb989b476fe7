#include "trib/net/rate_limiter.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "trib/core/error.hpp"

namespace trib::net {
namespace {

constexpr int64_t kMs = 1'000'000;

// Time stands still until a test (or a sleeping acquire) moves it.
class FakeClock : public LimiterClock {
 public:
  int64_t now_ns() override { return now.load(); }
  void sleep_ns(int64_t ns) override {
    slept.push_back(ns);
    now += ns;
  }
  std::atomic<int64_t> now{1'000'000'000};
  std::vector<int64_t> slept;
};

TEST(RateLimiter, BurstThenRefillAtTheConfiguredRate) {
  auto clock = std::make_shared<FakeClock>();
  RateLimiter limiter(std::nullopt, clock);
  limiter.set_limit("api.vendor.com", {.requests_per_second = 2, .burst = 3});

  EXPECT_TRUE(limiter.try_acquire("api.vendor.com"));
  EXPECT_TRUE(limiter.try_acquire("api.vendor.com"));
  EXPECT_TRUE(limiter.try_acquire("api.vendor.com"));
  EXPECT_FALSE(limiter.try_acquire("api.vendor.com"));

  clock->now += 499 * kMs;  // 0.998 tokens: not yet
  EXPECT_FALSE(limiter.try_acquire("api.vendor.com"));
  clock->now += 1 * kMs;  // 1 token at 2/s after 500 ms
  EXPECT_TRUE(limiter.try_acquire("api.vendor.com"));
  EXPECT_FALSE(limiter.try_acquire("api.vendor.com"));

  // A long idle refills only up to the burst.
  clock->now += 60'000 * kMs;
  EXPECT_DOUBLE_EQ(limiter.available("api.vendor.com"), 3.0);
  int granted = 0;
  while (limiter.try_acquire("api.vendor.com") && granted < 100) ++granted;
  EXPECT_EQ(granted, 3);
}

TEST(RateLimiter, AcquireWaitsForTheNextToken) {
  auto clock = std::make_shared<FakeClock>();
  RateLimiter limiter(std::nullopt, clock);
  limiter.set_limit("h", {.requests_per_second = 4, .burst = 2});

  EXPECT_EQ(limiter.acquire("h"), 0);
  EXPECT_EQ(limiter.acquire("h"), 0);
  // Empty: each further token is 250 ms away.
  EXPECT_EQ(limiter.acquire("h"), 250 * kMs);
  EXPECT_EQ(limiter.acquire("h"), 250 * kMs);
  EXPECT_EQ(clock->slept, (std::vector<int64_t>{250 * kMs, 250 * kMs}));
}

TEST(RateLimiter, ReservationsQueueUpWithoutTimePassing) {
  auto clock = std::make_shared<FakeClock>();
  // A clock whose sleep does not advance time, as when several threads reserve at one instant.
  class FrozenClock : public LimiterClock {
   public:
    explicit FrozenClock(std::shared_ptr<FakeClock> c) : c_(std::move(c)) {}
    int64_t now_ns() override { return c_->now; }
    void sleep_ns(int64_t ns) override { c_->slept.push_back(ns); }
    std::shared_ptr<FakeClock> c_;
  };
  RateLimiter limiter(std::nullopt, std::make_shared<FrozenClock>(clock));
  limiter.set_limit("h", {.requests_per_second = 10, .burst = 1});
  EXPECT_EQ(limiter.acquire("h"), 0);
  EXPECT_EQ(limiter.acquire("h"), 100 * kMs);
  EXPECT_EQ(limiter.acquire("h"), 200 * kMs);
  EXPECT_EQ(limiter.acquire("h"), 300 * kMs);
  EXPECT_FALSE(limiter.try_acquire("h"));  // the reserved tokens are not handed out twice
  EXPECT_DOUBLE_EQ(limiter.available("h"), -3.0);
}

TEST(RateLimiter, HostsAreIndependentAndCaseInsensitive) {
  auto clock = std::make_shared<FakeClock>();
  RateLimiter limiter(std::nullopt, clock);
  limiter.set_limit("A.example.com", {.requests_per_second = 1, .burst = 1});
  EXPECT_TRUE(limiter.try_acquire("a.EXAMPLE.com"));
  EXPECT_FALSE(limiter.try_acquire("a.example.com"));
  // Unconfigured hosts are unlimited without a default.
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(limiter.try_acquire("b.example.com"));
  EXPECT_EQ(limiter.acquire("b.example.com"), 0);
}

TEST(RateLimiter, DefaultLimitAppliesToUnconfiguredHosts) {
  auto clock = std::make_shared<FakeClock>();
  RateLimiter limiter(RateLimit{.requests_per_second = 1, .burst = 2}, clock);
  EXPECT_TRUE(limiter.try_acquire("x"));
  EXPECT_TRUE(limiter.try_acquire("x"));
  EXPECT_FALSE(limiter.try_acquire("x"));
  EXPECT_TRUE(limiter.try_acquire("y"));  // its own bucket
}

TEST(RateLimiter, RejectsNonsenseLimits) {
  RateLimiter limiter;
  EXPECT_THROW(limiter.set_limit("h", {.requests_per_second = 0, .burst = 1}), Error);
  EXPECT_THROW(limiter.set_limit("h", {.requests_per_second = -1, .burst = 1}), Error);
  EXPECT_THROW(limiter.set_limit("h", {.requests_per_second = 1, .burst = 0.5}), Error);
  EXPECT_THROW(RateLimiter(RateLimit{.requests_per_second = 1, .burst = 0}), Error);
}

TEST(RateLimiter, ConcurrentTryAcquireNeverOverGrants) {
  auto clock = std::make_shared<FakeClock>();  // frozen time: only the burst is available
  RateLimiter limiter(std::nullopt, clock);
  limiter.set_limit("h", {.requests_per_second = 1, .burst = 50});
  std::atomic<int> granted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 100; ++i) {
        if (limiter.try_acquire("h")) ++granted;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(granted.load(), 50);
}

TEST(RateLimiter, RealThreadsAreHeldToTheRate) {
  RateLimiter limiter;  // real steady clock
  limiter.set_limit("h", {.requests_per_second = 100, .burst = 5});
  constexpr int kThreads = 4;
  constexpr int kPerThread = 10;
  std::atomic<int> done{0};
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) {
        limiter.acquire("h");
        ++done;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  const double elapsed_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(done.load(), kThreads * kPerThread);
  // 40 tokens with 5 in the bucket need at least 35 refills at 100/s = 0.35 s.
  EXPECT_GE(elapsed_s, 0.34);
  EXPECT_LT(elapsed_s, 5.0);
}

}  // namespace
}  // namespace trib::net

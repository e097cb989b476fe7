#include "trib/trading/legacy/strategy.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "trib/core/error.hpp"

namespace trib::trading::legacy {
namespace {

std::vector<Bar> closes(const std::vector<double>& c) {
  std::vector<Bar> bars;
  for (size_t i = 0; i < c.size(); ++i) {
    Bar b;
    b.session_date = Date::from_ymd(2021, 1, 4) + static_cast<int>(i);
    b.ts_ns = to_ts_ns(b.session_date);
    b.open = b.high = b.low = b.close = c[i];
    bars.push_back(b);
  }
  return bars;
}

TEST(SmaCross, RejectsBadParameters) {
  EXPECT_THROW(SmaCrossStrategy(0, 5), Error);
  EXPECT_THROW(SmaCrossStrategy(5, 5), Error);
  EXPECT_THROW(SmaCrossStrategy(6, 5), Error);
  EXPECT_NO_THROW(SmaCrossStrategy(1, 2));
}

TEST(SmaCross, HandComputedSignals) {
  SmaCrossStrategy s(2, 4);
  EXPECT_EQ(s.warmup_bars(), 4);
  EXPECT_EQ(s.name(), "sma_cross");
  // Fewer than slow bars: flat.
  auto b = closes({10, 11, 12});
  EXPECT_EQ(s.target_exposure(b), 0.0);
  // 10, 11, 12, 13: SMA2 = 12.5 > SMA4 = 11.5 -> long.
  b = closes({10, 11, 12, 13});
  EXPECT_EQ(s.target_exposure(b), 1.0);
  // 13, 12, 11, 10: SMA2 = 10.5 < SMA4 = 11.5 -> flat.
  b = closes({13, 12, 11, 10});
  EXPECT_EQ(s.target_exposure(b), 0.0);
  // Only the last `slow` bars count: 1, 100 (ignored), then 10, 10, 10, 10 -> equal -> flat.
  b = closes({1, 100, 10, 10, 10, 10});
  EXPECT_EQ(s.target_exposure(b), 0.0);
  // 10, 10, 9, 12: SMA2 = 10.5 > SMA4 = 10.25 -> long.
  b = closes({10, 10, 9, 12});
  EXPECT_EQ(s.target_exposure(b), 1.0);
}

TEST(MakeStrategy, KnownAndUnknownNames) {
  auto s = make_strategy("sma_cross", 3, 7);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->warmup_bars(), 7);
  try {
    make_strategy("momo", 3, 7);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::kInvalidInput);
  }
}

}  // namespace
}  // namespace trib::trading::legacy

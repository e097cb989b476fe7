// compute_basic_features on hand-checkable series (no lake or catalog needed).
#include "trib/features/feature_set.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "trib/core/error.hpp"

namespace trib::features {
namespace {

std::vector<Bar> linear_bars(int n) {
  std::vector<Bar> bars;
  const Date start = Date::from_ymd(2019, 12, 2);
  for (int i = 0; i < n; ++i) {
    Bar b;
    b.session_date = start + i;  // calendar days are fine here: only the order matters
    b.ts_ns = to_ts_ns(b.session_date) + 14 * 3600 * kNanosPerSecond;
    b.open = b.high = b.low = b.close = 100.0 + i;
    b.volume = 1000;
    bars.push_back(b);
  }
  return bars;
}

const std::vector<double>& column(const FeatureFrame& f, const std::string& name) {
  for (const auto& [n, values] : f.columns) {
    if (n == name) return values;
  }
  throw std::runtime_error("no column " + name);
}

int leading_nans(const std::vector<double>& v) {
  int n = 0;
  while (n < static_cast<int>(v.size()) && std::isnan(v[n])) ++n;
  return n;
}

TEST(BasicFeatures, ColumnsInSchemaOrderWithWarmUps) {
  const auto f = compute_basic_features(linear_bars(80));
  ASSERT_EQ(f.ts_ns.size(), 80u);
  ASSERT_EQ(f.session_date.size(), 80u);
  ASSERT_EQ(f.close.size(), 80u);
  const std::vector<std::pair<std::string, int>> expected = {
      {"sma_20", 19}, {"sma_50", 49},     {"ema_12", 11},       {"ema_26", 25},
      {"rsi_14", 14}, {"log_return", 1}, {"volatility_20", 20}};
  ASSERT_EQ(f.columns.size(), expected.size());
  for (size_t c = 0; c < expected.size(); ++c) {
    EXPECT_EQ(f.columns[c].first, expected[c].first);
    ASSERT_EQ(f.columns[c].second.size(), 80u);
    EXPECT_EQ(leading_nans(f.columns[c].second), expected[c].second) << expected[c].first;
  }
}

// On x_i = 100 + i every indicator has a closed form:
//   SMA(n)_i = x_i - (n-1)/2; EMA(n)_i = x_i - (n-1)/2 as well (the SMA seed lags by (n-1)/2
//   and the recursion keeps a lag L with k(1+L) = 1, i.e. L = (n-1)/2); RSI = 100 (no losses);
//   log_return_i = ln((100+i)/(99+i)).
TEST(BasicFeatures, ClosedFormsOnALinearSeries) {
  const auto bars = linear_bars(80);
  const auto f = compute_basic_features(bars);
  for (int i = 60; i < 80; ++i) {
    const double x = 100.0 + i;
    EXPECT_DOUBLE_EQ(f.close[i], x);
    EXPECT_EQ(f.ts_ns[i], bars[i].ts_ns);
    EXPECT_EQ(f.session_date[i], bars[i].session_date);
    EXPECT_NEAR(column(f, "sma_20")[i], x - 9.5, 1e-9);
    EXPECT_NEAR(column(f, "sma_50")[i], x - 24.5, 1e-9);
    EXPECT_NEAR(column(f, "ema_12")[i], x - 5.5, 1e-9);
    EXPECT_NEAR(column(f, "ema_26")[i], x - 12.5, 1e-9);
    EXPECT_EQ(column(f, "rsi_14")[i], 100.0);
    EXPECT_NEAR(column(f, "log_return")[i], std::log(x / (x - 1)), 1e-15);
  }
}

TEST(BasicFeatures, VolatilityIsAnnualisedSampleStddev) {
  // Closes alternate 100, 110, 100, ...: log returns alternate +a, -a with a = ln(1.1).
  // 20 of them: mean 0, sample variance 20 a^2 / 19 -> vol = a * sqrt(20/19) * sqrt(252).
  auto bars = linear_bars(30);
  for (size_t i = 0; i < bars.size(); ++i) bars[i].close = i % 2 ? 110.0 : 100.0;
  const auto f = compute_basic_features(bars);
  const double a = std::log(1.1);
  EXPECT_NEAR(column(f, "volatility_20")[20], a * std::sqrt(20.0 / 19.0) * std::sqrt(252.0),
              1e-12);
  EXPECT_NEAR(column(f, "volatility_20")[29], a * std::sqrt(20.0 / 19.0) * std::sqrt(252.0),
              1e-12);
}

TEST(BasicFeatures, ShortHistoryIsAllNullAfterClose) {
  const auto f = compute_basic_features(linear_bars(5));
  EXPECT_EQ(f.close.size(), 5u);
  EXPECT_EQ(leading_nans(column(f, "sma_20")), 5);
  EXPECT_EQ(leading_nans(column(f, "log_return")), 1);
  const auto empty = compute_basic_features({});
  EXPECT_TRUE(empty.ts_ns.empty());
  EXPECT_EQ(empty.columns.size(), 7u);
}

TEST(BasicFeatures, UnsortedBarsAreRejected) {
  auto bars = linear_bars(10);
  std::swap(bars[3], bars[4]);
  try {
    compute_basic_features(bars);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::kInvalidInput);
  }
  bars = linear_bars(10);
  bars[5].ts_ns = bars[4].ts_ns;  // duplicate
  EXPECT_THROW(compute_basic_features(bars), Error);
}

}  // namespace
}  // namespace trib::features

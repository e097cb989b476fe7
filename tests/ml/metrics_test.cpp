// The metrics on cross-sections small enough to check by hand (correlations against
// scipy.stats.pearsonr / spearmanr, printed once and pasted here; the interop test compares
// every date of a real model with scipy).
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "trib/ml/metrics.hpp"

namespace trib::ml {
namespace {

TEST(Metrics, PearsonAndSpearmanWithTies) {
  const std::vector<double> p = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  const std::vector<double> y = {0.1, -0.2, 0.05, 0.3, 0.0, 0.2, -0.1, 0.4, 0.25, 0.5};
  EXPECT_NEAR(pearson(p, y), 0.6224119971649615, 1e-15);
  EXPECT_NEAR(spearman(p, y), 0.5878787878787878, 1e-15);
  const std::vector<double> p2 = {1, 1, 2, 2, 3}, y2 = {5, 6, 6, 7, 9};
  EXPECT_NEAR(pearson(p2, y2), 0.9063269671749656, 1e-15);
  EXPECT_NEAR(spearman(p2, y2), 0.8651809126974003, 1e-15);
  EXPECT_EQ(average_ranks(p2), (std::vector<double>{1.5, 1.5, 3.5, 3.5, 5}));
  EXPECT_TRUE(std::isnan(pearson(std::vector<double>{1, 1, 1}, std::vector<double>{1, 2, 3})));
}

TEST(Metrics, OneDateByHand) {
  std::vector<int32_t> day(10, 100), symbol;
  for (int s = 0; s < 10; ++s) symbol.push_back(s);
  const std::vector<double> p = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  const std::vector<double> y = {0.1, -0.2, 0.05, 0.3, 0.0, 0.2, -0.1, 0.4, 0.25, 0.5};
  const auto m = metrics_by_date(day, symbol, p, y, 5);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].n, 10u);
  EXPECT_NEAR(m[0].hit_rate, 0.8, 1e-15);           // medians 5.5 and 0.15: 8 of 10 on the same side
  EXPECT_NEAR(m[0].long_short, 0.375 - (-0.05), 1e-15);  // top 2 (0.25, 0.5) minus bottom 2 (0.1, -0.2)
  ASSERT_EQ(m[0].buckets.size(), 5u);
  const double buckets[] = {-0.05, 0.175, 0.1, 0.15, 0.375};
  for (int b = 0; b < 5; ++b) EXPECT_NEAR(m[0].buckets[static_cast<size_t>(b)], buckets[b], 1e-15) << b;
  EXPECT_TRUE(std::isnan(m[0].turnover));  // no previous date
}

TEST(Metrics, TurnoverAndSummaryOverDates) {
  std::vector<int32_t> day, symbol;
  std::vector<double> p, y;
  for (int d = 0; d < 3; ++d) {
    for (int s = 0; s < 10; ++s) {
      day.push_back(d);
      symbol.push_back(s);
      // Dates 0 and 2 rank the symbols up, date 1 down; the label follows the prediction on 0 and 1.
      const double rank = d == 1 ? 10 - s : s;
      p.push_back(rank);
      y.push_back(d == 2 ? -rank : rank);
    }
  }
  // A row without a label is left out.
  day.push_back(2);
  symbol.push_back(10);
  p.push_back(100);
  y.push_back(std::nan(""));
  const auto m = metrics_by_date(day, symbol, p, y, 5);
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m[2].n, 10u);
  EXPECT_NEAR(m[0].rank_ic, 1, 1e-15);
  EXPECT_NEAR(m[1].rank_ic, 1, 1e-15);
  EXPECT_NEAR(m[2].rank_ic, -1, 1e-15);
  EXPECT_NEAR(m[1].turnover, 1.0, 1e-15);  // top {8, 9} -> {0, 1}, bottom {0, 1} -> {8, 9}
  EXPECT_NEAR(m[2].turnover, 1.0, 1e-15);
  const auto s = summarize(m, 5);
  EXPECT_EQ(s.dates, 3u);
  EXPECT_EQ(s.rows, 30u);
  EXPECT_NEAR(s.rank_ic_mean, 1.0 / 3, 1e-15);
  EXPECT_NEAR(s.rank_ic_std, std::sqrt((2 * (2.0 / 3) * (2.0 / 3) + (4.0 / 3) * (4.0 / 3)) / 2), 1e-15);
  EXPECT_NEAR(s.rank_icir, s.rank_ic_mean / s.rank_ic_std, 1e-15);
  EXPECT_NEAR(s.ic_positive_share, 2.0 / 3, 1e-15);
  EXPECT_NEAR(s.turnover_mean, 1.0, 1e-15);
  ASSERT_EQ(s.bucket_means.size(), 5u);
  EXPECT_NEAR(s.monotonicity, 1.0, 1e-15);  // two dates up, one down: still increasing on average
}

TEST(Metrics, DatesWithoutVariationHaveNoIc) {
  const std::vector<int32_t> day = {1, 1, 1, 2}, symbol = {0, 1, 2, 0};
  const std::vector<double> p = {1, 1, 1, 5}, y = {1, 2, 3, 4};
  EXPECT_TRUE(metrics_by_date(day, symbol, p, y).empty());
  const auto s = summarize({});
  EXPECT_EQ(s.dates, 0u);
  EXPECT_TRUE(std::isnan(s.ic_mean));
}

}  // namespace
}  // namespace trib::ml

// Preprocessing: cross-sectional transforms from each date's own rows, the robust z-score
// fitted on training rows only, clipping, and the declared handling of missing values.
#include <gtest/gtest.h>

#include <cmath>

#include "ml_fixture.hpp"
#include "trib/ml/preprocess.hpp"

namespace trib::ml {
namespace {

Dataset three_by_two() {
  Dataset d = testing::grid(2, 3, 2, 1);
  // Date 0: f0 = 1, 2, 3; f1 = 10, NaN, 30. Date 1: f0 = 4, 4, 100; f1 = 1, 2, 3.
  const float f0[] = {1, 2, 3, 4, 4, 100}, f1[] = {10, NAN, 30, 1, 2, 3};
  for (size_t r = 0; r < 6; ++r) {
    d.x[0][r] = f0[r];
    d.x[1][r] = f1[r];
    d.y[r] = static_cast<double>(r);
  }
  return d;
}

TEST(Preprocess, CrossSectionalZScoreUsesEachDatesRowsWhicheverAreAsked) {
  const Dataset d = three_by_two();
  PreprocessConfig c;
  c.clip = 0;
  const auto fitted = fit_preprocess(d, {0, 1, 2}, c);
  const Prepared all = prepare(d, {0, 1, 2, 3, 4, 5}, fitted, true);
  ASSERT_EQ(all.x.rows, 6u);
  EXPECT_FLOAT_EQ(all.x.at(0, 0), -1.0f);  // (1 - 2) / 1
  EXPECT_FLOAT_EQ(all.x.at(2, 0), 1.0f);
  EXPECT_FLOAT_EQ(all.x.at(1, 1), 0.0f);   // missing, filled with the date's centre
  EXPECT_FLOAT_EQ(all.x.at(0, 1), static_cast<float>(-10 / std::sqrt(200.0)));
  EXPECT_EQ(all.group_sizes, (std::vector<uint32_t>{3, 3}));
  // Asking for one row gives the same value as asking for all.
  const Prepared one = prepare(d, {2}, fitted, false);
  EXPECT_FLOAT_EQ(one.x.at(0, 0), all.x.at(2, 0));
  EXPECT_TRUE(one.target.empty());
}

TEST(Preprocess, ClipRankDropAndLabels) {
  const Dataset d = three_by_two();
  PreprocessConfig c;
  c.clip = 1.0;
  c.features = FeatureNorm::kCsRank;
  c.missing = MissingPolicy::kDrop;
  c.label = LabelNorm::kCsRank;
  const auto p = prepare(d, {0, 1, 2, 3, 4, 5}, fit_preprocess(d, {}, c), true);
  ASSERT_EQ(p.rows, (std::vector<size_t>{0, 2, 3, 4, 5}));  // row 1 has a missing feature
  EXPECT_FLOAT_EQ(p.x.at(0, 0), -0.5f);
  EXPECT_FLOAT_EQ(p.x.at(2, 0), -0.25f);  // 4 and 4 tie: rank 1.5 of 3
  EXPECT_FLOAT_EQ(p.x.at(4, 0), 0.5f);
  // Labels ranked among the asked-for rows of each date (rows 0, 2 of date 0: after the drop the
  // label ranks are still taken over the rows asked for, 0..2).
  EXPECT_DOUBLE_EQ(p.target[0], -0.5);
  EXPECT_DOUBLE_EQ(p.target[1], 0.5);
  EXPECT_EQ(p.group_sizes, (std::vector<uint32_t>{2, 3}));
  c.features = FeatureNorm::kNone;
  c.missing = MissingPolicy::kKeep;
  const auto kept = prepare(d, {0, 1, 2, 3, 4, 5}, fit_preprocess(d, {}, c), false);
  EXPECT_TRUE(std::isnan(kept.x.at(1, 1)));
  EXPECT_FLOAT_EQ(kept.x.at(5, 0), 1.0f);  // 100 clipped to 1
}

TEST(Preprocess, RobustZScoreIsFittedOnTrainingRowsOnly) {
  Dataset d = three_by_two();
  PreprocessConfig c;
  c.features = FeatureNorm::kRobustZScore;
  c.clip = 0;
  const auto fitted = fit_preprocess(d, {0, 1, 2}, c);
  EXPECT_DOUBLE_EQ(fitted.center[0], 2.0);
  EXPECT_DOUBLE_EQ(fitted.scale[0], 1.4826 * 1.0);
  EXPECT_DOUBLE_EQ(fitted.center[1], 20.0);  // the missing value is not counted
  // A test row's value does not move what was fitted.
  d.x[0][5] = 1e9f;
  EXPECT_EQ(fit_preprocess(d, {0, 1, 2}, c).center, fitted.center);
  const auto p = prepare(d, {3}, fitted, false);
  EXPECT_FLOAT_EQ(p.x.at(0, 0), static_cast<float>((4 - 2) / 1.4826));
  const auto back = FittedPreprocess::from_json(fitted.to_json());
  EXPECT_EQ(back.center, fitted.center);
  EXPECT_EQ(back.scale, fitted.scale);
  EXPECT_EQ(back.config.features, FeatureNorm::kRobustZScore);
}

}  // namespace
}  // namespace trib::ml

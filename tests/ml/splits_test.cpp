// Walk-forward splits: windows where the config puts them, and the property purging exists for:
// no row a model learns from or is tuned on has a label window that reaches a date it is
// tested on (nor, for training rows, the validation window), with gaps in a symbol's history.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

#include "ml_fixture.hpp"
#include "trib/core/error.hpp"
#include "trib/ml/splits.hpp"

namespace trib::ml {
namespace {

// Symbol 2 misses every 7th session and a 20-session stretch: its label windows span more dates.
Dataset gappy(size_t dates, int horizon) {
  return testing::grid(dates, 4, 1, horizon, [](size_t s, size_t d) {
    return s == 2 && (d % 7 == 3 || (d >= 300 && d < 320));
  });
}

void expect_no_overlap(const Dataset& data, const Split& s, int embargo) {
  const size_t valid_begin = data.date_index(s.valid_from), test_begin = data.date_index(s.test_from);
  for (size_t r : s.train_rows) {
    ASSERT_LT(data.label_end_day[r], s.test_from) << "training row " << r << " of split " << s.index;
    ASSERT_LT(data.label_end_day[r], s.valid_from) << "training row " << r << " reaches validation";
    ASSERT_LT(data.date_index(data.label_end_day[r]) + static_cast<size_t>(embargo), valid_begin);
    ASSERT_LE(data.day[r], s.train_to);
  }
  for (size_t r : s.valid_rows) {
    ASSERT_LT(data.label_end_day[r], s.test_from) << "validation row " << r << " of split " << s.index;
    ASSERT_LT(data.date_index(data.label_end_day[r]) + static_cast<size_t>(embargo), test_begin);
    ASSERT_GE(data.day[r], s.valid_from);
  }
  for (size_t r : s.test_rows) {
    ASSERT_GE(data.day[r], s.test_from);
    ASSERT_LE(data.day[r], s.test_to);
  }
}

TEST(WalkForward, NoTrainingOrValidationLabelReachesATestDate) {
  for (int horizon : {1, 5, 20}) {
    for (int embargo : {0, 3}) {
      for (WindowKind window : {WindowKind::kExpanding, WindowKind::kRolling}) {
        const Dataset data = gappy(700, horizon);
        SplitConfig c;
        c.window = window;
        c.train = 200;
        c.valid = 50;
        c.test = 60;
        c.embargo = embargo;
        const auto splits = walk_forward_splits(data, c);
        ASSERT_EQ(splits.size(), (700 - 250 + 59) / 60u);
        for (const auto& s : splits) expect_no_overlap(data, s, embargo);
      }
    }
  }
}

TEST(WalkForward, TestWindowsTileTheDatesAfterTheFirstTrainAndValidWindows) {
  const Dataset data = testing::grid(400, 3, 1, 5);
  SplitConfig c;
  c.train = 100;
  c.valid = 20;
  c.test = 50;
  const auto splits = walk_forward_splits(data, c);
  ASSERT_EQ(splits.size(), 6u);  // 280 test sessions: 5 x 50 + 30
  std::set<int32_t> tested;
  for (const auto& s : splits) {
    for (size_t r : s.test_rows) tested.insert(data.day[r]);
  }
  // Every date from the first test date on is tested once, but the last 5 (no label yet).
  EXPECT_EQ(tested.size(), 280u - 5u);
  EXPECT_EQ(*tested.begin(), data.dates[120]);
  EXPECT_EQ(splits[0].test_from, data.dates[120]);
  EXPECT_EQ(splits[0].valid_from, data.dates[100]);
  EXPECT_EQ(splits[0].valid_to, data.dates[119]);
  EXPECT_EQ(splits[0].train_from, data.dates[0]);
  EXPECT_EQ(splits[0].train_to, data.dates[99]);
  EXPECT_EQ(splits[5].test_to, data.dates[399]);
  // Purge: the last 5 sessions of training (their labels reach validation) and of validation.
  EXPECT_EQ(splits[0].train_rows.size(), (100u - 5u) * 3u);
  EXPECT_EQ(splits[0].valid_rows.size(), (20u - 5u) * 3u);
  EXPECT_EQ(splits[0].purged, 2u * 5u * 3u);
  // Expanding: split k trains from the first date; rolling keeps the last `train` sessions.
  EXPECT_EQ(splits[3].train_from, data.dates[0]);
  c.window = WindowKind::kRolling;
  const auto rolling = walk_forward_splits(data, c);
  EXPECT_EQ(rolling[3].train_from, data.dates[120 + 150 - 20 - 100]);
  EXPECT_EQ(rolling[3].train_to, data.dates[120 + 150 - 20 - 1]);
}

TEST(WalkForward, TheEmbargoDropsMoreSessionsBeforeEachLaterBlock) {
  const Dataset data = testing::grid(300, 2, 1, 5);
  SplitConfig c;
  c.train = 100;
  c.valid = 20;
  c.test = 50;
  c.embargo = 4;
  const auto s = walk_forward_splits(data, c).front();
  EXPECT_EQ(s.train_rows.size(), (100u - 5u - 4u) * 2u);
  EXPECT_EQ(s.valid_rows.size(), (20u - 5u - 4u) * 2u);
  EXPECT_EQ(s.embargoed, 2u * 4u * 2u);
}

TEST(WalkForward, TooFewDatesOrBadSizesAreClearErrors) {
  const Dataset data = testing::grid(100, 2, 1, 5);
  SplitConfig c;
  c.train = 80;
  c.valid = 20;
  try {
    walk_forward_splits(data, c);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::kInvalidInput);
    EXPECT_THAT(e.what(), ::testing::HasSubstr("100 session(s)"));
    EXPECT_THAT(e.what(), ::testing::HasSubstr("train + valid = 100"));
  }
  c.train = 0;
  EXPECT_THROW(walk_forward_splits(data, c), Error);
}

TEST(WalkForward, TheFinalSplitEndsAtTheLastLabelledDate) {
  const Dataset data = testing::grid(300, 2, 1, 5);
  SplitConfig c;
  c.train = 100;
  c.valid = 20;
  const Split f = final_split(data, c);
  EXPECT_EQ(f.valid_to, data.dates[294]);  // the last 5 sessions have no label
  EXPECT_EQ(f.valid_from, data.dates[275]);
  for (size_t r : f.train_rows) EXPECT_LT(data.label_end_day[r], f.valid_from);
  EXPECT_EQ(f.valid_rows.size(), 20u * 2u);
}

}  // namespace
}  // namespace trib::ml

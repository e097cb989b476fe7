#include <gtest/gtest.h>

#include <cmath>

#include "trib/core/calendar.hpp"
#include "trib/etl/quality.hpp"

using namespace trib;

namespace {
Bar bar(const char* date, double o, double h, double l, double c, double v) {
  Bar b;
  b.session_date = Date::parse(date);
  b.ts_ns = TradingCalendar::nyse().session_open_ts_ns(b.session_date);
  b.open = o, b.high = h, b.low = l, b.close = c, b.volume = v;
  return b;
}
}  // namespace

TEST(Quality, EachRuleQuarantinesWithItsName) {
  std::vector<Bar> bars = {
      bar("2020-01-02", 10, 11, 9, 10.5, 100),         // good
      bar("2020-01-03", 10, 9, 11, 10, 100),           // high < low
      bar("2020-01-06", 10, 10.2, 9.9, 10.4, 100),     // close above high
      bar("2020-01-07", 0, 11, 9, 10, 100),            // zero open
      bar("2020-01-08", 10, 11, 9, 10, -1),            // negative volume
      bar("2020-01-09", 10, 11, 9, NAN, 100),          // NaN
      bar("2020-01-02", 10, 11, 9, 10.6, 100),         // duplicate ts of the first
      bar("2020-01-04", 10, 11, 9, 10, 100),           // a Saturday
      bar("2020-12-25", 10, 11, 9, 10, 100),           // Christmas
      bar("2020-01-10", 10, 10, 10, 10, 0),            // flat bar, zero volume: fine
  };
  auto v = etl::validate_bars(bars, Timeframe::kDay1, TradingCalendar::nyse());
  ASSERT_EQ(v.accepted.size(), 2u);
  EXPECT_EQ(v.accepted[0].session_date.to_string(), "2020-01-02");
  EXPECT_EQ(v.accepted[0].close, 10.5) << "the first row of a timestamp wins";
  EXPECT_EQ(v.accepted[1].session_date.to_string(), "2020-01-10");
  std::vector<std::string> rules;
  for (const auto& q : v.quarantined) {
    rules.push_back(q.rule);
    EXPECT_FALSE(q.reason.empty());
    EXPECT_TRUE(q.bar.has_value());
  }
  EXPECT_EQ(rules, (std::vector<std::string>{"ohlc_inconsistent", "ohlc_inconsistent",
                                             "non_positive_price", "negative_volume", "non_finite",
                                             "duplicate_timestamp", "not_a_session", "not_a_session"}));
}

TEST(Quality, AcceptedRowsComeOutSortedByTime) {
  std::vector<Bar> bars = {bar("2020-01-06", 1, 2, 1, 2, 1), bar("2020-01-02", 1, 2, 1, 2, 1),
                           bar("2020-01-03", 1, 2, 1, 2, 1)};
  auto v = etl::validate_bars(bars, Timeframe::kDay1, TradingCalendar::nyse());
  ASSERT_EQ(v.accepted.size(), 3u);
  EXPECT_LT(v.accepted[0].ts_ns, v.accepted[1].ts_ns);
  EXPECT_LT(v.accepted[1].ts_ns, v.accepted[2].ts_ns);
}

// Date and timestamp arithmetic, formatting and parsing.
#include <climits>
#include <cstdint>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "test_util.hpp"
#include "trib/core/bar.hpp"
#include "trib/core/time.hpp"

namespace trib {
namespace {

using testing::expect_error;
using ::testing::HasSubstr;

TEST(Date, KnownDaysSinceEpoch) {
  // Values from Python's datetime.date arithmetic.
  EXPECT_EQ(Date::from_ymd(1970, 1, 1).days_since_epoch(), 0);
  EXPECT_EQ(Date::from_ymd(2000, 3, 1).days_since_epoch(), 11017);
  EXPECT_EQ(Date::from_ymd(2020, 2, 29).days_since_epoch(), 18321);
  EXPECT_EQ(Date::from_ymd(1900, 1, 1).days_since_epoch(), -25567);
  EXPECT_EQ(Date::from_ymd(9999, 12, 31).days_since_epoch(), 2932896);
  EXPECT_EQ(Date::from_ymd(1, 1, 1).days_since_epoch(), -719162);
  EXPECT_EQ(Date().to_string(), "1970-01-01");
}

// Walks every day 1800..2200 with a naive calendar of our own and checks Date agrees.
TEST(Date, AgreesWithANaiveCalendarDayByDay) {
  auto leap = [](int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; };
  const int month_days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  Date date = Date::from_ymd(1800, 1, 1);
  int weekday = 3;  // 1800-01-01 was a Wednesday
  for (int y = 1800; y <= 2200; ++y) {
    for (int m = 1; m <= 12; ++m) {
      const int n = month_days[m - 1] + (m == 2 && leap(y));
      for (int d = 1; d <= n; ++d) {
        ASSERT_EQ(date.year(), y);
        ASSERT_EQ(date.month(), m);
        ASSERT_EQ(date.day(), d);
        ASSERT_EQ(date.weekday(), weekday) << date.to_string();
        ASSERT_EQ(Date::from_ymd(y, m, d), date);
        const std::string text = fmt::format("{:04d}-{:02d}-{:02d}", y, m, d);
        ASSERT_EQ(date.to_string(), text);
        ASSERT_EQ(Date::parse(text), date);
        date = date + 1;
        weekday = (weekday + 1) % 7;
      }
    }
  }
}

TEST(Date, Weekdays) {
  EXPECT_EQ(Date::parse("1970-01-01").weekday(), 4);  // Thursday
  EXPECT_EQ(Date::parse("1969-12-31").weekday(), 3);  // Wednesday, before the epoch
  EXPECT_EQ(Date::parse("2024-01-01").weekday(), 1);  // Monday
  EXPECT_EQ(Date::parse("2019-12-25").weekday(), 3);
  EXPECT_EQ(Date::parse("1900-01-01").weekday(), 1);
}

TEST(Date, LeapYears) {
  EXPECT_NO_THROW(Date::from_ymd(2000, 2, 29));  // divisible by 400
  EXPECT_NO_THROW(Date::from_ymd(2024, 2, 29));
  expect_error([] { Date::from_ymd(1900, 2, 29); }, ErrorCategory::kInvalidInput);
  expect_error([] { Date::from_ymd(2100, 2, 29); }, ErrorCategory::kInvalidInput);
  expect_error([] { Date::from_ymd(2023, 2, 29); }, ErrorCategory::kInvalidInput);
  EXPECT_FALSE(Date::try_parse("2023-02-29"));
  EXPECT_TRUE(Date::try_parse("2000-02-29"));
  EXPECT_EQ(Date::parse("2021-01-01") - Date::parse("2020-01-01"), 366);
  EXPECT_EQ(Date::parse("2022-01-01") - Date::parse("2021-01-01"), 365);
}

TEST(Date, Arithmetic) {
  EXPECT_EQ(Date::parse("2020-02-28") + 1, Date::parse("2020-02-29"));
  EXPECT_EQ(Date::parse("2020-02-28") + 2, Date::parse("2020-03-01"));
  EXPECT_EQ(Date::parse("2021-03-01") - 1, Date::parse("2021-02-28"));
  EXPECT_EQ(Date::parse("2019-12-31") + 1, Date::parse("2020-01-01"));
  EXPECT_EQ(Date::parse("2020-01-01") - Date::parse("2019-12-31"), 1);
  EXPECT_EQ(Date::parse("1969-12-31") - Date::parse("1970-01-02"), -2);
  EXPECT_LT(Date::parse("2020-01-01"), Date::parse("2020-01-02"));
}

TEST(Date, ParseErrorsNameTheInput) {
  for (const char* bad : {"", "2020-1-01", "2020/01/01", "2020-01-01x", "abcd-ef-gh", "2020-02-30",
                          "2020-00-10", "2020-01-00", "0000-01-01", " 2020-01-01", "20200101"}) {
    EXPECT_FALSE(Date::try_parse(bad)) << bad;
    std::string message =
        expect_error([&] { Date::parse(bad, "--from"); }, ErrorCategory::kInvalidInput);
    EXPECT_THAT(message, HasSubstr("--from")) << bad;
    EXPECT_THAT(message, HasSubstr(fmt::format("'{}'", bad)));
  }
  expect_error([] { Date::from_ymd(2020, 13, 1); }, ErrorCategory::kInvalidInput);
  expect_error([] { Date::from_ymd(2020, 4, 31); }, ErrorCategory::kInvalidInput);
}

TEST(Timestamp, Format) {
  EXPECT_EQ(format_ts_ns(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(format_ts_ns(1577975400 * kNanosPerSecond), "2020-01-02T14:30:00Z");
  EXPECT_EQ(format_ts_ns(1593610200 * kNanosPerSecond), "2020-07-01T13:30:00Z");
  EXPECT_EQ(format_ts_ns(1577975400 * kNanosPerSecond + 123'000'000), "2020-01-02T14:30:00.123Z");
  EXPECT_EQ(format_ts_ns(1), "1970-01-01T00:00:00.000000001Z");
  EXPECT_EQ(format_ts_ns(-1), "1969-12-31T23:59:59.999999999Z");
  EXPECT_EQ(format_ts_ns(to_ts_ns(Date::parse("2020-02-29")) + kNanosPerDay - kNanosPerSecond),
            "2020-02-29T23:59:59Z");
}

TEST(Timestamp, ParseAndRoundTrip) {
  EXPECT_EQ(parse_ts_ns("2020-01-02T14:30:00Z"), 1577975400 * kNanosPerSecond);
  EXPECT_EQ(parse_ts_ns("2020-01-02 14:30:00"), 1577975400 * kNanosPerSecond);
  EXPECT_EQ(parse_ts_ns("2020-01-02"), to_ts_ns(Date::parse("2020-01-02")));
  EXPECT_EQ(parse_ts_ns("2020-01-02T14:30:00.5Z"), 1577975400 * kNanosPerSecond + 500'000'000);
  EXPECT_EQ(parse_ts_ns("1969-12-31T23:59:59.999999999Z"), -1);
  for (int64_t ts :
       {int64_t{0}, int64_t{1}, int64_t{-1}, 1577975400 * kNanosPerSecond + 123,
        int64_t{4'102'444'799'999'999'999}, int64_t{-2'208'988'800} * kNanosPerSecond}) {
    EXPECT_EQ(parse_ts_ns(format_ts_ns(ts)), ts) << format_ts_ns(ts);
  }
}

TEST(Timestamp, ParseErrors) {
  for (const char* bad :
       {"", "2020-01-02T25:00:00Z", "2020-01-02T14:30Z", "2020-01-02T14:60:00Z",
        "2020-01-02T14:30:00+01:00", "2020-01-02T14:30:00.Z", "2020-01-02X", "yesterday"}) {
    std::string message =
        expect_error([&] { parse_ts_ns(bad, "--at"); }, ErrorCategory::kInvalidInput);
    EXPECT_THAT(message, HasSubstr("--at")) << bad;
  }
}

TEST(Timestamp, UtcDateOf) {
  EXPECT_EQ(utc_date_of(0), Date::parse("1970-01-01"));
  EXPECT_EQ(utc_date_of(-1), Date::parse("1969-12-31"));
  EXPECT_EQ(utc_date_of(-kNanosPerDay), Date::parse("1969-12-31"));
  EXPECT_EQ(utc_date_of(1577975400 * kNanosPerSecond), Date::parse("2020-01-02"));
}

// Fuzzing the CSV parser under UBSan found to_ts_ns overflowing (signed multiply) on a date in
// the year 4026. Date reaches 0001..9999; only 1677-09-22..2262-04-10 converts, and outside that
// the conversion is a clean InvalidInput, never a wrapped-around timestamp.
TEST(Timestamp, DatesBeyondTheInt64RangeAreRefusedNotWrapped) {
  const Date far = Date::parse("4026-05-17");  // parses: Date itself reaches 9999
  EXPECT_FALSE(has_ts_ns(far));
  EXPECT_THAT(expect_error([&] { (void)to_ts_ns(far); }, ErrorCategory::kInvalidInput),
              HasSubstr("4026-05-17 is outside what a nanosecond timestamp holds"));
  for (const char* text : {"0001-01-01", "1677-09-21", "2262-04-11", "2262-04-12", "9999-12-31"}) {
    const Date d = Date::parse(text);
    EXPECT_FALSE(has_ts_ns(d)) << text;
    expect_error([&] { (void)to_ts_ns(d); }, ErrorCategory::kInvalidInput);
    EXPECT_THAT(expect_error([&] { parse_ts_ns(std::string(text) + "T00:00:00Z", "ts"); },
                             ErrorCategory::kInvalidInput),
                HasSubstr("outside what a nanosecond timestamp holds"))
        << text;
  }
  for (int32_t days : {INT32_MIN, INT32_MIN + 1, -2'000'000, 2'000'000, INT32_MAX - 1, INT32_MAX}) {
    expect_error([&] { (void)to_ts_ns(Date(days)); }, ErrorCategory::kInvalidInput);
  }
  // The first and last convertible days, with every nanosecond of them representable.
  EXPECT_EQ(Date(kFirstTimestampDay).to_string(), "1677-09-22");
  EXPECT_EQ(Date(kLastTimestampDay).to_string(), "2262-04-10");
  EXPECT_EQ(to_ts_ns(Date(kFirstTimestampDay)), int64_t{kFirstTimestampDay} * kNanosPerDay);
  EXPECT_EQ(parse_ts_ns("2262-04-10T23:59:59.999999999Z"),
            int64_t{kLastTimestampDay + 1} * kNanosPerDay - 1);
  EXPECT_EQ(format_ts_ns(parse_ts_ns("1677-09-22T00:00:00Z")), "1677-09-22T00:00:00Z");
  // Extremes of the int64 range still format (no day start is computed for them).
  EXPECT_EQ(format_ts_ns(INT64_MAX), "2262-04-11T23:47:16.854775807Z");
  EXPECT_EQ(format_ts_ns(INT64_MIN), "1677-09-21T00:12:43.145224192Z");
  // Date::parse still refuses what is not a calendar date, year 0 included.
  for (const char* bad : {"0000-01-01", "10000-01-01", "-001-01-01", "4026-02-29"}) {
    EXPECT_FALSE(Date::try_parse(bad).has_value()) << bad;
  }
}

TEST(Timeframe, StringsAndPartitions) {
  EXPECT_EQ(parse_timeframe("1d"), Timeframe::kDay1);
  EXPECT_EQ(to_string(Timeframe::kMinute1), "1m");
  EXPECT_THAT(expect_error([] { parse_timeframe("5m"); }, ErrorCategory::kInvalidInput),
              HasSubstr("1d, 1h or 1m"));
  EXPECT_EQ(partition_of(Timeframe::kDay1, Date::parse("2020-03-16")), "2020");
  EXPECT_EQ(partition_of(Timeframe::kHour1, Date::parse("2020-03-16")), "2020-03");
  EXPECT_EQ(partition_of(Timeframe::kMinute1, Date::parse("2020-03-16")), "2020-03-16");
}

}  // namespace
}  // namespace trib

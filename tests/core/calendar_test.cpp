// The NYSE calendar against independent session lists (exchange_calendars,
// pandas_market_calendars).
#include <fstream>
#include <set>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "test_util.hpp"
#include "trib/core/calendar.hpp"

namespace trib {
namespace {

using testing::expect_error;

const std::filesystem::path kCalendars = std::filesystem::path(TRIB_SHARED_DATA) / "calendars";

struct ReferenceSession {
  Date date;
  std::string open;  // UTC ISO time of the open, as the file writes it
};

// exchange_calendars' XNYS answer file: ",open,close,break_start,break_end", one row per session,
// the first column the session date at midnight UTC.
std::vector<ReferenceSession> load_exchange_calendars_sessions() {
  std::ifstream in(kCalendars / "xnys_sessions_1990_2023_exchange_calendars.csv");
  std::vector<ReferenceSession> out;
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    const size_t c1 = line.find(','), c2 = line.find(',', c1 + 1);
    out.push_back({Date::parse(line.substr(0, 10)), line.substr(c1 + 1, c2 - c1 - 1)});
  }
  return out;
}

TEST(NyseCalendar, MatchesExchangeCalendarsDayByDay1990To2023) {
  const auto reference = load_exchange_calendars_sessions();
  ASSERT_EQ(reference.size(), 8324u);
  std::set<Date> sessions;
  for (const auto& s : reference) sessions.insert(s.date);
  const Date first = reference.front().date, last = reference.back().date;
  ASSERT_EQ(first, Date::parse("1990-01-02"));
  ASSERT_EQ(last, Date::parse("2023-01-13"));
  const TradingCalendar& cal = TradingCalendar::nyse();
  std::vector<std::string> mismatches;
  for (Date d = first; d <= last; d = d + 1) {
    const bool expected = sessions.count(d) > 0;
    if (cal.is_session(d) != expected) {
      mismatches.push_back(d.to_string() + (expected ? " (session)" : " (closed)"));
    }
    const int wd = d.weekday();
    EXPECT_EQ(cal.is_holiday(d), !expected && wd != 0 && wd != 6) << d.to_string();
  }
  std::string shown;
  for (size_t i = 0; i < mismatches.size() && i < 20; ++i) shown += " " + mismatches[i];
  EXPECT_TRUE(mismatches.empty()) << mismatches.size() << " mismatches:" << shown;
  const auto listed = cal.sessions(first, last);
  EXPECT_EQ(listed, std::vector<Date>(sessions.begin(), sessions.end()));
}

TEST(NyseCalendar, SessionOpenMatchesTheReferenceOpenTimes) {
  const TradingCalendar& cal = TradingCalendar::nyse();
  int mismatches = 0;
  for (const auto& s : load_exchange_calendars_sessions()) {
    if (format_ts_ns(cal.session_open_ts_ns(s.date)) != s.open && ++mismatches <= 5) {
      ADD_FAILURE() << s.date.to_string() << ": ours "
                    << format_ts_ns(cal.session_open_ts_ns(s.date)) << ", reference " << s.open;
    }
  }
  EXPECT_EQ(mismatches, 0);
}

// pandas_market_calendars' list of full-day closures (M/D/YYYY, no header), 1990..2021-07-05.
TEST(NyseCalendar, MatchesPandasMarketCalendarsHolidays) {
  std::ifstream in(kCalendars /
                   "nyse_all_full_day_holidays_since_1928_pandas_market_calendars.csv");
  std::string line;
  int checked = 0;
  const TradingCalendar& cal = TradingCalendar::nyse();
  while (std::getline(in, line)) {
    int m = 0, d = 0, y = 0;
    if (std::sscanf(line.c_str(), "%d/%d/%d", &m, &d, &y) != 3 || y < 1990) continue;
    const Date date = Date::from_ymd(y, m, d);
    if (date.weekday() == 0 || date.weekday() == 6) continue;
    EXPECT_TRUE(cal.is_holiday(date)) << date.to_string();
    EXPECT_FALSE(cal.is_session(date)) << date.to_string();
    ++checked;
  }
  EXPECT_GT(checked, 270);  // ~9 closures a year, 1990-2021
}

TEST(NyseCalendar, KnownDates) {
  const TradingCalendar& cal = TradingCalendar::nyse();
  EXPECT_TRUE(cal.is_session(Date::parse("2019-12-24")));
  EXPECT_FALSE(cal.is_session(Date::parse("2019-12-25")));
  EXPECT_FALSE(cal.is_session(Date::parse("2019-12-28")));  // Saturday
  EXPECT_FALSE(cal.is_holiday(Date::parse("2019-12-28")));  // weekends are not holidays
  EXPECT_FALSE(cal.is_session(Date::parse("2025-01-09")));  // President Carter's funeral
  EXPECT_FALSE(cal.is_session(Date::parse("2024-06-19")));  // Juneteenth
  EXPECT_FALSE(cal.is_session(Date::parse("2022-06-20")));  // Juneteenth observed (Sunday)
  EXPECT_TRUE(cal.is_session(Date::parse("2021-12-31")));   // New Year on Saturday: not observed
  EXPECT_FALSE(cal.is_session(Date::parse("2021-12-24")));  // Christmas on Saturday: Friday
  EXPECT_EQ(cal.next_session(Date::parse("2019-12-24")), Date::parse("2019-12-26"));
  EXPECT_EQ(cal.previous_session(Date::parse("2020-01-02")), Date::parse("2019-12-31"));
  EXPECT_EQ(cal.next_session(Date::parse("2020-04-09")), Date::parse("2020-04-13"));  // Good Fri
  EXPECT_EQ(cal.sessions(Date::parse("2019-01-01"), Date::parse("2019-12-31")).size(), 252u);
  EXPECT_TRUE(cal.sessions(Date::parse("2020-01-02"), Date::parse("2020-01-01")).empty());
}

TEST(NyseCalendar, SessionOpenWinterAndSummer) {
  const TradingCalendar& cal = TradingCalendar::nyse();
  EXPECT_EQ(format_ts_ns(cal.session_open_ts_ns(Date::parse("2020-01-02"))),
            "2020-01-02T14:30:00Z");
  EXPECT_EQ(format_ts_ns(cal.session_open_ts_ns(Date::parse("2020-07-01"))),
            "2020-07-01T13:30:00Z");
  EXPECT_EQ(format_ts_ns(cal.session_close_ts_ns(Date::parse("2020-07-01"))),
            "2020-07-01T20:00:00Z");
  // The Monday after each 2020 switch (Mar 8, Nov 1).
  EXPECT_EQ(format_ts_ns(cal.session_open_ts_ns(Date::parse("2020-03-09"))),
            "2020-03-09T13:30:00Z");
  EXPECT_EQ(format_ts_ns(cal.session_open_ts_ns(Date::parse("2020-11-02"))),
            "2020-11-02T14:30:00Z");
  EXPECT_EQ(format_ts_ns(cal.session_open_ts_ns(Date::parse("2020-03-06"))),
            "2020-03-06T14:30:00Z");
  EXPECT_EQ(new_york_utc_offset_hours(Date::parse("2006-04-03")), -4);  // old rules: first Sunday
  EXPECT_EQ(new_york_utc_offset_hours(Date::parse("2006-03-31")), -5);
}

TEST(NyseCalendar, ByName) {
  EXPECT_EQ(&TradingCalendar::by_name("nyse"), &TradingCalendar::nyse());
  EXPECT_EQ(&TradingCalendar::by_name("XNYS"), &TradingCalendar::nyse());
  EXPECT_EQ(&TradingCalendar::by_name("fx"), &TradingCalendar::fx());
  EXPECT_EQ(TradingCalendar::fx().name(), "fx");
  expect_error([] { TradingCalendar::by_name("lse"); }, ErrorCategory::kInvalidInput);
}

// The early (13:00) closes and full closures 2000-2030 of the merged file (Lean, vacanza,
// exchange_calendars, pandas_market_calendars agreeing), day by day: the half days intraday
// bars and session_close_ts_ns depend on.
TEST(NyseCalendar, EarlyClosesAndClosuresMatchTheMergedReference2000To2030) {
  std::ifstream in(kCalendars / "nyse_closures_2000_2030_merged.csv");
  if (!in) GTEST_SKIP() << "no ../shared/data here";
  std::set<int32_t> early, closed;
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line)) {
    if (line.size() < 10) continue;
    const Date d = Date::parse(line.substr(0, 10));
    (line.find(",early_close,") != std::string::npos ? early : closed).insert(d.days_since_epoch());
  }
  ASSERT_EQ(early.size(), 69u);
  const TradingCalendar& nyse = TradingCalendar::nyse();
  for (Date d = Date::from_ymd(2000, 1, 1); d <= Date::from_ymd(2030, 12, 31); d = d + 1) {
    if (d.weekday() == 0 || d.weekday() == 6) continue;
    const bool want_early = early.contains(d.days_since_epoch());
    EXPECT_EQ(nyse.is_early_close(d), want_early) << d.to_string();
    EXPECT_EQ(nyse.is_holiday(d), closed.contains(d.days_since_epoch())) << d.to_string();
    if (want_early) {
      // 13:00 New York: 18:00 UTC in winter, 17:00 in summer.
      const int64_t close = nyse.session_close_ts_ns(d);
      EXPECT_EQ(close - to_ts_ns(d), (13 - new_york_utc_offset_hours(d)) * 3600 * kNanosPerSecond) << d.to_string();
    }
  }
}

// 24x5: Monday's session opens Sunday 17:00 New York; January 1 and December 25 are closed.
TEST(FxCalendar, SessionsRunFrom17NewYorkToThe17OfTheDay) {
  const TradingCalendar& fx = TradingCalendar::fx();
  EXPECT_TRUE(fx.is_session(Date::parse("2012-02-06")));
  EXPECT_FALSE(fx.is_session(Date::parse("2012-02-05")));  // Sunday
  EXPECT_FALSE(fx.is_session(Date::parse("2013-01-01")));
  EXPECT_FALSE(fx.is_session(Date::parse("2012-12-25")));
  EXPECT_TRUE(fx.is_session(Date::parse("2012-11-22")));   // Thanksgiving trades
  EXPECT_EQ(format_ts_ns(fx.session_open_ts_ns(Date::parse("2012-02-06"))), "2012-02-05T22:00:00Z");
  EXPECT_EQ(format_ts_ns(fx.session_close_ts_ns(Date::parse("2012-02-10"))), "2012-02-10T22:00:00Z");
  EXPECT_EQ(format_ts_ns(fx.session_open_ts_ns(Date::parse("2012-07-02"))), "2012-07-01T21:00:00Z");  // EDT
  EXPECT_EQ(fx.session_of(parse_ts_ns("2012-02-10T21:59:00Z")), Date::parse("2012-02-10"));
  EXPECT_EQ(fx.session_of(parse_ts_ns("2012-07-01T21:00:00Z")), Date::parse("2012-07-02"));
  EXPECT_EQ(TradingCalendar::nyse().session_of(parse_ts_ns("2012-07-02T03:59:00Z")), Date::parse("2012-07-01"));
  EXPECT_FALSE(fx.is_early_close(Date::parse("2012-11-23")));
}

}  // namespace
}  // namespace trib

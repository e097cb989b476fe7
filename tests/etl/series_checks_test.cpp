// The rules across rows (etl/series_checks.hpp), each on a real example from ../shared/data:
//  - unexplained_jump: Lean's raw AAPL with no actions recorded shows the 2014 7:1 and 2020 4:1
//    splits as jumps (named as such); with Lean's factor file's actions, none;
//  - missing_sessions: Lean's WM file lacks 2008-09-29 onwards for weeks (the WMI/WM change);
//  - stale_bars: Lean's BNO file repeats a flat, zero-volume bar 5 sessions running;
//  - out_of_bounds: AAPL's closes above 700 in 2012 with max_price = 700;
//  - outside_calendar: the 2021-03-31 bar with "today" 2021-03-30; 1980s dates before NYSE's range;
//  - session_mismatch: a daily bar whose timestamp is on another day; an FX minute bar on the
//    NYSE calendar.
#include <gtest/gtest.h>

#include <algorithm>

#include "trib/etl/series_checks.hpp"
#include "trib/providers/action_files.hpp"
#include "../core/lean_data.hpp"
#include "../core/test_util.hpp"

using namespace trib;
using namespace trib::etl;

namespace {

std::vector<lake::CuratedBar> lean(const std::string& symbol) {
  std::vector<lake::CuratedBar> out;
  for (const Bar& b : trib::testing::lean_raw_daily(symbol)) out.push_back({b, "csv", "", 0});
  return out;
}

std::vector<CorporateAction> lean_actions(const std::string& symbol, const std::string& file) {
  std::vector<CorporateAction> out;
  const std::string text = trib::testing::slurp(trib::testing::lean_daily_dir() / "factor_files" / file);
  for (const auto& a : providers::parse_action_file(text, providers::ActionFileFormat::kLeanFactor,
                                                    Symbol::parse(symbol)).actions) {
    out.push_back(a.action);
  }
  return out;
}

std::vector<SeriesFinding> of_rule(const std::vector<SeriesFinding>& all, const std::string& rule) {
  std::vector<SeriesFinding> out;
  std::copy_if(all.begin(), all.end(), std::back_inserter(out), [&](const auto& f) { return f.rule == rule; });
  return out;
}

SeriesCheckOptions options() {
  SeriesCheckOptions o;
  o.today = Date::parse("2026-12-04");
  return o;
}

bool have_data() { return std::filesystem::exists(trib::testing::lean_daily_dir()); }

}  // namespace

TEST(SeriesChecks, SplitsWithoutActionsAreUnexplainedJumpsNamedAsSplits) {
  if (!have_data()) GTEST_SKIP() << "no ../shared/data here";
  const auto rows = lean("AAPL");
  const auto jumps = of_rule(check_series(Symbol::parse("AAPL"), rows, {}, options()), "unexplained_jump");
  std::vector<std::string> days;
  for (const auto& f : jumps) days.push_back(f.first.to_string());
  // The four splits of 1998-2021 (2000-06-21 2:1, 2005-02-28 2:1, 2014-06-09 7:1, 2020-08-31 4:1)
  // are beyond ln 0.4, and so is one real move: 2000-09-29 fell 52% (ln -0.73).
  EXPECT_NE(std::find(days.begin(), days.end(), "2014-06-09"), days.end());
  EXPECT_NE(std::find(days.begin(), days.end(), "2020-08-31"), days.end());
  for (const auto& f : jumps) {
    if (f.first == Date::parse("2014-06-09")) EXPECT_NE(f.detail.find("7:1 split"), std::string::npos) << f.detail;
    if (f.first == Date::parse("2020-08-31")) EXPECT_NE(f.detail.find("4:1 split"), std::string::npos) << f.detail;
  }
  // With Lean's actions the four splits are explained; the real crash stays (its -52% is near a
  // 2:1 ratio, and the message says "if it is one").
  const auto explained = of_rule(check_series(Symbol::parse("AAPL"), rows, lean_actions("AAPL", "aapl.csv"), options()),
                                 "unexplained_jump");
  EXPECT_EQ(explained.size() + 4, jumps.size());
  ASSERT_EQ(explained.size(), 1u);
  EXPECT_EQ(explained[0].first, Date::parse("2000-09-29"));
  EXPECT_NE(explained[0].detail.find("near a 2:1 split's ratio: if it is one"), std::string::npos) << explained[0].detail;
}

TEST(SeriesChecks, MissingSessionsAreRunsAgainstTheCalendar) {
  if (!have_data()) GTEST_SKIP() << "no ../shared/data here";
  const auto missing = of_rule(check_series(Symbol::parse("WM"), lean("WM"), {}, options()), "missing_sessions");
  ASSERT_FALSE(missing.empty());
  int64_t total = 0;
  for (const auto& f : missing) total += f.count;
  // Counted independently against exchange_calendars' XNYS sessions (tests/core has that file):
  // WM's file misses 214 sessions between its first and last bar.
  EXPECT_EQ(total, 214);
  const auto& first = missing.front();
  EXPECT_EQ(first.first, Date::parse("2008-09-29"));
  EXPECT_GT(first.count, 1);
  EXPECT_NE(first.detail.find("consecutive nyse sessions 2008-09-29 to"), std::string::npos) << first.detail;
  // AAPL's file is complete.
  EXPECT_TRUE(of_rule(check_series(Symbol::parse("AAPL"), lean("AAPL"), {}, options()), "missing_sessions").empty());
}

TEST(SeriesChecks, StaleBarsAreFlatZeroVolumeRuns) {
  if (!have_data()) GTEST_SKIP() << "no ../shared/data here";
  const auto rows = lean("BNO");
  auto stale = of_rule(check_series(Symbol::parse("BNO"), rows, {}, options()), "stale_bars");
  ASSERT_EQ(stale.size(), 1u);
  EXPECT_EQ(stale[0].count, 5);
  // Every bar in the run is flat with zero volume (checked on the rows themselves).
  for (const auto& r : rows) {
    if (r.bar.session_date >= stale[0].first && r.bar.session_date <= stale[0].last) {
      EXPECT_EQ(r.bar.volume, 0);
      EXPECT_EQ(r.bar.open, r.bar.close);
      EXPECT_EQ(r.bar.high, r.bar.low);
    }
  }
  SeriesCheckOptions longer = options();
  longer.thresholds.stale_sessions = 6;
  EXPECT_TRUE(of_rule(check_series(Symbol::parse("BNO"), rows, {}, longer), "stale_bars").empty());
}

TEST(SeriesChecks, BoundsCalendarRangeAndSessionMismatch) {
  if (!have_data()) GTEST_SKIP() << "no ../shared/data here";
  auto rows = lean("AAPL");
  SeriesCheckOptions o = options();
  o.thresholds.max_price = 700;
  o.today = Date::parse("2021-03-30");
  const auto found = check_series(Symbol::parse("AAPL"), rows, lean_actions("AAPL", "aapl.csv"), o);
  const auto bounds = of_rule(found, "out_of_bounds");
  // AAPL traded above 700 (its high) on sessions of 2012 and 2014 only.
  ASSERT_FALSE(bounds.empty());
  for (const auto& f : bounds) {
    EXPECT_TRUE(f.first.year() == 2012 || f.first.year() == 2014) << f.detail;
    EXPECT_NE(f.detail.find("above [quality] max_price 700"), std::string::npos) << f.detail;
  }
  const auto future = of_rule(found, "outside_calendar");
  ASSERT_EQ(future.size(), 1u);
  EXPECT_EQ(future[0].first, Date::parse("2021-03-31"));
  EXPECT_TRUE(of_rule(found, "session_mismatch").empty());

  // A timestamp on the next session's open; a date before the NYSE calendar's range.
  rows[100].bar.ts_ns = TradingCalendar::nyse().session_open_ts_ns(rows[101].bar.session_date);
  rows[0].bar.session_date = Date::parse("1989-12-29");
  rows[0].bar.ts_ns = to_ts_ns(rows[0].bar.session_date);
  const auto bad = check_series(Symbol::parse("AAPL"), rows, {}, options());
  const auto mismatch = of_rule(bad, "session_mismatch");
  ASSERT_EQ(mismatch.size(), 1u);
  EXPECT_EQ(mismatch[0].first, rows[100].bar.session_date);
  const auto range = of_rule(bad, "outside_calendar");
  ASSERT_EQ(range.size(), 1u);
  EXPECT_NE(range[0].detail.find("outside the nyse calendar's range 1990-01-01"), std::string::npos) << range[0].detail;
}

TEST(SeriesChecks, FxMinuteBarsBelongToTheSessionStartingAt17NewYork) {
  // FXCM's GBPUSD bar of Sunday 2012-02-05 22:00 UTC (17:00 New York) opens Monday's session.
  const int64_t sunday = parse_ts_ns("2012-02-05T22:00:00Z");
  EXPECT_EQ(TradingCalendar::fx().session_of(sunday), Date::parse("2012-02-06"));
  EXPECT_EQ(TradingCalendar::fx().session_of(sunday - 60 * kNanosPerSecond), Date::parse("2012-02-05"));
  EXPECT_EQ(TradingCalendar::fx().session_open_ts_ns(Date::parse("2012-02-06")), sunday);
  EXPECT_FALSE(TradingCalendar::fx().is_session(Date::parse("2012-12-25")));
  lake::CuratedBar bar{{sunday, Date::parse("2012-02-06"), 1.5, 1.5, 1.5, 1.5, 0}, "csv", "", 0};
  SeriesCheckOptions fx = options();
  fx.timeframe = Timeframe::kMinute1;
  fx.calendar = &TradingCalendar::fx();
  EXPECT_TRUE(of_rule(check_series(Symbol::parse("GBPUSD"), {bar}, {}, fx), "session_mismatch").empty());
  fx.calendar = &TradingCalendar::nyse();  // on the NYSE calendar the same bar is Sunday's
  EXPECT_EQ(of_rule(check_series(Symbol::parse("GBPUSD"), {bar}, {}, fx), "session_mismatch").size(), 1u);
}

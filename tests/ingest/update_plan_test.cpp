// The daily updater's clock (fake): which session is complete at a given instant (weekends,
// holidays, early closes, the vendor's publishing delay), what an update plans after a missed
// week, and that planning twice gives the same tasks. Also how backfills are cut per vendor.
#include <gtest/gtest.h>

#include "trib/catalog/catalog.hpp"
#include "trib/core/calendar.hpp"
#include "trib/ingest/task.hpp"
#include "../core/test_util.hpp"
#include "../support/new_york_clock.hpp"

namespace trib::ingest {
namespace {

int64_t ny(const char* date, int hour, int minute = 0) { return trib::testing::new_york_ns(date, hour, minute); }

std::string last(int64_t now, int delay = 0) {
  return last_completed_session(TradingCalendar::nyse(), now, delay).to_string();
}

TEST(LastCompletedSession, BeforeAndAfterTheClose) {
  // Wednesday 2024-03-13: before 16:00 New York the newest complete session is Tuesday's.
  EXPECT_EQ(last(ny("2024-03-13", 15, 59)), "2024-03-12");
  EXPECT_EQ(last(ny("2024-03-13", 16, 0)), "2024-03-13");
  // Late evening in New York is already the next day in UTC.
  EXPECT_EQ(last(ny("2024-03-13", 23, 30)), "2024-03-13");
}

TEST(LastCompletedSession, WeekendsAndHolidays) {
  EXPECT_EQ(last(ny("2024-03-16", 12)), "2024-03-15");  // Saturday -> Friday
  EXPECT_EQ(last(ny("2024-03-17", 23)), "2024-03-15");  // Sunday night -> Friday
  EXPECT_EQ(last(ny("2024-03-18", 9, 30)), "2024-03-15");  // Monday before the close
  // Good Friday 2024-03-29 and the weekend after: Thursday 28th is the newest.
  EXPECT_EQ(last(ny("2024-03-29", 17)), "2024-03-28");
  EXPECT_EQ(last(ny("2024-04-01", 10)), "2024-03-28");
  // Thanksgiving 2024-11-28 (closed).
  EXPECT_EQ(last(ny("2024-11-28", 18)), "2024-11-27");
}

TEST(LastCompletedSession, EarlyClosesEndAt13) {
  const auto& nyse = TradingCalendar::nyse();
  EXPECT_TRUE(nyse.is_early_close(Date::parse("2024-11-29")));   // day after Thanksgiving
  EXPECT_TRUE(nyse.is_early_close(Date::parse("2024-12-24")));   // Christmas Eve, a Tuesday
  EXPECT_TRUE(nyse.is_early_close(Date::parse("2024-07-03")));   // July 4 is a Thursday
  EXPECT_FALSE(nyse.is_early_close(Date::parse("2021-07-02")));  // July 4 2021 was a Sunday
  EXPECT_FALSE(nyse.is_early_close(Date::parse("2024-11-27")));
  EXPECT_EQ(last(ny("2024-11-29", 13, 5)), "2024-11-29");
  EXPECT_EQ(last(ny("2024-11-29", 12, 55)), "2024-11-27");
  EXPECT_EQ(nyse.session_close_ts_ns(Date::parse("2024-12-24")), ny("2024-12-24", 13));
}

TEST(LastCompletedSession, ThePublishingDelayHoldsTheDayBack) {
  EXPECT_EQ(last(ny("2024-03-13", 16, 20), 30), "2024-03-12");
  EXPECT_EQ(last(ny("2024-03-13", 16, 30), 30), "2024-03-13");
  EXPECT_EQ(last(ny("2024-11-29", 13, 45), 60), "2024-11-27");  // early close + 60 min = 14:00
  EXPECT_EQ(last(ny("2024-11-29", 14, 0), 60), "2024-11-29");
}

TEST(NextUpdate, TheNextCloseAfterNowPlusTheDelay) {
  const auto& nyse = TradingCalendar::nyse();
  auto next = [&](int64_t now, int delay = 0) { return next_update_ns(nyse, now, delay); };
  // Wednesday before and after the close.
  EXPECT_EQ(next(ny("2024-03-13", 10)), ny("2024-03-13", 16));
  EXPECT_EQ(next(ny("2024-03-13", 16)), ny("2024-03-14", 16)) << "strictly after now";
  EXPECT_EQ(next(ny("2024-03-13", 16, 10), 30), ny("2024-03-13", 16, 30));
  // Friday evening, Saturday, Sunday night -> Monday's close.
  EXPECT_EQ(next(ny("2024-03-15", 17)), ny("2024-03-18", 16));
  EXPECT_EQ(next(ny("2024-03-16", 12)), ny("2024-03-18", 16));
  EXPECT_EQ(next(ny("2024-03-17", 23, 30)), ny("2024-03-18", 16));
  // Good Friday 2024-03-29: Thursday evening -> Monday April 1.
  EXPECT_EQ(next(ny("2024-03-28", 18)), ny("2024-04-01", 16));
  // Thanksgiving (closed) -> the early close at 13:00 on Friday, + 60 min.
  EXPECT_EQ(next(ny("2024-11-27", 20), 60), ny("2024-11-29", 14));
  // Across the switch to daylight time (Sunday 2024-03-10): Friday evening -> Monday 16:00 EDT.
  EXPECT_EQ(next(ny("2024-03-08", 17)), ny("2024-03-11", 16));
}

class UpdatePlanTest : public ::testing::Test {
 protected:
  trib::testing::TempDir dir_;
  std::unique_ptr<catalog::Catalog> catalog_ = catalog::open_sqlite_catalog(dir_.path() / "c.db");

  UpdatePlan plan(int64_t now) {
    UpdatePlan p;
    p.vendor = "polygon";
    p.symbols = {Symbol::parse("AAPL"), Symbol::parse("MSFT")};
    p.start = Date::parse("2024-01-02");
    p.now_ns = now;
    p.run_id = "update-test";
    p.max_sessions_per_task = 0;
    p.publish_delay_minutes = 30;
    return p;
  }
  void mark(const std::string& symbol, const std::string& date) {
    catalog_->advance_watermark({"polygon", "bars", symbol, date});
  }
};

TEST_F(UpdatePlanTest, AMissedWeekIsOneTaskFromTheWatermark) {
  mark("AAPL", "2024-03-08");  // a Friday; the updater then missed a week
  mark("MSFT", "2024-03-15");
  const auto tasks = plan_update(*catalog_, plan(ny("2024-03-18", 17)));
  ASSERT_EQ(tasks.size(), 2u);
  EXPECT_EQ(tasks[0].symbol.str(), "AAPL");
  EXPECT_EQ(tasks[0].from.to_string(), "2024-03-09");  // the day after the watermark
  EXPECT_EQ(tasks[0].to.to_string(), "2024-03-18");
  EXPECT_EQ(tasks[1].symbol.str(), "MSFT");
  EXPECT_EQ(tasks[1].from.to_string(), "2024-03-16");
}

TEST_F(UpdatePlanTest, RunningTwiceADayPlansTheSameTasksAndNothingWhenCurrent) {
  mark("AAPL", "2024-03-14");
  mark("MSFT", "2024-03-14");
  const auto morning = plan_update(*catalog_, plan(ny("2024-03-15", 9)));
  EXPECT_TRUE(morning.empty());  // Thursday's bars are in; Friday has not closed
  const auto evening = plan_update(*catalog_, plan(ny("2024-03-15", 18)));
  const auto again = plan_update(*catalog_, plan(ny("2024-03-15", 22)));
  ASSERT_EQ(evening.size(), 2u);
  ASSERT_EQ(again.size(), 2u);
  for (size_t i = 0; i < evening.size(); ++i) EXPECT_EQ(evening[i].id(), again[i].id());
  // Over the weekend nothing new closes: the same tasks, so the queue's dedupe key holds.
  const auto saturday = plan_update(*catalog_, plan(ny("2024-03-16", 12)));
  ASSERT_EQ(saturday.size(), 2u);
  EXPECT_EQ(saturday[0].id(), evening[0].id());
  // Once the watermark moves (the curated commit), the symbol is current.
  mark("AAPL", "2024-03-15");
  mark("MSFT", "2024-03-15");
  EXPECT_TRUE(plan_update(*catalog_, plan(ny("2024-03-17", 12))).empty());
}

TEST_F(UpdatePlanTest, ANeverIngestedSymbolStartsAtTheStartDate) {
  const auto tasks = plan_update(*catalog_, plan(ny("2024-01-05", 18)));
  ASSERT_EQ(tasks.size(), 2u);
  EXPECT_EQ(tasks[0].from.to_string(), "2024-01-02");
  EXPECT_EQ(tasks[0].to.to_string(), "2024-01-05");
}

TEST(BackfillCuts, PerPartitionWholeRangeOrSessionChunks) {
  BackfillPlan p;
  p.vendor = "alpaca";
  p.symbols = {Symbol::parse("AAPL")};
  p.from = Date::parse("2015-01-01");
  p.to = Date::parse("2024-12-31");
  p.max_sessions_per_task = -1;
  EXPECT_EQ(plan_backfill(p).size(), 10u);  // a year each
  p.max_sessions_per_task = 0;
  auto whole = plan_backfill(p);
  ASSERT_EQ(whole.size(), 1u);
  EXPECT_EQ(whole[0].from, p.from);
  EXPECT_EQ(whole[0].to, p.to);
  // 2024 has 252 NYSE sessions: chunks of 100 give 100 + 100 + 52, contiguous and covering.
  p.from = Date::parse("2024-01-01");
  p.max_sessions_per_task = 100;
  auto chunks = plan_backfill(p);
  ASSERT_EQ(chunks.size(), 3u);
  EXPECT_EQ(chunks[0].from, p.from);
  EXPECT_EQ(chunks[2].to, p.to);
  for (size_t i = 1; i < chunks.size(); ++i) EXPECT_EQ(chunks[i].from, chunks[i - 1].to + 1);
  EXPECT_EQ(TradingCalendar::nyse().sessions(chunks[0].from, chunks[0].to).size(), 100u);
  EXPECT_EQ(TradingCalendar::nyse().sessions(chunks[2].from, chunks[2].to).size(), 52u);
}

}  // namespace
}  // namespace trib::ingest

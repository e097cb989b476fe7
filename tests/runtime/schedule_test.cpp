// The update schedule on a fake clock: a run at start (catch-up), then one after each session's
// close + delay (weekend, holiday, early close), a sooner retry after an unfinished or failed
// run, and a prompt stop.
#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <vector>

#include "trib/core/calendar.hpp"
#include "trib/core/time.hpp"
#include "trib/runtime/schedule.hpp"
#include "../support/new_york_clock.hpp"

namespace trib::runtime {
namespace {

int64_t ny(const char* date, int hour, int minute = 0) { return trib::testing::new_york_ns(date, hour, minute); }

struct FakeClock {
  int64_t now;
  ScheduleOptions options(int delay_minutes) {
    ScheduleOptions o;
    o.publish_delay_minutes = delay_minutes;
    o.now_ns = [this] { return now; };
    o.sleep_until = [this](int64_t until, const std::atomic<bool>& stop) {
      if (stop.load()) return false;
      now = until;
      return true;
    };
    return o;
  }
};

TEST(RunEverySession, CatchesUpAtOnceThenRunsAfterEachCloseSkippingHolidays) {
  FakeClock clock{ny("2024-11-26", 9)};  // Tuesday morning before Thanksgiving
  std::atomic<bool> stop{false};
  std::vector<int64_t> runs;
  const int n = run_every_session(
      [&](int64_t now) {
        runs.push_back(now);
        if (runs.size() == 5) stop = true;
        return true;
      },
      TradingCalendar::nyse(), clock.options(30), stop);
  EXPECT_EQ(n, 5);
  ASSERT_EQ(runs.size(), 5u);
  EXPECT_EQ(runs[0], ny("2024-11-26", 9));        // at start
  EXPECT_EQ(runs[1], ny("2024-11-26", 16, 30));   // Tuesday close + 30 min
  EXPECT_EQ(runs[2], ny("2024-11-27", 16, 30));   // Wednesday
  EXPECT_EQ(runs[3], ny("2024-11-29", 13, 30));   // Thanksgiving skipped; Friday closes at 13:00
  EXPECT_EQ(runs[4], ny("2024-12-02", 16, 30));   // the weekend skipped
}

TEST(RunEverySession, AnUnfinishedOrFailedRunIsRetriedSooner) {
  FakeClock clock{ny("2024-03-13", 17)};
  std::atomic<bool> stop{false};
  std::vector<int64_t> runs;
  std::vector<int64_t> announced;
  run_every_session(
      [&](int64_t now) {
        runs.push_back(now);
        if (runs.size() == 1) return false;                                // a vendor was down
        if (runs.size() == 2) throw std::runtime_error("catalog unreachable");  // logged, retried
        if (runs.size() == 4) stop = true;
        return true;
      },
      TradingCalendar::nyse(), clock.options(0), stop, [&](int64_t next) { announced.push_back(next); });
  ASSERT_EQ(runs.size(), 4u);
  EXPECT_EQ(runs[1], ny("2024-03-13", 17, 15));
  EXPECT_EQ(runs[2], ny("2024-03-13", 17, 30));
  EXPECT_EQ(runs[3], ny("2024-03-14", 16));
  EXPECT_EQ(announced.size(), 3u) << "no wait announced after the stopping run";
}

TEST(RunEverySession, StopsWhileWaiting) {
  std::atomic<bool> stop{false};
  ScheduleOptions options;
  options.now_ns = [] { return ny("2024-03-13", 17); };
  options.sleep_until = [&](int64_t, const std::atomic<bool>&) { return false; };  // SIGTERM
  int calls = 0;
  EXPECT_EQ(run_every_session([&](int64_t) { return ++calls > 0; }, TradingCalendar::nyse(), options, stop), 1);
}

}  // namespace
}  // namespace trib::runtime

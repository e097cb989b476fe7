#include "trib/runtime/schedule.hpp"

#include <algorithm>
#include <chrono>
#include <thread>

#include "trib/core/error.hpp"
#include "trib/core/log.hpp"
#include "trib/core/time.hpp"
#include "trib/ingest/task.hpp"

namespace trib::runtime {
namespace {

bool poll_until(int64_t until_ns, const std::atomic<bool>& stop) {
  while (!stop.load()) {
    const int64_t left = until_ns - now_ts_ns();
    if (left <= 0) return true;
    std::this_thread::sleep_for(std::chrono::nanoseconds(std::min<int64_t>(left, 1'000'000'000)));
  }
  return false;
}

}  // namespace

int run_every_session(const ScheduledRun& run, const TradingCalendar& calendar,
                      const ScheduleOptions& options, const std::atomic<bool>& stop,
                      const NextRunListener& on_next) {
  const auto now = options.now_ns ? options.now_ns : [] { return now_ts_ns(); };
  const auto sleep_until = options.sleep_until ? options.sleep_until : poll_until;
  int runs = 0;
  while (!stop.load()) {
    bool finished = false;
    try {
      finished = run(now());
    } catch (const std::exception& e) {
      log::error("scheduled update failed: {}", e.what());
    }
    ++runs;
    if (stop.load()) break;
    const int64_t t = now();
    int64_t next = ingest::next_update_ns(calendar, t, options.publish_delay_minutes);
    if (!finished && options.retry_minutes > 0) {
      next = std::min(next, t + int64_t{options.retry_minutes} * 60 * 1'000'000'000);
    }
    if (on_next) on_next(next);
    if (!sleep_until(next, stop)) break;
  }
  return runs;
}

}  // namespace trib::runtime

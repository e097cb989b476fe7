// runtime: the daily update on a schedule, for a process that stays up (`trib update
// --every-session`, and `trib serve` later) where cron or the Functions timer is not used.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>

#include "trib/core/calendar.hpp"

namespace trib::runtime {

struct ScheduleOptions {
  int publish_delay_minutes = 0;  // run this long after each close (the slowest vendor's delay)
  // After a run that did not finish everything (an outage, a vendor down): try again this soon,
  // not only after the next close. 0 = wait for the next close.
  int retry_minutes = 15;
  std::function<int64_t()> now_ns;        // wall clock when unset
  // Waits until `until_ns` or until stop is set; returns false when stopped. Polls every second
  // when unset.
  std::function<bool(int64_t until_ns, const std::atomic<bool>& stop)> sleep_until;
};

// What one run reports: true when everything planned is done.
using ScheduledRun = std::function<bool(int64_t now_ns)>;
// Told the time of the next run before each wait.
using NextRunListener = std::function<void(int64_t next_ns)>;

// Runs `run` at once (catching up whatever was missed while nothing ran), then at each session's
// close + publish delay of `calendar` (weekends and holidays have none; early closes count),
// sooner by retry_minutes after a run that did not finish everything, until `stop`. A run that
// throws is logged and counts as unfinished: the loop keeps going. Returns how many runs it made.
int run_every_session(const ScheduledRun& run, const TradingCalendar& calendar,
                      const ScheduleOptions& options, const std::atomic<bool>& stop,
                      const NextRunListener& on_next = nullptr);

}  // namespace trib::runtime

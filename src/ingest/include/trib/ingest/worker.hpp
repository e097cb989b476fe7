// The queue worker loop: receive, decode the task, handle it while a lease keeper renews the
// lease, remove. Failures are sorted by category: transient ones are released for a retry with
// backoff (the queue poisons them after max_attempts); permanent ones (invalid input, not found,
// permanent, data loss) go to the poison queue at once, since retrying cannot help.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "trib/ingest/task.hpp"
#include "trib/core/error.hpp"
#include "trib/queue/task_queue.hpp"

namespace trib::ingest {

struct WorkerOptions {
  int visibility_timeout_s = 60;
  // Keep polling while leased messages are outstanding (another worker may crash and its task
  // reappear); return once the queue holds no message at all.
  bool exit_when_empty = true;
  int64_t max_tasks = -1;  // stop after this many (tests); -1 = unlimited
  // A poll of the queue (receive, or the count that decides whether it is empty) that fails
  // with a transient error (retryable, rate-limited) after the queue client's own retries is
  // tried again with backoff (0.2 s doubling to 2 s), up to this many times in a row; then the
  // error ends the drain. Other errors end it at once.
  int max_poll_failures = 20;
  // Opens a second connection to the same queue for the lease keeper (a queue object belongs to
  // one thread; it is opened once per drain and reused). When set, a running task's lease is renewed every visibility_timeout / 3, so a
  // task longer than its visibility timeout is not delivered to a second worker.
  std::function<std::unique_ptr<queue::TaskQueue>()> open_lease_queue;
};

struct WorkerStats {
  int64_t processed = 0;     // handled and removed
  int64_t failed = 0;        // attempts that threw and were released for a retry
  int64_t dead_lettered = 0; // sent to the poison queue at once (permanent errors)
  int64_t renewals = 0;      // lease renewals while tasks ran
  int64_t deferred = 0;      // deferrals: a vendor budget used up (providers::BudgetExhausted)
  int64_t left_deferred = 0; // messages left in the queue, all deferred, when the drain ended
};

// True for the categories a retry cannot fix.
bool is_permanent(ErrorCategory category);
// A storage or queue service having a bad second (retryable, rate-limited): worth another try
// after transient_backoff_ms(failures in a row), 0.2 s doubling to 2 s. What a polling worker
// does, and a worker opening its backends (runtime::run_worker).
bool is_transient(const Error& e);
int transient_backoff_ms(int failures);

// Drains `queue`. A handler error releases the message with capped exponential backoff (1 s, 2 s,
// 4 s ... 60 s; rate limits x4) and the error text, or dead-letters it when permanent. A body that
// is not a task is dead-lettered at once. A used-up vendor budget (providers::BudgetExhausted)
// defers the message until the budget allows, without spending an attempt; with
// exit_when_empty the drain then ends once only deferred messages are left. `stop`, when set, ends the loop after the current task.
WorkerStats drain_queue(queue::TaskQueue& queue, const std::function<void(const Task&)>& handle,
                        const WorkerOptions& options, const std::atomic<bool>* stop = nullptr);

}  // namespace trib::ingest

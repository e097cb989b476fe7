#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include "trib/ingest/task.hpp"
#include "trib/queue/task_queue.hpp"

namespace trib::ingest {

struct WorkerOptions {
  int visibility_timeout_s = 60;
  // Keep polling while leased messages are outstanding (another worker may crash and its task
  // reappear); return once the queue holds no message at all.
  bool exit_when_empty = true;
  int64_t max_tasks = -1;  // stop after this many (tests); -1 = unlimited
};

struct WorkerStats {
  int64_t processed = 0;  // handled and removed
  int64_t failed = 0;     // attempts that threw and were released for retry / poison
};

// Drains `queue`: receive, decode the task, handle, remove. A handler error releases the
// message with capped exponential backoff (1 s, 2 s, 4 s ... 60 s) and the error text; after
// max_attempts the queue moves it to poison. A body that is not a task is released at once with
// no delay, so it reaches poison after max_attempts quick deliveries.
// `stop`, when set, ends the loop after the current task.
WorkerStats drain_queue(queue::TaskQueue& queue, const std::function<void(const Task&)>& handle,
                        const WorkerOptions& options, const std::atomic<bool>* stop = nullptr);

}  // namespace trib::ingest

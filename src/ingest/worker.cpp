#include "trib/ingest/worker.hpp"

#include <algorithm>
#include <chrono>
#include <thread>

#include "trib/core/error.hpp"
#include "trib/core/log.hpp"

namespace trib::ingest {

WorkerStats drain_queue(queue::TaskQueue& queue, const std::function<void(const Task&)>& handle,
                        const WorkerOptions& options, const std::atomic<bool>* stop) {
  using std::chrono::milliseconds;
  using std::chrono::seconds;
  WorkerStats stats;
  int idle_polls = 0;
  while (stop == nullptr || !stop->load()) {
    if (options.max_tasks >= 0 && stats.processed + stats.failed >= options.max_tasks) break;
    std::optional<queue::Message> message = queue.receive(seconds(options.visibility_timeout_s));
    if (!message) {
      if (options.exit_when_empty && queue.count() == 0) break;
      // Leased messages are outstanding (other workers, or a crashed one whose lease must
      // expire): poll with a gentle backoff.
      std::this_thread::sleep_for(milliseconds(std::min(50 * (1 << std::min(idle_polls, 4)), 500)));
      ++idle_polls;
      continue;
    }
    idle_polls = 0;
    try {
      Task task = Task::from_json(message->body);
      handle(task);
      queue.remove(*message);
      ++stats.processed;
    } catch (const Error& e) {
      ++stats.failed;
      int backoff = e.category() == ErrorCategory::kInvalidInput
                        ? 0
                        : std::min(60, 1 << std::min(message->dequeue_count - 1, 6));
      if (e.category() == ErrorCategory::kRateLimited) backoff = std::min(60, backoff * 4);
      log::warn("task {} failed (attempt {}, {}): {}", message->id, message->dequeue_count,
                to_string(e.category()), e.what());
      try {
        queue.release(*message, std::string(to_string(e.category())) + ": " + e.what(),
                      seconds(backoff));
      } catch (const Error& release_error) {
        log::warn("task {}: could not release: {}", message->id, release_error.what());
      }
    } catch (const std::exception& e) {
      ++stats.failed;
      log::error("task {} failed with an unexpected error: {}", message->id, e.what());
      try {
        queue.release(*message, std::string("internal: ") + e.what(), seconds(1));
      } catch (const Error&) {
      }
    }
  }
  return stats;
}

}  // namespace trib::ingest

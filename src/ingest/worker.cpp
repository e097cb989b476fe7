#include "trib/ingest/worker.hpp"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "trib/core/error.hpp"
#include "trib/core/log.hpp"

namespace trib::ingest {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// Renews one message's lease from its own thread and queue connection while the task runs; the
// pop receipt changes on every renewal, so the worker takes the latest one back when done.
class LeaseKeeper {
 public:
  // `queue` is a connection only this keeper uses while it lives.
  LeaseKeeper(queue::TaskQueue& queue, queue::Message message, int visibility_s)
      : queue_(queue), message_(std::move(message)), visibility_s_(visibility_s) {
    thread_ = std::thread([this] { run(); });
  }
  ~LeaseKeeper() { stop(); }

  // Stops renewing; returns the message with its current pop receipt.
  queue::Message stop() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
    return message_;
  }
  int64_t renewals() const { return renewals_; }

 private:
  void run() {
    const auto period = milliseconds(std::max<int64_t>(200, visibility_s_ * 1000 / 3));
    std::unique_lock lock(mutex_);
    while (!wake_.wait_for(lock, period, [this] { return stopping_; })) {
      try {
        queue_.update_visibility(message_, seconds(visibility_s_));
        ++renewals_;
      } catch (const Error& e) {
        // Lost the lease (it expired before we renewed, e.g. the machine stalled): the task may
        // run twice; handlers are idempotent. Keep going; remove() will say Conflict.
        log::warn("message {}: lease renewal failed: {}", message_.id, e.what());
        return;
      }
    }
  }

  queue::TaskQueue& queue_;
  queue::Message message_;
  int visibility_s_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  int64_t renewals_ = 0;
  std::thread thread_;
};

std::string describe_error(const Error& e) {
  return std::string(to_string(e.category())) + ": " + e.what();
}

}  // namespace

bool is_permanent(ErrorCategory category) {
  switch (category) {
    case ErrorCategory::kInvalidInput:
    case ErrorCategory::kNotFound:
    case ErrorCategory::kPermanent:
    case ErrorCategory::kDataLoss:
      return true;
    default:
      return false;
  }
}

WorkerStats drain_queue(queue::TaskQueue& queue, const std::function<void(const Task&)>& handle,
                        const WorkerOptions& options, const std::atomic<bool>* stop) {
  WorkerStats stats;
  int idle_polls = 0;
  int poll_failures = 0;  // transient poll failures in a row
  std::unique_ptr<queue::TaskQueue> lease_queue;  // opened on the first task, then reused
  while (stop == nullptr || !stop->load()) {
    if (options.max_tasks >= 0 &&
        stats.processed + stats.failed + stats.dead_lettered >= options.max_tasks) {
      break;
    }
    std::optional<queue::Message> message;
    bool empty = false;
    try {
      message = queue.receive(seconds(options.visibility_timeout_s));
      empty = !message && options.exit_when_empty && queue.count() == 0;
      poll_failures = 0;
    } catch (const Error& e) {
      // A storage service having a bad second is no reason for a worker to exit: poll again.
      const bool transient = e.category() == ErrorCategory::kRetryable ||
                             e.category() == ErrorCategory::kRateLimited;
      if (!transient || ++poll_failures > options.max_poll_failures) throw;
      const int delay_ms = std::min(2000, 200 << std::min(poll_failures - 1, 4));
      log::warn("polling the queue failed ({} in a row); polling again in {} ms: {}", poll_failures,
                delay_ms, e.what());
      std::this_thread::sleep_for(milliseconds(delay_ms));
      continue;
    }
    if (empty) break;
    if (!message) {
      // Leased messages are outstanding (other workers, or a crashed one whose lease must
      // expire): poll with a gentle backoff.
      std::this_thread::sleep_for(milliseconds(std::min(50 * (1 << std::min(idle_polls, 4)), 500)));
      ++idle_polls;
      continue;
    }
    idle_polls = 0;
    queue::Message current = *message;
    try {
      Task task = Task::from_json(message->body);
      std::unique_ptr<LeaseKeeper> keeper;
      if (options.open_lease_queue) {
        if (!lease_queue) lease_queue = options.open_lease_queue();
        keeper = std::make_unique<LeaseKeeper>(*lease_queue, *message, options.visibility_timeout_s);
      }
      try {
        handle(task);
      } catch (...) {
        if (keeper) current = keeper->stop();
        throw;
      }
      if (keeper) {
        current = keeper->stop();
        stats.renewals += keeper->renewals();
      }
      queue.remove(current);
      ++stats.processed;
    } catch (const Error& e) {
      if (is_permanent(e.category())) {
        ++stats.dead_lettered;
        log::warn("task {} failed permanently ({}), moved to the poison queue: {}", current.id,
                  to_string(e.category()), e.what());
        try {
          queue.dead_letter(current, describe_error(e));
        } catch (const Error& dead_letter_error) {
          log::warn("task {}: could not move it to poison: {}", current.id,
                    dead_letter_error.what());
        }
        continue;
      }
      ++stats.failed;
      int backoff = std::min(60, 1 << std::min(current.dequeue_count - 1, 6));
      if (e.category() == ErrorCategory::kRateLimited) backoff = std::min(60, backoff * 4);
      log::warn("task {} failed (attempt {}, {}): {}", current.id, current.dequeue_count,
                to_string(e.category()), e.what());
      try {
        queue.release(current, describe_error(e), seconds(backoff));
      } catch (const Error& release_error) {
        log::warn("task {}: could not release: {}", current.id, release_error.what());
      }
    } catch (const std::exception& e) {
      ++stats.failed;
      log::error("task {} failed with an unexpected error: {}", current.id, e.what());
      try {
        queue.release(current, std::string("internal: ") + e.what(), seconds(1));
      } catch (const Error&) {
      }
    }
  }
  return stats;
}

}  // namespace trib::ingest

#include "trib/ingest/worker.hpp"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include "trib/core/error.hpp"
#include "trib/core/log.hpp"
#include "trib/core/time.hpp"
#include "trib/providers/provider.hpp"

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

// The longest deferral: Azure's limit on hiding a message (7 days), less a minute.
constexpr int64_t kMaxDeferSeconds = 7 * 24 * 3600 - 60;

// True when every message still in the queue is deferred: none is visible, and each is hidden
// for longer than any lease lasts (a leased or released message is visible again within
// `lease_horizon_s`). Backends that list only visible messages (Azure) never answer true here;
// the caller also counts the messages it deferred itself.
bool only_deferred_left(queue::TaskQueue& queue, int64_t count, int64_t lease_horizon_s) {
  if (count > 1000) return false;
  const auto listed = queue.list(static_cast<size_t>(count));
  if (static_cast<int64_t>(listed.size()) < count) return false;
  const int64_t horizon_ns = now_ts_ns() + lease_horizon_s * 1'000'000'000;
  for (const auto& m : listed) {
    if (m.visible_at_ns <= horizon_ns) return false;
  }
  return true;
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

bool is_transient(const Error& e) {
  return e.category() == ErrorCategory::kRetryable || e.category() == ErrorCategory::kRateLimited;
}

int transient_backoff_ms(int failures) { return std::min(2000, 200 << std::min(std::max(failures, 1) - 1, 4)); }

WorkerStats drain_queue(queue::TaskQueue& queue, const std::function<void(const Task&)>& handle,
                        const WorkerOptions& options, const std::atomic<bool>* stop) {
  WorkerStats stats;
  int idle_polls = 0;
  int poll_failures = 0;  // transient poll failures in a row
  std::map<std::string, int64_t> deferred_here;  // message id -> when its deferral ends
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
      if (!message && options.exit_when_empty) {
        // Done when nothing is left, or only tasks deferred past any lease (until a vendor's
        // budget allows them; the next drain picks them up): waiting hours for a daily cap
        // helps nobody. Shorter deferrals are waited for.
        const int64_t horizon_s = 2 * std::max(options.visibility_timeout_s, 60);
        const int64_t soon = now_ts_ns() + horizon_s * 1'000'000'000;
        std::erase_if(deferred_here, [&](const auto& entry) { return entry.second <= soon; });
        const int64_t left = queue.count();
        empty = left == 0 ||
                (!deferred_here.empty() && left <= static_cast<int64_t>(deferred_here.size())) ||
                only_deferred_left(queue, left, horizon_s);
        if (empty && left > 0) stats.left_deferred = left;
      }
      poll_failures = 0;
    } catch (const Error& e) {
      // A storage service having a bad second is no reason for a worker to exit: poll again.
      if (!is_transient(e) || ++poll_failures > options.max_poll_failures) throw;
      const int delay_ms = transient_backoff_ms(poll_failures);
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
    } catch (const providers::BudgetExhausted& e) {
      // Not attempted: the vendor's budget is used up until then. Deferred without spending an
      // attempt, so a used-up daily cap never pushes a task to poison.
      ++stats.deferred;
      const int64_t delay_s = std::clamp<int64_t>((e.retry_after_ms() + 999) / 1000, 1, kMaxDeferSeconds);
      log::info("task {} deferred {} s: {}", current.id, delay_s, e.what());
      try {
        queue.defer(current, describe_error(e), seconds(delay_s));
        deferred_here[current.id] = now_ts_ns() + delay_s * 1'000'000'000;
      } catch (const Error& defer_error) {
        log::warn("task {}: could not defer: {}", current.id, defer_error.what());
      }
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

#include "task_pool.hpp"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace trib::parquet::internal {

namespace {

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#else
  std::this_thread::yield();
#endif
}

// Spins until done() or for `limit`; true when done() held.
template <typename F>
bool spin_until(std::chrono::nanoseconds limit, F&& done) {
  if (limit.count() <= 0) return done();
  const auto end = std::chrono::steady_clock::now() + limit;
  for (;;) {
    for (int i = 0; i < 64; ++i) {
      if (done()) return true;
      cpu_relax();
    }
    if (std::chrono::steady_clock::now() >= end) return done();
  }
}

}  // namespace

TaskPool::TaskPool(int threads) {
  const unsigned cores = std::thread::hardware_concurrency();
  if (threads > 1 && (cores == 0 || static_cast<unsigned>(threads) <= cores)) spin_ = std::chrono::microseconds(200);
  for (int i = 1; i < threads; ++i) workers_.emplace_back([this] { worker_loop(); });
}

TaskPool::~TaskPool() {
  {
    std::lock_guard lock(mu_);
    stop_.store(true);
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
}

void TaskPool::run(size_t tasks, const std::function<void(size_t)>& f) {
  if (workers_.empty() || tasks <= 1) {
    for (size_t i = 0; i < tasks; ++i) f(i);
    return;
  }
  // The workers are between jobs: nothing below is read by them until generation_ moves.
  job_ = &f;
  job_size_ = tasks;
  next_.store(0, std::memory_order_relaxed);
  busy_.store(workers_.size(), std::memory_order_relaxed);
  {
    std::lock_guard lock(mu_);
    error_index_ = SIZE_MAX;
    error_ = nullptr;
    generation_.fetch_add(1, std::memory_order_release);
    if (sleepers_ > 0) wake_.notify_all();
  }
  work();
  auto all_done = [&] { return busy_.load(std::memory_order_acquire) == 0; };
  std::exception_ptr error;
  if (!spin_until(spin_, all_done)) {
    std::unique_lock lock(mu_);
    done_.wait(lock, all_done);
  }
  {
    std::lock_guard lock(mu_);
    job_ = nullptr;
    error.swap(error_);
  }
  if (error) std::rethrow_exception(error);
}

// Claims tasks of the current job until none is left.
void TaskPool::work() {
  for (;;) {
    const size_t i = next_.fetch_add(1, std::memory_order_relaxed);
    if (i >= job_size_) return;
    try {
      (*job_)(i);
    } catch (...) {
      std::lock_guard lock(mu_);
      if (i < error_index_) {
        error_index_ = i;
        error_ = std::current_exception();
      }
    }
  }
}

void TaskPool::worker_loop() {
  uint64_t seen = 0;
  for (;;) {
    auto woken = [&] { return stop_.load(std::memory_order_acquire) || generation_.load(std::memory_order_acquire) != seen; };
    if (!spin_until(spin_, woken)) {
      std::unique_lock lock(mu_);
      ++sleepers_;
      wake_.wait(lock, woken);
      --sleepers_;
    }
    if (stop_.load(std::memory_order_acquire)) return;
    seen = generation_.load(std::memory_order_acquire);
    work();
    if (busy_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      std::lock_guard lock(mu_);
      done_.notify_one();
    }
  }
}

}  // namespace trib::parquet::internal

// A small pool of worker threads for the Parquet writer and reader: run(n, f) calls f(0), ...,
// f(n - 1) on the workers and the calling thread and returns when every call has returned. Not
// part of the lake's public surface.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace trib::parquet::internal {

class TaskPool {
 public:
  // `threads` in all, the caller's included: threads - 1 workers (none for 1 or less, and then
  // run() is a plain loop on the calling thread).
  explicit TaskPool(int threads);
  ~TaskPool();
  TaskPool(const TaskPool&) = delete;
  TaskPool& operator=(const TaskPool&) = delete;

  int threads() const { return static_cast<int>(workers_.size()) + 1; }

  // Runs f(i) for every i in [0, tasks), in no particular order, and waits for all of them. If
  // calls throw, the exception of the lowest i is rethrown once all have finished: the one a
  // sequential loop over i would have thrown (though later calls may have run too).
  // Not reentrant: one run() at a time.
  void run(size_t tasks, const std::function<void(size_t)>& f);

 private:
  void work();
  void worker_loop();

  std::vector<std::thread> workers_;
  // Jobs are short (a batch's columns: tenths of a millisecond), so a thread waiting for the next
  // job or for the end of one spins for up to spin_ before it sleeps: waking a sleeping thread
  // takes longer than such a task on a virtual machine. No spinning when there are more threads
  // than cores.
  std::chrono::nanoseconds spin_{0};
  std::mutex mu_;
  std::condition_variable wake_, done_;
  std::atomic<uint64_t> generation_{0};  // bumped for each job
  std::atomic<bool> stop_{false};
  std::atomic<size_t> busy_{0};          // workers still in the current job
  int sleepers_ = 0;                     // workers asleep on wake_ (under mu_)
  const std::function<void(size_t)>* job_ = nullptr;
  size_t job_size_ = 0;
  std::atomic<size_t> next_{0};
  size_t error_index_ = SIZE_MAX;        // under mu_
  std::exception_ptr error_;             // under mu_
};

}  // namespace trib::parquet::internal

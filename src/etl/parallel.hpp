// A parallel loop for the ETL's per-partition work (merge, encode, hash, object writes): indexes
// handed out one at a time from an atomic counter to `threads` workers (the calling thread is
// one of them). The first exception stops the handing out and is rethrown once all have joined.
// Private to the etl module.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace trib::etl::internal {

// Worker count for `threads` (0 = the machine's cores, at most 8).
inline int resolve_threads(int threads) {
  if (threads > 0) return threads;
  return static_cast<int>(std::clamp(std::thread::hardware_concurrency(), 1u, 8u));
}

template <typename F>
void parallel_for(size_t n, int threads, F&& body) {
  const size_t workers = std::min<size_t>(static_cast<size_t>(std::max(1, threads)), n);
  if (workers <= 1) {
    for (size_t i = 0; i < n; ++i) body(i);
    return;
  }
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr error;
  std::mutex error_mutex;
  auto run = [&] {
    while (!failed.load(std::memory_order_relaxed)) {
      const size_t i = next.fetch_add(1);
      if (i >= n) return;
      try {
        body(i);
      } catch (...) {
        std::lock_guard lock(error_mutex);
        if (!error) error = std::current_exception();
        failed = true;
      }
    }
  };
  std::vector<std::thread> pool;
  pool.reserve(workers - 1);
  for (size_t t = 1; t < workers; ++t) pool.emplace_back(run);
  run();
  for (auto& t : pool) t.join();
  if (error) std::rethrow_exception(error);
}

}  // namespace trib::etl::internal

// parallel_for: fan-out of independent tasks (symbols, splits) over a few threads.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <exception>
#include <thread>
#include <vector>

namespace trib {

// f(0), ..., f(tasks - 1) on `threads` threads, the caller's included (0: one per core); waits
// for all of them, then rethrows the failure of the lowest index, if any.
template <typename F>
void parallel_for(size_t tasks, unsigned threads, F f) {
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  threads = static_cast<unsigned>(std::min<size_t>(threads, std::max<size_t>(tasks, 1)));
  std::vector<std::exception_ptr> errors(tasks);
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i = next++; i < tasks; i = next++) {
      try {
        f(i);
      } catch (...) {
        errors[i] = std::current_exception();
      }
    }
  };
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  for (auto& e : errors) {
    if (e) std::rethrow_exception(e);
  }
}

}  // namespace trib

#include "trib/lake/parquet_scan.hpp"

#include <atomic>
#include <climits>
#include <exception>
#include <mutex>
#include <thread>

#include "trib/core/error.hpp"

namespace trib::parquet {

void scan_parallel(const Reader& reader, const std::vector<int>& columns, int threads, const ScanConsumer& consume,
                   size_t batch_rows) {
  if (threads < 1) throw Error::InvalidInput("scan_parallel: threads must be >= 1");
  const int groups = reader.num_row_groups();
  // Checks the columns and batch size (and reads nothing) before any thread starts.
  BatchReader check(reader, columns, std::vector<int>{}, batch_rows, 1);
  std::atomic<int> next{0};
  // The lowest row group that failed (INT_MAX: none). Row groups after it stop at their next
  // batch; those before it run on, so the failure rethrown is the one a one-thread scan meets.
  std::atomic<int> failed_group{INT_MAX};
  std::mutex mutex;
  std::exception_ptr failure;
  auto work = [&](int worker) {
    std::vector<ColumnVector> batch;  // this worker's, reused for every batch it reads
    for (int g = next++; g < groups && g < failed_group.load(); g = next++) {
      try {
        BatchReader batches(reader, columns, std::vector<int>{g}, batch_rows, 1);
        while (g < failed_group.load(std::memory_order_relaxed) && batches.next(batch)) consume(worker, g, batch);
      } catch (...) {
        std::lock_guard lock(mutex);
        if (g < failed_group.load()) {
          failed_group = g;
          failure = std::current_exception();
        }
      }
    }
  };
  const int n = std::max(1, std::min(threads, groups));
  std::vector<std::thread> pool;
  for (int w = 1; w < n; ++w) pool.emplace_back(work, w);
  work(0);
  for (auto& t : pool) t.join();
  if (failure) std::rethrow_exception(failure);
}

}  // namespace trib::parquet

// Worker pools: N workers draining the task queue, as threads of this process or as child
// processes (`trib worker --drain`, the shape a Container Apps job runs). Each worker opens its
// own backends; the pool stops them gracefully when `stop` is set.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "trib/etl/etl.hpp"
#include "trib/ingest/worker.hpp"
#include "trib/runtime/backends.hpp"

namespace trib::runtime {

enum class WorkerMode { kThread, kProcess };
// "thread" | "process"; Error::InvalidInput otherwise.
WorkerMode parse_worker_mode(const std::string& text);

struct PoolOptions {
  int workers = 2;
  WorkerMode mode = WorkerMode::kThread;
  int visibility_timeout_s = 60;
  bool exit_when_empty = true;
  int64_t max_tasks = -1;  // per worker; -1 = unlimited
  // Process mode: the command line of one child (e.g. {exe, "-w", ws, "worker", "--drain"}).
  std::vector<std::string> child_command;
};

struct PoolProgress {
  int running = 0;
  int64_t in_queue = 0;  // messages not yet removed (visible or leased)
  int64_t poison = 0;
};

struct PoolResult {
  ingest::WorkerStats worker;  // thread mode only (children report through the catalog)
  etl::EtlStats etl;           // thread mode only
  int dead_workers = 0;        // children that crashed or were killed
  bool stopped = false;        // `stop` was set before the queue drained
};

// One worker on the calling thread: its own store, catalog and queue, fetch -> raw -> ETL, lease
// renewal. Returns when the queue is empty (exit_when_empty), after max_tasks, or on `stop`.
// Opening the backends waits out transient failures (a storage service's bad minute) as polling
// does; a stop while waiting, or failures past WorkerOptions::max_poll_failures, rethrow.
PoolResult run_worker(const Config& config, const PoolOptions& options,
                      const std::atomic<bool>* stop);

// Runs options.workers workers and waits for all of them; `on_progress` is called about every
// 100 ms from the calling thread.
PoolResult run_pool(const Backends& backends, const PoolOptions& options,
                    const std::atomic<bool>* stop,
                    const std::function<void(const PoolProgress&)>& on_progress = {});

}  // namespace trib::runtime

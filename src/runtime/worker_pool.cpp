#include "trib/runtime/worker_pool.hpp"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "trib/core/error.hpp"
#include "trib/core/log.hpp"
#include "trib/ingest/fetch_handler.hpp"
#include "trib/ingest/worker.hpp"

extern char** environ;

namespace trib::runtime {

WorkerMode parse_worker_mode(const std::string& text) {
  if (text == "thread") return WorkerMode::kThread;
  if (text == "process") return WorkerMode::kProcess;
  throw Error::InvalidInput(fmt::format("worker mode '{}' is not known; use thread or process", text));
}

namespace {

// A worker starting while a storage service has a bad second waits it out, as a worker polling
// does (ingest::drain_queue, the same backoff): the backends' own retries can all be spent in a
// burst of failures, and a worker that exits then leaves its share of the queue to the others.
template <typename Open>
auto open_waiting_out_transients(const char* what, int max_failures, const std::atomic<bool>* stop,
                                 Open open) {
  for (int failures = 1;; ++failures) {
    try {
      return open();
    } catch (const Error& e) {
      if (!ingest::is_transient(e) || failures > max_failures || (stop != nullptr && stop->load())) throw;
      const int delay_ms = ingest::transient_backoff_ms(failures);
      log::warn("opening the {} failed ({} in a row); trying again in {} ms: {}", what, failures,
                delay_ms, e.what());
      std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    }
  }
}

}  // namespace

PoolResult run_worker(const Config& config, const PoolOptions& options,
                      const std::atomic<bool>* stop) {
  const int max_failures = ingest::WorkerOptions{}.max_poll_failures;
  Backends b = open_waiting_out_transients("lake and catalog", max_failures, stop,
                                           [&] { return open_backends(config); });
  auto queue =
      open_waiting_out_transients("queue", max_failures, stop, [&] { return b.open_queue(); });
  etl::EtlEngine engine(*b.store, *b.catalog, etl::EtlOptions::from_config(b.config));
  ingest::FetchHandler handler(*b.store, *b.catalog, &engine,
                               ingest::make_provider_factory(b.config, *b.catalog));
  ingest::WorkerOptions worker;
  worker.visibility_timeout_s = options.visibility_timeout_s;
  worker.exit_when_empty = options.exit_when_empty;
  worker.max_tasks = options.max_tasks;
  worker.open_lease_queue = [&b] { return b.open_queue(); };
  PoolResult result;
  result.worker = ingest::drain_queue(
      *queue, [&](const ingest::Task& task) { handler.handle(task); }, worker, stop);
  result.etl = engine.stats();
  result.stopped = stop != nullptr && stop->load();
  return result;
}

namespace {

std::vector<pid_t> spawn_children(const std::vector<std::string>& command, int count) {
  if (command.empty()) throw Error::Internal("process workers need a child command");
  std::vector<pid_t> pids;
  for (int i = 0; i < count; ++i) {
    std::vector<std::string> args = command;
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    // Each child in its own process group: a Ctrl-C at the terminal reaches only the pool, which
    // passes one SIGTERM on, so a child sees one signal (a graceful stop), never two (a hard one).
    posix_spawnattr_t attr;
    ::posix_spawnattr_init(&attr);
    ::posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
    ::posix_spawnattr_setpgroup(&attr, 0);
    pid_t pid = 0;
    const int rc = ::posix_spawn(&pid, args[0].c_str(), nullptr, &attr, argv.data(), environ);
    ::posix_spawnattr_destroy(&attr);
    if (rc != 0) {
      for (pid_t p : pids) ::kill(p, SIGTERM);
      throw Error::Retryable(fmt::format("cannot start a worker process: {}", std::strerror(rc)));
    }
    pids.push_back(pid);
  }
  return pids;
}

}  // namespace

PoolResult run_pool(const Backends& backends, const PoolOptions& options,
                    const std::atomic<bool>* stop,
                    const std::function<void(const PoolProgress&)>& on_progress) {
  if (options.workers < 1 || options.workers > 64) {
    throw Error::InvalidInput(fmt::format("workers must be 1..64, not {}", options.workers));
  }
  auto queue = backends.open_queue();
  PoolResult total;
  std::mutex mutex;
  std::atomic<int> running{options.workers};
  std::vector<std::thread> threads;
  std::vector<pid_t> pids;
  if (options.mode == WorkerMode::kThread) {
    for (int i = 0; i < options.workers; ++i) {
      threads.emplace_back([&] {
        try {
          PoolResult r = run_worker(backends.config, options, stop);
          std::lock_guard lock(mutex);
          total.worker.processed += r.worker.processed;
          total.worker.failed += r.worker.failed;
          total.worker.dead_lettered += r.worker.dead_lettered;
          total.worker.renewals += r.worker.renewals;
          total.worker.deferred += r.worker.deferred;
          total.worker.left_deferred = std::max(total.worker.left_deferred, r.worker.left_deferred);
          total.etl.add(r.etl);
        } catch (const std::exception& e) {
          log::error("worker thread stopped: {}", e.what());
          std::lock_guard lock(mutex);
          ++total.dead_workers;
        }
        --running;
      });
    }
  } else {
    pids = spawn_children(options.child_command, options.workers);
  }
  bool forwarded = false;
  while (true) {
    if (options.mode == WorkerMode::kProcess) {
      if (stop != nullptr && stop->load() && !forwarded) {
        // The children do not get the terminal's SIGINT (own process groups): pass the stop on.
        for (pid_t pid : pids) {
          if (pid > 0) ::kill(pid, SIGTERM);
        }
        forwarded = true;
      }
      for (auto& pid : pids) {
        if (pid <= 0) continue;
        int status = 0;
        if (::waitpid(pid, &status, WNOHANG) == pid) {
          if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
            ++total.dead_workers;
            log::warn("worker process {} {}; its leased task returns to the queue after {} s", pid,
                      WIFSIGNALED(status) ? fmt::format("was killed by signal {}", WTERMSIG(status))
                                          : fmt::format("exited with {}", WEXITSTATUS(status)),
                      options.visibility_timeout_s);
          }
          pid = 0;
          --running;
        }
      }
    }
    if (on_progress) {
      on_progress({running.load(), queue->count(), queue->poison_count()});
    }
    if (running.load() == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  for (auto& t : threads) t.join();
  total.stopped = stop != nullptr && stop->load();
  return total;
}

}  // namespace trib::runtime

// runtime: putting work on the queue and doing one piece of it, the same way for every entry
// point: `trib backfill` / `trib update` (CLI), the scheduler, and the Azure Functions handler
// (timer -> queue_daily_update, queue trigger -> run_task).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "trib/ingest/task.hpp"
#include "trib/runtime/backends.hpp"

namespace trib::runtime {

struct EnqueueReport {
  int64_t queued = 0;          // put on the queue now
  int64_t already_done = 0;    // done by an earlier run (the catalog says so): skipped
  int64_t already_queued = 0;  // on the queue already (dedupe key = task id): not queued twice
  std::vector<std::string> pending_ids;  // queued now or before: what the run waits for
};

// Queues the tasks that are neither done nor queued (unless `force`: then done ones are queued
// again). Safe to call twice with the same tasks.
EnqueueReport enqueue_tasks(catalog::Catalog& catalog, queue::TaskQueue& queue, const std::vector<ingest::Task>& tasks,
                            bool force = false);

struct UpdateReport {
  std::string run_id;
  Date last_session;  // the newest session any instrument is brought up to
  int64_t symbols = 0;
  int64_t skipped_unknown = 0;  // universe entries the vendor said it does not know
  int64_t planned = 0;
  EnqueueReport enqueued;
};

// The daily update as of `now_ns`: for each active instrument of the universe (or, when the
// universe is empty, trib.toml's [update] symbols) the sessions after its watermark up to the
// last session closed, with its vendor's publishing delay, by then (ingest::plan_update); queues
// them (nothing twice) and records the run. The workers (or Azure Functions' queue trigger) do
// the rest. Instruments the vendor said it does not know are skipped and counted.
UpdateReport queue_daily_update(const Backends& backends, int64_t now_ns);

// Runs one task body as a worker does (fetch -> raw store -> catalog -> ETL), on the calling
// thread with `backends`. Idempotent: a task already done changes nothing. Throws what the
// handler throws (categories say retry or poison).
void run_task(const Backends& backends, const std::string& body);

}  // namespace trib::runtime

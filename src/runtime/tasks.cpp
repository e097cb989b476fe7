#include "trib/runtime/tasks.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "trib/core/error.hpp"
#include "trib/core/log.hpp"
#include "trib/etl/etl.hpp"
#include "trib/ingest/fetch_handler.hpp"

namespace trib::runtime {

EnqueueReport enqueue_tasks(catalog::Catalog& catalog, queue::TaskQueue& queue, const std::vector<ingest::Task>& tasks,
                            bool force) {
  EnqueueReport report;
  for (const auto& task : tasks) {
    const std::string id = task.id();
    if (!force && catalog.is_task_done(id)) {
      ++report.already_done;
      continue;
    }
    report.pending_ids.push_back(id);
    if (queue.enqueue_unique(task.to_json(), id)) {
      ++report.queued;
    } else {
      ++report.already_queued;
    }
  }
  return report;
}

UpdateReport queue_daily_update(const Backends& b, int64_t now_ns) {
  const UpdateConfig& u = b.config.update;
  if (u.symbols.empty()) {
    throw Error::InvalidInput(
        "trib.toml: [update] symbols is empty: list the symbols to keep current, e.g. symbols = \"AAPL,MSFT\" "
        "(or for the sim vendor a count, symbols = \"50\")");
  }
  UpdateReport report;
  report.run_id = new_run_id("update");
  ingest::UpdatePlan plan;
  plan.vendor = u.vendor;
  plan.symbols = ingest::parse_symbol_list(u.symbols, u.vendor);
  plan.start = Date::parse(u.start, "[update] start");
  plan.now_ns = now_ns;
  plan.run_id = report.run_id;
  if (u.vendor == "sim") plan.options["seed"] = u.seed;
  report.symbols = static_cast<int64_t>(plan.symbols.size());
  report.last_session = ingest::last_completed_session(TradingCalendar::nyse(), now_ns);
  const auto tasks = ingest::plan_update(*b.catalog, plan);
  report.planned = static_cast<int64_t>(tasks.size());
  auto queue = b.open_queue();
  report.enqueued = enqueue_tasks(*b.catalog, *queue, tasks);
  nlohmann::json params = {{"vendor", u.vendor},     {"symbols", report.symbols},
                           {"through", report.last_session.to_string()},
                           {"planned", report.planned}, {"queued", report.enqueued.queued},
                           {"already_done", report.enqueued.already_done},
                           {"already_queued", report.enqueued.already_queued}};
  b.catalog->start_run({report.run_id, "update", params.dump(), catalog::RunStatus::kRunning, "", 0, 0});
  // The run's own work (planning and queueing) is done; the tasks are the workers' runs.
  b.catalog->finish_run(report.run_id, catalog::RunStatus::kOk, params.dump());
  return report;
}

void run_task(const Backends& b, const std::string& body) {
  const ingest::Task task = ingest::Task::from_json(body);
  etl::EtlEngine engine(*b.store, *b.catalog);
  ingest::FetchHandler handler(*b.store, *b.catalog, &engine);
  handler.handle(task);
}

}  // namespace trib::runtime

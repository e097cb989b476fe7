#include "trib/runtime/tasks.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "trib/core/error.hpp"
#include "trib/core/log.hpp"
#include "trib/etl/etl.hpp"
#include "trib/ingest/fetch_handler.hpp"
#include "trib/ingest/vendor_access.hpp"
#include "trib/providers/provider.hpp"

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
  UpdateReport report;
  report.run_id = new_run_id("update");
  // What to keep current: the universe (`trib universe add`), else trib.toml's [update].
  std::vector<catalog::UniverseEntry> entries = b.catalog->list_universe();
  const bool from_universe = !entries.empty();
  if (!from_universe) {
    const UpdateConfig& u = b.config.update;
    if (u.symbols.empty()) {
      throw Error::InvalidInput(
          "nothing to update: add instruments with `trib universe add SYMBOL --vendor VENDOR` (or list them "
          "in trib.toml's [update] symbols, e.g. symbols = \"AAPL,MSFT\"; for the sim vendor a count, "
          "symbols = \"50\")");
    }
    for (const auto& symbol : ingest::parse_symbol_list(u.symbols, u.vendor)) {
      catalog::UniverseEntry e;
      e.symbol = symbol.str();
      e.vendor = u.vendor;
      e.start_date = Date::parse(u.start, "[update] start").to_string();
      entries.push_back(std::move(e));
    }
  }
  std::vector<ingest::Task> tasks;
  for (const auto& e : entries) {
    if (e.status != "active") {
      ++report.skipped_unknown;
      continue;
    }
    const ingest::VendorSettings settings = ingest::vendor_settings(b.config, e.vendor);
    const providers::VendorInfo& info = providers::vendor_info(e.vendor);
    ingest::UpdatePlan plan;
    plan.vendor = e.vendor;
    plan.dataset = e.dataset;
    plan.timeframe = parse_timeframe(e.timeframe);
    plan.symbols = {Symbol::parse(e.symbol)};
    plan.start = Date::parse(e.start_date, "universe start date");
    plan.now_ns = now_ns;
    plan.run_id = report.run_id;
    plan.max_sessions_per_task = info.max_sessions_per_task;
    plan.publish_delay_minutes = settings.publish_delay_minutes;
    if (e.vendor == "sim") plan.options["seed"] = b.config.update.seed;
    ++report.symbols;
    const Date last = ingest::last_completed_session(TradingCalendar::nyse(), now_ns, plan.publish_delay_minutes);
    if (report.last_session < last) report.last_session = last;
    for (auto& t : ingest::plan_update(*b.catalog, plan)) tasks.push_back(std::move(t));
  }
  report.planned = static_cast<int64_t>(tasks.size());
  auto queue = b.open_queue();
  report.enqueued = enqueue_tasks(*b.catalog, *queue, tasks);
  nlohmann::json params = {{"source", from_universe ? "universe" : "[update]"},
                           {"symbols", report.symbols},
                           {"skipped_unknown", report.skipped_unknown},
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
  etl::EtlEngine engine(*b.store, *b.catalog, etl::EtlOptions::from_config(b.config));
  ingest::FetchHandler handler(*b.store, *b.catalog, &engine,
                               ingest::make_provider_factory(b.config, *b.catalog));
  handler.handle(task);
}

}  // namespace trib::runtime

// Queue commands: backfill, worker, queue list|poison|redrive|purge, catalog rebuild.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli.hpp"
#include "trib/core/error.hpp"
#include "trib/core/log.hpp"
#include "trib/etl/catalog_rebuild.hpp"
#include "trib/ingest/task.hpp"
#include "trib/providers/provider.hpp"
#include "trib/runtime/shutdown.hpp"
#include "trib/runtime/tasks.hpp"
#include "trib/runtime/worker_pool.hpp"
#include "workspace.hpp"

namespace trib::cli {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::vector<Symbol> parse_symbols(const std::string& text, const std::string& vendor) {
  try {
    return ingest::parse_symbol_list(text, vendor);
  } catch (const Error& e) {
    throw Error::InvalidInput(fmt::format("--{}", e.what()));
  }
}

// The command line of one `trib worker --drain` child of this very binary.
std::vector<std::string> worker_command(const Globals& g, int visibility_timeout_s) {
  std::vector<std::string> args = {fs::read_symlink("/proc/self/exe").string(), "-w", g.workspace,
                                   "--log-level", g.log_level, "worker", "--drain", "--quiet"};
  if (visibility_timeout_s > 0) {
    args.push_back("--visibility-timeout");
    args.push_back(std::to_string(visibility_timeout_s));
  }
  return args;
}

struct BackfillArgs {
  std::string vendor = "sim";
  std::string symbols;
  std::string from, to;
  int workers = 2;
  std::string mode = "thread";
  bool no_drain = false;
  bool force = false;
  int visibility_timeout_s = 0;
  std::string seed = "42";
  double fault_rate = 0;
  int latency_ms = 0;
};

int run_backfill(const Globals& g, const BackfillArgs& args) {
  const providers::VendorInfo& info = providers::vendor_info(args.vendor);  // unknown vendor: fail first
  if (args.vendor == "csv") {
    throw Error::InvalidInput(
        "backfill asks a vendor for history; the csv vendor reads files you already have: use "
        "`trib ingest --vendor csv --file 'data/*.csv'`");
  }
  std::vector<Symbol> symbols = parse_symbols(args.symbols, args.vendor);
  Date from = Date::parse(args.from, "--from"), to = Date::parse(args.to, "--to");
  if (args.workers < 1 || args.workers > 64) throw Error::InvalidInput("--workers must be 1..64");
  const runtime::WorkerMode mode = runtime::parse_worker_mode(args.mode);
  if (!(args.fault_rate >= 0 && args.fault_rate <= 1)) {
    throw Error::InvalidInput("--fault-rate must be in [0, 1]");
  }
  if (args.visibility_timeout_s < 0) throw Error::InvalidInput("--visibility-timeout must be positive");
  Workspace ws = open_workspace(g.workspace);

  ingest::BackfillPlan plan;
  plan.vendor = args.vendor;
  plan.symbols = symbols;
  plan.from = from;
  plan.to = to;
  plan.run_id = new_run_id("backfill");
  plan.max_sessions_per_task = info.max_sessions_per_task;
  if (args.vendor == "sim") {
    plan.options["seed"] = args.seed;
    if (args.fault_rate > 0) plan.options["fault_rate"] = fmt::format("{}", args.fault_rate);
    if (args.latency_ms > 0) plan.options["latency_ms"] = std::to_string(args.latency_ms);
  }
  std::vector<ingest::Task> tasks = ingest::plan_backfill(plan);
  // A rerun of the same backfill queues only what is neither done nor already in the queue: the
  // task id (vendor, dataset, timeframe, symbol, window, options) is the dedupe key.
  auto queue = ws.open_queue();
  const runtime::EnqueueReport enqueued = runtime::enqueue_tasks(*ws.catalog, *queue, tasks, args.force);
  const int64_t already_done = enqueued.already_done, already_queued = enqueued.already_queued,
                queued = enqueued.queued;
  const std::vector<std::string>& pending_ids = enqueued.pending_ids;
  json params = {{"vendor", args.vendor}, {"symbols", symbols.size()}, {"from", args.from},
                 {"to", args.to}, {"tasks", tasks.size()}, {"queued", queued},
                 {"already_done", already_done}, {"already_queued", already_queued}};
  ws.catalog->start_run({plan.run_id, "backfill", params.dump(), catalog::RunStatus::kRunning,
                         "", 0, 0});
  if (args.no_drain) {
    ws.catalog->finish_run(plan.run_id, catalog::RunStatus::kOk, params.dump());
    if (g.json) {
      params["run_id"] = plan.run_id;
      fmt::print("{}\n", params.dump());
    } else {
      fmt::print("queued {} task(s) on '{}' ({} already done, {} already queued); drain with "
                 "`trib worker --drain`\n",
                 queued, ws.config.queue.name, already_done, already_queued);
    }
    return 0;
  }
  const int visibility = args.visibility_timeout_s > 0 ? args.visibility_timeout_s
                                                       : ws.config.queue.visibility_timeout_s;
  const int64_t poison_before = queue->poison_count();
  const int64_t in_queue_before = queue->count();
  Progress progress("backfill", in_queue_before);
  runtime::PoolOptions pool;
  pool.workers = args.workers;
  pool.mode = mode;
  pool.visibility_timeout_s = visibility;
  pool.child_command = worker_command(g, visibility);
  const auto& stop = runtime::install_shutdown_handlers();
  auto started = std::chrono::steady_clock::now();
  runtime::PoolResult result = runtime::run_pool(ws, pool, &stop, [&](const runtime::PoolProgress& p) {
    progress.update(in_queue_before - p.in_queue,
                    fmt::format("{} worker{}{}", p.running, p.running == 1 ? "" : "s",
                                p.poison > poison_before ? " (poison!)" : ""));
  });
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  progress.finish(fmt::format("{:.1f} s", seconds));
  const int64_t poisoned = queue->poison_count() - poison_before;
  const int64_t left = queue->count();
  // What this run did: its pending tasks that are done now (whichever worker or process did them).
  int64_t done_now = 0;
  for (const auto& id : pending_ids) done_now += ws.catalog->is_task_done(id) ? 1 : 0;

  json stats = stats_json(result.etl);
  stats["tasks"] = tasks.size();
  stats["queued"] = queued;
  stats["already_done"] = already_done;
  stats["already_queued"] = already_queued;
  stats["processed"] = done_now;
  stats["failed_attempts"] = result.worker.failed;
  stats["dead_lettered"] = result.worker.dead_lettered;
  stats["deferred"] = result.worker.deferred;
  stats["poisoned"] = poisoned;
  stats["left_in_queue"] = left;
  stats["seconds"] = seconds;
  stats["worker_mode"] = args.mode;
  stats["dead_workers"] = result.dead_workers;
  stats["interrupted"] = result.stopped;
  const catalog::RunStatus status = result.stopped ? catalog::RunStatus::kInterrupted
                                    : (poisoned == 0 && left == 0) ? catalog::RunStatus::kOk
                                                                   : catalog::RunStatus::kFailed;
  ws.catalog->finish_run(plan.run_id, status, stats.dump());
  if (g.json) {
    stats["run_id"] = plan.run_id;
    fmt::print("{}\n", stats.dump());
  } else {
    fmt::print("backfill {}: {} task(s) planned, {} already done, {} queued now, {} already queued; "
               "{} done in {:.1f} s with {} {} worker{}\n",
               plan.run_id, tasks.size(), already_done, queued, already_queued, done_now, seconds,
               args.workers, args.mode, args.workers == 1 ? "" : "s");
    if (mode == runtime::WorkerMode::kThread) print_etl_stats(result.etl);
    if (poisoned > 0) {
      fmt::print("{} task(s) moved to the poison queue; see `trib queue poison`, retry with "
                 "`trib queue redrive`\n",
                 poisoned);
    }
  }
  if (result.stopped) {
    std::fprintf(stderr,
                 "trib: backfill interrupted: workers finished the tasks in hand; %lld task(s) "
                 "remain in queue '%s'. Resume with `trib -w %s worker --drain`, or run the same "
                 "backfill again (done tasks are skipped, queued ones are not queued twice).\n",
                 static_cast<long long>(left), ws.config.queue.name.c_str(), g.workspace.c_str());
    return 130;
  }
  return status == catalog::RunStatus::kOk ? 0 : 1;
}

int run_worker_command(const Globals& g, bool drain, int visibility_timeout_s, int64_t max_tasks,
                       bool quiet) {
  // The worker opens the backends itself, waiting out a storage service's bad minute.
  const Config config = Config::load(g.workspace);
  const auto& stop = runtime::install_shutdown_handlers();
  runtime::PoolOptions options;
  options.visibility_timeout_s =
      visibility_timeout_s > 0 ? visibility_timeout_s : config.queue.visibility_timeout_s;
  options.exit_when_empty = drain;
  options.max_tasks = max_tasks;
  runtime::PoolResult r = runtime::run_worker(config, options, &stop);
  if (g.json) {
    json out = stats_json(r.etl);
    out["processed"] = r.worker.processed;
    out["failed_attempts"] = r.worker.failed;
    out["dead_lettered"] = r.worker.dead_lettered;
    out["lease_renewals"] = r.worker.renewals;
    out["deferred"] = r.worker.deferred;
    out["interrupted"] = r.stopped;
    fmt::print("{}\n", out.dump());
  } else if (!quiet) {
    fmt::print("worker: {} task(s) done, {} failed attempt(s), {} sent to poison{}{}\n",
               r.worker.processed, r.worker.failed, r.worker.dead_lettered,
               r.worker.deferred > 0
                   ? fmt::format(", {} deferral(s) for a used-up vendor budget", r.worker.deferred)
                   : "",
               r.stopped ? " (stopped by a signal)" : "");
    print_etl_stats(r.etl);
  }
  return 0;
}

// "fetch sim SIM0001 2010-01-01..2010-12-31" for a task body; the body itself otherwise.
std::string describe_body(const std::string& body) {
  try {
    ingest::Task t = ingest::Task::from_json(body);
    return fmt::format("{} {} {} {}..{}", t.kind, t.vendor, t.symbol.str(), t.from.to_string(),
                       t.to.to_string());
  } catch (const Error&) {
    return body.size() > 80 ? body.substr(0, 77) + "..." : body;
  }
}

int run_queue_list(const Globals& g, size_t limit) {
  Workspace ws = open_workspace(g.workspace);
  auto queue = ws.open_queue();
  auto messages = queue->list(limit);
  const int64_t now = now_ts_ns();
  if (g.json) {
    json out = json::array();
    for (const auto& m : messages) {
      out.push_back({{"id", m.id}, {"body", m.body}, {"dequeue_count", m.dequeue_count},
                     {"visible", m.visible_at_ns <= now},
                     {"visible_at", format_ts_ns(m.visible_at_ns)},
                     {"inserted_at", format_ts_ns(m.inserted_at_ns)},
                     {"last_error", m.last_error}});
    }
    fmt::print("{}\n", out.dump());
    return 0;
  }
  fmt::print("queue '{}': {} message(s) ({} visible), {} poisoned\n", queue->name(),
             queue->count(), queue->visible_count(), queue->poison_count());
  for (const auto& m : messages) {
    const int64_t wait_s = std::max<int64_t>(0, (m.visible_at_ns - now) / kNanosPerSecond);
    fmt::print("  {}  {:<8} deliveries {}  {}{}\n", m.id,
               m.visible_at_ns <= now ? "visible" : fmt::format("in {}s", wait_s),
               m.dequeue_count, describe_body(m.body),
               m.last_error.empty() ? "" : "  last error: " + m.last_error);
  }
  return 0;
}

int run_queue_poison(const Globals& g) {
  Workspace ws = open_workspace(g.workspace);
  auto queue = ws.open_queue();
  auto poison = queue->list_poison();
  if (g.json) {
    json out = json::array();
    for (const auto& p : poison) {
      out.push_back({{"id", p.id}, {"body", p.body}, {"dequeue_count", p.dequeue_count},
                     {"last_error", p.last_error}});
    }
    fmt::print("{}\n", out.dump());
    return 0;
  }
  fmt::print("queue '{}-poison': {} message(s)\n", queue->name(), poison.size());
  for (const auto& p : poison) {
    fmt::print("  {}  deliveries {}  {}\n    {}\n", p.id, p.dequeue_count, describe_body(p.body),
               p.last_error);
  }
  if (!poison.empty()) fmt::print("retry them with `trib queue redrive` once the cause is fixed\n");
  return 0;
}

int run_queue_redrive(const Globals& g, const std::vector<std::string>& ids) {
  Workspace ws = open_workspace(g.workspace);
  auto queue = ws.open_queue();
  if (!ids.empty()) {
    std::set<std::string> poisoned;
    for (const auto& p : queue->list_poison()) poisoned.insert(p.id);
    for (const auto& id : ids) {
      if (!poisoned.contains(id)) {
        throw Error::NotFound(fmt::format(
            "message {} is not in the poison queue '{}-poison'; see `trib queue poison`", id,
            queue->name()));
      }
    }
  }
  const int64_t moved = queue->redrive(ids);
  if (g.json) {
    fmt::print("{}\n", json{{"redriven", moved}}.dump());
  } else {
    fmt::print("{} message(s) moved from '{}-poison' back to '{}'; drain with `trib worker --drain`\n",
               moved, queue->name(), queue->name());
  }
  return 0;
}

int run_queue_purge(const Globals& g, bool poison, bool all) {
  if (poison == all) {
    throw Error::InvalidInput(
        "say what to purge: --poison (the poison queue) or --all (every message and the poison queue)");
  }
  Workspace ws = open_workspace(g.workspace);
  auto queue = ws.open_queue();
  int64_t removed = 0;
  if (all) {
    removed = queue->count() + queue->poison_count();
    queue->clear();
  } else {
    removed = queue->purge_poison();
  }
  if (g.json) {
    fmt::print("{}\n", json{{"purged", removed}}.dump());
  } else {
    fmt::print("purged {} message(s) from '{}'{}\n", removed, queue->name(),
               all ? " and its poison queue" : "-poison");
  }
  return 0;
}

int run_catalog_rebuild(const Globals& g) {
  runtime::OpenOptions options;
  options.allow_empty_catalog = true;
  Workspace ws = runtime::open_workspace(g.workspace, options);
  etl::CatalogRebuildStats s = etl::rebuild_catalog(*ws.store, *ws.catalog);
  json out = {{"raw_objects", s.raw_objects}, {"partitions_restored", s.partitions},
              {"partitions_unchanged", s.unchanged}, {"skipped_files", s.skipped_files},
              {"symbols", s.symbols}};
  if (g.json) {
    fmt::print("{}\n", out.dump());
  } else {
    fmt::print("catalog {} rebuilt from the lake: {} raw object(s), {} partition(s) restored, {} "
               "already known, {} file(s) skipped, {} symbol(s)\n",
               ws.describe_catalog(), s.raw_objects, s.partitions, s.unchanged, s.skipped_files,
               s.symbols);
    fmt::print("data-quality counts are not kept in the lake: recount them with `trib etl`\n");
  }
  return 0;
}

}  // namespace

void add_queue_commands(CLI::App& app, Globals& g, Action& action) {
  {
    auto* cmd = app.add_subcommand(
        "backfill", "Plan fetch tasks for any vendor (sim: one per symbol and year; REST vendors: one "
                    "per symbol, its pages followed), queue those not done or queued yet, and drain the queue "
                    "with workers inside the vendor's request budget (Ctrl-C stops gracefully)");
    auto args = std::make_shared<BackfillArgs>();
    cmd->add_option("--vendor", args->vendor, "Vendor (default sim; see `trib vendors`; keys come from the environment)");
    cmd->add_option("--symbols", args->symbols, "Comma-separated symbols, or a count N for sim (SIM0001..)")->required();
    cmd->add_option("--from", args->from, "First date YYYY-MM-DD")->required();
    cmd->add_option("--to", args->to, "Last date YYYY-MM-DD")->required();
    cmd->add_option("--workers", args->workers, "Parallel workers (default 2)");
    cmd->add_option("--worker-mode", args->mode, "thread (default) or process");
    cmd->add_option("--visibility-timeout", args->visibility_timeout_s, "Lease seconds (default from trib.toml)");
    cmd->add_option("--seed", args->seed, "sim: seed (default 42)");
    cmd->add_option("--fault-rate", args->fault_rate, "sim: fraction of bars corrupted on purpose (default 0)");
    cmd->add_option("--latency-ms", args->latency_ms, "sim: simulated vendor latency per fetch (default 0)");
    cmd->add_flag("--no-drain", args->no_drain, "Only queue the tasks (drain later with `trib worker --drain`)");
    cmd->add_flag("--force", args->force, "Queue tasks again even when an earlier run completed them");
    cmd->add_flag("--json", g.json, "Machine-readable summary");
    cmd->callback([&g, &action, args] { action = [&g, args] { return run_backfill(g, *args); }; });
  }
  {
    auto* cmd = app.add_subcommand(
        "worker", "Process tasks from the queue (until empty with --drain, else until SIGINT/SIGTERM)");
    auto drain = std::make_shared<bool>(false);
    auto quiet = std::make_shared<bool>(false);
    auto visibility = std::make_shared<int>(0);
    auto max_tasks = std::make_shared<int64_t>(-1);
    cmd->add_flag("--drain", *drain, "Exit once the queue is empty");
    cmd->add_option("--visibility-timeout", *visibility, "Lease seconds (default from trib.toml)");
    cmd->add_option("--max-tasks", *max_tasks, "Stop after this many tasks");
    cmd->add_flag("--quiet", *quiet, "No summary");
    cmd->add_flag("--json", g.json, "Machine-readable summary");
    cmd->callback([&g, &action, drain, visibility, max_tasks, quiet] {
      action = [&g, drain, visibility, max_tasks, quiet] {
        return run_worker_command(g, *drain, *visibility, *max_tasks, *quiet);
      };
    });
  }
  {
    auto* queue = app.add_subcommand("queue", "Show and manage the task queue and its poison queue");
    queue->require_subcommand(1);
    auto* list = queue->add_subcommand("list", "Messages in the queue, oldest first (leased ones too)");
    auto limit = std::make_shared<size_t>(100);
    list->add_option("--limit", *limit, "At most this many (default 100)");
    list->add_flag("--json", g.json, "Machine-readable output");
    list->callback([&g, &action, limit] { action = [&g, limit] { return run_queue_list(g, *limit); }; });
    auto* poison = queue->add_subcommand("poison", "Messages in the poison queue with their last error");
    poison->add_flag("--json", g.json, "Machine-readable output");
    poison->callback([&g, &action] { action = [&g] { return run_queue_poison(g); }; });
    auto* redrive = queue->add_subcommand("redrive", "Move poison messages back to the queue (all, or --id ...)");
    auto ids = std::make_shared<std::vector<std::string>>();
    redrive->add_option("--id", *ids, "Only these message ids");
    redrive->add_flag("--json", g.json, "Machine-readable output");
    redrive->callback([&g, &action, ids] { action = [&g, ids] { return run_queue_redrive(g, *ids); }; });
    auto* purge = queue->add_subcommand("purge", "Delete poison messages (--poison) or everything (--all)");
    auto purge_poison = std::make_shared<bool>(false);
    auto purge_all = std::make_shared<bool>(false);
    purge->add_flag("--poison", *purge_poison, "Delete the poison queue's messages");
    purge->add_flag("--all", *purge_all, "Delete every message of the queue and its poison queue");
    purge->add_flag("--json", g.json, "Machine-readable output");
    purge->callback([&g, &action, purge_poison, purge_all] {
      action = [&g, purge_poison, purge_all] { return run_queue_purge(g, *purge_poison, *purge_all); };
    });
  }
  {
    auto* cat = app.add_subcommand("catalog", "Catalog maintenance");
    cat->require_subcommand(1);
    auto* rebuild = cat->add_subcommand(
        "rebuild", "Reconstruct the catalog (raw objects, partition manifest, hot cache, "
                   "watermarks) from the lake, e.g. after the catalog file was lost");
    rebuild->add_flag("--json", g.json, "Machine-readable output");
    rebuild->callback([&g, &action] { action = [&g] { return run_catalog_rebuild(g); }; });
  }
}

}  // namespace trib::cli

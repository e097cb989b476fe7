// Data commands: init, ingest, backfill, worker, etl, bars, dq, status.
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <set>
#include <chrono>
#include <cmath>
#include <iostream>
#include <mutex>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli.hpp"
#include "trib/core/error.hpp"
#include "trib/core/log.hpp"
#include "trib/etl/bars_reader.hpp"
#include "trib/etl/etl.hpp"
#include "trib/etl/quality.hpp"
#include "trib/ingest/fetch_handler.hpp"
#include "trib/ingest/task.hpp"
#include "trib/ingest/worker.hpp"
#include "trib/providers/provider.hpp"
#include "workspace.hpp"

extern char** environ;

namespace trib::cli {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::atomic<bool> g_stop{false};
void on_signal(int) { g_stop.store(true); }

json stats_json(const etl::EtlStats& s) {
  return {{"rows_in", s.rows_in},
          {"rows_accepted", s.rows_accepted},
          {"rows_quarantined", s.rows_quarantined},
          {"partitions_created", s.partitions_created},
          {"partitions_replaced", s.partitions_replaced},
          {"partitions_unchanged", s.partitions_unchanged},
          {"quarantined_by_rule", s.quarantined_by_rule}};
}

void print_etl_stats(const etl::EtlStats& s) {
  fmt::print("rows: {} in, {} curated, {} quarantined\n", s.rows_in, s.rows_accepted,
             s.rows_quarantined);
  fmt::print("partitions: {} created, {} replaced, {} unchanged\n", s.partitions_created,
             s.partitions_replaced, s.partitions_unchanged);
  for (const auto& [rule, count] : s.quarantined_by_rule) {
    fmt::print("  quarantined {:>6}  {}\n", count, rule);
  }
}

// ---- ingest ----------------------------------------------------------------------------------

struct IngestArgs {
  std::string vendor;
  std::string file;
  std::string symbol;
  std::string from, to;
  bool quarantine_bad_rows = false;
};

// Dates must ascend within each symbol of a file: a file out of order is almost always the wrong
// file or a broken export, and the user should see it rather than have it silently sorted.
void check_order(const providers::ParseResult& parsed, const std::string& file) {
  for (const auto& [symbol, bars] : parsed.bars) {
    for (size_t i = 1; i < bars.size(); ++i) {
      if (bars[i].session_date < bars[i - 1].session_date) {
        throw Error::InvalidInput(fmt::format(
            "{}: dates out of order for {}: {} comes after {} (row {} of that symbol); sort the "
            "file by date",
            file, symbol.str(), bars[i].session_date.to_string(),
            bars[i - 1].session_date.to_string(), i + 1));
      }
    }
  }
}

int run_ingest(const Globals& g, const IngestArgs& args) {
  // Validate everything before anything is written.
  auto provider = providers::make_provider(args.vendor);
  Symbol symbol;
  if (!args.symbol.empty()) symbol = Symbol::parse(args.symbol);
  Workspace ws = Workspace::open(g.workspace);

  providers::FetchRequest request;
  request.symbol = symbol;
  if (args.vendor == "csv") {
    if (args.file.empty()) throw Error::InvalidInput("ingest --vendor csv needs --file PATH");
    request.params["file"] = fs::absolute(args.file).string();
  } else {
    if (symbol.empty()) throw Error::InvalidInput("ingest needs --symbol for this vendor");
    if (args.from.empty() || args.to.empty()) {
      throw Error::InvalidInput("ingest needs --from and --to for this vendor");
    }
  }
  if (!args.from.empty()) request.from = Date::parse(args.from, "--from");
  if (!args.to.empty()) request.to = Date::parse(args.to, "--to");
  if (!args.from.empty() && !args.to.empty() && request.to < request.from) {
    throw Error::InvalidInput(fmt::format("--from {} is after --to {}", args.from, args.to));
  }
  providers::FetchResult fetched = provider->fetch(request);
  if (!fetched.multi_symbol && symbol.empty()) {
    throw Error::InvalidInput(fmt::format(
        "{} holds one symbol's bars; say which with --symbol (e.g. --symbol ^GSPC)", args.file));
  }
  providers::ParseContext context;
  context.symbol = symbol;
  providers::ParseResult parsed = provider->parse(fetched.bytes, context);
  const std::string source = args.file.empty() ? args.vendor : args.file;
  if (!parsed.findings.empty() && !args.quarantine_bad_rows) {
    const auto& f = parsed.findings.front();
    throw Error::InvalidInput(fmt::format(
        "{}:{}: {} ({} bad row{} in all); fix the file, or pass --quarantine-bad-rows to "
        "quarantine them with their reasons",
        source, f.line, f.reason, parsed.findings.size(), parsed.findings.size() == 1 ? "" : "s"));
  }
  check_order(parsed, source);
  if (!fetched.multi_symbol) {
    // A single-symbol file is the named symbol's, whatever the parser keyed it by.
    if (parsed.bars.empty() && parsed.findings.empty()) {
      throw Error::InvalidInput(fmt::format("{}: no rows", source));
    }
  }
  // Keep only the requested window when one was given.
  if (!args.from.empty() || !args.to.empty()) {
    for (auto& [sym, bars] : parsed.bars) {
      std::erase_if(bars, [&](const Bar& b) {
        return (!args.from.empty() && b.session_date < request.from) ||
               (!args.to.empty() && b.session_date > request.to);
      });
    }
  }

  std::string run_id = new_run_id("ingest");
  ws.catalog->start_run({run_id, "ingest", json{{"vendor", args.vendor}, {"file", args.file},
                                                {"symbol", symbol.str()}}.dump(), "running", "", 0, 0});
  etl::EtlEngine engine(*ws.store, *ws.catalog);
  ingest::FetchHandler handler(*ws.store, *ws.catalog, &engine);
  auto stored = handler.store(args.vendor, Timeframe::kDay1, symbol, fetched, std::move(parsed), run_id);
  ws.catalog->finish_run(run_id, "ok", stats_json(engine.stats()).dump());
  if (g.json) {
    json out = stats_json(engine.stats());
    out["run_id"] = run_id;
    out["raw_key"] = stored.raw.key;
    out["raw_new"] = stored.raw.newly_written;
    fmt::print("{}\n", out.dump());
  } else {
    fmt::print("raw: {} ({})\n", ws.store->describe(stored.raw.key),
               stored.raw.newly_written ? "new" : "already stored");
    print_etl_stats(engine.stats());
  }
  return 0;
}

// ---- backfill and workers ---------------------------------------------------------------------

struct DrainResult {
  ingest::WorkerStats worker;
  etl::EtlStats etl;
};

DrainResult drain_in_thread(const Config& config, int visibility_timeout_s, int64_t max_tasks) {
  auto store = lake::open_local_store(config.lake.path);
  auto catalog = catalog::open_sqlite_catalog(config.catalog.path);
  queue::QueueOptions qopts;
  qopts.max_attempts = config.queue.max_attempts;
  auto queue = queue::open_embedded_queue(config.catalog.path, config.queue.name, qopts);
  etl::EtlEngine engine(*store, *catalog);
  ingest::FetchHandler handler(*store, *catalog, &engine);
  ingest::WorkerOptions options;
  options.visibility_timeout_s = visibility_timeout_s;
  options.max_tasks = max_tasks;
  DrainResult result;
  result.worker = ingest::drain_queue(
      *queue, [&](const ingest::Task& task) { handler.handle(task); }, options, &g_stop);
  result.etl = engine.stats();
  return result;
}

std::vector<Symbol> parse_symbols(const std::string& text, const std::string& vendor) {
  if (!text.empty() && std::all_of(text.begin(), text.end(), ::isdigit)) {
    int n = std::stoi(text);
    if (vendor != "sim") {
      throw Error::InvalidInput("--symbols N (a count) only works with --vendor sim; list the "
                                "symbols instead, e.g. --symbols AAPL,MSFT");
    }
    if (n < 1 || n > 9999) throw Error::InvalidInput("--symbols: the count must be 1..9999");
    return providers::sim_universe(n);
  }
  std::vector<Symbol> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    std::string item = text.substr(start, end - start);
    if (!item.empty()) out.push_back(Symbol::parse(item));
    start = end + 1;
  }
  if (out.empty()) throw Error::InvalidInput("--symbols: give a list (AAPL,MSFT) or, for sim, a count");
  return out;
}

struct BackfillArgs {
  std::string vendor = "sim";
  std::string symbols;
  std::string from, to;
  int workers = 2;
  std::string mode = "thread";
  bool no_drain = false;
  int visibility_timeout_s = 0;
  std::string seed = "42";
  double fault_rate = 0;
  int latency_ms = 0;
};

// Spawns `trib worker --drain` children of this very binary.
std::vector<pid_t> spawn_workers(const Globals& g, int count, int visibility_timeout_s) {
  std::string exe = fs::read_symlink("/proc/self/exe").string();
  std::vector<pid_t> pids;
  for (int i = 0; i < count; ++i) {
    std::vector<std::string> args = {exe, "-w", g.workspace, "--log-level", g.log_level,
                                     "worker", "--drain", "--quiet"};
    if (visibility_timeout_s > 0) {
      args.push_back("--visibility-timeout");
      args.push_back(std::to_string(visibility_timeout_s));
    }
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = 0;
    int rc = posix_spawn(&pid, exe.c_str(), nullptr, nullptr, argv.data(), environ);
    if (rc != 0) throw Error::Retryable(fmt::format("cannot start a worker process: {}", strerror(rc)));
    pids.push_back(pid);
  }
  return pids;
}

int run_backfill(const Globals& g, const BackfillArgs& args) {
  providers::make_provider(args.vendor);  // unknown vendor: fail before anything is written
  std::vector<Symbol> symbols = parse_symbols(args.symbols, args.vendor);
  if (args.from.empty() || args.to.empty()) throw Error::InvalidInput("backfill needs --from and --to");
  Date from = Date::parse(args.from, "--from"), to = Date::parse(args.to, "--to");
  if (args.workers < 1 || args.workers > 64) throw Error::InvalidInput("--workers must be 1..64");
  if (args.mode != "thread" && args.mode != "process") {
    throw Error::InvalidInput("--worker-mode must be thread or process");
  }
  if (args.fault_rate < 0 || args.fault_rate > 1) throw Error::InvalidInput("--fault-rate must be in [0, 1]");
  Workspace ws = Workspace::open(g.workspace);

  ingest::BackfillPlan plan;
  plan.vendor = args.vendor;
  plan.symbols = symbols;
  plan.from = from;
  plan.to = to;
  plan.run_id = new_run_id("backfill");
  if (args.vendor == "sim") {
    plan.options["seed"] = args.seed;
    if (args.fault_rate > 0) plan.options["fault_rate"] = fmt::format("{}", args.fault_rate);
    if (args.latency_ms > 0) plan.options["latency_ms"] = std::to_string(args.latency_ms);
  }
  std::vector<ingest::Task> tasks = ingest::plan_backfill(plan);
  auto queue = ws.open_queue();
  for (const auto& task : tasks) queue->enqueue(task.to_json());
  ws.catalog->start_run({plan.run_id, "backfill",
                         json{{"vendor", args.vendor}, {"symbols", symbols.size()},
                              {"from", args.from}, {"to", args.to}, {"tasks", tasks.size()}}.dump(),
                         "running", "", 0, 0});
  if (args.no_drain) {
    fmt::print("queued {} tasks on '{}'; drain with `trib worker --drain`\n", tasks.size(),
               ws.config.queue.name);
    return 0;
  }
  const int visibility = args.visibility_timeout_s > 0 ? args.visibility_timeout_s
                                                       : ws.config.queue.visibility_timeout_s;
  const int64_t poison_before = queue->poison_count();
  const int64_t pending_before = queue->count();
  Progress progress("backfill", pending_before);
  DrainResult total;
  std::mutex total_mutex;
  auto started = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  std::vector<pid_t> pids;
  std::atomic<int> running{args.workers};
  if (args.mode == "thread") {
    for (int i = 0; i < args.workers; ++i) {
      threads.emplace_back([&] {
        try {
          DrainResult r = drain_in_thread(ws.config, visibility, -1);
          std::lock_guard lock(total_mutex);
          total.worker.processed += r.worker.processed;
          total.worker.failed += r.worker.failed;
          total.etl.add(r.etl);
        } catch (const std::exception& e) {
          log::error("worker thread stopped: {}", e.what());
        }
        --running;
      });
    }
  } else {
    pids = spawn_workers(g, args.workers, visibility);
  }
  int dead_workers = 0;
  while (true) {
    if (args.mode == "process") {
      for (auto& pid : pids) {
        if (pid <= 0) continue;
        int status = 0;
        if (waitpid(pid, &status, WNOHANG) == pid) {
          if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
            ++dead_workers;
            std::fprintf(stderr, "\ntrib: worker %d %s; its leased task returns to the queue after %d s\n",
                         pid, WIFSIGNALED(status) ? fmt::format("was killed by signal {}", WTERMSIG(status)).c_str()
                                                  : "failed", visibility);
          }
          pid = 0;
          --running;
        }
      }
    }
    int64_t remaining = queue->count();
    progress.update(pending_before - remaining,
                    fmt::format("{} worker{} {}", running.load(), running.load() == 1 ? "" : "s",
                                queue->poison_count() > poison_before ? "(poison!)" : ""));
    if (running.load() == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  for (auto& t : threads) t.join();
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const int64_t poisoned = queue->poison_count() - poison_before;
  const int64_t left = queue->count();
  progress.finish(fmt::format("{:.1f} s", seconds));

  // Process workers report through the catalog: count what this run committed.
  json stats = stats_json(total.etl);
  stats["tasks"] = tasks.size();
  stats["processed"] = total.worker.processed;
  stats["failed_attempts"] = total.worker.failed;
  stats["poisoned"] = poisoned;
  stats["left_in_queue"] = left;
  stats["seconds"] = seconds;
  stats["worker_mode"] = args.mode;
  stats["dead_workers"] = dead_workers;
  std::string status = (poisoned == 0 && left == 0) ? "ok" : "failed";
  ws.catalog->finish_run(plan.run_id, status, stats.dump());
  if (g.json) {
    stats["run_id"] = plan.run_id;
    fmt::print("{}\n", stats.dump());
  } else {
    fmt::print("backfill {}: {} tasks in {:.1f} s with {} {} worker{}\n", plan.run_id, tasks.size(),
               seconds, args.workers, args.mode, args.workers == 1 ? "" : "s");
    if (args.mode == "thread") print_etl_stats(total.etl);
    if (poisoned > 0) {
      fmt::print("{} task(s) moved to the poison queue; see `trib status`\n", poisoned);
    }
  }
  return status == "ok" ? 0 : 1;
}

int run_worker(const Globals& g, bool drain, int visibility_timeout_s, int64_t max_tasks, bool quiet) {
  Workspace ws = Workspace::open(g.workspace);
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  const int visibility = visibility_timeout_s > 0 ? visibility_timeout_s
                                                  : ws.config.queue.visibility_timeout_s;
  auto queue = ws.open_queue();
  etl::EtlEngine engine(*ws.store, *ws.catalog);
  ingest::FetchHandler handler(*ws.store, *ws.catalog, &engine);
  ingest::WorkerOptions options;
  options.visibility_timeout_s = visibility;
  options.exit_when_empty = drain;
  options.max_tasks = max_tasks;
  auto stats = ingest::drain_queue(
      *queue, [&](const ingest::Task& task) { handler.handle(task); }, options, &g_stop);
  if (g.json) {
    json out = stats_json(engine.stats());
    out["processed"] = stats.processed;
    out["failed_attempts"] = stats.failed;
    fmt::print("{}\n", out.dump());
  } else if (!quiet) {
    fmt::print("worker: {} task(s) done, {} failed attempt(s)\n", stats.processed, stats.failed);
    print_etl_stats(engine.stats());
  }
  return 0;
}

// ---- etl --------------------------------------------------------------------------------------

int run_etl(const Globals& g, const std::string& symbol_text, const std::string& vendor) {
  Workspace ws = Workspace::open(g.workspace);
  std::string symbol;
  if (!symbol_text.empty()) symbol = Symbol::parse(symbol_text).str();
  auto raws = ws.catalog->list_raw_objects(vendor, symbol);
  std::string run_id = new_run_id("etl");
  ws.catalog->start_run({run_id, "etl", json{{"vendor", vendor}, {"symbol", symbol}}.dump(),
                         "running", "", 0, 0});
  etl::EtlEngine engine(*ws.store, *ws.catalog);
  Progress progress("etl", static_cast<int64_t>(raws.size()));
  int64_t done = 0;
  for (const auto& raw : raws) {
    engine.apply_raw_object(raw, run_id);
    progress.update(++done);
  }
  progress.finish();
  ws.catalog->finish_run(run_id, "ok", stats_json(engine.stats()).dump());
  if (g.json) {
    json out = stats_json(engine.stats());
    out["raw_objects"] = raws.size();
    out["run_id"] = run_id;
    fmt::print("{}\n", out.dump());
  } else {
    fmt::print("etl {}: {} raw object(s)\n", run_id, raws.size());
    print_etl_stats(engine.stats());
  }
  return 0;
}

// ---- bars -------------------------------------------------------------------------------------

int run_bars(const Globals& g, const std::string& symbol_text, const std::string& from,
             const std::string& to, const std::string& format) {
  if (format != "table" && format != "csv" && format != "json") {
    throw Error::InvalidInput(fmt::format("--format '{}' is not known; use table, csv or json", format));
  }
  etl::BarsQuery query;
  query.symbol = Symbol::parse(symbol_text);
  if (!from.empty()) query.from = Date::parse(from, "--from");
  if (!to.empty()) query.to = Date::parse(to, "--to");
  if (query.from && query.to && *query.to < *query.from) {
    throw Error::InvalidInput(fmt::format("--from {} is after --to {}", from, to));
  }
  Workspace ws = Workspace::open(g.workspace);
  int partitions = 0;
  auto rows = etl::read_curated_bars(*ws.store, *ws.catalog, query, &partitions);
  std::string out;
  if (format == "csv") {
    out += "session_date,ts,open,high,low,close,volume,source\n";
    for (const auto& r : rows) {
      out += fmt::format("{},{},{},{},{},{},{},{}\n", r.bar.session_date.to_string(),
                         format_ts_ns(r.bar.ts_ns), r.bar.open, r.bar.high, r.bar.low, r.bar.close,
                         r.bar.volume, r.source);
    }
  } else if (format == "json") {
    for (const auto& r : rows) {
      json j = {{"symbol", query.symbol.str()}, {"session_date", r.bar.session_date.to_string()},
                {"ts", format_ts_ns(r.bar.ts_ns)}, {"open", r.bar.open}, {"high", r.bar.high},
                {"low", r.bar.low}, {"close", r.bar.close}, {"volume", r.bar.volume},
                {"source", r.source}};
      out += j.dump() + "\n";
    }
  } else {
    out += fmt::format("{:<12} {:>14} {:>14} {:>14} {:>14} {:>16}\n", "date", "open", "high", "low",
                       "close", "volume");
    for (const auto& r : rows) {
      out += fmt::format("{:<12} {:>14.4f} {:>14.4f} {:>14.4f} {:>14.4f} {:>16.0f}\n",
                         r.bar.session_date.to_string(), r.bar.open, r.bar.high, r.bar.low,
                         r.bar.close, r.bar.volume);
    }
    out += fmt::format("{} bar(s) of {} from {} partition file(s)\n", rows.size(),
                       query.symbol.str(), partitions);
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

// ---- dq and status ----------------------------------------------------------------------------

int run_dq(const Globals& g, const std::string& run_id) {
  Workspace ws = Workspace::open(g.workspace);
  auto summary = ws.catalog->dq_summary(run_id);
  if (g.json) {
    json out = json::array();
    for (const auto& r : summary) {
      out.push_back({{"run_id", r.run_id}, {"dataset", r.dataset}, {"symbol", r.symbol},
                     {"rule", r.rule}, {"rows", r.rows}});
    }
    fmt::print("{}\n", out.dump());
    return 0;
  }
  if (summary.empty()) {
    fmt::print("no data-quality findings{}\n", run_id.empty() ? "" : " for run " + run_id);
    return 0;
  }
  fmt::print("{:<22} {:<10} {:>10}\n", "rule", "dataset", "rows");
  for (const auto& r : summary) fmt::print("{:<22} {:<10} {:>10}\n", r.rule, r.dataset, r.rows);
  fmt::print("quarantined rows are in {}\n", ws.store->describe("quarantine"));
  return 0;
}

json workspace_status(Workspace& ws) {
  auto partitions = ws.catalog->list_partitions("bars");
  int64_t rows = 0;
  std::set<std::string> symbols;
  for (const auto& p : partitions) {
    rows += p.row_count;
    symbols.insert(p.key.symbol);
  }
  auto raws = ws.catalog->list_raw_objects();
  int64_t raw_bytes = 0;
  for (const auto& r : raws) raw_bytes += r.size;
  auto queue = ws.open_queue();
  int64_t quarantined = 0;
  for (const auto& r : ws.catalog->dq_summary()) quarantined += r.rows;
  return {{"workspace", ws.config.workspace.string()},
          {"lake", ws.config.lake.path.string()},
          {"catalog", ws.config.catalog.path.string()},
          {"raw_objects", raws.size()},
          {"raw_bytes", raw_bytes},
          {"curated_partitions", partitions.size()},
          {"curated_rows", rows},
          {"curated_symbols", symbols.size()},
          {"quarantined_rows", quarantined},
          {"feature_partitions", ws.catalog->list_partitions("features/basic").size()},
          {"queue", {{"name", queue->name()}, {"pending", queue->count()},
                     {"visible", queue->visible_count()}, {"poison", queue->poison_count()}}}};
}

int run_status(const Globals& g) {
  Workspace ws = Workspace::open(g.workspace);
  json s = workspace_status(ws);
  if (g.json) {
    fmt::print("{}\n", s.dump());
    return 0;
  }
  fmt::print("workspace  {}\nlake       {}\ncatalog    {}\n", s["workspace"].get<std::string>(),
             s["lake"].get<std::string>(), s["catalog"].get<std::string>());
  fmt::print("raw        {} object(s), {} bytes\n", s["raw_objects"].get<int64_t>(), s["raw_bytes"].get<int64_t>());
  fmt::print("curated    {} row(s) in {} partition(s) of {} symbol(s)\n", s["curated_rows"].get<int64_t>(),
             s["curated_partitions"].get<int64_t>(), s["curated_symbols"].get<int64_t>());
  fmt::print("quarantine {} row(s)\n", s["quarantined_rows"].get<int64_t>());
  fmt::print("features   {} partition(s)\n", s["feature_partitions"].get<int64_t>());
  fmt::print("queue      '{}': {} pending ({} visible), {} poisoned\n",
             s["queue"]["name"].get<std::string>(), s["queue"]["pending"].get<int64_t>(),
             s["queue"]["visible"].get<int64_t>(), s["queue"]["poison"].get<int64_t>());
  auto queue = ws.open_queue();
  for (const auto& p : queue->list_poison()) {
    fmt::print("  poison {}: {} ({} deliveries)\n", p.id, p.last_error, p.dequeue_count);
  }
  return 0;
}

}  // namespace

nlohmann::json status_json_for(Workspace& ws) { return workspace_status(ws); }

void add_data_commands(CLI::App& app, Globals& g, Action& action) {
  {
    auto* cmd = app.add_subcommand("init", "Create a workspace: trib.toml, lake folder, SQLite catalog");
    auto dir = std::make_shared<std::string>();
    cmd->add_option("dir", *dir, "Workspace folder (default: --workspace or .)");
    cmd->callback([&g, &action, dir] {
      action = [&g, dir] {
        std::string target = dir->empty() ? g.workspace : *dir;
        bool created = init_workspace(target);
        Config c = Config::load(target);
        fmt::print("{} workspace {}\n  config  {}\n  lake    {}\n  catalog {}\n",
                   created ? "created" : "already a", c.workspace.string(),
                   (c.workspace / "trib.toml").string(), c.lake.path.string(), c.catalog.path.string());
        return 0;
      };
    });
  }
  {
    auto* cmd = app.add_subcommand("ingest", "Ingest a local file (csv) or one symbol (sim) into raw and curated");
    auto args = std::make_shared<IngestArgs>();
    cmd->add_option("--vendor", args->vendor, "Vendor: csv or sim")->required();
    cmd->add_option("--file", args->file, "csv: the file (Yahoo Date,Open,...,Volume or Kaggle date,...,Name)");
    cmd->add_option("--symbol", args->symbol, "The symbol of a single-symbol file, e.g. ^GSPC");
    cmd->add_option("--from", args->from, "First session date YYYY-MM-DD");
    cmd->add_option("--to", args->to, "Last session date YYYY-MM-DD");
    cmd->add_flag("--quarantine-bad-rows", args->quarantine_bad_rows,
                  "Quarantine malformed rows with their reasons instead of refusing the file");
    cmd->add_flag("--json", g.json, "Machine-readable summary");
    cmd->callback([&g, &action, args] { action = [&g, args] { return run_ingest(g, *args); }; });
  }
  {
    auto* cmd = app.add_subcommand("backfill", "Plan (symbol, year) fetch tasks, queue them and drain the queue with workers");
    auto args = std::make_shared<BackfillArgs>();
    cmd->add_option("--vendor", args->vendor, "Vendor (default sim)");
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
    cmd->add_flag("--json", g.json, "Machine-readable summary");
    cmd->callback([&g, &action, args] { action = [&g, args] { return run_backfill(g, *args); }; });
  }
  {
    auto* cmd = app.add_subcommand("worker", "Process tasks from the queue (until empty with --drain, else until SIGTERM)");
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
        return run_worker(g, *drain, *visibility, *max_tasks, *quiet);
      };
    });
  }
  {
    auto* cmd = app.add_subcommand("etl", "Rebuild curated partitions from the raw objects in the catalog (idempotent)");
    auto symbol = std::make_shared<std::string>();
    auto vendor = std::make_shared<std::string>();
    cmd->add_option("--symbol", *symbol, "Only this symbol's raw objects");
    cmd->add_option("--vendor", *vendor, "Only this vendor's raw objects");
    cmd->add_flag("--json", g.json, "Machine-readable summary");
    cmd->callback([&g, &action, symbol, vendor] {
      action = [&g, symbol, vendor] { return run_etl(g, *symbol, *vendor); };
    });
  }
  {
    auto* cmd = app.add_subcommand("bars", "Print curated bars of a symbol (reads only partitions in range)");
    auto symbol = std::make_shared<std::string>();
    auto from = std::make_shared<std::string>();
    auto to = std::make_shared<std::string>();
    auto format = std::make_shared<std::string>("table");
    cmd->add_option("symbol", *symbol, "Symbol, e.g. ^GSPC")->required();
    cmd->add_option("--from", *from, "First session date YYYY-MM-DD");
    cmd->add_option("--to", *to, "Last session date YYYY-MM-DD");
    cmd->add_option("--format", *format, "table (default), csv or json (one object per line)");
    cmd->callback([&g, &action, symbol, from, to, format] {
      action = [&g, symbol, from, to, format] { return run_bars(g, *symbol, *from, *to, *format); };
    });
  }
  {
    auto* cmd = app.add_subcommand("dq", "Data-quality findings: quarantined rows per rule");
    auto run = std::make_shared<std::string>();
    cmd->add_option("--run", *run, "Only this run id");
    cmd->add_flag("--json", g.json, "Machine-readable output");
    cmd->callback([&g, &action, run] { action = [&g, run] { return run_dq(g, *run); }; });
  }
  {
    auto* cmd = app.add_subcommand("status", "Workspace summary: raw, curated, quarantine, features, queue");
    cmd->add_flag("--json", g.json, "Machine-readable output");
    cmd->callback([&g, &action] { action = [&g] { return run_status(g); }; });
  }
}

}  // namespace trib::cli

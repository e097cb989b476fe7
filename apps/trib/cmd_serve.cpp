// update | serve --functions: the daily update, by hand or cron (`trib update`), and the Azure
// Functions custom handler that runs it on a timer and runs queued tasks (`trib serve --functions`).
#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <iostream>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli.hpp"
#include "trib/core/error.hpp"
#include "trib/core/fs.hpp"
#include "trib/core/log.hpp"
#include "trib/core/time.hpp"
#include "trib/ingest/vendor_access.hpp"
#include "trib/runtime/schedule.hpp"
#include "trib/runtime/shutdown.hpp"
#include "trib/runtime/tasks.hpp"
#include "trib/runtime/worker_pool.hpp"
#include "trib/server/api.hpp"
#include "trib/server/functions.hpp"
#include "workspace.hpp"

namespace trib::cli {
namespace {


// One daily update: plan and queue (runtime::queue_daily_update), then drain with workers unless
// no_drain. Prints the summary; returns the exit status (0 all done, 1 not all, 130 stopped).
int update_once(const Globals& g, Workspace& ws, int64_t now, bool no_drain, int workers,
                const std::atomic<bool>& stop) {
  int status = 0;
  const nlohmann::json out = update_json(ws, now, no_drain, workers, stop, &status);
  if (g.json) {
    fmt::print("{}\n", out.dump());
    return status;
  }
  fmt::print("update {} through {}: {} task(s) for {} symbol(s): {} queued, {} already done, {} already queued\n",
             out["run_id"].get<std::string>(), out["through"].get<std::string>(), out["planned"].get<int64_t>(),
             out["symbols"].get<int64_t>(), out["queued"].get<int64_t>(), out["already_done"].get<int64_t>(),
             out["already_queued"].get<int64_t>());
  if (out["skipped_unknown"].get<int64_t>() > 0) {
    fmt::print("  {} instrument(s) skipped: the vendor does not know them (`trib universe list`)\n",
               out["skipped_unknown"].get<int64_t>());
  }
  if (out.contains("done")) {
    fmt::print("{} of {} task(s) done; {} moved to poison\n", out["done"].get<int64_t>(),
               out["pending"].get<int64_t>(), out["dead_lettered"].get<int64_t>());
    if (out["left_in_queue"].get<int64_t>() > 0) {
      fmt::print("  {} task(s) wait in the queue for a vendor's request budget (`trib queue list` "
                 "says why and until when); the next `trib update` or `trib worker` runs them\n",
                 out["left_in_queue"].get<int64_t>());
    }
  }
  return status;
}

// The largest publishing delay among the vendors the universe uses: the schedule runs after it.
int schedule_delay_minutes(Workspace& ws) {
  int delay = 0;
  for (const auto& e : ws.catalog->list_universe()) {
    delay = std::max(delay, ingest::vendor_settings(ws.config, e.vendor).publish_delay_minutes);
  }
  return delay;
}

}  // namespace

int64_t planning_time(const std::string& as_of) {
  if (as_of.empty()) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  // An hour after that session's close, so it is the last session closed.
  return TradingCalendar::nyse().session_close_ts_ns(Date::parse(as_of, "--as-of")) + int64_t{3600} * 1'000'000'000;
}

nlohmann::json update_json(Workspace& ws, int64_t now, bool no_drain, int workers, const std::atomic<bool>& stop,
                           int* status) {
  const runtime::UpdateReport r = runtime::queue_daily_update(ws, now);
  nlohmann::json out = {{"run_id", r.run_id},        {"through", r.last_session.to_string()},
                        {"symbols", r.symbols},      {"planned", r.planned},
                        {"queued", r.enqueued.queued}, {"already_done", r.enqueued.already_done},
                        {"already_queued", r.enqueued.already_queued},
                        {"skipped_unknown", r.skipped_unknown}};
  *status = 0;
  if (!no_drain && !r.enqueued.pending_ids.empty()) {
    runtime::PoolOptions pool;
    pool.workers = workers;
    pool.visibility_timeout_s = ws.config.queue.visibility_timeout_s;
    const runtime::PoolResult result = runtime::run_pool(ws, pool, &stop);
    int64_t done = 0;
    for (const auto& id : r.enqueued.pending_ids) done += ws.catalog->is_task_done(id) ? 1 : 0;
    // What is still queued after the drain: tasks deferred until a vendor's budget allows
    // them (a used-up daily cap), which the next update or worker picks up.
    out["done"] = done;
    out["pending"] = r.enqueued.pending_ids.size();
    out["dead_lettered"] = result.worker.dead_lettered;
    out["deferred"] = result.worker.deferred;
    out["left_in_queue"] = ws.open_queue()->count();
    if (result.stopped) *status = 130;
    else if (done < static_cast<int64_t>(r.enqueued.pending_ids.size())) *status = 1;
  }
  return out;
}

void add_serve_commands(CLI::App& app, Globals& g, Action& action) {
  {
    auto* cmd = app.add_subcommand(
        "update", "Queue the daily update of the universe (`trib universe`; else trib.toml's [update] symbols), each from its watermark to the last closed "
                  "session after the vendor's publishing delay, and drain it with workers; run it from cron, or let the Functions timer do it");
    auto as_of = std::make_shared<std::string>();
    auto no_drain = std::make_shared<bool>(false);
    auto workers = std::make_shared<int>(2);
    cmd->add_option("--as-of", *as_of, "Plan as if run after this date's close (YYYY-MM-DD; default: now)");
    cmd->add_flag("--no-drain", *no_drain, "Only queue the tasks (workers, Container Apps jobs or Functions run them)");
    cmd->add_option("--workers", *workers, "Parallel workers when draining (default 2)")->check(CLI::Range(1, 64));
    cmd->add_flag("--json", g.json, "Machine-readable summary");
    auto every_session = std::make_shared<bool>(false);
    cmd->add_flag("--every-session", *every_session,
                  "Stay running: update now, then after every session's close (+ the vendors' publishing delay), "
                  "retrying after 15 minutes when a run did not finish; stop with SIGINT/SIGTERM");
    cmd->callback([&g, &action, as_of, no_drain, workers, every_session] {
      action = [&g, as_of, no_drain, workers, every_session] {
        Workspace ws = open_workspace(g.workspace);
        const auto& stop = runtime::install_shutdown_handlers();
        if (!*every_session) {
          return update_once(g, ws, planning_time(*as_of), *no_drain, *workers, stop);
        }
        if (!as_of->empty()) throw Error::InvalidInput("--every-session runs on the clock; drop --as-of");
        runtime::ScheduleOptions options;
        options.publish_delay_minutes = schedule_delay_minutes(ws);
        runtime::run_every_session(
            [&](int64_t now) { return update_once(g, ws, now, *no_drain, *workers, stop) == 0; },
            TradingCalendar::nyse(), options, stop, [&](int64_t next) {
              if (!g.json) fmt::print("next update at {}\n", format_ts_ns(next));
              std::fflush(stdout);
            });
        return 0;
      };
    });
  }
  {
    auto* cmd = app.add_subcommand(
        "serve",
        "Serve the workspace: the HTTP API (/api/v1, documented in docs/openapi.json), /healthz, /readyz and "
        "/metrics on --host:--port (127.0.0.1:8080; read-only unless TRIB_API_TOKEN is set, then POST routes take "
        "it as a bearer token); --functions speaks the Azure Functions custom-handler protocol instead");
    auto functions = std::make_shared<bool>(false);
    auto port = std::make_shared<int>(-1);
    auto host = std::make_shared<std::string>("127.0.0.1");
    auto as_of = std::make_shared<std::string>();
    auto port_file = std::make_shared<std::string>();
    auto schedule = std::make_shared<bool>(false);
    cmd->add_flag("--functions", *functions, "Azure Functions custom handler (port from FUNCTIONS_CUSTOMHANDLER_PORT)");
    cmd->add_option("--port", *port, "Port (API default 8080; --functions: $FUNCTIONS_CUSTOMHANDLER_PORT; 0 = any free port)");
    cmd->add_option("--host", *host, "Address to bind (default 127.0.0.1; 0.0.0.0 exposes it to the network)");
    cmd->add_option("--as-of", *as_of, "DailyUpdate plans as if run after this date's close (replays, tests)");
    cmd->add_option("--port-file", *port_file, "Write the bound port to this file once listening (tests, scripts)");
    cmd->add_flag("--schedule", *schedule,
                  "Also run the day beside the API: the daily update (queue and drain) now and after every session's "
                  "close plus the vendors' publishing delay, each followed by one end-of-day trading cycle of "
                  "[strategy] on the paper account (or Alpaca, per [broker])");
    cmd->callback([&g, &action, port, host, as_of, functions, port_file, schedule] {
      action = [&g, port, host, as_of, functions, port_file, schedule] {
        if (!*functions) {
          int p = *port < 0 ? 8080 : *port;
          if (p > 65535) throw Error::InvalidInput(fmt::format("--port {} is not a port", p));
          if (!as_of->empty()) throw Error::InvalidInput("--as-of goes with --functions");
          Workspace ws = open_workspace(g.workspace);
          server::ApiOptions options;
          if (const char* token = std::getenv("TRIB_API_TOKEN"); token != nullptr && *token != '\0') {
            if (std::string_view(token).size() < 16) {
              throw Error::InvalidInput("TRIB_API_TOKEN is shorter than 16 characters: use a long random token");
            }
            options.token = token;
            log::register_secret(token);
          }
          server::Api api(ws.config, options);
          const auto& stop = runtime::install_shutdown_handlers();
          std::thread scheduler;
          if (*schedule) {
            // Its own workspace: catalog connections belong to the thread that opened them.
            scheduler = std::thread([&g, &stop] {
              try {
                Workspace sws = open_workspace(g.workspace);
                Globals quiet = g;
                quiet.json = true;  // one JSON line per update on stdout
                runtime::ScheduleOptions so;
                so.publish_delay_minutes = schedule_delay_minutes(sws);
                runtime::run_every_session(
                    [&](int64_t now) {
                      const bool done = update_once(quiet, sws, now, false, 2, stop) == 0;
                      std::fflush(stdout);
                      if (stop.load()) return done;
                      try {
                        log::info("end-of-day trading cycle: {}", run_trade_json(sws, sws.config.strategy).dump());
                      } catch (const Error& e) {
                        log::warn("end-of-day trading cycle: {}", e.what());
                      }
                      return done;
                    },
                    TradingCalendar::nyse(), so, stop,
                    [](int64_t next) { log::warn("trib serve --schedule: next update at {}", format_ts_ns(next)); });
              } catch (const std::exception& e) {
                log::error("trib serve --schedule stopped: {}", e.what());
              }
            });
          }
          try {
            server::serve_api(api, *host, p, stop, [&](int bound) {
              if (!port_file->empty()) write_file_atomic(std::filesystem::absolute(*port_file), std::to_string(bound) + "\n");
              fmt::print("listening on http://{}:{} ({}; /healthz /readyz /metrics /api/v1)\n", *host, bound,
                         options.token.empty() ? "read-only: no TRIB_API_TOKEN" : "changes with the bearer token");
              std::fflush(stdout);
            });
          } catch (...) {
            runtime::request_shutdown();  // the scheduler stops with the server
            if (scheduler.joinable()) scheduler.join();
            throw;
          }
          if (scheduler.joinable()) scheduler.join();
          return 0;
        }
        int p = *port;
        if (p < 0) {
          const char* env = std::getenv("FUNCTIONS_CUSTOMHANDLER_PORT");
          if (env == nullptr || *env == '\0') {
            throw Error::InvalidInput(
                "trib serve --functions: no port: the Functions host sets FUNCTIONS_CUSTOMHANDLER_PORT; by hand, "
                "pass --port N");
          }
          p = std::atoi(env);
        }
        if (p < 0 || p > 65535) throw Error::InvalidInput(fmt::format("--port {} is not a port", p));
        Workspace ws = open_workspace(g.workspace);  // fail at start on a bad trib.toml or credentials
        std::function<int64_t()> clock;
        if (!as_of->empty()) {
          const int64_t fixed = planning_time(*as_of);
          clock = [fixed] { return fixed; };
        }
        server::FunctionsHandler handler(ws.config, clock);
        const auto& stop = runtime::install_shutdown_handlers();
        server::serve_functions(handler, *host, p, stop, [&](int bound) {
          fmt::print("listening on http://{}:{} (Azure Functions custom handler: DailyUpdate, RunTask)\n", *host, bound);
          std::fflush(stdout);
        });
        return 0;
      };
    });
  }
}

}  // namespace trib::cli

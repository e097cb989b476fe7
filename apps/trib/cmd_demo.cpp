// trib demo: the whole pipeline on the embedded defaults, on real data, in one command.
#include <chrono>
#include <cstdio>
#include <filesystem>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli.hpp"
#include "trib/core/error.hpp"
#include "workspace.hpp"

namespace trib::cli {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Runs this binary with `args` (the demo drives the same commands a user would type).
json run_self_json(const std::string& workspace, const std::vector<std::string>& args) {
  std::string cmd = fmt::format("'{}' -w '{}'", fs::read_symlink("/proc/self/exe").string(), workspace);
  for (const auto& a : args) cmd += fmt::format(" '{}'", a);
  cmd += " --json";
  FILE* pipe = ::popen(cmd.c_str(), "r");
  if (pipe == nullptr) throw Error::Internal("cannot run " + cmd);
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
  int status = ::pclose(pipe);
  if (status != 0) {
    throw Error::Permanent(fmt::format("demo step `trib {}` failed (status {})", args.front(), status));
  }
  // The summary is the last line.
  size_t start = out.find_last_of('\n', out.size() >= 2 ? out.size() - 2 : 0);
  std::string last = start == std::string::npos ? out : out.substr(start + 1);
  json parsed = json::parse(last, nullptr, false);
  if (parsed.is_discarded()) throw Error::Internal("demo step `trib " + args.front() + "` printed no JSON summary");
  return parsed;
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

void add_demo_command(CLI::App& app, Globals& g, Action& action) {
  auto* cmd = app.add_subcommand(
      "demo",
      "Run everything on real data with zero services: init, ingest the S&P 500 (2000-2020), "
      "backfill 50 sim symbols through the queue, ETL, features, SMA-cross backtest, one paper cycle");
  auto dir = std::make_shared<std::string>("workspace");
  auto workers = std::make_shared<int>(2);
  cmd->add_option("dir", *dir, "Workspace folder (default ./workspace)");
  cmd->add_option("--workers", *workers, "Backfill workers (default 2)");
  cmd->callback([&g, &action, dir, workers] {
    action = [&g, dir, workers] {
      auto t0 = std::chrono::steady_clock::now();
      const std::string sp500 = find_sp500_csv();
      const std::string ws_dir = fs::absolute(*dir).lexically_normal().string();
      fmt::print("Tributary demo in {}\n", ws_dir);

      auto step = [](int n, const std::string& name, const std::string& what, double secs) {
        fmt::print("  {}. {:<10} {:<66} {:>6.2f} s\n", n, name, what, secs);
        std::fflush(stdout);
      };
      auto t = std::chrono::steady_clock::now();
      bool created = init_workspace(ws_dir);
      step(1, "init", created ? "created trib.toml, lake/, catalog.db" : "workspace already there", seconds_since(t));

      t = std::chrono::steady_clock::now();
      json ingest = run_self_json(ws_dir, {"ingest", "--vendor", "csv", "--file", sp500, "--symbol", "^GSPC"});
      step(2, "ingest", fmt::format("^GSPC from vega-datasets sp500-2000.csv: {} rows -> {} curated",
                                    ingest["rows_in"].get<int64_t>(), ingest["rows_accepted"].get<int64_t>()),
           seconds_since(t));

      t = std::chrono::steady_clock::now();
      json backfill = run_self_json(
          ws_dir, {"backfill", "--vendor", "sim", "--symbols", "50", "--from", "2010-01-01", "--to",
                   "2020-12-31", "--workers", std::to_string(*workers), "--fault-rate", "0.001"});
      step(3, "backfill", fmt::format("50 sim symbols 2010-2020: {} tasks, {} workers, {} poisoned",
                                      backfill["tasks"].get<int64_t>(), *workers,
                                      backfill["poisoned"].get<int64_t>()),
           seconds_since(t));
      step(4, "etl", fmt::format("ran in the workers: {} rows in, {} curated, {} quarantined",
                                 backfill["rows_in"].get<int64_t>(), backfill["rows_accepted"].get<int64_t>(),
                                 backfill["rows_quarantined"].get<int64_t>()),
           0.0);

      Workspace ws = open_workspace(ws_dir);
      t = std::chrono::steady_clock::now();
      json feats = run_features_json(ws, ws_dir, "basic", {});
      step(5, "features", fmt::format("SMA/EMA/RSI/returns/volatility for {} symbols, {} rows",
                                      feats["symbols"].get<int64_t>(), feats["rows"].get<int64_t>()),
           seconds_since(t));

      t = std::chrono::steady_clock::now();
      StrategyConfig strategy = ws.config.strategy;
      json bt = run_backtest_json(ws, strategy, "", "");
      step(6, "backtest", fmt::format("{} on {}", bt["strategy"].get<std::string>(), bt["symbol"].get<std::string>()),
           seconds_since(t));

      t = std::chrono::steady_clock::now();
      json trade = run_trade_json(ws, strategy);
      step(7, "trade", fmt::format("one paper cycle for {}: {}", trade["session_date"].get<std::string>(),
                                   trade["action"].get<std::string>()),
           seconds_since(t));

      json status = status_json_for(ws);
      fmt::print("\nLake\n");
      fmt::print("  raw         {} object(s), {:.1f} MiB\n", status["raw_objects"].get<int64_t>(),
                 status["raw_bytes"].get<int64_t>() / 1048576.0);
      fmt::print("  curated     {} rows in {} partitions ({} symbols)\n", status["curated_rows"].get<int64_t>(),
                 status["curated_partitions"].get<int64_t>(), status["curated_symbols"].get<int64_t>());
      fmt::print("  quarantine  {} rows (all runs)\n", status["quarantined_rows"].get<int64_t>());
      fmt::print("  features    {} partitions\n", status["feature_partitions"].get<int64_t>());
      fmt::print("\nData quality (this demo's backfill)\n");
      if (backfill["quarantined_by_rule"].empty()) fmt::print("  no findings\n");
      for (auto& [rule, count] : backfill["quarantined_by_rule"].items()) {
        fmt::print("  {:<22} {:>6} rows quarantined\n", rule, count.get<int64_t>());
      }
      fmt::print("\n");
      print_backtest(bt);
      fmt::print("\n");
      print_trade(trade);
      fmt::print("\nDone in {:.1f} s. The lake is at {}\n", seconds_since(t0), status["lake"].get<std::string>());
      fmt::print("Try: trib -w {} bars ^GSPC --from 2020-03-01 --to 2020-03-31\n", ws_dir);
      fmt::print("     trib -w {} status\n", ws_dir);
      return 0;
    };
  });
  (void)g;
}

}  // namespace trib::cli

// trib demo: the whole pipeline on the embedded defaults, on real data, in one command.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <memory>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <zstd.h>

#include "cli.hpp"
#include "trib/core/error.hpp"
#include "trib/ml/training.hpp"
#include "trib/providers/provider.hpp"
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

// The Kaggle S&P 500 file (505 stocks, 2013-2018) in ../shared/data: $TRIB_STOCKS_CSV_ZST, else
// next to the source tree this binary was built from or the current folder; "" when absent.
std::string find_stocks_file() {
  if (const char* env = std::getenv("TRIB_STOCKS_CSV_ZST")) return env;
  const char* rel = "../shared/data/equities-daily/all_stocks_5yr.csv.zst";
  for (fs::path base : {fs::current_path(), fs::path(TRIB_SOURCE_DIR)}) {
    if (fs::exists(base / rel)) return (base / rel).lexically_normal().string();
  }
  return "";
}

// Decompresses a .zst file (streaming: the frame need not state its size).
void unzstd(const std::string& from, const fs::path& to) {
  FILE* in = std::fopen(from.c_str(), "rb");
  if (in == nullptr) throw Error::NotFound(fmt::format("cannot read {}", from));
  const fs::path partial = to.string() + ".partial";
  FILE* out = std::fopen(partial.c_str(), "wb");
  std::unique_ptr<ZSTD_DCtx, decltype(&ZSTD_freeDCtx)> ctx(ZSTD_createDCtx(), &ZSTD_freeDCtx);
  std::vector<char> ibuf(ZSTD_DStreamInSize()), obuf(ZSTD_DStreamOutSize());
  bool ok = out != nullptr;
  size_t n = 0;
  while (ok && (n = std::fread(ibuf.data(), 1, ibuf.size(), in)) > 0) {
    ZSTD_inBuffer input{ibuf.data(), n, 0};
    while (ok && input.pos < input.size) {
      ZSTD_outBuffer output{obuf.data(), obuf.size(), 0};
      ok = !ZSTD_isError(ZSTD_decompressStream(ctx.get(), &output, &input)) &&
           std::fwrite(obuf.data(), 1, output.pos, out) == output.pos;
    }
  }
  std::fclose(in);
  if (out != nullptr) ok = std::fclose(out) == 0 && ok;
  if (!ok) throw Error::Permanent(fmt::format("cannot decompress {} into {}", from, to.string()));
  fs::rename(partial, to);
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

void add_demo_command(CLI::App& app, Globals& g, Action& action) {
  auto* cmd = app.add_subcommand(
      "demo",
      "Run everything on real data with zero services: init, ingest the S&P 500 (2000-2020), "
      "backfill 50 sim symbols through the queue, ETL, features, SMA-cross backtest, one paper cycle, "
      "then research: Alpha158 and XGBoost walk-forward on 505 S&P 500 stocks (2013-2018)");
  auto dir = std::make_shared<std::string>("workspace");
  auto workers = std::make_shared<int>(2);
  auto no_research = std::make_shared<bool>(false);
  cmd->add_option("dir", *dir, "Workspace folder (default ./workspace)");
  cmd->add_option("--workers", *workers, "Backfill workers (default 2)");
  cmd->add_flag("--no-research", *no_research,
                "Skip the research step (505 S&P 500 stocks 2013-2018: Alpha158, XGBoost walk-forward)");
  cmd->callback([&g, &action, dir, workers, no_research] {
    action = [&g, dir, workers, no_research] {
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
      // The demo's own symbols (the research step's stocks come later and get Alpha158).
      std::vector<std::string> demo_symbols = {"^GSPC"};
      for (const Symbol& s : providers::sim_universe(50)) demo_symbols.push_back(s.str());
      json feats = run_features_json(ws, ws_dir, "basic", demo_symbols);
      step(5, "features", fmt::format("SMA/EMA/RSI/returns/volatility for {} symbols, {} rows",
                                      feats["symbols"].get<int64_t>(), feats["rows"].get<int64_t>()),
           seconds_since(t));

      t = std::chrono::steady_clock::now();
      StrategyConfig strategy = ws.config.strategy;
      json bt = run_backtest_json(ws, strategy, "", "");
      step(6, "backtest", fmt::format("{} on {}", bt["strategy"].get<std::string>(), bt["symbol"].get<std::string>()),
           seconds_since(t));

      t = std::chrono::steady_clock::now();
      // The demo's data ends in the past: the cycle decides on its last session.
      json trade = run_trade_json(ws, strategy, bt["to"].get<std::string>());
      step(7, "trade", fmt::format("one paper cycle for {}: {}", trade["session_date"].get<std::string>(),
                                   trade["action"].get<std::string>()),
           seconds_since(t));

      // 8. Research: Alpha158 on the 505 stocks of the Kaggle file, XGBoost walk-forward.
      json research;
      const std::string stocks = *no_research ? "" : find_stocks_file();
      if (!*no_research && stocks.empty()) {
        fmt::print("  8. research   skipped: no all_stocks_5yr.csv.zst (../shared/data; or set TRIB_STOCKS_CSV_ZST)\n");
      } else if (!stocks.empty()) {
        t = std::chrono::steady_clock::now();
        const fs::path csv = fs::path(ws_dir) / "demo-data" / "all_stocks_5yr.csv";
        fs::create_directories(csv.parent_path());
        if (!fs::exists(csv)) unzstd(stocks, csv);
        json in = run_self_json(ws_dir, {"ingest", "--vendor", "csv", "--file", csv.string(), "--quarantine-bad-rows"});
        // Three yearly walk-forward steps after three years of training, a half-year of
        // validation for early stopping; a light booster so the step takes about a minute.
        const ml::ModelConfig config = ml::ModelConfig::parse(R"(
name = "demo-alpha158-xgb"
[dataset]
feature_set = "alpha158"
from = "2013-02-08"
to = "2018-02-07"
[split]
train = 630
valid = 126
test = 189
embargo = 0
[model]
kind = "xgboost"
[model.params]
num_boost_round = 200
early_stopping_rounds = 10
max_depth = 4
eta = 0.1
colsample_bytree = 0.5
subsample = 0.5
max_bin = 64
)", "demo model");
        // The universe: the file's stocks (not the demo's other symbols).
        ml::ModelConfig universe_config = config;
        {
          std::ifstream lines(csv);
          std::string line;
          std::set<std::string> names;
          std::getline(lines, line);  // date,open,high,low,close,volume,Name
          while (std::getline(lines, line)) {
            const auto comma = line.rfind(',');
            if (comma != std::string::npos) names.insert(line.substr(comma + 1));
          }
          universe_config.universe.assign(names.begin(), names.end());
        }
        ml::TrainOptions options;
        options.workspace = ws_dir;
        options.progress = [](const std::string& line) {
          fmt::print("               {}\n", line);
          std::fflush(stdout);
        };
        const ml::TrainResult r = ml::train_model(*ws.store, *ws.catalog, universe_config, options);
        research = json::parse(r.record.metrics_json)["test"];
        research["id"] = r.record.id;
        research["rows_in"] = in["rows_in"];
        step(8, "research",
             fmt::format("{} stocks 2013-2018: Alpha158, XGBoost, {} walk-forward splits", universe_config.universe.size(),
                         r.record.splits),
             seconds_since(t));
      }

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
      if (!research.is_null()) {
        auto f = [&](const char* key, const char* format) {
          return research[key].is_number() ? fmt::format(fmt::runtime(format), research[key].get<double>()) : "n/a";
        };
        fmt::print("\nResearch: model {} (out of sample, {} test dates)\n", research["id"].get<std::string>(),
                   research["dates"].get<int64_t>());
        fmt::print("  IC {}  rank IC {}  ICIR {}  rank ICIR {}\n", f("ic_mean", "{:.4f}"), f("rank_ic_mean", "{:.4f}"),
                   f("icir", "{:.3f}"), f("rank_icir", "{:.3f}"));
        if (research["long_short_mean"].is_number()) {
          fmt::print("  top-minus-bottom decile: {:+.3f}% mean 5-session return per date (IR {})\n",
                     100 * research["long_short_mean"].get<double>(), f("long_short_ir", "{:.3f}"));
        }
      }
      fmt::print("\nDone in {:.1f} s. The lake is at {}\n", seconds_since(t0), status["lake"].get<std::string>());
      fmt::print("Try: trib -w {} bars ^GSPC --from 2020-03-01 --to 2020-03-31\n", ws_dir);
      fmt::print("     trib -w {} status\n", ws_dir);
      if (!research.is_null()) fmt::print("     trib -w {} ml show {}\n", ws_dir, research["id"].get<std::string>());
      return 0;
    };
  });
  (void)g;
}

}  // namespace trib::cli

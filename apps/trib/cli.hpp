// Shared plumbing of the trib commands: global options, output helpers, the command table.
#pragma once

#include <functional>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "trib/core/config.hpp"
#include "trib/core/symbol.hpp"
#include "trib/etl/adjusted_bars.hpp"
#include "trib/etl/etl.hpp"
#include "workspace.hpp"

namespace trib::cli {

struct Globals {
  std::string workspace = ".";
  std::string log_level = "warn";
  bool json = false;
};

// Every command registers itself with a subcommand and sets the action run after parsing.
using Action = std::function<int()>;

void add_data_commands(CLI::App& app, Globals& globals, Action& action);      // init ingest etl verify bars dq status
void add_queue_commands(CLI::App& app, Globals& globals, Action& action);     // backfill worker queue catalog
void add_research_commands(CLI::App& app, Globals& globals, Action& action);  // features eval indicator trade
void add_parquet_commands(CLI::App& app, Globals& globals, Action& action);    // parquet inspect|cat
void add_demo_command(CLI::App& app, Globals& globals, Action& action);       // demo
void add_lake_commands(CLI::App& app, Globals& globals, Action& action);      // lake ls|export
void add_serve_commands(CLI::App& app, Globals& globals, Action& action);
void add_universe_commands(CLI::App& app, Globals& globals, Action& action);  // universe add|remove|list, vendors     // update, serve --functions
void add_coverage_command(CLI::App& app, Globals& globals, Action& action);    // coverage
void add_actions_commands(CLI::App& app, Globals& globals, Action& action);   // actions import|list|conflicts
void add_ml_commands(CLI::App& app, Globals& globals, Action& action);
void add_trading_commands(CLI::App& app, Globals& globals, Action& action);
void add_llm_commands(CLI::App& app, Globals& globals, Action& action);      // ask report  // backtest trade halt resume        // ml train|list|show|compare|predict|predictions

// ETL counts as JSON and as the lines the commands print.
nlohmann::json stats_json(const etl::EtlStats& stats);
void print_etl_stats(const etl::EtlStats& stats);

// The numbers `trib status` shows, as JSON.
nlohmann::json status_json_for(Workspace& ws);

// Bodies of the research commands, shared with the demo.
// Computes feature set `set_name` (basic, alpha158, a workspace set or a .toml path) for
// `symbols` (empty: every curated symbol) into features/<set>/, incrementally unless `full`.
nlohmann::json run_features_json(Workspace& ws, const std::string& workspace_dir, const std::string& set_name,
                                 const std::vector<std::string>& symbols, bool full = false);
// adjust: the prices the strategy sees ("" = [prices] adjust); orders fill at raw prices.
// as_of: the lake and the corporate actions as they were then ("" = now; see parse_as_of).
// Runs and (unless !save) saves a portfolio backtest; returns its summary (trading/backtest_store.hpp).
nlohmann::json run_backtest_json(Workspace& ws, const StrategyConfig& s,
                                 const std::string& from, const std::string& to,
                                 const std::string& adjust = "", const std::string& as_of = "", bool save = true,
                                 const std::string& timeframe = "1d", const std::string& feature_set = "");
// The [prices] options with adjust mode `mode` (raw, split, total).
etl::PriceOptions prices_of(const Config& config, const std::string& mode);
// `symbols` parsed, or every symbol with curated daily bars when empty (NotFound when none).
std::vector<Symbol> universe_of(Workspace& ws, const std::vector<std::string>& symbols);
// --as-of TEXT: YYYY-MM-DD (the end of that day, UTC) or a timestamp; INT64_MAX for "".
int64_t parse_as_of(const std::string& text);
// One end-of-day cycle of the live runner for `account` on `session` ("" = the last completed
// session, refusing stale data).
nlohmann::json run_trade_json(Workspace& ws, const StrategyConfig& s, const std::string& session = "",
                              const std::string& account = "paper", const std::string& feature_set = "");
void print_backtest(const nlohmann::json& b);
void print_trade(const nlohmann::json& t);

// Where the demo's S&P 500 file is: $TRIB_SP500_CSV, else node_modules/vega-datasets under the
// current folder or the source tree this binary was built from.
std::string find_sp500_csv();

// Progress on stderr: a rewritten line on a terminal, otherwise nothing until done.
class Progress {
 public:
  Progress(std::string label, int64_t total);
  void update(int64_t done, const std::string& detail = "");
  void finish(const std::string& detail = "");

 private:
  std::string label_;
  int64_t total_;
  bool tty_;
  int64_t last_ms_ = 0;
};

}  // namespace trib::cli

// Shared plumbing of the trib commands: global options, output helpers, the command table.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "trib/core/config.hpp"
#include "trib/core/symbol.hpp"
#include "trib/etl/adjusted_bars.hpp"
#include "trib/etl/bar_conflicts.hpp"
#include "trib/etl/etl.hpp"
#include "trib/features/expression.hpp"
#include "trib/ml/model_config.hpp"
#include "trib/trading/backtest.hpp"
#include "trib/trading/strategy.hpp"
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

// ---- Command bodies the Python package (python/) shares: the same code, the same messages ----

// `trib bars`: the rows of one symbol in the timeframe and price mode asked.
struct BarsArgs {
  std::string symbol, from, to, format = "table", adjust = "raw", as_of;
  std::string timeframe, session;  // "" = as stored (1d), resampled from finer bars when needed
  bool hot = false;
  bool ticker_only = false;  // the ticker's own rows, not the instrument's earlier names
};
struct BarsRead {
  std::vector<lake::CuratedBar> rows;
  std::vector<std::string> notes;  // "trib: note:" lines (renames, conflicting actions)
  int partitions = 0;              // partition files opened
  bool intraday = false;
};
BarsRead read_bars_rows(Workspace& ws, const BarsArgs& args);

// `trib ingest`: local files or a vendor's symbol into raw and curated.
struct IngestArgs {
  std::string vendor;
  std::vector<std::string> files;  // csv: files, folders or glob patterns
  std::string symbol;
  std::string from, to;
  std::string timeframe = "1d", calendar = "nyse";
  std::string price_basis = "auto";  // csv: raw | split | total | auto (split when an Adj Close column is there)
  bool quarantine_bad_rows = false;
  int threads = 0;
};
// `stop_for_batch`, when set, is called once for a batch of several files and returns the flag that
// ends it between files (the CLI's SIGINT handler); `lines` receives the lines the CLI prints and
// `stats` the counts behind them.
nlohmann::json ingest_json(Workspace& ws, const IngestArgs& args,
                           const std::function<const std::atomic<bool>*()>& stop_for_batch,
                           std::vector<std::string>* lines = nullptr, etl::EtlStats* stats = nullptr);

// "now" for planning (`--as-of DATE`: an hour after that session's close; "" = the clock).
int64_t planning_time(const std::string& as_of);

// `trib update`: plan and queue the daily update as if run at `now`, drained by `workers` unless
// no_drain. `status`: 0 all done, 1 not all, 130 stopped.
nlohmann::json update_json(Workspace& ws, int64_t now, bool no_drain, int workers, const std::atomic<bool>& stop,
                           int* status);

// `trib coverage --json`: per series (universe entries, then curated series outside it) and year.
struct CoverageArgs {
  std::string symbol;
  std::string vendor;
  int from_year = 0, to_year = 0;  // 0: not given
  std::string as_of;
};
nlohmann::json coverage_json(Workspace& ws, const CoverageArgs& args);

// `trib dq --json` (without --conflicts): quarantine counts and the findings across rows.
struct DqArgs {
  std::string run_id, symbol, rule, timeframe = "1d";
  bool conflicts = false;
  double tolerance = etl::kBarConflictTolerance;
};
nlohmann::json dq_json(Workspace& ws, const DqArgs& args);

// `trib eval`: formulas (FORMULA or NAME=FORMULA) over the symbols' whole daily histories.
struct EvalTable {
  std::vector<std::string> names;                    // one per formula
  std::vector<features::expr::SeriesInput> inputs;   // per symbol: its dates (and bars)
  std::vector<std::vector<std::vector<double>>> values;  // [symbol][formula][row]; NaN: none
};
EvalTable evaluate_formulas(Workspace& ws, const std::vector<std::string>& formulas,
                            const std::vector<std::string>& symbols, const std::string& adjust, bool label);

// `trib actions list --format json`: the actions in force (as_of "" = now), each with whether
// readers use that source's version.
std::vector<std::pair<catalog::ActionRecord, bool>> actions_in_force(Workspace& ws, const std::string& symbol,
                                                                     const std::string& as_of);
nlohmann::json action_json(const catalog::ActionRecord& record, bool used);

// `trib ml list --json`: one model.
nlohmann::json model_json(const catalog::ModelRecord& m);
// `trib ml train --json`: trains (or finds registered) the model `config` describes, plus its
// ten most important features. `progress` (may be empty) receives a line per step.
nlohmann::json train_json(Workspace& ws, const std::string& workspace_dir, const ml::ModelConfig& config,
                          const std::string& export_dir, const std::function<void(const std::string&)>& progress);
// `trib ml predict --json`: writes a model's out-of-sample forecasts ("" dates: the defaults).
nlohmann::json predict_json(Workspace& ws, const std::string& workspace_dir, const std::string& model_id,
                            const std::string& from, const std::string& to);

// A backtest with its inputs kept: the market (shared, so views of it may outlive the call) and
// the engine's result. `data` is set before the engine runs.
struct BacktestRun {
  std::shared_ptr<const trading::MarketData> data;
  trading::BacktestResult result;
};
// run_backtest_json with a strategy object (a Python one) instead of [strategy] name; `code` (its
// source's hash, say) goes into the run's identity beside its name and parameters.
nlohmann::json run_backtest_with(Workspace& ws, trading::Strategy& strategy, const std::string& code,
                                 const StrategyConfig& s, const std::string& from, const std::string& to,
                                 const std::string& adjust, const std::string& as_of, bool save,
                                 const std::string& timeframe, const std::string& feature_set, BacktestRun* run);

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

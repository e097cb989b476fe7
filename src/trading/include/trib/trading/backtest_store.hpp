// Backtest runs in the lake and the catalog:
//   backtests/<run id>/equity.parquet   session_date, ts, equity, cash, gross, net, benchmark, state
//   backtests/<run id>/trades.parquet   session_date, ts, symbol, side, qty, price, reference_price,
//                                       commission, realized_pnl, order_type
// (ts: the event's bar open, intraday; a daily bar's session midnight)
//   backtests/<run id>/result.json      the summary --json prints (config, parameters, metrics)
// and a catalog run (kind "backtest", id = the run id) whose params hold the exact config and
// whose stats hold the metrics. The run id is a hash of the config text, the data the run read
// and the code version: the same run twice is one run (the files are rewritten with the same
// bytes, the catalog record is kept).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "trib/catalog/catalog.hpp"
#include "trib/lake/object_store.hpp"
#include "trib/trading/backtest.hpp"

namespace trib::trading {

// "bt-" + 12 hex digits of SHA-256 over (config text, every series of `data`, code version).
std::string backtest_run_id(const std::string& config_text, const MarketData& data);

// The summary of a run: metrics beside the benchmark's, costs, counts, state changes, the first
// denials. `config_text` and `parameters` are stored as given.
nlohmann::json backtest_summary(const std::string& run_id, const std::string& config_text,
                                const nlohmann::json& parameters, const MarketData& data,
                                const BacktestResult& result);

std::string equity_parquet(const BacktestResult& result);
std::string trades_parquet(const MarketData& data, const BacktestResult& result);

// Writes the three objects, then records the run (the commit point). Returns the key prefix.
std::string save_backtest(lake::ObjectStore& store, catalog::Catalog& catalog, const nlohmann::json& summary,
                          const MarketData& data, const BacktestResult& result);

// ---- reading saved runs (the assistant's tools, the server) ----

struct StoredTrade {
  Date date;
  int64_t ts = 0;
  std::string symbol, side, order_type;
  double qty = 0, price = 0, reference_price = 0, commission = 0, realized_pnl = 0;
};

struct StoredEquityPoint {
  Date date;
  int64_t ts = 0;
  double equity = 0, cash = 0, gross = 0, net = 0, benchmark = 0;
  std::string state;
};

// "bt-" + 12 lower-case hex digits; anything else (a path, a typo) is Error::InvalidInput.
void check_backtest_run_id(const std::string& run_id);
// The saved runs the catalog committed (status ok), newest first.
std::vector<catalog::RunRecord> list_backtests(const lake::ObjectStore& store, catalog::Catalog& catalog);
// A committed run's result.json; Error::NotFound (naming `trib backtest`) for an unknown run.
nlohmann::json read_backtest_summary(const lake::ObjectStore& store, catalog::Catalog& catalog,
                                     const std::string& run_id);
std::vector<StoredTrade> read_backtest_trades(const lake::ObjectStore& store, catalog::Catalog& catalog,
                                              const std::string& run_id);
std::vector<StoredEquityPoint> read_backtest_equity(const lake::ObjectStore& store, catalog::Catalog& catalog,
                                                    const std::string& run_id);

}  // namespace trib::trading

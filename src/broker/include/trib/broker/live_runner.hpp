// The live runner: one end-of-day trading cycle of an account, the same strategy, order path and
// risk engine as the backtester, against a broker (paper or Alpaca) and the catalog's ledger.
//
// A cycle for decision session D (the last completed session; the caller refuses stale data):
//   0. a paper account's positions take the splits and dividends ex since its last session
//      (Catalog::apply_adjustment, once per action), before that session's fills;
//   1. reconcile: every open order of the account is asked of the broker by its client id and the
//      answer (status and fills) written to the ledger in one transaction; an order the broker
//      never received (a crash before the send) is sent now when it is D's, expired otherwise;
//      broker positions are compared with the ledger's and a difference no order explains halts
//      the account with a report;
//   2. the strategy is fed every session of the data up to D (its state is rebuilt, deterministic)
//      and the targets it set after the account's last decided session go to the order path,
//      whose memory (target weights and quantities, scaled by splits) is kept in the catalog;
//   3. the account is marked at D's closes; the risk state moves (daily loss, drawdown; HALTED
//      stays until trib resume);
//   4. the orders are recorded in the ledger as "new" under deterministic client ids
//      (strategy, parameters, account, symbol, D), then sent; denials are recorded apart and
//      take no id, so after a limit changes a rerun for D may place the order;
//   5. the account's state, last decided session and path memory are saved.
// A rerun for D sends nothing twice: recorded ids are skipped, the broker deduplicates by id,
// the ledger by fill id. Killed at any step, the next cycle resumes from the ledger.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "trib/catalog/catalog.hpp"
#include "trib/core/time.hpp"
#include "trib/broker/broker.hpp"
#include "trib/trading/market.hpp"
#include "trib/trading/risk.hpp"
#include "trib/trading/strategy.hpp"

namespace trib::broker {

struct CycleConfig {
  std::string account = "paper";
  double initial_cash = 100'000;  // the account's starting cash in the ledger (paper)
  trading::CostModel costs;
  trading::RiskLimits risk;
  Date session;  // D: the decision session (its bars must be in `data`)
};

struct ReconcileReport {
  int orders_checked = 0, orders_updated = 0, fills_imported = 0, orders_resent = 0, orders_expired = 0;
  std::vector<std::string> differences;  // broker vs ledger positions nothing explains
};

struct CycleResult {
  Date session;
  std::string action;  // "placed", "none", "already_ran", "halted"
  trading::TradingState state = trading::TradingState::kActive;
  std::string state_reason;
  ReconcileReport reconcile;
  std::vector<catalog::OrderRecord> orders;         // the orders of this cycle (placed or found)
  std::vector<catalog::RiskDenialRecord> denials;   // recorded by this cycle
  double equity = 0, cash = 0;
};

// One strategy per account: a cycle with another strategy (name or parameters) than the account
// was run with is refused (Error::Conflict), so two strategies never share a book.
CycleResult run_cycle(catalog::Catalog& catalog, Broker& broker, trading::Strategy& strategy, const trading::MarketData& data,
                      const CycleConfig& config);

// Step 1 alone (trib reconcile, and the start of every cycle).
ReconcileReport reconcile(catalog::Catalog& catalog, Broker& broker, const std::string& account, Date session);

// `trib halt` / `trib resume`: the kill switch, persisted in the catalog.
void halt_trading(catalog::Catalog& catalog, const std::string& account, const std::string& reason);
void resume_trading(catalog::Catalog& catalog, const std::string& account);
// The account's state (ACTIVE when nothing was recorded).
catalog::TradingStateRecord trading_state(catalog::Catalog& catalog, const std::string& account);

// client order id = "<strategy>-<symbol>-<YYYYMMDD>-<8 hex of FNV-1a over strategy, params,
// account, symbol and session>": readable, stable across runs, distinct for two parameterisations
// or two accounts; at most 48 characters (Alpaca's limit), the symbol shortened if need be.
std::string make_client_order_id(const std::string& strategy, const std::string& params, const std::string& account,
                                 const std::string& symbol, Date session);

}  // namespace trib::broker

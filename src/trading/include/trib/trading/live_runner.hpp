// The end-of-day runner: one trading cycle on the latest curated session.
//   1. read the symbol's curated bars up to the latest session;
//   2. ask the strategy for its target exposure; size it in whole shares against the account's
//      equity (cash + positions marked at the last close);
//   3. if the position must change: build the order with a deterministic client order id
//      (strategy, symbol, session date), insert it in the ledger if absent — an order already
//      there for this session means the cycle already ran, so nothing is sent again;
//   4. risk check (a denial is recorded on the order with its reason), then the broker; fills
//      and the position go to the ledger.
// Details: the ledger is checked before the position delta, so a rerun reports "already_ran"
// (with the recorded order) even when the position is now at target. Other symbols held in the
// account count toward equity at their average price (only this symbol's close is known here).
// Sizing uses the last close; a buy is capped at what the cash pays for with the configured
// slippage and commission ("insufficient_cash" when that is no share at all). An order left
// "new" (a crash between insert and broker) is resubmitted by a rerun ("resumed"); the broker
// deduplicates on the client order id.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "trib/catalog/catalog.hpp"
#include "trib/core/bar.hpp"
#include "trib/trading/broker.hpp"
#include "trib/trading/legacy/risk.hpp"
#include "trib/trading/legacy/strategy.hpp"

namespace trib::trading {

struct CycleResult {
  Date session_date;
  double last_close = 0;
  double target_exposure = 0;
  double current_qty = 0, target_qty = 0;
  // "none" (already at target), "placed", "denied", "already_ran", "rejected",
  // "insufficient_cash" (a buy the cash cannot pay for a single share of), or "resumed" (an
  // order recorded as "new" by a cycle that died before the broker answered, sent again).
  std::string action;
  std::optional<catalog::OrderRecord> order;
  std::vector<catalog::PositionRecord> positions;
};

struct CycleConfig {
  std::string account = "paper";
  std::string symbol;
  double initial_cash = 100'000;
  // What the broker is expected to charge: a buy is capped at what the account's cash pays for
  // at the close plus slippage, commission included, so cash never goes negative.
  legacy::CostModel costs;
};

// `bars` are the symbol's curated bars ascending, as traded (raw); the last one is the session
// traded, its close the price orders are sized at. `signal_bars`, when given, are the same
// sessions in the price mode the strategy decides on ([prices] adjust: split- or total-return-
// adjusted, so a split inside the lookback is no crash to the strategy); `bars` otherwise.
CycleResult run_eod_cycle(catalog::Catalog& catalog, const std::vector<Bar>& bars,
                          const legacy::Strategy& strategy, const legacy::RiskEngine& risk, Broker& broker,
                          const CycleConfig& config, const std::vector<Bar>* signal_bars = nullptr);

// What an order's client id is derived from: one order per (strategy with its parameters,
// account, symbol, session).
struct OrderKey {
  std::string strategy;  // Strategy::name()
  std::string params;    // Strategy::params()
  std::string account;
  std::string symbol;
  Date session;
};

// client order id = "<strategy>-<symbol>-<YYYYMMDD>-<8 hex of fnv1a over every field of the
// key>": readable, stable across runs, and distinct for two parameterisations of a strategy or
// two accounts trading the same symbol on the same session.
std::string make_client_order_id(const OrderKey& key);

}  // namespace trib::trading

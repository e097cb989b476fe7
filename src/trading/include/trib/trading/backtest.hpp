// The event-driven portfolio backtester. Events are bar times across the universe: one per session
// for daily bars, each bar's open for intraday ones. At each event, for every symbol with a bar:
//   1. splits and dividends ex by this session move positions and cash (before the open), and
//      pending orders are adjusted for a split as a broker adjusts open orders;
//   2. the orders decided at the previous close fill on this bar (simulate_fill: next open,
//      limits and stops inside the bar, a volume cap), sells before buys; a cash account's buy
//      is cut to what the cash pays for at the fill price;
//   3. positions are marked at the close; borrow fees and margin interest accrue (once a session);
//   4. the risk state is updated (the loss since the previous session's close, the drawdown);
//   5. the strategy decides on the as-of view; its targets become orders through the order
//      path (sizing against the close, RiskEngine::fit, then check), to fill next session.
// Decisions start at the close before --from (or, without --from, once the strategy has its
// warm-up): the strategy is fed every earlier session so its state is warm, but nothing it
// decided before is traded. The equity curve starts at that close with the initial cash and has
// a point per event; metrics are computed on the start and each session's last point (daily
// returns, whatever the bars).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "trib/core/time.hpp"
#include "trib/trading/costs.hpp"
#include "trib/trading/market.hpp"
#include "trib/trading/metrics.hpp"
#include "trib/trading/order_path.hpp"
#include "trib/trading/risk.hpp"
#include "trib/trading/strategy.hpp"

namespace trib::trading {

struct BacktestConfig {
  double initial_cash = 100'000;
  CostModel costs;
  RiskLimits risk;
  double volume_participation = 0.05;  // (0, 1]
  double borrow_bps = 50;              // annual, on short value, per session /252
  double margin_interest_bps = 500;    // annual, on negative cash, per session /252
  std::optional<Date> from, to;        // the sessions traded (inclusive)
  double risk_free_rate = 0;           // annual
};

struct TradeRecord {
  Date date;         // the session
  int64_t time = 0;  // the bar it filled on (its open)
  size_t symbol = 0;
  int side = 1;
  double qty = 0, price = 0, reference = 0, commission = 0;
  double realized = 0;  // P&L the fill realised (a closing fill), before commission
  OrderType type = OrderType::kMarket;
};

struct EquityPoint {
  Date date;         // the session
  int64_t time = 0;  // the event (the bars' open; a daily bar's session midnight)
  double equity = 0, cash = 0, gross = 0, net = 0;
  double benchmark = 0;  // the benchmark's buy-and-hold equity (0 without one)
  TradingState state = TradingState::kActive;
};

struct DenialRecord {
  Date date;  // the decision's session
  size_t symbol = 0;
  int side = 1;
  double qty = 0;  // what the order path wanted
  Denial denial;
};

struct StateChange {
  Date date;
  TradingState from = TradingState::kActive, to = TradingState::kActive;
  std::string reason;
};

struct BacktestResult {
  std::vector<EquityPoint> curve;
  std::vector<TradeRecord> trades;
  std::vector<DenialRecord> denials;
  std::vector<StateChange> state_changes;
  Metrics metrics;
  std::optional<Metrics> benchmark;
  int64_t orders = 0, orders_scaled = 0, orders_unfilled = 0;
  int splits_applied = 0;
  double dividends = 0;
  int64_t bar_events = 0;  // bars the engine processed (warm-up included)
  double engine_seconds = 0;
};

// Error::InvalidInput when the data or config is unusable (no sessions in [from, to], initial
// cash not positive, ...).
BacktestResult run_backtest(const MarketData& data, Strategy& strategy, const BacktestConfig& config);

}  // namespace trib::trading

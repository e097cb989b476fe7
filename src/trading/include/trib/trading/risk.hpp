// The risk engine: one set of limits and one trading state, in the backtester, the paper runner
// and the live runner alike.
//
// Orders pass two steps. fit() is the sizing step: it scales an order down to what every
// scalable limit allows (order size, position size and weight, gross and net leverage, buying
// power, the trading state, shorting) so a strategy's targets become orders that will pass.
// check() is the pre-trade check of the final order: the same limits plus the restricted list,
// the price band and the order rate; a failure is a Denial (a rule and a reason), recorded, not
// an error. Both work on a RiskBook: the account as it will be once the session's orders
// approved so far have filled at their reference prices, so a batch as a whole fits.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "trib/trading/costs.hpp"
#include "trib/trading/orders.hpp"
#include "trib/trading/portfolio.hpp"

namespace trib {
struct RiskConfig;
struct BrokerConfig;
}

namespace trib::trading {

// ACTIVE: anything within the limits. REDUCING: only orders that bring a position toward zero
// (after a session that lost more than the daily loss limit; back to ACTIVE after a session that
// did not). HALTED: no orders (the drawdown limit, or `trib halt`; only `trib resume` ends it).
enum class TradingState { kActive, kReducing, kHalted };
std::string_view to_string(TradingState state);      // "ACTIVE" | "REDUCING" | "HALTED"
TradingState parse_trading_state(std::string_view text);

struct RiskLimits {
  double max_order_notional = 1e6;
  double max_order_qty = 1e6;
  double max_position_notional = 1e6;
  double max_position_weight = 1.0;
  double max_gross_leverage = 1.0;
  double max_net_leverage = 1.0;
  double price_band_pct = 10;
  int max_orders_per_day = 1000;
  double daily_loss_limit_pct = 5;
  double max_drawdown_pct = 25;
  std::set<std::string> restricted;
  // The account: a cash account cannot spend more than its cash; shorts need a margin account
  // that allows them.
  bool margin = false;
  bool allow_short = false;

  static RiskLimits from_config(const RiskConfig& risk, const BrokerConfig& broker);
};

struct Denial {
  std::string rule;    // "restricted", "halted", "reducing", "max_order_notional", ...
  std::string reason;  // one line with the numbers
};

// The account as the session's approved orders will leave it.
struct RiskBook {
  TradingState state = TradingState::kActive;
  double equity = 0, gross = 0, net = 0, cash = 0;
  std::vector<double> qty;    // projected positions
  std::vector<double> price;  // reference prices (the last close)
  int orders_today = 0;

  static RiskBook of(const Portfolio& portfolio, TradingState state);
  // The same, reusing this book's buffers (the backtester plans every event).
  void refresh(const Portfolio& portfolio, TradingState state);
  // Records an approved order as filled at its reference price (with the costs' estimate).
  void apply(const OrderRequest& order, const CostModel& costs);
};

class RiskEngine {
 public:
  explicit RiskEngine(RiskLimits limits, CostModel costs = {}) : limits_(std::move(limits)), costs_(costs) {}
  const RiskLimits& limits() const { return limits_; }

  struct Fit {
    double qty = 0;          // whole shares that fit, <= the order's
    std::string_view rule;   // the limit that cut the order (to zero or down); empty: none did
    int limit = -1;          // which one, for explain()
  };
  // The sizing step: the largest whole-share part of `order` within the limits.
  Fit fit(const OrderRequest& order, const std::string& symbol, const RiskBook& book) const;
  // The denial a cut order gets, with its numbers (written only when asked: most cut orders are
  // placed smaller, not denied). nullopt when nothing cut it.
  std::optional<Denial> explain(const Fit& fit, const OrderRequest& order, const std::string& symbol,
                                const RiskBook& book) const;
  // The pre-trade check of the final order.
  std::optional<Denial> check(const OrderRequest& order, const std::string& symbol, const RiskBook& book) const;

  // The state after a session's close: HALTED when equity is max_drawdown_pct below its peak,
  // REDUCING when it lost daily_loss_limit_pct since the previous close, ACTIVE again after a
  // session without a breach; HALTED stays. `reason` says why it changed.
  TradingState after_close(TradingState state, double equity, double previous_equity, double peak,
                           std::string* reason) const;

 private:
  RiskLimits limits_;
  CostModel costs_;
};

}  // namespace trib::trading

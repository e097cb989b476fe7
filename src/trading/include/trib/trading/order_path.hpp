// Targets to orders, the one path from a strategy to a broker in every mode (backtest, paper,
// live): target weights become whole-share target quantities at the equity and last price of
// the session they were set (re-sized only when the strategy names the symbol again, so price
// drift does not churn the book), the difference to the position becomes an order, the risk
// engine fits it to the limits (scaling down rather than proposing what would be denied) and
// checks it. Reducing orders go first, so the sells' cash and room count for the buys.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "trib/trading/orders.hpp"
#include "trib/trading/portfolio.hpp"
#include "trib/trading/risk.hpp"
#include "trib/trading/strategy.hpp"

namespace trib::trading {

class OrderPath {
 public:
  OrderPath(std::vector<std::string> names, const RiskEngine& risk, const CostModel& costs);

  // Takes a decision's targets; named symbols are re-sized at the next plan().
  void take(const Decision& decision);

  struct Plan {
    std::vector<OrderRequest> orders;                 // approved, in the order to send
    std::vector<std::pair<OrderRequest, Denial>> denied;  // new denials (repeats are not listed)
    int scaled = 0;                                   // orders cut down by a limit
  };
  // The session's orders: toward every target quantity the position differs from, plus the
  // decision's explicit orders, through RiskEngine::fit and check. Marks `portfolio` must be
  // current (mark_all). HALTED plans nothing.
  Plan plan(const Portfolio& portfolio, TradingState state, const std::vector<OrderRequest>& explicit_orders = {});

  // What the path remembers of a symbol between sessions: the live runner keeps it in the catalog.
  struct Memory {
    double weight = 0, target_qty = 0;
    bool managed = false, resize = false;
  };
  Memory memory(size_t i) const { return {weight_[i], target_qty_[i], managed_[i] != 0, resize_[i] != 0}; }
  void restore(size_t i, const Memory& m);

  // A split of symbol i: its target quantity scales with the position.
  void split(size_t i, double ratio);
  double target_weight(size_t i) const { return weight_[i]; }
  double target_qty(size_t i) const { return target_qty_[i]; }
  bool managed(size_t i) const { return managed_[i] != 0; }

 private:
  std::vector<std::string> names_;
  const RiskEngine& risk_;
  CostModel costs_;
  std::vector<double> weight_, target_qty_;
  std::vector<char> managed_, resize_;
  std::vector<size_t> to_resize_;
  std::vector<std::string> last_denied_;  // per symbol: the rule that denied its last order
  std::vector<OrderRequest> reducing_, increasing_;  // plan()'s buffers
  RiskBook book_;
};

}  // namespace trib::trading

// The risk engine sits in every order path (backtest excluded, live and paper included).
// A denial is a value with a reason, recorded in the ledger; it is not an error.
#pragma once

#include <string>
#include <variant>

namespace trib::trading::legacy {

struct RiskLimits {
  double max_position_notional = 50'000;
  double max_order_notional = 25'000;
};

struct OrderIntent {
  std::string symbol;
  int side = 1;          // +1 buy, -1 sell
  double qty = 0;        // > 0
  double reference_price = 0;
};

struct Approved {};
struct OrderDenied {
  std::string rule;    // "max_order_notional", "max_position_notional", "invalid_order"
  std::string reason;  // one line with the numbers
};
using RiskDecision = std::variant<Approved, OrderDenied>;

class RiskEngine {
 public:
  explicit RiskEngine(RiskLimits limits) : limits_(limits) {}
  // `current_qty` is the signed position before the order.
  RiskDecision check(const OrderIntent& order, double current_qty) const;
  const RiskLimits& limits() const { return limits_; }

 private:
  RiskLimits limits_;
};

}  // namespace trib::trading::legacy

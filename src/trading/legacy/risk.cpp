#include "trib/trading/legacy/risk.hpp"

#include <cmath>

#include <fmt/format.h>

namespace trib::trading::legacy {

RiskDecision RiskEngine::check(const OrderIntent& order, double current_qty) const {
  const char* side = order.side > 0 ? "buy" : "sell";
  // `!(x > 0)` also catches NaN.
  if (!(order.qty > 0) || !std::isfinite(order.qty)) {
    return OrderDenied{"invalid_order",
                       fmt::format("{} {}: quantity must be > 0, got {}", side, order.symbol,
                                   order.qty)};
  }
  if (!(order.reference_price > 0) || !std::isfinite(order.reference_price)) {
    return OrderDenied{"invalid_order",
                       fmt::format("{} {}: reference price must be > 0, got {}", side,
                                   order.symbol, order.reference_price)};
  }
  if (order.side != 1 && order.side != -1) {
    return OrderDenied{"invalid_order", fmt::format("{}: side must be +1 or -1, got {}",
                                                    order.symbol, order.side)};
  }
  if (!std::isfinite(current_qty)) {
    return OrderDenied{"invalid_order",
                       fmt::format("{}: current position is not finite ({})", order.symbol,
                                   current_qty)};
  }

  const double order_notional = order.qty * order.reference_price;
  if (order_notional > limits_.max_order_notional) {
    return OrderDenied{
        "max_order_notional",
        fmt::format("{} {} {} @ {}: order notional {:.2f} > max_order_notional {:.2f}", side,
                    order.qty, order.symbol, order.reference_price, order_notional,
                    limits_.max_order_notional)};
  }
  const double after = current_qty + order.side * order.qty;
  const double position_notional = std::fabs(after) * order.reference_price;
  if (position_notional > limits_.max_position_notional) {
    return OrderDenied{
        "max_position_notional",
        fmt::format("{} {} {} @ {}: position {} -> {} = notional {:.2f} > "
                    "max_position_notional {:.2f}",
                    side, order.qty, order.symbol, order.reference_price, current_qty, after,
                    position_notional, limits_.max_position_notional)};
  }
  return Approved{};
}

}  // namespace trib::trading::legacy

#include "trib/trading/orders.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "trib/core/error.hpp"

namespace trib::trading {

std::string_view to_string(OrderType type) {
  switch (type) {
    case OrderType::kMarket: return "market";
    case OrderType::kLimit: return "limit";
    case OrderType::kStop: return "stop";
  }
  return "market";
}

OrderType parse_order_type(std::string_view text) {
  if (text == "market") return OrderType::kMarket;
  if (text == "limit") return OrderType::kLimit;
  if (text == "stop") return OrderType::kStop;
  throw Error::InvalidInput(fmt::format("order type '{}' is not known; use market, limit or stop", text));
}

std::optional<SimulatedFill> simulate_fill(const OrderRequest& order, const BarPrices& bar, const CostModel& costs,
                                           double participation) {
  if (!(order.qty > 0) || !(bar.open > 0) || !(bar.volume > 0)) return std::nullopt;
  const bool buy = order.side > 0;
  double reference = 0;
  bool slips = true;
  switch (order.type) {
    case OrderType::kMarket:
      reference = bar.open;
      break;
    case OrderType::kLimit:
      slips = false;
      if (buy ? bar.open <= order.limit_price : bar.open >= order.limit_price) {
        reference = bar.open;
      } else if (buy ? bar.low <= order.limit_price : bar.high >= order.limit_price) {
        reference = order.limit_price;
      } else {
        return std::nullopt;
      }
      break;
    case OrderType::kStop:
      if (buy ? bar.open >= order.stop_price : bar.open <= order.stop_price) {
        reference = bar.open;
      } else if (buy ? bar.high >= order.stop_price : bar.low <= order.stop_price) {
        reference = order.stop_price;
      } else {
        return std::nullopt;
      }
      break;
  }
  // The volume cap, tolerant of representation error (0.05 x 2000 = 100 shares, not 99).
  const double cap = std::floor(participation * bar.volume + 1e-9);
  const double qty = std::min(order.qty, cap);
  if (!(qty > 0)) return std::nullopt;
  SimulatedFill fill;
  fill.qty = qty;
  fill.reference = reference;
  fill.price = slips ? costs.fill_price(reference, order.side, qty / bar.volume) : reference;
  fill.commission = costs.commission(qty, fill.price);
  return fill;
}

}  // namespace trib::trading

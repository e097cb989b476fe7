// Orders and how a bar fills them: one model for the backtester and the paper broker.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "trib/trading/costs.hpp"

namespace trib::trading {

enum class OrderType { kMarket, kLimit, kStop };
std::string_view to_string(OrderType type);  // "market" | "limit" | "stop"
OrderType parse_order_type(std::string_view text);  // Error::InvalidInput naming the known ones

// An order for the next session, valid for that session only (a day order: what does not fill
// by its close is cancelled).
struct OrderRequest {
  size_t symbol = 0;  // index into the universe
  int side = 1;       // +1 buy, -1 sell
  double qty = 0;     // > 0, whole shares
  OrderType type = OrderType::kMarket;
  double limit_price = 0;  // kLimit: buy at or below, sell at or above
  double stop_price = 0;   // kStop: becomes a market order once traded through
};

// A bar as traded.
struct BarPrices {
  double open = 0, high = 0, low = 0, close = 0, volume = 0;
};

struct SimulatedFill {
  double qty = 0;
  double price = 0;          // with slippage
  double reference = 0;      // the price before slippage (open, limit or stop)
  double commission = 0;
};

// How `order` fills on `bar`, or nothing:
//   market: at the open;
//   limit:  at the open when the open is already at or through the limit, else at the limit
//           when the bar's range touches it (buy: low <= limit; sell: high >= limit), no slippage;
//   stop:   at the open when the open gaps through the stop, else at the stop when the range
//           touches it (buy: high >= stop; sell: low <= stop);
// market and stop fills pay slippage. At most floor(participation x bar volume) shares fill (a
// bar without volume fills nothing); the rest is cancelled.
std::optional<SimulatedFill> simulate_fill(const OrderRequest& order, const BarPrices& bar, const CostModel& costs,
                                           double participation);

}  // namespace trib::trading

// Brokers: where approved orders go and what they report back. One interface for the paper
// broker (the backtester's fill model on the curated bars) and Alpaca (Trading API v2); the live
// runner and the reconciliation only speak this.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "trib/catalog/catalog.hpp"
#include "trib/trading/orders.hpp"

namespace trib::broker {

struct BrokerOrderRequest {
  std::string client_order_id;  // the idempotency key: one order per id, whatever the retries
  std::string symbol;
  int side = 1;  // +1 buy, -1 sell
  double qty = 0;
  trading::OrderType type = trading::OrderType::kMarket;
  double limit_price = 0, stop_price = 0;
};

struct BrokerFill {
  std::string fill_id;  // unique per broker: how a fill is recorded once
  double qty = 0, price = 0, commission = 0;
  int64_t ts_ns = 0;
};

// What the broker knows of an order.
struct BrokerOrder {
  std::string client_order_id, broker_order_id, symbol;
  int side = 1;
  double qty = 0, filled_qty = 0;
  catalog::OrderStatus status = catalog::OrderStatus::kAccepted;
  std::string reason;              // a rejection's or expiry's
  std::vector<BrokerFill> fills;   // every fill so far
};

struct BrokerPosition {
  std::string symbol;
  double qty = 0;  // signed
  double avg_price = 0;
};

struct BrokerAccount {
  double cash = 0, equity = 0, buying_power = 0;
};

class Broker {
 public:
  virtual ~Broker() = default;
  virtual std::string name() const = 0;  // "paper", "alpaca"
  virtual BrokerAccount account() = 0;
  virtual std::vector<BrokerPosition> positions() = 0;
  // Sends an order. Idempotent per client_order_id: when the first attempt's answer was lost (a
  // timeout, a 5xx after the broker took it), a retry returns the first order, never a second.
  virtual BrokerOrder submit(const BrokerOrderRequest& order) = 0;
  // The order by its client id, with its fills; nullopt when the broker never received it.
  virtual std::optional<BrokerOrder> order(const std::string& client_order_id) = 0;
  // Cancels an open order (a no-op for one already final).
  virtual void cancel(const std::string& client_order_id) = 0;
};

}  // namespace trib::broker

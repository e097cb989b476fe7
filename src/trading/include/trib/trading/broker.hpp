// Brokers: where approved orders go. The paper broker fills market orders at once at the
// reference price plus slippage, with the cost model's commission. Alpaca (REST) comes later
// behind the same interface.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "trib/trading/legacy/backtest.hpp"

namespace trib::trading {

struct BrokerOrder {
  std::string client_order_id;
  std::string symbol;
  int side = 1;  // +1 buy, -1 sell
  double qty = 0;
  double reference_price = 0;  // the paper broker's fill reference (last close)
  int64_t ts_ns = 0;           // when the order is placed (deterministic in the EOD runner)
};

struct BrokerFill {
  std::string fill_id;
  double qty = 0, price = 0, commission = 0;
  int64_t ts_ns = 0;
};

struct BrokerAck {
  std::string broker_order_id;
  std::string status;  // "filled", "accepted", "rejected"
  std::string reason;
  std::vector<BrokerFill> fills;
};

class Broker {
 public:
  virtual ~Broker() = default;
  virtual std::string name() const = 0;
  // Idempotent per client_order_id: resubmitting returns the first acknowledgement.
  virtual BrokerAck submit(const BrokerOrder& order) = 0;
};

std::unique_ptr<Broker> make_paper_broker(legacy::CostModel costs);

}  // namespace trib::trading

// The paper broker: fills every valid market order at once, deterministically.
#include <cmath>
#include <map>

#include <fmt/format.h>

#include "trib/core/error.hpp"
#include "trib/trading/broker.hpp"

namespace trib::trading {
namespace {

class PaperBroker final : public Broker {
 public:
  explicit PaperBroker(legacy::CostModel costs) : costs_(costs) {}

  std::string name() const override { return "paper"; }

  BrokerAck submit(const BrokerOrder& order) override {
    if (order.client_order_id.empty()) {
      throw Error::InvalidInput("paper broker: an order needs a client_order_id");
    }
    // Idempotency: the same client order id always gets the first acknowledgement back.
    if (auto it = acks_.find(order.client_order_id); it != acks_.end()) return it->second;

    BrokerAck ack;
    ack.broker_order_id = "paper-" + order.client_order_id;
    if (order.side != 1 && order.side != -1) {
      ack.status = "rejected";
      ack.reason = fmt::format("side must be +1 or -1, got {}", order.side);
    } else if (!(order.qty > 0) || !std::isfinite(order.qty)) {
      ack.status = "rejected";
      ack.reason = fmt::format("quantity must be > 0, got {}", order.qty);
    } else if (!(order.reference_price > 0) || !std::isfinite(order.reference_price)) {
      ack.status = "rejected";
      ack.reason = fmt::format("reference price must be > 0, got {}", order.reference_price);
    } else {
      ack.status = "filled";
      ack.fills.push_back(BrokerFill{ack.broker_order_id + "-1", order.qty,
                                     costs_.fill_price(order.reference_price, order.side),
                                     costs_.commission(order.qty), order.ts_ns});
    }
    acks_.emplace(order.client_order_id, ack);
    return ack;
  }

 private:
  legacy::CostModel costs_;
  std::map<std::string, BrokerAck> acks_;  // in memory; the catalog ledger is the durable record
};

}  // namespace

std::unique_ptr<Broker> make_paper_broker(legacy::CostModel costs) {
  return std::make_unique<PaperBroker>(costs);
}

}  // namespace trib::trading

#include <gtest/gtest.h>

#include "trib/core/error.hpp"
#include "trib/trading/broker.hpp"

namespace trib::trading {
namespace {
using namespace legacy;

CostModel costs() {
  CostModel c;
  c.commission_per_share = 0.005;
  c.min_commission = 1.0;
  c.slippage_bps = 10;  // 0.1%
  return c;
}

TEST(CostModel, CommissionAndSlippage) {
  const CostModel c = costs();
  EXPECT_EQ(c.commission(0), 0.0);
  EXPECT_DOUBLE_EQ(c.commission(100), 1.0);   // 0.50 -> minimum 1.00
  EXPECT_DOUBLE_EQ(c.commission(200), 1.0);   // exactly the minimum
  EXPECT_DOUBLE_EQ(c.commission(1000), 5.0);  // 1000 * 0.005
  EXPECT_DOUBLE_EQ(c.commission(-1000), 5.0);
  EXPECT_DOUBLE_EQ(c.fill_price(50, 1), 50.05);   // 50 * 1.001
  EXPECT_DOUBLE_EQ(c.fill_price(50, -1), 49.95);  // 50 * 0.999
}

TEST(PaperBroker, BuyFillsAboveSellBelowReference) {
  auto broker = make_paper_broker(costs());
  EXPECT_EQ(broker->name(), "paper");
  const BrokerAck buy = broker->submit({"c-1", "AAPL", 1, 100, 200.0, 777});
  EXPECT_EQ(buy.status, "filled");
  EXPECT_EQ(buy.broker_order_id, "paper-c-1");
  ASSERT_EQ(buy.fills.size(), 1u);
  EXPECT_EQ(buy.fills[0].fill_id, "paper-c-1-1");
  EXPECT_DOUBLE_EQ(buy.fills[0].price, 200.2);  // 200 * 1.001
  EXPECT_DOUBLE_EQ(buy.fills[0].qty, 100);
  EXPECT_DOUBLE_EQ(buy.fills[0].commission, 1.0);  // 100 * 0.005 = 0.50 < minimum
  EXPECT_EQ(buy.fills[0].ts_ns, 777);

  const BrokerAck sell = broker->submit({"c-2", "AAPL", -1, 1000, 200.0, 778});
  ASSERT_EQ(sell.fills.size(), 1u);
  EXPECT_DOUBLE_EQ(sell.fills[0].price, 199.8);       // 200 * 0.999
  EXPECT_DOUBLE_EQ(sell.fills[0].commission, 5.0);    // 1000 * 0.005
}

TEST(PaperBroker, IdempotentPerClientOrderId) {
  auto broker = make_paper_broker(costs());
  const BrokerAck first = broker->submit({"same", "AAPL", 1, 10, 100.0, 1});
  // A resubmission, even with different fields, returns the first acknowledgement.
  const BrokerAck again = broker->submit({"same", "AAPL", -1, 99, 150.0, 2});
  EXPECT_EQ(again.broker_order_id, first.broker_order_id);
  ASSERT_EQ(again.fills.size(), 1u);
  EXPECT_EQ(again.fills[0].fill_id, first.fills[0].fill_id);
  EXPECT_DOUBLE_EQ(again.fills[0].qty, 10);
  EXPECT_DOUBLE_EQ(again.fills[0].price, 100.1);
  // Another id is another order; the ids are deterministic (a new broker derives the same ones).
  const BrokerAck other = make_paper_broker(costs())->submit({"same", "AAPL", 1, 10, 100.0, 1});
  EXPECT_EQ(other.fills[0].fill_id, first.fills[0].fill_id);
  EXPECT_NE(broker->submit({"other", "AAPL", 1, 10, 100.0, 1}).broker_order_id,
            first.broker_order_id);
}

TEST(PaperBroker, RejectsInvalidOrders) {
  auto broker = make_paper_broker(costs());
  const BrokerAck zero = broker->submit({"z", "AAPL", 1, 0, 100.0, 1});
  EXPECT_EQ(zero.status, "rejected");
  EXPECT_TRUE(zero.fills.empty());
  EXPECT_FALSE(zero.reason.empty());
  EXPECT_EQ(broker->submit({"p", "AAPL", 1, 5, 0.0, 1}).status, "rejected");
  EXPECT_THROW(broker->submit({"", "AAPL", 1, 5, 10.0, 1}), Error);
}

}  // namespace
}  // namespace trib::trading

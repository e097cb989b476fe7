#include "trib/trading/legacy/risk.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace trib::trading::legacy {
namespace {

const OrderDenied* denied(const RiskDecision& d) { return std::get_if<OrderDenied>(&d); }

class RiskTest : public ::testing::Test {
 protected:
  // Order limit 25,000, position limit 50,000.
  RiskEngine risk_{RiskLimits{50'000, 25'000}};
};

TEST_F(RiskTest, InvalidOrders) {
  for (double qty : {0.0, -1.0, std::nan("")}) {
    const auto d = risk_.check({"AAPL", 1, qty, 100}, 0);
    ASSERT_NE(denied(d), nullptr) << qty;
    EXPECT_EQ(denied(d)->rule, "invalid_order");
  }
  for (double price : {0.0, -5.0}) {
    const auto d = risk_.check({"AAPL", 1, 10, price}, 0);
    ASSERT_NE(denied(d), nullptr) << price;
    EXPECT_EQ(denied(d)->rule, "invalid_order");
  }
  EXPECT_NE(denied(risk_.check({"AAPL", 0, 10, 100}, 0)), nullptr);
  // Smallest valid order.
  EXPECT_TRUE(std::holds_alternative<Approved>(risk_.check({"AAPL", 1, 1, 0.01}, 0)));
}

TEST_F(RiskTest, OrderNotionalBoundary) {
  // 250 * 100 = 25,000: at the limit is allowed.
  EXPECT_TRUE(std::holds_alternative<Approved>(risk_.check({"AAPL", 1, 250, 100}, 0)));
  EXPECT_TRUE(std::holds_alternative<Approved>(risk_.check({"AAPL", -1, 250, 100}, 0)));
  // 250 * 100.01 = 25,002.50 > 25,000.
  const auto d = risk_.check({"AAPL", 1, 250, 100.01}, 0);
  ASSERT_NE(denied(d), nullptr);
  EXPECT_EQ(denied(d)->rule, "max_order_notional");
  EXPECT_NE(denied(d)->reason.find("25002.50"), std::string::npos) << denied(d)->reason;
  EXPECT_NE(denied(d)->reason.find("25000.00"), std::string::npos) << denied(d)->reason;
  EXPECT_EQ(denied(d)->reason.find('\n'), std::string::npos);
  // Sells are limited the same way.
  EXPECT_NE(denied(risk_.check({"AAPL", -1, 251, 100}, 1000)), nullptr);
}

TEST_F(RiskTest, PositionNotionalBoundary) {
  // Long 400 @ 100 (40,000) + buy 100 -> 500 * 100 = 50,000: at the limit.
  EXPECT_TRUE(std::holds_alternative<Approved>(risk_.check({"AAPL", 1, 100, 100}, 400)));
  // + buy 101 -> 50,100 > 50,000 (the order itself, 10,100, is fine).
  const auto d = risk_.check({"AAPL", 1, 101, 100}, 400);
  ASSERT_NE(denied(d), nullptr);
  EXPECT_EQ(denied(d)->rule, "max_position_notional");
  EXPECT_NE(denied(d)->reason.find("50100.00"), std::string::npos) << denied(d)->reason;
  // Short side: -400 then sell 101 -> |-501| * 100 = 50,100.
  EXPECT_EQ(denied(risk_.check({"AAPL", -1, 101, 100}, -400))->rule, "max_position_notional");
  EXPECT_TRUE(std::holds_alternative<Approved>(risk_.check({"AAPL", -1, 100, 100}, -400)));
}

TEST_F(RiskTest, ReducingAnOversizedPositionIsAllowedDownToTheLimit) {
  // Long 700 @ 100 = 70,000 (over the limit, e.g. after a rally). Selling 200 -> 50,000: allowed;
  // selling 199 -> 50,100: still over, denied.
  EXPECT_TRUE(std::holds_alternative<Approved>(risk_.check({"AAPL", -1, 200, 100}, 700)));
  EXPECT_EQ(denied(risk_.check({"AAPL", -1, 199, 100}, 700))->rule, "max_position_notional");
  // Flipping through zero counts the resulting position: 100 - 300 = -200 @ 80 = 16,000 fine
  // (the order itself is 24,000).
  EXPECT_TRUE(std::holds_alternative<Approved>(risk_.check({"AAPL", -1, 300, 80}, 100)));
  // Starting short 500 instead: -800 @ 80 = 64,000 is over the limit.
  EXPECT_EQ(denied(risk_.check({"AAPL", -1, 300, 80}, -500))->rule, "max_position_notional");
}

}  // namespace
}  // namespace trib::trading::legacy

// The portfolio engine's parts, each against hand-computed numbers: costs, the fill model, the
// portfolio's accounting, the risk engine's sizing, checks and states, the order path, the
// metrics.
#include <gtest/gtest.h>

#include <cmath>

#include "trib/core/error.hpp"
#include "trib/trading/costs.hpp"
#include "trib/trading/metrics.hpp"
#include "trib/trading/order_path.hpp"
#include "trib/trading/orders.hpp"
#include "trib/trading/portfolio.hpp"
#include "trib/trading/risk.hpp"

namespace trib::trading {
namespace {

TEST(Costs, CommissionHasAMinimumACapAndBps) {
  CostModel c;  // 0.005/share, min 1, max 1% of value
  EXPECT_EQ(c.commission(0, 10), 0.0);
  EXPECT_DOUBLE_EQ(c.commission(100, 10), 1.0);      // 0.50 -> the minimum
  EXPECT_DOUBLE_EQ(c.commission(1000, 50), 5.0);     // 1000 x 0.005
  EXPECT_DOUBLE_EQ(c.commission(10000, 0.1), 10.0);  // 50 capped at 1% of 1,000
  c.commission_bps = 10;
  EXPECT_DOUBLE_EQ(c.commission(100, 10), 2.0);      // 1 + 10 bps of 1,000
}

TEST(Costs, SlippageGoesAgainstTheTraderAndGrowsWithVolumeShare) {
  CostModel c;
  EXPECT_DOUBLE_EQ(c.fill_price(100, 1), 100.05);
  EXPECT_DOUBLE_EQ(c.fill_price(100, -1), 99.95);
  c.slippage = CostModel::Slippage::kVolumeShare;  // 5 bps + 1000 bps x 0.1^2 = 15 bps
  EXPECT_NEAR(c.fill_price(100, 1, 0.1), 100.15, 1e-12);
  EXPECT_NEAR(c.fill_price(100, -1, 0.1), 99.85, 1e-12);
}

TEST(Costs, AffordableSharesPayTheCommissionToo) {
  CostModel c;
  EXPECT_EQ(c.affordable_shares(1000, 10, 5000), 499);  // 4990 + 2.495; 500 would cost 5002.50
  EXPECT_EQ(c.affordable_shares(100, 10, 5000), 100);
  EXPECT_EQ(c.affordable_shares(100, 10, 10.05), 0);    // 10 + a fee capped at 1% = 10.10 > 10.05
  EXPECT_EQ(c.affordable_shares(100, 10, 10.10), 1);
  EXPECT_EQ(c.affordable_shares(100, 10, 0), 0);
}

const BarPrices kBar{10, 11, 9, 10.5, 10000};

TEST(FillModel, MarketOrdersFillAtTheOpenWithSlippage) {
  CostModel c;
  const auto f = simulate_fill({0, 1, 100}, kBar, c, 0.05);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->qty, 100);
  EXPECT_DOUBLE_EQ(f->reference, 10);
  EXPECT_DOUBLE_EQ(f->price, 10.005);
  EXPECT_DOUBLE_EQ(f->commission, 1.0);
}

TEST(FillModel, LimitsFillAtTheOpenOrTheLimitWithoutSlippage) {
  CostModel c;
  auto limit = [&](int side, double price) {
    return simulate_fill({0, side, 100, OrderType::kLimit, price, 0}, kBar, c, 0.05);
  };
  EXPECT_DOUBLE_EQ(limit(1, 9.5)->price, 9.5);    // touched inside the bar
  EXPECT_DOUBLE_EQ(limit(1, 10.2)->price, 10.0);  // the open is already better
  EXPECT_FALSE(limit(1, 8.9));                    // never traded that low
  EXPECT_DOUBLE_EQ(limit(-1, 10.8)->price, 10.8);
  EXPECT_DOUBLE_EQ(limit(-1, 9.8)->price, 10.0);
  EXPECT_FALSE(limit(-1, 11.5));
}

TEST(FillModel, StopsTriggerInsideTheBarOrGapThrough) {
  CostModel c;
  auto stop = [&](int side, double price) {
    return simulate_fill({0, side, 100, OrderType::kStop, 0, price}, kBar, c, 0.05);
  };
  EXPECT_DOUBLE_EQ(stop(1, 10.8)->price, 10.8 * 1.0005);
  EXPECT_DOUBLE_EQ(stop(1, 9.9)->reference, 10.0);  // the open gapped through it
  EXPECT_DOUBLE_EQ(stop(-1, 9.2)->price, 9.2 * 0.9995);
  EXPECT_FALSE(stop(1, 11.5));
  EXPECT_FALSE(stop(-1, 8.5));
}

TEST(FillModel, AtMostTheParticipationCapOfTheBarsVolumeFills) {
  CostModel c;
  EXPECT_EQ(simulate_fill({0, 1, 1000}, {10, 11, 9, 10, 2000}, c, 0.05)->qty, 100);
  EXPECT_FALSE(simulate_fill({0, 1, 1000}, {10, 11, 9, 10, 0}, c, 0.05));   // no volume, no fill
  EXPECT_FALSE(simulate_fill({0, 1, 1000}, {10, 11, 9, 10, 19}, c, 0.05));  // under one share
}

TEST(Portfolio, AverageCostRealisedPnlAndCash) {
  Portfolio p(2, 100'000);
  EXPECT_EQ(p.fill(0, 1, 100, 10, 1), 0.0);
  EXPECT_DOUBLE_EQ(p.cash(), 100'000 - 1'001);
  EXPECT_DOUBLE_EQ(p.fill(0, 1, 100, 12, 1), 0.0);
  EXPECT_DOUBLE_EQ(p.position(0).avg_price, 11);
  EXPECT_DOUBLE_EQ(p.fill(0, -1, 50, 13, 1), 100);  // 50 x (13 - 11)
  EXPECT_EQ(p.qty(0), 150);
  // Through zero: the remainder opens a short at the fill price.
  EXPECT_DOUBLE_EQ(p.fill(0, -1, 200, 10, 1), -150);
  EXPECT_EQ(p.qty(0), -50);
  EXPECT_DOUBLE_EQ(p.position(0).avg_price, 10);
  p.set_price(0, 9);
  p.mark_all();
  EXPECT_DOUBLE_EQ(p.net(), -450);
  EXPECT_DOUBLE_EQ(p.gross(), 450);
  EXPECT_DOUBLE_EQ(p.equity(), p.cash() - 450);
}

TEST(Portfolio, SplitsScaleThePositionAndPayFractionsInCash) {
  Portfolio p(1, 0);
  p.fill(0, 1, 61, 30, 0);
  p.set_price(0, 30);
  p.split(0, 2, 30, true);
  EXPECT_EQ(p.qty(0), 122);
  EXPECT_DOUBLE_EQ(p.position(0).avg_price, 15);
  EXPECT_DOUBLE_EQ(p.price(0), 15);
  const double cash = p.cash();
  p.split(0, 1.5, 15, true);  // 183 exactly
  EXPECT_EQ(p.qty(0), 183);
  p.split(0, 0.1, 10, true);  // 1-for-10: 18.3 -> 18 and 0.3 new shares x 100 in cash
  EXPECT_EQ(p.qty(0), 18);
  EXPECT_NEAR(p.cash() - cash, 0.3 * 10 / 0.1, 1e-9);
  p.split(0, 1.9999955, 10, true);  // a factor file's ratio: 36 shares, no cash
  EXPECT_EQ(p.qty(0), 36);
  EXPECT_DOUBLE_EQ(p.dividend(0, 0.25), 9);
}

RiskLimits limits() {
  RiskLimits l;
  l.max_order_notional = 1e9;
  l.max_position_notional = 1e9;
  l.max_order_qty = 1e9;
  return l;
}

// An account with `cash` and `qty` shares of the one symbol at 100.
RiskBook book(double cash, double qty, TradingState state = TradingState::kActive) {
  Portfolio p(1, cash);
  if (qty != 0) p.fill(0, qty > 0 ? 1 : -1, std::fabs(qty), 100, 0);
  p.set_price(0, 100);
  p.mark_all();
  RiskBook b = RiskBook::of(p, state);
  return b;
}

TEST(Risk, TheSizingStepCutsABuyToTheCashAndNamesTheLimit) {
  const RiskEngine risk(limits());
  // 10,000 of cash buys 99 shares at 100.05 with the fee (100 would cost 10,006).
  const auto fit = risk.fit({0, 1, 200}, "AAPL", book(10'000, 0));
  EXPECT_EQ(fit.qty, 99);
  EXPECT_EQ(fit.rule, "buying_power");
  const auto denial = risk.explain(fit, {0, 1, 200}, "AAPL", book(10'000, 0));
  ASSERT_TRUE(denial);
  EXPECT_EQ(denial->rule, "buying_power");
  EXPECT_NE(denial->reason.find("AAPL"), std::string::npos);
  EXPECT_FALSE(risk.explain(risk.fit({0, 1, 10}, "AAPL", book(10'000, 0)), {0, 1, 10}, "AAPL", book(10'000, 0)));
  EXPECT_FALSE(risk.check({0, 1, 99}, "AAPL", book(10'000, 0)));
  EXPECT_EQ(risk.check({0, 1, 100}, "AAPL", book(10'000, 0))->rule, "buying_power");
}

TEST(Risk, OrderAndPositionLimitsScaleOrdersDown) {
  RiskLimits l = limits();
  l.max_order_notional = 5'000;
  EXPECT_EQ(RiskEngine(l).fit({0, 1, 200}, "X", book(1e6, 0)).qty, 50);
  l = limits();
  l.max_position_notional = 20'000;  // 100 held at 100: room for 100 more
  EXPECT_EQ(RiskEngine(l).fit({0, 1, 500}, "X", book(1e6, 100)).qty, 100);
  EXPECT_EQ(RiskEngine(l).fit({0, -1, 50}, "X", book(1e6, 300)).qty, 50);  // reducing is allowed
  l = limits();
  l.max_position_weight = 0.1;  // equity 100,000: 100 shares
  EXPECT_EQ(RiskEngine(l).fit({0, 1, 500}, "X", book(100'000, 0)).qty, 100);
  l = limits();
  l.max_order_qty = 7;
  EXPECT_EQ(RiskEngine(l).fit({0, 1, 500}, "X", book(100'000, 0)).qty, 7);
}

TEST(Risk, ShortsOnlyInAMarginAccountThatAllowsThem) {
  RiskLimits l = limits();
  auto fit = RiskEngine(l).fit({0, -1, 30}, "X", book(10'000, 10));
  EXPECT_EQ(fit.qty, 10);
  EXPECT_EQ(fit.rule, "short_not_allowed");
  l.margin = l.allow_short = true;
  EXPECT_EQ(RiskEngine(l).fit({0, -1, 30}, "X", book(10'000, 10)).qty, 30);
  // Gross leverage 1 of equity 10,000: through the 10 long to 100 short.
  EXPECT_EQ(RiskEngine(l).fit({0, -1, 500}, "X", book(10'000, 10)).qty, 110);
}

TEST(Risk, StatesHaltedAndReducingAndTheRestrictedList) {
  RiskLimits l = limits();
  l.restricted = {"GME"};
  const RiskEngine risk(l);
  EXPECT_EQ(risk.fit({0, 1, 10}, "GME", book(1e5, 0)).rule, "restricted");
  EXPECT_EQ(risk.fit({0, 1, 10}, "X", book(1e5, 0, TradingState::kHalted)).rule, "halted");
  EXPECT_EQ(risk.fit({0, -1, 10}, "X", book(1e5, 50, TradingState::kHalted)).qty, 0);
  const auto more = risk.fit({0, 1, 10}, "X", book(1e5, 50, TradingState::kReducing));
  EXPECT_EQ(more.qty, 0);
  EXPECT_EQ(more.rule, "reducing");
  EXPECT_EQ(risk.fit({0, -1, 80}, "X", book(1e5, 50, TradingState::kReducing)).qty, 50);  // to flat, not through
}

TEST(Risk, PriceBandAndOrderRateAreChecked) {
  RiskLimits l = limits();
  l.max_orders_per_day = 1;
  const RiskEngine risk(l);
  RiskBook b = book(1e5, 0);
  EXPECT_EQ(risk.check({0, 1, 10, OrderType::kLimit, 120, 0}, "X", b)->rule, "price_band");  // 20% > 10%
  EXPECT_FALSE(risk.check({0, 1, 10, OrderType::kLimit, 95, 0}, "X", b));
  b.orders_today = 1;
  EXPECT_EQ(risk.check({0, 1, 10}, "X", b)->rule, "order_rate");
  EXPECT_EQ(risk.check({0, 1, 0}, "X", book(1e5, 0))->rule, "invalid_order");
}

TEST(Risk, DrawdownHaltsADailyLossReducesAndACalmSessionRestores) {
  const RiskEngine risk(limits());  // daily loss 5%, drawdown 25%
  std::string why;
  EXPECT_EQ(risk.after_close(TradingState::kActive, 74, 80, 100, &why), TradingState::kHalted);
  EXPECT_NE(why.find("max_drawdown_pct"), std::string::npos);
  EXPECT_EQ(risk.after_close(TradingState::kActive, 94, 100, 100, &why), TradingState::kReducing);
  EXPECT_NE(why.find("daily_loss_limit_pct"), std::string::npos);
  EXPECT_EQ(risk.after_close(TradingState::kReducing, 95, 94, 100, &why), TradingState::kActive);
  EXPECT_EQ(risk.after_close(TradingState::kHalted, 200, 100, 100, &why), TradingState::kHalted);
  EXPECT_EQ(risk.after_close(TradingState::kActive, 99, 100, 100, &why), TradingState::kActive);
}

TEST(OrderPath, TargetsBecomeOrdersReducingFirstAndADenialIsListedOnce) {
  RiskLimits l = limits();
  l.restricted = {"B"};
  const RiskEngine risk(l);
  OrderPath path({"A", "B", "C"}, risk, CostModel{});
  Portfolio p(3, 100'000);
  for (size_t i = 0; i < 3; ++i) p.set_price(i, 100);
  p.fill(2, 1, 300, 100, 0);  // C held: 300 shares
  p.mark_all();
  Decision d;
  d.target(0, 0.5);
  d.target(1, 0.2);
  d.target(2, 0.1);
  path.take(d);
  auto plan = path.plan(p, TradingState::kActive);
  // C first (reducing 300 -> 100), then A (0 -> 500); B is restricted.
  ASSERT_EQ(plan.orders.size(), 2u);
  EXPECT_EQ(plan.orders[0].symbol, 2u);
  EXPECT_EQ(plan.orders[0].side, -1);
  EXPECT_EQ(plan.orders[0].qty, 200);
  EXPECT_EQ(plan.orders[1].symbol, 0u);
  EXPECT_EQ(plan.orders[1].qty, 500);
  ASSERT_EQ(plan.denied.size(), 1u);
  EXPECT_EQ(plan.denied[0].second.rule, "restricted");
  // Nothing filled: the next session asks again, without listing B's denial a second time.
  auto again = path.plan(p, TradingState::kActive);
  EXPECT_EQ(again.orders.size(), 2u);
  EXPECT_TRUE(again.denied.empty());
  EXPECT_TRUE(path.plan(p, TradingState::kHalted).orders.empty());
}

TEST(OrderPath, PriceDriftDoesNotChurnTheBookUntilTheStrategyRenamesTheSymbol) {
  const RiskEngine risk(limits());
  OrderPath path({"A"}, risk, CostModel{});
  Portfolio p(1, 10'000);
  p.set_price(0, 100);
  p.mark_all();
  Decision d;
  d.target(0, 0.5);
  path.take(d);
  EXPECT_EQ(path.plan(p, TradingState::kActive).orders.at(0).qty, 50);
  p.fill(0, 1, 50, 100, 0);
  p.set_price(0, 200);  // the position is now 2/3 of equity
  p.mark_all();
  EXPECT_TRUE(path.plan(p, TradingState::kActive).orders.empty());
  path.take(d);  // a rebalance: 0.5 x 15,000 / 200 = 37
  const auto plan = path.plan(p, TradingState::kActive);
  ASSERT_EQ(plan.orders.size(), 1u);
  EXPECT_EQ(plan.orders[0].side, -1);
  EXPECT_EQ(plan.orders[0].qty, 13);
}

TEST(Metrics, HandComputedCurve) {
  const Date d = Date::from_ymd(2020, 1, 1);
  const std::vector<Date> dates = {d, d + 100, d + 200, d + 365};
  const std::vector<double> equity = {100, 110, 99, 121};
  const std::vector<double> gross = {0, 55, 99, 0};
  const Metrics m = compute_metrics(dates, equity, 0, &gross);
  EXPECT_DOUBLE_EQ(m.total_return, 0.21);
  EXPECT_NEAR(m.cagr, 0.2101579902005981, 1e-12);
  EXPECT_NEAR(m.annual_volatility, 2.582275769190454, 1e-12);
  EXPECT_NEAR(m.sharpe, 7.228765761341866, 1e-12);
  EXPECT_NEAR(m.sortino, 20.36700308869265, 1e-11);
  EXPECT_NEAR(m.max_drawdown, 0.1, 1e-15);
  EXPECT_EQ(*m.drawdown_peak, d + 100);
  EXPECT_EQ(*m.drawdown_trough, d + 200);
  EXPECT_EQ(*m.drawdown_recovery, d + 365);
  EXPECT_NEAR(m.calmar, 2.101579902005981, 1e-11);
  EXPECT_NEAR(m.exposure, (0.5 + 1.0 + 0) / 3, 1e-15);
  const Metrics rf = compute_metrics(dates, equity, 0.02);
  EXPECT_NEAR(rf.sharpe, 7.221096787479193, 1e-12);
  EXPECT_NEAR(rf.sortino, 20.32941993911997, 1e-11);
  EXPECT_THROW(compute_metrics({}, {}, 0), Error);
}

}  // namespace
}  // namespace trib::trading

// The backtester on series small enough to follow by hand.
#include "trib/trading/legacy/backtest.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "trib/core/error.hpp"

namespace trib::trading::legacy {
namespace {

Bar bar(Date d, double open, double close) {
  Bar b;
  b.session_date = d;
  b.ts_ns = to_ts_ns(d) + 14 * 3600 * kNanosPerSecond;
  b.open = open;
  b.close = close;
  b.high = std::max(open, close);
  b.low = std::min(open, close);
  b.volume = 1e6;
  return b;
}

// Returns script[history.size() - 1]: the exposure decided at the close of bar t.
class ScriptedStrategy final : public Strategy {
 public:
  explicit ScriptedStrategy(std::vector<double> script, int warmup = 0)
      : script_(std::move(script)), warmup_(warmup) {}
  std::string name() const override { return "scripted"; }
  int warmup_bars() const override { return warmup_; }
  double target_exposure(std::span<const Bar> history) const override {
    seen_sizes.push_back(history.size());
    return script_.at(history.size() - 1);
  }
  mutable std::vector<size_t> seen_sizes;

 private:
  std::vector<double> script_;
  int warmup_;
};

BacktestConfig hand_config() {
  BacktestConfig c;
  c.initial_cash = 10'000;
  c.costs.commission_per_share = 0.01;
  c.costs.min_commission = 1.0;
  c.costs.slippage_bps = 10;  // fills at open * 1.001 (buy) / open * 0.999 (sell)
  return c;
}

const Date kD0 = Date::from_ymd(2021, 3, 1);  // a Monday; sessions on consecutive days

std::vector<Bar> six_bars() {
  return {bar(kD0, 100, 100),     bar(kD0 + 1, 100, 102), bar(kD0 + 2, 104, 103),
          bar(kD0 + 3, 101, 100), bar(kD0 + 4, 98, 97),   bar(kD0 + 5, 99.19, 100)};
}

// Decisions (at each close): 1, 1, 0.5, 0, 1, 0 (the last is never executed).
//
// t0 close: equity 10,000, flat. Decide 1.
// t1 open 100: buy price 100.1; target trunc(10,000 / 100.1 = 99.90) = 99 shares;
//    cost 99 * 100.1 = 9,909.90 + commission max(1, 0.99) = 1 -> cash 89.10.
//    close 102: equity 89.10 + 99 * 102 = 10,187.10. Decide 1.
// t2 open 104: equity 89.10 + 99 * 104 = 10,385.10; buy price 104.104;
//    target trunc(10,385.10 / 104.104 = 99.76) = 99 = held -> no trade.
//    close 103: equity 89.10 + 10,197 = 10,286.10. Decide 0.5.
// t3 open 101: equity 89.10 + 9,999 = 10,088.10; wants 0.5 * 10,088.10 / 101 = 49.9 < 99 -> sell at
//    100.899; target trunc(5,044.05 / 100.899 = 49.99) = 49 -> sell 50: +5,044.95 - 1 -> cash
//    5,133.05. close 100: equity 5,133.05 + 4,900 = 10,033.05. Decide 0.
// t4 open 98: sell 49 at 97.902: +4,797.198 - 1 -> cash 9,929.248, flat. close: 9,929.248.
//    Decide 1.
// t5 open 99.19: buy price 99.28919; target trunc(9,929.248 / 99.28919 = 100.003) = 100, but
//    100 * 99.28919 + 1 = 9,929.919 > cash 9,929.248 -> sized down to 99: 9,829.62981 + 1 ->
//    cash 98.61819. close 100: equity 98.61819 + 9,900 = 9,998.61819.
TEST(Backtest, SixBarsByHand) {
  ScriptedStrategy strategy({1, 1, 0.5, 0, 1, 0});
  const auto r = run_backtest(six_bars(), strategy, hand_config());

  const std::vector<double> equity = {10'000, 10'187.1, 10'286.1, 10'033.05, 9'929.248,
                                      9'998.61819};
  const std::vector<double> position = {0, 99, 99, 49, 0, 99};
  ASSERT_EQ(r.equity.size(), 6u);
  ASSERT_EQ(r.dates.size(), 6u);
  for (size_t i = 0; i < 6; ++i) {
    EXPECT_NEAR(r.equity[i], equity[i], 1e-6) << "bar " << i;
    EXPECT_EQ(r.position[i], position[i]) << "bar " << i;
    EXPECT_EQ(r.dates[i], kD0 + static_cast<int>(i));
  }

  ASSERT_EQ(r.trades.size(), 4u);
  struct Expected { int bar; const char* side; double qty, price; };
  const Expected trades[] = {{1, "buy", 99, 100.1}, {3, "sell", 50, 100.899},
                             {4, "sell", 49, 97.902}, {5, "buy", 99, 99.28919}};
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(r.trades[i].session_date, kD0 + trades[i].bar) << i;
    EXPECT_EQ(r.trades[i].side, trades[i].side) << i;
    EXPECT_EQ(r.trades[i].qty, trades[i].qty) << i;
    EXPECT_NEAR(r.trades[i].price, trades[i].price, 1e-9) << i;
    EXPECT_DOUBLE_EQ(r.trades[i].commission, 1.0) << i;  // all under 100 shares: the minimum
  }

  EXPECT_EQ(r.metrics.trades, 4);
  EXPECT_EQ(r.metrics.days, 6);
  EXPECT_NEAR(r.metrics.final_equity, 9'998.61819, 1e-6);
  EXPECT_NEAR(r.metrics.total_return, 9'998.61819 / 10'000 - 1, 1e-12);
  // Traded notional 9,909.90 + 5,044.95 + 4,797.198 + 9,829.62981 = 29,581.67781 over a mean
  // equity of 60,434.11619 / 6 and 5/365.25 years.
  EXPECT_NEAR(r.metrics.turnover, 29'581.67781 / (60'434.11619 / 6) / (5 / 365.25), 1e-6);
  // Strategy called once per bar with exactly the bars up to that close.
  EXPECT_EQ(strategy.seen_sizes, (std::vector<size_t>{1, 2, 3, 4, 5, 6}));
}

TEST(Backtest, CommissionAboveTheMinimum) {
  // 1,000,000 cash at price 10: buy price 10.01; n = floor(1e6 / (10.01 + 0.01)) = 99,800;
  // commission 998 >= 1 -> 99,800 * 10.01 + 998 = 999,996 <= 1e6, cash left 4 (99,801 shares
  // would cost 99,801 * 10.02 = 1,000,006.02).
  BacktestConfig c = hand_config();
  c.initial_cash = 1'000'000;
  ScriptedStrategy strategy({1, 1});
  const auto r = run_backtest({bar(kD0, 10, 10), bar(kD0 + 1, 10, 10)}, strategy, c);
  ASSERT_EQ(r.trades.size(), 1u);
  EXPECT_EQ(r.trades[0].qty, 99'800);
  EXPECT_NEAR(r.trades[0].commission, 998, 1e-9);
  EXPECT_NEAR(r.equity[1], 4 + 99'800 * 10.0, 1e-6);
}

// A strategy that would love to trade on the open of the bar it just saw: it goes long only
// after a bar that closed above its open. The trade must happen on the *next* bar's open.
class PeekingStrategy final : public Strategy {
 public:
  std::string name() const override { return "peek"; }
  int warmup_bars() const override { return 1; }
  double target_exposure(std::span<const Bar> history) const override {
    const Bar& last = history.back();
    return last.close > last.open ? 1.0 : 0.0;
  }
};

TEST(Backtest, NoLookAhead) {
  // Bar 2 jumps from open 100 to close 150; the earliest possible fill is bar 3's open (150).
  const std::vector<Bar> bars = {bar(kD0, 100, 100), bar(kD0 + 1, 100, 100),
                                 bar(kD0 + 2, 100, 150), bar(kD0 + 3, 150, 150)};
  BacktestConfig c = hand_config();
  c.costs.slippage_bps = 0;
  const auto r = run_backtest(bars, PeekingStrategy{}, c);
  ASSERT_EQ(r.trades.size(), 1u);
  EXPECT_EQ(r.trades[0].session_date, kD0 + 3);
  EXPECT_DOUBLE_EQ(r.trades[0].price, 150);
  // So no profit from bar 2's jump: equity never above the initial cash.
  EXPECT_EQ(r.equity[2], 10'000);
  EXPECT_EQ(r.position[2], 0);
  EXPECT_LT(r.equity[3], 10'000);  // 66 shares at 150, minus the commission
}

TEST(Backtest, WarmupKeepsTheStrategyFlat) {
  // warm-up 3: decisions at bars 0 and 1 are flat without asking the strategy.
  ScriptedStrategy strategy({1, 1, 1, 1}, /*warmup=*/3);
  const auto r = run_backtest({bar(kD0, 10, 10), bar(kD0 + 1, 10, 10), bar(kD0 + 2, 10, 10),
                               bar(kD0 + 3, 10, 10)},
                              strategy, hand_config());
  EXPECT_EQ(strategy.seen_sizes, (std::vector<size_t>{3, 4}));
  ASSERT_EQ(r.trades.size(), 1u);
  EXPECT_EQ(r.trades[0].session_date, kD0 + 3);
}

TEST(Backtest, RejectsBadInput) {
  ScriptedStrategy strategy({0, 0, 0});
  EXPECT_THROW(run_backtest({bar(kD0, 1, 1)}, strategy), Error);
  try {
    run_backtest({bar(kD0 + 1, 1, 1), bar(kD0, 1, 1)}, strategy);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::kInvalidInput);
  }
}

// ---- metrics ---------------------------------------------------------------------------------

std::vector<Date> days(size_t n) {
  std::vector<Date> d;
  for (size_t i = 0; i < n; ++i) d.push_back(kD0 + static_cast<int>(i));
  return d;
}

TEST(Metrics, ConstantGrowthHasNoVolatilityOrDrawdown) {
  std::vector<double> equity;
  for (int i = 0; i <= 365; ++i) equity.push_back(100 * std::pow(1.001, i));
  const auto m = compute_metrics(days(366), equity, 0, 0);
  EXPECT_NEAR(m.annual_volatility, 0, 1e-9);
  EXPECT_EQ(m.max_drawdown, 0);
  EXPECT_NEAR(m.total_return, std::pow(1.001, 365) - 1, 1e-12);
  // 365 calendar days = 365/365.25 years.
  EXPECT_NEAR(m.cagr, std::pow(std::pow(1.001, 365), 365.25 / 365) - 1, 1e-12);
  EXPECT_EQ(m.days, 366);
}

TEST(Metrics, DrawdownIsAPositiveFraction) {
  EXPECT_DOUBLE_EQ(compute_metrics(days(4), {100, 100, 50, 50}, 0, 0).max_drawdown, 0.5);
  // Peak 120, trough 60, recovery to 130: still 0.5.
  EXPECT_DOUBLE_EQ(compute_metrics(days(4), {100, 120, 60, 130}, 0, 0).max_drawdown, 0.5);
  // Two drawdowns, 10% (100 -> 90) and 25% (200 -> 150): the larger.
  EXPECT_DOUBLE_EQ(compute_metrics(days(5), {100, 90, 200, 150, 210}, 0, 0).max_drawdown, 0.25);
}

TEST(Metrics, HandComputedSharpeVolatilityTurnover) {
  // Equity 100, 110, 99, 108.9: returns +0.1, -0.1, +0.1; mean 1/30;
  // deviations 1/15, -2/15, 1/15 -> sample variance (1+4+1)/225/2 = 1/75, sd 0.115470...
  // vol = sd * sqrt(252) = 1.833030; Sharpe = (1/30) / sd * sqrt(252) = 4.582576.
  const std::vector<double> equity = {100, 110, 99, 108.9};
  const auto m = compute_metrics(days(4), equity, 1000, 3);
  EXPECT_NEAR(m.annual_volatility, std::sqrt(1.0 / 75) * std::sqrt(252.0), 1e-12);
  EXPECT_NEAR(m.annual_volatility, 1.833030, 1e-6);
  EXPECT_NEAR(m.sharpe, 4.582576, 1e-6);
  // Turnover: 1000 / mean(417.9 / 4 = 104.475) / (3 / 365.25 years) = 1165.3565...
  EXPECT_NEAR(m.turnover, 1000 / 104.475 / (3 / 365.25), 1e-9);
  EXPECT_NEAR(m.total_return, 0.089, 1e-12);
  EXPECT_EQ(m.trades, 3);
  EXPECT_DOUBLE_EQ(m.final_equity, 108.9);
  EXPECT_NEAR(m.max_drawdown, 0.1, 1e-12);
}

TEST(Metrics, RejectsMismatchedInput) {
  EXPECT_THROW(compute_metrics(days(3), {1, 2}, 0, 0), Error);
  EXPECT_THROW(compute_metrics({}, {}, 0, 0), Error);
}

}  // namespace
}  // namespace trib::trading::legacy

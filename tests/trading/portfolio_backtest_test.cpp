// The event-driven backtester and the shipped strategies on small hand-made markets: timing (no
// look-ahead, next-open fills, warm-up before --from), corporate actions, the volume cap and
// expiring orders, shorts with borrow fees, margin interest, the drawdown halt, limit orders.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "trib/core/error.hpp"
#include "trib/trading/backtest.hpp"
#include "trib/trading/strategy.hpp"

namespace trib::trading {
namespace {

const Date kD0 = Date::from_ymd(2021, 1, 4);

// A symbol with one bar per day from kD0 + first; open = close of the row, high/low +-1.
SymbolSeries series(const std::string& name, const std::vector<double>& closes, int first = 0,
                    double volume = 1e6) {
  SymbolSeries s;
  s.symbol = name;
  for (size_t t = 0; t < closes.size(); ++t) {
    s.day.push_back((kD0 + first + static_cast<int>(t)).days_since_epoch());
    s.open.push_back(closes[t]);
    s.high.push_back(closes[t] + 1);
    s.low.push_back(closes[t] - 1);
    s.close.push_back(closes[t]);
    s.volume.push_back(volume);
  }
  return s;
}

// A strategy written inline: `f` is called on every session.
class Scripted final : public Strategy {
 public:
  using Fn = std::function<void(const MarketView&, const Portfolio&, Decision&)>;
  explicit Scripted(Fn f, int warmup = 1) : f_(std::move(f)), warmup_(warmup) {}
  std::string name() const override { return "scripted"; }
  std::string params() const override { return ""; }
  int warmup_bars() const override { return warmup_; }
  void on_bar(const MarketView& m, const Portfolio& p, Decision& out) override { f_(m, p, out); }

 private:
  Fn f_;
  int warmup_;
};

BacktestConfig no_costs() {
  BacktestConfig c;
  c.costs.commission_per_share = 0;
  c.costs.min_commission = 0;
  c.costs.slippage_bps = 0;
  c.risk.max_order_notional = c.risk.max_position_notional = c.risk.max_order_qty = 1e12;
  c.initial_cash = 10'000;
  return c;
}

TEST(PortfolioBacktest, TheStrategySeesNothingAfterTheCloseAndOrdersFillAtTheNextOpen) {
  MarketData data;
  data.symbols = {series("A", {10, 11, 12, 13, 14})};
  data.symbols[0].open = {9.5, 10.5, 11.5, 12.5, 13.5};
  int calls = 0;
  Scripted s([&](const MarketView& m, const Portfolio&, Decision& out) {
    ++calls;
    EXPECT_EQ(m.count(0), static_cast<size_t>(calls));
    EXPECT_EQ(m.close(0).back(), data.symbols[0].close[static_cast<size_t>(calls - 1)]);
    EXPECT_EQ(m.date(), kD0 + (calls - 1));
    if (calls == 1) out.target(0, 1.0);
  });
  BacktestConfig c = no_costs();
  c.costs.slippage_bps = 10;
  const auto r = run_backtest(data, s, c);
  EXPECT_EQ(calls, 5);
  ASSERT_EQ(r.trades.size(), 1u);
  EXPECT_EQ(r.trades[0].date, kD0 + 1);                 // decided at day 0's close
  EXPECT_DOUBLE_EQ(r.trades[0].price, 10.5 * 1.001);     // day 1's open plus slippage
  // Sized at day 0's close (999 shares at 10 pay with slippage), cut at day 1's open to what the
  // cash pays for at 10.5105: 951. The rest would now put more than all equity in A.
  EXPECT_EQ(r.trades[0].qty, 951);
  EXPECT_EQ(r.orders_unfilled, 1);
  ASSERT_EQ(r.denials.size(), 1u);
  EXPECT_EQ(r.denials[0].denial.rule, "max_position_weight");
  ASSERT_EQ(r.curve.size(), 5u);
  EXPECT_EQ(r.curve[0].equity, 10'000);                  // the start: day 0's close, all cash
  EXPECT_NEAR(r.curve[4].equity, 10'000 - 951 * 10.5 * 1.001 + 951 * 14, 1e-9);
}

TEST(PortfolioBacktest, WarmUpBeforeFromIsFedButNotTraded) {
  MarketData data;
  data.symbols = {series("A", {10, 11, 12, 13, 14, 15, 16, 17})};
  int calls = 0;
  Scripted s([&](const MarketView&, const Portfolio&, Decision& out) {
    if (++calls == 1) out.target(0, 0.5);  // decided in the warm-up: sized at the start
  });
  BacktestConfig c = no_costs();
  c.from = kD0 + 5;
  const auto r = run_backtest(data, s, c);
  EXPECT_EQ(calls, 8);
  ASSERT_FALSE(r.curve.empty());
  EXPECT_EQ(r.curve.front().date, kD0 + 4);  // the close before --from
  EXPECT_EQ(r.metrics.start, kD0 + 4);
  ASSERT_EQ(r.trades.size(), 1u);
  EXPECT_EQ(r.trades[0].date, kD0 + 5);
  EXPECT_EQ(r.trades[0].qty, 357);  // trunc(0.5 x 10,000 / 14)
  BacktestConfig late = no_costs();
  late.from = kD0 + 30;
  EXPECT_THROW(run_backtest(data, s, late), Error);
}

TEST(PortfolioBacktest, SplitsMoveThePositionAndDividendsPayCash) {
  MarketData data;
  data.symbols = {series("A", {100, 100, 50, 50})};  // a 2-for-1 split ex day 2
  CorporateAction split;
  split.kind = CorporateAction::Kind::kSplit;
  split.ex_date = kD0 + 2;
  split.split_ratio = 2;
  CorporateAction dividend;
  dividend.kind = CorporateAction::Kind::kDividend;
  dividend.ex_date = kD0 + 3;
  dividend.cash_amount = 0.5;
  data.symbols[0].actions = {split, dividend};
  auto strategy = make_buy_and_hold();
  const auto r = run_backtest(data, *strategy, no_costs());
  ASSERT_EQ(r.trades.size(), 1u);
  EXPECT_EQ(r.trades[0].qty, 100);
  EXPECT_EQ(r.splits_applied, 1);
  EXPECT_DOUBLE_EQ(r.dividends, 100);  // 200 shares x 0.50
  EXPECT_DOUBLE_EQ(r.curve[2].equity, 10'000);
  EXPECT_DOUBLE_EQ(r.curve[3].equity, 10'100);
}

TEST(PortfolioBacktest, TheVolumeCapFillsPartOfAnOrderAndTheRestContinuesNextSession) {
  MarketData data;
  data.symbols = {series("A", {10, 10, 10, 10, 10}, 0, 4'000)};  // 5%: 200 shares a day
  bool once = false;
  Scripted s([&](const MarketView&, const Portfolio&, Decision& out) {
    if (!once) out.target(0, 0.5);  // 500 shares
    once = true;
  });
  const auto r = run_backtest(data, s, no_costs());
  ASSERT_EQ(r.trades.size(), 3u);
  EXPECT_EQ(r.trades[0].qty, 200);
  EXPECT_EQ(r.trades[1].qty, 200);
  EXPECT_EQ(r.trades[2].qty, 100);
  EXPECT_EQ(r.orders_unfilled, 2);
}

TEST(PortfolioBacktest, AnOrderForASymbolWithoutABarExpires) {
  MarketData data;
  data.symbols = {series("A", {10, 10, 10, 10}), series("B", {20}, 0)};
  data.symbols[1].day.push_back((kD0 + 3).days_since_epoch());  // B skips days 1 and 2
  for (auto* v : {&data.symbols[1].open, &data.symbols[1].high, &data.symbols[1].low, &data.symbols[1].close}) v->push_back(21);
  data.symbols[1].volume.push_back(1e6);
  bool once = false;
  Scripted s([&](const MarketView&, const Portfolio&, Decision& out) {
    if (!once) out.target(1, 0.5);
    once = true;
  });
  const auto r = run_backtest(data, s, no_costs());
  EXPECT_EQ(r.orders_unfilled, 2);  // sent for days 1 and 2: no bar, expired
  ASSERT_EQ(r.trades.size(), 1u);   // sent again for day 3, where B trades
  EXPECT_EQ(r.trades[0].date, kD0 + 3);
  EXPECT_EQ(r.trades[0].qty, 250);  // 0.5 x 10,000 / 20, B's last close
}

TEST(PortfolioBacktest, ShortsPayBorrowAndNegativeCashPaysInterest) {
  MarketData data;
  data.symbols = {series("A", std::vector<double>(11, 100.0)), series("B", std::vector<double>(11, 50.0))};
  bool once = false;
  Scripted s([&](const MarketView&, const Portfolio&, Decision& out) {
    if (!once) {
      out.target(0, -0.5);
      out.target(1, 1.5);
    }
    once = true;
  });
  BacktestConfig c = no_costs();
  c.risk.margin = c.risk.allow_short = true;
  c.risk.max_gross_leverage = 2;
  c.risk.max_net_leverage = 1;
  c.risk.max_position_weight = 2;
  c.borrow_bps = 252;           // 1 bp a session
  c.margin_interest_bps = 504;  // 2 bp a session
  const auto r = run_backtest(data, s, c);
  ASSERT_EQ(r.trades.size(), 2u);
  EXPECT_EQ(r.trades[0].side, -1);  // reducing first: nothing held, so in symbol order
  EXPECT_EQ(r.trades[0].qty, 50);
  EXPECT_EQ(r.trades[1].qty, 300);
  // From day 1's close to day 10's: 5,000 short pays 0.50 a session; cash 10,000 + 5,000 - 15,000
  // = 0 at first, then each charge takes it below zero.
  EXPECT_NEAR(r.metrics.borrow_fees, 10 * 0.5, 1e-9);
  EXPECT_GT(r.metrics.margin_interest, 0);
  EXPECT_LT(r.metrics.margin_interest, 10 * 0.01);
  const auto no_short = [&] {
    BacktestConfig cash = no_costs();
    return run_backtest(data, s, cash);
  };
  once = false;
  const auto r2 = no_short();
  EXPECT_EQ(r2.trades.size(), 1u);  // the short is not allowed; B is cut to the cash
  EXPECT_FALSE(r2.denials.empty());
  EXPECT_EQ(r2.denials[0].denial.rule, "short_not_allowed");
}

TEST(PortfolioBacktest, ADrawdownHaltsTradingForTheRestOfTheRun) {
  MarketData data;
  data.symbols = {series("A", {100, 100, 90, 80, 70, 60, 70, 80, 90, 100})};
  Scripted s([&](const MarketView& m, const Portfolio&, Decision& out) {
    out.target(0, m.count(0) % 2 == 0 ? 1.0 : 0.9);  // trades every session while it may
  });
  const auto r = run_backtest(data, s, no_costs());
  ASSERT_FALSE(r.state_changes.empty());
  EXPECT_EQ(r.state_changes.back().to, TradingState::kHalted);
  const Date halted = r.state_changes.back().date;
  for (const auto& t : r.trades) EXPECT_LE(t.date, halted);
  EXPECT_EQ(r.curve.back().state, TradingState::kHalted);
  // A 10% loss in a session puts it in REDUCING first.
  EXPECT_EQ(r.state_changes.front().to, TradingState::kReducing);
}

TEST(PortfolioBacktest, ExplicitLimitOrdersFillOnlyWhenTouched) {
  MarketData data;
  data.symbols = {series("A", {100, 100, 97, 95})};  // lows 99, 96, 94
  int calls = 0;
  Scripted s([&](const MarketView&, const Portfolio&, Decision& out) {
    if (++calls <= 2) out.orders.push_back({0, 1, 10, OrderType::kLimit, 96.5, 0});
  });
  const auto r = run_backtest(data, s, no_costs());
  ASSERT_EQ(r.trades.size(), 1u);  // day 1's low 99 misses; day 2 opens at 97 and trades to 96
  EXPECT_EQ(r.trades[0].date, kD0 + 2);
  EXPECT_DOUBLE_EQ(r.trades[0].price, 96.5);
  EXPECT_EQ(r.trades[0].type, OrderType::kLimit);
}

TEST(PortfolioBacktest, TheBenchmarkIsABuyAndHoldOfItsTotalReturnCloses) {
  MarketData data;
  data.symbols = {series("A", {10, 10, 10})};
  SymbolSeries b;
  b.symbol = "IDX";
  b.day = data.symbols[0].day;
  b.close = {200, 210, 220};
  data.benchmark = b;
  auto strategy = make_buy_and_hold();
  const auto r = run_backtest(data, *strategy, no_costs());
  ASSERT_TRUE(r.benchmark);
  EXPECT_DOUBLE_EQ(r.curve[2].benchmark, 11'000);
  EXPECT_NEAR(r.benchmark->total_return, 0.1, 1e-15);
}

TEST(PortfolioBacktest, IntradayBarsFillAtTheNextBarsOpenAndMetricsAreDaily) {
  // Two sessions of three hourly bars.
  SymbolSeries s;
  s.symbol = "A";
  const int64_t hour = int64_t{3600} * 1'000'000'000;
  const double closes[] = {10, 11, 12, 12, 13, 14};
  for (int k = 0; k < 6; ++k) {
    const Date d = kD0 + k / 3;
    s.day.push_back(d.days_since_epoch());
    s.ts.push_back(int64_t{d.days_since_epoch()} * 86'400'000'000'000 + (14 + k % 3) * hour + 30 * 60'000'000'000LL);
    s.open.push_back(closes[k] - 0.5);
    s.high.push_back(closes[k] + 1);
    s.low.push_back(closes[k] - 1);
    s.close.push_back(closes[k]);
    s.volume.push_back(1e6);
  }
  MarketData data;
  data.symbols = {s};
  int calls = 0;
  Scripted strategy([&](const MarketView& m, const Portfolio&, Decision& out) {
    EXPECT_EQ(m.time(), s.ts[static_cast<size_t>(calls)]);
    EXPECT_EQ(m.date(), kD0 + calls / 3);
    if (++calls == 1) out.target(0, 1.0);
  });
  BacktestConfig c = no_costs();
  c.risk.daily_loss_limit_pct = c.risk.max_drawdown_pct = 100;
  const auto r = run_backtest(data, strategy, c);
  EXPECT_EQ(calls, 6);
  ASSERT_EQ(r.trades.size(), 1u);
  EXPECT_EQ(r.trades[0].time, s.ts[1]);  // the next bar, in the same session
  EXPECT_DOUBLE_EQ(r.trades[0].price, 10.5);
  EXPECT_EQ(r.trades[0].qty, 952);       // sized at 10 (1,000), cut to what 10,000 buys at 10.5
  ASSERT_EQ(r.curve.size(), 6u);         // a point per bar
  EXPECT_EQ(r.curve[5].time, s.ts[5]);
  // Metrics on the start and each session's last point: 3 points, 2 returns.
  EXPECT_EQ(r.metrics.sessions, 2);
  EXPECT_DOUBLE_EQ(r.metrics.final_equity, 10'000 - 952 * 10.5 + 952 * 14);
}

TEST(PortfolioBacktest, AStrategySeesFeaturesUpToTheBarJustClosed) {
  MarketData data;
  data.symbols = {series("A", {10, 11, 12, 13})};
  data.feature_names = {"MA2", "ROC1"};
  data.symbols[0].features = {{NAN, 10.5f, 11.5f, 12.5f}, {NAN, 0.1f, 0.09f, 0.083f}};
  int calls = 0;
  Scripted s([&](const MarketView& m, const Portfolio&, Decision&) {
    ++calls;
    const size_t ma = m.feature_index("MA2");
    ASSERT_EQ(ma, 0u);
    EXPECT_EQ(m.feature_index("nope"), static_cast<size_t>(-1));
    const auto v = m.feature(0, ma);
    ASSERT_EQ(v.size(), static_cast<size_t>(calls));
    if (calls >= 2) EXPECT_FLOAT_EQ(v.back(), 8.5f + static_cast<float>(calls));  // 10.5 on the 2nd bar
  });
  run_backtest(data, s, no_costs());
  EXPECT_EQ(calls, 4);
  data.symbols[0].features[1].pop_back();
  EXPECT_THROW(run_backtest(data, s, no_costs()), Error);  // a feature column shorter than the bars
}

// ---- the strategies ----

// Runs `strategy` over `data` and returns the targets it set per session.
std::vector<std::vector<std::pair<size_t, double>>> targets_of(Strategy& strategy, const MarketData& data) {
  std::vector<std::vector<std::pair<size_t, double>>> out;
  const auto sessions = data.sessions();
  std::vector<size_t> seen(data.symbols.size(), 0), preds(data.symbols.size(), 0), updated;
  Portfolio p(data.symbols.size(), 1);
  for (int32_t day : sessions) {
    updated.clear();
    for (size_t i = 0; i < data.symbols.size(); ++i) {
      const auto& s = data.symbols[i];
      if (seen[i] < s.size() && s.day[seen[i]] == day) {
        ++seen[i];
        updated.push_back(i);
      }
      while (preds[i] < s.predictions.size() && s.predictions[preds[i]].first <= day) ++preds[i];
    }
    Decision d;
    strategy.on_bar(MarketView(data, seen, updated, preds, day), p, d);
    out.push_back(d.targets);
  }
  return out;
}

TEST(Strategies, SmaCrossSetsATargetOnlyWhenItsSignalChanges) {
  MarketData data;
  data.symbols = {series("A", {1, 2, 3, 4, 3, 2, 1, 1, 1}), series("B", {5, 5, 5, 5, 5, 5, 5, 5, 5})};
  auto s = make_sma_cross(2, 4);
  const auto t = targets_of(*s, data);
  // Day 3: A's mean of 2 (3.5) > mean of 4 (2.5): long 1/2; B flat (equal means stay flat).
  EXPECT_TRUE(t[2].empty());
  ASSERT_EQ(t[3].size(), 2u);
  EXPECT_EQ(t[3][0], (std::pair<size_t, double>{0, 0.5}));
  EXPECT_EQ(t[3][1], (std::pair<size_t, double>{1, 0.0}));
  EXPECT_TRUE(t[4].empty());  // (3.5 vs 3): still long
  ASSERT_EQ(t[5].size(), 1u);  // (2.5 vs 3): flat
  EXPECT_EQ(t[5][0], (std::pair<size_t, double>{0, 0.0}));
  EXPECT_THROW(make_sma_cross(5, 5), Error);
}

TEST(Strategies, MomentumHoldsTheTopKAndRebalancesOnSchedule) {
  MarketData data;
  data.symbols = {series("A", {10, 11, 12, 13, 14, 15}), series("B", {10, 10, 10, 10, 10, 10}),
                  series("C", {10, 12, 14, 16, 11, 9})};
  auto s = make_momentum(/*lookback=*/2, /*skip=*/0, /*top_k=*/1, /*rebalance_days=*/2);
  const auto t = targets_of(*s, data);
  EXPECT_TRUE(t[1].empty());  // needs 3 bars
  ASSERT_EQ(t[2].size(), 1u);  // C +40% beats A +20%
  EXPECT_EQ(t[2][0], (std::pair<size_t, double>{2, 1.0}));
  EXPECT_TRUE(t[3].empty());  // not a rebalance day
  // Day 4: A +16.7%, B 0, C -21%: C out, A in.
  ASSERT_EQ(t[4].size(), 2u);
  EXPECT_EQ(t[4][0], (std::pair<size_t, double>{2, 0.0}));
  EXPECT_EQ(t[4][1], (std::pair<size_t, double>{0, 1.0}));
}

TEST(Strategies, TopkDropoutReplacesTheWorstHeldNamesWithTheBestUnheld) {
  MarketData data;
  for (const char* n : {"A", "B", "C", "D"}) data.symbols.push_back(series(n, {10, 10}));
  const int32_t d0 = kD0.days_since_epoch(), d1 = d0 + 1;
  const double day0[] = {0.9, 0.8, 0.1, 0.0}, day1[] = {0.1, 0.8, 0.9, 0.0};
  for (size_t i = 0; i < 4; ++i) data.symbols[i].predictions = {{d0, day0[i]}, {d1, day1[i]}};
  auto s = make_topk_dropout(/*top_k=*/2, /*drop_n=*/1, "m");
  const auto t = targets_of(*s, data);
  ASSERT_EQ(t[0].size(), 2u);  // buys A and B
  EXPECT_EQ(t[0][0], (std::pair<size_t, double>{0, 0.5}));
  EXPECT_EQ(t[0][1], (std::pair<size_t, double>{1, 0.5}));
  // Day 1: held {B .8, A .1} and the best unheld C .9: A is the worst, sold; C bought.
  ASSERT_EQ(t[1].size(), 2u);
  EXPECT_EQ(t[1][0], (std::pair<size_t, double>{0, 0.0}));
  EXPECT_EQ(t[1][1], (std::pair<size_t, double>{2, 0.5}));
  EXPECT_THROW(make_topk_dropout(2, 3, "m"), Error);
  EXPECT_THROW(make_topk_dropout(2, 1, ""), Error);
}

}  // namespace
}  // namespace trib::trading

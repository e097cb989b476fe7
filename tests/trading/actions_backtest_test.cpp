// The portfolio backtester with corporate actions, on Lean's real bars and Lean's own factor
// files: orders fill at raw prices, the strategy sees adjusted prices, splits scale the position
// and dividends pay cash on their ex-dates.
//  - buy-and-hold of SPY (a quarterly dividend payer) 1998-2021: every dividend is paid as the
//    position x the amount the factor file states, and the equity stays within 10% of the
//    total-return series (it misses only the reinvestment);
//  - AAPL held in whole shares across the 7:1 and 4:1 splits: 100 shares become 700 then 2800, no
//    jump in equity;
//  - SMA(50/200) on AAPL 1999-2021: on total-return signals a many-fold gain, more than on raw
//    prices (where the splits look like crashes).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "trib/etl/adjusted_bars.hpp"
#include "trib/providers/action_files.hpp"
#include "trib/trading/backtest.hpp"
#include "trib/trading/strategy.hpp"
#include "../core/lean_data.hpp"
#include "../core/test_util.hpp"

namespace fs = std::filesystem;
using namespace trib;
using namespace trib::trading;

namespace {

fs::path lean_dir() {
  return trib::testing::shared_data() / "equities-daily/lean-us-equity-daily";
}

struct Series {
  std::vector<lake::CuratedBar> raw;
  std::vector<CorporateAction> actions;
};

Series lean(const std::string& symbol) {
  Series s;
  for (const Bar& b : trib::testing::lean_raw_daily(symbol)) s.raw.push_back({b, "csv", "", 0});
  std::string lower = symbol;
  for (char& c : lower) c = static_cast<char>(std::tolower(c));
  const std::string factors = trib::testing::slurp(lean_dir() / "factor_files" / (lower + ".csv"));
  for (const auto& a : providers::parse_action_file(factors, providers::ActionFileFormat::kLeanFactor,
                                                    Symbol::parse(symbol)).actions) {
    s.actions.push_back(a.action);
  }
  return s;
}

// One symbol's market data: raw bars traded, `signal_mode` bars seen.
MarketData data_of(const std::string& symbol, const Series& s, AdjustMode signal_mode, std::optional<Date> from = {}) {
  const auto traded = etl::adjust_history(s.raw, from, std::nullopt, s.actions, AdjustMode::kRaw);
  const auto seen = etl::adjust_history(s.raw, from, std::nullopt, s.actions, signal_mode);
  SymbolSeries x;
  x.symbol = symbol;
  for (const auto& r : traded.rows) {
    x.day.push_back(r.bar.session_date.days_since_epoch());
    x.open.push_back(r.bar.open);
    x.high.push_back(r.bar.high);
    x.low.push_back(r.bar.low);
    x.close.push_back(r.bar.close);
    x.volume.push_back(r.bar.volume);
  }
  for (const auto& r : seen.rows) {
    x.signal_open.push_back(r.bar.open);
    x.signal_high.push_back(r.bar.high);
    x.signal_low.push_back(r.bar.low);
    x.signal_close.push_back(r.bar.close);
    x.signal_volume.push_back(r.bar.volume);
  }
  x.actions = seen.actions;
  MarketData d;
  d.symbols = {x};
  return d;
}

BacktestConfig free_trading() {
  BacktestConfig c;
  c.costs.commission_per_share = c.costs.min_commission = c.costs.slippage_bps = 0;
  c.volume_participation = 1;
  c.risk.max_order_notional = c.risk.max_position_notional = c.risk.max_order_qty = 1e15;
  c.risk.max_drawdown_pct = c.risk.daily_loss_limit_pct = 100;
  return c;
}

// Buys `qty` shares at the first open it can, then holds.
class BuyOnce final : public Strategy {
 public:
  explicit BuyOnce(double qty) : qty_(qty) {}
  std::string name() const override { return "buy_once"; }
  std::string params() const override { return ""; }
  int warmup_bars() const override { return 1; }
  void on_bar(const MarketView&, const Portfolio&, Decision& out) override {
    if (!done_) out.orders.push_back({0, 1, qty_});
    done_ = true;
  }

 private:
  double qty_;
  bool done_ = false;
};

TEST(ActionsBacktest, BuyAndHoldOfADividendPayerIsPaidEveryDividend) {
  if (!fs::exists(lean_dir())) GTEST_SKIP() << "no ../shared/data here";
  const Series spy = lean("SPY");
  const MarketData data = data_of("SPY", spy, AdjustMode::kTotal);
  ASSERT_GT(data.symbols[0].actions.size(), 80u);  // quarterly dividends since 1998
  BuyOnce strategy(100);
  BacktestConfig c = free_trading();
  c.initial_cash = 100 * std::max(data.symbols[0].close[0], data.symbols[0].open[1]) + 1;
  const auto r = run_backtest(data, strategy, c);
  ASSERT_EQ(r.trades.size(), 1u);
  EXPECT_EQ(r.trades[0].qty, 100);
  // Every dividend after the purchase, 100 x its amount, and nothing else.
  double expected = 0;
  for (const auto& a : data.symbols[0].actions) {
    if (a.kind == CorporateAction::Kind::kDividend && a.ex_date > r.trades[0].date) expected += 100 * a.cash_amount;
  }
  EXPECT_NEAR(r.dividends, expected, 1e-6);
  EXPECT_GT(expected, 500);
  // Every close: the cash left after the purchase + the dividends so far + 100 x the raw close.
  const auto& s = data.symbols[0];
  const double left = c.initial_cash - 100 * r.trades[0].price;
  double paid = 0;
  size_t next = 0;
  for (size_t t = 0; t < r.curve.size(); ++t) {
    const Date day = r.curve[t].date;
    while (next < s.actions.size() && s.actions[next].ex_date <= day) {
      if (s.actions[next].kind == CorporateAction::Kind::kDividend && s.actions[next].ex_date > r.trades[0].date) {
        paid += 100 * s.actions[next].cash_amount;
      }
      ++next;
    }
    if (day < r.trades[0].date) continue;
    ASSERT_NEAR(r.curve[t].equity, left + paid + 100 * s.close[t], 1e-6) << day.to_string();
  }
  // Against the total-return series: below it, the dividends not being reinvested.
  const double held = r.curve.back().equity / r.curve[1].equity, total = s.signal_close.back() / s.signal_close[1];
  EXPECT_LT(held, total);
  EXPECT_GT(held / total, 0.7);
}

TEST(ActionsBacktest, SplitsScaleAWholeSharePositionWithoutAJump) {
  if (!fs::exists(lean_dir())) GTEST_SKIP() << "no ../shared/data here";
  const Series aapl = lean("AAPL");
  MarketData data = data_of("AAPL", aapl, AdjustMode::kSplit, Date::parse("2014-01-02"));
  // Splits only here: the dividends are the test above's.
  std::erase_if(data.symbols[0].actions, [](const CorporateAction& a) { return a.kind != CorporateAction::Kind::kSplit; });
  BuyOnce strategy(100);
  BacktestConfig c = free_trading();
  // Enough for 100 shares at the first close (the order's sizing) and the second open (its fill).
  c.initial_cash = 100 * std::max(data.symbols[0].close[0], data.symbols[0].open[1]) + 1;
  const auto r = run_backtest(data, strategy, c);
  ASSERT_EQ(r.trades.size(), 1u);
  EXPECT_EQ(r.trades[0].qty, 100);
  EXPECT_EQ(r.splits_applied, 2);
  // 100 x 7 x 4, the printed ratios rounded to whole shares: the equity is cash + shares x close.
  EXPECT_NEAR(r.curve.back().equity, c.initial_cash - 100 * r.trades[0].price + 2800 * data.symbols[0].close.back(),
              1e-6);
  for (size_t t = 1; t < r.curve.size(); ++t) {
    ASSERT_LT(std::abs(r.curve[t].equity / r.curve[t - 1].equity - 1), 0.15) << r.curve[t].date.to_string();
  }
}

TEST(ActionsBacktest, SmaCrossOnAdjustedSignalsOfAapl) {
  if (!fs::exists(lean_dir())) GTEST_SKIP() << "no ../shared/data here";
  const Series aapl = lean("AAPL");
  BacktestConfig c;  // the default costs and limits
  c.risk.max_drawdown_pct = 100;
  c.risk.daily_loss_limit_pct = 100;
  auto sma = make_sma_cross(50, 200);
  const auto adjusted = run_backtest(data_of("AAPL", aapl, AdjustMode::kTotal, Date::parse("1999-01-04")), *sma, c);
  EXPECT_GT(adjusted.metrics.total_return, 10) << "a many-fold gain on adjusted signals";
  // Signals on raw prices: the splits look like crashes and knock the strategy out.
  auto sma2 = make_sma_cross(50, 200);
  const auto raw = run_backtest(data_of("AAPL", aapl, AdjustMode::kRaw, Date::parse("1999-01-04")), *sma2, c);
  EXPECT_LT(raw.metrics.total_return, adjusted.metrics.total_return);
}

}  // namespace

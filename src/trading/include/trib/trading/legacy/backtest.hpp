// The daily backtester. Timing: the strategy decides on bar t's close; the order executes at
// bar t+1's open plus slippage (no look-ahead); positions are whole shares; equity is marked at
// each close. Costs: commission per share with a minimum per order, slippage in basis points
// against the trader.
//
// Sizing at bar t+1's open: equity is marked at that open (cash + position * open), the side is
// the direction from the position toward exposure * equity / open, and the target is
// trunc(exposure * equity / fill_price) whole shares. A buy is sized down to what cash pays for,
// commission included, so cash never goes negative. Exposures are clamped to [-1, 1]; while the
// history is shorter than warmup_bars() the decision is flat and the strategy is not called. The
// decision at the last bar's close has no next open and is not executed.
#pragma once

#include <string>
#include <vector>

#include "trib/core/bar.hpp"
#include "trib/core/corporate_action.hpp"
#include "trib/trading/legacy/strategy.hpp"

namespace trib::trading::legacy {

struct CostModel {
  double commission_per_share = 0.005;
  double min_commission = 1.0;
  double slippage_bps = 5;
  // Commission of an order of `qty` shares (0 for qty 0).
  double commission(double qty) const;
  // Execution price of a buy (+1) or sell (-1) at `reference`.
  double fill_price(double reference, int side) const;
  // Whole shares of a buy at execution price `price` that `cash` pays for, commission
  // included: at most `wanted`, 0 when nothing is affordable.
  double affordable_shares(double wanted, double price, double cash) const;
};

struct BacktestConfig {
  double initial_cash = 100'000;
  CostModel costs;
  // Dividends are credited as cash on the ex-date (as a broker does; default), or reinvested at
  // the ex-date's reference price (the previous close less the dividend), which makes a
  // buy-and-hold follow the total-return series exactly.
  bool reinvest_dividends = false;
  // Positions in fractional shares (a trade under one cent of notional is skipped); otherwise
  // whole shares, and a split's fractional share is paid out as cash at the split-adjusted
  // previous close.
  bool fractional_shares = false;
};

// What a backtest runs on. The strategy decides on `signal` (adjusted prices: no split or
// dividend gap in its indicators); orders fill at `traded` (raw, as traded) prices; on each
// action's ex-date, before that session's open, a split multiplies the position by its ratio and
// a dividend pays position x amount in cash (a short pays it), so the equity follows the
// total-return series.
struct BacktestData {
  std::vector<Bar> traded;               // ascending, one symbol
  std::vector<Bar> signal;               // the same sessions; empty: the strategy sees `traded`
  std::vector<CorporateAction> actions;  // splits and dividends (others are ignored)
};

struct Trade {
  Date session_date;
  std::string side;  // "buy" | "sell"
  double qty = 0, price = 0, commission = 0;
};

// Daily returns are equity[i] / equity[i-1] - 1. Volatility and Sharpe are 0 when the returns
// have no dispersion (stdev < 1e-12, e.g. constant growth) or fewer than 2 returns; CAGR and
// turnover are 0 when the dates span no time.
struct Metrics {
  double total_return = 0;
  double cagr = 0;
  double annual_volatility = 0;  // stdev of daily returns * sqrt(252)
  double sharpe = 0;             // mean daily return / stdev * sqrt(252), risk-free 0
  double max_drawdown = 0;       // as a positive fraction, 0.25 = -25%
  double turnover = 0;           // annualised: traded notional / mean equity / years
  int trades = 0;
  double final_equity = 0;
  int days = 0;  // equity points (sessions)
};

struct BacktestResult {
  std::vector<Date> dates;
  std::vector<double> equity;  // marked at each close
  std::vector<double> position;
  std::vector<Trade> trades;
  Metrics metrics;
  int splits_applied = 0;       // splits that changed a held position
  double dividends_paid = 0;    // cash from dividends (negative: a short paid them)
};

// Runs `strategy` over `data`. Error::InvalidInput when the bars are not ascending or fewer than
// 2, the signal bars are not the same sessions, or initial cash is not positive.
BacktestResult run_backtest(const BacktestData& data, const Strategy& strategy,
                            const BacktestConfig& config = {});
// The same on one series that is both traded and seen, without actions.
BacktestResult run_backtest(const std::vector<Bar>& bars, const Strategy& strategy,
                            const BacktestConfig& config = {});

// Metrics of an equity curve (used by run_backtest; exposed for tests).
Metrics compute_metrics(const std::vector<Date>& dates, const std::vector<double>& equity,
                        double traded_notional, int trades);

}  // namespace trib::trading::legacy

// Performance metrics of an equity curve (definitions in docs/architecture.md, "Trading").
//   returns      r_t = E_t / E_{t-1} - 1 over the curve's points (the first is the start);
//   rf per day   (1 + risk_free_rate)^(1/252) - 1;
//   Sharpe       mean(r - rf) / sample stdev(r - rf) x sqrt(252) (0 without dispersion);
//   Sortino      mean(r - rf) / sqrt(mean(min(0, r - rf)^2)) x sqrt(252) (0 without a loss);
//   CAGR         (E_end / E_start)^(365.25 / calendar days) - 1;
//   max drawdown the largest 1 - E_t / max_{s<=t} E_s, with the peak, trough and recovery dates;
//   Calmar       CAGR / max drawdown (0 without a drawdown);
//   turnover     (bought + sold notional) / 2 / mean equity / years: 1.0 = the book replaced once
//                a year;
//   exposure     mean of gross position value / equity at the closes after the start;
//   hit rate     closing fills with a positive realised P&L / closing fills.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "trib/core/time.hpp"

namespace trib::trading {

struct Metrics {
  Date start, end;
  int sessions = 0;  // curve points after the start
  double initial_equity = 0, final_equity = 0;
  double total_return = 0, cagr = 0, annual_volatility = 0;
  double risk_free_rate = 0, sharpe = 0, sortino = 0;
  double max_drawdown = 0;  // a positive fraction: 0.25 = -25%
  std::optional<Date> drawdown_peak, drawdown_trough, drawdown_recovery;
  double calmar = 0;
  double turnover = 0, exposure = 0, hit_rate = 0;
  int64_t trades = 0, closing_trades = 0, winning_trades = 0;
  double traded_notional = 0;
  double commissions = 0, slippage = 0, borrow_fees = 0, margin_interest = 0;
  double costs() const { return commissions + slippage + borrow_fees + margin_interest; }
};

// The curve-only metrics (returns, risk, drawdown, Calmar; exposure when `gross` is given, one
// per point). Error::InvalidInput unless dates and equity have the same, non-zero, length.
Metrics compute_metrics(const std::vector<Date>& dates, const std::vector<double>& equity,
                        double risk_free_rate, const std::vector<double>* gross = nullptr);

}  // namespace trib::trading

#include "trib/trading/legacy/backtest.hpp"

#include <algorithm>
#include <cmath>
#include <optional>
#include <tuple>

#include <fmt/format.h>

#include "trib/core/error.hpp"

namespace trib::trading::legacy {

double CostModel::commission(double qty) const {
  if (qty == 0) return 0.0;
  return std::max(min_commission, std::fabs(qty) * commission_per_share);
}

double CostModel::fill_price(double reference, int side) const {
  // Slippage always goes against the trader: buys pay more, sells receive less.
  return reference * (1.0 + (side > 0 ? 1.0 : -1.0) * slippage_bps / 10'000.0);
}

double CostModel::affordable_shares(double wanted, double price, double cash) const {
  if (!(cash > 0) || !(price > 0)) return 0;
  double n = std::floor(cash / (price + commission_per_share));
  if (n * commission_per_share < min_commission) {
    // The minimum commission applies to every size up to n.
    n = std::min(n, std::floor((cash - min_commission) / price));
  }
  n = std::max(0.0, std::min(std::floor(wanted), n));
  // Guard against rounding at the boundary.
  while (n > 0 && n * price + commission(n) > cash) n -= 1;
  return n;
}

namespace {

// Whole shares toward zero, tolerant of representation error (99.9999999999 -> 100).
double whole_shares(double x) { return std::trunc(x + (x > 0 ? 1e-9 : -1e-9)); }

class Simulator {
 public:
  explicit Simulator(const BacktestConfig& config)
      : costs_(config.costs), cash_(config.initial_cash), reinvest_(config.reinvest_dividends),
        fractional_(config.fractional_shares) {}

  // Moves the position toward `exposure` of equity at this bar's open.
  void rebalance(const Bar& bar, double exposure) {
    const double open = bar.open;
    if (!(open > 0) || !std::isfinite(open)) return;  // no tradable price: keep the position
    const double equity = cash_ + qty_ * open;
    const double wanted_at_open = exposure * equity / open;
    const int side = wanted_at_open > qty_ ? 1 : (wanted_at_open < qty_ ? -1 : 0);
    if (side == 0) return;
    const double price = costs_.fill_price(open, side);
    const double target = fractional_ ? exposure * equity / price : whole_shares(exposure * equity / price);
    double shares = (target - qty_) * side;
    if (shares <= 0 || (fractional_ && shares * price < 0.01)) return;
    if (side > 0) {
      shares = fractional_ ? affordable_fraction(shares, price) : costs_.affordable_shares(shares, price, cash_);
    } else if (cash_ + shares * price - costs_.commission(shares) < 0) {
      shares = 0;  // proceeds would not even pay the commission
    }
    if (shares <= 0 || (fractional_ && shares * price < 0.01)) return;
    const double commission = costs_.commission(shares);
    cash_ -= side * shares * price + commission;
    qty_ += side * shares;
    traded_notional_ += shares * price;
    trades_.push_back(Trade{bar.session_date, side > 0 ? "buy" : "sell", shares, price,
                            commission});
  }

  // A split on this session's ex-date: `ratio` new shares per old; `previous_close` the raw
  // close before it.
  void split(double ratio, double previous_close) {
    if (qty_ == 0) return;
    double q = qty_ * ratio;
    if (!fractional_) {
      // Ratios from factor files are printed to ~7 digits: 100 x 1.9999955 is 200 shares.
      const double nearest = std::round(q);
      if (std::abs(q - nearest) <= 1e-5 * std::max(1.0, std::abs(q))) {
        q = nearest;
      } else {
        const double whole = std::trunc(q);
        cash_ += (q - whole) * previous_close / ratio;  // cash in lieu of the fraction
        q = whole;
      }
    }
    qty_ = q;
    ++splits_;
  }

  // A cash dividend of `amount` per share, ex this session; `previous_close` the raw close
  // before it.
  void dividend(double amount, double previous_close) {
    if (qty_ == 0) return;
    const double cash = qty_ * amount;
    dividends_ += cash;
    const double reference = previous_close - amount;
    if (reinvest_ && qty_ > 0 && reference > 0) {
      double extra = cash / reference;
      if (!fractional_) extra = std::floor(extra + 1e-9);
      qty_ += extra;
      cash_ += cash - extra * reference;
    } else {
      cash_ += cash;
    }
  }

  double equity_at(double price) const { return cash_ + qty_ * price; }
  double qty() const { return qty_; }
  double traded_notional() const { return traded_notional_; }
  int splits() const { return splits_; }
  double dividends() const { return dividends_; }
  std::vector<Trade>& trades() { return trades_; }

 private:
  // Fractional shares of a buy at `price` that cash pays for, commission included.
  double affordable_fraction(double wanted, double price) const {
    if (!(cash_ > 0) || !(price > 0)) return 0;
    double n = std::min(wanted, cash_ / (price + costs_.commission_per_share));
    if (n > 0 && n * costs_.commission_per_share < costs_.min_commission) {
      n = std::min(n, (cash_ - costs_.min_commission) / price);
    }
    return std::max(0.0, n);
  }

  CostModel costs_;
  double cash_;
  bool reinvest_, fractional_;
  double qty_ = 0;
  double traded_notional_ = 0;
  int splits_ = 0;
  double dividends_ = 0;
  std::vector<Trade> trades_;
};

}  // namespace

BacktestResult run_backtest(const std::vector<Bar>& bars, const Strategy& strategy,
                            const BacktestConfig& config) {
  return run_backtest(BacktestData{bars, {}, {}}, strategy, config);
}

BacktestResult run_backtest(const BacktestData& data, const Strategy& strategy,
                            const BacktestConfig& config) {
  const std::vector<Bar>& bars = data.traded;
  if (bars.size() < 2) {
    throw Error::InvalidInput(
        fmt::format("backtest needs at least 2 bars, got {}", bars.size()));
  }
  for (size_t i = 1; i < bars.size(); ++i) {
    if (bars[i].ts_ns <= bars[i - 1].ts_ns) {
      throw Error::InvalidInput(fmt::format(
          "backtest: bars must be strictly ascending (bar {} on {} is not after {})", i,
          bars[i].session_date.to_string(), bars[i - 1].session_date.to_string()));
    }
  }
  const std::vector<Bar>& signal = data.signal.empty() ? bars : data.signal;
  if (signal.size() != bars.size()) {
    throw Error::InvalidInput(fmt::format("backtest: {} signal bars for {} traded bars; they must be the same sessions",
                                          signal.size(), bars.size()));
  }
  for (size_t i = 0; i < bars.size(); ++i) {
    if (signal[i].session_date != bars[i].session_date) {
      throw Error::InvalidInput(fmt::format("backtest: signal bar {} is {}, the traded bar {}", i,
                                            signal[i].session_date.to_string(), bars[i].session_date.to_string()));
    }
  }
  if (!(config.initial_cash > 0)) {
    throw Error::InvalidInput(
        fmt::format("backtest: initial cash must be > 0, got {}", config.initial_cash));
  }
  // Splits before dividends on a shared ex-date (a dividend declared per new share).
  std::vector<CorporateAction> actions;
  for (const auto& a : data.actions) {
    if (a.kind == CorporateAction::Kind::kSplit || a.kind == CorporateAction::Kind::kDividend) actions.push_back(a);
  }
  std::sort(actions.begin(), actions.end(), [](const CorporateAction& a, const CorporateAction& b) {
    return std::tuple(a.ex_date, a.kind != CorporateAction::Kind::kSplit) <
           std::tuple(b.ex_date, b.kind != CorporateAction::Kind::kSplit);
  });

  BacktestResult result;
  result.dates.reserve(bars.size());
  result.equity.reserve(bars.size());
  result.position.reserve(bars.size());
  Simulator sim(config);
  const size_t warmup = static_cast<size_t>(std::max(0, strategy.warmup_bars()));
  std::optional<double> pending;  // decided at the previous close, executed at this open
  size_t next_action = 0;
  for (size_t t = 0; t < bars.size(); ++t) {
    // Actions ex after the previous session and by this one, before this session's open.
    while (next_action < actions.size() && actions[next_action].ex_date <= bars[t].session_date) {
      const CorporateAction& a = actions[next_action++];
      if (t == 0) continue;  // nothing held yet
      if (a.kind == CorporateAction::Kind::kSplit) {
        sim.split(a.split_ratio, bars[t - 1].close);
      } else {
        sim.dividend(a.cash_amount, bars[t - 1].close);
      }
    }
    if (pending) sim.rebalance(bars[t], *pending);
    result.dates.push_back(bars[t].session_date);
    result.equity.push_back(sim.equity_at(bars[t].close));
    result.position.push_back(sim.qty());

    // The strategy sees bars [0, t] only: the span ends at the bar just closed.
    double exposure = 0;
    if (t + 1 >= warmup) {
      exposure = strategy.target_exposure(std::span<const Bar>(signal.data(), t + 1));
      if (!std::isfinite(exposure)) {
        throw Error::Internal(fmt::format("strategy {} returned a non-finite exposure on {}",
                                          strategy.name(), bars[t].session_date.to_string()));
      }
      exposure = std::clamp(exposure, -1.0, 1.0);
    }
    pending = exposure;
  }
  result.trades = std::move(sim.trades());
  result.splits_applied = sim.splits();
  result.dividends_paid = sim.dividends();
  result.metrics = compute_metrics(result.dates, result.equity, sim.traded_notional(),
                                   static_cast<int>(result.trades.size()));
  return result;
}

Metrics compute_metrics(const std::vector<Date>& dates, const std::vector<double>& equity,
                        double traded_notional, int trades) {
  if (dates.size() != equity.size() || equity.empty()) {
    throw Error::InvalidInput(fmt::format(
        "compute_metrics: need equally many dates and equity points (>= 1), got {} and {}",
        dates.size(), equity.size()));
  }
  Metrics m;
  m.trades = trades;
  m.days = static_cast<int>(equity.size());
  m.final_equity = equity.back();
  const double first = equity.front();
  m.total_return = first != 0 ? equity.back() / first - 1.0 : 0.0;

  const double years = (dates.back() - dates.front()) / 365.25;
  if (years > 0 && first > 0) {
    m.cagr = equity.back() > 0 ? std::pow(equity.back() / first, 1.0 / years) - 1.0 : -1.0;
  }

  // Daily returns: mean and sample stdev (two-pass).
  const size_t n = equity.size() - 1;
  if (n >= 2) {
    std::vector<double> r(n);
    for (size_t i = 0; i < n; ++i) r[i] = equity[i + 1] / equity[i] - 1.0;
    double mean = 0;
    for (double x : r) mean += x;
    mean /= static_cast<double>(n);
    double ss = 0;
    for (double x : r) ss += (x - mean) * (x - mean);
    const double sd = std::sqrt(ss / static_cast<double>(n - 1));
    // Returns equal up to rounding (constant growth) have no volatility, and no Sharpe ratio
    // rather than a meaningless huge one.
    if (sd > 1e-12) {
      m.annual_volatility = sd * std::sqrt(252.0);
      m.sharpe = mean / sd * std::sqrt(252.0);
    }
  }

  double peak = equity.front();
  for (double e : equity) {
    peak = std::max(peak, e);
    if (peak > 0) m.max_drawdown = std::max(m.max_drawdown, 1.0 - e / peak);
  }

  if (years > 0) {
    double mean_equity = 0;
    for (double e : equity) mean_equity += e;
    mean_equity /= static_cast<double>(equity.size());
    if (mean_equity > 0) m.turnover = traded_notional / mean_equity / years;
  }
  return m;
}

}  // namespace trib::trading::legacy

#include "trib/trading/metrics.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "trib/core/error.hpp"

namespace trib::trading {

Metrics compute_metrics(const std::vector<Date>& dates, const std::vector<double>& equity, double risk_free_rate,
                        const std::vector<double>* gross) {
  if (dates.size() != equity.size() || equity.empty() || (gross != nullptr && gross->size() != equity.size())) {
    throw Error::InvalidInput(fmt::format("metrics: need as many dates as equity points (>= 1), got {} and {}",
                                          dates.size(), equity.size()));
  }
  Metrics m;
  m.start = dates.front();
  m.end = dates.back();
  m.sessions = static_cast<int>(equity.size()) - 1;
  m.initial_equity = equity.front();
  m.final_equity = equity.back();
  m.risk_free_rate = risk_free_rate;
  const double first = equity.front();
  m.total_return = first != 0 ? equity.back() / first - 1.0 : 0.0;
  const double years = (dates.back() - dates.front()) / 365.25;
  if (years > 0 && first > 0) {
    m.cagr = equity.back() > 0 ? std::pow(equity.back() / first, 1.0 / years) - 1.0 : -1.0;
  }

  const size_t n = equity.size() - 1;
  const double rf = std::pow(1.0 + risk_free_rate, 1.0 / 252.0) - 1.0;
  if (n >= 2) {
    std::vector<double> r(n);
    for (size_t i = 0; i < n; ++i) r[i] = equity[i + 1] / equity[i] - 1.0;
    double mean = 0, mean_excess = 0;
    for (double x : r) {
      mean += x;
      mean_excess += x - rf;
    }
    mean /= static_cast<double>(n);
    mean_excess /= static_cast<double>(n);
    double ss = 0, ss_excess = 0, downside = 0;
    for (double x : r) {
      ss += (x - mean) * (x - mean);
      const double e = x - rf;
      ss_excess += (e - mean_excess) * (e - mean_excess);
      if (e < 0) downside += e * e;
    }
    const double sd = std::sqrt(ss / static_cast<double>(n - 1));
    const double sd_excess = std::sqrt(ss_excess / static_cast<double>(n - 1));
    const double dd = std::sqrt(downside / static_cast<double>(n));
    // Returns equal up to rounding have no volatility, and no ratio rather than a huge one.
    if (sd > 1e-12) m.annual_volatility = sd * std::sqrt(252.0);
    if (sd_excess > 1e-12) m.sharpe = mean_excess / sd_excess * std::sqrt(252.0);
    if (dd > 1e-12) m.sortino = mean_excess / dd * std::sqrt(252.0);
  }

  // Drawdown: the deepest fall from a running peak, when it started and ended, and when the
  // curve first regained that peak.
  size_t peak = 0, worst_peak = 0, worst_trough = 0;
  for (size_t i = 0; i < equity.size(); ++i) {
    if (equity[i] > equity[peak]) peak = i;
    if (equity[peak] > 0) {
      const double dd = 1.0 - equity[i] / equity[peak];
      if (dd > m.max_drawdown) {
        m.max_drawdown = dd;
        worst_peak = peak;
        worst_trough = i;
      }
    }
  }
  if (m.max_drawdown > 0) {
    m.drawdown_peak = dates[worst_peak];
    m.drawdown_trough = dates[worst_trough];
    for (size_t i = worst_trough + 1; i < equity.size(); ++i) {
      if (equity[i] >= equity[worst_peak]) {
        m.drawdown_recovery = dates[i];
        break;
      }
    }
    m.calmar = m.cagr / m.max_drawdown;
  }
  if (gross != nullptr && n >= 1) {
    double sum = 0;
    for (size_t i = 1; i < equity.size(); ++i) sum += equity[i] > 0 ? (*gross)[i] / equity[i] : 0.0;
    m.exposure = sum / static_cast<double>(n);
  }
  return m;
}

}  // namespace trib::trading

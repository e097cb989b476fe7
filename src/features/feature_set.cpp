// compute_basic_features: pure computation over bars (no lake or catalog), kept apart from the
// writer so it links and tests without them.
#include <cmath>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "trib/core/error.hpp"
#include "trib/features/feature_set.hpp"
#include "trib/features/indicators.hpp"

namespace trib::features {

FeatureFrame compute_basic_features(const std::vector<Bar>& bars) {
  FeatureFrame frame;
  const size_t n = bars.size();
  frame.ts_ns.reserve(n);
  frame.session_date.reserve(n);
  frame.close.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    if (i > 0 && bars[i].ts_ns <= bars[i - 1].ts_ns) {
      throw Error::InvalidInput(fmt::format(
          "compute_basic_features: bars must be strictly ascending by ts (row {} ts {} after {})",
          i, bars[i].ts_ns, bars[i - 1].ts_ns));
    }
    frame.ts_ns.push_back(bars[i].ts_ns);
    frame.session_date.push_back(bars[i].session_date);
    frame.close.push_back(bars[i].close);
  }

  const std::span<const double> close(frame.close);
  std::vector<double> log_return = log_returns(close);
  std::vector<double> volatility = rolling_stddev(log_return, 20);
  const double annualise = std::sqrt(252.0);
  for (double& v : volatility) v *= annualise;  // NaN stays NaN

  frame.columns.emplace_back("sma_20", sma(close, 20));
  frame.columns.emplace_back("sma_50", sma(close, 50));
  frame.columns.emplace_back("ema_12", ema(close, 12));
  frame.columns.emplace_back("ema_26", ema(close, 26));
  frame.columns.emplace_back("rsi_14", rsi(close, 14));
  frame.columns.emplace_back("log_return", std::move(log_return));
  frame.columns.emplace_back("volatility_20", std::move(volatility));
  return frame;
}

}  // namespace trib::features

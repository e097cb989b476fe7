// features: the indicator library and feature sets written to the lake's feature zone.
// Indicator conventions follow TA-Lib (the reference the tests compare against): outputs are
// aligned with the input, NaN where the indicator is not yet defined (the "lookback").
#pragma once

#include <span>
#include <vector>

namespace trib::features {

// Simple moving average; out[i] defined for i >= period-1.
std::vector<double> sma(std::span<const double> values, int period);
// Exponential moving average with k = 2/(period+1), seeded with the SMA of the first `period`
// values (TA-Lib's default); out[i] defined for i >= period-1.
std::vector<double> ema(std::span<const double> values, int period);
// Wilder's RSI as TA-Lib computes it: average gain/loss seeded with the simple mean of the first
// `period` changes, then Wilder smoothing; out[i] defined for i >= period. 100 when there is no
// loss, 0 when there is no gain, 50 (TA-Lib: 0) when there are neither.
std::vector<double> rsi(std::span<const double> values, int period = 14);
// ln(p[i] / p[i-1]); out[0] = NaN.
std::vector<double> log_returns(std::span<const double> prices);
// Sample standard deviation (n-1) of the last `window` values; NaN while fewer than `window`
// defined values are available. Multiply by sqrt(252) for annualised daily volatility.
std::vector<double> rolling_stddev(std::span<const double> values, int window);

}  // namespace trib::features

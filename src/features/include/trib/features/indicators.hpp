// features: the indicator library and feature sets written to the lake's feature zone.
// Indicator conventions follow TA-Lib (the reference the tests compare against): outputs are
// aligned with the input, NaN where the indicator is not yet defined (the "lookback").
// Non-finite inputs (NaN, inf) are gaps, an extension of TA-Lib (which has no notion of them):
// the output is NaN at a gap and the indicator restarts after it, lookback included, so leading
// NaNs (e.g. log_returns()[0]) simply shift the first defined index.
// Invalid periods throw Error::InvalidInput (period < 1; window < 2 for rolling_stddev).
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
// ln(p[i] / p[i-1]); out[0] = NaN, and NaN where either price is not finite and positive.
std::vector<double> log_returns(std::span<const double> prices);
// Sample standard deviation (n-1) of the last `window` values; NaN while fewer than `window`
// defined values are available. Multiply by sqrt(252) for annualised daily volatility.
std::vector<double> rolling_stddev(std::span<const double> values, int window);

}  // namespace trib::features

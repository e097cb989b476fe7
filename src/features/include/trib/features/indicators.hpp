// features: the indicator library and feature sets written to the lake's feature zone.
// Indicator conventions follow TA-Lib (the reference the tests compare against): outputs are
// aligned with the input, NaN where the indicator is not yet defined (the "lookback").
// Non-finite inputs (NaN, inf) are gaps, an extension of TA-Lib (which has no notion of them):
// the output is NaN at a gap and the indicator restarts after it, lookback included, so leading
// NaNs (e.g. log_returns()[0]) simply shift the first defined index.
// Invalid periods throw Error::InvalidInput (period < 1; window < 2 for rolling_stddev).
// The TA-Lib family below (issue 11) also lists itself in indicator_specs() (features/registry.hpp)
// under TA-Lib's names, parameters and outputs, for the CLI, the expression language and the
// data-driven tests against TA-Lib.
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

// ---- TA-Lib family (lookbacks as TA-Lib's; first defined index = lookback) ----
// Weighted moving average, weights 1..period (newest heaviest); lookback period-1.
std::vector<double> wma(std::span<const double> values, int period);
// x[i] - x[i-period] (MOM), (x[i]/x[i-period] - 1) x 100 (ROC), x[i]/x[i-period] - 1 (ROCP),
// x[i]/x[i-period] (ROCR); lookback period. A zero base gives 0, as TA-Lib.
std::vector<double> mom(std::span<const double> values, int period);
std::vector<double> roc(std::span<const double> values, int period);
std::vector<double> rocp(std::span<const double> values, int period);
std::vector<double> rocr(std::span<const double> values, int period);
// True range: max(high, previous close) - min(low, previous close); lookback 1.
std::vector<double> trange(std::span<const double> high, std::span<const double> low, std::span<const double> close);
// Wilder's average true range: the mean of the first `period` true ranges, then
// (prev x (period-1) + tr) / period; lookback period. NATR = ATR / close x 100.
std::vector<double> atr(std::span<const double> high, std::span<const double> low, std::span<const double> close,
                        int period);
std::vector<double> natr(std::span<const double> high, std::span<const double> low, std::span<const double> close,
                         int period);
// Population variance (VAR) and standard deviation x nbdev (STDDEV) over `period` values, as
// TA-Lib computes them (mean of squares less the squared mean, from running sums); lookback period-1.
std::vector<double> var(std::span<const double> values, int period, double nbdev = 1);
std::vector<double> stddev(std::span<const double> values, int period, double nbdev = 1);
// Bollinger bands on the SMA: middle = SMA, upper/lower = middle +/- nbdev x population stddev.
struct Bands {
  std::vector<double> upper, middle, lower;
};
Bands bbands(std::span<const double> values, int period, double nbdevup, double nbdevdn);
// (max + min) / 2 of the last `period` values (MIDPOINT) or of highs and lows (MIDPRICE); lookback period-1.
std::vector<double> midpoint(std::span<const double> values, int period);
std::vector<double> midprice(std::span<const double> high, std::span<const double> low, int period);
// Williams %R: (highest high - close) / (highest high - lowest low) x -100 (0 on a flat window); lookback period-1.
std::vector<double> willr(std::span<const double> high, std::span<const double> low, std::span<const double> close,
                          int period);
// On-balance volume from volume[0]; balance of power (close-open)/(high-low) (0 on a flat bar);
// Chaikin's accumulation/distribution line. Lookback 0.
// Double and triple EMA (2e1 - e2; 3e1 - 3e2 + e3, each EMA of the previous one): lookback
// 2(period-1) and 3(period-1). TRIX: the 1-period percent rate of change of the triple EMA.
std::vector<double> dema(std::span<const double> values, int period);
std::vector<double> tema(std::span<const double> values, int period);
std::vector<double> trix(std::span<const double> values, int period);
// Chande momentum oscillator: 100 (gain - loss) / (gain + loss) with RSI's Wilder smoothing (0
// when both are 0); lookback period.
std::vector<double> cmo(std::span<const double> values, int period);
// Least-squares line over the last `period` values: its value today (LINEARREG), slope, intercept
// (at the oldest point) and angle in degrees; lookback period-1.
struct LinearFit {
  std::vector<double> value, slope, intercept, angle;
};
LinearFit linearreg(std::span<const double> values, int period);
// Triangular moving average: the SMA of an SMA (periods ceil(n/2) and floor(n/2)+1); lookback period-1.
std::vector<double> trima(std::span<const double> values, int period);
// Commodity channel index on the typical price (h+l+c)/3: (tp - SMA) / (0.015 x mean absolute
// deviation), 0 when the deviation is 0; lookback period-1.
std::vector<double> cci(std::span<const double> high, std::span<const double> low, std::span<const double> close,
                        int period);
// Aroon over the last period+1 bars: 100 x (period - bars since the highest high / lowest low) /
// period (ties: the latest); the oscillator is up - down. Lookback period.
struct Aroon {
  std::vector<double> down, up;
};
Aroon aroon(std::span<const double> high, std::span<const double> low, int period);
// Money flow index: 100 x positive / (positive + negative) money flow (typical price x volume,
// by the typical price's direction) over `period` bars, 0 when the total is below 1; lookback period.
std::vector<double> mfi(std::span<const double> high, std::span<const double> low, std::span<const double> close,
                        std::span<const double> volume, int period);
// Pearson correlation of two series over `period` bars (0 on a flat window); lookback period-1.
std::vector<double> correl(std::span<const double> x, std::span<const double> y, int period);
std::vector<double> obv(std::span<const double> close, std::span<const double> volume);
std::vector<double> bop(std::span<const double> open, std::span<const double> high, std::span<const double> low,
                        std::span<const double> close);
std::vector<double> ad(std::span<const double> high, std::span<const double> low, std::span<const double> close,
                       std::span<const double> volume);

}  // namespace trib::features

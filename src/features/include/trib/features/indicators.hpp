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

// The most used indicators also write into the caller's buffers (as TA-Lib's C functions do), one
// value per input row, NaN where undefined: no allocation, no pre-fill, e.g. straight into a NumPy
// array. Each equals its vector-returning form; Error::InvalidInput when a buffer's length differs.
void sma_into(std::span<const double> values, int period, std::span<double> out);
void ema_into(std::span<const double> values, int period, std::span<double> out);
void rsi_into(std::span<const double> values, int period, std::span<double> out);  // TA-Lib's RSI (rsi_talib)
void atr_into(std::span<const double> high, std::span<const double> low, std::span<const double> close, int period,
              std::span<double> out);
void bbands_into(std::span<const double> values, int period, double nbdevup, double nbdevdn, std::span<double> upper,
                 std::span<double> middle, std::span<double> lower);
void macd_into(std::span<const double> values, int fast, int slow, int signal, std::span<double> macd,
               std::span<double> signal_line, std::span<double> hist);
void adx_into(std::span<const double> high, std::span<const double> low, std::span<const double> close, int period,
              std::span<double> out);
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
  // Which outputs to fill (the others stay empty).
  enum Output : unsigned { kValue = 1, kSlope = 2, kIntercept = 4, kAngle = 8, kAll = 15 };
};
LinearFit linearreg(std::span<const double> values, int period, unsigned outputs = LinearFit::kAll);
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
// TA-Lib's moving-average types (its MAType numbers): SMA 0, EMA 1, WMA 2, DEMA 3, TEMA 4,
// TRIMA 5, KAMA 6, MAMA 7 (not supported: Error::InvalidInput), T3 8 (vfactor 0.7). Period 1
// is the input itself, whatever the type.
enum class MaType { sma = 0, ema = 1, wma = 2, dema = 3, tema = 4, trima = 5, kama = 6, mama = 7, t3 = 8 };
MaType ma_type(double number);  // Error::InvalidInput naming the accepted numbers
int ma_lookback(MaType type, int period);
std::vector<double> moving_average(std::span<const double> values, int period, MaType type);
// Kaufman's adaptive moving average (fast 2, slow 30), seeded with the previous value; lookback period.
std::vector<double> kama(std::span<const double> values, int period);
// Tillson's T3: six chained EMAs, each seeded with the mean of its input's first `period`
// values, combined with the volume factor; lookback 6(period-1).
std::vector<double> t3(std::span<const double> values, int period, double vfactor = 0.7);
// MACD: fast and slow EMAs both seeded on the window ending where the slow one starts (TA-Lib's
// rule), their difference, its EMA(signal) and the histogram; every output starts at
// slow-1 + signal-1. MACDFIX is MACD(12, 26) with TA-Lib's fixed factors 0.15 and 0.075.
// MACDEXT takes a moving-average type per line; a line's average starts as late as the
// slowest one's lookback allows, as TA-Lib computes it.
struct Macd {
  std::vector<double> macd, signal, hist;
};
Macd macd(std::span<const double> values, int fast, int slow, int signal);
Macd macdfix(std::span<const double> values, int signal);
Macd macdext(std::span<const double> values, int fast, MaType fast_type, int slow, MaType slow_type, int signal,
             MaType signal_type);
// Absolute (APO) and percent (PPO) price oscillators: fast MA - slow MA, or that over the slow
// MA x 100 (0 when the slow MA is 0); lookback the slow MA's.
std::vector<double> apo(std::span<const double> values, int fast, int slow, MaType type);
std::vector<double> ppo(std::span<const double> values, int fast, int slow, MaType type);
// Stochastics. Fast %K = 100 (close - lowest low) / (highest high - lowest low) over fastk
// bars (0 on a flat window); STOCH smooths it twice (slow %K, slow %D), STOCHF once (fast %D);
// every output starts where the last smoothing does. STOCHRSI is STOCHF of RSI(timeperiod).
struct Stoch {
  std::vector<double> k, d;
};
Stoch stoch(std::span<const double> high, std::span<const double> low, std::span<const double> close, int fastk,
            int slowk, MaType slowk_type, int slowd, MaType slowd_type);
Stoch stochf(std::span<const double> high, std::span<const double> low, std::span<const double> close, int fastk,
             int fastd, MaType fastd_type);
Stoch stochrsi(std::span<const double> values, int period, int fastk, int fastd, MaType fastd_type);
// RSI exactly as TA-Lib (0, not 50, when a window has neither gain nor loss).
std::vector<double> rsi_talib(std::span<const double> values, int period);
// Wilder's directional movement: +DM/-DM summed over the first period-1 bars then smoothed
// (lookback period-1); +DI/-DI = 100 DM / TR (lookback period); DX = 100 |+DI - -DI| / (+DI + -DI)
// (lookback period; a flat bar repeats the previous DX); ADX = DX's Wilder average (lookback
// 2 period - 1); ADXR = (ADX + ADX period-1 bars ago) / 2 (lookback 3 period - 2).
struct Directional {
  std::vector<double> plus_dm, minus_dm, plus_di, minus_di, dx, adx;
  // Which outputs to fill (the others stay empty): one indicator need not write six series.
  enum Output : unsigned { kPlusDm = 1, kMinusDm = 2, kPlusDi = 4, kMinusDi = 8, kDx = 16, kAdx = 32, kAll = 63 };
};
Directional directional(std::span<const double> high, std::span<const double> low, std::span<const double> close,
                        int period, unsigned outputs = Directional::kAll);
std::vector<double> adxr(std::span<const double> high, std::span<const double> low, std::span<const double> close,
                         int period);
// Chaikin A/D oscillator: EMA(fast) - EMA(slow) of the A/D line, both seeded with its first value
// (not a mean: TA-Lib's rule); lookback max(fast, slow) - 1.
std::vector<double> adosc(std::span<const double> high, std::span<const double> low, std::span<const double> close,
                          std::span<const double> volume, int fast, int slow);
// Ultimate oscillator over three periods (taken shortest first, weights 4, 2, 1); lookback the longest.
std::vector<double> ultosc(std::span<const double> high, std::span<const double> low, std::span<const double> close,
                           int period1, int period2, int period3);
// Beta of y's one-bar returns on x's over `period` returns (0 on a flat window); lookback period.
std::vector<double> beta(std::span<const double> x, std::span<const double> y, int period);
// Wilder's parabolic SAR as TA-Lib starts it (direction from the first two bars' -DM, the first
// bar's extreme as the first SAR); lookback 1.
std::vector<double> sar(std::span<const double> high, std::span<const double> low, double acceleration = 0.02,
                        double maximum = 0.2);
std::vector<double> obv(std::span<const double> close, std::span<const double> volume);
std::vector<double> bop(std::span<const double> open, std::span<const double> high, std::span<const double> low,
                        std::span<const double> close);
std::vector<double> ad(std::span<const double> high, std::span<const double> low, std::span<const double> close,
                       std::span<const double> volume);

}  // namespace trib::features

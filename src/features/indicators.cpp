#include "trib/features/indicators.hpp"

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <limits>
#include <string>

#include <fmt/format.h>

#include "trib/core/error.hpp"

namespace trib::features {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

void require_period(int period, int min, const char* what) {
  if (period < min) {
    throw Error::InvalidInput(fmt::format("{}: period must be >= {}, got {}", what, min, period));
  }
}

// Neumaier-compensated running sum: adding and removing values for millions of steps keeps the
// error at a few ulps of the window sum instead of growing with the series length.
class CompensatedSum {
 public:
  void add(double x) {
    double t = sum_ + x;
    if (std::fabs(sum_) >= std::fabs(x)) {
      comp_ += (sum_ - t) + x;
    } else {
      comp_ += (x - t) + sum_;
    }
    sum_ = t;
  }
  double value() const { return sum_ + comp_; }
  void reset() { sum_ = comp_ = 0; }

 private:
  double sum_ = 0, comp_ = 0;
};

// Calls f(begin, end) for each run of rows where every input is finite (a gap restarts the
// indicator, lookback included); the inputs must be the same length.
template <typename F>
void per_finite_run(std::initializer_list<std::span<const double>> inputs, F f) {
  const size_t n = inputs.begin()->size();
  for (const auto& in : inputs) {
    if (in.size() != n) {
      throw Error::InvalidInput(fmt::format("indicator inputs differ in length: {} and {}", n, in.size()));
    }
  }
  auto finite = [&](size_t i) {
    return std::all_of(inputs.begin(), inputs.end(), [&](const auto& in) { return std::isfinite(in[i]); });
  };
  size_t i = 0;
  while (i < n) {
    while (i < n && !finite(i)) ++i;
    const size_t begin = i;
    while (i < n && finite(i)) ++i;
    if (begin < i) f(begin, i);
  }
}

// TA-Lib's test for "no spread": below 1e-14 counts as zero or negative (checked against its
// STDDEV on EEM's 1998 cents-sized adjusted prices).
bool zero_or_negative(double v) { return v < 1e-14; }

// x[i] against x[i - period] within each finite run.
template <typename F>
std::vector<double> versus_past(std::span<const double> values, int period, const char* what, F f) {
  require_period(period, 1, what);
  std::vector<double> out(values.size(), kNaN);
  const size_t p = static_cast<size_t>(period);
  per_finite_run({values}, [&](size_t b, size_t e) {
    for (size_t i = b + p; i < e; ++i) out[i] = f(values[i], values[i - p]);
  });
  return out;
}

}  // namespace

std::vector<double> sma(std::span<const double> values, int period) {
  require_period(period, 1, "sma");
  std::vector<double> out(values.size(), kNaN);
  const size_t p = static_cast<size_t>(period);
  CompensatedSum sum;
  size_t run = 0;  // consecutive finite values ending at i
  for (size_t i = 0; i < values.size(); ++i) {
    if (!std::isfinite(values[i])) {  // a gap: the window restarts after it
      sum.reset();
      run = 0;
      continue;
    }
    sum.add(values[i]);
    ++run;
    if (run > p) sum.add(-values[i - p]);
    if (run >= p) out[i] = sum.value() / period;
  }
  return out;
}

std::vector<double> ema(std::span<const double> values, int period) {
  require_period(period, 1, "ema");
  std::vector<double> out(values.size(), kNaN);
  const double k = 2.0 / (period + 1.0);
  CompensatedSum seed;
  int run = 0;
  double prev = kNaN;
  for (size_t i = 0; i < values.size(); ++i) {
    const double x = values[i];
    if (!std::isfinite(x)) {
      seed.reset();
      run = 0;
      continue;
    }
    if (run < period) {
      seed.add(x);
      if (++run == period) out[i] = prev = seed.value() / period;
      continue;
    }
    // prev + k*(x - prev) is the same as TA-Lib's (x - prev)*k + prev.
    out[i] = prev = (x - prev) * k + prev;
  }
  return out;
}

std::vector<double> rsi(std::span<const double> values, int period) {
  require_period(period, 1, "rsi");
  std::vector<double> out(values.size(), kNaN);
  auto value_of = [](double gain, double loss) {
    const double total = gain + loss;
    return total > 0 ? 100.0 * gain / total : 50.0;
  };
  double gain = 0, loss = 0;
  int changes = 0;  // changes accumulated since the last (re)start
  for (size_t i = 1; i < values.size(); ++i) {
    if (!std::isfinite(values[i]) || !std::isfinite(values[i - 1])) {
      gain = loss = 0;
      changes = 0;
      continue;
    }
    const double change = values[i] - values[i - 1];
    const double up = change > 0 ? change : 0;
    const double down = change < 0 ? -change : 0;
    if (changes < period) {
      gain += up;
      loss += down;
      if (++changes == period) {
        gain /= period;
        loss /= period;
        out[i] = value_of(gain, loss);
      }
      continue;
    }
    gain = (gain * (period - 1) + up) / period;
    loss = (loss * (period - 1) + down) / period;
    out[i] = value_of(gain, loss);
  }
  return out;
}

std::vector<double> log_returns(std::span<const double> prices) {
  std::vector<double> out(prices.size(), kNaN);
  for (size_t i = 1; i < prices.size(); ++i) {
    const double a = prices[i - 1], b = prices[i];
    if (std::isfinite(a) && std::isfinite(b) && a > 0 && b > 0) out[i] = std::log(b / a);
  }
  return out;
}

std::vector<double> rolling_stddev(std::span<const double> values, int window) {
  require_period(window, 2, "rolling_stddev");
  std::vector<double> out(values.size(), kNaN);
  const size_t w = static_cast<size_t>(window);
  // Sliding Welford update (replace the oldest value by the newest), with an exact two-pass
  // recomputation every `window` steps so rounding cannot accumulate over long series.
  double mean = 0, m2 = 0;
  size_t run = 0, since_exact = 0;
  auto exact = [&](size_t end) {  // two-pass over values[end-w+1 .. end]
    double s = 0;
    for (size_t j = end + 1 - w; j <= end; ++j) s += values[j];
    mean = s / window;
    m2 = 0;
    for (size_t j = end + 1 - w; j <= end; ++j) m2 += (values[j] - mean) * (values[j] - mean);
    since_exact = 0;
  };
  for (size_t i = 0; i < values.size(); ++i) {
    if (!std::isfinite(values[i])) {
      run = 0;
      continue;
    }
    ++run;
    if (run < w) continue;
    if (run == w || since_exact + 1 >= w) {
      exact(i);
    } else {
      const double x_new = values[i], x_old = values[i - w];
      const double old_mean = mean;
      mean += (x_new - x_old) / window;
      m2 += (x_new - x_old) * (x_new - mean + x_old - old_mean);
      if (m2 < 0) m2 = 0;
      ++since_exact;
    }
    out[i] = std::sqrt(m2 / (window - 1));
  }
  return out;
}

std::vector<double> wma(std::span<const double> values, int period) {
  require_period(period, 1, "wma");
  std::vector<double> out(values.size(), kNaN);
  const size_t p = static_cast<size_t>(period);
  const double divider = period * (period + 1.0) / 2.0;
  per_finite_run({values}, [&](size_t b, size_t e) {
    if (e - b < p) return;
    // weighted = sum of (k+1) x[i-p+1+k]; plain = sum of the window. Sliding one step: weighted
    // loses the plain sum and gains p x the new value.
    double weighted = 0, plain = 0;
    for (size_t k = 0; k + 1 < p; ++k) {
      weighted += (k + 1.0) * values[b + k];
      plain += values[b + k];
    }
    for (size_t i = b + p - 1; i < e; ++i) {
      weighted += p * values[i];
      plain += values[i];
      out[i] = weighted / divider;
      weighted -= plain;
      plain -= values[i + 1 - p];
    }
  });
  return out;
}

std::vector<double> mom(std::span<const double> values, int period) {
  return versus_past(values, period, "mom", [](double x, double past) { return x - past; });
}
std::vector<double> roc(std::span<const double> values, int period) {
  return versus_past(values, period, "roc", [](double x, double past) { return past != 0 ? (x / past - 1.0) * 100.0 : 0.0; });
}
std::vector<double> rocp(std::span<const double> values, int period) {
  return versus_past(values, period, "rocp", [](double x, double past) { return past != 0 ? (x - past) / past : 0.0; });
}
std::vector<double> rocr(std::span<const double> values, int period) {
  return versus_past(values, period, "rocr", [](double x, double past) { return past != 0 ? x / past : 0.0; });
}

std::vector<double> trange(std::span<const double> high, std::span<const double> low, std::span<const double> close) {
  std::vector<double> out(close.size(), kNaN);
  per_finite_run({high, low, close}, [&](size_t b, size_t e) {
    for (size_t i = b + 1; i < e; ++i) {
      out[i] = std::max(high[i], close[i - 1]) - std::min(low[i], close[i - 1]);
    }
  });
  return out;
}

std::vector<double> atr(std::span<const double> high, std::span<const double> low, std::span<const double> close,
                        int period) {
  require_period(period, 1, "atr");
  if (period == 1) return trange(high, low, close);
  const std::vector<double> tr = trange(high, low, close);
  std::vector<double> out(close.size(), kNaN);
  const size_t p = static_cast<size_t>(period);
  per_finite_run({high, low, close}, [&](size_t b, size_t e) {
    if (e - b <= p) return;
    double sum = 0;
    for (size_t i = b + 1; i <= b + p; ++i) sum += tr[i];
    double prev = sum / period;
    out[b + p] = prev;
    for (size_t i = b + p + 1; i < e; ++i) {
      prev = (prev * (period - 1) + tr[i]) / period;
      out[i] = prev;
    }
  });
  return out;
}

std::vector<double> natr(std::span<const double> high, std::span<const double> low, std::span<const double> close,
                         int period) {
  std::vector<double> out = atr(high, low, close, period);
  for (size_t i = 0; i < out.size(); ++i) {
    if (std::isfinite(out[i])) out[i] = close[i] != 0 ? (out[i] / close[i]) * 100.0 : 0.0;
  }
  return out;
}

namespace {

// The mean and population variance (E[x^2] - E[x]^2) of each window of `period` finite values,
// from TA-Lib's running sums in its order (the newest in, the means taken, the oldest out), so
// the cancellation on a nearly flat window rounds as TA-Lib's VAR, STDDEV and BBANDS do.
void running_moments(std::span<const double> values, int period, std::vector<double>& mean,
                     std::vector<double>& variance) {
  mean.assign(values.size(), kNaN);
  variance.assign(values.size(), kNaN);
  const size_t p = static_cast<size_t>(period);
  per_finite_run({values}, [&](size_t b, size_t e) {
    if (e - b < p) return;
    double total1 = 0, total2 = 0;
    for (size_t i = b; i + 1 < b + p; ++i) {
      total1 += values[i];
      total2 += values[i] * values[i];
    }
    for (size_t i = b + p - 1; i < e; ++i) {
      total1 += values[i];
      total2 += values[i] * values[i];
      const double mean1 = total1 / period, mean2 = total2 / period;
      const double old = values[i + 1 - p];
      total1 -= old;
      total2 -= old * old;
      mean[i] = mean1;
      variance[i] = mean2 - mean1 * mean1;
    }
  });
}

}  // namespace

std::vector<double> var(std::span<const double> values, int period, double nbdev) {
  (void)nbdev;  // TA-Lib's VAR takes the parameter and ignores it
  require_period(period, 1, "var");
  std::vector<double> mean, variance;
  running_moments(values, period, mean, variance);
  return variance;
}

std::vector<double> stddev(std::span<const double> values, int period, double nbdev) {
  std::vector<double> out = var(values, period);
  for (double& v : out) {
    if (std::isfinite(v)) v = zero_or_negative(v) ? 0.0 : std::sqrt(v) * nbdev;
  }
  return out;
}

Bands bbands(std::span<const double> values, int period, double nbdevup, double nbdevdn) {
  require_period(period, 1, "bbands");
  Bands out;
  std::vector<double> variance;
  running_moments(values, period, out.middle, variance);
  out.upper.assign(values.size(), kNaN);
  out.lower.assign(values.size(), kNaN);
  for (size_t i = 0; i < values.size(); ++i) {
    if (!std::isfinite(variance[i])) continue;
    const double sd = zero_or_negative(variance[i]) ? 0.0 : std::sqrt(variance[i]);
    out.upper[i] = out.middle[i] + sd * nbdevup;
    out.lower[i] = out.middle[i] - sd * nbdevdn;
  }
  return out;
}

std::vector<double> midpoint(std::span<const double> values, int period) {
  return midprice(values, values, period);
}

std::vector<double> midprice(std::span<const double> high, std::span<const double> low, int period) {
  require_period(period, 1, "midprice");
  std::vector<double> out(high.size(), kNaN);
  const size_t p = static_cast<size_t>(period);
  per_finite_run({high, low}, [&](size_t b, size_t e) {
    for (size_t i = b + p - 1; i < e; ++i) {
      const double hi = *std::max_element(high.begin() + (i + 1 - p), high.begin() + i + 1);
      const double lo = *std::min_element(low.begin() + (i + 1 - p), low.begin() + i + 1);
      out[i] = (hi + lo) / 2.0;
    }
  });
  return out;
}

std::vector<double> willr(std::span<const double> high, std::span<const double> low, std::span<const double> close,
                          int period) {
  require_period(period, 1, "willr");
  std::vector<double> out(close.size(), kNaN);
  const size_t p = static_cast<size_t>(period);
  per_finite_run({high, low, close}, [&](size_t b, size_t e) {
    for (size_t i = b + p - 1; i < e; ++i) {
      const double hi = *std::max_element(high.begin() + (i + 1 - p), high.begin() + i + 1);
      const double lo = *std::min_element(low.begin() + (i + 1 - p), low.begin() + i + 1);
      const double scale = (hi - lo) / -100.0;
      out[i] = scale != 0 ? (hi - close[i]) / scale : 0.0;
    }
  });
  return out;
}

std::vector<double> obv(std::span<const double> close, std::span<const double> volume) {
  std::vector<double> out(close.size(), kNaN);
  per_finite_run({close, volume}, [&](size_t b, size_t e) {
    double balance = volume[b];
    out[b] = balance;
    for (size_t i = b + 1; i < e; ++i) {
      if (close[i] > close[i - 1]) balance += volume[i];
      else if (close[i] < close[i - 1]) balance -= volume[i];
      out[i] = balance;
    }
  });
  return out;
}

std::vector<double> bop(std::span<const double> open, std::span<const double> high, std::span<const double> low,
                        std::span<const double> close) {
  std::vector<double> out(close.size(), kNaN);
  per_finite_run({open, high, low, close}, [&](size_t b, size_t e) {
    for (size_t i = b; i < e; ++i) {
      const double range = high[i] - low[i];
      out[i] = zero_or_negative(range) ? 0.0 : (close[i] - open[i]) / range;
    }
  });
  return out;
}

std::vector<double> ad(std::span<const double> high, std::span<const double> low, std::span<const double> close,
                       std::span<const double> volume) {
  std::vector<double> out(close.size(), kNaN);
  per_finite_run({high, low, close, volume}, [&](size_t b, size_t e) {
    double line = 0;
    for (size_t i = b; i < e; ++i) {
      const double range = high[i] - low[i];
      if (range > 0.0) line += (((close[i] - low[i]) - (high[i] - close[i])) / range) * volume[i];
      out[i] = line;
    }
  });
  return out;
}

std::vector<double> dema(std::span<const double> values, int period) {
  const std::vector<double> e1 = ema(values, period), e2 = ema(e1, period);
  std::vector<double> out(values.size(), kNaN);
  for (size_t i = 0; i < out.size(); ++i) {
    if (std::isfinite(e2[i])) out[i] = 2.0 * e1[i] - e2[i];
  }
  return out;
}

std::vector<double> tema(std::span<const double> values, int period) {
  const std::vector<double> e1 = ema(values, period), e2 = ema(e1, period), e3 = ema(e2, period);
  std::vector<double> out(values.size(), kNaN);
  for (size_t i = 0; i < out.size(); ++i) {
    if (std::isfinite(e3[i])) out[i] = 3.0 * e1[i] - 3.0 * e2[i] + e3[i];
  }
  return out;
}

std::vector<double> trix(std::span<const double> values, int period) {
  const std::vector<double> e1 = ema(values, period), e2 = ema(e1, period), e3 = ema(e2, period);
  return roc(e3, 1);
}

std::vector<double> cmo(std::span<const double> values, int period) {
  require_period(period, 1, "cmo");
  std::vector<double> out(values.size(), kNaN);
  per_finite_run({values}, [&](size_t b, size_t e) {
    double gain = 0, loss = 0;
    int changes = 0;
    for (size_t i = b + 1; i < e; ++i) {
      const double change = values[i] - values[i - 1];
      const double up = change > 0 ? change : 0, down = change < 0 ? -change : 0;
      if (changes < period) {
        gain += up;
        loss += down;
        if (++changes < period) continue;
        gain /= period;
        loss /= period;
      } else {
        gain = (gain * (period - 1) + up) / period;
        loss = (loss * (period - 1) + down) / period;
      }
      const double total = gain + loss;
      out[i] = total != 0 ? 100.0 * ((gain - loss) / total) : 0.0;
    }
  });
  return out;
}

LinearFit linearreg(std::span<const double> values, int period) {
  require_period(period, 2, "linearreg");
  const size_t n = values.size(), p = static_cast<size_t>(period);
  LinearFit out{std::vector<double>(n, kNaN), std::vector<double>(n, kNaN), std::vector<double>(n, kNaN),
                std::vector<double>(n, kNaN)};
  // x counts back from today (0) to the oldest (period-1), as TA-Lib does; the slope comes out in
  // time order because the divisor is Sx^2 - n Sxx.
  const double sum_x = period * (period - 1) * 0.5;
  const double sum_x2 = period * (period - 1.0) * (2.0 * period - 1) / 6.0;
  const double divisor = sum_x * sum_x - period * sum_x2;
  constexpr double kDegrees = 180.0 / 3.14159265358979323846;
  per_finite_run({values}, [&](size_t b, size_t e) {
    for (size_t i = b + p - 1; i < e; ++i) {
      double sum_xy = 0, sum_y = 0;
      for (size_t k = 0; k < p; ++k) {
        sum_y += values[i - k];
        sum_xy += static_cast<double>(k) * values[i - k];
      }
      const double m = (period * sum_xy - sum_x * sum_y) / divisor;
      const double intercept = (sum_y - m * sum_x) / period;
      out.slope[i] = m;
      out.intercept[i] = intercept;
      out.value[i] = intercept + m * (period - 1);
      out.angle[i] = std::atan(m) * kDegrees;
    }
  });
  return out;
}

std::vector<double> trima(std::span<const double> values, int period) {
  require_period(period, 1, "trima");
  const int first = period % 2 == 1 ? (period + 1) / 2 : period / 2;
  const int second = period % 2 == 1 ? (period + 1) / 2 : period / 2 + 1;
  return sma(sma(values, first), second);
}

std::vector<double> cci(std::span<const double> high, std::span<const double> low, std::span<const double> close,
                        int period) {
  require_period(period, 1, "cci");
  std::vector<double> out(close.size(), kNaN);
  const size_t p = static_cast<size_t>(period);
  std::vector<double> tp(close.size());
  for (size_t i = 0; i < tp.size(); ++i) tp[i] = (high[i] + low[i] + close[i]) / 3;
  per_finite_run({high, low, close}, [&](size_t b, size_t e) {
    for (size_t i = b + p - 1; i < e; ++i) {
      double sum = 0;
      for (size_t k = i + 1 - p; k <= i; ++k) sum += tp[k];
      const double average = sum / period;
      double deviation = 0;
      for (size_t k = i + 1 - p; k <= i; ++k) deviation += std::fabs(tp[k] - average);
      const double distance = tp[i] - average;
      out[i] = distance != 0.0 && deviation != 0.0 ? distance / (0.015 * (deviation / period)) : 0.0;
    }
  });
  return out;
}

Aroon aroon(std::span<const double> high, std::span<const double> low, int period) {
  require_period(period, 1, "aroon");
  Aroon out{std::vector<double>(high.size(), kNaN), std::vector<double>(high.size(), kNaN)};
  const size_t p = static_cast<size_t>(period);
  const double factor = 100.0 / period;
  per_finite_run({high, low}, [&](size_t b, size_t e) {
    for (size_t i = b + p; i < e; ++i) {
      size_t hi = i - p, lo = i - p;
      for (size_t k = i - p; k <= i; ++k) {
        if (high[k] >= high[hi]) hi = k;
        if (low[k] <= low[lo]) lo = k;
      }
      out.up[i] = factor * static_cast<double>(p - (i - hi));
      out.down[i] = factor * static_cast<double>(p - (i - lo));
    }
  });
  return out;
}

std::vector<double> mfi(std::span<const double> high, std::span<const double> low, std::span<const double> close,
                        std::span<const double> volume, int period) {
  require_period(period, 1, "mfi");
  std::vector<double> out(close.size(), kNaN);
  const size_t p = static_cast<size_t>(period);
  per_finite_run({high, low, close, volume}, [&](size_t b, size_t e) {
    if (e - b <= p) return;
    // The signed money flow of each bar after the first (positive up, negative down, 0 flat).
    std::vector<double> positive(e - b, 0), negative(e - b, 0);
    double previous = (high[b] + low[b] + close[b]) / 3;
    for (size_t i = b + 1; i < e; ++i) {
      const double tp = (high[i] + low[i] + close[i]) / 3;
      if (tp > previous) positive[i - b] = tp * volume[i];
      else if (tp < previous) negative[i - b] = tp * volume[i];
      previous = tp;
    }
    for (size_t i = b + p; i < e; ++i) {
      double pos = 0, neg = 0;
      for (size_t k = i + 1 - p; k <= i; ++k) {
        pos += positive[k - b];
        neg += negative[k - b];
      }
      const double total = pos + neg;
      out[i] = total < 1.0 ? 0.0 : 100.0 * (pos / total);
    }
  });
  return out;
}

std::vector<double> correl(std::span<const double> x, std::span<const double> y, int period) {
  require_period(period, 1, "correl");
  std::vector<double> out(x.size(), kNaN);
  const size_t p = static_cast<size_t>(period);
  per_finite_run({x, y}, [&](size_t b, size_t e) {
    if (e - b < p) return;
    // Running sums in TA-Lib's order (the oldest value out, then the newest in), so the
    // cancellation in the sums of squares rounds as its does.
    double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
    auto value = [&] {
      const double spread = (sxx - ((sx * sx) / period)) * (syy - ((sy * sy) / period));
      return zero_or_negative(spread) ? 0.0 : (sxy - ((sx * sy) / period)) / std::sqrt(spread);
    };
    for (size_t k = b; k < b + p; ++k) {
      sx += x[k];
      sxx += x[k] * x[k];
      sxy += x[k] * y[k];
      sy += y[k];
      syy += y[k] * y[k];
    }
    out[b + p - 1] = value();
    for (size_t i = b + p; i < e; ++i) {
      const double ox = x[i - p], oy = y[i - p];
      sx -= ox;
      sxx -= ox * ox;
      sxy -= ox * oy;
      sy -= oy;
      syy -= oy * oy;
      sx += x[i];
      sxx += x[i] * x[i];
      sxy += x[i] * y[i];
      sy += y[i];
      syy += y[i] * y[i];
      out[i] = value();
    }
  });
  return out;
}

}  // namespace trib::features

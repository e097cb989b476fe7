#include "trib/features/indicators.hpp"

#include <cmath>
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

}  // namespace trib::features

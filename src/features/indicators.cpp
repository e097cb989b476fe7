#include "trib/features/indicators.hpp"

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <limits>
#include <string>

#include <fmt/format.h>

#include "trib/core/parallel_for.hpp"
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

// The rows an _into function leaves undefined, written NaN as it goes: upto(i) fills the outputs
// from where the last write ended to i; written(e) records that rows up to e hold values.
class Undefined {
 public:
  Undefined(std::initializer_list<std::span<double>> outputs, size_t n) : outputs_(outputs) {
    for (const auto& o : outputs_) {
      if (o.size() != n) {
        throw Error::InvalidInput(fmt::format("indicator output buffer holds {} rows for {} input rows", o.size(), n));
      }
    }
  }
  void upto(size_t to) {
    if (to <= done_) return;
    for (auto& o : outputs_) std::fill(o.begin() + static_cast<std::ptrdiff_t>(done_), o.begin() + static_cast<std::ptrdiff_t>(to), kNaN);
    done_ = to;
  }
  void written(size_t to) { done_ = std::max(done_, to); }

 private:
  std::vector<std::span<double>> outputs_;
  size_t done_ = 0;
};

// Long series are worked on in chunks of kChunkRows on all cores (over_chunks below).
constexpr size_t kParallelRows = size_t{1} << 20;
constexpr size_t kChunkRows = size_t{1} << 18;

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
  // The common case first: no gap anywhere is one run, found with one tight pass per input
  // (chunks on all cores for a long series).
  auto finite_between = [&](size_t from, size_t to) {
    bool ok = true;
    for (const auto& in : inputs) {
      for (size_t i = from; i < to; ++i) ok &= std::isfinite(in[i]);
    }
    return ok;
  };
  bool all_finite = true;
  if (n < kParallelRows) {
    all_finite = finite_between(0, n);
  } else {
    const size_t chunks = (n + kChunkRows - 1) / kChunkRows;
    std::vector<char> ok(chunks);
    parallel_for(chunks, 0, [&](size_t c) { ok[c] = finite_between(c * kChunkRows, std::min(n, (c + 1) * kChunkRows)); });
    all_finite = std::all_of(ok.begin(), ok.end(), [](char c) { return c != 0; });
  }
  if (all_finite) {
    if (n > 0) f(size_t{0}, n);
    return;
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
// TA-Lib's TA_IS_ZERO: |v| below the same 1e-14.
bool near_zero(double v) { return -1e-14 < v && v < 1e-14; }

// Rows [first, end) of a gap-free run of a window indicator, computed chunk by chunk: each chunk
// starts its own window state (running sums from the window's values), so chunks run in
// parallel. Chunks are fixed slices of the run, not of the threads, so the answer does not
// depend on how many threads there are; a run shorter than kParallelRows is one chunk, computed
// by the same sequential loop as TA-Lib's (whose running sums the tests hold us to).
template <typename F>
void over_chunks(size_t first, size_t end, F f) {
  if (first >= end) return;
  if (end - first < kParallelRows) {
    f(first, end);
    return;
  }
  const size_t chunks = (end - first + kChunkRows - 1) / kChunkRows;
  parallel_for(chunks, 0, [&](size_t c) { f(first + c * kChunkRows, std::min(end, first + (c + 1) * kChunkRows)); });
}

// The highest (or lowest) value of a sliding window and its index, the latest on ties, kept as
// TA-Lib keeps it: compare each new value, rescan only when the extreme leaves the window.
template <bool kHighest>
class WindowExtreme {
 public:
  explicit WindowExtreme(std::span<const double> v) : v_(v) {}
  // The extreme of v[from..i]; calls must move forward (from and i never decrease).
  double at(size_t from, size_t i) {
    if (!valid_ || index_ < from) {
      index_ = from;
      value_ = v_[from];
      for (size_t k = from + 1; k <= i; ++k) take(k);
      valid_ = true;
    } else {
      take(i);
    }
    return value_;
  }
  size_t index() const { return index_; }

 private:
  void take(size_t k) {
    if (kHighest ? v_[k] >= value_ : v_[k] <= value_) {
      value_ = v_[k];
      index_ = k;
    }
  }
  std::span<const double> v_;
  size_t index_ = 0;
  double value_ = 0;
  bool valid_ = false;
};

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

void sma_into(std::span<const double> values, int period, std::span<double> out) {
  require_period(period, 1, "sma");
  const size_t p = static_cast<size_t>(period);
  Undefined undefined({out}, values.size());
  per_finite_run({values}, [&](size_t b, size_t e) {
    undefined.upto(std::min(e, b + p - 1));
    over_chunks(b + p - 1, e, [&](size_t from, size_t to) {
      // A running sum, summed afresh from the window every kAnchor rows: as cheap as TA-Lib's
      // plain running sum, without its drift (over millions of rows it loses digits).
      constexpr size_t kAnchor = 128;
      double sum = 0;
      for (size_t i = from; i < to; ++i) {
        if ((i - from) % kAnchor == 0) {
          sum = 0;
          for (size_t k = i + 1 - p; k <= i; ++k) sum += values[k];
        } else {
          sum += values[i] - values[i - p];
        }
        out[i] = sum / period;
      }
    });
    undefined.written(e);
  });
  undefined.upto(values.size());
}

std::vector<double> sma(std::span<const double> values, int period) {
  std::vector<double> out(values.size());
  sma_into(values, period, out);
  return out;
}

void ema_into(std::span<const double> values, int period, std::span<double> out) {
  require_period(period, 1, "ema");
  Undefined check({out}, values.size());
  const double k = 2.0 / (period + 1.0);
  CompensatedSum seed;
  int run = 0;
  double prev = kNaN;
  for (size_t i = 0; i < values.size(); ++i) {
    const double x = values[i];
    if (!std::isfinite(x)) {
      seed.reset();
      run = 0;
      out[i] = kNaN;
      continue;
    }
    if (run < period) {
      seed.add(x);
      out[i] = ++run == period ? (prev = seed.value() / period) : kNaN;
      continue;
    }
    // prev + k*(x - prev) is the same as TA-Lib's (x - prev)*k + prev.
    out[i] = prev = (x - prev) * k + prev;
  }
}

std::vector<double> ema(std::span<const double> values, int period) {
  std::vector<double> out(values.size());
  ema_into(values, period, out);
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
    over_chunks(b + p - 1, e, [&](size_t from, size_t to) {
      // weighted = sum of (k+1) x[i-p+1+k]; plain = sum of the window. Sliding one step: plain
      // gains the new value and loses the oldest, weighted gains p x the new value and, after the
      // output, loses plain. In TA-Lib's order of operations: the running sums carry their
      // rounding along the series, so another order drifts apart by 1e-8 over a few thousand bars.
      double weighted = 0, plain = 0;
      for (size_t k = 0; k + 1 < p; ++k) {
        plain += values[from + 1 - p + k];
        weighted += values[from + 1 - p + k] * static_cast<double>(k + 1);
      }
      double trailing = 0;
      for (size_t i = from; i < to; ++i) {
        plain += values[i];
        plain -= trailing;
        weighted += values[i] * static_cast<double>(period);
        trailing = values[i + 1 - p];
        out[i] = weighted / divider;
        weighted -= plain;
      }
    });
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

void atr_into(std::span<const double> high, std::span<const double> low, std::span<const double> close, int period,
              std::span<double> out) {
  require_period(period, 1, "atr");
  Undefined undefined({out}, close.size());
  if (period == 1) {
    const std::vector<double> tr = trange(high, low, close);
    std::copy(tr.begin(), tr.end(), out.begin());
    return;
  }
  const size_t p = static_cast<size_t>(period);
  per_finite_run({high, low, close}, [&](size_t b, size_t e) {
    undefined.upto(std::min(e, b + p));
    if (e - b <= p) return;
    auto tr = [&](size_t i) { return std::max(high[i], close[i - 1]) - std::min(low[i], close[i - 1]); };
    double sum = 0;
    for (size_t i = b + 1; i <= b + p; ++i) sum += tr(i);
    double prev = sum / period;
    out[b + p] = prev;
    for (size_t i = b + p + 1; i < e; ++i) {
      prev = (prev * (period - 1) + tr(i)) / period;
      out[i] = prev;
    }
    undefined.written(e);
  });
  undefined.upto(close.size());
}

std::vector<double> atr(std::span<const double> high, std::span<const double> low, std::span<const double> close,
                        int period) {
  std::vector<double> out(close.size());
  atr_into(high, low, close, period, out);
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

// Calls at(i, mean, variance) for each window of `period` finite values ending at i: the mean and
// population variance (E[x^2] - E[x]^2) from TA-Lib's running sums in its order (the newest in,
// the means taken, the oldest out), so the cancellation on a nearly flat window rounds as TA-Lib's
// VAR, STDDEV and BBANDS do. Rows without a window are left to `undefined` (NaN). `at` runs on
// several threads for a long series, each on its own rows.
template <typename At>
void window_moments(std::span<const double> values, int period, Undefined& undefined, At at) {
  const size_t p = static_cast<size_t>(period);
  per_finite_run({values}, [&](size_t b, size_t e) {
    undefined.upto(std::min(e, b + p - 1));
    over_chunks(b + p - 1, e, [&](size_t from, size_t to) {
      double total1 = 0, total2 = 0;
      for (size_t i = from + 1 - p; i < from; ++i) {
        total1 += values[i];
        total2 += values[i] * values[i];
      }
      for (size_t i = from; i < to; ++i) {
        total1 += values[i];
        total2 += values[i] * values[i];
        const double mean1 = total1 / period, mean2 = total2 / period;
        const double old = values[i + 1 - p];
        total1 -= old;
        total2 -= old * old;
        at(i, mean1, mean2 - mean1 * mean1);
      }
    });
    undefined.written(e);
  });
  undefined.upto(values.size());
}

}  // namespace

std::vector<double> var(std::span<const double> values, int period, double nbdev) {
  (void)nbdev;  // TA-Lib's VAR takes the parameter and ignores it
  require_period(period, 1, "var");
  std::vector<double> out(values.size());
  Undefined undefined({out}, values.size());
  window_moments(values, period, undefined, [&](size_t i, double, double variance) { out[i] = variance; });
  return out;
}

std::vector<double> stddev(std::span<const double> values, int period, double nbdev) {
  std::vector<double> out = var(values, period);
  for (double& v : out) {
    if (std::isfinite(v)) v = zero_or_negative(v) ? 0.0 : std::sqrt(v) * nbdev;
  }
  return out;
}

void bbands_into(std::span<const double> values, int period, double nbdevup, double nbdevdn, std::span<double> upper,
                 std::span<double> middle, std::span<double> lower) {
  require_period(period, 1, "bbands");
  Undefined undefined({upper, middle, lower}, values.size());
  window_moments(values, period, undefined, [&](size_t i, double mean, double variance) {
    const double sd = zero_or_negative(variance) ? 0.0 : std::sqrt(variance);
    middle[i] = mean;
    upper[i] = mean + sd * nbdevup;
    lower[i] = mean - sd * nbdevdn;
  });
}

Bands bbands(std::span<const double> values, int period, double nbdevup, double nbdevdn) {
  Bands out{std::vector<double>(values.size()), std::vector<double>(values.size()), std::vector<double>(values.size())};
  bbands_into(values, period, nbdevup, nbdevdn, out.upper, out.middle, out.lower);
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
    if (e - b < p) return;
    over_chunks(b + p - 1, e, [&](size_t from, size_t to) {
      WindowExtreme<true> hi(high);
      WindowExtreme<false> lo(low);
      for (size_t i = from; i < to; ++i) out[i] = (hi.at(i + 1 - p, i) + lo.at(i + 1 - p, i)) / 2.0;
    });
  });
  return out;
}

std::vector<double> willr(std::span<const double> high, std::span<const double> low, std::span<const double> close,
                          int period) {
  require_period(period, 1, "willr");
  std::vector<double> out(close.size(), kNaN);
  const size_t p = static_cast<size_t>(period);
  per_finite_run({high, low, close}, [&](size_t b, size_t e) {
    if (e - b < p) return;
    over_chunks(b + p - 1, e, [&](size_t from, size_t to) {
      WindowExtreme<true> highest(high);
      WindowExtreme<false> lowest(low);
      for (size_t i = from; i < to; ++i) {
        const double hi = highest.at(i + 1 - p, i), lo = lowest.at(i + 1 - p, i);
        const double scale = (hi - lo) / -100.0;
        out[i] = scale != 0 ? (hi - close[i]) / scale : 0.0;
      }
    });
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
      out[i] = near_zero(total) ? 0.0 : 100.0 * ((gain - loss) / total);
    }
  });
  return out;
}

LinearFit linearreg(std::span<const double> values, int period, unsigned outputs) {
  require_period(period, 2, "linearreg");
  const size_t n = values.size(), p = static_cast<size_t>(period);
  LinearFit out;
  std::vector<double>* series[] = {&out.value, &out.slope, &out.intercept, &out.angle};
  for (unsigned k = 0; k < 4; ++k) {
    if (outputs & (1u << k)) series[k]->assign(n, kNaN);
  }
  // x counts back from today (0) to the oldest (period-1), as TA-Lib does; the slope comes out in
  // time order because the divisor is Sx^2 - n Sxx.
  const double sum_x = period * (period - 1) * 0.5;
  const double sum_x2 = period * (period - 1.0) * (2.0 * period - 1) / 6.0;
  const double divisor = sum_x * sum_x - period * sum_x2;
  constexpr double kDegrees = 180.0 / 3.14159265358979323846;
  per_finite_run({values}, [&](size_t b, size_t e) {
    if (e - b < p) return;
    over_chunks(b + p - 1, e, [&](size_t from, size_t to) {
      for (size_t i = from; i < to; ++i) {
        double sum_xy = 0, sum_y = 0;
        const double* window = values.data() + i + 1 - p;  // oldest first: x = p-1 down to 0
        for (size_t k = 0; k < p; ++k) {
          sum_y += window[p - 1 - k];
          sum_xy += static_cast<double>(k) * window[p - 1 - k];
        }
        const double m = (period * sum_xy - sum_x * sum_y) / divisor;
        const double intercept = (sum_y - m * sum_x) / period;
        if (!out.slope.empty()) out.slope[i] = m;
        if (!out.intercept.empty()) out.intercept[i] = intercept;
        if (!out.value.empty()) out.value[i] = intercept + m * (period - 1);
        if (!out.angle.empty()) out.angle[i] = std::atan(m) * kDegrees;
      }
    });
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
    if (e - b < p) return;
    over_chunks(b + p - 1, e, [&](size_t from, size_t to) {
      for (size_t i = from; i < to; ++i) {
        double sum = 0;
        for (size_t k = i + 1 - p; k <= i; ++k) sum += tp[k];
        const double average = sum / period;
        double deviation = 0;
        for (size_t k = i + 1 - p; k <= i; ++k) deviation += std::fabs(tp[k] - average);
        const double distance = tp[i] - average;
        out[i] = distance != 0.0 && deviation != 0.0 ? distance / (0.015 * (deviation / period)) : 0.0;
      }
    });
  });
  return out;
}

Aroon aroon(std::span<const double> high, std::span<const double> low, int period) {
  require_period(period, 1, "aroon");
  Aroon out{std::vector<double>(high.size(), kNaN), std::vector<double>(high.size(), kNaN)};
  const size_t p = static_cast<size_t>(period);
  const double factor = 100.0 / period;
  per_finite_run({high, low}, [&](size_t b, size_t e) {
    if (e - b <= p) return;
    over_chunks(b + p, e, [&](size_t from, size_t to) {
      WindowExtreme<true> highest(high);
      WindowExtreme<false> lowest(low);
      for (size_t i = from; i < to; ++i) {  // the window is the last period + 1 bars
        highest.at(i - p, i);
        lowest.at(i - p, i);
        out.up[i] = factor * static_cast<double>(p - (i - highest.index()));
        out.down[i] = factor * static_cast<double>(p - (i - lowest.index()));
      }
    });
  });
  return out;
}

std::vector<double> mfi(std::span<const double> high, std::span<const double> low, std::span<const double> close,
                        std::span<const double> volume, int period) {
  require_period(period, 1, "mfi");
  std::vector<double> out(close.size(), kNaN);
  const size_t p = static_cast<size_t>(period);
  auto typical = [&](size_t i) { return (high[i] + low[i] + close[i]) / 3; };
  per_finite_run({high, low, close, volume}, [&](size_t b, size_t e) {
    if (e - b <= p) return;
    over_chunks(b + p, e, [&](size_t from, size_t to) {
      // Each bar's money flow (typical price x volume) counts as positive when the typical price
      // rose, negative when it fell. Running sums in TA-Lib's order: the oldest bar's flow out,
      // then the newest in. Flows are computed as the window slides, not stored.
      double pos = 0, neg = 0;
      auto add = [](double t, double before, double v, double& to_pos, double& to_neg, double sign) {
        if (t > before) to_pos += sign * (t * v);
        else if (t < before) to_neg += sign * (t * v);
      };
      double before = typical(from - p);
      for (size_t k = from + 1 - p; k < from; ++k) {
        const double t = typical(k);
        add(t, before, volume[k], pos, neg, 1.0);
        before = t;
      }
      double old_before = typical(from - p), old = typical(from + 1 - p);
      for (size_t i = from; i < to; ++i) {
        if (i > from) {  // the bar leaving the window: i - p
          add(old, old_before, volume[i - p], pos, neg, -1.0);
          old_before = old;
          old = typical(i + 1 - p);
        }
        const double t = typical(i);
        add(t, before, volume[i], pos, neg, 1.0);
        before = t;
        const double total = pos + neg;
        out[i] = total < 1.0 ? 0.0 : 100.0 * (pos / total);
      }
    });
  });
  return out;
}

std::vector<double> correl(std::span<const double> x, std::span<const double> y, int period) {
  require_period(period, 1, "correl");
  std::vector<double> out(x.size(), kNaN);
  const size_t p = static_cast<size_t>(period);
  per_finite_run({x, y}, [&](size_t b, size_t e) {
    if (e - b < p) return;
    over_chunks(b + p - 1, e, [&](size_t from, size_t to) {
      // Running sums in TA-Lib's order (the oldest value out, then the newest in), so the
      // cancellation in the sums of squares rounds as its does.
      double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
      auto value = [&] {
        const double spread = (sxx - ((sx * sx) / period)) * (syy - ((sy * sy) / period));
        return zero_or_negative(spread) ? 0.0 : (sxy - ((sx * sy) / period)) / std::sqrt(spread);
      };
      for (size_t k = from + 1 - p; k <= from; ++k) {
        sx += x[k];
        sxx += x[k] * x[k];
        sxy += x[k] * y[k];
        sy += y[k];
        syy += y[k] * y[k];
      }
      out[from] = value();
      for (size_t i = from + 1; i < to; ++i) {
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
  });
  return out;
}


// ---- Moving-average types, oscillators, stochastics, directional movement, SAR ----

namespace {

// Places `part` (computed on values[offset..]) into `out` at `offset`.
void place(std::vector<double>& out, size_t offset, const std::vector<double>& part) {
  std::copy(part.begin(), part.end(), out.begin() + static_cast<std::ptrdiff_t>(offset));
}

// The moving average TA-Lib's TA_MA returns when asked to start at `start` of a gap-free run:
// the EMA family seeds itself as late as it can, so it is the average of run[start - lookback..].
std::vector<double> moving_average_from(std::span<const double> run, int period, MaType type, size_t start) {
  const size_t lookback = static_cast<size_t>(ma_lookback(type, period));
  std::vector<double> out(run.size(), kNaN);
  if (start < lookback) start = lookback;
  if (start >= run.size()) return out;
  place(out, start - lookback, moving_average(run.subspan(start - lookback), period, type));
  return out;
}

// TA-Lib's true range: the largest of high - low, |high - previous close|, |low - previous close|.
double true_range(double high, double low, double previous_close) {
  double range = high - low;
  range = std::max(range, std::fabs(high - previous_close));
  return std::max(range, std::fabs(low - previous_close));
}

}  // namespace

MaType ma_type(double number) {
  if (number != std::floor(number) || number < 0 || number > 8) {
    throw Error::InvalidInput(fmt::format(
        "moving-average type {} is not one of TA-Lib's: 0 SMA, 1 EMA, 2 WMA, 3 DEMA, 4 TEMA, 5 TRIMA, 6 KAMA, 8 T3", number));
  }
  if (number == 7) {
    throw Error::InvalidInput(
        "moving-average type 7 (MAMA) is not supported; use 0 SMA, 1 EMA, 2 WMA, 3 DEMA, 4 TEMA, 5 TRIMA, 6 KAMA or 8 T3");
  }
  return static_cast<MaType>(static_cast<int>(number));
}

int ma_lookback(MaType type, int period) {
  if (period <= 1) return 0;
  switch (type) {
    case MaType::dema: return 2 * (period - 1);
    case MaType::tema: return 3 * (period - 1);
    case MaType::kama: return period;
    case MaType::t3: return 6 * (period - 1);
    default: return period - 1;
  }
}

std::vector<double> moving_average(std::span<const double> values, int period, MaType type) {
  require_period(period, 1, "moving average");
  if (period == 1) {
    std::vector<double> out(values.begin(), values.end());
    for (double& v : out) {
      if (!std::isfinite(v)) v = kNaN;
    }
    return out;
  }
  switch (type) {
    case MaType::sma: return sma(values, period);
    case MaType::ema: return ema(values, period);
    case MaType::wma: return wma(values, period);
    case MaType::dema: return dema(values, period);
    case MaType::tema: return tema(values, period);
    case MaType::trima: return trima(values, period);
    case MaType::kama: return kama(values, period);
    case MaType::t3: return t3(values, period);
    case MaType::mama: break;
  }
  ma_type(static_cast<double>(type));  // throws the message naming the accepted types
  return {};
}

std::vector<double> kama(std::span<const double> values, int period) {
  require_period(period, 1, "kama");
  std::vector<double> out(values.size(), kNaN);
  const size_t p = static_cast<size_t>(period);
  const double fastest = 2.0 / (2.0 + 1.0), slowest = 2.0 / (30.0 + 1.0), spread = fastest - slowest;
  per_finite_run({values}, [&](size_t b, size_t e) {
    if (e - b <= p) return;
    // The path length: the sum of |one-bar changes| over the last `period` changes.
    double path = 0;
    for (size_t i = b; i < b + p; ++i) path += std::fabs(values[i] - values[i + 1]);
    double prev = values[b + p - 1];
    size_t trailing = b;
    for (size_t i = b + p; i < e; ++i) {
      if (i > b + p) {
        path -= std::fabs(values[trailing - 1] - values[trailing]);
        path += std::fabs(values[i] - values[i - 1]);
      }
      const double net = values[i] - values[trailing];
      ++trailing;
      // TA-Lib compares the path with the signed net change, not its absolute value.
      const double efficiency = (path <= net || near_zero(path)) ? 1.0 : std::fabs(net / path);
      double factor = efficiency * spread + slowest;
      factor *= factor;
      out[i] = prev = (values[i] - prev) * factor + prev;
    }
  });
  return out;
}

std::vector<double> t3(std::span<const double> values, int period, double vfactor) {
  require_period(period, 1, "t3");
  std::vector<double> out(values.size(), kNaN);
  const size_t p = static_cast<size_t>(period), lookback = 6 * (p - 1);
  const double k = 2.0 / (period + 1.0), one_minus_k = 1.0 - k;
  const double v2 = vfactor * vfactor, c1 = -(v2 * vfactor), c2 = 3.0 * (v2 - c1);
  const double c3 = -6.0 * v2 - 3.0 * (vfactor - c1), c4 = 1.0 + 3.0 * vfactor - c1 + 3.0 * v2;
  per_finite_run({values}, [&](size_t b, size_t e) {
    if (e - b <= lookback) return;
    // e[0..5]: the six chained EMAs. Each is seeded with the mean of its input's first `period`
    // values, so the seeding walks the series level by level, as TA-Lib does.
    double ema_of[6] = {0, 0, 0, 0, 0, 0};
    size_t i = b;
    double sum = 0;
    for (size_t n = 0; n < p; ++n) sum += values[i++];
    ema_of[0] = sum / period;
    for (int level = 1; level < 6; ++level) {
      sum = ema_of[level - 1];
      for (size_t n = 1; n < p; ++n) {
        ema_of[0] = k * values[i++] + one_minus_k * ema_of[0];
        for (int l = 1; l < level; ++l) ema_of[l] = k * ema_of[l - 1] + one_minus_k * ema_of[l];
        sum += ema_of[level - 1];
      }
      ema_of[level] = sum / period;
    }
    auto value = [&] { return c1 * ema_of[5] + c2 * ema_of[4] + c3 * ema_of[3] + c4 * ema_of[2]; };
    out[i - 1] = value();
    for (; i < e; ++i) {
      ema_of[0] = k * values[i] + one_minus_k * ema_of[0];
      for (int l = 1; l < 6; ++l) ema_of[l] = k * ema_of[l - 1] + one_minus_k * ema_of[l];
      out[i] = value();
    }
  });
  return out;
}

namespace {

void macd_with(std::span<const double> values, int fast, double fast_k, int slow, double slow_k, int signal,
               std::span<double> out_macd, std::span<double> out_signal, std::span<double> out_hist) {
  if (slow < fast) {
    std::swap(fast, slow);
    std::swap(fast_k, slow_k);
  }
  Undefined undefined({out_macd, out_signal, out_hist}, values.size());
  const size_t start = static_cast<size_t>(slow - 1), first = start + static_cast<size_t>(signal - 1);
  per_finite_run({values}, [&](size_t b, size_t e) {
    undefined.upto(std::min(e, b + first));
    if (e - b <= first) return;
    // One pass: both EMAs seeded with the mean of the window ending at `start` (TA-Lib's sums,
    // in order), their difference, and its EMA seeded with the mean of its first `signal` values.
    const double* x = values.data() + b;
    double slow_ema = 0, fast_ema = 0;
    for (size_t i = start + 1 - static_cast<size_t>(slow); i <= start; ++i) slow_ema += x[i];
    for (size_t i = start + 1 - static_cast<size_t>(fast); i <= start; ++i) fast_ema += x[i];
    slow_ema /= slow;
    fast_ema /= fast;
    const double signal_k = 2.0 / (signal + 1.0);
    double signal_ema = 0;
    for (size_t i = start; i < e - b; ++i) {
      if (i > start) {
        slow_ema = (x[i] - slow_ema) * slow_k + slow_ema;
        fast_ema = (x[i] - fast_ema) * fast_k + fast_ema;
      }
      const double line = fast_ema - slow_ema;
      if (i < first) {
        signal_ema += line;
        continue;
      }
      signal_ema = i == first ? (signal_ema + line) / signal : (line - signal_ema) * signal_k + signal_ema;
      out_macd[b + i] = line;
      out_signal[b + i] = signal_ema;
      out_hist[b + i] = line - signal_ema;
    }
    undefined.written(e);
  });
  undefined.upto(values.size());
}

Macd macd_vectors(size_t n) { return Macd{std::vector<double>(n), std::vector<double>(n), std::vector<double>(n)}; }

}  // namespace

Macd macd(std::span<const double> values, int fast, int slow, int signal) {
  require_period(fast, 1, "macd fast");
  require_period(slow, 1, "macd slow");
  require_period(signal, 1, "macd signal");
  Macd out = macd_vectors(values.size());
  macd_with(values, fast, 2.0 / (fast + 1.0), slow, 2.0 / (slow + 1.0), signal, out.macd, out.signal, out.hist);
  return out;
}

void macd_into(std::span<const double> values, int fast, int slow, int signal, std::span<double> macd,
               std::span<double> signal_line, std::span<double> hist) {
  require_period(fast, 1, "macd fast");
  require_period(slow, 1, "macd slow");
  require_period(signal, 1, "macd signal");
  macd_with(values, fast, 2.0 / (fast + 1.0), slow, 2.0 / (slow + 1.0), signal, macd, signal_line, hist);
}

Macd macdfix(std::span<const double> values, int signal) {
  require_period(signal, 1, "macdfix signal");
  Macd out = macd_vectors(values.size());
  macd_with(values, 12, 0.15, 26, 0.075, signal, out.macd, out.signal, out.hist);
  return out;
}

Macd macdext(std::span<const double> values, int fast, MaType fast_type, int slow, MaType slow_type, int signal,
             MaType signal_type) {
  require_period(fast, 1, "macdext fast");
  require_period(slow, 1, "macdext slow");
  require_period(signal, 1, "macdext signal");
  if (slow < fast) {
    std::swap(fast, slow);
    std::swap(fast_type, slow_type);
  }
  const size_t n = values.size();
  Macd out{std::vector<double>(n, kNaN), std::vector<double>(n, kNaN), std::vector<double>(n, kNaN)};
  const size_t start = static_cast<size_t>(std::max(ma_lookback(fast_type, fast), ma_lookback(slow_type, slow)));
  const size_t first = start + static_cast<size_t>(ma_lookback(signal_type, signal));
  per_finite_run({values}, [&](size_t b, size_t e) {
    if (e - b <= first) return;
    const std::span<const double> run = values.subspan(b, e - b);
    const std::vector<double> slow_line = moving_average_from(run, slow, slow_type, start);
    const std::vector<double> fast_line = moving_average_from(run, fast, fast_type, start);
    std::vector<double> line(run.size() - start);
    for (size_t i = start; i < run.size(); ++i) line[i - start] = fast_line[i] - slow_line[i];
    const std::vector<double> signal_line = moving_average(line, signal, signal_type);
    for (size_t i = first; i < run.size(); ++i) {
      out.macd[b + i] = line[i - start];
      out.signal[b + i] = signal_line[i - start];
      out.hist[b + i] = line[i - start] - signal_line[i - start];
    }
  });
  return out;
}

namespace {

std::vector<double> price_oscillator(std::span<const double> values, int fast, int slow, MaType type, bool percent) {
  require_period(fast, 1, "price oscillator fast");
  require_period(slow, 1, "price oscillator slow");
  if (slow < fast) std::swap(fast, slow);
  // Both averages start at their own lookback (TA-Lib's INT_PO asks each from the series start).
  const std::vector<double> fast_line = moving_average(values, fast, type);
  const std::vector<double> slow_line = moving_average(values, slow, type);
  std::vector<double> out(values.size(), kNaN);
  for (size_t i = 0; i < out.size(); ++i) {
    if (!std::isfinite(fast_line[i]) || !std::isfinite(slow_line[i])) continue;
    if (!percent) {
      out[i] = fast_line[i] - slow_line[i];
    } else {
      out[i] = near_zero(slow_line[i]) ? 0.0 : ((fast_line[i] - slow_line[i]) / slow_line[i]) * 100.0;
    }
  }
  return out;
}

// Fast %K of a gap-free run from fastk-1 on.
std::vector<double> fast_k_line(std::span<const double> high, std::span<const double> low,
                                std::span<const double> close, int fastk) {
  const size_t lookback = static_cast<size_t>(fastk - 1);
  std::vector<double> out(close.size(), kNaN);
  over_chunks(lookback, close.size(), [&](size_t from, size_t to) {
    WindowExtreme<true> highest(high);
    WindowExtreme<false> lowest(low);
    for (size_t i = from; i < to; ++i) {
      const double hi = highest.at(i - lookback, i), lo = lowest.at(i - lookback, i);
      const double scale = (hi - lo) / 100.0;
      out[i] = scale != 0.0 ? (close[i] - lo) / scale : 0.0;
    }
  });
  return out;
}

// The average of line[from..], placed back at `from`.
std::vector<double> average_tail(const std::vector<double>& line, size_t from, int period, MaType type) {
  std::vector<double> out(line.size(), kNaN);
  if (from >= line.size()) return out;
  place(out, from, moving_average(std::span<const double>(line).subspan(from), period, type));
  return out;
}

}  // namespace

std::vector<double> apo(std::span<const double> values, int fast, int slow, MaType type) {
  return price_oscillator(values, fast, slow, type, false);
}
std::vector<double> ppo(std::span<const double> values, int fast, int slow, MaType type) {
  return price_oscillator(values, fast, slow, type, true);
}

Stoch stoch(std::span<const double> high, std::span<const double> low, std::span<const double> close, int fastk,
            int slowk, MaType slowk_type, int slowd, MaType slowd_type) {
  require_period(fastk, 1, "stoch fastk");
  require_period(slowk, 1, "stoch slowk");
  require_period(slowd, 1, "stoch slowd");
  const size_t n = close.size();
  Stoch out{std::vector<double>(n, kNaN), std::vector<double>(n, kNaN)};
  const size_t k_start = static_cast<size_t>(fastk - 1);
  const size_t slow_start = k_start + static_cast<size_t>(ma_lookback(slowk_type, slowk));
  const size_t first = slow_start + static_cast<size_t>(ma_lookback(slowd_type, slowd));
  per_finite_run({high, low, close}, [&](size_t b, size_t e) {
    if (e - b <= first) return;
    const auto fast = fast_k_line(high.subspan(b, e - b), low.subspan(b, e - b), close.subspan(b, e - b), fastk);
    const auto slow_k = average_tail(fast, k_start, slowk, slowk_type);
    const auto slow_d = average_tail(slow_k, slow_start, slowd, slowd_type);
    for (size_t i = first; i < e - b; ++i) {
      out.k[b + i] = slow_k[i];
      out.d[b + i] = slow_d[i];
    }
  });
  return out;
}

Stoch stochf(std::span<const double> high, std::span<const double> low, std::span<const double> close, int fastk,
             int fastd, MaType fastd_type) {
  require_period(fastk, 1, "stochf fastk");
  require_period(fastd, 1, "stochf fastd");
  const size_t n = close.size();
  Stoch out{std::vector<double>(n, kNaN), std::vector<double>(n, kNaN)};
  const size_t k_start = static_cast<size_t>(fastk - 1);
  const size_t first = k_start + static_cast<size_t>(ma_lookback(fastd_type, fastd));
  per_finite_run({high, low, close}, [&](size_t b, size_t e) {
    if (e - b <= first) return;
    const auto fast = fast_k_line(high.subspan(b, e - b), low.subspan(b, e - b), close.subspan(b, e - b), fastk);
    const auto fast_d = average_tail(fast, k_start, fastd, fastd_type);
    for (size_t i = first; i < e - b; ++i) {
      out.k[b + i] = fast[i];
      out.d[b + i] = fast_d[i];
    }
  });
  return out;
}

void rsi_into(std::span<const double> values, int period, std::span<double> out) {
  require_period(period, 1, "rsi");
  const size_t p = static_cast<size_t>(period);
  Undefined undefined({out}, values.size());
  per_finite_run({values}, [&](size_t b, size_t e) {
    undefined.upto(std::min(e, b + p));
    double gain = 0, loss = 0;
    for (size_t i = b + 1; i < e; ++i) {
      const double change = values[i] - values[i - 1];
      const double up = change > 0 ? change : 0, down = change < 0 ? -change : 0;
      const size_t changes = i - b;
      if (changes < p) {
        gain += up;
        loss += down;
        continue;
      }
      if (changes == p) {
        gain = (gain + up) / period;
        loss = (loss + down) / period;
      } else {
        gain = (gain * (period - 1) + up) / period;
        loss = (loss * (period - 1) + down) / period;
      }
      const double total = gain + loss;
      out[i] = near_zero(total) ? 0.0 : 100.0 * (gain / total);
    }
    undefined.written(e);
  });
  undefined.upto(values.size());
}

std::vector<double> rsi_talib(std::span<const double> values, int period) {
  std::vector<double> out(values.size());
  rsi_into(values, period, out);
  return out;
}

Stoch stochrsi(std::span<const double> values, int period, int fastk, int fastd, MaType fastd_type) {
  const std::vector<double> r = rsi_talib(values, period);
  return stochf(r, r, r, fastk, fastd, fastd_type);
}

namespace {

// The six directional series into the buffers given (an empty span: not wanted; the arithmetic
// is the same either way). Every row of a given buffer is written, NaN where undefined.
struct DirectionalSpans {
  std::span<double> plus_dm, minus_dm, plus_di, minus_di, dx, adx;
};

void directional_into(std::span<const double> high, std::span<const double> low, std::span<const double> close,
                      int period, DirectionalSpans out) {
  require_period(period, 1, "directional movement");
  const size_t n = close.size(), p = static_cast<size_t>(period);
  for (auto o : {out.plus_dm, out.minus_dm, out.plus_di, out.minus_di, out.dx, out.adx}) {
    if (o.empty()) continue;
    if (o.size() != n) {
      throw Error::InvalidInput(fmt::format("indicator output buffer holds {} rows for {} input rows", o.size(), n));
    }
    std::fill(o.begin(), o.end(), kNaN);
  }
  auto put = [](std::span<double> o, size_t i, double value) {
    if (!o.empty()) o[i] = value;
  };
  per_finite_run({high, low, close}, [&](size_t b, size_t e) {
    double plus_dm = 0, minus_dm = 0, tr = 0, sum_dx = 0, adx = kNaN, dx = 0;
    for (size_t i = b + 1; i < e; ++i) {
      const double up = high[i] - high[i - 1], down = low[i - 1] - low[i];
      const double bar_minus = (down > 0 && up < down) ? down : 0.0;
      const double bar_plus = (bar_minus == 0.0 && up > 0 && up > down) ? up : 0.0;
      const double bar_tr = true_range(high[i], low[i], close[i - 1]);
      const size_t bars = i - b;  // one-bar movements so far
      if (bars < p) {             // the first period-1 bars are summed
        plus_dm += bar_plus;
        minus_dm += bar_minus;
        tr += bar_tr;
        if (bars + 1 == p) {
          put(out.plus_dm, i, plus_dm);
          put(out.minus_dm, i, minus_dm);
        }
        continue;
      }
      // Wilder's smoothing of the sums: less a period's share, plus today's.
      plus_dm = plus_dm - plus_dm / period + bar_plus;
      minus_dm = minus_dm - minus_dm / period + bar_minus;
      tr = tr - tr / period + bar_tr;
      put(out.plus_dm, i, plus_dm);
      put(out.minus_dm, i, minus_dm);
      const bool flat_range = near_zero(tr);
      const double plus_di = flat_range ? 0.0 : 100.0 * (plus_dm / tr);
      const double minus_di = flat_range ? 0.0 : 100.0 * (minus_dm / tr);
      put(out.plus_di, i, plus_di);
      put(out.minus_di, i, minus_di);
      const double di_sum = minus_di + plus_di;
      const bool defined = !flat_range && !near_zero(di_sum);
      // DX: 0 on its first bar without direction, the previous DX on later ones (TA-Lib's rule).
      if (defined) dx = 100.0 * (std::fabs(minus_di - plus_di) / di_sum);
      else if (bars == p) dx = 0.0;
      put(out.dx, i, dx);
      if (bars < 2 * p) {  // ADX starts as the mean of the first `period` DX (undefined ones count 0)
        if (defined) sum_dx += dx;
        if (bars + 1 == 2 * p) {
          adx = sum_dx / period;
          put(out.adx, i, adx);
        }
        continue;
      }
      if (defined) adx = ((adx * (period - 1)) + dx) / period;
      put(out.adx, i, adx);
    }
  });
}

}  // namespace

Directional directional(std::span<const double> high, std::span<const double> low, std::span<const double> close,
                        int period, unsigned outputs) {
  Directional out;
  std::vector<double>* series[] = {&out.plus_dm, &out.minus_dm, &out.plus_di, &out.minus_di, &out.dx, &out.adx};
  for (unsigned k = 0; k < 6; ++k) {
    if (outputs & (1u << k)) series[k]->resize(close.size());
  }
  directional_into(high, low, close, period,
                   {out.plus_dm, out.minus_dm, out.plus_di, out.minus_di, out.dx, out.adx});
  return out;
}

void adx_into(std::span<const double> high, std::span<const double> low, std::span<const double> close, int period,
              std::span<double> out) {
  if (out.size() != close.size()) {
    throw Error::InvalidInput(fmt::format("indicator output buffer holds {} rows for {} input rows", out.size(),
                                          close.size()));
  }
  directional_into(high, low, close, period, {{}, {}, {}, {}, {}, out});
}

std::vector<double> adxr(std::span<const double> high, std::span<const double> low, std::span<const double> close,
                         int period) {
  const std::vector<double> adx = directional(high, low, close, period, Directional::kAdx).adx;
  std::vector<double> out(close.size(), kNaN);
  const size_t lag = static_cast<size_t>(period - 1), first = static_cast<size_t>(3 * period - 2);
  per_finite_run({high, low, close}, [&](size_t b, size_t e) {
    for (size_t i = b + first; i < e; ++i) out[i] = (adx[i] + adx[i - lag]) / 2.0;
  });
  return out;
}

std::vector<double> adosc(std::span<const double> high, std::span<const double> low, std::span<const double> close,
                          std::span<const double> volume, int fast, int slow) {
  require_period(fast, 1, "adosc fast");
  require_period(slow, 1, "adosc slow");
  std::vector<double> out(close.size(), kNaN);
  const size_t lookback = static_cast<size_t>(std::max(fast, slow) - 1);
  const double fast_k = 2.0 / (fast + 1.0), slow_k = 2.0 / (slow + 1.0);
  const std::vector<double> line = ad(high, low, close, volume);
  per_finite_run({high, low, close, volume}, [&](size_t b, size_t e) {
    if (e - b <= lookback) return;
    double fast_ema = line[b], slow_ema = line[b];
    for (size_t i = b + 1; i < e; ++i) {
      fast_ema = fast_k * line[i] + (1.0 - fast_k) * fast_ema;
      slow_ema = slow_k * line[i] + (1.0 - slow_k) * slow_ema;
      if (i >= b + lookback) out[i] = fast_ema - slow_ema;
    }
    if (lookback == 0) out[b] = 0.0;
  });
  return out;
}

std::vector<double> ultosc(std::span<const double> high, std::span<const double> low, std::span<const double> close,
                           int period1, int period2, int period3) {
  int periods[3] = {period1, period2, period3};
  for (int p : periods) require_period(p, 1, "ultosc");
  std::sort(periods, periods + 3);  // weights 4, 2, 1 go shortest first
  std::vector<double> out(close.size(), kNaN);
  const size_t lookback = static_cast<size_t>(periods[2]);
  per_finite_run({high, low, close}, [&](size_t b, size_t e) {
    if (e - b <= lookback) return;
    // Buying pressure (close - true low) and true range of each bar after the first.
    std::vector<double> pressure(e - b, 0), range(e - b, 0);
    for (size_t i = b + 1; i < e; ++i) {
      pressure[i - b] = close[i] - std::min(low[i], close[i - 1]);
      range[i - b] = true_range(high[i], low[i], close[i - 1]);
    }
    double a[3] = {0, 0, 0}, r[3] = {0, 0, 0};
    for (int w = 0; w < 3; ++w) {
      for (size_t k = lookback - periods[w] + 1; k < lookback; ++k) {
        a[w] += pressure[k];
        r[w] += range[k];
      }
    }
    for (size_t k = lookback; k < e - b; ++k) {
      double value = 0;
      for (int w = 0; w < 3; ++w) {
        a[w] += pressure[k];
        r[w] += range[k];
      }
      if (!near_zero(r[0])) value += 4.0 * (a[0] / r[0]);
      if (!near_zero(r[1])) value += 2.0 * (a[1] / r[1]);
      if (!near_zero(r[2])) value += a[2] / r[2];
      out[b + k] = 100.0 * (value / 7.0);
      for (int w = 0; w < 3; ++w) {
        a[w] -= pressure[k + 1 - periods[w]];
        r[w] -= range[k + 1 - periods[w]];
      }
    }
  });
  return out;
}

std::vector<double> beta(std::span<const double> x, std::span<const double> y, int period) {
  require_period(period, 1, "beta");
  std::vector<double> out(x.size(), kNaN);
  const size_t p = static_cast<size_t>(period);
  auto change = [](double now, double before) { return near_zero(before) ? 0.0 : (now - before) / before; };
  per_finite_run({x, y}, [&](size_t b, size_t e) {
    if (e - b <= p) return;
    double sxx = 0, sx = 0, sxy = 0, sy = 0;
    const double n = period;
    for (size_t i = b + 1; i < e; ++i) {
      const double rx = change(x[i], x[i - 1]), ry = change(y[i], y[i - 1]);
      sxx += rx * rx;
      sx += rx;
      sxy += rx * ry;
      sy += ry;
      if (i < b + p) continue;
      const double spread = (n * sxx) - (sx * sx);
      out[i] = near_zero(spread) ? 0.0 : ((n * sxy) - (sx * sy)) / spread;
      const size_t t = i + 1 - p;  // the oldest return in the window leaves
      const double ox = change(x[t], x[t - 1]), oy = change(y[t], y[t - 1]);
      sxx -= ox * ox;
      sx -= ox;
      sxy -= ox * oy;
      sy -= oy;
    }
  });
  return out;
}

std::vector<double> sar(std::span<const double> high, std::span<const double> low, double acceleration,
                        double maximum) {
  std::vector<double> out(high.size(), kNaN);
  const double step = std::min(acceleration, maximum);
  per_finite_run({high, low}, [&](size_t b, size_t e) {
    if (e - b < 2) return;
    // The first direction: short when the second bar's -DM is positive (and beats its +DM).
    const double up = high[b + 1] - high[b], down = low[b] - low[b + 1];
    bool is_long = !(down > 0 && up < down);
    double af = step;
    double ep = is_long ? high[b + 1] : low[b + 1];
    double value = is_long ? low[b] : high[b];
    double new_low = low[b + 1], new_high = high[b + 1];
    for (size_t i = b + 1; i < e; ++i) {
      const double prev_low = new_low, prev_high = new_high;
      new_low = low[i];
      new_high = high[i];
      if (is_long) {
        if (new_low <= value) {  // the low crossed: reverse to short at the extreme
          is_long = false;
          value = std::max({ep, prev_high, new_high});
          out[i] = value;
          af = step;
          ep = new_low;
          value = value + af * (ep - value);
          value = std::max({value, prev_high, new_high});
        } else {
          out[i] = value;
          if (new_high > ep) {
            ep = new_high;
            af = std::min(af + step, maximum);
          }
          value = value + af * (ep - value);
          value = std::min({value, prev_low, new_low});
        }
      } else {
        if (new_high >= value) {  // the high crossed: reverse to long at the extreme
          is_long = true;
          value = std::min({ep, prev_low, new_low});
          out[i] = value;
          af = step;
          ep = new_high;
          value = value + af * (ep - value);
          value = std::min({value, prev_low, new_low});
        } else {
          out[i] = value;
          if (new_low < ep) {
            ep = new_low;
            af = std::min(af + step, maximum);
          }
          value = value + af * (ep - value);
          value = std::max({value, prev_high, new_high});
        }
      }
    }
  });
  return out;
}

}  // namespace trib::features

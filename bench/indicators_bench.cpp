// Indicators, ours against TA-Lib's C functions in the same process: TA-Lib 0.4 as the npm
// `talib` binding compiles it (node_modules/talib/build/Release/talib.node exports TA_SMA,
// TA_EMA, ...; loaded with dlopen, its Node registration stubbed out). Both sides get the same
// 10M-point series, each call is timed best of `repeats`, and the outputs are compared (same
// first index, values within 1e-9 relative) so the times are for equal answers. The seven
// (SMA ... ADX) run through our _into forms, which write into the caller's buffer as TA-Lib's
// do; the rest return new vectors (an allocation and a fill TA-Lib's caller-provided buffer skips).
//
//   indicators_bench TALIB_NODE [POINTS] [REPEATS]      (bench/run-indicators.sh runs it)
#include <dlfcn.h>
#include <malloc.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "trib/features/indicators.hpp"

// talib.node registers itself with Node when loaded; outside Node there is nothing to register with.
extern "C" void node_module_register(void*) {}

namespace {

using namespace trib::features;
using Clock = std::chrono::steady_clock;

using Fn1 = int (*)(int, int, const double*, int, int*, int*, double*);
using FnHLC = int (*)(int, int, const double*, const double*, const double*, int, int*, int*, double*);

struct TaLib {
  void* handle = nullptr;
  template <typename F>
  F get(const char* name) const {
    void* f = dlsym(handle, name);
    if (!f) {
      std::fprintf(stderr, "TA-Lib has no %s\n", name);
      std::exit(2);
    }
    return reinterpret_cast<F>(f);
  }
};

struct Series {
  std::vector<double> high, low, close, volume;
};

Series make_series(size_t n) {
  // A random walk of the log price (1% a step) reflected between 20 and 500, so ten million steps
  // stay in a stock's range (a free walk would wander to 1e+-13, where every running sum breaks),
  // with intraday ranges that never invert.
  std::mt19937_64 rng(42);
  std::normal_distribution<double> step(0.0, 0.01);
  std::uniform_real_distribution<double> range(0.001, 0.02);
  Series s;
  s.high.resize(n);
  s.low.resize(n);
  s.close.resize(n);
  s.volume.resize(n);
  const double floor = std::log(20.0), ceiling = std::log(500.0);
  double log_price = std::log(100.0);
  for (size_t i = 0; i < n; ++i) {
    log_price += step(rng);
    if (log_price < floor) log_price = 2 * floor - log_price;
    if (log_price > ceiling) log_price = 2 * ceiling - log_price;
    const double price = std::exp(log_price);
    const double r = range(rng);
    s.close[i] = price;
    s.high[i] = price * (1 + r);
    s.low[i] = price * (1 - r * 0.8);
    s.volume[i] = 1e6 * (1 + range(rng) * 50);
  }
  return s;
}

double best_seconds(int repeats, const std::function<void()>& f) {
  double best = 1e100;
  for (int r = 0; r < repeats; ++r) {
    const auto t0 = Clock::now();
    f();
    best = std::min(best, std::chrono::duration<double>(Clock::now() - t0).count());
  }
  return best;
}

// Ours (aligned, NaN before the lookback) against TA-Lib's (begIdx, count): the same first
// index, and the largest difference (relative above 1, absolute below).
double difference(const std::vector<double>& ours, const std::vector<double>& theirs, int beg, int count) {
  for (size_t i = 0; i < static_cast<size_t>(beg) && i < ours.size(); ++i) {
    if (!std::isnan(ours[i])) return INFINITY;
  }
  if (static_cast<size_t>(beg) < ours.size() && std::isnan(ours[static_cast<size_t>(beg)])) return INFINITY;
  double worst = 0;
  for (int k = 0; k < count; ++k) {
    const double a = ours[static_cast<size_t>(beg + k)], b = theirs[static_cast<size_t>(k)];
    worst = std::max(worst, std::fabs(a - b) / std::max(1.0, std::fabs(b)));
  }
  return worst;
}

// The exact value at row i (long double, the window summed afresh), for the indicators whose
// running sums drift over millions of points: who is closer when the two sides differ.
using Exact = std::function<long double(size_t)>;

struct Row {
  std::string name;
  double ours_s, talib_s;
  double diff;                      // ours vs TA-Lib
  double ours_error = -1, talib_error = -1;  // vs the exact value at sampled rows (-1: not checked)
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s TALIB_NODE [POINTS] [REPEATS]\n", argv[0]);
    return 2;
  }
  // Our indicators return new vectors, TA-Lib writes into the caller's: keep freed memory in the
  // heap (no mmap/munmap per call) so both sides time the computation, not the kernel faulting
  // in 80 MB of fresh pages (costly on a VM). The first repeat pays the faults; best-of drops it.
  mallopt(M_MMAP_THRESHOLD, 1 << 30);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  const size_t n = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 10'000'000;
  const int repeats = argc > 3 ? std::atoi(argv[3]) : 3;
  TaLib ta;
  ta.handle = dlopen(argv[1], RTLD_LAZY | RTLD_LOCAL);
  if (!ta.handle) {
    std::fprintf(stderr, "cannot load TA-Lib from %s: %s\n", argv[1], dlerror());
    return 2;
  }
  ta.get<int (*)()>("TA_Initialize")();
  const Series s = make_series(n);
  const int last = static_cast<int>(n) - 1;
  std::vector<double> o1(n), o2(n), o3(n);
  int beg = 0, count = 0;
  std::vector<Row> rows;

  // `ours` fills its argument: an _into function writes into the preallocated buffer (as TA-Lib
  // does into o1), a vector-returning one replaces it.
  std::vector<double> mine(n), m2(n), m3(n);
  auto run = [&](const std::string& name, const std::function<void(std::vector<double>&)>& ours,
                 const std::function<void()>& theirs, Exact exact = nullptr) {
    mine.assign(n, 0.0);
    const double ours_s = best_seconds(repeats, [&] { ours(mine); });
    const double talib_s = best_seconds(repeats, theirs);
    Row row{name, ours_s, talib_s, difference(mine, o1, beg, count)};
    if (exact && row.diff > 1e-9) {
      row.ours_error = row.talib_error = 0;
      for (size_t i = static_cast<size_t>(beg); i < n; i += 997) {
        const long double want = exact(i);
        auto err = [&](double got) { return static_cast<double>(std::fabs(got - want) / std::max<long double>(1, std::fabs(want))); };
        row.ours_error = std::max(row.ours_error, err(mine[i]));
        row.talib_error = std::max(row.talib_error, err(o1[i - static_cast<size_t>(beg)]));
      }
    }
    rows.push_back(row);
    std::fprintf(stderr, "  %s done\n", name.c_str());
  };
  auto window_sum = [&](const std::vector<double>& v, size_t i, int p) {
    long double sum = 0;
    for (size_t k = i + 1 - static_cast<size_t>(p); k <= i; ++k) sum += v[k];
    return sum;
  };
  auto window_var = [&](const std::vector<double>& v, size_t i, int p) {
    const long double mean = window_sum(v, i, p) / p;
    long double ss = 0;
    for (size_t k = i + 1 - static_cast<size_t>(p); k <= i; ++k) ss += (v[k] - mean) * (v[k] - mean);
    return ss / p;
  };

  const auto* hi = s.high.data();
  const auto* lo = s.low.data();
  const auto* cl = s.close.data();
  const auto* vo = s.volume.data();
  auto one = [&](const char* fn, int period) {
    const Fn1 f = ta.get<Fn1>(fn);
    return [=, &beg, &count, &o1] { f(0, last, cl, period, &beg, &count, o1.data()); };
  };
  auto hlc = [&](const char* fn, int period) {
    const FnHLC f = ta.get<FnHLC>(fn);
    return [=, &beg, &count, &o1] { f(0, last, hi, lo, cl, period, &beg, &count, o1.data()); };
  };

  // The list.
  run("SMA(30)", [&](auto& m) { sma_into(s.close, 30, m); }, one("TA_SMA", 30),
      [&](size_t i) { return window_sum(s.close, i, 30) / 30; });
  run("EMA(30)", [&](auto& m) { ema_into(s.close, 30, m); }, one("TA_EMA", 30));
  run("RSI(14)", [&](auto& m) { rsi_into(s.close, 14, m); }, one("TA_RSI", 14));
  run("ATR(14)", [&](auto& m) { atr_into(s.high, s.low, s.close, 14, m); }, hlc("TA_ATR", 14));
  {
    using Fn = int (*)(int, int, const double*, int, double, double, int, int*, int*, double*, double*, double*);
    const Fn f = ta.get<Fn>("TA_BBANDS");
    run("BBANDS(20,2,2) upper", [&](auto& m) { bbands_into(s.close, 20, 2, 2, m, m2, m3); },
        [&] { f(0, last, cl, 20, 2.0, 2.0, 0, &beg, &count, o1.data(), o2.data(), o3.data()); },
        [&](size_t i) { return window_sum(s.close, i, 20) / 20 + 2 * std::sqrt(window_var(s.close, i, 20)); });
  }
  {
    using Fn = int (*)(int, int, const double*, int, int, int, int*, int*, double*, double*, double*);
    const Fn f = ta.get<Fn>("TA_MACD");
    run("MACD(12,26,9) hist", [&](auto& m) { macd_into(s.close, 12, 26, 9, m2, m3, m); },
        [&] { f(0, last, cl, 12, 26, 9, &beg, &count, o2.data(), o3.data(), o1.data()); });
  }
  run("ADX(14)", [&](auto& m) { adx_into(s.high, s.low, s.close, 14, m); }, hlc("TA_ADX", 14));
  // The rolling-window family.
  run("WMA(30)", [&](auto& m) { m = wma(s.close, 30); }, one("TA_WMA", 30), [&](size_t i) {
    long double sum = 0;
    for (int k = 0; k < 30; ++k) sum += static_cast<long double>(30 - k) * s.close[i - static_cast<size_t>(k)];
    return sum / 465;
  });
  {
    using Fn = int (*)(int, int, const double*, int, double, int*, int*, double*);
    const Fn f = ta.get<Fn>("TA_STDDEV");
    run("STDDEV(20)", [&](auto& m) { m = stddev(s.close, 20, 1); }, [&] { f(0, last, cl, 20, 1.0, &beg, &count, o1.data()); },
        [&](size_t i) { return std::sqrt(window_var(s.close, i, 20)); });
  }
  run("MIDPOINT(14)", [&](auto& m) { m = midpoint(s.close, 14); }, one("TA_MIDPOINT", 14));
  run("WILLR(14)", [&](auto& m) { m = willr(s.high, s.low, s.close, 14); }, hlc("TA_WILLR", 14));
  run("CCI(14)", [&](auto& m) { m = cci(s.high, s.low, s.close, 14); }, hlc("TA_CCI", 14));
  {
    using Fn = int (*)(int, int, const double*, const double*, const double*, const double*, int, int*, int*, double*);
    const Fn f = ta.get<Fn>("TA_MFI");
    run("MFI(14)", [&](auto& m) { m = mfi(s.high, s.low, s.close, s.volume, 14); },
        [&] { f(0, last, hi, lo, cl, vo, 14, &beg, &count, o1.data()); }, [&](size_t i) {
          long double pos = 0, neg = 0;
          for (size_t k = i - 13; k <= i; ++k) {
            const long double tp = (static_cast<long double>(s.high[k]) + s.low[k] + s.close[k]) / 3;
            const long double before = (static_cast<long double>(s.high[k - 1]) + s.low[k - 1] + s.close[k - 1]) / 3;
            if (tp > before) pos += tp * s.volume[k];
            else if (tp < before) neg += tp * s.volume[k];
          }
          return 100 * pos / (pos + neg);
        });
  }
  run("LINEARREG(14)", [&](auto& m) { m = linearreg(s.close, 14, LinearFit::kValue).value; }, one("TA_LINEARREG", 14));
  {
    using Fn = int (*)(int, int, const double*, const double*, int, int*, int*, double*);
    const Fn f = ta.get<Fn>("TA_CORREL");
    run("CORREL(30)", [&](auto& m) { m = correl(s.high, s.low, 30); }, [&] { f(0, last, hi, lo, 30, &beg, &count, o1.data()); },
        [&](size_t i) {
          const long double mx = window_sum(s.high, i, 30) / 30, my = window_sum(s.low, i, 30) / 30;
          long double sxy = 0, sxx = 0, syy = 0;
          for (size_t k = i - 29; k <= i; ++k) {
            sxy += (s.high[k] - mx) * (s.low[k] - my);
            sxx += (s.high[k] - mx) * (s.high[k] - mx);
            syy += (s.low[k] - my) * (s.low[k] - my);
          }
          return sxy / std::sqrt(sxx * syy);
        });
  }
  {
    using Fn = int (*)(int, int, const double*, const double*, int, int*, int*, double*, double*);
    const Fn f = ta.get<Fn>("TA_AROON");
    run("AROON(14) up", [&](auto& m) { m = aroon(s.high, s.low, 14).up; },
        [&] { f(0, last, hi, lo, 14, &beg, &count, o2.data(), o1.data()); });
  }

  std::printf("%zu points, best of %d; TA-Lib one thread, ours up to %u (window indicators split long series into\n"
              "fixed chunks; recursive ones cannot be split)\n", n, repeats, std::thread::hardware_concurrency());
  std::printf("%-22s %11s %12s %7s  %-10s %s\n", "indicator", "ours Mpt/s", "TA-Lib Mpt/s", "ratio", "vs TA-Lib",
              "error vs exact (sampled): ours / TA-Lib");
  int bad = 0;
  for (const auto& r : rows) {
    std::printf("%-22s %11.1f %12.1f %6.2fx  %-10.1e", r.name.c_str(), n / r.ours_s / 1e6, n / r.talib_s / 1e6,
                r.talib_s / r.ours_s, r.diff);
    if (r.ours_error >= 0) std::printf(" %.1e / %.1e", r.ours_error, r.talib_error);
    std::printf("\n");
    // Equal to TA-Lib, or closer to the exact value than TA-Lib is.
    bad += !(r.diff <= 1e-9 || (r.ours_error >= 0 && r.ours_error <= r.talib_error));
  }
  return bad == 0 ? 0 : 1;
}

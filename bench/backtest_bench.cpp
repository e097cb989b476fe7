// The portfolio backtester's engine time on a synthetic market: SYMBOLS random walks x YEARS of
// NYSE-like sessions (252 a year), SMA(50/200) cross equal-weighted at 1/SYMBOLS, the default
// costs, order and position limits out of the way. Prints one JSON line: engine seconds, bar events, events per second, trades,
// peak RSS (the market data included). Run by bench/run-backtest.mjs.
//
//   backtest_bench SYMBOLS YEARS
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "trib/trading/backtest.hpp"
#include "trib/trading/strategy.hpp"

using namespace trib;
using namespace trib::trading;

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: backtest_bench SYMBOLS YEARS\n");
    return 2;
  }
  const int symbols = std::atoi(argv[1]), years = std::atoi(argv[2]);
  const int sessions = 252 * years;
  const auto built = std::chrono::steady_clock::now();
  MarketData data;
  uint64_t state = 12345;
  auto uniform = [&] {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<double>(state >> 11) / 9007199254740992.0;
  };
  const int32_t first = Date::from_ymd(2000, 1, 3).days_since_epoch();
  for (int s = 0; s < symbols; ++s) {
    SymbolSeries x;
    x.symbol = "S" + std::to_string(s);
    x.day.reserve(sessions);
    for (auto* v : {&x.open, &x.high, &x.low, &x.close, &x.volume}) v->reserve(sessions);
    double p = 20 + 80 * uniform();
    for (int t = 0; t < sessions; ++t) {
      const double open = p * (1 + 0.004 * (uniform() - 0.5));
      p *= 1 + 0.03 * (uniform() - 0.5) + 0.0002;
      x.day.push_back(first + t / 5 * 7 + t % 5);  // weekdays
      x.open.push_back(open);
      x.close.push_back(p);
      x.high.push_back(std::max(open, p) * 1.01);
      x.low.push_back(std::min(open, p) * 0.99);
      x.volume.push_back(1e6);
    }
    data.symbols.push_back(std::move(x));
  }
  const double build_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - built).count();
  auto strategy = make_sma_cross(50, 200);
  BacktestConfig config;
  config.initial_cash = 1e8;  // room for whole shares of every name
  // Limits that do not bind: the engine, not the sizing of capped orders, is measured.
  config.risk.max_position_notional = config.risk.max_order_notional = config.risk.max_order_qty = 1e15;
  const auto r = run_backtest(data, *strategy, config);
  // VmHWM (not getrusage: ru_maxrss survives exec, so it would report the parent's).
  double peak_mib = 0;
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmHWM:", 0) == 0) peak_mib = std::stod(line.substr(6)) / 1024.0;
  }
  std::printf(
      "{\"symbols\":%d,\"years\":%d,\"bar_events\":%lld,\"engine_seconds\":%.6f,\"events_per_second\":%.0f,"
      "\"trades\":%zu,\"final_equity\":%.2f,\"build_seconds\":%.3f,\"peak_rss_mib\":%.1f}\n",
      symbols, years, static_cast<long long>(r.bar_events), r.engine_seconds,
      static_cast<double>(r.bar_events) / r.engine_seconds, r.trades.size(), r.metrics.final_equity, build_s,
      peak_mib);
  return 0;
}

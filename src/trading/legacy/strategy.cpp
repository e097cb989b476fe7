#include "trib/trading/legacy/strategy.hpp"

#include <fmt/format.h>

#include "trib/core/error.hpp"

namespace trib::trading::legacy {
namespace {

// Mean close of the last `n` bars of `history` (history.size() >= n).
double mean_close(std::span<const Bar> history, int n) {
  double sum = 0;
  for (size_t i = history.size() - static_cast<size_t>(n); i < history.size(); ++i) {
    sum += history[i].close;
  }
  return sum / n;
}

}  // namespace

SmaCrossStrategy::SmaCrossStrategy(int fast, int slow) : fast_(fast), slow_(slow) {
  if (fast < 1 || fast >= slow) {
    throw Error::InvalidInput(
        fmt::format("sma_cross: need 1 <= fast < slow, got fast={} slow={}", fast, slow));
  }
}

std::string SmaCrossStrategy::name() const { return "sma_cross"; }
std::string SmaCrossStrategy::params() const { return fmt::format("fast={},slow={}", fast_, slow_); }

double SmaCrossStrategy::target_exposure(std::span<const Bar> history) const {
  if (history.size() < static_cast<size_t>(slow_)) return 0.0;
  // Strictly above: equal averages (e.g. a flat market) stay flat.
  return mean_close(history, fast_) > mean_close(history, slow_) ? 1.0 : 0.0;
}

std::unique_ptr<Strategy> make_strategy(const std::string& name, int fast, int slow) {
  if (name == "sma_cross") return std::make_unique<SmaCrossStrategy>(fast, slow);
  if (name == "buy_and_hold") return std::make_unique<BuyAndHoldStrategy>();
  throw Error::InvalidInput(fmt::format("unknown strategy '{}' (known: sma_cross, buy_and_hold)", name));
}

}  // namespace trib::trading::legacy

// trading: strategies, the daily backtester with cost models and metrics, the risk engine in
// the order path, brokers (paper now, Alpaca later) and the end-of-day live runner that records
// every order, fill and position in the catalog ledger.
//
// A strategy sees only bars and answers with a target exposure; it knows neither the backtester
// nor the live runner, which is what lets the same strategy run in both.
#pragma once

#include <memory>
#include <span>
#include <string>

#include "trib/core/bar.hpp"

namespace trib::trading::legacy {

class Strategy {
 public:
  virtual ~Strategy() = default;
  virtual std::string name() const = 0;
  // The parameters, canonically ("fast=10,slow=30"): with name() they identify the strategy,
  // so two parameterisations never share an order id.
  virtual std::string params() const { return ""; }
  // Bars needed before the strategy can decide (decisions before that are "flat").
  virtual int warmup_bars() const = 0;
  // Target exposure as a fraction of equity in [-1, 1] after seeing `history` (ascending, the
  // last element is the bar just closed). Must be a pure function of `history`.
  virtual double target_exposure(std::span<const Bar> history) const = 0;
};

// Long when SMA(fast) of closes is strictly above SMA(slow), flat otherwise. name() is
// "sma_cross" (the make_strategy name); params() "fast=F,slow=S".
class SmaCrossStrategy final : public Strategy {
 public:
  SmaCrossStrategy(int fast, int slow);  // Error::InvalidInput unless 1 <= fast < slow
  std::string name() const override;
  std::string params() const override;
  int warmup_bars() const override { return slow_; }
  double target_exposure(std::span<const Bar> history) const override;

 private:
  int fast_, slow_;
};

// Fully long from the first bar: the benchmark every strategy is compared with, and what the
// total-return check runs. name() "buy_and_hold".
class BuyAndHoldStrategy final : public Strategy {
 public:
  std::string name() const override { return "buy_and_hold"; }
  int warmup_bars() const override { return 1; }
  double target_exposure(std::span<const Bar>) const override { return 1.0; }
};

// "sma_cross" -> SmaCrossStrategy(fast, slow), "buy_and_hold"; Error::InvalidInput for unknown
// names.
std::unique_ptr<Strategy> make_strategy(const std::string& name, int fast, int slow);

}  // namespace trib::trading::legacy

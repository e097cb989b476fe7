// Strategies over a universe. After each session's close a strategy sees the as-of market view
// (signal prices, predictions: nothing dated later) and the portfolio, and answers with target
// weights (a fraction of equity per symbol) and, if it wants, explicit orders. It knows neither
// the backtester nor the live runner: the same strategy object runs in both.
//
// Targets persist: a symbol the decision does not name keeps its last target, and the order path
// keeps working toward it (an order scaled down by a limit, or not filled in full, continues the
// next session). Naming a symbol again re-sizes it at the current equity (a rebalance).
// Strategies keep their state incrementally: each call costs O(symbols updated), not O(history).
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "trib/trading/market.hpp"
#include "trib/trading/orders.hpp"
#include "trib/trading/portfolio.hpp"

namespace trib {
struct StrategyConfig;
}

namespace trib::trading {

struct Decision {
  std::vector<std::pair<size_t, double>> targets;  // (symbol, weight of equity; < 0 short)
  std::vector<OrderRequest> orders;                 // explicit orders, beside the targets

  void target(size_t symbol, double weight) { targets.emplace_back(symbol, weight); }
  void clear() {
    targets.clear();
    orders.clear();
  }
};

class Strategy {
 public:
  virtual ~Strategy() = default;
  virtual std::string name() const = 0;
  // The parameters, canonically ("fast=10,slow=30"): with name() they identify the strategy
  // (its orders' client ids, its backtest run id).
  virtual std::string params() const = 0;
  // Sessions of history the strategy reads before it can decide: how far before --from the
  // backtester starts feeding it.
  virtual int warmup_bars() const = 0;
  // Called once per session after the close, in date order, from the first session of the data.
  virtual void on_bar(const MarketView& market, const Portfolio& portfolio, Decision& out) = 0;
  // The model whose predictions the strategy reads ("" none): the loader brings them.
  virtual std::string model() const { return ""; }
};

// Per symbol: long 1/N of equity (N the universe's size) while SMA(fast) of the signal closes is
// above SMA(slow) by more than 1e-12 of it (a tie is flat), flat otherwise; a target only when
// the signal changes.
std::unique_ptr<Strategy> make_sma_cross(int fast, int slow);
// Every `rebalance_days` sessions: the return from `lookback` to `skip` sessions ago ranks the
// symbols that traded today with that much history; the best `top_k` are held at 1/top_k each,
// the rest flat. Ties go to the lower symbol index.
std::unique_ptr<Strategy> make_momentum(int lookback, int skip, int top_k, int rebalance_days);
// Qlib's TopkDropout on a model's predictions: each session, of the names held and the best
// unheld ones, the `drop_n` worst-ranked held names are sold and as many of the best unheld
// bought, so at most top_k are held at 1/top_k each. Names without a prediction for today
// rank last; a held name that did not trade today is not sold today.
std::unique_ptr<Strategy> make_topk_dropout(int top_k, int drop_n, std::string model);
// 1/N of each symbol from its first bar, never sold.
std::unique_ptr<Strategy> make_buy_and_hold();

// From trib.toml's [strategy] (name and its parameters): Error::InvalidInput for bad values.
std::unique_ptr<Strategy> make_strategy(const StrategyConfig& config);

}  // namespace trib::trading

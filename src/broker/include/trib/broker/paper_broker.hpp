// The paper broker: orders decided after a session's close fill on the next session's bar by the
// backtester's fill model (simulate_fill: the open, limits and stops inside the bar, the volume
// cap, the cost model; a cash account's buy cut to the cash), so paper trading over past sessions
// reproduces the backtest. It keeps no state of its own: the ledger holds the orders, the lake
// the bars, and an order's outcome is a function of both: asking twice gives the same answer.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "trib/catalog/catalog.hpp"
#include "trib/core/time.hpp"
#include "trib/broker/broker.hpp"
#include "trib/trading/costs.hpp"

namespace trib::broker {

struct PaperBrokerConfig {
  std::string account = "paper";
  double initial_cash = 100'000;
  trading::CostModel costs;
  double volume_participation = 0.05;
  bool margin = false;
  // The last completed session: an order for a later session is still open.
  Date last_session;
};

// The traded (raw) bar of `symbol` on `session`, nullopt when it did not trade.
using BarLookup = std::function<std::optional<trading::BarPrices>(const std::string& symbol, Date session)>;
// The product of `symbol`'s split ratios ex after `decided` and by `session` (1: none): an order
// decided before a split fills on the split's basis, as a broker adjusts open orders.
using SplitLookup = std::function<double(const std::string& symbol, Date decided, Date session)>;

std::unique_ptr<Broker> make_paper_broker(catalog::Catalog& catalog, PaperBrokerConfig config, BarLookup bars,
                                          SplitLookup splits = nullptr);

}  // namespace trib::broker

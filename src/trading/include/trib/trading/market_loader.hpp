// Loads a universe's market data from the lake: traded (raw) bars, the strategy's signal prices,
// the splits and dividends, a feature set, a model's predictions and the benchmark's
// total-return series.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "trib/catalog/catalog.hpp"
#include "trib/core/symbol.hpp"
#include "trib/etl/adjusted_bars.hpp"
#include "trib/lake/object_store.hpp"
#include "trib/trading/market.hpp"

namespace trib::trading {

struct MarketRequest {
  std::vector<Symbol> symbols;
  Timeframe timeframe = Timeframe::kDay1;
  etl::PriceOptions signal;        // the strategy's prices (adjust mode, action precedence)
  std::optional<Date> to;          // sessions after it are not read
  int64_t as_of_ns = INT64_MAX;    // the lake and the actions as they were then
  std::string model;               // its predictions, when a strategy reads them
  std::optional<Symbol> benchmark;
  // A feature set the strategy sees (basic, alpha158, a workspace set or a path; "" none): its
  // files are brought up to date first (incrementally), then read beside the bars. Daily only.
  std::string feature_set;
  std::filesystem::path workspace;
};

// Error::NotFound naming the symbol when one has no curated bars; InvalidInput for an empty
// universe.
MarketData load_market(lake::ObjectStore& store, catalog::Catalog& catalog, const MarketRequest& request);

}  // namespace trib::trading

// The "basic" feature set, computed per symbol from curated bars and written to
// features/basic/timeframe=<tf>/symbol=<S>/year=<YYYY>/data.parquet, committed in the catalog
// as dataset "features/basic".
//
// Columns (persistent): ts TIMESTAMP(NANOS,UTC), session_date DATE, close DOUBLE, then DOUBLE
// OPTIONAL (null during warm-up): sma_20, sma_50, ema_12, ema_26, rsi_14, log_return,
// volatility_20 (annualised: rolling_stddev(log_return, 20) * sqrt(252)).
#pragma once

#include <string>
#include <vector>

#include "trib/catalog/catalog.hpp"
#include "trib/core/bar.hpp"
#include "trib/core/symbol.hpp"
#include "trib/etl/adjusted_bars.hpp"
#include "trib/lake/object_store.hpp"

namespace trib::features {

struct FeatureFrame {
  std::vector<int64_t> ts_ns;
  std::vector<Date> session_date;
  std::vector<double> close;
  // In the column order above; NaN = null.
  std::vector<std::pair<std::string, std::vector<double>>> columns;
};

// Computes the basic feature set over the full history `bars`. Error::InvalidInput unless the
// bars are strictly ascending by ts.
FeatureFrame compute_basic_features(const std::vector<Bar>& bars);

struct FeatureWriteStats {
  int64_t rows = 0;
  int partitions_written = 0;    // created or replaced
  int partitions_unchanged = 0;
};

// Computes the basic set for `symbol` from all its curated bars, in the price mode `prices`
// asks for (the CLI passes trib.toml's [prices] adjust, "total" by default: no split gap in a
// return or a volatility), and commits one file per partition (idempotent: unchanged partitions
// are not rewritten; a new corporate action rewrites the partitions it changes).
FeatureWriteStats write_basic_features(lake::ObjectStore& store, catalog::Catalog& catalog,
                                       const Symbol& symbol, Timeframe tf = Timeframe::kDay1,
                                       const etl::PriceOptions& prices = {});

}  // namespace trib::features

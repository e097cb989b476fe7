// Datasets: a feature set x a label expression x a universe x a range of session dates,
// materialised column-wise for training. Rows are (session date, symbol), ordered by date then
// by the symbol's place in the universe, so a date's cross-section is one contiguous run of rows
// and a date range is one contiguous run of dates.
//
// The features are the feature set's files in the lake (computed first, incrementally, by
// features::write_feature_set); the label is evaluated by the expression engine with
// Purpose::kLabel (it may read the future: `Ref($close, -5) / $close - 1` is the next five
// sessions' return) on the same prices the features were computed on. A row's label window ends
// `label_horizon` sessions of its symbol later (label_end_day): what purging needs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "trib/catalog/catalog.hpp"
#include "trib/core/bar.hpp"
#include "trib/core/symbol.hpp"
#include "trib/core/time.hpp"
#include "trib/etl/adjusted_bars.hpp"
#include "trib/features/feature_set.hpp"
#include "trib/lake/object_store.hpp"

namespace trib::ml {

inline constexpr char kDefaultLabel[] = "Ref($close, -5) / $close - 1";

struct DatasetSpec {
  features::FeatureSet set;
  std::string label = kDefaultLabel;
  std::vector<Symbol> universe;
  Date from, to;  // rows whose session date is in [from, to]
  Timeframe tf = Timeframe::kDay1;
  etl::PriceOptions prices;  // the CLI passes [prices] adjust ("total" by default)
  unsigned threads = 0;      // 0 = one per core
};

struct Dataset {
  std::vector<std::string> feature_names;
  std::vector<std::string> symbols;   // the universe, in the spec's order
  std::vector<int32_t> day;           // per row: session date (days since the epoch)
  std::vector<int32_t> symbol;        // per row: index into `symbols`
  std::vector<int32_t> label_end_day; // per row: the session the label's window ends on (INT32_MAX: past the data)
  std::vector<std::vector<float>> x;  // x[feature][row]; NaN = missing
  std::vector<double> y;              // per row: the label; NaN when unknown (the window runs past the data)
  std::vector<int32_t> dates;         // the distinct session dates, ascending
  std::vector<size_t> date_begin;     // rows of dates[d]: [date_begin[d], date_begin[d + 1])
  int label_horizon = 0;              // sessions the label reads ahead
  std::string label;                  // canonical text of the label expression
  // SHA-256 over the set's hash, the label, universe, range, price mode and the bytes of every
  // feature partition and label value read: equal hashes, equal data.
  std::string hash;

  size_t rows() const { return day.size(); }
  size_t features() const { return x.size(); }
  // The index into `dates` of the first date >= day (dates.size() when none).
  size_t date_index(int32_t day) const;
};

struct DatasetStats {
  features::FeatureRunStats features;  // what bringing the feature files up to date did
  int symbols_without_rows = 0;        // in the universe but with no rows in the range
};

// Builds a dataset. Error::InvalidInput for an empty universe, an inverted range or a label that
// does not compile (with its column); Error::NotFound for a symbol without bars.
Dataset build_dataset(lake::ObjectStore& store, catalog::Catalog& catalog, const DatasetSpec& spec,
                      DatasetStats* stats = nullptr);

// Reads the feature set's files of `symbols` for [from, to] (no computing): rows as in Dataset,
// without labels (y all NaN, label_end_day INT32_MAX). What batch inference reads.
Dataset read_feature_rows(lake::ObjectStore& store, catalog::Catalog& catalog, const features::FeatureSet& set,
                          const std::vector<Symbol>& symbols, Date from, Date to, Timeframe tf);

}  // namespace trib::ml

// Synthetic datasets for the ml tests: symbols x sessions (weekdays), features and labels made
// by the test, a label window of `horizon` sessions of each symbol's own rows.
#pragma once

#include <climits>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "trib/ml/dataset.hpp"

namespace trib::ml::testing {

// Rows (date, symbol) for `dates` sessions from 2015-01-05 (weekdays) and `symbols` symbols;
// symbol s is missing on dates where skip(s, d) is true. Features and labels are zero: set them.
template <typename Skip>
Dataset grid(size_t dates, size_t symbols, size_t features, int horizon, Skip skip) {
  Dataset d;
  for (size_t k = 0; k < features; ++k) d.feature_names.push_back("f" + std::to_string(k));
  for (size_t s = 0; s < symbols; ++s) d.symbols.push_back("S" + std::to_string(s));
  d.x.resize(features);
  std::vector<int32_t> days;
  for (int32_t day = Date::from_ymd(2015, 1, 5).days_since_epoch(); days.size() < dates; ++day) {
    const int wd = Date(day).weekday();
    if (wd != 0 && wd != 6) days.push_back(day);
  }
  std::vector<std::vector<size_t>> rows_of(symbols);  // each symbol's rows, in date order
  for (size_t di = 0; di < dates; ++di) {
    d.dates.push_back(days[di]);
    d.date_begin.push_back(d.day.size());
    for (size_t s = 0; s < symbols; ++s) {
      if (skip(s, di)) continue;
      rows_of[s].push_back(d.day.size());
      d.day.push_back(days[di]);
      d.symbol.push_back(static_cast<int32_t>(s));
      for (auto& col : d.x) col.push_back(0.0f);
      d.y.push_back(0.0);
      d.label_end_day.push_back(INT32_MAX);
    }
  }
  d.date_begin.push_back(d.day.size());
  d.label_horizon = horizon;
  for (const auto& rows : rows_of) {
    for (size_t i = 0; i + static_cast<size_t>(horizon) < rows.size(); ++i) {
      d.label_end_day[rows[i]] = d.day[rows[i + static_cast<size_t>(horizon)]];
    }
    for (size_t i = rows.size() - std::min(rows.size(), static_cast<size_t>(horizon)); i < rows.size(); ++i) {
      d.y[rows[i]] = std::nan("");  // the window runs past the data
    }
  }
  return d;
}

inline Dataset grid(size_t dates, size_t symbols, size_t features, int horizon) {
  return grid(dates, symbols, features, horizon, [](size_t, size_t) { return false; });
}

}  // namespace trib::ml::testing

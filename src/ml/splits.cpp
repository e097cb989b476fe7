#include "trib/ml/splits.hpp"

#include <algorithm>
#include <climits>
#include <cmath>

#include <fmt/format.h>

#include "trib/core/error.hpp"

namespace trib::ml {
namespace {

// Date indices of a row and of its label's last session (dates.size() when past the data).
struct RowDates {
  std::vector<size_t> at, label_end;
};

RowDates row_dates(const Dataset& data) {
  RowDates r;
  r.at.resize(data.rows());
  r.label_end.resize(data.rows());
  for (size_t d = 0; d < data.dates.size(); ++d) {
    for (size_t row = data.date_begin[d]; row < data.date_begin[d + 1]; ++row) {
      r.at[row] = d;
      r.label_end[row] = data.label_end_day[row] == INT32_MAX ? data.dates.size() : data.date_index(data.label_end_day[row]);
    }
  }
  return r;
}

// Rows dated in [begin, end) with a label whose window (plus the embargo) ends before `next`.
void take(const Dataset& data, const RowDates& rd, size_t begin, size_t end, size_t next, int embargo,
          std::vector<size_t>& rows, Split& split) {
  if (begin >= end) return;
  for (size_t row = data.date_begin[begin]; row < data.date_begin[end]; ++row) {
    if (!std::isfinite(data.y[row])) continue;
    if (rd.label_end[row] >= next) {
      ++split.purged;
    } else if (rd.label_end[row] + static_cast<size_t>(embargo) >= next) {
      ++split.embargoed;
    } else {
      rows.push_back(row);
    }
  }
}

void check(const SplitConfig& c) {
  if (c.train < 1 || c.valid < 0 || c.test < 1 || c.embargo < 0) {
    throw Error::InvalidInput(fmt::format(
        "[split] train and test must be >= 1 and valid, embargo >= 0 sessions (got train {}, valid {}, test {}, "
        "embargo {})",
        c.train, c.valid, c.test, c.embargo));
  }
}

int32_t day_at(const Dataset& data, size_t index) { return data.dates[std::min(index, data.dates.size() - 1)]; }

}  // namespace

WindowKind parse_window_kind(const std::string& text) {
  if (text == "expanding") return WindowKind::kExpanding;
  if (text == "rolling") return WindowKind::kRolling;
  throw Error::InvalidInput(fmt::format("[split] window '{}' is not known; use expanding or rolling", text));
}

std::string to_string(WindowKind kind) { return kind == WindowKind::kExpanding ? "expanding" : "rolling"; }

std::vector<Split> walk_forward_splits(const Dataset& data, const SplitConfig& config) {
  check(config);
  const size_t n = data.dates.size();
  const size_t first_test = static_cast<size_t>(config.train) + static_cast<size_t>(config.valid);
  if (n <= first_test) {
    throw Error::InvalidInput(fmt::format(
        "the dataset has {} session(s); walk-forward needs more than train + valid = {} (shorten [split] train or "
        "valid, or widen [dataset] from/to)",
        n, first_test));
  }
  const RowDates rd = row_dates(data);
  std::vector<Split> splits;
  for (size_t test_begin = first_test; test_begin < n; test_begin += static_cast<size_t>(config.test)) {
    Split s;
    s.index = static_cast<int>(splits.size());
    const size_t test_end = std::min(n, test_begin + static_cast<size_t>(config.test));
    const size_t valid_begin = test_begin - static_cast<size_t>(config.valid);
    const size_t train_end = valid_begin;
    const size_t train_begin =
        config.window == WindowKind::kExpanding ? 0 : train_end - std::min(train_end, static_cast<size_t>(config.train));
    take(data, rd, train_begin, train_end, config.valid > 0 ? valid_begin : test_begin, config.embargo, s.train_rows, s);
    take(data, rd, valid_begin, test_begin, test_begin, config.embargo, s.valid_rows, s);
    for (size_t row = data.date_begin[test_begin]; row < data.date_begin[test_end]; ++row) {
      if (std::isfinite(data.y[row])) s.test_rows.push_back(row);
    }
    s.train_from = day_at(data, train_begin);
    s.train_to = day_at(data, train_end - 1);
    s.valid_from = config.valid > 0 ? day_at(data, valid_begin) : 0;
    s.valid_to = config.valid > 0 ? day_at(data, test_begin - 1) : 0;
    s.test_from = day_at(data, test_begin);
    s.test_to = day_at(data, test_end - 1);
    splits.push_back(std::move(s));
  }
  return splits;
}

Split final_split(const Dataset& data, const SplitConfig& config) {
  check(config);
  // The last date with a label: past it, no row can be learnt from yet.
  size_t last = data.dates.size();
  for (size_t d = data.dates.size(); d-- > 0 && last == data.dates.size();) {
    for (size_t row = data.date_begin[d]; row < data.date_begin[d + 1]; ++row) {
      if (std::isfinite(data.y[row])) {
        last = d;
        break;
      }
    }
  }
  if (last == data.dates.size() || last + 1 <= static_cast<size_t>(config.valid)) {
    throw Error::InvalidInput("the dataset has too few labelled sessions for a final model");
  }
  const RowDates rd = row_dates(data);
  Split s;
  s.index = -1;
  const size_t end = last + 1;
  const size_t valid_begin = end - static_cast<size_t>(config.valid);
  const size_t train_begin =
      config.window == WindowKind::kExpanding ? 0 : valid_begin - std::min(valid_begin, static_cast<size_t>(config.train));
  // The validation rows' labels may end anywhere in the data (nothing is tested after them).
  take(data, rd, train_begin, valid_begin, config.valid > 0 ? valid_begin : data.dates.size(), config.embargo,
       s.train_rows, s);
  take(data, rd, valid_begin, end, data.dates.size(), 0, s.valid_rows, s);
  if (s.train_rows.empty()) throw Error::InvalidInput("the final model's training window has no labelled rows");
  s.train_from = day_at(data, train_begin);
  s.train_to = day_at(data, valid_begin - 1);
  s.valid_from = config.valid > 0 ? day_at(data, valid_begin) : 0;
  s.valid_to = config.valid > 0 ? day_at(data, end - 1) : 0;
  return s;
}

}  // namespace trib::ml

// The feature expression language: Qlib-style formulas over a symbol's price series
// (`Mean($close, 5) / $close`, `Corr($close, Log($volume + 1), 20)`), every indicator of the
// registry by name (`RSI($close, 14)`, `MACD($close, 12, 26, 9).macdsignal`), and
// cross-sectional operators over a universe on each date (`CSRank(...)`, `CSZScore`,
// `CSDemean`, `CSNeutralize(x, group)`). docs/architecture.md lists every operator and its
// exact definition; the DuckDB cross-check (tests/interop/expressions_duckdb.test.mjs) holds
// them to it.
//
// Conventions (where Qlib and pandas leave a choice, ours is stated):
// - A window of n rows is defined only when all n values are finite (no partial windows, no
//   min_periods=1): a feature is null during its warm-up and after a gap, never a mean of fewer.
// - Comparisons, `&` and `|` give 1 or 0, and NaN when an operand is NaN. Every non-finite
//   result (x/0, Log(0)) is NaN: it is written as null.
// - No look-ahead: `Ref(x, n)` with n < 0 reads the future and compiles only for labels.
// - Time-series operators read a symbol's own rows (its sessions), cross-sectional ones read
//   all symbols with a value on the same session date.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "trib/core/bar.hpp"
#include "trib/core/time.hpp"

namespace trib::features::expr {

// What the expressions are compiled for: features may not read the future; labels may.
enum class Purpose { kFeature, kLabel };

struct Node;  // the compiled graph's node (expression.cpp)

// A set of named expressions compiled into one graph: equal sub-expressions are one node, so
// `Mean($close, 5)` used by ten features is computed once per symbol.
class Program {
 public:
  // Error::InvalidInput for a formula that does not compile, naming the feature, the problem
  // and its column: "MA5: window must be >= 1 at column 14".
  static Program compile(const std::vector<std::pair<std::string, std::string>>& named,
                         Purpose purpose = Purpose::kFeature);

  const std::vector<std::string>& names() const { return names_; }
  // The rows of history an output needs before its first value: the sum of its windows and
  // Ref offsets; -1 when it depends on its whole past (EMA, indicators with Wilder smoothing).
  int lookback() const { return lookback_; }
  // The rows of the future an output reads (0 for features; 5 for Ref($close, -5) / $close - 1):
  // a label on row i is known only after row i + lookahead().
  int lookahead() const { return lookahead_; }
  bool cross_sectional() const { return cross_sectional_; }
  // The canonical text of output i (whitespace and number spelling normalised).
  std::string canonical(size_t i) const;

  // Internal: the graph, shared with the evaluator.
  const std::vector<std::shared_ptr<const Node>>& nodes() const { return nodes_; }
  const std::vector<int>& outputs() const { return outputs_; }

 private:
  std::vector<std::string> names_;
  std::vector<std::shared_ptr<const Node>> nodes_;  // topological order: inputs before users
  std::vector<int> outputs_;                        // node index per name
  int lookback_ = 0;
  int lookahead_ = 0;
  bool cross_sectional_ = false;
};

// One symbol's price history, ascending by session date, all columns the same length (vwap
// NaN where the vendor gave none).
struct SeriesInput {
  std::string symbol;
  std::vector<Date> dates;
  std::vector<double> open, high, low, close, volume, vwap;
};
// `bars` (ascending) as an evaluator's input.
SeriesInput series_input(std::string symbol, std::span<const Bar> bars);

// Evaluates a program over a universe. Construction runs the cross-sectional stages (each
// evaluates its input for every symbol, in parallel, then meets across symbols by date);
// outputs() then computes the outputs of a range of symbols, so a writer can hold a batch of
// symbols' features at a time instead of the universe's. `symbols` must outlive the evaluator.
class Evaluator {
 public:
  Evaluator(const Program& program, const std::vector<SeriesInput>& symbols, unsigned threads = 0);
  // result[s - begin][k]: output k over symbols[s]'s rows, for s in [begin, end); symbols run in
  // parallel on the evaluator's threads (0: one per core).
  std::vector<std::vector<std::vector<double>>> outputs(size_t begin, size_t end) const;

 private:
  const Program& program_;
  const std::vector<SeriesInput>& symbols_;
  unsigned threads_;
  std::shared_ptr<const void> gathered_;  // the cross-sectional nodes' values (expression_eval.cpp)
};

// Every output for every symbol: Evaluator(program, symbols, threads).outputs(0, symbols.size()).
std::vector<std::vector<std::vector<double>>> evaluate(const Program& program,
                                                       const std::vector<SeriesInput>& symbols,
                                                       unsigned threads = 0);

}  // namespace trib::features::expr

// The compiled expression graph's node, shared by the compiler and the evaluator (private to
// the features library).
#pragma once

#include <string>
#include <vector>

#include "trib/features/expression.hpp"
#include "trib/features/registry.hpp"

namespace trib::features::expr {

enum class Op {
  kField, kConst, kNeg,
  kAdd, kSub, kMul, kDiv, kLt, kGt, kLe, kGe, kEq, kNe, kAnd, kOr,
  kRef, kDelta, kMean, kSum, kStd, kVar, kSkew, kKurt, kMax, kMin, kIdxMax, kIdxMin, kRank, kQuantile, kMed,
  kMad, kCorr, kCov, kSlope, kRsquare, kResi,
  kAbs, kSign, kLog, kPower, kIf, kGreater, kLess,
  kIndicator,
  kCsRank, kCsZScore, kCsDemean, kCsNeutralize,
};

struct Node {
  Op op = Op::kConst;
  std::vector<int> args;   // input nodes (series), earlier in the graph
  int field = 0;           // kField: 0 open, 1 high, 2 low, 3 close, 4 volume, 5 vwap
  double value = 0;        // kConst; Quantile's q
  int window = 0;          // window, Delta's distance, Ref's offset (negative: the future)
  const IndicatorSpec* indicator = nullptr;
  std::vector<double> params;  // the indicator's parameters, defaults filled in
  int output = 0;              // which of the indicator's outputs
  std::string key;             // canonical text: equal keys are one node
  int lookback = 0;            // rows of history needed; -1: the whole past
  int lookahead = 0;           // rows of the future read (labels: Ref(x, -n))
  bool cross_sectional = false;  // this node or one of its inputs meets across symbols
};

}  // namespace trib::features::expr

// The expression language's evaluator: each node is one pass over a symbol's whole history
// (columnar), nodes shared by several formulas are computed once, symbols run in parallel, and
// cross-sectional nodes gather every symbol's values by session date.
//
// Window operators compute each window from its own values (not from running sums), so a value
// does not depend on where the computation started: features written day by day equal the same
// features computed in one pass, bit for bit.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>
#include <unordered_map>

#include <fmt/format.h>

#include "expression_node.hpp"
#include "trib/core/parallel_for.hpp"
#include "trib/core/error.hpp"

namespace trib::features::expr {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
using Column = std::vector<double>;

double clean(double v) { return std::isfinite(v) ? v : kNaN; }

// Calls f(i, window) for each row whose last `w` values are all finite (a full window).
template <typename F>
Column over_windows(const Column& x, int w, F f) {
  Column out(x.size(), kNaN);
  const size_t n = static_cast<size_t>(w);
  size_t run = 0;  // consecutive finite values ending at i
  for (size_t i = 0; i < x.size(); ++i) {
    run = std::isfinite(x[i]) ? run + 1 : 0;
    if (run >= n) out[i] = clean(f(i, std::span<const double>(x.data() + i + 1 - n, n)));
  }
  return out;
}

template <typename F>
Column over_pair_windows(const Column& x, const Column& y, int w, F f) {
  Column out(x.size(), kNaN);
  const size_t n = static_cast<size_t>(w);
  size_t run = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    run = (std::isfinite(x[i]) && std::isfinite(y[i])) ? run + 1 : 0;
    if (run >= n) {
      out[i] = clean(f(std::span<const double>(x.data() + i + 1 - n, n), std::span<const double>(y.data() + i + 1 - n, n)));
    }
  }
  return out;
}

double mean_of(std::span<const double> v) {
  double s = 0;
  for (double x : v) s += x;
  return s / static_cast<double>(v.size());
}

// Sums of powers of deviations from the mean: {sum d^2, sum d^3, sum d^4}.
struct Moments {
  double m2 = 0, m3 = 0, m4 = 0;
};
Moments central_moments(std::span<const double> v, double mean) {
  Moments m;
  for (double x : v) {
    const double d = x - mean, d2 = d * d;
    m.m2 += d2;
    m.m3 += d2 * d;
    m.m4 += d2 * d2;
  }
  return m;
}

// Linear quantile of a window (pandas' and DuckDB quantile_cont's interpolation).
double quantile_of(std::span<const double> v, double q) {
  thread_local std::vector<double> sorted;  // one buffer per thread, not one allocation per window
  sorted.assign(v.begin(), v.end());
  const double pos = q * static_cast<double>(sorted.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  // The lo-th smallest, then the next one up: a partial sort instead of a full one.
  std::nth_element(sorted.begin(), sorted.begin() + static_cast<long>(lo), sorted.end());
  const double low = sorted[lo];
  const double high = hi == lo ? low : *std::min_element(sorted.begin() + static_cast<long>(lo) + 1, sorted.end());
  return low + (high - low) * (pos - static_cast<double>(lo));
}

// Least squares of the window against its positions 1..n: slope, r^2 and the last point's residual.
struct Fit {
  double slope, r2, residual;
};
Fit fit_of(std::span<const double> y) {
  const double n = static_cast<double>(y.size());
  const double x_mean = (n + 1) / 2;
  const double y_mean = mean_of(y);
  double sxy = 0, sxx = 0, syy = 0;
  for (size_t k = 0; k < y.size(); ++k) {
    const double dx = static_cast<double>(k + 1) - x_mean, dy = y[k] - y_mean;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  const double slope = sxy / sxx;
  const double residual = y.back() - (y_mean + slope * (n - x_mean));
  return {slope, syy > 0 ? (sxy * sxy) / (sxx * syy) : kNaN, residual};
}

// One symbol's evaluation: node values computed on demand and kept for the nodes that use them.
class SymbolEval {
 public:
  SymbolEval(const Program& program, const SeriesInput& input, size_t symbol,
             const std::unordered_map<int, std::vector<Column>>& cross_sectional)
      : program_(program), input_(input), symbol_(symbol), cross_(cross_sectional),
        values_(program.nodes().size()), done_(program.nodes().size(), false) {}

  const Column& get(int index) {
    const size_t i = static_cast<size_t>(index);
    if (!done_[i]) {
      values_[i] = compute(index, *program_.nodes()[i]);
      done_[i] = true;
    }
    return values_[i];
  }

  // The node's value if a cross-sectional stage already gathered it.
  const Column* gathered(int index) const {
    auto it = cross_.find(index);
    return it == cross_.end() ? nullptr : &it->second[symbol_];
  }

 private:
  size_t rows() const { return input_.close.size(); }

  template <typename F>
  Column map1(int a, F f) {
    const Column& x = get(a);
    Column out(x.size());
    for (size_t i = 0; i < x.size(); ++i) out[i] = clean(f(x[i]));
    return out;
  }
  template <typename F>
  Column map2(int a, int b, F f) {
    const Column& x = get(a);
    const Column& y = get(b);
    Column out(x.size());
    for (size_t i = 0; i < x.size(); ++i) out[i] = clean(f(x[i], y[i]));
    return out;
  }
  // A comparison or logical operator: 1 or 0, NaN when an operand is NaN.
  template <typename F>
  Column test2(int a, int b, F f) {
    return map2(a, b, [&](double x, double y) {
      if (std::isnan(x) || std::isnan(y)) return kNaN;
      return f(x, y) ? 1.0 : 0.0;
    });
  }

  Column compute(int index, const Node& n) {
    if (const Column* c = gathered(index)) return *c;
    const int a = n.args.empty() ? -1 : n.args[0];
    const int b = n.args.size() > 1 ? n.args[1] : -1;
    switch (n.op) {
      case Op::kField: {
        const std::vector<double>* fields[] = {&input_.open, &input_.high, &input_.low, &input_.close,
                                               &input_.volume, &input_.vwap};
        Column out(*fields[n.field]);
        out.resize(rows(), kNaN);
        for (double& v : out) v = clean(v);
        return out;
      }
      case Op::kConst: return Column(rows(), n.value);
      case Op::kNeg: return map1(a, [](double x) { return -x; });
      case Op::kAdd: return map2(a, b, [](double x, double y) { return x + y; });
      case Op::kSub: return map2(a, b, [](double x, double y) { return x - y; });
      case Op::kMul: return map2(a, b, [](double x, double y) { return x * y; });
      case Op::kDiv: return map2(a, b, [](double x, double y) { return x / y; });
      case Op::kLt: return test2(a, b, [](double x, double y) { return x < y; });
      case Op::kGt: return test2(a, b, [](double x, double y) { return x > y; });
      case Op::kLe: return test2(a, b, [](double x, double y) { return x <= y; });
      case Op::kGe: return test2(a, b, [](double x, double y) { return x >= y; });
      case Op::kEq: return test2(a, b, [](double x, double y) { return x == y; });
      case Op::kNe: return test2(a, b, [](double x, double y) { return x != y; });
      case Op::kAnd: return test2(a, b, [](double x, double y) { return x != 0 && y != 0; });
      case Op::kOr: return test2(a, b, [](double x, double y) { return x != 0 || y != 0; });
      case Op::kAbs: return map1(a, [](double x) { return std::fabs(x); });
      case Op::kSign: return map1(a, [](double x) { return std::isnan(x) ? kNaN : static_cast<double>((x > 0) - (x < 0)); });
      case Op::kLog: return map1(a, [](double x) { return std::log(x); });
      case Op::kPower: return map2(a, b, [](double x, double y) { return std::pow(x, y); });
      case Op::kGreater: return map2(a, b, [](double x, double y) { return std::isnan(x) || std::isnan(y) ? kNaN : std::max(x, y); });
      case Op::kLess: return map2(a, b, [](double x, double y) { return std::isnan(x) || std::isnan(y) ? kNaN : std::min(x, y); });
      case Op::kIf: {
        const Column& c = get(a);
        const Column& t = get(b);
        const Column& f = get(n.args[2]);
        Column out(rows());
        for (size_t i = 0; i < out.size(); ++i) out[i] = std::isnan(c[i]) ? kNaN : (c[i] != 0 ? t[i] : f[i]);
        return out;
      }
      case Op::kRef: {
        const Column& x = get(a);
        Column out(x.size(), kNaN);
        const long shift = n.window, size = static_cast<long>(x.size());
        for (long i = 0; i < size; ++i) {
          if (i - shift >= 0 && i - shift < size) out[static_cast<size_t>(i)] = x[static_cast<size_t>(i - shift)];
        }
        return out;
      }
      case Op::kDelta: {
        const Column& x = get(a);
        Column out(x.size(), kNaN);
        const size_t d = static_cast<size_t>(n.window);
        for (size_t i = d; i < x.size(); ++i) out[i] = clean(x[i] - x[i - d]);
        return out;
      }
      case Op::kMean: return over_windows(get(a), n.window, [](size_t, auto v) { return mean_of(v); });
      case Op::kSum: return over_windows(get(a), n.window, [](size_t, auto v) { return std::accumulate(v.begin(), v.end(), 0.0); });
      case Op::kVar:
      case Op::kStd: {
        const bool root = n.op == Op::kStd;
        return over_windows(get(a), n.window, [root](size_t, auto v) {
          const double var = central_moments(v, mean_of(v)).m2 / static_cast<double>(v.size() - 1);
          return root ? std::sqrt(var) : var;
        });
      }
      case Op::kSkew:
        // The adjusted Fisher-Pearson coefficient (pandas' skew, DuckDB's skewness); NaN on a flat window.
        return over_windows(get(a), n.window, [](size_t, auto v) {
          const double count = static_cast<double>(v.size());
          const Moments m = central_moments(v, mean_of(v));
          if (m.m2 == 0) return kNaN;
          const double g1 = (m.m3 / count) / std::pow(m.m2 / count, 1.5);
          return g1 * std::sqrt(count * (count - 1)) / (count - 2);
        });
      case Op::kKurt:
        // Excess kurtosis, bias-corrected (pandas' kurt, DuckDB's kurtosis); NaN on a flat window.
        return over_windows(get(a), n.window, [](size_t, auto v) {
          const double c = static_cast<double>(v.size());
          const Moments m = central_moments(v, mean_of(v));
          if (m.m2 == 0) return kNaN;
          const double g2 = (m.m4 / c) / ((m.m2 / c) * (m.m2 / c)) - 3.0;
          return ((c + 1) * g2 + 6) * (c - 1) / ((c - 2) * (c - 3));
        });
      case Op::kMax: return over_windows(get(a), n.window, [](size_t, auto v) { return *std::max_element(v.begin(), v.end()); });
      case Op::kMin: return over_windows(get(a), n.window, [](size_t, auto v) { return *std::min_element(v.begin(), v.end()); });
      case Op::kIdxMax:  // 1-based position from the window's oldest row; the first on ties
        return over_windows(get(a), n.window, [](size_t, auto v) {
          return static_cast<double>(std::max_element(v.begin(), v.end()) - v.begin() + 1);
        });
      case Op::kIdxMin:
        return over_windows(get(a), n.window, [](size_t, auto v) {
          return static_cast<double>(std::min_element(v.begin(), v.end()) - v.begin() + 1);
        });
      case Op::kRank:  // today's percentile in the window, ties averaged: (less + less-or-equal + 1) / 2n
        return over_windows(get(a), n.window, [](size_t, auto v) {
          const double today = v.back();
          double less = 0, equal = 0;
          for (double x : v) {
            less += x < today;
            equal += x == today;
          }
          return (2 * less + equal + 1) / (2.0 * static_cast<double>(v.size()));
        });
      case Op::kQuantile: {
        const double q = n.value;
        return over_windows(get(a), n.window, [q](size_t, auto v) { return quantile_of(v, q); });
      }
      case Op::kMed: return over_windows(get(a), n.window, [](size_t, auto v) { return quantile_of(v, 0.5); });
      case Op::kMad:  // mean absolute deviation around the window's mean
        return over_windows(get(a), n.window, [](size_t, auto v) {
          const double m = mean_of(v);
          double s = 0;
          for (double x : v) s += std::fabs(x - m);
          return s / static_cast<double>(v.size());
        });
      case Op::kCorr:
      case Op::kCov: {
        const bool corr = n.op == Op::kCorr;
        return over_pair_windows(get(a), get(b), n.window, [corr](auto x, auto y) {
          const double mx = mean_of(x), my = mean_of(y);
          double sxy = 0, sxx = 0, syy = 0;
          for (size_t k = 0; k < x.size(); ++k) {
            sxy += (x[k] - mx) * (y[k] - my);
            sxx += (x[k] - mx) * (x[k] - mx);
            syy += (y[k] - my) * (y[k] - my);
          }
          if (!corr) return sxy / static_cast<double>(x.size() - 1);
          return sxx > 0 && syy > 0 ? sxy / std::sqrt(sxx * syy) : kNaN;
        });
      }
      case Op::kSlope: return over_windows(get(a), n.window, [](size_t, auto v) { return fit_of(v).slope; });
      case Op::kRsquare: return over_windows(get(a), n.window, [](size_t, auto v) { return fit_of(v).r2; });
      case Op::kResi: return over_windows(get(a), n.window, [](size_t, auto v) { return fit_of(v).residual; });
      case Op::kIndicator: {
        // One run per indicator call, whichever of its outputs the formulas pick (BBANDS' upper
        // and lower bands share it).
        const std::string call = n.key.substr(0, n.key.rfind(')') + 1);
        auto cached = indicator_runs_.find(call);
        if (cached == indicator_runs_.end()) cached = indicator_runs_.emplace(call, run_indicator(n)).first;
        Column out = cached->second[static_cast<size_t>(n.output)];
        for (double& v : out) v = clean(v);
        return out;
      }
      case Op::kCsRank:
      case Op::kCsZScore:
      case Op::kCsDemean:
      case Op::kCsNeutralize:
        break;  // gathered above
    }
    throw Error::Internal(fmt::format("expression node {} was not evaluated", n.key));
  }

  // Every output of an indicator call. The registry's inputs by position: the first argument
  // feeds its first input (e.g. high for ATR), and so on.
  std::vector<Column> run_indicator(const Node& n) {
    std::span<const double> slots[5];
    const char* names[] = {"open", "high", "low", "close", "volume"};
    for (size_t k = 0; k < n.args.size(); ++k) {
      const std::string& input = n.indicator->inputs[k];
      const auto* at = std::find_if(std::begin(names), std::end(names), [&](const char* s) { return input == s; });
      slots[at - std::begin(names)] = get(n.args[k]);
    }
    return n.indicator->compute(PriceSeries{slots[0], slots[1], slots[2], slots[3], slots[4]}, n.params);
  }

  const Program& program_;
  const SeriesInput& input_;
  size_t symbol_;
  const std::unordered_map<int, std::vector<Column>>& cross_;
  std::vector<Column> values_;
  std::vector<bool> done_;
  std::unordered_map<std::string, std::vector<Column>> indicator_runs_;  // by call, all outputs
};

// One cross-sectional operator on one date: `x` (and `group`) hold each symbol's value there.
void cross_section(Op op, const std::vector<double>& x, const std::vector<double>& group, std::vector<double>& out) {
  const size_t n = x.size();
  out.assign(n, kNaN);
  std::vector<size_t> present;
  for (size_t k = 0; k < n; ++k) {
    if (std::isfinite(x[k]) && (op != Op::kCsNeutralize || std::isfinite(group[k]))) present.push_back(k);
  }
  if (present.empty()) return;
  if (op == Op::kCsRank) {  // pandas' rank(pct=True): the average rank of ties over the count
    std::vector<size_t> order = present;
    std::sort(order.begin(), order.end(), [&](size_t l, size_t r) { return x[l] < x[r]; });
    const double count = static_cast<double>(order.size());
    for (size_t i = 0; i < order.size();) {
      size_t j = i;
      while (j + 1 < order.size() && x[order[j + 1]] == x[order[i]]) ++j;
      const double rank = (static_cast<double>(i + 1) + static_cast<double>(j + 1)) / 2.0;
      for (size_t k = i; k <= j; ++k) out[order[k]] = rank / count;
      i = j + 1;
    }
    return;
  }
  if (op == Op::kCsNeutralize) {  // less the mean of the symbols in the same group that day
    std::unordered_map<double, std::pair<double, double>> sums;  // group -> (sum, count)
    for (size_t k : present) {
      auto& s = sums[group[k]];
      s.first += x[k];
      s.second += 1;
    }
    for (size_t k : present) {
      const auto& s = sums[group[k]];
      out[k] = x[k] - s.first / s.second;
    }
    return;
  }
  double sum = 0;
  for (size_t k : present) sum += x[k];
  const double mean = sum / static_cast<double>(present.size());
  if (op == Op::kCsDemean) {
    for (size_t k : present) out[k] = x[k] - mean;
    return;
  }
  // CSZScore: (x - mean) / sample standard deviation; undefined below two symbols or when flat.
  if (present.size() < 2) return;
  double ss = 0;
  for (size_t k : present) ss += (x[k] - mean) * (x[k] - mean);
  const double sd = std::sqrt(ss / static_cast<double>(present.size() - 1));
  if (!(sd > 0)) return;
  for (size_t k : present) out[k] = (x[k] - mean) / sd;
}

}  // namespace

SeriesInput series_input(std::string symbol, std::span<const Bar> bars) {
  SeriesInput in;
  in.symbol = std::move(symbol);
  for (auto* v : {&in.open, &in.high, &in.low, &in.close, &in.volume, &in.vwap}) v->reserve(bars.size());
  for (const Bar& b : bars) {
    in.dates.push_back(b.session_date);
    in.open.push_back(b.open);
    in.high.push_back(b.high);
    in.low.push_back(b.low);
    in.close.push_back(b.close);
    in.volume.push_back(b.volume);
    in.vwap.push_back(b.vwap.value_or(kNaN));
  }
  return in;
}

using Gathered = std::unordered_map<int, std::vector<Column>>;

Evaluator::Evaluator(const Program& program, const std::vector<SeriesInput>& symbols, unsigned threads)
    : program_(program), symbols_(symbols), threads_(threads) {
  for (const auto& s : symbols) {
    const size_t n = s.close.size();
    for (const auto* v : {&s.open, &s.high, &s.low, &s.volume}) {
      if (v->size() != n) throw Error::InvalidInput(fmt::format("{}: price columns differ in length", s.symbol));
    }
    if (s.dates.size() != n || (!s.vwap.empty() && s.vwap.size() != n)) {
      throw Error::InvalidInput(fmt::format("{}: dates and prices differ in length", s.symbol));
    }
  }
  auto gathered = std::make_shared<Gathered>();
  const auto& nodes = program.nodes();
  std::vector<int> cs_nodes;
  for (size_t i = 0; i < nodes.size(); ++i) {
    const Op op = nodes[i]->op;
    if (op == Op::kCsRank || op == Op::kCsZScore || op == Op::kCsDemean || op == Op::kCsNeutralize) {
      cs_nodes.push_back(static_cast<int>(i));
    }
  }
  if (!cs_nodes.empty()) {
    // Each session date's rows: (symbol, row).
    std::unordered_map<int32_t, std::vector<std::pair<size_t, size_t>>> by_date;
    for (size_t s = 0; s < symbols.size(); ++s) {
      for (size_t r = 0; r < symbols[s].dates.size(); ++r) by_date[symbols[s].dates[r].days_since_epoch()].push_back({s, r});
    }
    // In graph order, so a stage may read an earlier stage's result.
    for (int c : cs_nodes) {
      const Node& node = *nodes[static_cast<size_t>(c)];
      std::vector<Column> x(symbols.size()), group(symbols.size());
      parallel_for(symbols.size(), threads, [&](size_t s) {
        SymbolEval eval(program, symbols[s], s, *gathered);
        x[s] = eval.get(node.args[0]);
        if (node.args.size() > 1) group[s] = eval.get(node.args[1]);
      });
      std::vector<Column> result(symbols.size());
      for (size_t s = 0; s < symbols.size(); ++s) result[s].assign(symbols[s].close.size(), kNaN);
      std::vector<double> day_x, day_group, day_out;
      for (const auto& [date, rows] : by_date) {
        day_x.clear();
        day_group.clear();
        for (const auto& [s, r] : rows) {
          day_x.push_back(x[s][r]);
          day_group.push_back(group[s].empty() ? 0.0 : group[s][r]);
        }
        cross_section(node.op, day_x, day_group, day_out);
        for (size_t k = 0; k < rows.size(); ++k) result[rows[k].first][rows[k].second] = day_out[k];
      }
      gathered->emplace(c, std::move(result));
    }
  }
  gathered_ = std::move(gathered);
}

std::vector<std::vector<std::vector<double>>> Evaluator::outputs(size_t begin, size_t end) const {
  end = std::min(end, symbols_.size());
  if (begin >= end) return {};
  const Gathered& gathered = *static_cast<const Gathered*>(gathered_.get());
  std::vector<std::vector<std::vector<double>>> out(end - begin);
  parallel_for(end - begin, threads_, [&](size_t k) {
    SymbolEval eval(program_, symbols_[begin + k], begin + k, gathered);
    for (int o : program_.outputs()) out[k].push_back(eval.get(o));
  });
  return out;
}

std::vector<std::vector<std::vector<double>>> evaluate(const Program& program, const std::vector<SeriesInput>& symbols,
                                                       unsigned threads) {
  return Evaluator(program, symbols, threads).outputs(0, symbols.size());
}

}  // namespace trib::features::expr

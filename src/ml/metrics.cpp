#include "trib/ml/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <optional>
#include <set>

namespace trib::ml {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

struct Moments {
  double mean = kNaN, std = kNaN;
  size_t n = 0;
};

Moments moments(const std::vector<double>& v) {
  Moments m;
  double sum = 0;
  for (double x : v) {
    if (std::isfinite(x)) {
      sum += x;
      ++m.n;
    }
  }
  if (m.n == 0) return m;
  m.mean = sum / static_cast<double>(m.n);
  if (m.n < 2) return m;
  double ss = 0;
  for (double x : v) {
    if (std::isfinite(x)) ss += (x - m.mean) * (x - m.mean);
  }
  m.std = std::sqrt(ss / static_cast<double>(m.n - 1));
  return m;
}

double ratio(double a, double b) { return (std::isfinite(a) && std::isfinite(b) && b > 0) ? a / b : kNaN; }

// Top and bottom quantile symbols of one date, by prediction (ties broken by symbol index, so the
// sets do not depend on row order).
struct Legs {
  std::set<int32_t> top, bottom;
};

}  // namespace

double median(std::vector<double> v) {
  if (v.empty()) return kNaN;
  const size_t mid = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid), v.end());
  const double hi = v[mid];
  if (v.size() % 2 == 1) return hi;
  return 0.5 * (*std::max_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid)) + hi);
}

std::vector<double> average_ranks(std::span<const double> v) {
  std::vector<size_t> order(v.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return v[a] < v[b]; });
  std::vector<double> ranks(v.size());
  for (size_t i = 0; i < order.size();) {
    size_t j = i + 1;
    while (j < order.size() && v[order[j]] == v[order[i]]) ++j;
    const double rank = 0.5 * static_cast<double>(i + 1 + j);  // mean of positions i+1 .. j
    for (size_t k = i; k < j; ++k) ranks[order[k]] = rank;
    i = j;
  }
  return ranks;
}

double pearson(std::span<const double> a, std::span<const double> b) {
  const size_t n = std::min(a.size(), b.size());
  if (n < 2) return kNaN;
  double ma = 0, mb = 0;
  for (size_t i = 0; i < n; ++i) {
    ma += a[i];
    mb += b[i];
  }
  ma /= static_cast<double>(n);
  mb /= static_cast<double>(n);
  double sab = 0, saa = 0, sbb = 0;
  for (size_t i = 0; i < n; ++i) {
    const double da = a[i] - ma, db = b[i] - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  if (saa <= 0 || sbb <= 0) return kNaN;
  return sab / std::sqrt(saa * sbb);
}

double spearman(std::span<const double> a, std::span<const double> b) {
  const auto ra = average_ranks(a);
  const auto rb = average_ranks(b);
  return pearson(ra, rb);
}

std::vector<DateMetrics> metrics_by_date(std::span<const int32_t> day, std::span<const int32_t> symbol,
                                         std::span<const double> prediction, std::span<const double> label,
                                         int quantiles) {
  std::vector<DateMetrics> out;
  const int q = std::max(quantiles, 2);
  std::optional<Legs> previous;
  size_t i = 0;
  while (i < day.size()) {
    size_t j = i;
    while (j < day.size() && day[j] == day[i]) ++j;
    std::vector<double> p, y;
    std::vector<int32_t> s;
    for (size_t r = i; r < j; ++r) {
      if (std::isfinite(prediction[r]) && std::isfinite(label[r])) {
        p.push_back(prediction[r]);
        y.push_back(label[r]);
        s.push_back(symbol[r]);
      }
    }
    DateMetrics m;
    m.day = day[i];
    m.n = p.size();
    i = j;
    if (m.n < 2) continue;
    m.ic = pearson(p, y);
    m.rank_ic = spearman(p, y);
    if (!std::isfinite(m.ic) || !std::isfinite(m.rank_ic)) continue;
    // Hit rate: the same side of the date's median.
    const double pm = median(p), ym = median(y);
    size_t hits = 0, counted = 0;
    for (size_t k = 0; k < m.n; ++k) {
      if (p[k] == pm || y[k] == ym) continue;
      ++counted;
      if ((p[k] > pm) == (y[k] > ym)) ++hits;
    }
    m.hit_rate = counted > 0 ? static_cast<double>(hits) / static_cast<double>(counted) : kNaN;
    // Order by prediction, ties by symbol.
    std::vector<size_t> order(m.n);
    std::iota(order.begin(), order.end(), size_t{0});
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      return p[a] != p[b] ? p[a] < p[b] : s[a] < s[b];
    });
    const size_t k = std::max<size_t>(1, m.n / static_cast<size_t>(q));
    Legs legs;
    double top = 0, bottom = 0;
    for (size_t r = 0; r < k; ++r) {
      bottom += y[order[r]];
      legs.bottom.insert(s[order[r]]);
      top += y[order[m.n - 1 - r]];
      legs.top.insert(s[order[m.n - 1 - r]]);
    }
    m.long_short = (top - bottom) / static_cast<double>(k);
    if (previous) {
      auto changed = [](const std::set<int32_t>& now, const std::set<int32_t>& before) {
        size_t fresh = 0;
        for (int32_t x : now) fresh += before.count(x) == 0 ? 1 : 0;
        return static_cast<double>(fresh) / static_cast<double>(now.size());
      };
      m.turnover = 0.5 * (changed(legs.top, previous->top) + changed(legs.bottom, previous->bottom));
    } else {
      m.turnover = kNaN;
    }
    previous = std::move(legs);
    m.buckets.assign(static_cast<size_t>(q), 0.0);
    std::vector<size_t> counts(static_cast<size_t>(q), 0);
    for (size_t r = 0; r < m.n; ++r) {
      const size_t b = r * static_cast<size_t>(q) / m.n;
      m.buckets[b] += y[order[r]];
      ++counts[b];
    }
    for (size_t b = 0; b < m.buckets.size(); ++b) {
      m.buckets[b] = counts[b] > 0 ? m.buckets[b] / static_cast<double>(counts[b]) : kNaN;
    }
    out.push_back(std::move(m));
  }
  return out;
}

MetricsSummary summarize(const std::vector<DateMetrics>& by_date, int quantiles) {
  MetricsSummary s;
  const int q = std::max(quantiles, 2);
  std::vector<double> ic, ric, hit, ls, to;
  std::vector<double> bucket_sum(static_cast<size_t>(q), 0.0);
  std::vector<size_t> bucket_n(static_cast<size_t>(q), 0);
  size_t positive = 0;
  for (const auto& m : by_date) {
    ++s.dates;
    s.rows += m.n;
    ic.push_back(m.ic);
    ric.push_back(m.rank_ic);
    hit.push_back(m.hit_rate);
    ls.push_back(m.long_short);
    to.push_back(m.turnover);
    positive += m.rank_ic > 0 ? 1 : 0;
    for (size_t b = 0; b < m.buckets.size() && b < bucket_sum.size(); ++b) {
      if (std::isfinite(m.buckets[b])) {
        bucket_sum[b] += m.buckets[b];
        ++bucket_n[b];
      }
    }
  }
  const Moments mic = moments(ic), mric = moments(ric), mls = moments(ls);
  s.ic_mean = mic.mean;
  s.ic_std = mic.std;
  s.icir = ratio(mic.mean, mic.std);
  s.rank_ic_mean = mric.mean;
  s.rank_ic_std = mric.std;
  s.rank_icir = ratio(mric.mean, mric.std);
  s.ic_positive_share = s.dates > 0 ? static_cast<double>(positive) / static_cast<double>(s.dates) : kNaN;
  s.hit_rate = moments(hit).mean;
  s.long_short_mean = mls.mean;
  s.long_short_std = mls.std;
  s.long_short_ir = ratio(mls.mean, mls.std);
  s.turnover_mean = moments(to).mean;
  s.bucket_means.resize(bucket_sum.size());
  std::vector<double> index;
  for (size_t b = 0; b < bucket_sum.size(); ++b) {
    s.bucket_means[b] = bucket_n[b] > 0 ? bucket_sum[b] / static_cast<double>(bucket_n[b]) : kNaN;
    index.push_back(static_cast<double>(b));
  }
  s.monotonicity = s.dates > 0 ? spearman(index, s.bucket_means) : kNaN;
  return s;
}

nlohmann::json MetricsSummary::to_json() const {
  auto num = [](double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); };
  nlohmann::json buckets = nlohmann::json::array();
  for (double b : bucket_means) buckets.push_back(num(b));
  return {{"dates", dates},
          {"rows", rows},
          {"ic_mean", num(ic_mean)},
          {"ic_std", num(ic_std)},
          {"icir", num(icir)},
          {"rank_ic_mean", num(rank_ic_mean)},
          {"rank_ic_std", num(rank_ic_std)},
          {"rank_icir", num(rank_icir)},
          {"ic_positive_share", num(ic_positive_share)},
          {"hit_rate", num(hit_rate)},
          {"long_short_mean", num(long_short_mean)},
          {"long_short_std", num(long_short_std)},
          {"long_short_ir", num(long_short_ir)},
          {"turnover_mean", num(turnover_mean)},
          {"bucket_means", buckets},
          {"monotonicity", num(monotonicity)}};
}

}  // namespace trib::ml

// How a forecast scored, per date and over a test period, as quant researchers measure it.
// On each date (the cross-section of symbols with a prediction and a realised label):
//   ic         Pearson correlation of prediction and label;
//   rank_ic    Spearman: Pearson of their ranks (ties share their average rank);
//   hit_rate   share of rows whose prediction and label fall on the same side of their date's
//              median (rows on a median are not counted);
//   long_short mean label of the top quantile by prediction minus that of the bottom one
//              (quantile = floor(n / quantiles) rows, at least 1);
//   turnover   share of the top (and of the bottom) quantile's symbols that were not in it on the
//              previous date, averaged over the two legs (first date: not defined);
//   buckets    mean label in each of `quantiles` buckets by prediction rank (bucket of the i-th
//              smallest of n: floor(i * quantiles / n)).
// Over the period: means and standard deviations (sample, n - 1) of the per-date values;
// ICIR = mean IC / std IC (per period, not annualised); decile monotonicity = Spearman of
// bucket number against the bucket's mean label over all dates (1: perfectly increasing).
// A date with fewer than 2 rows, or no variation in prediction or label, has no IC (NaN) and is
// left out of the means.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include <nlohmann/json.hpp>

namespace trib::ml {

struct DateMetrics {
  int32_t day = 0;
  size_t n = 0;
  double ic = 0, rank_ic = 0, hit_rate = 0, long_short = 0, turnover = 0;
  std::vector<double> buckets;
};

struct MetricsSummary {
  size_t dates = 0, rows = 0;
  double ic_mean = 0, ic_std = 0, icir = 0;
  double rank_ic_mean = 0, rank_ic_std = 0, rank_icir = 0;
  double ic_positive_share = 0;  // share of dates with rank IC > 0
  double hit_rate = 0;
  double long_short_mean = 0, long_short_std = 0, long_short_ir = 0;
  double turnover_mean = 0;
  std::vector<double> bucket_means;  // per bucket over the dates
  double monotonicity = 0;
  nlohmann::json to_json() const;
};

// Per-date metrics of rows grouped by date: `day`, `symbol`, `prediction` and `label` are
// parallel, ordered by day (any order within a day). Rows with a non-finite prediction or label
// are left out.
std::vector<DateMetrics> metrics_by_date(std::span<const int32_t> day, std::span<const int32_t> symbol,
                                         std::span<const double> prediction, std::span<const double> label,
                                         int quantiles = 10);
MetricsSummary summarize(const std::vector<DateMetrics>& by_date, int quantiles = 10);

// Pearson and Spearman (average ranks for ties) of two equally long series; NaN when undefined.
double pearson(std::span<const double> a, std::span<const double> b);
double spearman(std::span<const double> a, std::span<const double> b);
// Average ranks (1-based; ties share the mean of their positions).
std::vector<double> average_ranks(std::span<const double> v);
// The median (the mean of the middle two for an even count); NaN for none.
double median(std::vector<double> v);

}  // namespace trib::ml

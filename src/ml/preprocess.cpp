#include "trib/ml/preprocess.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "trib/core/error.hpp"
#include "trib/ml/metrics.hpp"

namespace trib::ml {
namespace {

// Centre and scale of the finite values (z-score: mean and sample std; rank: none).
void zscore_in_place(std::vector<double>& v) {
  double sum = 0;
  size_t n = 0;
  for (double x : v) {
    if (std::isfinite(x)) {
      sum += x;
      ++n;
    }
  }
  if (n == 0) return;
  const double mean = sum / static_cast<double>(n);
  double ss = 0;
  for (double x : v) {
    if (std::isfinite(x)) ss += (x - mean) * (x - mean);
  }
  const double sd = n > 1 ? std::sqrt(ss / static_cast<double>(n - 1)) : 0.0;
  for (double& x : v) {
    if (std::isfinite(x)) x = sd > 0 ? (x - mean) / sd : 0.0;
  }
}

// Ranks of the finite values scaled to [-0.5, 0.5] (ties share their average rank).
void rank_in_place(std::vector<double>& v) {
  std::vector<double> finite;
  std::vector<size_t> where;
  for (size_t i = 0; i < v.size(); ++i) {
    if (std::isfinite(v[i])) {
      finite.push_back(v[i]);
      where.push_back(i);
    }
  }
  if (finite.empty()) return;
  const auto ranks = average_ranks(finite);
  const double n = static_cast<double>(finite.size());
  for (size_t k = 0; k < where.size(); ++k) v[where[k]] = n > 1 ? (ranks[k] - 1) / (n - 1) - 0.5 : 0.0;
}

}  // namespace

FeatureNorm parse_feature_norm(const std::string& text) {
  if (text == "none") return FeatureNorm::kNone;
  if (text == "cs_zscore") return FeatureNorm::kCsZScore;
  if (text == "cs_rank") return FeatureNorm::kCsRank;
  if (text == "robust_zscore") return FeatureNorm::kRobustZScore;
  throw Error::InvalidInput(
      fmt::format("[preprocess] features '{}' is not known; use cs_zscore, cs_rank, robust_zscore or none", text));
}
MissingPolicy parse_missing_policy(const std::string& text) {
  if (text == "fill") return MissingPolicy::kFill;
  if (text == "drop") return MissingPolicy::kDrop;
  if (text == "keep") return MissingPolicy::kKeep;
  throw Error::InvalidInput(fmt::format("[preprocess] missing '{}' is not known; use fill, drop or keep", text));
}
LabelNorm parse_label_norm(const std::string& text) {
  if (text == "none") return LabelNorm::kNone;
  if (text == "cs_zscore") return LabelNorm::kCsZScore;
  if (text == "cs_rank") return LabelNorm::kCsRank;
  throw Error::InvalidInput(fmt::format("[preprocess] label '{}' is not known; use cs_zscore, cs_rank or none", text));
}
std::string to_string(FeatureNorm v) {
  switch (v) {
    case FeatureNorm::kNone: return "none";
    case FeatureNorm::kCsZScore: return "cs_zscore";
    case FeatureNorm::kCsRank: return "cs_rank";
    case FeatureNorm::kRobustZScore: return "robust_zscore";
  }
  return "?";
}
std::string to_string(MissingPolicy v) {
  switch (v) {
    case MissingPolicy::kFill: return "fill";
    case MissingPolicy::kDrop: return "drop";
    case MissingPolicy::kKeep: return "keep";
  }
  return "?";
}
std::string to_string(LabelNorm v) {
  switch (v) {
    case LabelNorm::kNone: return "none";
    case LabelNorm::kCsZScore: return "cs_zscore";
    case LabelNorm::kCsRank: return "cs_rank";
  }
  return "?";
}

nlohmann::json FittedPreprocess::to_json() const {
  return {{"features", to_string(config.features)},
          {"clip", config.clip},
          {"missing", to_string(config.missing)},
          {"label", to_string(config.label)},
          {"center", center},
          {"scale", scale}};
}

FittedPreprocess FittedPreprocess::from_json(const nlohmann::json& j) {
  FittedPreprocess f;
  f.config.features = parse_feature_norm(j.at("features").get<std::string>());
  f.config.clip = j.at("clip").get<double>();
  f.config.missing = parse_missing_policy(j.at("missing").get<std::string>());
  f.config.label = parse_label_norm(j.at("label").get<std::string>());
  f.center = j.at("center").get<std::vector<double>>();
  f.scale = j.at("scale").get<std::vector<double>>();
  return f;
}

FittedPreprocess fit_preprocess(const Dataset& data, const std::vector<size_t>& train_rows,
                                const PreprocessConfig& config) {
  FittedPreprocess f;
  f.config = config;
  if (config.features != FeatureNorm::kRobustZScore) return f;
  f.center.resize(data.features());
  f.scale.resize(data.features());
  for (size_t k = 0; k < data.features(); ++k) {
    std::vector<double> v;
    v.reserve(train_rows.size());
    for (size_t row : train_rows) {
      if (std::isfinite(data.x[k][row])) v.push_back(data.x[k][row]);
    }
    const double med = median(v);
    for (double& x : v) x = std::abs(x - med);
    const double mad = median(std::move(v));
    f.center[k] = std::isfinite(med) ? med : 0.0;
    // 1.4826 * MAD estimates the standard deviation of normal data; a constant feature scales by 1.
    f.scale[k] = std::isfinite(mad) && mad > 0 ? 1.4826 * mad : 1.0;
  }
  return f;
}

Prepared prepare(const Dataset& data, const std::vector<size_t>& rows, const FittedPreprocess& fitted,
                 bool with_target) {
  const PreprocessConfig& c = fitted.config;
  const size_t nf = data.features();
  Prepared out;
  // Rows by date: the cross-sectional statistics of a date use all of its rows.
  std::vector<double> column, labels;
  std::vector<float> block;  // one date's asked-for rows, row-major
  size_t i = 0;
  out.x.cols = nf;
  while (i < rows.size()) {
    const size_t d = data.date_index(data.day[rows[i]]);
    const size_t begin = data.date_begin[d], end = data.date_begin[d + 1];
    size_t j = i;
    while (j < rows.size() && rows[j] < end) ++j;
    block.assign((j - i) * nf, 0.0f);
    for (size_t k = 0; k < nf; ++k) {
      column.assign(data.x[k].begin() + static_cast<std::ptrdiff_t>(begin),
                    data.x[k].begin() + static_cast<std::ptrdiff_t>(end));
      switch (c.features) {
        case FeatureNorm::kNone: break;
        case FeatureNorm::kCsZScore: zscore_in_place(column); break;
        case FeatureNorm::kCsRank: rank_in_place(column); break;
        case FeatureNorm::kRobustZScore:
          for (double& x : column) x = (x - fitted.center[k]) / fitted.scale[k];
          break;
      }
      for (size_t r = i; r < j; ++r) {
        double v = column[rows[r] - begin];
        if (std::isfinite(v) && c.clip > 0) v = std::clamp(v, -c.clip, c.clip);
        if (!std::isfinite(v) && c.missing == MissingPolicy::kFill) v = 0.0;
        block[(r - i) * nf + k] = std::isfinite(v) ? static_cast<float>(v) : std::numeric_limits<float>::quiet_NaN();
      }
    }
    if (with_target) {
      // Over the asked-for rows only: a row left out (purged: its label runs into a later block)
      // must not shape the others' targets.
      labels.clear();
      for (size_t r = i; r < j; ++r) labels.push_back(data.y[rows[r]]);
      if (c.label == LabelNorm::kCsZScore) zscore_in_place(labels);
      if (c.label == LabelNorm::kCsRank) rank_in_place(labels);
    }
    uint32_t group = 0;
    for (size_t r = i; r < j; ++r) {
      const float* values = &block[(r - i) * nf];
      if (c.missing == MissingPolicy::kDrop &&
          std::any_of(values, values + nf, [](float v) { return std::isnan(v); })) {
        continue;
      }
      out.x.values.insert(out.x.values.end(), values, values + nf);
      out.rows.push_back(rows[r]);
      if (with_target) out.target.push_back(labels[r - i]);
      ++group;
    }
    if (group > 0) out.group_sizes.push_back(group);
    i = j;
  }
  out.x.rows = out.rows.size();
  return out;
}

}  // namespace trib::ml

// Preprocessing, declared in the model config and fitted on the training window only:
//   features: per-date cross-sectional z-score or rank (each date from its own cross-section,
//             so nothing crosses dates), or a robust z-score whose median and MAD are fitted on
//             the training rows, or none;
//   clip:     |x| capped after normalising (0: off);
//   missing:  fill (0 after normalising: the date's centre), drop the row, or keep NaN (XGBoost
//             learns a direction for it; refused for ridge);
//   label:    per-date z-score or rank of the training and validation targets (metrics always
//             use the raw label).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "trib/ml/dataset.hpp"
#include "trib/ml/model.hpp"

namespace trib::ml {

enum class FeatureNorm { kNone, kCsZScore, kCsRank, kRobustZScore };
enum class MissingPolicy { kFill, kDrop, kKeep };
enum class LabelNorm { kNone, kCsZScore, kCsRank };

struct PreprocessConfig {
  FeatureNorm features = FeatureNorm::kCsZScore;
  double clip = 3.0;
  MissingPolicy missing = MissingPolicy::kFill;
  LabelNorm label = LabelNorm::kCsZScore;
};

FeatureNorm parse_feature_norm(const std::string& text);
MissingPolicy parse_missing_policy(const std::string& text);
LabelNorm parse_label_norm(const std::string& text);
std::string to_string(FeatureNorm v);
std::string to_string(MissingPolicy v);
std::string to_string(LabelNorm v);

// What fitting learned (robust z-score: per-feature median and scale); empty otherwise.
struct FittedPreprocess {
  PreprocessConfig config;
  std::vector<double> center, scale;
  nlohmann::json to_json() const;
  static FittedPreprocess from_json(const nlohmann::json& j);
};

// Fits on `train_rows` of `data` (only the robust z-score learns anything).
FittedPreprocess fit_preprocess(const Dataset& data, const std::vector<size_t>& train_rows,
                                const PreprocessConfig& config);

// The model's input for `rows` (ascending): normalised features, row-major. Cross-sectional
// statistics of a date come from all of that date's rows in `data`, whichever rows are asked
// for. With MissingPolicy::kDrop, rows with a missing feature are left out: `kept` says which
// of `rows` made it.
struct Prepared {
  Matrix x;
  std::vector<size_t> rows;          // dataset rows, one per matrix row
  std::vector<double> target;        // the normalised label (training/validation)
  std::vector<uint32_t> group_sizes; // rows per date, in order (ranking objectives)
};
Prepared prepare(const Dataset& data, const std::vector<size_t>& rows, const FittedPreprocess& fitted,
                 bool with_target);

}  // namespace trib::ml

// A model's config (model.toml), strict like trib.toml: an unknown section or key, a value of
// the wrong type or out of range is an Error::InvalidInput naming it.
//
//   name = "alpha158-xgb"             # letters, digits, - and _
//   [dataset]
//   feature_set = "alpha158"          # a shipped set, <workspace>/feature_sets/<name>.toml, or a path
//   label = "Ref($close, -5) / $close - 1"
//   universe = ["AAPL", "MSFT"]       # default: every instrument with curated bars
//   from = "2013-02-08"               # default: the first session with bars
//   to = "2018-02-07"                 # default: the last
//   adjust = "total"                  # raw | split | total
//   timeframe = "1d"
//   [preprocess]
//   features = "cs_zscore"            # cs_zscore | cs_rank | robust_zscore | none
//   clip = 3.0                        # 0: off
//   missing = "fill"                  # fill | drop | keep (xgboost only)
//   label = "cs_zscore"               # cs_zscore | cs_rank | none
//   [split]
//   window = "expanding"              # expanding | rolling
//   train = 504                       # sessions
//   valid = 126
//   test = 63
//   embargo = 0
//   [model]
//   kind = "xgboost"                  # xgboost | ridge
//   seed = 0
//   [model.params]                    # the kind's own parameters (see model.cpp)
//   [metrics]
//   quantiles = 10
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "trib/core/bar.hpp"
#include "trib/core/time.hpp"
#include "trib/ml/dataset.hpp"
#include "trib/ml/preprocess.hpp"
#include "trib/ml/splits.hpp"

namespace trib::ml {

struct ModelConfig {
  std::string name;
  std::string feature_set = "alpha158";
  std::string label = kDefaultLabel;
  std::vector<std::string> universe;  // empty: every instrument with curated bars
  std::optional<Date> from, to;
  Timeframe tf = Timeframe::kDay1;
  AdjustMode adjust = AdjustMode::kTotal;
  PreprocessConfig preprocess;
  SplitConfig split;
  std::string kind = "xgboost";
  uint64_t seed = 0;
  nlohmann::json params = nlohmann::json::object();
  int quantiles = 10;

  // Error::InvalidInput naming the key (and `source`, the file) for anything wrong.
  static ModelConfig parse(std::string_view text, std::string_view source = "model.toml");
  static ModelConfig load(const std::filesystem::path& path);
  // Every setting, defaults filled in, in a fixed order: what the model id hashes and the
  // registry keeps.
  std::string to_toml() const;
};

}  // namespace trib::ml

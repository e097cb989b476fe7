// Gradient-boosted trees through XGBoost's C API (Debian's libxgboost 1.7): regression and
// ranking objectives (ranking groups rows by date), early stopping on the validation window by
// XGBoost's own evaluation, feature importance by total gain, repeatable with a seed. The model
// kept is the booster sliced to its best round, so predicting needs no iteration range and the
// same parameters trained for that many rounds by the Python package give the same trees.
#include <xgboost/c_api.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <thread>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "model_kinds.hpp"
#include "trib/core/error.hpp"

namespace trib::ml {
namespace {

using nlohmann::json;

void check(int rc, const char* what) {
  if (rc != 0) throw Error::Internal(fmt::format("xgboost: {}: {}", what, XGBGetLastError()));
}

// Parameters passed to XGBoost as they are; ours are num_boost_round and early_stopping_rounds.
const std::set<std::string> kBoosterParams = {
    "objective", "eta", "learning_rate", "max_depth", "min_child_weight", "subsample", "colsample_bytree",
    "colsample_bylevel", "colsample_bynode", "lambda", "reg_lambda", "alpha", "reg_alpha", "gamma",
    "min_split_loss", "max_bin", "tree_method", "grow_policy", "max_leaves", "max_delta_step", "eval_metric",
    "nthread", "base_score", "scale_pos_weight", "sampling_method", "lambdarank_pair_method", "num_parallel_tree"};

class DMatrix {
 public:
  DMatrix(const Matrix& x, std::span<const double> y, std::span<const uint32_t> groups, bool ranking,
          const std::vector<std::string>& names) {
    // The array interface, as the Python package passes a NumPy array (threaded, no copy of ours).
    const json array = {{"data", {reinterpret_cast<uintptr_t>(x.values.data()), true}},
                        {"shape", {x.rows, x.cols}},
                        {"typestr", "<f4"},
                        {"version", 3}};
    const std::string config = fmt::format(R"({{"missing": NaN, "nthread": {}}})", std::max(1u, std::thread::hardware_concurrency()));
    check(XGDMatrixCreateFromDense(array.dump().c_str(), config.c_str(), &handle_), "creating a DMatrix");
    if (!y.empty()) {
      std::vector<float> label(y.begin(), y.end());
      check(XGDMatrixSetFloatInfo(handle_, "label", label.data(), label.size()), "setting labels");
    }
    if (ranking && !groups.empty()) {
      std::vector<unsigned> g(groups.begin(), groups.end());
      check(XGDMatrixSetGroup(handle_, g.data(), g.size()), "setting groups");
    }
    if (!names.empty() && names.size() == x.cols) {
      std::vector<const char*> c;
      for (const auto& n : names) c.push_back(n.c_str());
      check(XGDMatrixSetStrFeatureInfo(handle_, "feature_name", c.data(), c.size()), "naming features");
    }
  }
  ~DMatrix() { XGDMatrixFree(handle_); }
  DMatrix(const DMatrix&) = delete;
  DMatrix& operator=(const DMatrix&) = delete;
  DMatrixHandle get() const { return handle_; }

 private:
  DMatrixHandle handle_ = nullptr;
};

std::string param_text(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
  if (v.is_number()) return fmt::format("{}", v.get<double>());
  throw Error::InvalidInput(fmt::format("[model.params] value {} is not a number, string or boolean", v.dump()));
}

class XgboostModel final : public Model {
 public:
  XgboostModel(const json& params, std::vector<std::string> features, uint64_t seed) : features_(std::move(features)) {
    // Defaults a researcher would start from; every one can be set.
    params_ = {{"objective", "reg:squarederror"}, {"eta", 0.05},           {"max_depth", 6},
               {"subsample", 0.8},                 {"colsample_bytree", 0.8}, {"min_child_weight", 1},
               {"tree_method", "hist"},            {"seed", seed},
               {"nthread", std::max(1u, std::thread::hardware_concurrency())}};
    for (const auto& [key, value] : params.items()) {
      if (key == "num_boost_round") {
        rounds_ = param_as<int>(value, key, "an integer");
        if (rounds_ < 1) throw Error::InvalidInput("[model.params] num_boost_round must be >= 1");
      } else if (key == "early_stopping_rounds") {
        early_stop_ = param_as<int>(value, key, "an integer");
        if (early_stop_ < 1) throw Error::InvalidInput("[model.params] early_stopping_rounds must be >= 1");
      } else if (kBoosterParams.count(key) != 0) {
        params_[key] = value;
      } else if (key == "seed") {
        throw Error::InvalidInput("[model.params] seed: set [model] seed instead");
      } else {
        throw Error::InvalidInput(fmt::format(
            "[model.params] '{}' is not an XGBoost parameter we pass on; the parameters are num_boost_round, "
            "early_stopping_rounds, {}",
            key, fmt::join(kBoosterParams, ", ")));
      }
    }
    const std::string objective = param_as<std::string>(params_["objective"], "objective", "a string");
    ranking_ = objective.rfind("rank:", 0) == 0;
    if (!params_.contains("eval_metric")) params_["eval_metric"] = ranking_ ? "ndcg" : "rmse";
  }

  XgboostModel(const std::string& bytes, std::vector<std::string> features) : features_(std::move(features)) {
    check(XGBoosterCreate(nullptr, 0, &booster_), "creating a booster");
    check(XGBoosterLoadModelFromBuffer(booster_, bytes.data(), bytes.size()), "loading a model");
  }

  ~XgboostModel() override {
    if (booster_ != nullptr) XGBoosterFree(booster_);
  }

  std::string kind() const override { return "xgboost"; }

  json fit(const TrainingData& train, const TrainingData& valid) override {
    if (train.empty()) throw Error::InvalidInput("xgboost: no training rows");
    DMatrix dtrain(*train.x, train.y, train.group_sizes, ranking_, features_);
    std::unique_ptr<DMatrix> dvalid;
    if (!valid.empty()) dvalid = std::make_unique<DMatrix>(*valid.x, valid.y, valid.group_sizes, ranking_, features_);
    std::vector<DMatrixHandle> cache = {dtrain.get()};
    if (dvalid) cache.push_back(dvalid->get());
    BoosterHandle booster = nullptr;
    check(XGBoosterCreate(cache.data(), cache.size(), &booster), "creating a booster");
    try {
      for (const auto& [key, value] : params_.items()) {
        check(XGBoosterSetParam(booster, key.c_str(), param_text(value).c_str()), "setting a parameter");
      }
      const std::string metric = params_["eval_metric"].is_string() ? params_["eval_metric"].get<std::string>() : "";
      const bool higher_better = metric.rfind("ndcg", 0) == 0 || metric.rfind("map", 0) == 0 ||
                                 metric.rfind("auc", 0) == 0 || metric.rfind("aucpr", 0) == 0;
      int best_round = rounds_ - 1;
      double best = higher_better ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
      json curve = json::array();
      for (int round = 0; round < rounds_; ++round) {
        check(XGBoosterUpdateOneIter(booster, round, dtrain.get()), "boosting");
        if (!dvalid) continue;
        DMatrixHandle evals[] = {dvalid->get()};
        const char* names[] = {"valid"};
        const char* text = nullptr;
        check(XGBoosterEvalOneIter(booster, round, evals, names, 1, &text), "evaluating");
        const std::string line(text);  // "[3]\tvalid-rmse:0.123"
        const auto colon = line.rfind(':');
        const double score = colon == std::string::npos ? std::nan("") : std::strtod(line.c_str() + colon + 1, nullptr);
        curve.push_back(score);
        if (higher_better ? score > best : score < best) {
          best = score;
          best_round = round;
        } else if (round - best_round >= early_stop_) {
          break;
        }
      }
      if (dvalid) {
        BoosterHandle sliced = nullptr;
        check(XGBoosterSlice(booster, 0, best_round + 1, 1, &sliced), "keeping the best rounds");
        XGBoosterFree(booster);
        booster = sliced;
      }
      if (booster_ != nullptr) XGBoosterFree(booster_);
      booster_ = booster;
      json report = {{"rounds", best_round + 1}, {"eval_metric", metric}, {"params", params_}};
      if (dvalid) {
        report["valid_score"] = best;
        report["rounds_tried"] = curve.size();
      }
      return report;
    } catch (...) {
      if (booster != booster_) XGBoosterFree(booster);
      throw;
    }
  }

  std::vector<double> predict(const Matrix& x) const override {
    if (booster_ == nullptr) throw Error::Internal("xgboost: predict before fit");
    if (x.rows == 0) return {};
    DMatrix d(x, {}, {}, false, features_);
    const bst_ulong* shape = nullptr;
    bst_ulong dim = 0;
    const float* out = nullptr;
    check(XGBoosterPredictFromDMatrix(booster_, d.get(),
                                      R"({"type": 0, "training": false, "iteration_begin": 0, "iteration_end": 0, "strict_shape": false})",
                                      &shape, &dim, &out),
          "predicting");
    return std::vector<double>(out, out + x.rows);
  }

  std::vector<double> importance() const override {
    std::vector<double> out(features_.size(), 0.0);
    if (booster_ == nullptr || features_.empty()) return out;
    const json config = {{"importance_type", "total_gain"}, {"feature_names", features_}};
    bst_ulong n = 0, dim = 0;
    const char** names = nullptr;
    const bst_ulong* shape = nullptr;
    const float* scores = nullptr;
    check(XGBoosterFeatureScore(booster_, config.dump().c_str(), &n, &names, &dim, &shape, &scores),
          "feature importance");
    for (bst_ulong i = 0; i < n; ++i) {
      const auto it = std::find(features_.begin(), features_.end(), names[i]);
      if (it != features_.end()) out[static_cast<size_t>(it - features_.begin())] = scores[i];
    }
    return out;
  }

  std::string save() const override {
    if (booster_ == nullptr) throw Error::Internal("xgboost: save before fit");
    bst_ulong len = 0;
    const char* data = nullptr;
    check(XGBoosterSaveModelToBuffer(booster_, R"({"format": "json"})", &len, &data), "saving");
    return std::string(data, len);
  }

 private:
  std::vector<std::string> features_;
  json params_;
  int rounds_ = 1000;
  int early_stop_ = 50;
  bool ranking_ = false;
  BoosterHandle booster_ = nullptr;
};

}  // namespace

std::unique_ptr<Model> make_xgboost(const json& params, const std::vector<std::string>& features, uint64_t seed) {
  return std::make_unique<XgboostModel>(params, features, seed);
}

std::unique_ptr<Model> load_xgboost(const std::string& bytes, const std::vector<std::string>& features) {
  return std::make_unique<XgboostModel>(bytes, features);
}

}  // namespace trib::ml

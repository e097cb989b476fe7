// Ridge regression with an intercept, as scikit-learn's Ridge(fit_intercept=True) defines it:
// minimise ||y - Xw - b||^2 + alpha ||w||^2, solved on centred data by Cholesky,
// (Xc'Xc + alpha I) w = Xc'yc, b = mean(y) - mean(X)'w. Alpha is fixed by the config or chosen
// on the validation window from a grid (by mean per-date IC, or by MSE), then the model is
// fitted on the training window alone.
#include <Eigen/Dense>

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "model_kinds.hpp"
#include "trib/core/error.hpp"
#include "trib/ml/metrics.hpp"

namespace trib::ml {
namespace {

using nlohmann::json;

constexpr size_t kBlockRows = 4096;

class RidgeModel final : public Model {
 public:
  RidgeModel(const json& params, std::vector<std::string> features) : features_(std::move(features)) {
    for (const auto& [key, value] : params.items()) {
      if (key == "alpha") {
        fixed_alpha_ = param_as<double>(value, key, "a number");
        if (!(fixed_alpha_ >= 0) || !std::isfinite(fixed_alpha_)) throw Error::InvalidInput("[model.params] alpha must be >= 0");
      } else if (key == "alphas") {
        alphas_ = param_as<std::vector<double>>(value, key, "a list of numbers");
        if (alphas_.empty() || std::any_of(alphas_.begin(), alphas_.end(), [](double a) { return !(a >= 0) || !std::isfinite(a); })) {
          throw Error::InvalidInput("[model.params] alphas must be a non-empty list of numbers >= 0");
        }
      } else if (key == "select_by") {
        select_by_ = param_as<std::string>(value, key, "a string");
        if (select_by_ != "ic" && select_by_ != "mse") {
          throw Error::InvalidInput(fmt::format("[model.params] select_by '{}' is not known; use ic or mse", select_by_));
        }
      } else {
        throw Error::InvalidInput(fmt::format(
            "[model.params] '{}' is not a ridge parameter; the parameters are alpha, alphas, select_by", key));
      }
    }
  }

  RidgeModel(const json& saved, std::vector<std::string> features, bool) : features_(std::move(features)) {
    alpha_ = saved.at("alpha").get<double>();
    intercept_ = saved.at("intercept").get<double>();
    coef_ = saved.at("coef").get<std::vector<double>>();
    if (coef_.size() != features_.size()) throw Error::InvalidInput("ridge model: coefficients do not match the features");
  }

  std::string kind() const override { return "ridge"; }

  json fit(const TrainingData& train, const TrainingData& valid) override {
    if (train.empty()) throw Error::InvalidInput("ridge: no training rows");
    check_finite(*train.x);
    const Normal normal = normal_equations(train);
    json report = json::object();
    if (fixed_alpha_ >= 0 || valid.empty()) {
      alpha_ = fixed_alpha_ >= 0 ? fixed_alpha_ : 1.0;
    } else {
      check_finite(*valid.x);
      double best = -std::numeric_limits<double>::infinity();
      json scores = json::array();
      for (double a : alphas_) {
        solve(normal, a);
        const auto p = predict(*valid.x);
        const double score = select_by_ == "ic" ? mean_ic(p, valid) : -mse(p, valid.y);
        scores.push_back({{"alpha", a}, {select_by_ == "ic" ? "valid_ic" : "valid_mse", select_by_ == "ic" ? score : -score}});
        if (score > best) {  // the first of equals: the smallest alpha in grid order
          best = score;
          alpha_ = a;
        }
      }
      report["alphas"] = scores;
    }
    solve(normal, alpha_);
    report["alpha"] = alpha_;
    return report;
  }

  std::vector<double> predict(const Matrix& x) const override {
    std::vector<double> out(x.rows);
    for (size_t r = 0; r < x.rows; ++r) {
      double v = intercept_;
      const float* row = &x.values[r * x.cols];
      for (size_t c = 0; c < x.cols; ++c) v += coef_[c] * static_cast<double>(row[c]);
      out[r] = v;
    }
    return out;
  }

  std::vector<double> importance() const override {
    std::vector<double> out;
    for (double c : coef_) out.push_back(std::abs(c));
    return out;
  }

  std::string save() const override {
    return json{{"kind", "ridge"}, {"alpha", alpha_}, {"intercept", intercept_}, {"coef", coef_}, {"features", features_}}
        .dump(1);
  }

 private:
  struct Normal {
    Eigen::MatrixXd xtx;   // Xc'Xc
    Eigen::VectorXd xty;   // Xc'yc
    Eigen::VectorXd mean_x;
    double mean_y = 0;
  };

  static void check_finite(const Matrix& x) {
    if (std::any_of(x.values.begin(), x.values.end(), [](float v) { return !std::isfinite(v); })) {
      throw Error::InvalidInput(
          "ridge cannot take missing inputs: set [preprocess] missing = \"fill\" or \"drop\"");
    }
  }

  static Normal normal_equations(const TrainingData& t) {
    const Matrix& x = *t.x;
    const auto k = static_cast<Eigen::Index>(x.cols);
    Normal n;
    n.mean_x = Eigen::VectorXd::Zero(k);
    for (size_t r = 0; r < x.rows; ++r) {
      for (Eigen::Index c = 0; c < k; ++c) n.mean_x[c] += x.values[r * x.cols + static_cast<size_t>(c)];
      n.mean_y += t.y[r];
    }
    n.mean_x /= static_cast<double>(x.rows);
    n.mean_y /= static_cast<double>(x.rows);
    n.xtx = Eigen::MatrixXd::Zero(k, k);
    n.xty = Eigen::VectorXd::Zero(k);
    Eigen::MatrixXd block;
    Eigen::VectorXd yb;
    for (size_t begin = 0; begin < x.rows; begin += kBlockRows) {
      const size_t end = std::min(x.rows, begin + kBlockRows);
      const auto m = static_cast<Eigen::Index>(end - begin);
      block.resize(m, k);
      yb.resize(m);
      for (Eigen::Index r = 0; r < m; ++r) {
        const size_t row = begin + static_cast<size_t>(r);
        for (Eigen::Index c = 0; c < k; ++c) block(r, c) = x.values[row * x.cols + static_cast<size_t>(c)] - n.mean_x[c];
        yb[r] = t.y[row] - n.mean_y;
      }
      n.xtx.selfadjointView<Eigen::Lower>().rankUpdate(block.transpose());
      n.xty.noalias() += block.transpose() * yb;
    }
    n.xtx.triangularView<Eigen::StrictlyUpper>() = n.xtx.transpose();
    return n;
  }

  void solve(const Normal& n, double alpha) {
    Eigen::MatrixXd a = n.xtx;
    a.diagonal().array() += alpha;
    Eigen::LLT<Eigen::MatrixXd> llt(a);
    Eigen::VectorXd w;
    if (llt.info() == Eigen::Success) {
      w = llt.solve(n.xty);
    } else {  // singular (alpha 0 on collinear inputs): the least-squares solution
      w = a.completeOrthogonalDecomposition().solve(n.xty);
    }
    coef_.assign(w.data(), w.data() + w.size());
    intercept_ = n.mean_y - n.mean_x.dot(w);
  }

  static double mse(const std::vector<double>& p, std::span<const double> y) {
    double s = 0;
    for (size_t i = 0; i < p.size(); ++i) s += (p[i] - y[i]) * (p[i] - y[i]);
    return s / static_cast<double>(std::max<size_t>(1, p.size()));
  }

  static double mean_ic(const std::vector<double>& p, const TrainingData& v) {
    double sum = 0;
    size_t n = 0, at = 0;
    for (uint32_t g : v.group_sizes) {
      const double ic = pearson(std::span(p).subspan(at, g), v.y.subspan(at, g));
      if (std::isfinite(ic)) {
        sum += ic;
        ++n;
      }
      at += g;
    }
    return n > 0 ? sum / static_cast<double>(n) : -std::numeric_limits<double>::infinity();
  }

  std::vector<std::string> features_;
  double fixed_alpha_ = -1;
  std::vector<double> alphas_ = {1e-2, 1e-1, 1, 10, 100, 1e3, 1e4, 1e5, 1e6};
  std::string select_by_ = "ic";
  double alpha_ = 1.0, intercept_ = 0;
  std::vector<double> coef_;
};

}  // namespace

std::unique_ptr<Model> make_ridge(const json& params, const std::vector<std::string>& features, uint64_t) {
  return std::make_unique<RidgeModel>(params, features);
}

std::unique_ptr<Model> load_ridge(const std::string& bytes, const std::vector<std::string>& features) {
  const json saved = json::parse(bytes, nullptr, false);
  if (saved.is_discarded() || !saved.is_object()) throw Error::InvalidInput("ridge model: not JSON");
  return std::make_unique<RidgeModel>(saved, features, true);
}

}  // namespace trib::ml

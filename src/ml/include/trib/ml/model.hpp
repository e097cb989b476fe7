// Models: one interface, so a new kind is a file (and its line in model.cpp's table), not a
// refactor. Shipped: "xgboost" (Debian's libxgboost, its C API) and "ridge" (Eigen).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace trib::ml {

// A dense row-major matrix of model inputs (float, as XGBoost takes them; NaN = missing).
struct Matrix {
  size_t rows = 0, cols = 0;
  std::vector<float> values;
  float at(size_t r, size_t c) const { return values[r * cols + c]; }
};

// One window's data: inputs, targets and the rows per date (ranking objectives group by date).
struct TrainingData {
  const Matrix* x = nullptr;
  std::span<const double> y;
  std::span<const uint32_t> group_sizes;
  bool empty() const { return x == nullptr || x->rows == 0; }
};

class Model {
 public:
  virtual ~Model() = default;
  virtual std::string kind() const = 0;
  // Trains on `train`; `valid` (may be empty) picks what the config leaves to it (XGBoost's
  // number of rounds by early stopping, ridge's alpha). Returns what was chosen and how the
  // validation went, for the registry.
  virtual nlohmann::json fit(const TrainingData& train, const TrainingData& valid) = 0;
  virtual std::vector<double> predict(const Matrix& x) const = 0;
  // Per input column, in order (zeros for unused columns); empty when the kind has none.
  virtual std::vector<double> importance() const = 0;
  // The trained model as bytes (XGBoost's JSON model, ridge's coefficients as JSON).
  virtual std::string save() const = 0;
  // The file extension of save()'s bytes.
  virtual std::string extension() const { return "json"; }
};

// The kinds there are: "ridge", "xgboost".
std::vector<std::string> model_kinds();
// A new model of `kind` with `params` (the config's [model.params]; unknown keys are refused
// with the known ones listed), for inputs named `features`. `seed` makes training repeatable.
std::unique_ptr<Model> make_model(const std::string& kind, const nlohmann::json& params,
                                  const std::vector<std::string>& features, uint64_t seed);
// A trained model back from save()'s bytes.
std::unique_ptr<Model> load_model(const std::string& kind, const std::string& bytes,
                                  const std::vector<std::string>& features);

}  // namespace trib::ml

// The model kinds' constructors, for model.cpp's table (private to the module).
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "trib/core/error.hpp"
#include "trib/ml/model.hpp"

namespace trib::ml {

// A [model.params] value read as T: Error::InvalidInput naming the key and the type wanted when the
// config gave another (alphas = 6 for a list), never a JSON library exception.
template <class T>
T param_as(const nlohmann::json& value, const std::string& key, const char* wanted) {
  const auto refuse = [&] {
    return Error::InvalidInput(fmt::format("[model.params] {} must be {}, not {}", key, wanted, value.dump()));
  };
  if constexpr (std::is_integral_v<T>) {
    // Whole numbers in T's range only: the library would cast 1e30 or 2^40 into an int.
    if (!value.is_number_integer()) throw refuse();
    const auto v = value.get<int64_t>();
    if (v < std::numeric_limits<T>::min() || v > std::numeric_limits<T>::max()) throw refuse();
    return static_cast<T>(v);
  } else {
    try {
      return value.get<T>();
    } catch (const nlohmann::json::exception&) {
      throw refuse();
    }
  }
}

std::unique_ptr<Model> make_ridge(const nlohmann::json& params, const std::vector<std::string>& features, uint64_t seed);
std::unique_ptr<Model> load_ridge(const std::string& bytes, const std::vector<std::string>& features);
std::unique_ptr<Model> make_xgboost(const nlohmann::json& params, const std::vector<std::string>& features, uint64_t seed);
std::unique_ptr<Model> load_xgboost(const std::string& bytes, const std::vector<std::string>& features);

}  // namespace trib::ml

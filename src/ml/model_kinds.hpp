// The model kinds' constructors, for model.cpp's table (private to the module).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "trib/ml/model.hpp"

namespace trib::ml {

std::unique_ptr<Model> make_ridge(const nlohmann::json& params, const std::vector<std::string>& features, uint64_t seed);
std::unique_ptr<Model> load_ridge(const std::string& bytes, const std::vector<std::string>& features);
std::unique_ptr<Model> make_xgboost(const nlohmann::json& params, const std::vector<std::string>& features, uint64_t seed);
std::unique_ptr<Model> load_xgboost(const std::string& bytes, const std::vector<std::string>& features);

}  // namespace trib::ml

#include "trib/ml/model.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "model_kinds.hpp"
#include "trib/core/error.hpp"

namespace trib::ml {
namespace {

struct Kind {
  const char* name;
  std::unique_ptr<Model> (*make)(const nlohmann::json&, const std::vector<std::string>&, uint64_t);
  std::unique_ptr<Model> (*load)(const std::string&, const std::vector<std::string>&);
};

// A new kind: its file, and its line here.
constexpr Kind kKinds[] = {
    {"ridge", make_ridge, load_ridge},
    {"xgboost", make_xgboost, load_xgboost},
};

const Kind& find(const std::string& kind) {
  for (const Kind& k : kKinds) {
    if (kind == k.name) return k;
  }
  throw Error::InvalidInput(fmt::format("model kind '{}' is not known; the kinds are {}", kind,
                                        fmt::join(model_kinds(), ", ")));
}

}  // namespace

std::vector<std::string> model_kinds() {
  std::vector<std::string> out;
  for (const Kind& k : kKinds) out.emplace_back(k.name);
  return out;
}

std::unique_ptr<Model> make_model(const std::string& kind, const nlohmann::json& params,
                                  const std::vector<std::string>& features, uint64_t seed) {
  return find(kind).make(params.is_null() ? nlohmann::json::object() : params, features, seed);
}

std::unique_ptr<Model> load_model(const std::string& kind, const std::string& bytes,
                                  const std::vector<std::string>& features) {
  return find(kind).load(bytes, features);
}

}  // namespace trib::ml

// Feature sets as TOML: parsing (formulas compiled, so errors name the feature and column),
// lookup by name (workspace file, then the shipped sets compiled in) or by path.
#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <toml++/toml.h>

#include "trib/core/error.hpp"
#include "trib/core/hash.hpp"
#include "trib/features/expression.hpp"
#include "trib/features/feature_set.hpp"

namespace trib::features {

// The shipped sets, generated from src/features/sets/*.toml at configure time.
const std::vector<std::pair<std::string, std::string>>& builtin_feature_set_texts();

namespace {

bool valid_column_name(const std::string& name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

std::vector<std::string> builtin_feature_sets() {
  std::vector<std::string> names;
  for (const auto& [name, text] : builtin_feature_set_texts()) names.push_back(name);
  return names;
}

FeatureSet parse_feature_set(std::string name, std::string text, std::string source) {
  if (!valid_column_name(name)) {
    throw Error::InvalidInput(fmt::format("feature set name '{}' must be letters, digits and _ (it names the "
                                          "dataset features/<name>)", name));
  }
  toml::table root;
  try {
    root = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    throw Error::InvalidInput(fmt::format("{}: not valid TOML at line {}, column {}: {}", source,
                                          e.source().begin.line, e.source().begin.column, e.description()));
  }
  const toml::table* table = root["features"].as_table();
  if (!table || table->empty()) {
    throw Error::InvalidInput(fmt::format("{}: no [features] table; write one name = \"formula\" per line under "
                                          "[features]", source));
  }
  // toml++ keeps keys sorted; the file's order (the columns' order) comes from source lines.
  std::vector<std::tuple<uint32_t, std::string, std::string>> rows;
  for (const auto& [key, node] : *table) {
    const std::string feature(key.str());
    const auto* formula = node.as_string();
    if (!formula) {
      throw Error::InvalidInput(fmt::format("{}: feature {} at line {} must be a string formula, e.g. {} = "
                                            "\"Mean($close, 5) / $close\"", source, feature,
                                            node.source().begin.line, feature));
    }
    if (!valid_column_name(feature)) {
      throw Error::InvalidInput(fmt::format("{}: feature name '{}' must be letters, digits and _, not starting "
                                            "with a digit (it is a column name)", source, feature));
    }
    const std::string l = lower(feature);
    if (l == "ts" || l == "session_date" || l == "close") {
      throw Error::InvalidInput(fmt::format("{}: feature name '{}' is taken by a column every feature file has "
                                            "(ts, session_date, close); rename it", source, feature));
    }
    rows.emplace_back(node.source().begin.line, feature, std::string(formula->get()));
  }
  std::sort(rows.begin(), rows.end());
  FeatureSet set;
  set.name = std::move(name);
  set.source = std::move(source);
  set.hash = sha256_hex(text);
  set.text = std::move(text);
  for (auto& [line, feature, formula] : rows) set.features.emplace_back(std::move(feature), std::move(formula));
  try {
    expr::Program::compile(set.features);  // every formula checked now, not mid-run
  } catch (const Error& e) {
    throw Error::InvalidInput(fmt::format("{}: {}", set.source, e.what()));
  }
  return set;
}

FeatureSet load_feature_set(std::string_view name_or_path, const std::filesystem::path& workspace_root) {
  namespace fs = std::filesystem;
  auto read = [](const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw Error::NotFound(fmt::format("cannot read feature set file {}", file.string()));
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
  };
  const std::string wanted(name_or_path);
  if (wanted.size() > 5 && wanted.ends_with(".toml")) {
    const fs::path file(wanted);
    return parse_feature_set(file.stem().string(), read(file), file.string());
  }
  const fs::path local = workspace_root / "feature_sets" / (wanted + ".toml");
  if (fs::exists(local)) return parse_feature_set(wanted, read(local), local.string());
  for (const auto& [name, text] : builtin_feature_set_texts()) {
    if (name == wanted) return parse_feature_set(name, text, "built-in " + name);
  }
  std::vector<std::string> names = builtin_feature_sets();
  if (fs::is_directory(workspace_root / "feature_sets")) {
    for (const auto& entry : fs::directory_iterator(workspace_root / "feature_sets")) {
      if (entry.path().extension() == ".toml") names.push_back(entry.path().stem().string());
    }
  }
  throw Error::NotFound(fmt::format("feature set '{}' is not known; the sets are {} (or give the path of a "
                                    ".toml file, or put one in {})", wanted, fmt::join(names, ", "),
                                    (workspace_root / "feature_sets").string()));
}

}  // namespace trib::features

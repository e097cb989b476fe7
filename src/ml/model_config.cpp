#include "trib/ml/model_config.hpp"

#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <toml++/toml.h>

#include "trib/core/corporate_action.hpp"
#include "trib/core/error.hpp"

namespace trib::ml {
namespace {

using nlohmann::json;

const std::map<std::string, std::set<std::string>> kKnown = {
    {"", {"name", "dataset", "preprocess", "split", "model", "metrics"}},
    {"dataset", {"feature_set", "label", "universe", "from", "to", "adjust", "timeframe"}},
    {"preprocess", {"features", "clip", "missing", "label"}},
    {"split", {"window", "train", "valid", "test", "embargo"}},
    {"model", {"kind", "seed", "params"}},
    {"metrics", {"quantiles"}},
};

std::string adjust_text(AdjustMode m) {
  return m == AdjustMode::kRaw ? "raw" : m == AdjustMode::kSplit ? "split" : "total";
}

class Reader {
 public:
  Reader(const toml::table& root, std::string source) : root_(root), source_(std::move(source)) {}

  void check_known() const {
    check_table(root_, "");
    for (const auto& [section, keys] : kKnown) {
      if (section.empty()) continue;
      if (const auto* node = root_.get(section)) {
        const auto* t = node->as_table();
        if (t == nullptr) fail(section, "must be a table ([" + section + "])");
        check_table(*t, section);
      }
    }
  }

  const toml::node* get(const std::string& section, const std::string& key) const {
    if (section.empty()) return root_.get(key);
    const auto* t = root_.get(section) ? root_.get(section)->as_table() : nullptr;
    return t ? t->get(key) : nullptr;
  }

  std::string text(const std::string& section, const std::string& key, std::string fallback) const {
    const auto* n = get(section, key);
    if (!n) return fallback;
    if (!n->is_string()) fail(path(section, key), "must be a string");
    return std::string(n->as_string()->get());
  }

  int64_t integer(const std::string& section, const std::string& key, int64_t fallback, int64_t lo, int64_t hi) const {
    const auto* n = get(section, key);
    if (!n) return fallback;
    if (!n->is_integer()) fail(path(section, key), "must be an integer");
    const int64_t v = n->as_integer()->get();
    if (v < lo || v > hi) fail(path(section, key), fmt::format("is {}; it must be in [{}, {}]", v, lo, hi));
    return v;
  }

  double number(const std::string& section, const std::string& key, double fallback, double lo, double hi) const {
    const auto* n = get(section, key);
    if (!n) return fallback;
    double v = 0;
    if (n->is_integer()) {
      v = static_cast<double>(n->as_integer()->get());
    } else if (n->is_floating_point()) {
      v = n->as_floating_point()->get();
    } else {
      fail(path(section, key), "must be a number");
    }
    if (!(v >= lo && v <= hi)) fail(path(section, key), fmt::format("is {}; it must be in [{}, {}]", v, lo, hi));
    return v;
  }

  std::optional<Date> date(const std::string& section, const std::string& key) const {
    const auto* n = get(section, key);
    if (!n) return std::nullopt;
    if (n->is_date()) {
      const auto d = n->as_date()->get();
      return Date::from_ymd(d.year, d.month, d.day);
    }
    if (!n->is_string()) fail(path(section, key), "must be a date (\"YYYY-MM-DD\")");
    const auto parsed = Date::try_parse(n->as_string()->get());
    if (!parsed) fail(path(section, key), "must be a date (\"YYYY-MM-DD\")");
    return parsed;
  }

  [[noreturn]] void fail(const std::string& what, const std::string& problem) const {
    throw Error::InvalidInput(fmt::format("{}: {} {}", source_, what, problem));
  }

  template <typename F>
  auto with_key(const std::string& section, const std::string& key, F f) const {
    try {
      return f();
    } catch (const Error& e) {
      if (e.category() != ErrorCategory::kInvalidInput) throw;
      throw Error::InvalidInput(fmt::format("{}: {}: {}", source_, path(section, key), e.what()));
    }
  }

 private:
  static std::string path(const std::string& section, const std::string& key) {
    return section.empty() ? key : section + "." + key;
  }

  void check_table(const toml::table& t, const std::string& section) const {
    const auto& known = kKnown.at(section);
    for (const auto& [key, value] : t) {
      const std::string k(key.str());
      if (known.count(k) == 0) {
        fail(section.empty() ? k : section + "." + k,
             fmt::format("is not a known key; the keys{} are {}", section.empty() ? "" : " of [" + section + "]",
                         fmt::join(known, ", ")));
      }
    }
  }

  const toml::table& root_;
  std::string source_;
};

json to_json(const toml::node& n) {
  if (n.is_string()) return n.as_string()->get();
  if (n.is_integer()) return n.as_integer()->get();
  if (n.is_floating_point()) return n.as_floating_point()->get();
  if (n.is_boolean()) return n.as_boolean()->get();
  if (const auto* a = n.as_array()) {
    json out = json::array();
    for (const auto& e : *a) out.push_back(to_json(e));
    return out;
  }
  if (const auto* t = n.as_table()) {
    json out = json::object();
    for (const auto& [k, v] : *t) out[std::string(k.str())] = to_json(v);
    return out;
  }
  throw Error::InvalidInput("[model.params] values must be numbers, strings, booleans or lists of them");
}

// A TOML basic string: JSON's escapes (\" \\ \n \uXXXX) are TOML's too.
std::string toml_string(const std::string& s) { return json(s).dump(); }

std::string toml_value(const json& v) {
  if (v.is_string()) return toml_string(v.get<std::string>());
  if (v.is_array()) {
    std::vector<std::string> parts;
    for (const auto& e : v) parts.push_back(toml_value(e));
    return fmt::format("[{}]", fmt::join(parts, ", "));
  }
  if (v.is_number_float()) {
    std::string t = fmt::format("{}", v.get<double>());
    if (t.find_first_of(".eEn") == std::string::npos) t += ".0";
    return t;
  }
  return v.dump();  // integers, booleans
}

}  // namespace

ModelConfig ModelConfig::parse(std::string_view text, std::string_view source) {
  toml::table root;
  try {
    root = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    throw Error::InvalidInput(fmt::format("{}:{}:{}: {}", source, e.source().begin.line, e.source().begin.column,
                                          e.description()));
  }
  Reader r(root, std::string(source));
  r.check_known();
  ModelConfig c;
  c.name = r.text("", "name", "");
  if (c.name.empty() || c.name.size() > 64 ||
      c.name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") != std::string::npos) {
    r.fail("name", "must be 1-64 letters, digits, - or _ (it names the model's files)");
  }
  c.feature_set = r.text("dataset", "feature_set", c.feature_set);
  c.label = r.text("dataset", "label", c.label);
  if (const auto* u = r.get("dataset", "universe")) {
    const auto* a = u->as_array();
    if (a == nullptr) r.fail("dataset.universe", "must be a list of symbols");
    for (const auto& e : *a) {
      if (!e.is_string()) r.fail("dataset.universe", "must be a list of symbols (strings)");
      c.universe.emplace_back(e.as_string()->get());
    }
    if (c.universe.empty()) r.fail("dataset.universe", "is empty; leave it out to use every instrument");
  }
  c.from = r.date("dataset", "from");
  c.to = r.date("dataset", "to");
  if (c.from && c.to && *c.from > *c.to) r.fail("dataset.from", "is after dataset.to");
  c.adjust = r.with_key("dataset", "adjust", [&] { return parse_adjust_mode(r.text("dataset", "adjust", "total")); });
  c.tf = r.with_key("dataset", "timeframe", [&] { return parse_timeframe(r.text("dataset", "timeframe", "1d")); });
  c.preprocess.features =
      r.with_key("preprocess", "features", [&] { return parse_feature_norm(r.text("preprocess", "features", "cs_zscore")); });
  c.preprocess.clip = r.number("preprocess", "clip", 3.0, 0, 1e6);
  c.preprocess.missing =
      r.with_key("preprocess", "missing", [&] { return parse_missing_policy(r.text("preprocess", "missing", "fill")); });
  c.preprocess.label =
      r.with_key("preprocess", "label", [&] { return parse_label_norm(r.text("preprocess", "label", "cs_zscore")); });
  c.split.window = r.with_key("split", "window", [&] { return parse_window_kind(r.text("split", "window", "expanding")); });
  c.split.train = static_cast<int>(r.integer("split", "train", c.split.train, 1, 100'000));
  c.split.valid = static_cast<int>(r.integer("split", "valid", c.split.valid, 0, 100'000));
  c.split.test = static_cast<int>(r.integer("split", "test", c.split.test, 1, 100'000));
  c.split.embargo = static_cast<int>(r.integer("split", "embargo", c.split.embargo, 0, 100'000));
  c.kind = r.text("model", "kind", c.kind);
  c.seed = static_cast<uint64_t>(r.integer("model", "seed", 0, 0, INT64_MAX));
  if (const auto* p = r.get("model", "params")) {
    if (!p->is_table()) r.fail("model.params", "must be a table ([model.params])");
    c.params = to_json(*p);
  }
  c.quantiles = static_cast<int>(r.integer("metrics", "quantiles", 10, 2, 100));
  if (c.preprocess.missing == MissingPolicy::kKeep && c.kind == "ridge") {
    r.fail("preprocess.missing", "is \"keep\" but ridge cannot take missing inputs; use \"fill\" or \"drop\"");
  }
  // The kind and its parameters are checked where they are known.
  try {
    make_model(c.kind, c.params, {}, c.seed);
  } catch (const Error& e) {
    if (e.category() != ErrorCategory::kInvalidInput) throw;
    throw Error::InvalidInput(fmt::format("{}: {}", source, e.what()));
  }
  return c;
}

ModelConfig ModelConfig::load(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw Error::NotFound(fmt::format("model config '{}' cannot be read; write one (see `trib ml train --help`)",
                                      path.string()));
  }
  std::ostringstream text;
  text << in.rdbuf();
  return parse(text.str(), path.string());
}

std::string ModelConfig::to_toml() const {
  std::string out;
  out += fmt::format("name = {}\n\n[dataset]\n", toml_string(name));
  out += fmt::format("feature_set = {}\nlabel = {}\n", toml_string(feature_set), toml_string(label));
  if (!universe.empty()) out += fmt::format("universe = {}\n", toml_value(json(universe)));
  if (from) out += fmt::format("from = {}\n", toml_string(from->to_string()));
  if (to) out += fmt::format("to = {}\n", toml_string(to->to_string()));
  out += fmt::format("adjust = {}\ntimeframe = {}\n", toml_string(adjust_text(adjust)), toml_string(std::string(to_string(tf))));
  out += fmt::format("\n[preprocess]\nfeatures = {}\nclip = {}\nmissing = {}\nlabel = {}\n",
                     toml_string(to_string(preprocess.features)), toml_value(json(preprocess.clip)),
                     toml_string(to_string(preprocess.missing)), toml_string(to_string(preprocess.label)));
  out += fmt::format("\n[split]\nwindow = {}\ntrain = {}\nvalid = {}\ntest = {}\nembargo = {}\n",
                     toml_string(to_string(split.window)), split.train, split.valid, split.test, split.embargo);
  out += fmt::format("\n[model]\nkind = {}\nseed = {}\n", toml_string(kind), seed);
  if (!params.empty()) {
    out += "\n[model.params]\n";
    for (const auto& [k, v] : params.items()) out += fmt::format("{} = {}\n", k, toml_value(v));  // sorted keys
  }
  out += fmt::format("\n[metrics]\nquantiles = {}\n", quantiles);
  return out;
}

}  // namespace trib::ml

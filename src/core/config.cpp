#include "trib/core/config.hpp"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <span>
#include <sstream>
#include <string_view>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "trib/core/time.hpp"

#include "trib/core/error.hpp"

namespace trib {
namespace fs = std::filesystem;

namespace {

constexpr std::string_view kPostgresUrlExample = "url = \"postgresql://trib@127.0.0.1:5432/trib\"";

// Every section trib.toml may hold and, in the order error messages list them, its keys.
using Names = std::span<const std::string_view>;
constexpr std::string_view kUpdateKeys[] = {"vendor", "symbols", "start", "seed"};
constexpr std::string_view kPricesKeys[] = {"adjust", "action_precedence", "bar_precedence"};
constexpr std::string_view kQualityKeys[] = {"jump_threshold", "stale_sessions", "max_price", "max_volume"};
constexpr std::string_view kLakeKeys[] = {"kind", "path", "account", "container", "prefix", "endpoint"};
constexpr std::string_view kCatalogKeys[] = {"kind", "path", "url"};
constexpr std::string_view kQueueKeys[] = {"kind", "name", "url", "account", "endpoint", "visibility_timeout_s",
                                           "max_attempts"};
constexpr std::string_view kHotCacheKeys[] = {"sessions"};
constexpr std::string_view kBrokerKeys[] = {"kind", "url", "initial_cash", "commission_per_share",
                                            "min_commission", "max_commission_pct", "commission_bps",
                                            "slippage_bps", "slippage_model", "impact_bps",
                                            "volume_participation", "account_type", "allow_short",
                                            "borrow_bps", "margin_interest_bps"};
constexpr std::string_view kRiskKeys[] = {"max_position_notional", "max_order_notional", "max_order_qty",
                                          "max_position_weight", "max_gross_leverage", "max_net_leverage",
                                          "price_band_pct", "max_orders_per_day", "daily_loss_limit_pct",
                                          "max_drawdown_pct", "restricted"};
constexpr std::string_view kStrategyKeys[] = {"name", "symbol", "universe", "benchmark", "fast", "slow",
                                              "lookback", "skip", "top_k", "drop_n", "rebalance_days",
                                              "model", "risk_free_rate"};
constexpr std::string_view kLlmKeys[] = {"kind", "url", "model", "api_version", "auth", "key_env", "timeout_s",
                                         "max_retries", "max_tokens", "max_tool_calls", "max_tool_output_bytes",
                                         "temperature", "stream"};
// [vendors.<name>]: one table per vendor; the vendor names are checked where the vendors are known.
constexpr std::string_view kVendorKeys[] = {"requests_per_minute", "requests_per_hour", "requests_per_day",
                                            "burst", "base_url", "publish_delay_minutes", "feed",
                                            "adjusted", "format", "function", "actions"};
struct SectionSchema {
  std::string_view name;
  Names keys;
};
constexpr SectionSchema kSchema[] = {
    {"lake", kLakeKeys},          {"catalog", kCatalogKeys}, {"queue", kQueueKeys},
    {"hot_cache", kHotCacheKeys}, {"broker", kBrokerKeys},   {"risk", kRiskKeys},
    {"strategy", kStrategyKeys},  {"update", kUpdateKeys},     {"prices", kPricesKeys},
    {"quality", kQualityKeys},    {"llm", kLlmKeys},         {"vendors", {}},
};

std::string join(Names items) {
  std::string out;
  for (auto item : items) out += (out.empty() ? "" : ", ") + std::string(item);
  return out;
}

std::string section_names() {
  std::string out;
  for (const auto& s : kSchema) out += (out.empty() ? "" : ", ") + std::string(s.name);
  return out;
}

// "a string", "an integer", ... for a message saying what was found.
std::string_view type_name(toml::node_type type) {
  switch (type) {
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a float";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::date: return "a date";
    case toml::node_type::time: return "a time";
    case toml::node_type::date_time: return "a date-time";
    case toml::node_type::none: break;
  }
  return "nothing";
}

// A float as TOML would show it: 3.0, not 3.
std::string float_text(double v) {
  std::string s = fmt::format("{}", v);
  if (s.find_first_of(".ein") == std::string::npos) s += ".0";
  return s;
}

// What was found, with the value when it is a number or boolean (never a string's text: that may
// be a url holding a secret).
std::string found(const toml::node& node) {
  std::string what(type_name(node.type()));
  if (auto i = node.as_integer()) return fmt::format("{} ({})", what, i->get());
  if (auto f = node.as_floating_point()) return fmt::format("{} ({})", what, float_text(f->get()));
  if (auto b = node.as_boolean()) return fmt::format("{} ({})", what, b->get());
  return what;
}

// Refuses any section or key trib.toml does not define, and a section that is not a table.
void check_known(const toml::table& root) {
  for (auto&& [section_key, section_node] : root) {
    const SectionSchema* schema = nullptr;
    for (const auto& s : kSchema) {
      if (section_key.str() == s.name) schema = &s;
    }
    if (schema == nullptr && !section_node.is_table()) {
      throw Error::InvalidInput(fmt::format(
          "trib.toml: {} is outside any section and not a known section; known sections: {}",
          section_key.str(), section_names()));
    }
    if (schema == nullptr) {
      throw Error::InvalidInput(fmt::format("trib.toml: [{}] is not a known section; known: {}",
                                            section_key.str(), section_names()));
    }
    const toml::table* table = section_node.as_table();
    if (table == nullptr) {
      throw Error::InvalidInput(fmt::format("trib.toml: [{}] must be a table, found {}",
                                            schema->name, found(section_node)));
    }
    if (schema->name == "vendors") {
      for (auto&& [vendor, vendor_node] : *table) {
        const toml::table* vt = vendor_node.as_table();
        if (vt == nullptr) {
          throw Error::InvalidInput(fmt::format(
              "trib.toml: vendors.{} must be a table ([vendors.{}] with keys {}), found {}",
              vendor.str(), vendor.str(), join(kVendorKeys), found(vendor_node)));
        }
        for (auto&& [key, node] : *vt) {
          bool known = false;
          for (auto k : kVendorKeys) known = known || key.str() == k;
          if (!known) {
            throw Error::InvalidInput(fmt::format("trib.toml: [vendors.{}] {} is not a known key; known: {}",
                                                  vendor.str(), key.str(), join(kVendorKeys)));
          }
        }
      }
      continue;
    }
    for (auto&& [key, node] : *table) {
      bool known = false;
      for (auto k : schema->keys) known = known || key.str() == k;
      if (!known) {
        throw Error::InvalidInput(fmt::format("trib.toml: [{}] {} is not a known key; known: {}",
                                              schema->name, key.str(), join(schema->keys)));
      }
    }
  }
}

// `section` may be dotted ("vendors.alpaca") for a table inside a table.
const toml::node* find(const toml::table& root, std::string_view section, std::string_view key) {
  const toml::table* table = &root;
  while (table != nullptr) {
    const size_t dot = section.find('.');
    table = (*table)[section.substr(0, dot)].as_table();
    if (dot == std::string_view::npos) break;
    section.remove_prefix(dot + 1);
  }
  return table == nullptr ? nullptr : table->get(key);
}

[[noreturn]] void wrong_type(std::string_view section, std::string_view key,
                             std::string_view expected, const toml::node& node) {
  throw Error::InvalidInput(
      fmt::format("trib.toml: [{}] {} must be {}, found {}", section, key, expected, found(node)));
}

void read_string(const toml::table& root, std::string_view section, std::string_view key,
                 std::string& out) {
  const toml::node* node = find(root, section, key);
  if (node == nullptr) return;
  if (auto v = node->as_string()) {
    out = v->get();
    return;
  }
  wrong_type(section, key, "a string", *node);
}

void read_bool(const toml::table& root, std::string_view section, std::string_view key, bool& out) {
  const toml::node* node = find(root, section, key);
  if (node == nullptr) return;
  if (auto v = node->as_boolean()) {
    out = v->get();
    return;
  }
  wrong_type(section, key, "true or false", *node);
}

// An integer in [lo, hi]. A float is refused even when whole: these are counts.
void read_int(const toml::table& root, std::string_view section, std::string_view key, int64_t lo,
              int64_t hi, int& out) {
  const toml::node* node = find(root, section, key);
  if (node == nullptr) return;
  auto v = node->as_integer();
  if (v == nullptr) wrong_type(section, key, "an integer", *node);
  const int64_t value = v->get();
  if (value < lo || value > hi) {
    throw Error::InvalidInput(fmt::format(
        "trib.toml: [{}] {} = {} is out of range; allowed: [{}, {}]", section, key, value, lo, hi));
  }
  out = static_cast<int>(value);
}

// A finite float; an integer is accepted.
void read_float(const toml::table& root, std::string_view section, std::string_view key,
                double& out) {
  const toml::node* node = find(root, section, key);
  if (node == nullptr) return;
  double value = 0;
  if (auto i = node->as_integer()) {
    value = static_cast<double>(i->get());
  } else if (auto f = node->as_floating_point()) {
    value = f->get();
  } else {
    wrong_type(section, key, "a number", *node);
  }
  if (!std::isfinite(value)) {
    throw Error::InvalidInput(
        fmt::format("trib.toml: [{}] {} = {} is not a finite number", section, key, value));
  }
  out = value;
}

void check_range(bool ok, std::string_view section, std::string_view key, double value,
                 std::string_view allowed) {
  if (!ok) {
    throw Error::InvalidInput(fmt::format("trib.toml: [{}] {} = {} is out of range; allowed: {}",
                                          section, key, value, allowed));
  }
}

void check_kind(std::string_view section, const std::string& kind,
                std::initializer_list<std::string_view> known, std::string_view key = "kind") {
  const Names names(known.begin(), known.size());
  for (auto k : known) {
    if (kind == k) return;
  }
  throw Error::InvalidInput(
      fmt::format("trib.toml: [{}] {} = '{}' is not {}; use one of: {}", section, key, kind,
                  key == "kind" ? "available in this build" : "known", join(names)));
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

enum class UrlCheck { kOk, kMalformed, kHasPassword };

// A libpq URL: postgresql://[user[:password]@][host][:port][,...][/dbname][?param=value&...].
// As libpq does, the user info is what precedes the first '@' met before any '/'.
UrlCheck check_postgres_uri(std::string_view url, size_t scheme_end) {
  std::string_view rest = url.substr(scheme_end);
  size_t stop = rest.find_first_of("@/");
  if (stop != std::string_view::npos && rest[stop] == '@' &&
      rest.substr(0, stop).find(':') != std::string_view::npos) {
    return UrlCheck::kHasPassword;
  }
  size_t query = rest.find('?');
  if (query == std::string_view::npos) return UrlCheck::kOk;
  std::string_view params = rest.substr(query + 1);
  while (!params.empty()) {
    size_t amp = params.find('&');
    std::string_view param = params.substr(0, amp);
    if (iequals(param.substr(0, param.find('=')), "password")) return UrlCheck::kHasPassword;
    if (amp == std::string_view::npos) break;
    params.remove_prefix(amp + 1);
  }
  return UrlCheck::kOk;
}

// libpq key=value conninfo: keyword = value pairs separated by whitespace; a value may be
// single-quoted; a backslash escapes the next character.
UrlCheck check_conninfo(std::string_view s) {
  size_t i = 0;
  bool any = false;
  while (true) {
    while (i < s.size() && is_space(s[i])) ++i;
    if (i == s.size()) break;
    size_t start = i;
    while (i < s.size() && !is_space(s[i]) && s[i] != '=') ++i;
    std::string_view keyword = s.substr(start, i - start);
    if (iequals(keyword, "password")) return UrlCheck::kHasPassword;
    while (i < s.size() && is_space(s[i])) ++i;
    if (keyword.empty() || i == s.size() || s[i] != '=') return UrlCheck::kMalformed;
    ++i;
    while (i < s.size() && is_space(s[i])) ++i;
    if (i < s.size() && s[i] == '\'') {
      ++i;
      while (i < s.size() && s[i] != '\'') i += s[i] == '\\' ? 2 : 1;
      if (i >= s.size()) return UrlCheck::kMalformed;
      ++i;
    } else {
      while (i < s.size() && !is_space(s[i])) i += s[i] == '\\' ? 2 : 1;
      i = std::min(i, s.size());
    }
    any = true;
  }
  return any ? UrlCheck::kOk : UrlCheck::kMalformed;
}

UrlCheck check_url(std::string_view url) {
  for (std::string_view scheme : {"postgresql://", "postgres://"}) {
    if (url.size() >= scheme.size() && iequals(url.substr(0, scheme.size()), scheme)) {
      return check_postgres_uri(url, scheme.size());
    }
  }
  if (url.find("://") != std::string_view::npos) {
    // Another scheme: still refuse a password before saying the scheme is wrong.
    size_t scheme_end = url.find("://") + 3;
    return check_postgres_uri(url, scheme_end) == UrlCheck::kHasPassword ? UrlCheck::kHasPassword
                                                                         : UrlCheck::kMalformed;
  }
  return check_conninfo(url);
}

// Never puts the url in a message: it may hold a secret.
void validate_url(std::string_view section, const std::string& url) {
  if (url.empty()) return;
  switch (check_url(url)) {
    case UrlCheck::kOk: return;
    case UrlCheck::kHasPassword:
      throw Error::InvalidInput(fmt::format(
          "trib.toml: [{}] url contains a password; secrets never go in trib.toml: remove it "
          "from the url and set PGPASSWORD in the environment (or use ~/.pgpass) instead",
          section));
    case UrlCheck::kMalformed:
      throw Error::InvalidInput(fmt::format(
          "trib.toml: [{}] url is neither a postgresql:// URL nor key=value conninfo; e.g. {} "
          "or url = \"host=127.0.0.1 port=5432 dbname=trib user=trib\"",
          section, kPostgresUrlExample));
  }
}

fs::path resolve(const fs::path& workspace, const fs::path& p) {
  return p.is_absolute() ? p.lexically_normal() : (workspace / p).lexically_normal();
}

std::string relative_if_inside(const fs::path& workspace, const fs::path& p) {
  fs::path rel = p.lexically_relative(workspace);
  if (!rel.empty() && *rel.begin() != "..") return rel.generic_string();
  return p.generic_string();
}

// A TOML basic string holding `s`.
std::string toml_string(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\t': out += "\\t"; break;
      case '\n': out += "\\n"; break;
      case '\f': out += "\\f"; break;
      case '\r': out += "\\r"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
          out += fmt::format("\\u{:04X}", static_cast<unsigned>(static_cast<unsigned char>(c)));
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

// A TOML float that reads back as exactly `v`: `decimals` fixed digits when they are exact
// (100000.00), else the shortest form that round-trips (0.0035).
std::string toml_float(double v, int decimals) {
  if (std::isfinite(v) && std::fabs(v) < 1e15) {
    std::string fixed = fmt::format("{:.{}f}", v, decimals);
    double back = 0;
    auto [end, ec] = std::from_chars(fixed.data(), fixed.data() + fixed.size(), back);
    if (ec == std::errc() && end == fixed.data() + fixed.size() && back == v) return fixed;
  }
  return float_text(v);  // nan and inf print as TOML spells them
}

}  // namespace

Config Config::defaults(const fs::path& workspace) {
  Config c;
  c.workspace = fs::absolute(workspace).lexically_normal();
  c.lake.path = c.workspace / "lake";
  c.catalog.path = c.workspace / "catalog.db";
  return c;
}

Config Config::load(const fs::path& workspace) {
  fs::path file = workspace / "trib.toml";
  if (!fs::exists(workspace)) {
    throw Error::NotFound(
        fmt::format("workspace '{}' does not exist; create it with `trib init {}`",
                    workspace.string(), workspace.string()));
  }
  if (!fs::exists(file)) {
    throw Error::NotFound(fmt::format(
        "'{}' is not a Tributary workspace (no trib.toml); create one with `trib init {}`",
        workspace.string(), workspace.string()));
  }
  toml::table root;
  try {
    root = toml::parse_file(file.string());
  } catch (const toml::parse_error& e) {
    std::ostringstream where;
    where << e.source().begin;
    throw Error::InvalidInput(
        fmt::format("{}: {} ({})", file.string(), e.description(), where.str()));
  }
  check_known(root);

  Config c = defaults(workspace);
  std::string lake_path = c.lake.path.string(), catalog_path = c.catalog.path.string();
  constexpr int64_t kIntMin = std::numeric_limits<int>::min();
  constexpr int64_t kIntMax = std::numeric_limits<int>::max();
  read_string(root, "lake", "kind", c.lake.kind);
  read_string(root, "lake", "path", lake_path);
  read_string(root, "lake", "account", c.lake.account);
  read_string(root, "lake", "container", c.lake.container);
  read_string(root, "lake", "prefix", c.lake.prefix);
  read_string(root, "lake", "endpoint", c.lake.endpoint);
  read_string(root, "catalog", "kind", c.catalog.kind);
  read_string(root, "catalog", "path", catalog_path);
  read_string(root, "catalog", "url", c.catalog.url);
  read_string(root, "queue", "kind", c.queue.kind);
  read_string(root, "queue", "name", c.queue.name);
  read_string(root, "queue", "url", c.queue.url);
  read_string(root, "queue", "account", c.queue.account);
  read_string(root, "queue", "endpoint", c.queue.endpoint);
  read_int(root, "queue", "visibility_timeout_s", 1, 604'800, c.queue.visibility_timeout_s);
  read_int(root, "queue", "max_attempts", 1, 100, c.queue.max_attempts);
  read_int(root, "hot_cache", "sessions", 0, 100'000, c.hot_cache.sessions);
  read_string(root, "llm", "kind", c.llm.kind);
  read_string(root, "llm", "url", c.llm.url);
  read_string(root, "llm", "model", c.llm.model);
  read_string(root, "llm", "api_version", c.llm.api_version);
  read_string(root, "llm", "auth", c.llm.auth);
  read_string(root, "llm", "key_env", c.llm.key_env);
  read_int(root, "llm", "timeout_s", 1, 3600, c.llm.timeout_s);
  read_int(root, "llm", "max_retries", 0, 20, c.llm.max_retries);
  read_int(root, "llm", "max_tokens", 256, 10'000'000, c.llm.max_tokens);
  read_int(root, "llm", "max_tool_calls", 0, 1000, c.llm.max_tool_calls);
  read_int(root, "llm", "max_tool_output_bytes", 512, 1 << 20, c.llm.max_tool_output_bytes);
  read_float(root, "llm", "temperature", c.llm.temperature);
  read_bool(root, "llm", "stream", c.llm.stream);
  read_string(root, "broker", "kind", c.broker.kind);
  read_float(root, "broker", "initial_cash", c.broker.initial_cash);
  read_float(root, "broker", "commission_per_share", c.broker.commission_per_share);
  read_float(root, "broker", "min_commission", c.broker.min_commission);
  read_float(root, "broker", "slippage_bps", c.broker.slippage_bps);
  read_string(root, "broker", "url", c.broker.url);
  read_float(root, "broker", "max_commission_pct", c.broker.max_commission_pct);
  read_float(root, "broker", "commission_bps", c.broker.commission_bps);
  read_string(root, "broker", "slippage_model", c.broker.slippage_model);
  read_float(root, "broker", "impact_bps", c.broker.impact_bps);
  read_float(root, "broker", "volume_participation", c.broker.volume_participation);
  read_string(root, "broker", "account_type", c.broker.account_type);
  read_bool(root, "broker", "allow_short", c.broker.allow_short);
  read_float(root, "broker", "borrow_bps", c.broker.borrow_bps);
  read_float(root, "broker", "margin_interest_bps", c.broker.margin_interest_bps);
  read_float(root, "risk", "max_position_notional", c.risk.max_position_notional);
  read_float(root, "risk", "max_order_notional", c.risk.max_order_notional);
  read_float(root, "risk", "max_order_qty", c.risk.max_order_qty);
  read_float(root, "risk", "max_position_weight", c.risk.max_position_weight);
  read_float(root, "risk", "max_gross_leverage", c.risk.max_gross_leverage);
  read_float(root, "risk", "max_net_leverage", c.risk.max_net_leverage);
  read_float(root, "risk", "price_band_pct", c.risk.price_band_pct);
  read_int(root, "risk", "max_orders_per_day", 1, 1'000'000'000, c.risk.max_orders_per_day);
  read_float(root, "risk", "daily_loss_limit_pct", c.risk.daily_loss_limit_pct);
  read_float(root, "risk", "max_drawdown_pct", c.risk.max_drawdown_pct);
  read_string(root, "risk", "restricted", c.risk.restricted);
  read_string(root, "update", "vendor", c.update.vendor);
  read_string(root, "update", "symbols", c.update.symbols);
  read_string(root, "update", "start", c.update.start);
  read_string(root, "update", "seed", c.update.seed);
  try {
    (void)Date::parse(c.update.start, "[update] start");
  } catch (const Error& e) {
    throw Error::InvalidInput(fmt::format("trib.toml: [update] start = '{}' is not a date YYYY-MM-DD", c.update.start));
  }
  read_string(root, "prices", "adjust", c.prices.adjust);
  read_string(root, "prices", "action_precedence", c.prices.action_precedence);
  read_string(root, "prices", "bar_precedence", c.prices.bar_precedence);
  read_float(root, "quality", "jump_threshold", c.quality.jump_threshold);
  read_int(root, "quality", "stale_sessions", 2, 10'000, c.quality.stale_sessions);
  read_float(root, "quality", "max_price", c.quality.max_price);
  read_float(root, "quality", "max_volume", c.quality.max_volume);
  if (c.prices.adjust != "raw" && c.prices.adjust != "split" && c.prices.adjust != "total") {
    throw Error::InvalidInput(fmt::format("trib.toml: [prices] adjust = '{}' is not one of raw, split, total",
                                          c.prices.adjust));
  }
  if (const toml::table* vendors = root["vendors"].as_table()) {
    for (auto&& [name, _] : *vendors) {
      const std::string section = "vendors." + std::string(name.str());
      VendorConfig v;
      // A limit the file gives must be 0 (no limit) or more; one it leaves out stays -1 (the
      // vendor's default).
      for (auto [key, out] : {std::pair{"requests_per_minute", &v.requests_per_minute},
                              std::pair{"requests_per_hour", &v.requests_per_hour},
                              std::pair{"requests_per_day", &v.requests_per_day}}) {
        if (find(root, section, key) == nullptr) continue;
        read_float(root, section, key, *out);
        check_range(*out >= 0, section, key, *out, "0 (no limit) or more");
      }
      read_int(root, section, "burst", 1, 10'000, v.burst);
      read_int(root, section, "publish_delay_minutes", 0, 24 * 60, v.publish_delay_minutes);
      read_string(root, section, "base_url", v.base_url);
      // Provider options: alpaca feed; polygon adjusted; stooq/alphavantage format and function;
      // polygon and alpaca actions = "true" (the splits and dividends fetched beside the bars).
      for (const char* key : {"feed", "adjusted", "format", "function", "actions"}) {
        std::string value;
        read_string(root, section, key, value);
        if (!value.empty()) v.options[key] = value;
      }
      if (v.base_url.find("://") == std::string::npos && !v.base_url.empty()) {
        throw Error::InvalidInput(fmt::format(
            "trib.toml: [{}] base_url must be an absolute http(s) URL such as https://api.example.com", section));
      }
      c.vendors[std::string(name.str())] = std::move(v);
    }
  }
  read_string(root, "strategy", "name", c.strategy.name);
  read_string(root, "strategy", "symbol", c.strategy.symbol);
  read_int(root, "strategy", "fast", kIntMin, kIntMax, c.strategy.fast);
  read_int(root, "strategy", "slow", kIntMin, kIntMax, c.strategy.slow);
  read_string(root, "strategy", "universe", c.strategy.universe);
  read_string(root, "strategy", "benchmark", c.strategy.benchmark);
  read_int(root, "strategy", "lookback", 1, 100'000, c.strategy.lookback);
  read_int(root, "strategy", "skip", 0, 100'000, c.strategy.skip);
  read_int(root, "strategy", "top_k", 1, 100'000, c.strategy.top_k);
  read_int(root, "strategy", "drop_n", 0, 100'000, c.strategy.drop_n);
  read_int(root, "strategy", "rebalance_days", 1, 100'000, c.strategy.rebalance_days);
  read_string(root, "strategy", "model", c.strategy.model);
  read_float(root, "strategy", "risk_free_rate", c.strategy.risk_free_rate);
  c.lake.path = resolve(c.workspace, lake_path);
  c.catalog.path = resolve(c.workspace, catalog_path);

  check_kind("lake", c.lake.kind, {"local", "azure"});
  check_kind("catalog", c.catalog.kind, {"sqlite", "postgres"});
  check_kind("queue", c.queue.kind, {"embedded", "postgres", "azure"});
  if (c.lake.kind == "azure" && c.lake.container.empty()) {
    throw Error::InvalidInput(
        "trib.toml: [lake] kind = 'azure' needs a container, e.g. container = \"lake\" (and "
        "account = \"<storage account>\" unless AZURE_STORAGE_CONNECTION_STRING names it)");
  }
  for (const auto& [section, value] : {std::pair{"lake", c.lake.endpoint}, std::pair{"queue", c.queue.endpoint}}) {
    if (!value.empty() && !value.starts_with("https://") && !value.starts_with("http://")) {
      throw Error::InvalidInput(fmt::format(
          "trib.toml: [{}] endpoint = '{}' must be an http(s) URL, e.g. https://<account>.{}.core.windows.net",
          section, value, std::string_view(section) == "lake" ? "blob" : "queue"));
    }
    if (value.find('?') != std::string::npos || value.find("sig=") != std::string::npos) {
      throw Error::InvalidInput(fmt::format(
          "trib.toml: [{}] endpoint must not carry a query (a SAS token is a secret: put it in "
          "AZURE_STORAGE_SAS_TOKEN)", section));
    }
  }
  check_kind("llm", c.llm.kind, {"none", "openai", "azure"});
  check_kind("llm", c.llm.auth, {"api-key", "bearer"}, "auth");
  check_range(c.llm.temperature >= 0 && c.llm.temperature <= 2, "llm", "temperature", c.llm.temperature, "in [0, 2]");
  if (c.llm.kind != "none") {
    if (!c.llm.url.starts_with("https://") && !c.llm.url.starts_with("http://")) {
      throw Error::InvalidInput(fmt::format(
          "trib.toml: [llm] url = '{}' must be an http(s) URL: the API base for openai (e.g. "
          "https://api.openai.com/v1), the resource endpoint for azure (e.g. https://NAME.openai.azure.com)",
          c.llm.url));
    }
    if (c.llm.model.empty()) {
      throw Error::InvalidInput("trib.toml: [llm] model is empty: name the model (openai) or the deployment (azure)");
    }
  }
  check_kind("broker", c.broker.kind, {"paper", "alpaca"});
  check_kind("broker", c.broker.slippage_model, {"bps", "volume_share"}, "slippage_model");
  check_kind("broker", c.broker.account_type, {"cash", "margin"}, "account_type");
  if (!c.broker.url.starts_with("https://") && !c.broker.url.starts_with("http://")) {
    throw Error::InvalidInput(fmt::format(
        "trib.toml: [broker] url = '{}' must be an http(s) URL, e.g. https://paper-api.alpaca.markets", c.broker.url));
  }
  if (c.broker.allow_short && c.broker.account_type != "margin") {
    throw Error::InvalidInput(
        "trib.toml: [broker] allow_short = true needs account_type = 'margin' (a cash account cannot borrow shares)");
  }

  const BrokerConfig& b = c.broker;
  check_range(b.initial_cash > 0, "broker", "initial_cash", b.initial_cash, "> 0");
  check_range(b.commission_per_share >= 0, "broker", "commission_per_share", b.commission_per_share,
              ">= 0");
  check_range(b.min_commission >= 0, "broker", "min_commission", b.min_commission, ">= 0");
  check_range(b.slippage_bps >= 0 && b.slippage_bps < 10'000, "broker", "slippage_bps",
              b.slippage_bps, "[0, 10000)");
  check_range(c.risk.max_position_notional > 0, "risk", "max_position_notional",
              c.risk.max_position_notional, "> 0");
  check_range(c.risk.max_order_notional > 0, "risk", "max_order_notional",
              c.risk.max_order_notional, "> 0");
  check_range(b.max_commission_pct >= 0, "broker", "max_commission_pct", b.max_commission_pct, ">= 0");
  check_range(b.commission_bps >= 0, "broker", "commission_bps", b.commission_bps, ">= 0");
  check_range(b.impact_bps >= 0, "broker", "impact_bps", b.impact_bps, ">= 0");
  check_range(b.volume_participation > 0 && b.volume_participation <= 1, "broker", "volume_participation",
              b.volume_participation, "(0, 1]");
  check_range(b.borrow_bps >= 0, "broker", "borrow_bps", b.borrow_bps, ">= 0");
  check_range(b.margin_interest_bps >= 0, "broker", "margin_interest_bps", b.margin_interest_bps, ">= 0");
  const RiskConfig& r = c.risk;
  check_range(r.max_order_qty > 0, "risk", "max_order_qty", r.max_order_qty, "> 0");
  check_range(r.max_position_weight > 0 && r.max_position_weight <= 10, "risk", "max_position_weight",
              r.max_position_weight, "(0, 10]");
  check_range(r.max_gross_leverage > 0, "risk", "max_gross_leverage", r.max_gross_leverage, "> 0");
  check_range(r.max_net_leverage > 0, "risk", "max_net_leverage", r.max_net_leverage, "> 0");
  check_range(r.price_band_pct > 0, "risk", "price_band_pct", r.price_band_pct, "> 0");
  check_range(r.daily_loss_limit_pct > 0, "risk", "daily_loss_limit_pct", r.daily_loss_limit_pct, "> 0");
  check_range(r.max_drawdown_pct > 0, "risk", "max_drawdown_pct", r.max_drawdown_pct, "> 0");
  if (c.broker.account_type == "cash" && r.max_gross_leverage > 1) {
    throw Error::InvalidInput(fmt::format(
        "trib.toml: [risk] max_gross_leverage = {} needs [broker] account_type = 'margin' (a cash account "
        "cannot hold more than its equity)", r.max_gross_leverage));
  }
  check_kind("strategy", c.strategy.name, {"sma_cross", "momentum", "topk_dropout", "buy_and_hold"}, "name");
  check_range(c.strategy.risk_free_rate > -1 && c.strategy.risk_free_rate < 1, "strategy", "risk_free_rate",
              c.strategy.risk_free_rate, "(-1, 1)");
  if (c.strategy.skip >= c.strategy.lookback) {
    throw Error::InvalidInput(fmt::format(
        "trib.toml: [strategy] skip = {} is out of range; needs 0 <= skip < lookback (lookback = {})",
        c.strategy.skip, c.strategy.lookback));
  }
  if (c.strategy.drop_n > c.strategy.top_k) {
    throw Error::InvalidInput(fmt::format(
        "trib.toml: [strategy] drop_n = {} is out of range; needs 0 <= drop_n <= top_k (top_k = {})",
        c.strategy.drop_n, c.strategy.top_k));
  }
  check_range(c.quality.jump_threshold > 0, "quality", "jump_threshold", c.quality.jump_threshold, "> 0");
  check_range(c.quality.max_price > 0, "quality", "max_price", c.quality.max_price, "> 0");
  check_range(c.quality.max_volume > 0, "quality", "max_volume", c.quality.max_volume, "> 0");
  if (c.strategy.fast < 1) {
    throw Error::InvalidInput(
        fmt::format("trib.toml: [strategy] fast = {} is out of range; needs 1 <= fast < slow",
                    c.strategy.fast));
  }
  if (c.strategy.slow <= c.strategy.fast) {
    throw Error::InvalidInput(fmt::format(
        "trib.toml: [strategy] slow = {} is out of range; needs 1 <= fast < slow (fast = {})",
        c.strategy.slow, c.strategy.fast));
  }

  // A password in either url is refused whatever the kind: the file must never hold one.
  validate_url("catalog", c.catalog.url);
  validate_url("queue", c.queue.url);
  if (c.catalog.kind == "postgres" && c.catalog.url.empty()) {
    throw Error::InvalidInput(fmt::format(
        "trib.toml: [catalog] kind = 'postgres' needs a url, e.g. {} (the password comes from "
        "PGPASSWORD or ~/.pgpass, never from trib.toml)",
        kPostgresUrlExample));
  }
  // A postgres queue without its own url lives in the postgres catalog's database.
  if (c.queue.kind == "postgres" && c.queue.url.empty()) {
    if (c.catalog.kind != "postgres") {
      throw Error::InvalidInput(fmt::format(
          "trib.toml: [queue] kind = 'postgres' needs a url when the catalog is not postgres "
          "(it shares a postgres catalog's url); e.g. {} (the password comes from PGPASSWORD or "
          "~/.pgpass, never from trib.toml)",
          kPostgresUrlExample));
    }
    c.queue.url = c.catalog.url;
  }
  return c;
}

std::string Config::to_toml() const {
  std::string out =
      "# Tributary workspace. Secrets never go here: they come from the environment\n"
      "# (PostgreSQL: PGPASSWORD or ~/.pgpass; Azure: AZURE_STORAGE_CONNECTION_STRING,\n"
      "# AZURE_STORAGE_KEY or AZURE_STORAGE_SAS_TOKEN).\n";
  auto line = [&out](std::string_view key, const std::string& value) {
    out += fmt::format("{} = {}\n", key, value);
  };
  out += "\n[lake]\n";
  line("kind", toml_string(lake.kind));
  line("path", toml_string(relative_if_inside(workspace, lake.path)));
  if (!lake.account.empty()) line("account", toml_string(lake.account));
  if (!lake.container.empty()) line("container", toml_string(lake.container));
  if (!lake.prefix.empty()) line("prefix", toml_string(lake.prefix));
  if (!lake.endpoint.empty()) line("endpoint", toml_string(lake.endpoint));
  out += "\n[catalog]\n";
  line("kind", toml_string(catalog.kind));
  line("path", toml_string(relative_if_inside(workspace, catalog.path)));
  if (!catalog.url.empty()) line("url", toml_string(catalog.url));
  out += "\n[queue]\n";
  line("kind", toml_string(queue.kind));
  line("name", toml_string(queue.name));
  if (!queue.url.empty()) line("url", toml_string(queue.url));
  if (!queue.account.empty()) line("account", toml_string(queue.account));
  if (!queue.endpoint.empty()) line("endpoint", toml_string(queue.endpoint));
  line("visibility_timeout_s", std::to_string(queue.visibility_timeout_s));
  line("max_attempts", std::to_string(queue.max_attempts));
  out += "\n[hot_cache]\n";
  line("sessions", std::to_string(hot_cache.sessions));
  out += "\n[broker]\n";
  line("kind", toml_string(broker.kind));
  line("initial_cash", toml_float(broker.initial_cash, 2));
  line("commission_per_share", toml_float(broker.commission_per_share, 1));
  line("min_commission", toml_float(broker.min_commission, 2));
  line("slippage_bps", toml_float(broker.slippage_bps, 1));
  if (broker.url != BrokerConfig{}.url) line("url", toml_string(broker.url));
  line("max_commission_pct", toml_float(broker.max_commission_pct, 1));
  line("commission_bps", toml_float(broker.commission_bps, 1));
  line("slippage_model", toml_string(broker.slippage_model));
  line("impact_bps", toml_float(broker.impact_bps, 1));
  line("volume_participation", toml_float(broker.volume_participation, 3));
  line("account_type", toml_string(broker.account_type));
  line("allow_short", broker.allow_short ? "true" : "false");
  line("borrow_bps", toml_float(broker.borrow_bps, 1));
  line("margin_interest_bps", toml_float(broker.margin_interest_bps, 1));
  out += "\n[risk]\n";
  line("max_position_notional", toml_float(risk.max_position_notional, 2));
  line("max_order_notional", toml_float(risk.max_order_notional, 2));
  line("max_order_qty", toml_float(risk.max_order_qty, 1));
  line("max_position_weight", toml_float(risk.max_position_weight, 2));
  line("max_gross_leverage", toml_float(risk.max_gross_leverage, 2));
  line("max_net_leverage", toml_float(risk.max_net_leverage, 2));
  line("price_band_pct", toml_float(risk.price_band_pct, 1));
  line("max_orders_per_day", std::to_string(risk.max_orders_per_day));
  line("daily_loss_limit_pct", toml_float(risk.daily_loss_limit_pct, 1));
  line("max_drawdown_pct", toml_float(risk.max_drawdown_pct, 1));
  line("restricted", toml_string(risk.restricted));
  out += "\n[strategy]\n";
  line("name", toml_string(strategy.name));
  line("symbol", toml_string(strategy.symbol));
  line("fast", std::to_string(strategy.fast));
  line("slow", std::to_string(strategy.slow));
  line("universe", toml_string(strategy.universe));
  line("benchmark", toml_string(strategy.benchmark));
  line("lookback", std::to_string(strategy.lookback));
  line("skip", std::to_string(strategy.skip));
  line("top_k", std::to_string(strategy.top_k));
  line("drop_n", std::to_string(strategy.drop_n));
  line("rebalance_days", std::to_string(strategy.rebalance_days));
  line("model", toml_string(strategy.model));
  line("risk_free_rate", toml_float(strategy.risk_free_rate, 4));
  out += "\n[llm]\n";
  line("kind", toml_string(llm.kind));
  if (!llm.url.empty()) line("url", toml_string(llm.url));
  line("model", toml_string(llm.model));
  line("api_version", toml_string(llm.api_version));
  line("auth", toml_string(llm.auth));
  if (!llm.key_env.empty()) line("key_env", toml_string(llm.key_env));
  line("timeout_s", std::to_string(llm.timeout_s));
  line("max_retries", std::to_string(llm.max_retries));
  line("max_tokens", std::to_string(llm.max_tokens));
  line("max_tool_calls", std::to_string(llm.max_tool_calls));
  line("max_tool_output_bytes", std::to_string(llm.max_tool_output_bytes));
  line("temperature", toml_float(llm.temperature, 2));
  line("stream", llm.stream ? "true" : "false");
  out += "\n[update]\n";
  line("vendor", toml_string(update.vendor));
  line("symbols", toml_string(update.symbols));
  line("start", toml_string(update.start));
  line("seed", toml_string(update.seed));
  out += "\n[prices]\n";
  line("adjust", toml_string(prices.adjust));
  line("action_precedence", toml_string(prices.action_precedence));
  line("bar_precedence", toml_string(prices.bar_precedence));
  out += "\n[quality]\n";
  line("jump_threshold", toml_float(quality.jump_threshold, 6));
  line("stale_sessions", std::to_string(quality.stale_sessions));
  line("max_price", toml_float(quality.max_price, 2));
  line("max_volume", toml_float(quality.max_volume, 0));
  for (const auto& [name, v] : vendors) {
    out += fmt::format("\n[vendors.{}]\n", name);
    if (v.requests_per_minute >= 0) line("requests_per_minute", toml_float(v.requests_per_minute, 6));
    if (v.requests_per_hour >= 0) line("requests_per_hour", toml_float(v.requests_per_hour, 6));
    if (v.requests_per_day >= 0) line("requests_per_day", toml_float(v.requests_per_day, 6));
    if (v.burst > 0) line("burst", std::to_string(v.burst));
    if (v.publish_delay_minutes >= 0) line("publish_delay_minutes", std::to_string(v.publish_delay_minutes));
    if (!v.base_url.empty()) line("base_url", toml_string(v.base_url));
    for (const auto& [key, value] : v.options) line(key, toml_string(value));
  }
  return out;
}

std::string_view code_version() { return TRIB_CODE_VERSION; }

}  // namespace trib

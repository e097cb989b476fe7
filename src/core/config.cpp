#include "trib/core/config.hpp"

#include <sstream>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "trib/core/error.hpp"

namespace trib {
namespace fs = std::filesystem;

namespace {

fs::path resolve(const fs::path& workspace, const fs::path& p) {
  return p.is_absolute() ? p.lexically_normal() : (workspace / p).lexically_normal();
}

std::string relative_if_inside(const fs::path& workspace, const fs::path& p) {
  fs::path rel = p.lexically_relative(workspace);
  if (!rel.empty() && *rel.begin() != "..") return rel.generic_string();
  return p.generic_string();
}

template <typename T>
void read(const toml::table& root, std::string_view section, std::string_view key, T& out) {
  const toml::node* node = root.at_path(fmt::format("{}.{}", section, key)).node();
  if (node == nullptr) return;
  if constexpr (std::is_same_v<T, std::string>) {
    if (auto v = node->value<std::string>()) { out = *v; return; }
  } else if constexpr (std::is_same_v<T, int>) {
    if (auto v = node->value<int64_t>()) { out = static_cast<int>(*v); return; }
  } else if constexpr (std::is_same_v<T, double>) {
    if (auto v = node->value<double>()) { out = *v; return; }
  }
  throw Error::InvalidInput(fmt::format("trib.toml: [{}] {} has the wrong type", section, key));
}

void check_kind(std::string_view section, const std::string& kind,
                std::initializer_list<std::string_view> known) {
  for (auto k : known) {
    if (kind == k) return;
  }
  std::string list;
  for (auto k : known) list += (list.empty() ? "" : ", ") + std::string(k);
  throw Error::InvalidInput(fmt::format(
      "trib.toml: [{}] kind = '{}' is not available in this build; use one of: {}", section, kind,
      list));
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
    throw Error::NotFound(fmt::format(
        "workspace '{}' does not exist; create it with `trib init {}`", workspace.string(),
        workspace.string()));
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
  Config c = defaults(workspace);
  std::string lake_path = c.lake.path.string(), catalog_path = c.catalog.path.string();
  read(root, "lake", "kind", c.lake.kind);
  read(root, "lake", "path", lake_path);
  read(root, "catalog", "kind", c.catalog.kind);
  read(root, "catalog", "path", catalog_path);
  read(root, "queue", "kind", c.queue.kind);
  read(root, "queue", "name", c.queue.name);
  read(root, "queue", "visibility_timeout_s", c.queue.visibility_timeout_s);
  read(root, "queue", "max_attempts", c.queue.max_attempts);
  read(root, "broker", "kind", c.broker.kind);
  read(root, "broker", "initial_cash", c.broker.initial_cash);
  read(root, "broker", "commission_per_share", c.broker.commission_per_share);
  read(root, "broker", "min_commission", c.broker.min_commission);
  read(root, "broker", "slippage_bps", c.broker.slippage_bps);
  read(root, "risk", "max_position_notional", c.risk.max_position_notional);
  read(root, "risk", "max_order_notional", c.risk.max_order_notional);
  read(root, "strategy", "name", c.strategy.name);
  read(root, "strategy", "symbol", c.strategy.symbol);
  read(root, "strategy", "fast", c.strategy.fast);
  read(root, "strategy", "slow", c.strategy.slow);
  c.lake.path = resolve(c.workspace, lake_path);
  c.catalog.path = resolve(c.workspace, catalog_path);

  check_kind("lake", c.lake.kind, {"local"});
  check_kind("catalog", c.catalog.kind, {"sqlite"});
  check_kind("queue", c.queue.kind, {"embedded"});
  check_kind("broker", c.broker.kind, {"paper"});
  if (c.queue.visibility_timeout_s < 1) {
    throw Error::InvalidInput("trib.toml: [queue] visibility_timeout_s must be at least 1");
  }
  if (c.queue.max_attempts < 1) {
    throw Error::InvalidInput("trib.toml: [queue] max_attempts must be at least 1");
  }
  if (c.strategy.fast < 1 || c.strategy.slow <= c.strategy.fast) {
    throw Error::InvalidInput("trib.toml: [strategy] needs 1 <= fast < slow");
  }
  return c;
}

std::string Config::to_toml() const {
  return fmt::format(
      "# Tributary workspace. Secrets never go here: they come from the environment.\n\n"
      "[lake]\nkind = \"{}\"\npath = \"{}\"\n\n"
      "[catalog]\nkind = \"{}\"\npath = \"{}\"\n\n"
      "[queue]\nkind = \"{}\"\nname = \"{}\"\nvisibility_timeout_s = {}\nmax_attempts = {}\n\n"
      "[broker]\nkind = \"{}\"\ninitial_cash = {:.2f}\ncommission_per_share = {}\n"
      "min_commission = {:.2f}\nslippage_bps = {:.1f}\n\n"
      "[risk]\nmax_position_notional = {:.2f}\nmax_order_notional = {:.2f}\n\n"
      "[strategy]\nname = \"{}\"\nsymbol = \"{}\"\nfast = {}\nslow = {}\n",
      lake.kind, relative_if_inside(workspace, lake.path), catalog.kind,
      relative_if_inside(workspace, catalog.path), queue.kind, queue.name,
      queue.visibility_timeout_s, queue.max_attempts, broker.kind, broker.initial_cash,
      broker.commission_per_share, broker.min_commission, broker.slippage_bps,
      risk.max_position_notional, risk.max_order_notional, strategy.name, strategy.symbol,
      strategy.fast, strategy.slow);
}

std::string_view code_version() { return TRIB_CODE_VERSION; }

}  // namespace trib

// Workspace configuration: trib.toml in the workspace folder. Which backend runs (local folder or
// blob, SQLite or PostgreSQL, embedded or Azure queue, paper or Alpaca broker) is configuration,
// never a code fork. Secrets are never read from the file: only from the environment.
#pragma once

#include <filesystem>
#include <string>

namespace trib {

struct LakeConfig {
  std::string kind = "local";  // local (Azure Blob: later)
  std::filesystem::path path;  // absolute after load; "lake" under the workspace by default
};

struct CatalogConfig {
  std::string kind = "sqlite";  // sqlite (postgres: later)
  std::filesystem::path path;   // absolute after load; "catalog.db" by default
};

struct QueueConfig {
  std::string kind = "embedded";  // a table in the catalog database (azure: later)
  std::string name = "tasks";
  int visibility_timeout_s = 60;  // lease length; a crashed worker's task reappears after it
  int max_attempts = 5;           // deliveries before the message moves to <name>-poison
};

struct BrokerConfig {
  std::string kind = "paper";  // paper (alpaca: later)
  double initial_cash = 100'000;
  double commission_per_share = 0.005;
  double min_commission = 1.0;
  double slippage_bps = 5;
};

struct RiskConfig {
  double max_position_notional = 50'000;  // |position| * price after the order, per symbol
  double max_order_notional = 25'000;     // |qty| * price of one order
};

struct StrategyConfig {
  std::string name = "sma_cross";
  std::string symbol = "^GSPC";
  int fast = 50;
  int slow = 200;
};

struct Config {
  std::filesystem::path workspace;  // folder holding trib.toml
  LakeConfig lake;
  CatalogConfig catalog;
  QueueConfig queue;
  BrokerConfig broker;
  RiskConfig risk;
  StrategyConfig strategy;

  // The defaults a fresh workspace gets, rooted at `workspace`.
  static Config defaults(const std::filesystem::path& workspace);
  // Reads <workspace>/trib.toml. Throws Error::NotFound when the workspace or file is missing
  // (the message says to run `trib init`), Error::InvalidInput naming the bad key otherwise.
  static Config load(const std::filesystem::path& workspace);
  // The TOML text for this config (paths relative to the workspace when they are inside it).
  std::string to_toml() const;
};

// The code version stamped into lineage metadata.
std::string_view code_version();

}  // namespace trib

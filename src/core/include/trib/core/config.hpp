// Workspace configuration: trib.toml in the workspace folder. Which backend runs (local folder or
// blob, SQLite or PostgreSQL, embedded or PostgreSQL queue, paper or Alpaca broker) is
// configuration, never a code fork. Secrets are never read from the file: only from the
// environment (PostgreSQL: PGPASSWORD or ~/.pgpass); a url holding a password is refused.
//
// Loading is strict: an unknown section or key, a value of the wrong type, a non-finite float or
// a value out of its range is an Error::InvalidInput naming the key (see Config::load).
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <string_view>

namespace trib {

struct LakeConfig {
  std::string kind = "local";  // local | azure (Blob Storage / ADLS Gen2 through the Blob endpoint)
  std::filesystem::path path;  // local: absolute after load; "lake" under the workspace by default
  // azure: the storage account (may be left empty when AZURE_STORAGE_CONNECTION_STRING names
  // it), the container (required), an optional folder inside it, and an optional Blob endpoint
  // (Azurite, a private endpoint; default https://<account>.blob.core.windows.net). The
  // credential comes from the environment only (AZURE_STORAGE_CONNECTION_STRING,
  // AZURE_STORAGE_KEY or AZURE_STORAGE_SAS_TOKEN).
  std::string account;
  std::string container;
  std::string prefix;
  std::string endpoint;

  bool operator==(const LakeConfig&) const = default;
};

struct CatalogConfig {
  std::string kind = "sqlite";  // sqlite | postgres
  std::filesystem::path path;   // sqlite: absolute after load; "catalog.db" by default
  // postgres (required there): a libpq URL ("postgresql://trib@127.0.0.1:5432/trib") or key=value
  // conninfo ("host=127.0.0.1 dbname=trib user=trib"), never with a password in it.
  std::string url;

  bool operator==(const CatalogConfig&) const = default;
};

struct QueueConfig {
  // embedded (a table in the catalog's SQLite file) | postgres | azure (Storage Queue; account and
  // credential as for the azure lake, `endpoint` the Queue endpoint)
  std::string kind = "embedded";
  std::string name = "tasks";
  // postgres: as CatalogConfig::url. Left empty in the file, load() fills it with the catalog's
  // url (an error when the catalog has none), so after load() a postgres queue's url is set.
  std::string url;
  int visibility_timeout_s = 60;  // lease length, [1, 604800]; a crashed worker's task reappears
  int max_attempts = 5;           // [1, 100] deliveries before the message moves to <name>-poison
  std::string account;            // azure
  std::string endpoint;           // azure, optional

  bool operator==(const QueueConfig&) const = default;
};

struct HotCacheConfig {
  // The last `sessions` sessions of every symbol are kept in the catalog; 0 turns the cache off.
  // [0, 100000].
  int sessions = 300;

  bool operator==(const HotCacheConfig&) const = default;
};

struct BrokerConfig {
  std::string kind = "paper";           // paper | alpaca
  // The Alpaca Trading API base URL (keys from APCA_API_KEY_ID / APCA_API_SECRET_KEY).
  std::string url = "https://paper-api.alpaca.markets";
  double initial_cash = 100'000;        // > 0
  double commission_per_share = 0.005;  // >= 0
  double min_commission = 1.0;          // >= 0, per order
  double max_commission_pct = 1.0;      // >= 0: cap, % of the order's value (0: no cap)
  double commission_bps = 0;            // >= 0: on the order's value, added to the per-share fee
  double slippage_bps = 5;              // [0, 10000)
  // Slippage model: "bps" (slippage_bps against the trader), or "volume_share" (slippage_bps plus
  // impact_bps x (order qty / bar volume)^2).
  std::string slippage_model = "bps";
  double impact_bps = 1000;             // >= 0, the volume_share model's coefficient
  double volume_participation = 0.05;   // (0, 1]: at most this share of a bar's volume fills
  std::string account_type = "cash";    // cash | margin
  bool allow_short = false;             // shorts need a margin account
  double borrow_bps = 50;               // >= 0, annual, on short notional, accrued per day
  double margin_interest_bps = 500;     // >= 0, annual, on a negative cash balance

  bool operator==(const BrokerConfig&) const = default;
};

// Pre-trade limits and the trading state's triggers: the same in backtest, paper and live.
struct RiskConfig {
  double max_position_notional = 1'000'000;  // > 0; |position| * price after the order, per symbol
  double max_order_notional = 1'000'000;     // > 0; qty * price of one order
  double max_order_qty = 1'000'000;          // > 0; shares of one order
  double max_position_weight = 1.0;          // (0, 10]; |position| / equity, per symbol
  double max_gross_leverage = 1.0;           // > 0; sum |positions| / equity
  double max_net_leverage = 1.0;             // > 0; |sum positions| / equity
  double price_band_pct = 10;                // > 0; a limit or stop price this far from the last
  int max_orders_per_day = 1000;             // >= 1; orders sent per session
  double daily_loss_limit_pct = 5;           // > 0; equity down this much in a session -> REDUCING
  double max_drawdown_pct = 25;              // > 0; down this much from its peak -> HALTED
  std::string restricted;                    // comma-separated symbols no order may buy or sell

  bool operator==(const RiskConfig&) const = default;
};

struct StrategyConfig {
  // sma_cross | momentum | topk_dropout | buy_and_hold
  std::string name = "sma_cross";
  std::string symbol = "^GSPC";  // the universe when `universe` is empty
  // Comma-separated symbols, or "all" (every symbol with curated daily bars).
  std::string universe;
  std::string benchmark;         // buy-and-hold comparison; "" = the first symbol of the universe
  int fast = 50;                 // sma_cross: 1 <= fast < slow
  int slow = 200;
  int lookback = 252;            // momentum: return over `lookback` sessions ...
  int skip = 21;                 // ... ending `skip` sessions ago (0 <= skip < lookback)
  int top_k = 10;                // momentum and topk_dropout: names held
  int drop_n = 2;                // topk_dropout: names replaced per rebalance (0 <= drop_n <= top_k)
  int rebalance_days = 21;       // momentum: sessions between rebalances
  std::string model;             // topk_dropout: the model whose predictions rank the names
  double risk_free_rate = 0;     // annual, for Sharpe and Sortino

  bool operator==(const StrategyConfig&) const = default;
};

// The daily update (`trib update`, the scheduler, the Azure Functions timer): which symbols of
// which vendor are kept current, each from `start` when it has never been ingested.
// [llm]: the research assistant's chat endpoint (`trib ask`, `trib report`). kind "none" (the
// default) renders reports from templates and refuses `trib ask` with the fix. The key is read
// from the environment variable `key_env` (never from trib.toml); by default OPENAI_API_KEY for
// openai, AZURE_OPENAI_API_KEY for azure with auth "api-key", AZURE_OPENAI_AD_TOKEN with "bearer".
struct LlmConfig {
  std::string kind = "none";            // none | openai | azure
  std::string url;                      // openai: the API base ("https://api.openai.com/v1", any
                                        // compatible server); azure: the resource endpoint
  std::string model = "gpt-4o-mini";    // openai: the model; azure: the deployment name
  std::string api_version = "2024-10-21";  // azure only
  std::string auth = "api-key";         // azure: api-key | bearer (openai always sends a bearer)
  std::string key_env;                  // the environment variable holding the key or token
  int timeout_s = 60;                   // [1, 3600] per request, streamed or not
  int max_retries = 4;                  // [0, 20] on 429, 5xx and lost connections
  int max_tokens = 32000;               // [256, 10'000'000] prompt + completion tokens per question
  int max_tool_calls = 16;              // [0, 1000] per question
  int max_tool_output_bytes = 16384;    // [512, 1 MiB] one tool result as the model sees it
  double temperature = 0;               // [0, 2]
  bool stream = true;                   // server-sent events, printed as they arrive

  bool operator==(const LlmConfig&) const = default;
};

struct UpdateConfig {
  std::string vendor = "sim";
  // Comma-separated symbols ("AAPL,MSFT"), or for the sim vendor a count ("50": SIM0001..SIM0050).
  // Empty: nothing to update (the update says so).
  std::string symbols;
  std::string start = "2010-01-01";  // YYYY-MM-DD
  std::string seed = "42";           // sim only: the generator's seed (part of the task ids)

  bool operator==(const UpdateConfig&) const = default;
};

// [prices]: how prices are read.
struct PricesConfig {
  // The price mode features, signals and research read by default: raw | split | total (the
  // backtester always trades raw prices and applies the actions to positions and cash).
  std::string adjust = "total";
  // When sources report one corporate action differently, the first of these wins (the
  // disagreement is a finding in `trib actions conflicts` either way); sources not listed come
  // after, by name. Comma-separated.
  std::string action_precedence = "user,lean,polygon,alpaca,alphavantage,tiingo,yahoo,stooq";
  // When several vendors deliver a bar for one timestamp, the curated row is the first listed
  // vendor's (a later fetch of the same vendor replaces its own row; vendors not listed rank
  // after, the later fetch first). Overlapping rows of other vendors are kept aside and their
  // disagreements reported by `trib dq --conflicts`. Changing it applies to bars ETL'd from then
  // on; `trib etl --rebuild` re-applies it to everything. Comma-separated.
  std::string bar_precedence = "csv,polygon,alpaca,alphavantage,tiingo,yahoo,stooq,sim";

  bool operator==(const PricesConfig&) const = default;
};

// [quality]: thresholds of the rules that look across a series' rows (`trib dq`; etl/series_checks.hpp).
struct QualityConfig {
  // A close-to-close move with |ln(close / previous close)| above this and no corporate action
  // within a few sessions is an unexplained_jump (0.4: a rise beyond +49% or a fall beyond -33%,
  // where a 3:2 split lands).
  double jump_threshold = 0.4;
  // This many consecutive bars with zero volume and open = high = low = close are stale_bars.
  int stale_sessions = 5;
  // Prices above this, or a bar's volume above max_volume, are out_of_bounds (no US listing has
  // traded above 5,000,000 a share or 100 billion shares a day).
  double max_price = 5'000'000;
  double max_volume = 1e11;

  bool operator==(const QualityConfig&) const = default;
};

// [vendors.<name>]: overrides of a vendor's defaults (providers::vendor_info). A value left out
// (negative / 0 / empty here) keeps the vendor's default; requests_* = 0 in the file means no limit.
struct VendorConfig {
  double requests_per_minute = -1;
  double requests_per_hour = -1;
  double requests_per_day = -1;
  int burst = 0;
  // Minutes after the session close before the vendor's daily bar is final (-1: the vendor's
  // default); `trib update` does not ask for a session before then.
  int publish_delay_minutes = -1;
  std::string base_url;
  std::map<std::string, std::string> options;  // feed, adjusted, format, function

  bool operator==(const VendorConfig&) const = default;
};

struct Config {
  std::filesystem::path workspace;  // folder holding trib.toml
  LakeConfig lake;
  CatalogConfig catalog;
  QueueConfig queue;
  HotCacheConfig hot_cache;
  BrokerConfig broker;
  RiskConfig risk;
  StrategyConfig strategy;
  LlmConfig llm;
  UpdateConfig update;
  PricesConfig prices;
  QualityConfig quality;
  std::map<std::string, VendorConfig> vendors;

  bool operator==(const Config&) const = default;

  // The defaults a fresh workspace gets, rooted at `workspace`.
  static Config defaults(const std::filesystem::path& workspace);
  // Reads <workspace>/trib.toml; keys it leaves out keep their defaults. Throws Error::NotFound
  // when the workspace or file is missing (the message says to run `trib init`), and
  // Error::InvalidInput, starting "trib.toml:" (or the file's path for a TOML syntax error), for
  // an unknown section or key (listing the known ones), a wrong type (naming the expected and the
  // found type; an integer is fine where a float is expected), a non-finite float, a value out
  // of range (naming the value and the range), an unavailable kind, a postgres kind without a
  // url, or a url that holds a password (the message never repeats the url or the password).
  static Config load(const std::filesystem::path& workspace);
  // The TOML text for this config (paths relative to the workspace when they are inside it; url
  // keys only when non-empty). For a valid config, load() reads it back equal.
  std::string to_toml() const;
};

// The code version stamped into lineage metadata.
std::string_view code_version();

}  // namespace trib

#include <fmt/format.h>

#include "trib/core/error.hpp"
#include "trib/providers/provider.hpp"

namespace trib::providers {

std::unique_ptr<Provider> make_csv_provider();
std::unique_ptr<Provider> make_sim_provider(const ProviderOptions& options);
std::unique_ptr<Provider> make_alphavantage_provider(const ProviderOptions& options, std::shared_ptr<RequestGate> gate);
std::unique_ptr<Provider> make_polygon_provider(const ProviderOptions& options, std::shared_ptr<RequestGate> gate);
std::unique_ptr<Provider> make_yahoo_provider(const ProviderOptions& options, std::shared_ptr<RequestGate> gate);
std::unique_ptr<Provider> make_stooq_provider(const ProviderOptions& options, std::shared_ptr<RequestGate> gate);
std::unique_ptr<Provider> make_tiingo_provider(const ProviderOptions& options, std::shared_ptr<RequestGate> gate);
std::unique_ptr<Provider> make_alpaca_provider(const ProviderOptions& options, std::shared_ptr<RequestGate> gate);
std::unique_ptr<Provider> make_fred_provider(const ProviderOptions& options, std::shared_ptr<RequestGate> gate);

namespace {

// Budgets are each vendor's published free-tier limits (docs/vendors.md cites them); where a
// vendor publishes none (Yahoo, Stooq) a conservative figure that public clients report working.
std::vector<VendorInfo> make_vendor_table() {
  std::vector<VendorInfo> v;
  auto add = [&](VendorInfo info) { v.push_back(std::move(info)); };
  add({.name = "sim"});
  add({.name = "csv"});
  add({.name = "alphavantage", .remote = true, .key_env = "ALPHAVANTAGE_API_KEY",
       .default_base_url = "https://www.alphavantage.co",
       .budget = {.per_minute = 5, .per_day = 25, .burst = 1}, .max_sessions_per_task = 0});
  add({.name = "polygon", .remote = true, .key_env = "POLYGON_API_KEY",
       .default_base_url = "https://api.polygon.io",
       .budget = {.per_minute = 5, .burst = 1}, .max_sessions_per_task = 0});
  add({.name = "yahoo", .remote = true, .default_base_url = "https://query2.finance.yahoo.com",
       .budget = {.per_minute = 60, .per_hour = 2000, .burst = 5}, .max_sessions_per_task = 0,
       .price_basis = AdjustMode::kSplit});
  add({.name = "stooq", .remote = true, .default_base_url = "https://stooq.com",
       .budget = {.per_minute = 10, .burst = 1}, .max_sessions_per_task = 0,
       .price_basis = AdjustMode::kTotal});
  add({.name = "tiingo", .remote = true, .key_env = "TIINGO_API_KEY",
       .default_base_url = "https://api.tiingo.com",
       .budget = {.per_hour = 50, .per_day = 1000, .burst = 1}, .max_sessions_per_task = 0});
  add({.name = "alpaca", .remote = true, .key_env = "APCA_API_KEY_ID", .secret_env = "APCA_API_SECRET_KEY",
       .default_base_url = "https://data.alpaca.markets",
       .budget = {.per_minute = 200, .burst = 10}, .max_sessions_per_task = 0});
  add({.name = "fred", .remote = true, .key_env = "FRED_API_KEY",
       .default_base_url = "https://api.stlouisfed.org",
       .budget = {.per_minute = 120, .burst = 5}, .max_sessions_per_task = 0, .datasets = {"rates"}});
  return v;
}

const std::vector<VendorInfo>& vendor_table() {
  static const std::vector<VendorInfo> table = make_vendor_table();
  return table;
}

}  // namespace

std::vector<std::string> available_vendors() {
  std::vector<std::string> names;
  for (const auto& info : vendor_table()) names.push_back(info.name);
  return names;
}

const VendorInfo& vendor_info(std::string_view vendor) {
  for (const auto& info : vendor_table()) {
    if (info.name == vendor) return info;
  }
  std::string list;
  for (const auto& v : available_vendors()) list += (list.empty() ? "" : ", ") + v;
  throw Error::InvalidInput(
      fmt::format("unknown vendor '{}'; available vendors: {}", vendor, list));
}

std::unique_ptr<Provider> make_provider(std::string_view vendor, const ProviderOptions& options,
                                        std::shared_ptr<RequestGate> gate) {
  if (vendor == "csv") return make_csv_provider();
  if (vendor == "sim") return make_sim_provider(options);
  if (vendor == "alphavantage") return make_alphavantage_provider(options, std::move(gate));
  if (vendor == "polygon") return make_polygon_provider(options, std::move(gate));
  if (vendor == "yahoo") return make_yahoo_provider(options, std::move(gate));
  if (vendor == "stooq") return make_stooq_provider(options, std::move(gate));
  if (vendor == "tiingo") return make_tiingo_provider(options, std::move(gate));
  if (vendor == "alpaca") return make_alpaca_provider(options, std::move(gate));
  if (vendor == "fred") return make_fred_provider(options, std::move(gate));
  vendor_info(vendor);  // throws the "unknown vendor" message
  throw Error::Internal(fmt::format("vendor '{}' is described but has no adapter", vendor));
}

std::vector<Symbol> sim_universe(int n) {
  std::vector<Symbol> out;
  out.reserve(static_cast<size_t>(std::max(0, n)));
  for (int i = 1; i <= n; ++i) out.push_back(Symbol::parse(fmt::format("SIM{:04d}", i)));
  return out;
}

}  // namespace trib::providers

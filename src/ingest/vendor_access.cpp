#include "trib/ingest/vendor_access.hpp"

#include <chrono>
#include <cmath>
#include <thread>

#include <fmt/format.h>

#include "trib/core/error.hpp"
#include "trib/core/time.hpp"

namespace trib::ingest {
namespace {

int64_t wall_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Daily bars are final some time after the close; vendors publish within minutes, Yahoo and
// Stooq's end-of-day files later. The update never asks before then.
int default_publish_delay_minutes(std::string_view vendor) {
  if (vendor == "sim" || vendor == "csv") return 0;
  if (vendor == "yahoo" || vendor == "stooq") return 60;
  return 30;
}

std::string format_wait(int64_t ns) {
  const int64_t s = (ns + 999'999'999) / 1'000'000'000;
  if (s < 120) return fmt::format("{} s", s);
  if (s < 2 * 3600) return fmt::format("{} min", (s + 59) / 60);
  return fmt::format("{} h {} min", s / 3600, (s % 3600 + 59) / 60);
}

}  // namespace

VendorSettings vendor_settings(const Config& config, std::string_view vendor) {
  const providers::VendorInfo& info = providers::vendor_info(vendor);
  VendorSettings s;
  s.vendor = info.name;
  s.budget = info.budget;
  s.base_url = info.default_base_url;
  s.publish_delay_minutes = default_publish_delay_minutes(vendor);
  if (auto it = config.vendors.find(info.name); it != config.vendors.end()) {
    const VendorConfig& v = it->second;
    if (v.requests_per_minute >= 0) s.budget.per_minute = v.requests_per_minute;
    if (v.requests_per_hour >= 0) s.budget.per_hour = v.requests_per_hour;
    if (v.requests_per_day >= 0) s.budget.per_day = v.requests_per_day;
    if (v.burst > 0) s.budget.burst = v.burst;
    if (v.publish_delay_minutes >= 0) s.publish_delay_minutes = v.publish_delay_minutes;
    if (!v.base_url.empty()) s.base_url = v.base_url;
    s.options = v.options;
  }
  if (!s.base_url.empty()) s.options["base_url"] = s.base_url;
  return s;
}

void check_vendor_sections(const Config& config) {
  for (const auto& [name, _] : config.vendors) {
    try {
      (void)providers::vendor_info(name);
    } catch (const Error& e) {
      throw Error::InvalidInput(fmt::format("trib.toml: [vendors.{}]: {}", name, e.what()));
    }
  }
}

catalog::BudgetRule budget_rule(const providers::RateBudget& budget, int64_t max_reserve_ns) {
  catalog::BudgetRule rule;
  if (budget.per_minute > 0) {
    const double interval = 60e9 / budget.per_minute;
    rule.interval_ns = static_cast<int64_t>(std::ceil(interval * 1.01));
    rule.tolerance_ns = static_cast<int64_t>(std::max(0, budget.burst - 1)) * rule.interval_ns;
  }
  rule.per_hour = budget.per_hour > 0 ? static_cast<int64_t>(std::floor(budget.per_hour)) : 0;
  rule.per_day = budget.per_day > 0 ? static_cast<int64_t>(std::floor(budget.per_day)) : 0;
  rule.max_reserve_ns = max_reserve_ns;
  return rule;
}

CatalogRequestGate::CatalogRequestGate(catalog::Catalog& catalog,
                                       std::map<std::string, providers::RateBudget> budgets,
                                       Options options)
    : catalog_(catalog), budgets_(std::move(budgets)), options_(std::move(options)) {
  if (!options_.now_ns) options_.now_ns = wall_now_ns;
  if (!options_.sleep_ns) {
    options_.sleep_ns = [](int64_t ns) { std::this_thread::sleep_for(std::chrono::nanoseconds(ns)); };
  }
}

void CatalogRequestGate::acquire(std::string_view vendor) {
  auto it = budgets_.find(std::string(vendor));
  if (it == budgets_.end() || it->second.unlimited()) return;
  const int64_t max_block_ns = options_.max_block_ms * 1'000'000;
  const catalog::BudgetRule rule = budget_rule(it->second, max_block_ns);
  int64_t blocked_ns = 0;
  for (;;) {
    const catalog::BudgetReservation r =
        catalog_.reserve_vendor_request(std::string(vendor), rule, options_.now_ns());
    if (r.reserved || blocked_ns + r.wait_ns > max_block_ns) {
      if (!r.reserved) {
        throw providers::BudgetExhausted(
            fmt::format("{}: the request budget is used up for {} more (requests_per_minute={}, "
                        "requests_per_hour={}, requests_per_day={}); the task waits until then "
                        "without spending an attempt. Raise [vendors.{}] limits only if your plan "
                        "allows it",
                        vendor, format_wait(r.wait_ns), it->second.per_minute, it->second.per_hour,
                        it->second.per_day, vendor),
            (r.wait_ns + 999'999) / 1'000'000);
      }
      if (r.wait_ns > 0) {
        options_.sleep_ns(r.wait_ns);
        waited_ns_ += r.wait_ns;
      }
      return;
    }
    options_.sleep_ns(r.wait_ns);
    waited_ns_ += r.wait_ns;
    blocked_ns += r.wait_ns;
  }
}

void CatalogRequestGate::pause(std::string_view vendor, int64_t until_unix_ms) {
  catalog_.pause_vendor(std::string(vendor), until_unix_ms * 1'000'000);
}

ProviderFactory make_provider_factory(const Config& config, catalog::Catalog& catalog) {
  check_vendor_sections(config);
  std::map<std::string, providers::RateBudget> budgets;
  std::map<std::string, providers::ProviderOptions> options;
  for (const auto& name : providers::available_vendors()) {
    const VendorSettings s = vendor_settings(config, name);
    budgets[name] = s.budget;
    options[name] = s.options;
  }
  auto gate = std::make_shared<CatalogRequestGate>(catalog, budgets);
  return [gate, options](const Task& task) {
    providers::ProviderOptions merged;
    if (auto it = options.find(task.vendor); it != options.end()) merged = it->second;
    for (const auto& [k, v] : task.options) merged[k] = v;  // the task's own options win
    return providers::make_provider(task.vendor, merged, gate);
  };
}

}  // namespace trib::ingest

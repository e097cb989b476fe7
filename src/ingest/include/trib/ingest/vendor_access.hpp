// How a worker reaches a vendor: the provider factory that merges a vendor's defaults
// (providers::vendor_info) with [vendors.<name>] in trib.toml, and the request gate that keeps
// every thread, process and machine sharing a catalog inside the vendor's budget.
//
// The budget lives in the catalog (vendor_budgets): SQLite shares it between the processes of one
// machine, PostgreSQL between machines. Each request reserves a slot in one short transaction
// (GCRA for the per-minute rate and the burst, UTC hour and day windows for the caps) and sleeps
// until its slot; a 429 pauses the vendor for everyone until its Retry-After. The per-minute
// budget is a token bucket, as vendors meter it: `burst` requests at once, then one per
// 60 s / requests_per_minute. It is applied with a 1 % margin so the jitter of the network cannot
// push a vendor's own count, taken on arrival, over its limit.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "trib/catalog/catalog.hpp"
#include "trib/core/config.hpp"
#include "trib/ingest/task.hpp"
#include "trib/providers/provider.hpp"

namespace trib::ingest {

struct VendorSettings {
  std::string vendor;
  providers::RateBudget budget;
  std::string base_url;           // "" for local vendors
  int publish_delay_minutes = 0;  // after the session close before the day's bar is final
  providers::ProviderOptions options;  // base_url and [vendors.<name>] options for the adapter
};

// The vendor's defaults with trib.toml's overrides applied. Throws Error::InvalidInput for an
// unknown vendor (also for a [vendors.<name>] section naming one: the message lists them).
VendorSettings vendor_settings(const Config& config, std::string_view vendor);
// Every [vendors.<name>] section names a known vendor (Error::InvalidInput otherwise).
void check_vendor_sections(const Config& config);

// The catalog's budget rule for a budget (1 % margin on the rate; a slot at most
// `max_reserve_ns` ahead is reserved, later ones are asked for again).
catalog::BudgetRule budget_rule(const providers::RateBudget& budget, int64_t max_reserve_ns);

class CatalogRequestGate final : public providers::RequestGate {
 public:
  struct Options {
    // The longest a request blocks a worker in acquire(); a longer wait (a used-up hourly or
    // daily cap, a long pause) throws Error::RateLimited so the task is released for later.
    int64_t max_block_ms = 5 * 60 * 1000;
    std::function<int64_t()> now_ns;             // wall clock (shared across machines)
    std::function<void(int64_t ns)> sleep_ns;
  };
  CatalogRequestGate(catalog::Catalog& catalog, std::map<std::string, providers::RateBudget> budgets,
                     Options options);
  CatalogRequestGate(catalog::Catalog& catalog, std::map<std::string, providers::RateBudget> budgets)
      : CatalogRequestGate(catalog, std::move(budgets), Options{}) {}

  void acquire(std::string_view vendor) override;
  void pause(std::string_view vendor, int64_t until_unix_ms) override;

  int64_t waited_ns() const { return waited_ns_; }

 private:
  catalog::Catalog& catalog_;
  std::map<std::string, providers::RateBudget> budgets_;
  Options options_;
  int64_t waited_ns_ = 0;
};

// Builds the provider a task needs: vendor settings from `config`, the task's own options on
// top, and a CatalogRequestGate on `catalog` (the calling thread's) for remote vendors.
using ProviderFactory = std::function<std::unique_ptr<providers::Provider>(const Task& task)>;
ProviderFactory make_provider_factory(const Config& config, catalog::Catalog& catalog);

}  // namespace trib::ingest

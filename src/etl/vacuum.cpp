#include "trib/etl/vacuum.hpp"

#include <algorithm>
#include <cctype>
#include <set>

#include <fmt/format.h>

#include "trib/lake/layout.hpp"

#include "trib/core/error.hpp"
#include "trib/core/time.hpp"

namespace trib::etl {

VacuumPlan plan_vacuum(const lake::ObjectStore& store, catalog::Catalog& catalog, int64_t horizon_ns) {
  VacuumPlan plan;
  plan.horizon_ns = horizon_ns;
  std::vector<std::string> datasets = {"bars", "rates"};
  for (auto& d : lake::feature_datasets(store)) datasets.push_back(std::move(d));
  for (const std::string& dataset : datasets) {
    for (const auto& current : catalog.list_partitions(dataset)) {
      ++plan.partitions;
      auto versions = catalog.partition_history(current.key);  // replaced ones, oldest first
      versions.push_back(current);
      std::set<std::string> kept;
      std::vector<VacuumItem> candidates;
      for (size_t i = 0; i < versions.size(); ++i) {
        const auto& v = versions[i];
        if (v.version_key.empty()) continue;  // an older build's layout: nothing versioned to remove
        const bool live = i + 1 == versions.size();
        const int64_t replaced_at = live ? INT64_MAX : versions[i + 1].committed_at_ns;
        if (live || replaced_at >= horizon_ns) {
          kept.insert(v.version_key);
          ++plan.versions_kept;
        } else {
          candidates.push_back({v.key, v.version, v.version_key, replaced_at, 0});
        }
      }
      for (auto& c : candidates) {
        if (kept.contains(c.version_key)) continue;  // shared with a version still needed
        const auto info = store.head(c.version_key);
        if (!info) continue;  // removed already
        c.bytes = info->size;
        plan.bytes += info->size;
        kept.insert(c.version_key);  // listed once even when two old versions share it
        plan.removable.push_back(std::move(c));
      }
    }
  }
  return plan;
}

int64_t apply_vacuum(lake::ObjectStore& store, const VacuumPlan& plan) {
  int64_t removed = 0;
  for (const auto& item : plan.removable) removed += store.remove(item.version_key) ? 1 : 0;
  return removed;
}

int64_t parse_retention(const std::string& text) {
  const auto bad = [&] {
    return Error::InvalidInput(fmt::format(
        "--older-than '{}' is not a duration; use a whole number and a unit: 30d (days), 12h (hours) or 90m (minutes)",
        text));
  };
  if (text.size() < 2) throw bad();
  const char unit = text.back();
  const std::string digits = text.substr(0, text.size() - 1);
  if (digits.size() > 6 || !std::all_of(digits.begin(), digits.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
    throw bad();
  }
  const int64_t n = std::stoll(digits);
  switch (unit) {
    case 'd': return n * kNanosPerDay;
    case 'h': return n * 3600 * kNanosPerSecond;
    case 'm': return n * 60 * kNanosPerSecond;
    default: throw bad();
  }
}

}  // namespace trib::etl

#include "trib/etl/bar_conflicts.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <tuple>

#include <fmt/format.h>

#include "trib/core/error.hpp"
#include "trib/etl/adjusted_bars.hpp"
#include "trib/etl/bars_reader.hpp"
#include "trib/lake/parquet.hpp"

namespace trib::etl {
namespace {

std::vector<lake::CuratedBar> read_overlap_object(lake::ObjectStore& store, const std::string& key) {
  std::string bytes = store.get(key);
  parquet::Reader reader(parquet::memory_source(std::move(bytes)), key);
  return lake::decode_overlap_file(reader);
}

// What identifies a row kept aside: one vendor delivery's row for one timestamp.
using RowKey = std::tuple<int64_t, std::string, std::string, int64_t>;
RowKey key_of(const lake::CuratedBar& r) { return {r.bar.ts_ns, r.source, r.raw_id, r.fetched_at_ns}; }

}  // namespace

std::string overlaps_prefix(Timeframe tf) {
  return fmt::format("quarantine/overlaps/timeframe={}/", to_string(tf));
}

std::string overlaps_key(Timeframe tf, const Symbol& symbol, std::string_view raw_tag) {
  return fmt::format("{}symbol={}/raw={}.parquet", overlaps_prefix(tf), symbol.path_component(), raw_tag);
}

void record_overlaps(lake::ObjectStore& store, Timeframe tf, const Symbol& symbol,
                     std::string_view raw_tag, const std::vector<lake::CuratedBar>& rows) {
  if (rows.empty()) return;
  const std::string key = overlaps_key(tf, symbol, raw_tag);
  std::vector<lake::CuratedBar> all;
  if (store.head(key)) all = read_overlap_object(store, key);
  const size_t before = all.size();
  std::set<RowKey> held;
  for (const auto& r : all) held.insert(key_of(r));
  for (const auto& row : rows) {
    if (held.insert(key_of(row)).second) all.push_back(row);
  }
  if (all.size() == before) return;  // a retry that saw what the first attempt saw
  store.put(key, lake::encode_overlap_file(std::move(all), symbol, tf));
}

BarConflictReport find_bar_conflicts(lake::ObjectStore& store, catalog::Catalog& catalog,
                                     const BarConflictOptions& options) {
  BarConflictReport report;
  std::string prefix = overlaps_prefix(options.timeframe);
  if (options.symbol) prefix += fmt::format("symbol={}/", options.symbol->path_component());
  // symbol component -> its overlap objects
  std::map<std::string, std::vector<std::string>> by_symbol;
  for (const auto& key : store.list(prefix)) {
    const size_t start = key.find("/symbol=");
    if (start == std::string::npos || !key.ends_with(".parquet")) continue;
    const size_t end = key.find('/', start + 8);
    if (end == std::string::npos) continue;
    by_symbol[key.substr(start + 8, end - start - 8)].push_back(key);
  }
  for (const auto& [component, keys] : by_symbol) {
    const Symbol symbol = Symbol::from_path_component(component);
    std::vector<lake::CuratedBar> others;
    std::set<RowKey> seen;
    for (const auto& key : keys) {
      for (auto& r : read_overlap_object(store, key)) {
        if (seen.insert(key_of(r)).second) others.push_back(std::move(r));
      }
    }
    if (others.empty()) continue;
    std::sort(others.begin(), others.end(),
              [](const auto& a, const auto& b) { return a.bar.ts_ns < b.bar.ts_ns; });
    // The curated rows from the first overlap to the newest (a vendor's adjusted prices are
    // turned back with its own closes before each dividend, which may lie after the overlap).
    BarsQuery query{symbol, options.timeframe, others.front().bar.session_date, std::nullopt};
    std::vector<lake::CuratedBar> curated;
    try {
      curated = read_curated_bars(store, catalog, query);
    } catch (const Error& e) {
      if (e.category() != ErrorCategory::kNotFound) throw;
    }
    // One raw-basis pass over both: rows of one delivery convert together.
    std::vector<catalog::ActionRecord> known;
    for (auto& r : catalog.list_actions(symbol.str(), INT64_MAX)) {
      if (r.action.symbol == symbol) known.push_back(std::move(r));
    }
    const std::vector<CorporateAction> actions = resolve_actions(known, options.action_precedence).actions;
    const size_t n_curated = curated.size();
    std::vector<lake::CuratedBar> all = curated;
    all.insert(all.end(), others.begin(), others.end());
    std::vector<size_t> order(all.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return all[a].bar.ts_ns < all[b].bar.ts_ns; });
    std::vector<lake::CuratedBar> sorted;
    sorted.reserve(all.size());
    for (size_t i : order) sorted.push_back(all[i]);
    to_raw_basis(sorted, actions);
    for (size_t k = 0; k < order.size(); ++k) all[order[k]] = std::move(sorted[k]);

    std::map<int64_t, const lake::CuratedBar*> used_at;
    for (size_t i = 0; i < n_curated; ++i) used_at.emplace(all[i].bar.ts_ns, &all[i]);
    int64_t orphaned = 0;
    std::map<std::string, std::pair<OverlapSummary, std::vector<double>>> pairs;  // by other source
    for (size_t i = n_curated; i < all.size(); ++i) {
      const lake::CuratedBar& other = all[i];
      auto it = used_at.find(other.bar.ts_ns);
      if (it == used_at.end()) {
        ++orphaned;
        continue;
      }
      const lake::CuratedBar& used = *it->second;
      if (key_of(used) == key_of(other)) continue;  // the row itself won since (precedence changed)
      ++report.overlapping_rows;
      auto& [summary, ratios] = pairs[other.source];
      summary.symbol = symbol;
      summary.other_source = other.source;
      ++summary.rows;
      ratios.push_back(other.bar.close / used.bar.close);
      const std::pair<const char*, double> fields[] = {
          {"open", other.bar.open / used.bar.open},    {"high", other.bar.high / used.bar.high},
          {"low", other.bar.low / used.bar.low},       {"close", other.bar.close / used.bar.close}};
      const char* worst = nullptr;
      double worst_rel = 0;
      for (const auto& [name, ratio] : fields) {
        const double rel = std::isfinite(ratio) ? std::abs(ratio - 1) : HUGE_VAL;
        if (rel > worst_rel) {
          worst_rel = rel;
          worst = name;
        }
      }
      if (worst != nullptr && worst_rel > options.tolerance) {
        report.conflicts.push_back({symbol, used, other, worst, worst_rel});
        ++summary.disagree;
      }
    }
    for (auto& [source, entry] : pairs) {
      auto& [summary, ratios] = entry;
      std::sort(ratios.begin(), ratios.end());
      summary.median_close_ratio = ratios[ratios.size() / 2];
      summary.min_close_ratio = ratios.front();
      summary.max_close_ratio = ratios.back();
      report.summaries.push_back(std::move(summary));
    }
    if (orphaned > 0) {
      report.notes.push_back(fmt::format("{}: {} overlap row(s) for timestamps the lake no longer holds "
                                         "(not compared)", symbol.str(), orphaned));
    }
  }
  return report;
}

}  // namespace trib::etl

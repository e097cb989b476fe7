#include "trib/etl/corporate_actions.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <tuple>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "trib/core/error.hpp"
#include "trib/core/hash.hpp"
#include "trib/core/log.hpp"

namespace trib::etl {
namespace {

using Kind = CorporateAction::Kind;

std::string value_text(const CorporateAction& a) {
  switch (a.kind) {
    case Kind::kSplit: return fmt::format("ratio {:.10g}", a.split_ratio);
    case Kind::kDividend: return fmt::format("{:.10g} {}", a.cash_amount, a.currency.empty() ? "USD" : a.currency);
    case Kind::kSymbolChange: return "to " + a.new_symbol;
    case Kind::kDelisting: return "delisting";
  }
  return "";
}

bool same_value(const CorporateAction& a, const CorporateAction& b) {
  switch (a.kind) {
    case Kind::kSplit: return std::abs(a.split_ratio / b.split_ratio - 1) <= 1e-6;
    case Kind::kDividend: {
      const double diff = std::abs(a.cash_amount - b.cash_amount);
      return diff <= 0.005 || diff <= 1e-3 * std::max(a.cash_amount, b.cash_amount);
    }
    case Kind::kSymbolChange: return a.new_symbol == b.new_symbol;
    case Kind::kDelisting: return true;
  }
  return true;
}

// What differs between the chosen source's actions of a cluster and another source's ("" when
// they agree).
std::string disagreement(const std::vector<const catalog::ActionRecord*>& chosen,
                         const std::vector<const catalog::ActionRecord*>& other) {
  const std::string_view kind = to_string(chosen.front()->action.kind);
  if (chosen.size() != other.size()) {
    return fmt::format("{} {}(s) ({}) vs {} ({}) close together", chosen.size(), kind,
                       chosen.front()->source, other.size(), other.front()->source);
  }
  for (size_t i = 0; i < chosen.size(); ++i) {
    const auto& a = *chosen[i];
    const auto& b = *other[i];
    if (a.action.ex_date != b.action.ex_date) {
      return fmt::format("{} ex-date {} ({}) vs {} ({})", kind, a.action.ex_date.to_string(), a.source,
                         b.action.ex_date.to_string(), b.source);
    }
    if (!same_value(a.action, b.action)) {
      return fmt::format("{} {} {} ({}) vs {} ({})", kind, a.action.ex_date.to_string(), value_text(a.action),
                         a.source, value_text(b.action), b.source);
    }
  }
  return "";
}

}  // namespace

SourcePrecedence SourcePrecedence::parse(std::string_view text) {
  SourcePrecedence out;
  while (!text.empty()) {
    const size_t comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (!item.empty()) out.sources.emplace_back(item);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
  }
  return out;
}

int SourcePrecedence::rank(const std::string& source) const {
  // "csv:split" (a file declared adjusted) ranks as its vendor.
  const std::string vendor = source.substr(0, source.find(':'));
  auto it = std::find(sources.begin(), sources.end(), vendor);
  return static_cast<int>(it - sources.begin());
}

ResolvedActions resolve_actions(const std::vector<catalog::ActionRecord>& known,
                                const ActionPrecedence& precedence) {
  ResolvedActions out;
  // By symbol and kind, in date order.
  std::map<std::pair<std::string, int>, std::vector<const catalog::ActionRecord*>> groups;
  for (const auto& r : known) {
    groups[{r.action.symbol.str(), static_cast<int>(r.action.kind)}].push_back(&r);
  }
  auto better = [&](const catalog::ActionRecord* a, const catalog::ActionRecord* b) {
    return std::tuple(precedence.rank(a->source), a->source) < std::tuple(precedence.rank(b->source), b->source);
  };
  for (auto& [key, versions] : groups) {
    std::sort(versions.begin(), versions.end(), [](auto* a, auto* b) {
      return std::tie(a->action.ex_date, a->source) < std::tie(b->action.ex_date, b->source);
    });
    for (size_t begin = 0; begin < versions.size();) {
      size_t end = begin + 1;
      const int window = versions[begin]->action.kind == Kind::kDividend ? kActionMatchDays : kSplitMatchDays;
      while (end < versions.size() && versions[end]->action.ex_date - versions[end - 1]->action.ex_date <= window) {
        ++end;
      }
      // One cluster: [begin, end). Each source's actions in it, the preferred source first.
      std::vector<std::vector<const catalog::ActionRecord*>> by_source;
      std::vector<const catalog::ActionRecord*> cluster(versions.begin() + begin, versions.begin() + end);
      std::stable_sort(cluster.begin(), cluster.end(), better);
      for (const auto* r : cluster) {
        if (by_source.empty() || by_source.back().front()->source != r->source) by_source.emplace_back();
        by_source.back().push_back(r);
      }
      const auto& chosen = by_source.front();
      for (const auto* r : chosen) out.chosen.push_back(*r);
      std::vector<std::string> reasons;
      for (size_t s = 1; s < by_source.size(); ++s) {
        if (auto why = disagreement(chosen, by_source[s]); !why.empty()) reasons.push_back(why);
      }
      if (!reasons.empty()) {
        ActionConflict c;
        c.symbol = chosen.front()->action.symbol;
        c.kind = chosen.front()->action.kind;
        c.ex_date = chosen.front()->action.ex_date;
        for (const auto* r : cluster) c.versions.push_back(*r);
        c.chosen_source = chosen.front()->source;
        c.reason = fmt::format("{}", fmt::join(reasons, "; "));
        out.conflicts.push_back(std::move(c));
      }
      begin = end;
    }
  }
  std::stable_sort(out.chosen.begin(), out.chosen.end(), [](const auto& a, const auto& b) {
    return std::tie(a.action.ex_date, a.action.symbol) < std::tie(b.action.ex_date, b.action.symbol);
  });
  for (const auto& r : out.chosen) out.actions.push_back(r.action);
  std::stable_sort(out.conflicts.begin(), out.conflicts.end(), [](const auto& a, const auto& b) {
    return std::tie(a.symbol, a.ex_date) < std::tie(b.symbol, b.ex_date);
  });
  return out;
}

std::string action_problem(const CorporateAction& a) {
  if (a.symbol.empty()) return "no symbol";
  switch (a.kind) {
    case Kind::kSplit:
      if (!(std::isfinite(a.split_ratio) && a.split_ratio > 0)) {
        return fmt::format("split ratio {} is not a positive number", a.split_ratio);
      }
      if (a.split_ratio == 1) return "split ratio 1 changes nothing";
      break;
    case Kind::kDividend:
      if (!(std::isfinite(a.cash_amount) && a.cash_amount >= 0)) {
        return fmt::format("dividend {} is not a cash amount of 0 or more", a.cash_amount);
      }
      break;
    case Kind::kSymbolChange:
      if (a.new_symbol.empty()) return "symbol change without the new symbol";
      break;
    case Kind::kDelisting: break;
  }
  return "";
}

RecordedActions record_reported_actions(lake::ObjectStore& store, catalog::Catalog& catalog,
                                        std::vector<catalog::ActionRecord> reported,
                                        const Symbol& default_symbol) {
  RecordedActions out;
  if (reported.empty()) return out;
  const std::string source = reported.front().source;
  const std::string origin = reported.front().origin;
  std::vector<catalog::ActionRecord> valid;
  nlohmann::json rejected = nlohmann::json::array();
  for (auto& r : reported) {
    if (r.action.symbol.empty()) r.action.symbol = default_symbol;
    const std::string problem = r.retracted ? "" : action_problem(r.action);
    if (problem.empty()) {
      valid.push_back(std::move(r));
      continue;
    }
    rejected.push_back({{"symbol", r.action.symbol.str()},
                        {"kind", std::string(to_string(r.action.kind))},
                        {"ex_date", r.action.ex_date.to_string()},
                        {"split_ratio", std::isfinite(r.action.split_ratio) ? r.action.split_ratio : 0.0},
                        {"cash_amount", std::isfinite(r.action.cash_amount) ? r.action.cash_amount : 0.0},
                        {"rule", "bad_corporate_action"},
                        {"reason", problem}});
  }
  if (!rejected.empty()) {
    const std::string key = fmt::format("quarantine/actions/source={}/raw={}.json", source,
                                        sha256_hex(origin).substr(0, 16));
    nlohmann::json note = {{"origin", origin}, {"source", source}, {"actions", rejected}};
    store.put(key, note.dump(2) + "\n");
    out.rejected = static_cast<int64_t>(rejected.size());
    log::warn("{}: {} corporate action(s) from {} quarantined ({})", origin, out.rejected, source, key);
  }
  out.added = catalog.record_actions(valid);
  return out;
}

}  // namespace trib::etl

#include "trib/ingest/task.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "trib/core/error.hpp"
#include "trib/providers/provider.hpp"
#include "trib/core/hash.hpp"

namespace trib::ingest {

std::string Task::id() const {
  std::string canonical = fmt::format("{}|{}|{}|{}|{}|{}|{}", kind, vendor, dataset,
                                      to_string(timeframe), symbol.str(), from.to_string(),
                                      to.to_string());
  for (const auto& [k, v] : options) canonical += fmt::format("|{}={}", k, v);
  return sha256_hex(canonical).substr(0, 24);
}

std::string Task::to_json() const {
  nlohmann::json j = {{"kind", kind},
                      {"vendor", vendor},
                      {"dataset", dataset},
                      {"timeframe", std::string(trib::to_string(timeframe))},
                      {"symbol", symbol.str()},
                      {"from", from.to_string()},
                      {"to", to.to_string()},
                      {"run_id", run_id},
                      {"options", options}};
  return j.dump();
}

Task Task::from_json(const std::string& body) {
  nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    throw Error::InvalidInput("task body is not a JSON object");
  }
  auto field = [&](const char* name) -> std::string {
    auto it = j.find(name);
    if (it == j.end() || !it->is_string()) {
      throw Error::InvalidInput(fmt::format("task field '{}' is missing or not a string", name));
    }
    return it->get<std::string>();
  };
  Task task;
  task.kind = field("kind");
  if (task.kind != "fetch") {
    throw Error::InvalidInput(fmt::format("task kind '{}' is not known", task.kind));
  }
  task.vendor = field("vendor");
  task.dataset = field("dataset");
  task.timeframe = parse_timeframe(field("timeframe"));
  task.symbol = Symbol::parse(field("symbol"));
  task.from = Date::parse(field("from"), "task field 'from'");
  task.to = Date::parse(field("to"), "task field 'to'");
  if (auto it = j.find("run_id"); it != j.end() && it->is_string()) task.run_id = *it;
  if (auto it = j.find("options"); it != j.end() && it->is_object()) {
    for (auto& [k, v] : it->items()) {
      if (v.is_string()) task.options[k] = v.get<std::string>();
    }
  }
  return task;
}

std::vector<Task> plan_backfill(const BackfillPlan& plan) {
  if (plan.symbols.empty()) throw Error::InvalidInput("backfill: no symbols to fetch");
  if (plan.to < plan.from) {
    throw Error::InvalidInput(fmt::format("backfill: --from {} is after --to {}",
                                          plan.from.to_string(), plan.to.to_string()));
  }
  std::vector<Symbol> symbols = plan.symbols;
  std::sort(symbols.begin(), symbols.end());
  symbols.erase(std::unique(symbols.begin(), symbols.end()), symbols.end());
  std::vector<Task> tasks;
  for (const auto& symbol : symbols) {
    // One task per partition: for daily bars, one per calendar year.
    for (int year = plan.from.year(); year <= plan.to.year(); ++year) {
      Task task;
      task.vendor = plan.vendor;
      task.timeframe = plan.timeframe;
      task.symbol = symbol;
      task.from = std::max(plan.from, Date::from_ymd(year, 1, 1));
      task.to = std::min(plan.to, Date::from_ymd(year, 12, 31));
      task.run_id = plan.run_id;
      task.options = plan.options;
      tasks.push_back(std::move(task));
    }
  }
  return tasks;
}

std::vector<Symbol> parse_symbol_list(const std::string& text, const std::string& vendor) {
  if (!text.empty() && std::all_of(text.begin(), text.end(), ::isdigit)) {
    if (vendor != "sim") {
      throw Error::InvalidInput("symbols: a count (N) only works with the sim vendor; list the symbols instead, e.g. AAPL,MSFT");
    }
    if (text.size() > 4) throw Error::InvalidInput("symbols: the count must be 1..9999");
    const int n = std::stoi(text);
    if (n < 1) throw Error::InvalidInput("symbols: the count must be 1..9999");
    return providers::sim_universe(n);
  }
  std::vector<Symbol> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    std::string item = text.substr(start, end - start);
    if (!item.empty()) out.push_back(Symbol::parse(item));
    start = end + 1;
  }
  if (out.empty()) throw Error::InvalidInput("symbols: give a list (AAPL,MSFT) or, for sim, a count");
  return out;
}

Date last_completed_session(const TradingCalendar& calendar, int64_t now_ns) {
  constexpr int64_t kDayNs = 86400LL * 1000000000LL;
  const Date day(static_cast<int32_t>(now_ns / kDayNs - (now_ns % kDayNs < 0 ? 1 : 0)));
  if (calendar.is_session(day) && calendar.session_close_ts_ns(day) <= now_ns) return day;
  return calendar.previous_session(day);
}

std::vector<Task> plan_update(catalog::Catalog& catalog, const UpdatePlan& plan, const TradingCalendar& calendar) {
  if (plan.symbols.empty()) throw Error::InvalidInput("update: no symbols to update (set [update] symbols in trib.toml)");
  const Date last = last_completed_session(calendar, plan.now_ns);
  std::vector<Task> tasks;
  for (const auto& symbol : plan.symbols) {
    Date from = plan.start;
    if (auto mark = catalog.get_watermark(plan.vendor, "bars", symbol.str())) {
      from = std::max(from, Date::parse(*mark, "watermark") + 1);
    }
    if (from > last) continue;  // current
    BackfillPlan one;
    one.vendor = plan.vendor;
    one.symbols = {symbol};
    one.from = from;
    one.to = last;
    one.timeframe = plan.timeframe;
    one.run_id = plan.run_id;
    one.options = plan.options;
    for (auto& task : plan_backfill(one)) tasks.push_back(std::move(task));
  }
  return tasks;
}

}  // namespace trib::ingest

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
  // The windows every symbol gets: one per partition (for daily bars a calendar year), the
  // whole range when one request (with its pages) answers it, or chunks of N sessions.
  std::vector<std::pair<Date, Date>> windows;
  if (plan.max_sessions_per_task < 0) {
    for (int year = plan.from.year(); year <= plan.to.year(); ++year) {
      windows.emplace_back(std::max(plan.from, Date::from_ymd(year, 1, 1)),
                           std::min(plan.to, Date::from_ymd(year, 12, 31)));
    }
  } else if (plan.max_sessions_per_task == 0) {
    windows.emplace_back(plan.from, plan.to);
  } else {
    const auto sessions = TradingCalendar::nyse().sessions(plan.from, plan.to);
    Date start = plan.from;
    for (size_t i = 0; i < sessions.size(); i += static_cast<size_t>(plan.max_sessions_per_task)) {
      const size_t last = std::min(sessions.size(), i + static_cast<size_t>(plan.max_sessions_per_task)) - 1;
      const Date end = last + 1 == sessions.size() ? plan.to : sessions[last];
      windows.emplace_back(start, end);
      start = end + 1;
    }
    if (windows.empty()) windows.emplace_back(plan.from, plan.to);
  }
  std::vector<Task> tasks;
  for (const auto& symbol : symbols) {
    for (const auto& [from, to] : windows) {
      Task task;
      task.vendor = plan.vendor;
      task.dataset = plan.dataset;
      task.timeframe = plan.timeframe;
      task.symbol = symbol;
      task.from = from;
      task.to = to;
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

Date last_completed_session(const TradingCalendar& calendar, int64_t now_ns, int publish_delay_minutes) {
  constexpr int64_t kDayNs = 86400LL * 1000000000LL;
  const int64_t delay_ns = int64_t{publish_delay_minutes} * 60 * 1'000'000'000;
  // The UTC date is at most one day ahead of New York's: look back from it for the newest
  // session whose close (13:00 on early-close days) plus the publishing delay has passed.
  Date day(static_cast<int32_t>(now_ns / kDayNs - (now_ns % kDayNs < 0 ? 1 : 0)));
  if (!calendar.is_session(day)) day = calendar.previous_session(day);
  while (calendar.session_close_ts_ns(day) + delay_ns > now_ns) day = calendar.previous_session(day);
  return day;
}

int64_t next_update_ns(const TradingCalendar& calendar, int64_t now_ns, int publish_delay_minutes) {
  const int64_t delay_ns = int64_t{publish_delay_minutes} * 60 * 1'000'000'000;
  // From the newest session already final, forward to the first whose close + delay is ahead.
  Date day = last_completed_session(calendar, now_ns, publish_delay_minutes);
  do {
    day = calendar.next_session(day);
  } while (calendar.session_close_ts_ns(day) + delay_ns <= now_ns);
  return calendar.session_close_ts_ns(day) + delay_ns;
}

std::vector<Task> plan_update(catalog::Catalog& catalog, const UpdatePlan& plan, const TradingCalendar& calendar) {
  if (plan.symbols.empty()) throw Error::InvalidInput("update: no symbols to update (set [update] symbols in trib.toml)");
  const Date last = last_completed_session(calendar, plan.now_ns, plan.publish_delay_minutes);
  std::vector<Task> tasks;
  for (const auto& symbol : plan.symbols) {
    Date from = plan.start;
    if (auto mark = catalog.get_watermark(plan.vendor, plan.dataset, symbol.str())) {
      from = std::max(from, Date::parse(*mark, "watermark") + 1);
    }
    if (from > last) continue;  // current
    BackfillPlan one;
    one.vendor = plan.vendor;
    one.dataset = plan.dataset;
    one.max_sessions_per_task = plan.max_sessions_per_task;
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

#include "trib/llm/tools.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <set>

#include <fmt/format.h>

#include "trib/core/calendar.hpp"
#include "trib/core/error.hpp"
#include "trib/core/log.hpp"
#include "trib/core/symbol.hpp"
#include "trib/etl/adjusted_bars.hpp"
#include "trib/etl/bars_reader.hpp"
#include "trib/etl/coverage.hpp"
#include "trib/etl/series_checks.hpp"
#include "trib/llm/query.hpp"
#include "trib/trading/backtest_store.hpp"

extern char** environ;

namespace trib::llm {

using nlohmann::json;

// ---- argument schemas ----

namespace {

std::string type_of(const json& v) {
  if (v.is_string()) return "string";
  if (v.is_boolean()) return "boolean";
  if (v.is_number_integer() || v.is_number_unsigned()) return "integer";
  if (v.is_number()) return "number";
  if (v.is_array()) return "array";
  if (v.is_object()) return "object";
  return "null";
}

std::string violation(const json& schema, const json& value, const std::string& path) {
  if (!schema.is_object()) return "";
  if (const auto t = schema.find("type"); t != schema.end()) {
    const std::string want = t->get<std::string>();
    const std::string have = type_of(value);
    const bool ok = want == have || (want == "number" && have == "integer");
    if (!ok) return fmt::format("{}: expected {}, got {}", path, want, have);
  }
  if (const auto e = schema.find("enum"); e != schema.end()) {
    if (std::find(e->begin(), e->end(), value) == e->end()) {
      return fmt::format("{}: {} is not one of {}", path, value.dump(), e->dump());
    }
  }
  if (value.is_number()) {
    const double x = value.get<double>();
    if (schema.contains("minimum") && x < schema["minimum"].get<double>()) {
      return fmt::format("{}: {} is below the minimum {}", path, value.dump(), schema["minimum"].dump());
    }
    if (schema.contains("maximum") && x > schema["maximum"].get<double>()) {
      return fmt::format("{}: {} is above the maximum {}", path, value.dump(), schema["maximum"].dump());
    }
  }
  if (value.is_string()) {
    const auto& s = value.get_ref<const std::string&>();
    if (schema.contains("minLength") && s.size() < schema["minLength"].get<size_t>()) {
      return fmt::format("{}: shorter than {} characters", path, schema["minLength"].get<size_t>());
    }
    if (schema.contains("maxLength") && s.size() > schema["maxLength"].get<size_t>()) {
      return fmt::format("{}: longer than {} characters", path, schema["maxLength"].get<size_t>());
    }
    if (schema.value("format", "") == "date" && !Date::try_parse(s)) {
      return fmt::format("{}: '{}' is not a date (YYYY-MM-DD)", path, s.substr(0, 40));
    }
  }
  if (value.is_array()) {
    if (schema.contains("minItems") && value.size() < schema["minItems"].get<size_t>()) {
      return fmt::format("{}: fewer than {} items", path, schema["minItems"].get<size_t>());
    }
    if (schema.contains("maxItems") && value.size() > schema["maxItems"].get<size_t>()) {
      return fmt::format("{}: more than {} items", path, schema["maxItems"].get<size_t>());
    }
    if (schema.contains("items")) {
      for (size_t i = 0; i < value.size(); ++i) {
        auto v = violation(schema["items"], value[i], fmt::format("{}[{}]", path, i));
        if (!v.empty()) return v;
      }
    }
  }
  if (value.is_object()) {
    const json props = schema.value("properties", json::object());
    for (const auto& r : schema.value("required", json::array())) {
      if (!value.contains(r.get<std::string>())) return fmt::format("{}: missing required '{}'", path, r.get<std::string>());
    }
    for (const auto& [key, v] : value.items()) {
      if (!props.contains(key)) {
        if (schema.value("additionalProperties", true) == false) {
          return fmt::format("{}: unknown property '{}' (known: {})", path, key.substr(0, 64), [&] {
            std::string names;
            for (const auto& [k, _] : props.items()) names += (names.empty() ? "" : ", ") + k;
            return names;
          }());
        }
        continue;
      }
      auto why = violation(props[key], v, path + "." + key);
      if (!why.empty()) return why;
    }
  }
  return "";
}

}  // namespace

std::string schema_violation(const json& schema, const json& value) { return violation(schema, value, "$"); }

void register_environment_secrets() {
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    const std::string_view entry(*e);
    const size_t eq = entry.find('=');
    if (eq == std::string_view::npos) continue;
    std::string name(entry.substr(0, eq));
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::toupper(c); });
    const bool secret = name.find("KEY") != std::string::npos || name.find("SECRET") != std::string::npos ||
                        name.find("TOKEN") != std::string::npos || name.find("PASSWORD") != std::string::npos ||
                        name.find("CONNECTION_STRING") != std::string::npos || name == "PGPASS";
    const std::string_view value = entry.substr(eq + 1);
    // Short values ("1", "true") are settings, not secrets; masking them would garble outputs.
    if (secret && value.size() >= 8) log::register_secret(std::string(value));
  }
}

// ---- the tools ----

namespace {

struct Tool {
  std::string name, description;
  json parameters;
  std::function<json(const ToolContext&, const json& args, std::vector<std::string>& cites)> run;
};

json obj(json properties, std::vector<std::string> required = {}) {
  return {{"type", "object"}, {"properties", std::move(properties)}, {"required", required},
          {"additionalProperties", false}};
}
json str(const std::string& description) { return {{"type", "string"}, {"description", description}}; }
json date_arg(const std::string& description) {
  return {{"type", "string"}, {"format", "date"}, {"description", description + " (YYYY-MM-DD)"}};
}
json int_arg(const std::string& description, int lo, int hi) {
  return {{"type", "integer"}, {"minimum", lo}, {"maximum", hi}, {"description", description}};
}
json enum_arg(const std::string& description, std::vector<std::string> values) {
  return {{"type", "string"}, {"enum", values}, {"description", description}};
}
const json kSymbol = {{"type", "string"}, {"minLength", 1}, {"maxLength", 32}, {"description", "a ticker, e.g. AAPL, BRK.B, ^GSPC"}};
const json kTimeframe = {{"type", "string"}, {"enum", {"1d", "1h", "1m"}}, {"description", "bar length (default 1d)"}};
const json kAdjust = {{"type", "string"}, {"enum", {"raw", "split", "total"}},
                      {"description", "prices as traded (raw), split-adjusted, or total return (default: the workspace's [prices] adjust)"}};
const json kRunId = {{"type", "string"}, {"minLength", 15}, {"maxLength", 15}, {"description", "a backtest run id, bt-<12 hex>"}};

std::optional<Date> opt_date(const json& args, const char* key) {
  if (!args.contains(key)) return std::nullopt;
  return Date::parse(args[key].get<std::string>(), key);
}

double round_to(double x, int digits) {
  if (!std::isfinite(x)) return x;
  const double f = std::pow(10.0, digits);
  return std::round(x * f) / f;
}

// NaN and infinities are not JSON: the model gets null.
json num(double x, int digits = 6) { return std::isfinite(x) ? json(round_to(x, digits)) : json(nullptr); }

std::string range_text(const std::optional<Date>& from, const std::optional<Date>& to) {
  return fmt::format("{}..{}", from ? from->to_string() : "start", to ? to->to_string() : "end");
}

etl::AdjustedBars read_bars(const ToolContext& c, const std::string& symbol, const json& args) {
  etl::BarsQuery q;
  q.symbol = Symbol::parse(symbol);
  q.timeframe = parse_timeframe(args.value("timeframe", "1d"));
  q.from = opt_date(args, "from");
  q.to = opt_date(args, "to");
  if (q.from && q.to && *q.from > *q.to) {
    throw Error::InvalidInput(fmt::format("from {} is after to {}", q.from->to_string(), q.to->to_string()));
  }
  etl::PriceOptions options;
  options.adjust = parse_adjust_mode(args.value("adjust", c.config->prices.adjust));
  options.precedence = etl::ActionPrecedence::parse(c.config->prices.action_precedence);
  return etl::read_adjusted_bars(*c.store, *c.catalog, q, options);
}

json bar_row(const lake::CuratedBar& r, Timeframe tf) {
  json row = {{"date", r.bar.session_date.to_string()}, {"open", num(r.bar.open)}, {"high", num(r.bar.high)},
              {"low", num(r.bar.low)},   {"close", num(r.bar.close)}, {"volume", num(r.bar.volume, 2)}};
  if (tf != Timeframe::kDay1) row["ts"] = format_ts_ns(r.bar.ts_ns);
  return row;
}

json list_instruments(const ToolContext& c, const json& args, std::vector<std::string>& cites) {
  const std::string prefix = args.value("prefix", "");
  const std::string tf = args.value("timeframe", "1d");
  const int limit = args.value("limit", 100);
  const auto spans = etl::curated_spans(*c.catalog, tf, prefix);
  json items = json::array();
  for (const auto& [symbol, s] : spans) {
    if (static_cast<int>(items.size()) >= limit) break;
    json item = {{"symbol", symbol}, {"first", format_ts_ns(s.first_ts_ns).substr(0, 10)},
                 {"last", format_ts_ns(s.last_ts_ns).substr(0, 10)}, {"bars", s.rows}};
    if (const auto rec = c.catalog->get_instrument(symbol)) {
      item["vendor"] = rec->vendor;
      item["calendar"] = rec->calendar;
    }
    items.push_back(item);
  }
  cites.push_back(fmt::format("catalog: {} instruments with {} bars", spans.size(), tf));
  return {{"timeframe", tf}, {"instruments_total", spans.size()}, {"instruments", items},
          {"truncated", static_cast<int>(spans.size()) > limit}};
}

json get_bars(const ToolContext& c, const json& args, std::vector<std::string>& cites) {
  const std::string symbol = args.at("symbol").get<std::string>();
  const auto bars = read_bars(c, symbol, args);
  const Timeframe tf = parse_timeframe(args.value("timeframe", "1d"));
  const std::string adjust = args.value("adjust", c.config->prices.adjust);
  const auto& rows = bars.rows;
  json out = {{"symbol", symbol}, {"timeframe", std::string(to_string(tf))}, {"adjust", adjust}, {"bars", rows.size()}};
  if (rows.empty()) {
    out["note"] = "no bars in this range";
    return out;
  }
  const std::string first = rows.front().bar.session_date.to_string(), last = rows.back().bar.session_date.to_string();
  cites.push_back(fmt::format("bars {} {} {} {}..{}", symbol, to_string(tf), adjust, first, last));
  constexpr size_t kAllRows = 40;
  if (rows.size() <= kAllRows) {
    json list = json::array();
    for (const auto& r : rows) list.push_back(bar_row(r, tf));
    out["rows"] = list;
  } else {
    // Long ranges are summarised: the extremes with their dates, the change, the newest rows.
    size_t hi = 0, lo = 0;
    double volume = 0;
    for (size_t i = 0; i < rows.size(); ++i) {
      if (rows[i].bar.high > rows[hi].bar.high) hi = i;
      if (rows[i].bar.low < rows[lo].bar.low) lo = i;
      volume += rows[i].bar.volume;
    }
    out["summary"] = {{"first_date", first},
                      {"first_close", num(rows.front().bar.close)},
                      {"last_date", last},
                      {"last_close", num(rows.back().bar.close)},
                      {"change_pct", num(100 * (rows.back().bar.close / rows.front().bar.close - 1), 4)},
                      {"highest_high", num(rows[hi].bar.high)},
                      {"highest_high_date", rows[hi].bar.session_date.to_string()},
                      {"lowest_low", num(rows[lo].bar.low)},
                      {"lowest_low_date", rows[lo].bar.session_date.to_string()},
                      {"mean_volume", num(volume / static_cast<double>(rows.size()), 2)}};
    json list = json::array();
    for (size_t i = rows.size() - 10; i < rows.size(); ++i) list.push_back(bar_row(rows[i], tf));
    out["last_rows"] = list;
    out["note"] = "summarised: narrow from/to for every row, or use query_bars for aggregates";
  }
  json actions = json::array();
  for (const auto& a : bars.actions) {
    json j = {{"ex_date", a.ex_date.to_string()}};
    if (a.kind == CorporateAction::Kind::kSplit) {
      j["split_ratio"] = a.split_ratio;
    } else if (a.kind == CorporateAction::Kind::kDividend) {
      j["dividend"] = a.cash_amount;
    } else {
      continue;
    }
    actions.push_back(j);
  }
  if (!actions.empty()) out["actions_applied"] = actions;
  return out;
}

json coverage(const ToolContext& c, const json& args, std::vector<std::string>& cites) {
  const std::string symbol = args.at("symbol").get<std::string>();
  const auto bars = read_bars(c, symbol, json{{"timeframe", args.value("timeframe", "1d")}, {"adjust", "raw"}});
  std::set<Date> present;
  for (const auto& r : bars.rows) present.insert(r.bar.session_date);
  if (present.empty()) return {{"symbol", symbol}, {"note", "no bars"}};
  const auto rec = c.catalog->get_instrument(symbol);
  const auto& calendar = TradingCalendar::by_name(rec ? rec->calendar : "nyse");
  const Date from = std::max(opt_date(args, "from").value_or(*present.begin()), calendar.first_date());
  const Date to = std::min(opt_date(args, "to").value_or(*present.rbegin()), calendar.last_date());
  json years = json::array();
  for (const auto& y : etl::sessions_by_year(calendar, present, from, to)) {
    json j = {{"year", y.year}, {"expected", y.expected}, {"present", y.present}, {"missing", y.missing.size()}};
    if (!y.missing.empty()) {
      json first = json::array();
      for (size_t i = 0; i < y.missing.size() && i < 15; ++i) first.push_back(y.missing[i].to_string());
      j["first_missing"] = first;
    }
    years.push_back(j);
  }
  cites.push_back(fmt::format("coverage {} {} on {} {}..{}", symbol, args.value("timeframe", "1d"), calendar.name(),
                              from.to_string(), to.to_string()));
  return {{"symbol", symbol}, {"calendar", std::string(calendar.name())}, {"from", from.to_string()},
          {"to", to.to_string()}, {"years", years}};
}

json data_quality(const ToolContext& c, const json& args, std::vector<std::string>& cites) {
  const int limit = args.value("limit", 50);
  const std::string rule = args.value("rule", "");
  const int year = args.value("year", 0);
  json quarantined = json::array();
  std::map<std::pair<std::string, std::string>, int64_t> totals;
  for (const auto& r : c.catalog->dq_summary()) {
    if (rule.empty() || r.rule == rule) totals[{r.dataset, r.rule}] += r.rows;
  }
  for (const auto& [k, rows] : totals) quarantined.push_back({{"dataset", k.first}, {"rule", k.second}, {"rows", rows}});
  etl::SeriesCheckOptions options;
  options.thresholds = c.config->quality;
  options.timeframe = parse_timeframe(args.value("timeframe", "1d"));
  options.today = c.today;
  std::optional<Symbol> symbol;
  if (args.contains("symbol")) symbol = Symbol::parse(args["symbol"].get<std::string>());
  auto findings = etl::check_lake_series(*c.store, *c.catalog, options,
                                         etl::SourcePrecedence::parse(c.config->prices.action_precedence), symbol);
  std::erase_if(findings, [&](const etl::SeriesFinding& f) {
    return (!rule.empty() && f.rule != rule) || (year != 0 && (f.last.year() < year || f.first.year() > year));
  });
  std::map<std::string, std::pair<int64_t, std::set<std::string>>> by_rule;
  for (const auto& f : findings) {
    by_rule[f.rule].first += 1;
    by_rule[f.rule].second.insert(f.symbol.str());
  }
  json rules = json::object();
  for (const auto& [r, v] : by_rule) {
    json symbols = json::array();
    for (const auto& s : v.second) {
      if (symbols.size() >= 25) break;
      symbols.push_back(s);
    }
    rules[r] = {{"findings", v.first}, {"symbols", v.second.size()}, {"some_symbols", symbols}};
  }
  json list = json::array();
  for (const auto& f : findings) {
    if (static_cast<int>(list.size()) >= limit) break;
    list.push_back({{"rule", f.rule}, {"symbol", f.symbol.str()}, {"first", f.first.to_string()},
                    {"last", f.last.to_string()}, {"count", f.count}, {"detail", f.detail}});
  }
  cites.push_back(fmt::format("data quality{}{}{} as of {}", symbol ? " " + symbol->str() : "",
                              rule.empty() ? "" : " rule " + rule, year ? fmt::format(" year {}", year) : "",
                              c.today.to_string()));
  return {{"quarantined_rows", quarantined}, {"findings_total", findings.size()}, {"by_rule", rules},
          {"findings", list}, {"truncated", static_cast<int>(findings.size()) > limit},
          {"rules_explained",
           "missing_sessions: calendar sessions without a bar; stale_bars: unchanged prices for several sessions; "
           "unexplained_jump: a close-to-close move beyond the threshold with no split; out_of_bounds: prices or "
           "volume outside sane limits; outside_calendar: a bar on a non-session day; session_mismatch: a bar "
           "whose timestamp is not its session's"}};
}

json query_bars_tool(const ToolContext& c, const json& args, std::vector<std::string>& cites) {
  BarQuery q = parse_bar_query(args, c.config->prices.adjust);
  std::vector<SymbolRows> data;
  for (const auto& symbol : q.symbols) {
    json read_args = {{"timeframe", q.timeframe}, {"adjust", q.adjust}};
    if (q.from) read_args["from"] = q.from->to_string();
    if (q.to) read_args["to"] = q.to->to_string();
    auto bars = read_bars(c, symbol, read_args);
    data.push_back({symbol, std::move(bars.rows)});
    cites.push_back(fmt::format("bars {} {} {} {}", symbol, q.timeframe, q.adjust, range_text(q.from, q.to)));
  }
  return run_bar_query(q, data);
}

json list_backtests(const ToolContext& c, const json& args, std::vector<std::string>& cites) {
  const int limit = args.value("limit", 20);
  const auto runs = trading::list_backtests(*c.store, *c.catalog);
  json items = json::array();
  for (const auto& run : runs) {
    if (static_cast<int>(items.size()) >= limit) break;
    const json stats = json::parse(run.stats_json, nullptr, false);
    const json params = json::parse(run.params_json, nullptr, false);
    json item = {{"run_id", run.run_id}, {"saved_at", format_ts_ns(run.started_at_ns)}};
    if (params.is_object() && params.contains("parameters")) {
      const json& p = params["parameters"];
      for (const char* key : {"strategy", "timeframe", "from", "to"}) {
        if (p.contains(key)) item[key] = p[key];
      }
    }
    if (stats.is_object()) {
      for (const char* key : {"start", "end", "symbols", "total_return", "cagr", "sharpe", "max_drawdown", "trades",
                              "excess_return"}) {
        if (stats.contains(key)) item[key] = stats[key];
      }
    }
    items.push_back(item);
    cites.push_back("backtest " + run.run_id);
  }
  return {{"backtests_total", runs.size()}, {"backtests", items}, {"truncated", static_cast<int>(runs.size()) > limit}};
}

json get_backtest(const ToolContext& c, const json& args, std::vector<std::string>& cites) {
  const std::string run_id = args.at("run_id").get<std::string>();
  json s = trading::read_backtest_summary(*c.store, *c.catalog, run_id);
  s.erase("config");  // the parameters say the same, structured
  if (s.contains("universe") && s["universe"].size() > 50) {
    json head = json::array();
    for (size_t i = 0; i < 50; ++i) head.push_back(s["universe"][i]);
    s["universe"] = head;
    s["universe_truncated"] = true;
  }
  cites.push_back("backtest " + run_id);
  return s;
}

bool in_window(Date d, const std::optional<Date>& from, const std::optional<Date>& to) {
  return (!from || d >= *from) && (!to || d <= *to);
}

json backtest_trades(const ToolContext& c, const json& args, std::vector<std::string>& cites) {
  const std::string run_id = args.at("run_id").get<std::string>();
  const auto from = opt_date(args, "from"), to = opt_date(args, "to");
  const std::string symbol = args.value("symbol", "");
  const int limit = args.value("limit", 50);
  const auto trades = trading::read_backtest_trades(*c.store, *c.catalog, run_id);
  json list = json::array();
  std::map<std::string, std::pair<double, double>> by_symbol;  // realized, commission
  size_t matched = 0;
  for (const auto& t : trades) {
    if (!in_window(t.date, from, to) || (!symbol.empty() && t.symbol != symbol)) continue;
    ++matched;
    by_symbol[t.symbol].first += t.realized_pnl;
    by_symbol[t.symbol].second += t.commission;
    if (static_cast<int>(list.size()) < limit) {
      list.push_back({{"date", t.date.to_string()}, {"symbol", t.symbol}, {"side", t.side}, {"qty", num(t.qty, 4)},
                      {"price", num(t.price)}, {"commission", num(t.commission, 4)},
                      {"realized_pnl", num(t.realized_pnl, 4)}, {"order_type", t.order_type}});
    }
  }
  std::vector<std::pair<std::string, std::pair<double, double>>> ranked(by_symbol.begin(), by_symbol.end());
  std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) { return a.second.first < b.second.first; });
  json pnl = json::array();
  for (size_t i = 0; i < ranked.size() && i < 20; ++i) {
    pnl.push_back({{"symbol", ranked[i].first}, {"realized_pnl", num(ranked[i].second.first, 2)},
                   {"commission", num(ranked[i].second.second, 2)}});
  }
  cites.push_back(fmt::format("backtest {} trades {}{}", run_id, range_text(from, to), symbol.empty() ? "" : " " + symbol));
  return {{"run_id", run_id}, {"trades_matched", matched}, {"trades", list}, {"truncated", static_cast<int>(matched) > limit},
          {"realized_pnl_by_symbol_worst_first", pnl}};
}

json backtest_equity(const ToolContext& c, const json& args, std::vector<std::string>& cites) {
  const std::string run_id = args.at("run_id").get<std::string>();
  const auto from = opt_date(args, "from"), to = opt_date(args, "to");
  const auto all = trading::read_backtest_equity(*c.store, *c.catalog, run_id);
  std::vector<trading::StoredEquityPoint> points;
  for (const auto& p : all) {
    if (in_window(p.date, from, to)) points.push_back(p);
  }
  if (points.empty()) return {{"run_id", run_id}, {"note", "no equity points in this window"}};
  double peak = points.front().equity, max_dd = 0;
  Date dd_peak = points.front().date, dd_trough = points.front().date, peak_date = points.front().date;
  size_t worst = 0;  // the session with the lowest return (0: none, a single point)
  double worst_return = INFINITY;
  for (size_t i = 0; i < points.size(); ++i) {
    if (points[i].equity > peak) {
      peak = points[i].equity;
      peak_date = points[i].date;
    }
    const double dd = points[i].equity / peak - 1;
    if (dd < max_dd) {
      max_dd = dd;
      dd_peak = peak_date;
      dd_trough = points[i].date;
    }
    if (i > 0 && points[i - 1].equity != 0 && points[i].equity / points[i - 1].equity - 1 < worst_return) {
      worst_return = points[i].equity / points[i - 1].equity - 1;
      worst = i;
    }
  }
  const auto& a = points.front();
  const auto& b = points.back();
  json out = {{"run_id", run_id},
              {"from", a.date.to_string()},
              {"to", b.date.to_string()},
              {"start_equity", num(a.equity, 2)},
              {"end_equity", num(b.equity, 2)},
              {"return_pct", num(100 * (b.equity / a.equity - 1), 4)},
              {"max_drawdown_pct", num(100 * max_dd, 4)},
              {"drawdown_peak", dd_peak.to_string()},
              {"drawdown_trough", dd_trough.to_string()}};
  if (a.benchmark > 0 && b.benchmark > 0) out["benchmark_return_pct"] = num(100 * (b.benchmark / a.benchmark - 1), 4);
  if (worst > 0) {
    out["worst_session"] = points[worst].date.to_string();
    out["worst_session_return_pct"] = num(100 * worst_return, 4);
  }
  // At most 60 points: every point of a short window, evenly spaced ones (ends kept) otherwise.
  json list = json::array();
  const size_t n = points.size(), shown = std::min<size_t>(n, 60);
  for (size_t k = 0; k < shown; ++k) {
    const size_t i = shown == 1 ? 0 : k * (n - 1) / (shown - 1);
    const auto& p = points[i];
    list.push_back({{"date", p.date.to_string()}, {"equity", num(p.equity, 2)}, {"cash", num(p.cash, 2)},
                    {"gross", num(p.gross, 2)}, {"benchmark", num(p.benchmark, 4)}, {"state", p.state}});
  }
  out["points"] = list;
  out["points_sampled"] = n > 60;
  cites.push_back(fmt::format("backtest {} equity {}..{}", run_id, a.date.to_string(), b.date.to_string()));
  return out;
}

json model_summary(const catalog::ModelRecord& m, bool detail) {
  json out = {{"model_id", m.id},       {"name", m.name},
              {"kind", m.kind},         {"feature_set", m.feature_set},
              {"label", m.label},       {"from", Date(m.from_day).to_string()},
              {"to", Date(m.to_day).to_string()}, {"splits", m.splits},
              {"created_at", format_ts_ns(m.created_at_ns)}};
  const json metrics = json::parse(m.metrics_json, nullptr, false);
  if (metrics.is_object()) {
    if (detail) {
      json copy = metrics;
      // Per-date series are long; the per-split summaries and the totals stay.
      for (auto it = copy.begin(); it != copy.end(); ++it) {
        if (it->is_array() && it->size() > 40) *it = json{{"omitted", it->size()}};
      }
      out["metrics"] = copy;
    } else {
      for (const char* key : {"test", "summary", "ic", "rank_ic", "icir", "rank_icir", "hit_rate"}) {
        if (metrics.contains(key)) out[key] = metrics[key];
      }
    }
  }
  if (detail) {
    const json importance = json::parse(m.importance_json, nullptr, false);
    if (importance.is_object()) {
      std::vector<std::pair<double, std::string>> ranked;
      const json& src = importance.contains("importance") && importance["importance"].is_object() ? importance["importance"] : importance;
      for (const auto& [k, v] : src.items()) {
        if (v.is_number()) ranked.emplace_back(v.get<double>(), k);
      }
      std::sort(ranked.rbegin(), ranked.rend());
      json top = json::array();
      for (size_t i = 0; i < ranked.size() && i < 15; ++i) top.push_back({{"feature", ranked[i].second}, {"importance", num(ranked[i].first)}});
      out["top_features"] = top;
    }
  }
  return out;
}

json list_models(const ToolContext& c, const json& args, std::vector<std::string>& cites) {
  const int limit = args.value("limit", 20);
  const auto models = c.catalog->list_models();
  json items = json::array();
  for (const auto& m : models) {
    if (static_cast<int>(items.size()) >= limit) break;
    items.push_back(model_summary(m, false));
    cites.push_back("model " + m.id);
  }
  return {{"models_total", models.size()}, {"models", items}, {"truncated", static_cast<int>(models.size()) > limit}};
}

json get_model(const ToolContext& c, const json& args, std::vector<std::string>& cites) {
  const std::string id = args.at("model_id").get<std::string>();
  const auto m = c.catalog->get_model(id);
  if (!m) throw Error::NotFound(fmt::format("no model '{}' in the registry (list_models names them)", id));
  cites.push_back("model " + id);
  return model_summary(*m, true);
}

double units(Micros m) { return m.to_double(); }

json trading_state(const ToolContext& c, const json& args, std::vector<std::string>& cites) {
  const std::string account = args.value("account", "paper");
  const int limit = args.value("limit", 20);
  json out = {{"account", account}};
  if (const auto s = c.catalog->get_trading_state(account)) {
    out["state"] = s->state;
    out["reason"] = s->reason;
    out["peak_equity"] = num(units(s->peak_equity), 2);
    out["last_equity"] = num(units(s->last_equity), 2);
    out["last_session"] = s->last_session;
  } else {
    out["state"] = "never traded";
  }
  json positions = json::array();
  for (const auto& p : c.catalog->list_positions(account)) {
    if (p.qty.raw() == 0) continue;
    positions.push_back({{"symbol", p.symbol}, {"qty", num(units(p.qty), 6)}, {"avg_price", num(units(p.avg_price))},
                         {"realized_pnl", num(units(p.realized_pnl), 2)}});
  }
  out["positions"] = positions;
  auto orders = c.catalog->list_orders();
  std::erase_if(orders, [&](const catalog::OrderRecord& o) { return o.account != account; });
  std::sort(orders.begin(), orders.end(), [](const auto& a, const auto& b) { return a.created_at_ns > b.created_at_ns; });
  json recent = json::array();
  int open = 0;
  for (const auto& o : orders) {
    if (catalog::is_open(o.status)) ++open;
    if (static_cast<int>(recent.size()) >= limit) continue;
    json j = {{"client_order_id", o.client_order_id}, {"session", o.session_date}, {"symbol", o.symbol},
              {"side", std::string(catalog::to_string(o.side))}, {"qty", num(units(o.qty), 6)},
              {"filled_qty", num(units(o.filled_qty), 6)}, {"type", o.order_type},
              {"status", std::string(catalog::to_string(o.status))}, {"strategy", o.strategy}};
    if (!o.reason.empty()) j["reason"] = o.reason;
    recent.push_back(j);
  }
  out["orders_total"] = orders.size();
  out["orders_open"] = open;
  out["recent_orders"] = recent;
  auto denials = c.catalog->list_denials(account);
  json d = json::array();
  for (auto it = denials.rbegin(); it != denials.rend() && static_cast<int>(d.size()) < limit; ++it) {
    d.push_back({{"session", it->session_date}, {"symbol", it->symbol}, {"side", std::string(catalog::to_string(it->side))},
                 {"qty", num(units(it->qty), 6)}, {"rule", it->rule}, {"reason", it->reason}});
  }
  out["recent_risk_denials"] = d;
  cites.push_back(fmt::format("ledger account {} (read {})", account, c.today.to_string()));
  return out;
}

const std::vector<Tool>& tools() {
  static const std::vector<Tool> kTools = {
      {"list_instruments",
       "Instruments with curated bars: first and last bar date and bar count per symbol.",
       obj({{"prefix", str("only symbols starting with this")}, {"timeframe", kTimeframe},
            {"limit", int_arg("at most this many (default 100)", 1, 500)}}),
       list_instruments},
      {"get_bars",
       "OHLCV bars of one symbol in a date range: every row for up to 40 bars, else a summary (first/last close, "
       "extremes with dates, change) and the last 10 rows. Lists the splits and dividends applied.",
       obj({{"symbol", kSymbol}, {"from", date_arg("first session")}, {"to", date_arg("last session")},
            {"timeframe", kTimeframe}, {"adjust", kAdjust}},
           {"symbol"}),
       get_bars},
      {"coverage",
       "Per calendar year: the sessions the symbol's exchange calendar expects, how many have a bar, the first "
       "missing dates.",
       obj({{"symbol", kSymbol}, {"from", date_arg("first session")}, {"to", date_arg("last session")},
            {"timeframe", kTimeframe}},
           {"symbol"}),
       coverage},
      {"data_quality",
       "Data-quality findings: rows quarantined at ingest (per rule) and findings across the curated series "
       "(missing_sessions, stale_bars, unexplained_jump, out_of_bounds, outside_calendar, session_mismatch), "
       "optionally for one symbol, one rule or one year.",
       obj({{"symbol", kSymbol},
            {"rule", enum_arg("one rule", {"missing_sessions", "stale_bars", "unexplained_jump", "out_of_bounds",
                                           "outside_calendar", "session_mismatch"})},
            {"year", int_arg("findings touching this calendar year", 1900, 2200)},
            {"timeframe", kTimeframe},
            {"limit", int_arg("findings listed (default 50)", 1, 500)}}),
       data_quality},
      {"query_bars", query_bars_description(), query_bars_schema(), query_bars_tool},
      {"list_backtests", "Saved backtest runs, newest first, with their headline metrics.",
       obj({{"limit", int_arg("at most this many (default 20)", 1, 200)}}), list_backtests},
      {"get_backtest",
       "One saved backtest: parameters, metrics (CAGR, volatility, Sharpe, Sortino, max drawdown with dates, "
       "turnover, exposure, hit rate, costs), the benchmark's metrics, risk state changes, first denials.",
       obj({{"run_id", kRunId}}, {"run_id"}), get_backtest},
      {"backtest_trades",
       "Trades of a saved backtest, optionally in a date window or for one symbol, with realized P&L by symbol "
       "(worst first) over the matched trades.",
       obj({{"run_id", kRunId}, {"from", date_arg("first date")}, {"to", date_arg("last date")}, {"symbol", kSymbol},
            {"limit", int_arg("trades listed (default 50)", 1, 500)}},
           {"run_id"}),
       backtest_trades},
      {"backtest_equity",
       "A saved backtest's equity curve in a window: return, the benchmark's return, max drawdown with its dates, "
       "the worst session, and up to 60 points.",
       obj({{"run_id", kRunId}, {"from", date_arg("first date")}, {"to", date_arg("last date")}}, {"run_id"}),
       backtest_equity},
      {"list_models", "Trained models in the registry, newest first, with their test metrics (IC, rank IC, ICIR).",
       obj({{"limit", int_arg("at most this many (default 20)", 1, 200)}}), list_models},
      {"get_model", "One model: configuration, per-split and test metrics, the most important features.",
       obj({{"model_id", {{"type", "string"}, {"minLength", 1}, {"maxLength", 128}}}}, {"model_id"}), get_model},
      {"trading_state",
       "An account's trading state (ACTIVE, REDUCING, HALTED and why), positions, recent orders and risk denials. "
       "Read only: nothing here can place, change or cancel an order.",
       obj({{"account", {{"type", "string"}, {"minLength", 1}, {"maxLength", 64}}},
            {"limit", int_arg("orders and denials listed (default 20)", 1, 200)}}),
       trading_state},
  };
  return kTools;
}

// Halves the longest array until the text fits, saying so: the model is told what it lacks.
std::string bounded(json result, size_t max_bytes) {
  std::string text = result.dump();
  for (int round = 0; text.size() > max_bytes && round < 64; ++round) {
    json* longest = nullptr;
    std::function<void(json&)> find = [&](json& j) {
      if (j.is_array() && j.size() > 1 && (longest == nullptr || j.size() > longest->size())) longest = &j;
      if (j.is_structured()) {
        for (auto& v : j) find(v);
      }
    };
    find(result);
    if (longest == nullptr) break;
    longest->get_ref<json::array_t&>().resize(longest->size() / 2);
    result["truncated"] = true;
    result["note"] = "output shortened to fit; narrow the request (dates, symbol, limit) for the rest";
    text = result.dump();
  }
  if (text.size() > max_bytes) {
    return json{{"error", "the result is too large to show; narrow the request (dates, symbol, limit)"}}.dump();
  }
  return text;
}

}  // namespace

Toolbox::Toolbox(ToolContext context) : context_(context) {
  if (context_.store == nullptr || context_.catalog == nullptr || context_.config == nullptr) {
    throw Error::Internal("Toolbox: store, catalog and config are required");
  }
  if (context_.today == Date()) context_.today = Date::today_utc();
}

std::vector<ToolSpec> Toolbox::specs() const {
  std::vector<ToolSpec> out;
  for (const auto& t : tools()) out.push_back({t.name, t.description, t.parameters});
  return out;
}

ToolOutcome Toolbox::call(const std::string& name, const std::string& arguments) const {
  json args = arguments.empty() ? json::object() : json::parse(arguments, nullptr, false);
  if (args.is_discarded() || !args.is_object()) {
    ToolOutcome out;
    out.name = name;
    out.arguments = arguments;
    out.error = "the arguments are not a JSON object";
    out.content = json{{"error", out.error}}.dump();
    return out;
  }
  ToolOutcome out = call(name, args);
  out.arguments = arguments;
  return out;
}

ToolOutcome Toolbox::call(const std::string& name, const json& args) const {
  ToolOutcome out;
  out.name = name;
  out.arguments = args.dump();
  const auto& all = tools();
  const auto tool = std::find_if(all.begin(), all.end(), [&](const Tool& t) { return t.name == name; });
  auto refuse = [&](std::string why) {
    out.error = log::redact(why);
    out.content = json{{"error", out.error}}.dump();
    return out;
  };
  if (tool == all.end()) {
    std::string names;
    for (const auto& t : all) names += (names.empty() ? "" : ", ") + t.name;
    return refuse(fmt::format("there is no tool '{}'; the tools are: {}", name.substr(0, 64), names));
  }
  if (auto why = schema_violation(tool->parameters, args); !why.empty()) {
    return refuse("arguments out of schema: " + why);
  }
  try {
    json result = tool->run(context_, args, out.cites);
    out.content = log::redact(bounded(result, static_cast<size_t>(context_.max_output_bytes)));
    out.result = std::move(result);
  } catch (const Error& e) {
    // What the data says (no such symbol, a bad date): the model reads it and may try again.
    // What the platform says (a lost database, a corrupt file) stops the question.
    const auto cat = e.category();
    if (cat != ErrorCategory::kInvalidInput && cat != ErrorCategory::kNotFound) throw;
    return refuse(e.what());
  }
  for (auto& c : out.cites) c = log::redact(c);
  return out;
}

}  // namespace trib::llm

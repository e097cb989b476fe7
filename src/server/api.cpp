#include "trib/server/api.hpp"

#include <httplib.h>
#include <sys/socket.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "trib/broker/live_runner.hpp"
#include "trib/core/calendar.hpp"
#include "trib/core/error.hpp"
#include "trib/core/hash.hpp"
#include "trib/core/log.hpp"
#include "trib/core/symbol.hpp"
#include "trib/etl/adjusted_bars.hpp"
#include "trib/etl/bars_reader.hpp"
#include "trib/etl/coverage.hpp"
#include "trib/etl/series_checks.hpp"
#include "trib/ml/predict.hpp"
#include "trib/lake/parquet.hpp"
#include "trib/runtime/backends.hpp"
#include "trib/runtime/shutdown.hpp"
#include "trib/runtime/tasks.hpp"
#include "trib/runtime/worker_pool.hpp"
#include "trib/trading/backtest_store.hpp"
#include "dashboard_assets.hpp"

namespace trib::server {

using nlohmann::json;

std::string ApiRequest::param(const std::string& name, const std::string& fallback) const {
  const auto it = params.find(name);
  return it == params.end() ? fallback : it->second;
}

std::string ApiRequest::header(const std::string& name) const {
  const auto it = headers.find(name);
  return it == headers.end() ? "" : it->second;
}

struct Api::Session {
  runtime::Backends backends;                  // config, store, read-only catalog
  std::unique_ptr<catalog::Catalog> writer;    // opened on the first mutating request
};

namespace {

constexpr double kBuckets[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

// An answer in error: {"error": {"code", "message"}}.
ApiResponse error(int status, const std::string& code, const std::string& message) {
  ApiResponse r;
  r.status = status;
  r.body = json{{"error", {{"code", code}, {"message", log::redact(message)}}}}.dump();
  return r;
}

ApiResponse ok(const json& body) {
  ApiResponse r;
  r.body = body.dump();
  return r;
}

std::vector<std::string> segments(const std::string& path) {
  std::vector<std::string> out;
  size_t at = 0;
  while (at < path.size()) {
    const size_t slash = path.find('/', at);
    const size_t end = slash == std::string::npos ? path.size() : slash;
    if (end > at) out.push_back(path.substr(at, end - at));
    at = end + 1;
  }
  return out;
}

int limit_of(const ApiRequest& r, int fallback, int max) {
  const std::string text = r.param("limit");
  if (text.empty()) return fallback;
  if (text.size() > 9 || text.find_first_not_of("0123456789") != std::string::npos) {
    throw Error::InvalidInput(fmt::format("limit '{}' is not a whole number in [1, {}]", text.substr(0, 20), max));
  }
  const int n = std::stoi(text);
  if (n < 1 || n > max) throw Error::InvalidInput(fmt::format("limit {} is outside [1, {}]", n, max));
  return n;
}

// An index cursor (a list's position); "" = the start.
size_t index_cursor(const ApiRequest& r) {
  const std::string text = r.param("cursor");
  if (text.empty()) return 0;
  if (text.size() > 12 || text.find_first_not_of("0123456789") != std::string::npos) {
    throw Error::InvalidInput("cursor: pass back the next_cursor of the previous page");
  }
  return static_cast<size_t>(std::stoull(text));
}

// A page of `items` from the cursor: {"items": [...], "next_cursor": "N" | null, "total": T}.
json page(const json& items, const ApiRequest& r, int limit) {
  const size_t from = index_cursor(r);
  json out = json::array();
  for (size_t i = from; i < items.size() && out.size() < static_cast<size_t>(limit); ++i) out.push_back(items[i]);
  const size_t next = from + out.size();
  return {{"items", out}, {"total", items.size()}, {"next_cursor", next < items.size() ? json(std::to_string(next)) : json(nullptr)}};
}

std::optional<Date> date_param(const ApiRequest& r, const char* name) {
  const std::string text = r.param(name);
  if (text.empty()) return std::nullopt;
  return Date::parse(text, name);
}

std::string account_param(const ApiRequest& r) {
  const std::string a = r.param("account", "paper");
  if (a.empty() || a.size() > 64 || a.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != std::string::npos) {
    throw Error::InvalidInput("account: letters, digits, '_', '.', '-' (at most 64)");
  }
  return a;
}

double num(double x) { return std::isfinite(x) ? x : 0; }

json instruments(runtime::Backends& b, const ApiRequest& r, const ApiOptions& o) {
  const std::string tf = std::string(to_string(parse_timeframe(r.param("timeframe", "1d"))));
  json items = json::array();
  for (const auto& [symbol, s] : etl::curated_spans(*b.catalog, tf)) {
    json item = {{"symbol", symbol}, {"timeframe", tf}, {"first_ts", format_ts_ns(s.first_ts_ns)},
                 {"last_ts", format_ts_ns(s.last_ts_ns)}, {"bars", s.rows}};
    if (const auto rec = b.catalog->get_instrument(symbol)) {
      item["vendor"] = rec->vendor;
      item["calendar"] = rec->calendar;
    }
    items.push_back(item);
  }
  return page(items, r, limit_of(r, 100, o.max_page));
}

ApiResponse bars(runtime::Backends& b, const std::string& symbol_text, const ApiRequest& r, const ApiOptions& o) {
  const Symbol symbol = Symbol::parse(symbol_text);
  etl::BarsQuery q;
  q.symbol = symbol;
  q.timeframe = parse_timeframe(r.param("timeframe", "1d"));
  q.from = date_param(r, "from");
  q.to = date_param(r, "to");
  if (q.from && q.to && *q.from > *q.to) {
    throw Error::InvalidInput(fmt::format("from {} is after to {}", q.from->to_string(), q.to->to_string()));
  }
  const std::string adjust_text = r.param("adjust", b.config.prices.adjust);
  etl::PriceOptions options;
  options.adjust = parse_adjust_mode(adjust_text);
  options.precedence = etl::ActionPrecedence::parse(b.config.prices.action_precedence);
  const int limit = limit_of(r, 5000, o.max_bar_page);
  int64_t after = INT64_MIN;
  if (const std::string c = r.param("cursor"); !c.empty()) {
    if (c.size() > 20 || c.find_first_not_of("-0123456789") != std::string::npos) {
      throw Error::InvalidInput("cursor: pass back the next_cursor of the previous page");
    }
    after = std::stoll(c);
  }
  // Raw bars are a function of the committed partitions: their hashes make a strong ETag.
  std::string etag;
  if (options.adjust == AdjustMode::kRaw) {
    Sha256 h;
    h.update(fmt::format("bars/1|{}|{}|{}|{}|{}|{}|{}|", symbol.str(), to_string(q.timeframe),
                         q.from ? q.from->to_string() : "", q.to ? q.to->to_string() : "", limit, after,
                         code_version()));
    for (const auto& p : b.catalog->list_partitions("bars", std::string(to_string(q.timeframe)), symbol.str())) {
      h.update(p.key.partition + ":" + p.content_sha256 + "|");
    }
    etag = "\"" + h.hex_digest().substr(0, 32) + "\"";
    if (r.header("if-none-match") == etag) {
      ApiResponse not_modified;
      not_modified.status = 304;
      not_modified.headers.emplace_back("ETag", etag);
      return not_modified;
    }
  }
  const auto result = etl::read_adjusted_bars(*b.store, *b.catalog, q, options);
  json rows = json::array();
  int64_t last_ts = INT64_MIN;
  size_t remaining = 0;
  for (const auto& row : result.rows) {
    if (row.bar.ts_ns <= after) continue;
    if (static_cast<int>(rows.size()) >= limit) {
      ++remaining;
      continue;
    }
    const Bar& bar = row.bar;
    rows.push_back({{"ts", format_ts_ns(bar.ts_ns)}, {"session_date", bar.session_date.to_string()},
                    {"open", num(bar.open)}, {"high", num(bar.high)}, {"low", num(bar.low)},
                    {"close", num(bar.close)}, {"volume", num(bar.volume)}});
    last_ts = bar.ts_ns;
  }
  json out = {{"symbol", symbol.str()}, {"timeframe", std::string(to_string(q.timeframe))}, {"adjust", adjust_text},
              {"bars", rows}, {"next_cursor", remaining > 0 ? json(std::to_string(last_ts)) : json(nullptr)}};
  ApiResponse resp = ok(out);
  if (!etag.empty()) {
    resp.headers.emplace_back("ETag", etag);
    resp.headers.emplace_back("Cache-Control", "no-cache");  // revalidate: a new commit changes it
  }
  return resp;
}

json coverage(runtime::Backends& b, const std::string& symbol_text, const ApiRequest& r) {
  const Symbol symbol = Symbol::parse(symbol_text);
  etl::BarsQuery q;
  q.symbol = symbol;
  q.timeframe = parse_timeframe(r.param("timeframe", "1d"));
  etl::PriceOptions options;
  options.precedence = etl::ActionPrecedence::parse(b.config.prices.action_precedence);
  const auto rows = etl::read_adjusted_bars(*b.store, *b.catalog, q, options).rows;
  std::set<Date> present;
  for (const auto& row : rows) present.insert(row.bar.session_date);
  const auto rec = b.catalog->get_instrument(symbol.str());
  const auto& calendar = TradingCalendar::by_name(rec ? rec->calendar : "nyse");
  json years = json::array();
  if (!present.empty()) {
    const Date from = date_param(r, "from").value_or(*present.begin());
    const Date to = date_param(r, "to").value_or(*present.rbegin());
    for (const auto& y : etl::sessions_by_year(calendar, present, from, to)) {
      json missing = json::array();
      for (const Date d : y.missing) missing.push_back(d.to_string());
      years.push_back({{"year", y.year}, {"expected", y.expected}, {"present", y.present}, {"missing", missing}});
    }
  }
  return {{"symbol", symbol.str()}, {"calendar", std::string(calendar.name())}, {"years", years}};
}

// Every symbol x year of daily bars: sessions present (rows of the year's partition) against the
// sessions the calendar expects between the symbol's first and last bar. From the catalog alone:
// no Parquet is opened, so 500 symbols answer at once.
json coverage_map(runtime::Backends& b) {
  std::set<int> years;
  json symbols = json::array();
  for (const auto& [symbol, span] : etl::curated_spans(*b.catalog, "1d")) {
    if (span.rows_by_year.empty()) continue;
    const auto rec = b.catalog->get_instrument(symbol);
    const auto& calendar = TradingCalendar::by_name(rec ? rec->calendar : "nyse");
    const Date first = std::max(utc_date_of(span.first_ts_ns), calendar.first_date());
    const Date last = std::min(utc_date_of(span.last_ts_ns), calendar.last_date());
    json cells = json::object();
    for (const auto& [year, present] : span.rows_by_year) {
      const Date from = std::max(first, Date::from_ymd(year, 1, 1));
      const Date to = std::min(last, Date::from_ymd(year, 12, 31));
      const int64_t expected = from <= to ? static_cast<int64_t>(calendar.sessions(from, to).size()) : 0;
      cells[std::to_string(year)] = {{"present", present}, {"expected", expected}};
      years.insert(year);
    }
    symbols.push_back({{"symbol", symbol}, {"years", cells}});
  }
  json year_list = json::array();
  for (int y : years) year_list.push_back(std::to_string(y));
  return {{"timeframe", "1d"}, {"years", year_list}, {"symbols", symbols}};
}

// Rows rejected at ingest, as the quarantine files hold them (etl/quality.hpp: the rule, the
// reason, the values where the row parsed, the raw text and the raw object it came from).
json quarantine_rows(runtime::Backends& b, const ApiRequest& r, const ApiOptions& o) {
  const std::string tf = std::string(to_string(parse_timeframe(r.param("timeframe", "1d"))));
  std::string prefix = "quarantine/bars/timeframe=" + tf + "/";
  if (const std::string sym = r.param("symbol"); !sym.empty()) prefix += "symbol=" + Symbol::parse(sym).path_component() + "/";
  const std::string rule = r.param("rule");
  json items = json::array();
  for (const auto& key : b.store->list(prefix)) {
    if (!key.ends_with(".parquet")) continue;
    const size_t at = key.find("/symbol=");
    const size_t end = key.find('/', at + 8);
    // "_multi": rows of a multi-symbol payload that could not be tied to a symbol.
    const std::string component = key.substr(at + 8, end - at - 8);
    const std::string symbol = component == "_multi" ? "" : Symbol::from_path_component(component).str();
    const parquet::Reader reader(parquet::memory_source(b.store->get(key)), key);
    const auto& schema = reader.metadata().schema;
    std::vector<int> cols;
    for (const char* name : {"line", "rule", "reason", "session_date", "open", "high", "low", "close", "volume", "raw_text",
                             "source", "raw_id"}) {
      const int c = schema.find(name);
      if (c < 0) throw Error::DataLoss(fmt::format("{}: a quarantine file without column '{}'", key, name));
      cols.push_back(c);
    }
    for (int g = 0; g < reader.num_row_groups(); ++g) {
      const auto c = reader.read_row_group(g, cols);
      for (size_t i = 0; i < c[0].num_rows; ++i) {
        if (!rule.empty() && c[1].str(i) != rule) continue;
        auto value = [&](int k) { return c[k].is_null(i) ? json(nullptr) : json(num(c[k].f64[i])); };
        items.push_back({{"symbol", symbol}, {"line", c[0].i64[i]}, {"rule", std::string(c[1].str(i))},
                         {"reason", std::string(c[2].str(i))},
                         {"session_date", c[3].is_null(i) ? json(nullptr) : json(Date(c[3].i32[i]).to_string())},
                         {"open", value(4)}, {"high", value(5)}, {"low", value(6)}, {"close", value(7)}, {"volume", value(8)},
                         {"raw_text", std::string(c[9].str(i)).substr(0, 500)}, {"source", std::string(c[10].str(i))},
                         {"raw_id", std::string(c[11].str(i))}});
      }
    }
  }
  return page(items, r, limit_of(r, 100, o.max_page));
}

json runs(runtime::Backends& b, const ApiRequest& r, const ApiOptions& o) {
  const std::string kind = r.param("kind");
  if (kind.size() > 32 || kind.find_first_not_of("abcdefghijklmnopqrstuvwxyz_-") != std::string::npos) {
    throw Error::InvalidInput("kind: a run kind such as update, backfill, etl, backtest, trade");
  }
  json items = json::array();
  for (const auto& run : b.catalog->list_runs(kind, 10'000)) {
    json params = json::parse(run.params_json, nullptr, false);
    json stats = json::parse(run.stats_json, nullptr, false);
    items.push_back({{"run_id", run.run_id}, {"kind", run.kind}, {"status", std::string(catalog::to_string(run.status))},
                     {"started_at", format_ts_ns(run.started_at_ns)},
                     {"finished_at", run.finished_at_ns > 0 ? json(format_ts_ns(run.finished_at_ns)) : json(nullptr)},
                     {"params", params.is_discarded() ? json(nullptr) : params},
                     {"stats", stats.is_discarded() ? json(nullptr) : stats}});
  }
  return page(items, r, limit_of(r, 100, o.max_page));
}

// A feature set's committed files for one symbol, as rows: session_date, close, then each feature
// (null in a warm-up or after a gap).
json feature_rows(runtime::Backends& b, const std::string& set, const std::string& symbol_text, const ApiRequest& r,
                  const ApiOptions& o) {
  if (set.empty() || set.size() > 64 ||
      set.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != std::string::npos) {
    throw Error::InvalidInput("feature set: letters, digits, '_' and '-' (trib features --list names them)");
  }
  const Symbol symbol = Symbol::parse(symbol_text);
  const Timeframe tf = parse_timeframe(r.param("timeframe", "1d"));
  const auto from = date_param(r, "from"), to = date_param(r, "to");
  const auto parts = b.catalog->list_partitions("features/" + set, std::string(to_string(tf)), symbol.str());
  if (parts.empty()) {
    throw Error::NotFound(fmt::format("no feature set '{}' for {} (`trib features --set {} --symbol {}` computes it)", set,
                                      symbol.str(), set, symbol.str()));
  }
  json columns = json::array();
  json rows = json::array();
  for (const auto& part : parts) {
    const parquet::Reader reader(parquet::memory_source(etl::read_committed_bytes(*b.store, part)), part.object_key);
    const auto& schema = reader.metadata().schema;
    const int day_col = schema.find("session_date");
    if (day_col < 0) throw Error::DataLoss(fmt::format("{}: no session_date column", part.object_key));
    std::vector<int> value_cols;
    if (columns.empty()) columns.push_back("session_date");
    for (int c = 0; c < static_cast<int>(schema.columns.size()); ++c) {
      const std::string& name = schema.columns[c].name;
      if (name == "ts" || name == "session_date") continue;
      value_cols.push_back(c);
      if (columns.size() <= value_cols.size()) columns.push_back(name);
    }
    for (int g = 0; g < reader.num_row_groups(); ++g) {
      const auto day = reader.read_column(g, day_col);
      std::vector<parquet::ColumnVector> values;
      for (int c : value_cols) values.push_back(reader.read_column(g, c));
      for (size_t i = 0; i < day.num_rows; ++i) {
        const Date d(day.i32[i]);
        if ((from && d < *from) || (to && d > *to)) continue;
        json row = json::array({d.to_string()});
        for (const auto& v : values) row.push_back(v.is_null(i) || !std::isfinite(v.f64[i]) ? json(nullptr) : json(v.f64[i]));
        rows.push_back(std::move(row));
      }
    }
  }
  json out = page(rows, r, limit_of(r, 500, o.max_bar_page));
  out["set"] = set;
  out["symbol"] = symbol.str();
  out["columns"] = columns;
  return out;
}

json predictions(runtime::Backends& b, const std::string& model_id, const ApiRequest& r, const ApiOptions& o) {
  std::vector<Symbol> symbols;
  if (!r.param("symbol").empty()) symbols.push_back(Symbol::parse(r.param("symbol")));
  const Date from = date_param(r, "from").value_or(Date(0));
  const Date to = date_param(r, "to").value_or(Date::today_utc());
  json items = json::array();
  for (const auto& p : ml::read_predictions(*b.store, *b.catalog, model_id, symbols, from, to)) {
    items.push_back({{"session_date", Date(p.day).to_string()}, {"symbol", p.symbol}, {"prediction", num(p.prediction)},
                     {"split", p.split}});
  }
  json out = page(items, r, limit_of(r, 1000, o.max_bar_page));
  out["model_id"] = model_id;
  return out;
}

json dq(runtime::Backends& b, const ApiRequest& r, const ApiOptions& o) {
  json quarantined = json::array();
  std::map<std::pair<std::string, std::string>, int64_t> totals;
  for (const auto& d : b.catalog->dq_summary()) totals[{d.dataset, d.rule}] += d.rows;
  for (const auto& [k, rows] : totals) quarantined.push_back({{"dataset", k.first}, {"rule", k.second}, {"rows", rows}});
  etl::SeriesCheckOptions options;
  options.thresholds = b.config.quality;
  options.timeframe = parse_timeframe(r.param("timeframe", "1d"));
  std::optional<Symbol> symbol;
  if (!r.param("symbol").empty()) symbol = Symbol::parse(r.param("symbol"));
  const std::string rule = r.param("rule");
  json findings = json::array();
  for (const auto& f : etl::check_lake_series(*b.store, *b.catalog, options,
                                              etl::SourcePrecedence::parse(b.config.prices.action_precedence), symbol)) {
    if (!rule.empty() && f.rule != rule) continue;
    findings.push_back({{"rule", f.rule}, {"symbol", f.symbol.str()}, {"first", f.first.to_string()},
                        {"last", f.last.to_string()}, {"count", f.count}, {"detail", f.detail}});
  }
  json out = page(findings, r, limit_of(r, 100, o.max_page));
  out["quarantined"] = quarantined;
  return out;
}

json backtest_list(runtime::Backends& b, const ApiRequest& r, const ApiOptions& o) {
  json items = json::array();
  for (const auto& run : trading::list_backtests(*b.store, *b.catalog)) {
    json item = {{"run_id", run.run_id}, {"saved_at", format_ts_ns(run.started_at_ns)}};
    const json stats = json::parse(run.stats_json, nullptr, false);
    if (stats.is_object()) {
      for (const char* key : {"start", "end", "total_return", "cagr", "sharpe", "max_drawdown", "trades"}) {
        if (stats.contains(key)) item[key] = stats[key];
      }
    }
    const json params = json::parse(run.params_json, nullptr, false);
    if (params.is_object() && params.contains("parameters") && params["parameters"].contains("strategy")) {
      const json& st = params["parameters"]["strategy"];
      item["strategy"] = st.is_object() ? st.value("name", "") : st.is_string() ? st.get<std::string>() : "";
      if (st.is_object() && st.contains("params") && st["params"].is_string()) item["strategy_params"] = st["params"];
    }
    items.push_back(item);
  }
  return page(items, r, limit_of(r, 100, o.max_page));
}

json model_json(const catalog::ModelRecord& m, bool detail) {
  json out = {{"model_id", m.id}, {"name", m.name}, {"kind", m.kind}, {"feature_set", m.feature_set},
              {"label", m.label}, {"from", Date(m.from_day).to_string()}, {"to", Date(m.to_day).to_string()},
              {"splits", m.splits}, {"created_at", format_ts_ns(m.created_at_ns)}};
  if (detail) {
    out["metrics"] = json::parse(m.metrics_json, nullptr, false);
    out["importance"] = json::parse(m.importance_json, nullptr, false);
    if (out["metrics"].is_discarded()) out["metrics"] = nullptr;
    if (out["importance"].is_discarded()) out["importance"] = nullptr;
  }
  return out;
}

void check_model_id(const std::string& id) {
  if (id.empty() || id.size() > 128 ||
      id.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != std::string::npos ||
      id.find("..") != std::string::npos) {
    throw Error::InvalidInput("model id: letters, digits, '_', '.', '-' (trib ml list names them)");
  }
}

json order_json(const catalog::OrderRecord& o) {
  json j = {{"client_order_id", o.client_order_id}, {"account", o.account}, {"strategy", o.strategy},
            {"symbol", o.symbol}, {"side", std::string(catalog::to_string(o.side))}, {"qty", o.qty.to_double()},
            {"filled_qty", o.filled_qty.to_double()}, {"type", o.order_type},
            {"status", std::string(catalog::to_string(o.status))}, {"session", o.session_date},
            {"broker", o.broker}, {"reason", o.reason}, {"created_at", format_ts_ns(o.created_at_ns)}};
  j["limit_price"] = o.limit_price ? json(o.limit_price->to_double()) : json(nullptr);
  j["stop_price"] = o.stop_price ? json(o.stop_price->to_double()) : json(nullptr);
  return j;
}

json trading_state_json(catalog::Catalog& c, const std::string& account) {
  const auto s = c.get_trading_state(account);
  json out = {{"account", account}, {"state", s ? s->state : "ACTIVE"}, {"reason", s ? s->reason : ""},
              {"peak_equity", s ? s->peak_equity.to_double() : 0.0}, {"last_equity", s ? s->last_equity.to_double() : 0.0},
              {"last_session", s ? json(s->last_session) : json(nullptr)}, {"traded", s.has_value()}};
  return out;
}

bool authorised(const ApiRequest& r, const ApiOptions& o, ApiResponse& refusal) {
  if (o.token.empty()) {
    refusal = error(403, "read_only", "this server is read-only: start trib serve with TRIB_API_TOKEN set to allow changes");
    return false;
  }
  const std::string want = "Bearer " + o.token;
  const std::string got = r.header("authorization");
  // Compared in constant time: the token's length is not secret, its bytes are.
  bool same = got.size() == want.size();
  unsigned char diff = 0;
  for (size_t i = 0; i < want.size(); ++i) diff |= static_cast<unsigned char>(want[i] ^ (i < got.size() ? got[i] : 0));
  same = same && diff == 0;
  if (!same) {
    refusal = error(401, "unauthorized", got.empty() ? "this route needs Authorization: Bearer <TRIB_API_TOKEN>"
                                                     : "the bearer token is not this server's");
    refusal.headers.emplace_back("WWW-Authenticate", "Bearer");
    return false;
  }
  return true;
}

// The route a path matches, as a template: the label metrics count by (a fixed, small set).
std::string route_template(const std::vector<std::string>& seg) {
  const size_t n = seg.size();
  if (n == 0) return "/";
  if (n == 1 && (seg[0] == "healthz" || seg[0] == "readyz" || seg[0] == "metrics")) return "/" + seg[0];
  if (n == 2 && seg[0] == "static") return "/static/{file}";
  if (n < 3 || seg[0] != "api" || seg[1] != "v1") return "unmatched";
  static const std::set<std::string> lists = {"instruments", "coverage", "dq", "quarantine", "queue", "backtests",
                                              "models", "orders", "fills", "positions", "runs"};
  const std::string& r = seg[2];
  if (n == 3 && r == "update") return "/api/v1/update";
  if (n == 3) return lists.count(r) ? "/api/v1/" + r : "unmatched";
  if (n == 4 && (r == "bars" || r == "coverage")) return "/api/v1/" + r + "/{symbol}";
  if (n == 4 && r == "backtests") return "/api/v1/backtests/{run_id}";
  if (n == 5 && r == "backtests" && (seg[4] == "equity" || seg[4] == "trades")) return "/api/v1/backtests/{run_id}/" + seg[4];
  if (n == 4 && r == "models") return "/api/v1/models/{model_id}";
  if (n == 5 && r == "models" && (seg[4] == "ic" || seg[4] == "predictions")) return "/api/v1/models/{model_id}/" + seg[4];
  if (n == 5 && r == "features") return "/api/v1/features/{set}/{symbol}";
  if (n == 4 && r == "trading" && (seg[3] == "state" || seg[3] == "halt" || seg[3] == "resume")) return "/api/v1/trading/" + seg[3];
  if (n == 4 && r == "queue" && seg[3] == "redrive") return "/api/v1/queue/redrive";
  return "unmatched";
}

}  // namespace

Api::Api(Config config, ApiOptions options) : config_(std::move(config)), options_(std::move(options)) {}
Api::~Api() {
  if (drain_.joinable()) drain_.join();
}

// POST /api/v1/update {"drain": true, "workers": 2}: queues the daily update as `trib update`
// does (runtime::queue_daily_update: nothing twice) and, unless drain is false, drains the queue
// with workers on a background thread; answers 202 at once with the plan. GET /api/v1/runs and
// /api/v1/queue follow it.
ApiResponse Api::start_update(const ApiRequest& request) {
  const json body = request.body.empty() ? json::object() : json::parse(request.body, nullptr, false);
  if (!body.is_object()) throw Error::InvalidInput("the body must be a JSON object: {\"drain\": true, \"workers\": 2}");
  if (body.contains("drain") && !body["drain"].is_boolean()) throw Error::InvalidInput("drain must be true or false");
  const bool drain = body.value("drain", true);
  const int workers = body.contains("workers") && body["workers"].is_number_integer() ? body["workers"].get<int>() : 2;
  if (body.contains("workers") && (!body["workers"].is_number_integer() || workers < 1 || workers > 16)) {
    throw Error::InvalidInput("workers must be a whole number in [1, 16]");
  }
  runtime::Backends w;
  w.config = config_;
  w.store = w.open_store();
  w.catalog = w.open_catalog();
  const int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                          std::chrono::system_clock::now().time_since_epoch()).count();
  const runtime::UpdateReport r = runtime::queue_daily_update(w, now);
  bool started = false;
  if (drain && !r.enqueued.pending_ids.empty() && !draining_.exchange(true)) {
    if (drain_.joinable()) drain_.join();  // the previous drain has finished (draining_ was false)
    drain_ = std::thread([this, workers] {
      try {
        runtime::Backends d;
        d.config = config_;
        d.store = d.open_store();
        d.catalog = d.open_catalog();
        runtime::PoolOptions pool;
        pool.workers = workers;
        pool.visibility_timeout_s = config_.queue.visibility_timeout_s;
        runtime::run_pool(d, pool, &runtime::shutdown_flag());
      } catch (const std::exception& e) {
        log::error("update drain started through the API: {}", e.what());
      }
      draining_ = false;
    });
    started = true;
  }
  ApiResponse resp = ok({{"run_id", r.run_id},
                         {"through", r.last_session.to_string()},
                         {"symbols", r.symbols},
                         {"planned", r.planned},
                         {"queued", r.enqueued.queued},
                         {"already_done", r.enqueued.already_done},
                         {"already_queued", r.enqueued.already_queued},
                         {"draining", started || draining_.load()}});
  resp.status = 202;
  return resp;
}

std::unique_ptr<Api::Session> Api::borrow() {
  {
    std::lock_guard lock(mutex_);
    if (!idle_.empty()) {
      auto s = std::move(idle_.back());
      idle_.pop_back();
      return s;
    }
  }
  auto s = std::make_unique<Session>();
  s->backends.config = config_;
  s->backends.store = s->backends.open_store();
  s->backends.catalog = s->backends.open_read_only_catalog();
  return s;
}

void Api::give_back(std::unique_ptr<Session> session) {
  std::lock_guard lock(mutex_);
  idle_.push_back(std::move(session));
}

ApiResponse Api::handle(const ApiRequest& request) {
  const auto seg = segments(request.path);
  std::unique_ptr<Session> session;
  ApiResponse resp;
  const std::string route = route_template(seg);  // for metrics: never the request's own text
  try {
    auto backends = [&]() -> runtime::Backends& {
      if (!session) session = borrow();
      return session->backends;
    };
    for (const auto& part : seg) {
      // Decoded paths may hold "..": no route has such a segment, and saying so beats a 404.
      if (part == "." || part == "..") throw Error::InvalidInput("path segments '.' and '..' are not allowed");
    }
    const bool get = request.method == "GET" || request.method == "HEAD";
    const bool post = request.method == "POST";
    const size_t n = seg.size();
    auto is = [&](std::initializer_list<const char*> parts) {
      if (n != parts.size()) return false;
      size_t i = 0;
      for (const char* p : parts) {
        if (std::string_view(p) != "*" && seg[i] != p) return false;
        ++i;
      }
      return true;
    };
    if (is({"healthz"}) && get) {
      resp = ok({{"status", "ok"}});
    } else if (is({"readyz"}) && get) {
      json checks = json::object();
      bool ready = true;
      auto check = [&](const char* name, const std::function<void()>& f) {
        try {
          f();
          checks[name] = "ok";
        } catch (const std::exception& e) {
          checks[name] = log::redact(e.what());
          ready = false;
        }
      };
      check("catalog", [&] { backends().catalog->schema_version(); });
      check("lake", [&] { backends().store->exists("_readyz"); });
      check("queue", [&] { backends().open_queue()->count(); });
      resp.body = json{{"status", ready ? "ready" : "not_ready"}, {"checks", checks}}.dump();
      resp.status = ready ? 200 : 503;
    } else if ((n == 0 || (n == 2 && seg[0] == "static")) && get) {
      const std::string name = n == 0 ? "index.html" : seg[1];
      const EmbeddedFile* file = find_dashboard_file(name);
      if (file == nullptr) {
        resp = error(404, "not_found", fmt::format("no dashboard file '{}'", name.substr(0, 64)));
      } else {
        const std::string etag = "\"" + std::string(file->etag) + "\"";
        resp.headers.emplace_back("ETag", etag);
        resp.headers.emplace_back("Cache-Control", "no-cache");
        resp.headers.emplace_back("X-Content-Type-Options", "nosniff");
        if (name == "index.html") {
          resp.headers.emplace_back("Content-Security-Policy",
                                    "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:");
        }
        if (request.header("if-none-match") == etag) {
          resp.status = 304;
        } else {
          resp.content_type = file->content_type;
          resp.body.assign(reinterpret_cast<const char*>(file->data), file->size);
        }
      }
    } else if (is({"metrics"}) && get) {
      resp.content_type = "text/plain; version=0.0.4";
      resp.body = metrics_text();
    } else if (n >= 2 && seg[0] == "api" && seg[1] == "v1") {
      auto& b = backends();
      if (is({"api", "v1", "instruments"}) && get) {
        resp = ok(instruments(b, request, options_));
      } else if (is({"api", "v1", "bars", "*"}) && get) {
        resp = bars(b, seg[3], request, options_);
      } else if (is({"api", "v1", "coverage"}) && get) {
        resp = ok(coverage_map(b));
      } else if (is({"api", "v1", "coverage", "*"}) && get) {
        resp = ok(coverage(b, seg[3], request));
      } else if (is({"api", "v1", "dq"}) && get) {
        resp = ok(dq(b, request, options_));
      } else if (is({"api", "v1", "quarantine"}) && get) {
        resp = ok(quarantine_rows(b, request, options_));
      } else if (is({"api", "v1", "queue"}) && get) {
        auto q = b.open_queue();
        json poison = json::array();
        for (const auto& p : q->list_poison()) {
          if (poison.size() >= 100) break;
          poison.push_back({{"id", p.id}, {"dequeue_count", p.dequeue_count}, {"last_error", p.last_error}});
        }
        // Throughput: tasks recorded done per hour over the last 72 hours (the catalog's tasks_done).
        constexpr int64_t kHour = int64_t{3600} * 1'000'000'000;
        const int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                std::chrono::system_clock::now().time_since_epoch()).count();
        const auto t = b.catalog->task_throughput(now - 72 * kHour, kHour);
        json hours = json::array();
        for (const auto& [start, count] : t.buckets) hours.push_back({{"hour", format_ts_ns(start)}, {"tasks", count}});
        resp = ok({{"name", q->name()}, {"depth", q->count()}, {"visible", q->visible_count()},
                   {"poison", q->poison_count()}, {"poison_messages", poison}, {"tasks_done", t.total},
                   {"tasks_done_per_hour", hours}});
      } else if (is({"api", "v1", "backtests"}) && get) {
        resp = ok(backtest_list(b, request, options_));
      } else if (n >= 4 && n <= 5 && seg[2] == "backtests" && get) {
        const std::string run_id = seg[3];
        trading::check_backtest_run_id(run_id);
        const std::string part = n == 5 ? seg[4] : "";
        // A saved run never changes (its id hashes config, data and code): a strong ETag.
        const std::string etag = "\"" + run_id + (part.empty() ? "" : "-" + part) + "-" + request.param("cursor") + "-" +
                                 request.param("limit") + "\"";
        if (request.header("if-none-match") == etag) {
          trading::read_backtest_summary(*b.store, *b.catalog, run_id);  // still 404 for an unknown run
          resp.status = 304;
        } else if (part.empty()) {
          resp = ok(trading::read_backtest_summary(*b.store, *b.catalog, run_id));
        } else if (part == "equity") {
          json points = json::array();
          for (const auto& p : trading::read_backtest_equity(*b.store, *b.catalog, run_id)) {
            points.push_back({{"session_date", p.date.to_string()}, {"ts", format_ts_ns(p.ts)}, {"equity", num(p.equity)},
                              {"cash", num(p.cash)}, {"gross", num(p.gross)}, {"net", num(p.net)},
                              {"benchmark", num(p.benchmark)}, {"state", p.state}});
          }
          resp = ok({{"run_id", run_id}, {"points", points}});
        } else if (part == "trades") {
          json trades = json::array();
          for (const auto& t : trading::read_backtest_trades(*b.store, *b.catalog, run_id)) {
            trades.push_back({{"session_date", t.date.to_string()}, {"ts", format_ts_ns(t.ts)}, {"symbol", t.symbol},
                              {"side", t.side}, {"qty", num(t.qty)}, {"price", num(t.price)},
                              {"reference_price", num(t.reference_price)}, {"commission", num(t.commission)},
                              {"realized_pnl", num(t.realized_pnl)}, {"order_type", t.order_type}});
          }
          json out = page(trades, request, limit_of(request, 1000, options_.max_page));
          out["run_id"] = run_id;
          resp = ok(out);
        } else {
          throw Error::NotFound(fmt::format("no route GET {}", request.path));
        }
        resp.headers.emplace_back("ETag", etag);
        resp.headers.emplace_back("Cache-Control", "public, max-age=31536000, immutable");
      } else if (is({"api", "v1", "models"}) && get) {
        json items = json::array();
        for (const auto& m : b.catalog->list_models()) items.push_back(model_json(m, false));
        resp = ok(page(items, request, limit_of(request, 100, options_.max_page)));
      } else if (is({"api", "v1", "models", "*"}) && get) {
        check_model_id(seg[3]);
        const auto m = b.catalog->get_model(seg[3]);
        if (!m) throw Error::NotFound(fmt::format("no model '{}' (GET /api/v1/models lists them)", seg[3]));
        resp = ok(model_json(*m, true));
      } else if (is({"api", "v1", "models", "*", "ic"}) && get) {
        check_model_id(seg[3]);
        const auto m = b.catalog->get_model(seg[3]);
        if (!m) throw Error::NotFound(fmt::format("no model '{}' (GET /api/v1/models lists them)", seg[3]));
        // The out-of-sample IC per date, from the model's artefacts (ml/training.cpp metrics.json).
        const json metrics = json::parse(b.store->get(m->artefacts + "metrics.json"), nullptr, false);
        json points = json::array();
        if (metrics.is_object() && metrics.contains("by_date")) {
          for (const auto& d : metrics["by_date"]) {
            if (!d["ic"].is_number()) continue;
            points.push_back({{"date", d["date"]}, {"ic", d["ic"]}, {"rank_ic", d["rank_ic"].is_number() ? d["rank_ic"] : json(nullptr)},
                              {"n", d["n"]}});
          }
        }
        resp = ok({{"model_id", m->id}, {"points", points}});
        resp.headers.emplace_back("Cache-Control", "public, max-age=31536000, immutable");
      } else if (is({"api", "v1", "models", "*", "predictions"}) && get) {
        check_model_id(seg[3]);
        if (!b.catalog->get_model(seg[3])) {
          throw Error::NotFound(fmt::format("no model '{}' (GET /api/v1/models lists them)", seg[3]));
        }
        resp = ok(predictions(b, seg[3], request, options_));
      } else if (is({"api", "v1", "runs"}) && get) {
        resp = ok(runs(b, request, options_));
      } else if (is({"api", "v1", "features", "*", "*"}) && get) {
        resp = ok(feature_rows(b, seg[3], seg[4], request, options_));
      } else if (is({"api", "v1", "orders"}) && get) {
        const std::string account = account_param(request);
        auto orders = b.catalog->list_orders();
        std::erase_if(orders, [&](const auto& o) { return o.account != account; });
        std::sort(orders.begin(), orders.end(), [](const auto& x, const auto& y) {
          return x.created_at_ns != y.created_at_ns ? x.created_at_ns > y.created_at_ns : x.client_order_id < y.client_order_id;
        });
        json items = json::array();
        for (const auto& o : orders) items.push_back(order_json(o));
        resp = ok(page(items, request, limit_of(request, 100, options_.max_page)));
      } else if (is({"api", "v1", "fills"}) && get) {
        json items = json::array();
        auto fills = b.catalog->list_fills();
        std::sort(fills.begin(), fills.end(), [](const auto& x, const auto& y) { return x.ts_ns > y.ts_ns; });
        for (const auto& f : fills) {
          items.push_back({{"fill_id", f.fill_id}, {"client_order_id", f.client_order_id}, {"symbol", f.symbol},
                           {"side", std::string(catalog::to_string(f.side))}, {"qty", f.qty.to_double()},
                           {"price", f.price.to_double()}, {"commission", f.commission.to_double()},
                           {"ts", format_ts_ns(f.ts_ns)}});
        }
        resp = ok(page(items, request, limit_of(request, 100, options_.max_page)));
      } else if (is({"api", "v1", "positions"}) && get) {
        const std::string account = account_param(request);
        json items = json::array();
        for (const auto& p : b.catalog->list_positions(account)) {
          if (p.qty.raw() == 0) continue;
          items.push_back({{"symbol", p.symbol}, {"qty", p.qty.to_double()}, {"avg_price", p.avg_price.to_double()},
                           {"realized_pnl", p.realized_pnl.to_double()}, {"updated_at", format_ts_ns(p.updated_at_ns)}});
        }
        resp = ok({{"account", account}, {"positions", items}});
      } else if (is({"api", "v1", "trading", "state"}) && get) {
        resp = ok(trading_state_json(*b.catalog, account_param(request)));
      } else if ((is({"api", "v1", "trading", "halt"}) || is({"api", "v1", "trading", "resume"})) && post) {
        ApiResponse refusal;
        if (!authorised(request, options_, refusal)) {
          resp = refusal;
        } else {
          const json body = request.body.empty() ? json::object() : json::parse(request.body, nullptr, false);
          if (!body.is_object()) throw Error::InvalidInput("the body must be a JSON object: {\"account\": \"paper\", \"reason\": \"...\"}");
          ApiRequest as_params;
          if (body.contains("account")) {
            if (!body["account"].is_string()) throw Error::InvalidInput("account must be a string");
            as_params.params.emplace("account", body["account"].get<std::string>());
          }
          const std::string account = account_param(as_params);
          const std::string reason = body.value("reason", "");
          if (reason.size() > 500) throw Error::InvalidInput("reason: at most 500 characters");
          if (!session->writer) session->writer = b.open_catalog();
          if (seg[3] == "halt") {
            broker::halt_trading(*session->writer, account, reason.empty() ? "halted through the API" : "API: " + reason);
          } else {
            broker::resume_trading(*session->writer, account);
          }
          resp = ok(trading_state_json(*session->writer, account));
        }
      } else if (is({"api", "v1", "update"}) && post) {
        ApiResponse refusal;
        resp = authorised(request, options_, refusal) ? start_update(request) : refusal;
      } else if (is({"api", "v1", "queue", "redrive"}) && post) {
        ApiResponse refusal;
        if (!authorised(request, options_, refusal)) {
          resp = refusal;
        } else {
          resp = ok({{"redriven", b.open_queue()->redrive()}});
        }
      } else {
        resp = error(get || post ? 404 : 405, get || post ? "not_found" : "method_not_allowed",
                     fmt::format("no route {} {}", request.method, request.path));
      }
    } else {
      resp = error(404, "not_found", fmt::format("no route {} {}", request.method, request.path));
    }
  } catch (const Error& e) {
    const auto c = e.category();
    if (c == ErrorCategory::kInvalidInput) {
      resp = error(400, "invalid_input", e.what());
    } else if (c == ErrorCategory::kNotFound) {
      resp = error(404, "not_found", e.what());
    } else if (c == ErrorCategory::kConflict) {
      resp = error(409, "conflict", e.what());
    } else if (c == ErrorCategory::kRetryable || c == ErrorCategory::kRateLimited) {
      resp = error(503, "unavailable", e.what());
      resp.headers.emplace_back("Retry-After", "1");
    } else {
      resp = error(500, "internal", e.what());
    }
  } catch (const std::exception& e) {
    resp = error(500, "internal", e.what());
  }
  resp.route = route;
  if (session) give_back(std::move(session));
  return resp;
}

void Api::observe(const std::string& method, const std::string& route, int status, double seconds) {
  std::lock_guard lock(mutex_);
  ++requests_[{method, route, status}];
  auto& buckets = latency_buckets_[route];
  buckets.resize(std::size(kBuckets));
  for (size_t i = 0; i < std::size(kBuckets); ++i) {
    if (seconds <= kBuckets[i]) ++buckets[i];
  }
  latency_sum_[route] += seconds;
  ++latency_count_[route];
}

std::string Api::metrics_text() {
  std::string out;
  {
    std::lock_guard lock(mutex_);
    out += "# HELP trib_http_requests_total HTTP requests answered, by method, route and status.\n";
    out += "# TYPE trib_http_requests_total counter\n";
    for (const auto& [k, v] : requests_) {
      out += fmt::format("trib_http_requests_total{{method=\"{}\",route=\"{}\",status=\"{}\"}} {}\n", std::get<0>(k),
                         std::get<1>(k), std::get<2>(k), v);
    }
    out += "# HELP trib_http_request_duration_seconds Time to answer a request, by route.\n";
    out += "# TYPE trib_http_request_duration_seconds histogram\n";
    for (const auto& [route, buckets] : latency_buckets_) {
      for (size_t i = 0; i < buckets.size(); ++i) {
        out += fmt::format("trib_http_request_duration_seconds_bucket{{route=\"{}\",le=\"{}\"}} {}\n", route, kBuckets[i],
                           buckets[i]);
      }
      out += fmt::format("trib_http_request_duration_seconds_bucket{{route=\"{}\",le=\"+Inf\"}} {}\n", route,
                         latency_count_[route]);
      out += fmt::format("trib_http_request_duration_seconds_sum{{route=\"{}\"}} {}\n", route, latency_sum_[route]);
      out += fmt::format("trib_http_request_duration_seconds_count{{route=\"{}\"}} {}\n", route, latency_count_[route]);
    }
  }
  // The platform's state, read now.
  auto session = borrow();
  auto& b = session->backends;
  try {
    int64_t rows = 0;
    std::set<std::string> symbols;
    for (const auto& p : b.catalog->list_partitions("bars")) {
      rows += p.row_count;
      symbols.insert(p.key.symbol);
    }
    int64_t quarantined = 0;
    for (const auto& d : b.catalog->dq_summary()) quarantined += d.rows;
    out += "# HELP trib_curated_rows Rows in curated bar partitions.\n# TYPE trib_curated_rows gauge\n";
    out += fmt::format("trib_curated_rows {}\n", rows);
    out += "# HELP trib_instruments Symbols with curated bars.\n# TYPE trib_instruments gauge\n";
    out += fmt::format("trib_instruments {}\n", symbols.size());
    out += "# HELP trib_quarantined_rows Rows rejected at ingest (data quality).\n# TYPE trib_quarantined_rows gauge\n";
    out += fmt::format("trib_quarantined_rows {}\n", quarantined);
    std::map<std::string, int64_t> last_fetch;
    for (const auto& r : b.catalog->list_raw_objects()) last_fetch[r.vendor] = std::max(last_fetch[r.vendor], r.fetched_at_ns);
    out += "# HELP trib_last_fetch_timestamp_seconds When a vendor's newest raw payload was fetched.\n";
    out += "# TYPE trib_last_fetch_timestamp_seconds gauge\n";
    for (const auto& [vendor, ns] : last_fetch) {
      out += fmt::format("trib_last_fetch_timestamp_seconds{{vendor=\"{}\"}} {}\n", vendor, ns / 1'000'000'000);
    }
    auto q = b.open_queue();
    const auto done = b.catalog->task_throughput(INT64_MAX, 1).total;
    out += "# HELP trib_tasks Tasks by outcome: done (recorded in the catalog), queued (waiting or leased), poison "
           "(dead-lettered after their attempts).\n# TYPE trib_tasks gauge\n";
    out += fmt::format("trib_tasks{{outcome=\"done\"}} {}\ntrib_tasks{{outcome=\"queued\"}} {}\ntrib_tasks{{outcome=\"poison\"}} {}\n",
                       done, q->count(), q->poison_count());
    out += "# HELP trib_queue_messages Tasks in the queue (visible or leased).\n# TYPE trib_queue_messages gauge\n";
    out += fmt::format("trib_queue_messages{{queue=\"{}\"}} {}\n", q->name(), q->count());
    out += "# HELP trib_queue_poison_messages Tasks moved to the poison queue.\n# TYPE trib_queue_poison_messages gauge\n";
    out += fmt::format("trib_queue_poison_messages{{queue=\"{}\"}} {}\n", q->name(), q->poison_count());
    std::set<std::string> accounts;
    for (const auto& o : b.catalog->list_orders()) accounts.insert(o.account);
    for (const auto& p : b.catalog->list_positions()) accounts.insert(p.account);
    out += "# HELP trib_risk_state An account's trading state: 0 ACTIVE, 1 REDUCING, 2 HALTED.\n";
    out += "# TYPE trib_risk_state gauge\n";
    for (const auto& a : accounts) {
      const auto s = b.catalog->get_trading_state(a);
      const std::string state = s ? s->state : "ACTIVE";
      out += fmt::format("trib_risk_state{{account=\"{}\"}} {}\n", a, state == "HALTED" ? 2 : state == "REDUCING" ? 1 : 0);
    }
  } catch (const std::exception& e) {
    out += fmt::format("# state unavailable: {}\n", log::redact(e.what()));
  }
  give_back(std::move(session));
  return out;
}

void serve_api(Api& api, const std::string& host, int port, const std::atomic<bool>& stop,
               const std::function<void(int)>& on_listening) {
  httplib::Server server;
  server.set_keep_alive_timeout(5);
  server.set_keep_alive_max_count(1000);  // cpp-httplib's default closes a connection every 5 requests
  server.set_payload_max_length(1 << 20);
  // Headers and body go out in separate writes: without TCP_NODELAY, Nagle's algorithm holds the
  // body until the client's delayed ACK, and a kept-alive connection waits ~300 ms per request.
  server.set_tcp_nodelay(true);
  // One thread per kept-alive connection (cpp-httplib's model): enough for a dashboard and a
  // few scripts; catalog sessions are pooled so threads share them.
  server.new_task_queue = [] { return new httplib::ThreadPool(64); };
  // Debian's cpp-httplib listens with a backlog of 5: a burst of connections (a dashboard opening,
  // a load test) would see SYNs dropped and retried after seconds. Keep the listening socket's fd
  // and listen again with a real backlog once bound (Linux takes a new backlog that way).
  int listening_fd = -1;
  server.set_socket_options([&listening_fd](socket_t sock) {
    httplib::default_socket_options(sock);
    listening_fd = sock;
  });
  auto handler = [&api](const httplib::Request& req, httplib::Response& res) {
    const auto start = std::chrono::steady_clock::now();
    ApiRequest r;
    r.method = req.method;
    r.path = req.path;
    for (const auto& [k, v] : req.params) r.params.emplace(k, v);
    for (const auto& [k, v] : req.headers) {
      std::string name = k;
      std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
      r.headers[name] = v;
    }
    r.body = req.body;
    const ApiResponse a = api.handle(r);
    res.status = a.status;
    for (const auto& [k, v] : a.headers) res.set_header(k, v);
    if (a.status != 304 && req.method != "HEAD") res.set_content(a.body, a.content_type);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    api.observe(req.method, a.route, a.status, seconds);
    std::string query;
    for (const auto& [k, v] : req.params) query += (query.empty() ? "" : "&") + k + "=" + v;
    log::info("{}", json{{"access", true},
                         {"method", req.method},
                         {"path", req.path},
                         {"query", log::redact(query)},
                         {"status", a.status},
                         {"bytes", a.body.size()},
                         {"ms", std::round(seconds * 1e5) / 100}}
                        .dump());
  };
  server.Get(R"(/.*)", handler);
  server.Post(R"(/.*)", handler);
  server.Put(R"(/.*)", handler);
  server.Delete(R"(/.*)", handler);
  server.Patch(R"(/.*)", handler);
  const int bound = port == 0 ? server.bind_to_any_port(host) : (server.bind_to_port(host, port) ? port : -1);
  if (bound <= 0) throw Error::Retryable(fmt::format("trib serve: cannot listen on {}:{} (in use?)", host, port));
  if (listening_fd >= 0) ::listen(listening_fd, 1024);
  std::atomic<bool> done{false};
  std::thread watcher([&] {
    while (!stop.load() && !done.load()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    server.stop();  // stops accepting; requests in flight finish first
  });
  if (on_listening) on_listening(bound);
  server.listen_after_bind();
  done = true;
  watcher.join();
}

}  // namespace trib::server

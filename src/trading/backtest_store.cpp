#include "trib/trading/backtest_store.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "trib/core/config.hpp"
#include "trib/core/error.hpp"
#include "trib/core/hash.hpp"
#include "trib/lake/parquet.hpp"

namespace trib::trading {

using nlohmann::json;

namespace {

template <typename T>
void hash_vector(Sha256& h, const std::vector<T>& v) {
  h.update(std::string_view(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T)));
  h.update("|");
}

json metrics_json(const Metrics& m) {
  auto date = [](const std::optional<Date>& d) { return d ? json(d->to_string()) : json(nullptr); };
  return {{"start", m.start.to_string()},
          {"end", m.end.to_string()},
          {"sessions", m.sessions},
          {"initial_equity", m.initial_equity},
          {"final_equity", m.final_equity},
          {"total_return", m.total_return},
          {"cagr", m.cagr},
          {"annual_volatility", m.annual_volatility},
          {"risk_free_rate", m.risk_free_rate},
          {"sharpe", m.sharpe},
          {"sortino", m.sortino},
          {"max_drawdown", m.max_drawdown},
          {"drawdown_peak", date(m.drawdown_peak)},
          {"drawdown_trough", date(m.drawdown_trough)},
          {"drawdown_recovery", date(m.drawdown_recovery)},
          {"calmar", m.calmar},
          {"turnover", m.turnover},
          {"exposure", m.exposure},
          {"hit_rate", m.hit_rate},
          {"trades", m.trades},
          {"closing_trades", m.closing_trades},
          {"winning_trades", m.winning_trades},
          {"traded_notional", m.traded_notional},
          {"costs",
           {{"commissions", m.commissions},
            {"slippage", m.slippage},
            {"borrow_fees", m.borrow_fees},
            {"margin_interest", m.margin_interest},
            {"total", m.costs()}}}};
}

}  // namespace

std::string backtest_run_id(const std::string& config_text, const MarketData& data) {
  Sha256 h;
  h.update("backtest/1|");
  h.update(config_text);
  h.update("|");
  for (const auto& s : data.symbols) {
    h.update(s.symbol + "|");
    hash_vector(h, s.day);
    hash_vector(h, s.open);
    hash_vector(h, s.high);
    hash_vector(h, s.low);
    hash_vector(h, s.close);
    hash_vector(h, s.volume);
    hash_vector(h, s.signal_close);
    for (const auto& a : s.actions) {
      h.update(fmt::format("{}:{}:{}:{}|", static_cast<int>(a.kind), a.ex_date.days_since_epoch(), a.split_ratio,
                           a.cash_amount));
    }
    hash_vector(h, s.predictions);
  }
  if (data.benchmark) {
    h.update("benchmark|" + data.benchmark->symbol + "|");
    hash_vector(h, data.benchmark->day);
    hash_vector(h, data.benchmark->close);
  }
  h.update(std::string(code_version()));
  return "bt-" + h.hex_digest().substr(0, 12);
}

json backtest_summary(const std::string& run_id, const std::string& config_text, const json& parameters,
                      const MarketData& data, const BacktestResult& result) {
  const Metrics& m = result.metrics;
  json out = metrics_json(m);
  out["run_id"] = run_id;
  out["symbols"] = data.symbols.size();
  json universe = json::array();
  for (const auto& s : data.symbols) universe.push_back(s.symbol);
  out["universe"] = universe;
  out["signal_prices"] = data.signal_prices;
  out["orders"] = result.orders;
  out["orders_scaled"] = result.orders_scaled;
  out["orders_unfilled"] = result.orders_unfilled;
  out["splits_applied"] = result.splits_applied;
  out["dividends"] = result.dividends;
  out["bar_events"] = result.bar_events;
  out["denials"] = result.denials.size();
  json first_denials = json::array();
  for (size_t k = 0; k < std::min<size_t>(result.denials.size(), 20); ++k) {
    const auto& d = result.denials[k];
    first_denials.push_back({{"date", d.date.to_string()},
                             {"symbol", data.symbols[d.symbol].symbol},
                             {"side", d.side > 0 ? "buy" : "sell"},
                             {"qty", d.qty},
                             {"rule", d.denial.rule},
                             {"reason", d.denial.reason}});
  }
  out["first_denials"] = first_denials;
  json states = json::array();
  for (const auto& c : result.state_changes) {
    states.push_back({{"date", c.date.to_string()},
                      {"from", std::string(to_string(c.from))},
                      {"to", std::string(to_string(c.to))},
                      {"reason", c.reason}});
  }
  out["state_changes"] = states;
  if (result.benchmark) {
    json b = metrics_json(*result.benchmark);
    b.erase("trades");
    b.erase("closing_trades");
    b.erase("winning_trades");
    b.erase("traded_notional");
    b.erase("costs");
    b.erase("turnover");
    b.erase("exposure");
    b.erase("hit_rate");
    b["symbol"] = data.benchmark->symbol;
    out["benchmark"] = b;
    out["excess_return"] = m.total_return - result.benchmark->total_return;
  }
  out["parameters"] = parameters;
  out["config"] = config_text;
  out["code_version"] = std::string(code_version());
  out["saved"] = "backtests/" + run_id + "/";
  return out;
}

std::string equity_parquet(const BacktestResult& result) {
  std::vector<int32_t> day;
  std::vector<int64_t> ts;
  std::vector<double> equity, cash, gross, net, benchmark;
  std::vector<std::string> state;
  for (const auto& p : result.curve) {
    day.push_back(p.date.days_since_epoch());
    ts.push_back(p.time);
    equity.push_back(p.equity);
    cash.push_back(p.cash);
    gross.push_back(p.gross);
    net.push_back(p.net);
    benchmark.push_back(p.benchmark);
    state.emplace_back(to_string(p.state));
  }
  parquet::Schema schema;
  schema.columns = {parquet::ColumnSchema::Date("session_date"),
                    parquet::ColumnSchema::Timestamp("ts", parquet::TimeUnit::kNanos),
                    parquet::ColumnSchema::Double("equity"),
                    parquet::ColumnSchema::Double("cash"),
                    parquet::ColumnSchema::Double("gross"),
                    parquet::ColumnSchema::Double("net"),
                    parquet::ColumnSchema::Double("benchmark"),
                    parquet::ColumnSchema::String("state")};
  std::vector<parquet::ColumnVector> columns;
  columns.push_back(parquet::ColumnVector::of_i32(std::move(day)));
  columns.push_back(parquet::ColumnVector::of_i64(std::move(ts)));
  columns.push_back(parquet::ColumnVector::of_f64(std::move(equity)));
  columns.push_back(parquet::ColumnVector::of_f64(std::move(cash)));
  columns.push_back(parquet::ColumnVector::of_f64(std::move(gross)));
  columns.push_back(parquet::ColumnVector::of_f64(std::move(net)));
  columns.push_back(parquet::ColumnVector::of_f64(std::move(benchmark)));
  columns.push_back(parquet::ColumnVector::of_strings(state));
  parquet::WriterOptions options;
  options.key_value = {{"trib.schema", "backtest_equity/1"}, {"trib.code_version", std::string(code_version())}};
  parquet::StringSink sink;
  parquet::Writer writer(sink, schema, options);
  writer.write_batch(columns);
  writer.close();
  return std::move(sink.buffer());
}

std::string trades_parquet(const MarketData& data, const BacktestResult& result) {
  std::vector<int32_t> day;
  std::vector<int64_t> ts;
  std::vector<std::string> symbol, side, type;
  std::vector<double> qty, price, reference, commission, realized;
  for (const auto& t : result.trades) {
    day.push_back(t.date.days_since_epoch());
    ts.push_back(t.time);
    symbol.push_back(data.symbols[t.symbol].symbol);
    side.emplace_back(t.side > 0 ? "buy" : "sell");
    qty.push_back(t.qty);
    price.push_back(t.price);
    reference.push_back(t.reference);
    commission.push_back(t.commission);
    realized.push_back(t.realized);
    type.emplace_back(to_string(t.type));
  }
  parquet::Schema schema;
  schema.columns = {parquet::ColumnSchema::Date("session_date"),
                    parquet::ColumnSchema::Timestamp("ts", parquet::TimeUnit::kNanos),
                    parquet::ColumnSchema::String("symbol"),
                    parquet::ColumnSchema::String("side"),            parquet::ColumnSchema::Double("qty"),
                    parquet::ColumnSchema::Double("price"),           parquet::ColumnSchema::Double("reference_price"),
                    parquet::ColumnSchema::Double("commission"),      parquet::ColumnSchema::Double("realized_pnl"),
                    parquet::ColumnSchema::String("order_type")};
  std::vector<parquet::ColumnVector> columns;
  columns.push_back(parquet::ColumnVector::of_i32(std::move(day)));
  columns.push_back(parquet::ColumnVector::of_i64(std::move(ts)));
  columns.push_back(parquet::ColumnVector::of_strings(symbol));
  columns.push_back(parquet::ColumnVector::of_strings(side));
  columns.push_back(parquet::ColumnVector::of_f64(std::move(qty)));
  columns.push_back(parquet::ColumnVector::of_f64(std::move(price)));
  columns.push_back(parquet::ColumnVector::of_f64(std::move(reference)));
  columns.push_back(parquet::ColumnVector::of_f64(std::move(commission)));
  columns.push_back(parquet::ColumnVector::of_f64(std::move(realized)));
  columns.push_back(parquet::ColumnVector::of_strings(type));
  parquet::WriterOptions options;
  options.key_value = {{"trib.schema", "backtest_trades/1"}, {"trib.code_version", std::string(code_version())}};
  parquet::StringSink sink;
  parquet::Writer writer(sink, schema, options);
  writer.write_batch(columns);
  writer.close();
  return std::move(sink.buffer());
}

std::string save_backtest(lake::ObjectStore& store, catalog::Catalog& catalog, const json& summary,
                          const MarketData& data, const BacktestResult& result) {
  const std::string run_id = summary.at("run_id").get<std::string>();
  const std::string prefix = "backtests/" + run_id + "/";
  // The objects first (deterministic bytes: a rerun rewrites the same), the catalog record last.
  store.put(prefix + "equity.parquet", equity_parquet(result));
  store.put(prefix + "trades.parquet", trades_parquet(data, result));
  store.put(prefix + "result.json", summary.dump(2) + "\n");
  const auto existing = catalog.get_run(run_id);
  if (!existing) {
    catalog::RunRecord run;
    run.run_id = run_id;
    run.kind = "backtest";
    run.params_json = json{{"config", summary.at("config")}, {"parameters", summary.at("parameters")}}.dump();
    run.status = catalog::RunStatus::kRunning;
    try {
      catalog.start_run(run);
    } catch (const Error& e) {
      if (e.category() != ErrorCategory::kConflict) throw;  // another process recorded it first
    }
  }
  if (!existing || existing->status != catalog::RunStatus::kOk) {
    json stats = summary;
    stats.erase("config");
    stats.erase("parameters");
    stats.erase("first_denials");
    catalog.finish_run(run_id, catalog::RunStatus::kOk, stats.dump());
  }
  return prefix;
}

void check_backtest_run_id(const std::string& run_id) {
  bool ok = run_id.size() == 15 && run_id.starts_with("bt-");
  for (size_t i = 3; ok && i < run_id.size(); ++i) {
    const char c = run_id[i];
    ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  }
  if (!ok) {
    throw Error::InvalidInput(fmt::format(
        "'{}' is not a backtest run id: ids look like bt-0123456789ab (`trib backtest` prints them)", run_id));
  }
}

namespace {

// The run must be committed in the catalog: its files alone could be a crashed save's.
void require_committed(catalog::Catalog& catalog, const std::string& run_id) {
  check_backtest_run_id(run_id);
  const auto run = catalog.get_run(run_id);
  if (!run || run->kind != "backtest" || run->status != catalog::RunStatus::kOk) {
    throw Error::NotFound(fmt::format(
        "no saved backtest {}: run `trib backtest` (without --no-save) to create one", run_id));
  }
}

parquet::Reader open_run_file(const lake::ObjectStore& store, const std::string& run_id, const std::string& name) {
  return parquet::Reader(parquet::memory_source(store.get("backtests/" + run_id + "/" + name)),
                         "backtests/" + run_id + "/" + name);
}

int column_of(const parquet::Reader& reader, std::string_view name) {
  const int c = reader.metadata().schema.find(name);
  if (c < 0) throw Error::DataLoss(fmt::format("backtest file lacks column '{}'", name));
  return c;
}

}  // namespace

std::vector<catalog::RunRecord> list_backtests(const lake::ObjectStore& store, catalog::Catalog& catalog) {
  std::vector<catalog::RunRecord> out;
  for (const auto& key : store.list("backtests/")) {
    if (!key.ends_with("/result.json")) continue;
    const std::string run_id = key.substr(10, key.size() - 10 - 12);
    const auto run = catalog.get_run(run_id);
    if (run && run->kind == "backtest" && run->status == catalog::RunStatus::kOk) out.push_back(*run);
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return a.started_at_ns != b.started_at_ns ? a.started_at_ns > b.started_at_ns : a.run_id < b.run_id;
  });
  return out;
}

json read_backtest_summary(const lake::ObjectStore& store, catalog::Catalog& catalog, const std::string& run_id) {
  require_committed(catalog, run_id);
  return json::parse(store.get("backtests/" + run_id + "/result.json"));
}

// Every row of a committed run's file: `row` receives each row group's columns (in `names`'
// order) and a row index.
template <class T, class F>
std::vector<T> read_run_rows(const lake::ObjectStore& store, catalog::Catalog& catalog, const std::string& run_id,
                             const char* file, std::initializer_list<const char*> names, F row) {
  require_committed(catalog, run_id);
  const auto reader = open_run_file(store, run_id, file);
  std::vector<int> cols;
  for (const char* name : names) cols.push_back(column_of(reader, name));
  std::vector<T> out;
  for (int g = 0; g < reader.num_row_groups(); ++g) {
    const auto c = reader.read_row_group(g, cols);
    for (size_t r = 0; r < c[0].num_rows; ++r) out.push_back(row(c, r));
  }
  return out;
}

std::vector<StoredTrade> read_backtest_trades(const lake::ObjectStore& store, catalog::Catalog& catalog,
                                              const std::string& run_id) {
  return read_run_rows<StoredTrade>(
      store, catalog, run_id, "trades.parquet",
      {"session_date", "ts", "symbol", "side", "qty", "price", "reference_price", "commission", "realized_pnl",
       "order_type"},
      [](const auto& c, size_t r) {
        return StoredTrade{Date(c[0].i32[r]), c[1].i64[r], std::string(c[2].str(r)), std::string(c[3].str(r)),
                           std::string(c[9].str(r)), c[4].f64[r], c[5].f64[r], c[6].f64[r], c[7].f64[r], c[8].f64[r]};
      });
}

std::vector<StoredEquityPoint> read_backtest_equity(const lake::ObjectStore& store, catalog::Catalog& catalog,
                                                    const std::string& run_id) {
  return read_run_rows<StoredEquityPoint>(
      store, catalog, run_id, "equity.parquet", {"session_date", "ts", "equity", "cash", "gross", "net", "benchmark", "state"},
      [](const auto& c, size_t r) {
        return StoredEquityPoint{Date(c[0].i32[r]), c[1].i64[r], c[2].f64[r],        c[3].f64[r],
                                 c[4].f64[r],       c[5].f64[r], c[6].f64[r], std::string(c[7].str(r))};
      });
}

}  // namespace trib::trading

// The trading commands: trib backtest (a portfolio backtest of [strategy] over a universe, saved
// to the lake and the catalog, printed next to its benchmark), trib trade (the live runner's
// end-of-day cycle, once or always on, against the paper broker or Alpaca), trib halt / resume
// (the kill switch) and trib reconcile.
#include <memory>
#include <set>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli.hpp"
#include "trib/core/calendar.hpp"
#include "trib/core/error.hpp"
#include "trib/core/text.hpp"
#include "trib/etl/bars_reader.hpp"
#include "trib/runtime/shutdown.hpp"
#include "trib/broker/alpaca_broker.hpp"
#include "trib/trading/backtest.hpp"
#include "trib/trading/backtest_store.hpp"
#include "trib/broker/live_runner.hpp"
#include "trib/trading/market_loader.hpp"
#include "trib/broker/paper_broker.hpp"
#include "workspace.hpp"

namespace trib::cli {
using nlohmann::json;

namespace {

// [strategy] universe: "" = [strategy] symbol, "all" = every curated daily symbol, else a list.
std::vector<Symbol> strategy_universe(Workspace& ws, const StrategyConfig& s) {
  if (s.universe == "all") return universe_of(ws, {});
  const auto names = s.universe.empty() ? std::vector<std::string>{s.symbol} : split_list(s.universe);
  if (names.empty()) throw Error::InvalidInput("--universe names no symbol; give a comma-separated list or 'all'");
  std::vector<Symbol> out;
  std::set<std::string> seen;
  for (const auto& n : names) {
    Symbol sym = Symbol::parse(n);
    if (seen.insert(sym.str()).second) out.push_back(sym);
  }
  return out;
}

bool has_daily_bars(Workspace& ws, const std::string& symbol) {
  for (const auto& p : ws.catalog->list_partitions("bars", "1d")) {
    if (p.key.symbol == symbol) return true;
  }
  return false;
}

// The sections a run depends on, canonically: what --json prints as "config".
std::string config_text(const Config& config, const StrategyConfig& s, const std::vector<Symbol>& universe,
                        const std::string& benchmark, const std::string& mode, const std::string& from,
                        const std::string& to, const std::string& as_of) {
  Config c = config;
  c.strategy = s;
  c.prices.adjust = mode;
  const std::string all = c.to_toml();
  std::string out;
  bool keep = false;
  std::stringstream in(all);
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with("[")) keep = line == "[broker]" || line == "[risk]" || line == "[strategy]" || line == "[prices]";
    if (keep && !line.starts_with("kind =") && !line.starts_with("url =")) out += line + "\n";
  }
  out += "\n[backtest]\n";
  std::string list;
  for (const auto& u : universe) list += (list.empty() ? "" : ", ") + json(u.str()).dump();
  out += "universe = [" + list + "]\n";
  out += "benchmark = " + json(benchmark).dump() + "\n";
  out += "from = " + json(from).dump() + "\n";
  out += "to = " + json(to).dump() + "\n";
  out += "as_of = " + json(as_of).dump() + "\n";
  return out;
}

json parameters_json(const Config& config, const trading::Strategy& strategy, const StrategyConfig& s,
                     const std::string& mode, const std::string& from, const std::string& to,
                     const std::string& as_of) {
  const BrokerConfig& b = config.broker;
  const RiskConfig& r = config.risk;
  return {{"strategy", {{"name", strategy.name()}, {"params", strategy.params()}}},
          {"signal_prices", mode},
          {"from", from},
          {"to", to},
          {"as_of", as_of},
          {"initial_cash", b.initial_cash},
          {"risk_free_rate", s.risk_free_rate},
          {"costs",
           {{"commission_per_share", b.commission_per_share},
            {"min_commission", b.min_commission},
            {"max_commission_pct", b.max_commission_pct},
            {"commission_bps", b.commission_bps},
            {"slippage_model", b.slippage_model},
            {"slippage_bps", b.slippage_bps},
            {"impact_bps", b.impact_bps},
            {"volume_participation", b.volume_participation}}},
          {"account",
           {{"type", b.account_type},
            {"allow_short", b.allow_short},
            {"borrow_bps", b.borrow_bps},
            {"margin_interest_bps", b.margin_interest_bps}}},
          {"risk",
           {{"max_order_notional", r.max_order_notional},
            {"max_order_qty", r.max_order_qty},
            {"max_position_notional", r.max_position_notional},
            {"max_position_weight", r.max_position_weight},
            {"max_gross_leverage", r.max_gross_leverage},
            {"max_net_leverage", r.max_net_leverage},
            {"price_band_pct", r.price_band_pct},
            {"max_orders_per_day", r.max_orders_per_day},
            {"daily_loss_limit_pct", r.daily_loss_limit_pct},
            {"max_drawdown_pct", r.max_drawdown_pct},
            {"restricted", r.restricted}}}};
}

}  // namespace

json run_backtest_with(Workspace& ws, trading::Strategy& strategy_object, const std::string& code,
                       const StrategyConfig& s, const std::string& from, const std::string& to,
                       const std::string& adjust, const std::string& as_of, bool save, const std::string& timeframe,
                       const std::string& feature_set, BacktestRun* run) {
  trading::Strategy* strategy = &strategy_object;
  const std::string mode = adjust.empty() ? ws.config.prices.adjust : adjust;
  const auto universe = strategy_universe(ws, s);
  // The benchmark: [strategy] benchmark, else ^GSPC where the lake has it, else the first symbol.
  std::string benchmark = s.benchmark;
  if (benchmark.empty()) benchmark = has_daily_bars(ws, "^GSPC") ? "^GSPC" : universe.front().str();

  trading::MarketRequest request;
  request.symbols = universe;
  request.timeframe = parse_timeframe(timeframe);
  request.signal = prices_of(ws.config, mode);
  if (!to.empty()) request.to = Date::parse(to, "--to");
  request.as_of_ns = parse_as_of(as_of);
  request.model = strategy->model();
  request.benchmark = Symbol::parse(benchmark);
  request.feature_set = feature_set;
  request.workspace = ws.config.workspace;
  auto loaded = std::make_shared<trading::MarketData>(trading::load_market(*ws.store, *ws.catalog, request));
  if (run != nullptr) run->data = loaded;
  const trading::MarketData& data = *loaded;

  trading::BacktestConfig config;
  config.initial_cash = ws.config.broker.initial_cash;
  config.costs = trading::CostModel::from_config(ws.config.broker);
  config.risk = trading::RiskLimits::from_config(ws.config.risk, ws.config.broker);
  config.volume_participation = ws.config.broker.volume_participation;
  config.borrow_bps = ws.config.broker.borrow_bps;
  config.margin_interest_bps = ws.config.broker.margin_interest_bps;
  config.risk_free_rate = s.risk_free_rate;
  if (!from.empty()) config.from = Date::parse(from, "--from");
  config.to = request.to;
  if (config.from && config.to && *config.to < *config.from) {
    throw Error::InvalidInput(fmt::format("--from {} is after --to {}", from, to));
  }
  auto result = trading::run_backtest(data, *strategy, config);

  std::string text = config_text(ws.config, s, universe, benchmark, mode, from, to, as_of) +
                     "timeframe = " + json(timeframe).dump() + "\nfeature_set = " + json(feature_set).dump() + "\n";
  // A strategy object from outside [strategy] (Python): its name, parameters and code identify it.
  if (!code.empty()) {
    text += "strategy = " + json(strategy->name()).dump() + "\nstrategy_params = " + json(strategy->params()).dump() +
            "\nstrategy_code = " + json(code).dump() + "\n";
  }
  const std::string run_id = trading::backtest_run_id(text, data);
  json parameters = parameters_json(ws.config, *strategy, s, mode, from, to, as_of);
  parameters["timeframe"] = timeframe;
  parameters["feature_set"] = feature_set;
  json out = trading::backtest_summary(run_id, text, parameters, data, result);
  // Kept from the single-symbol summary: the first symbol, the strategy's name, the dates.
  out["symbol"] = data.symbols.front().symbol;
  out["strategy"] = strategy->name();
  out["params"] = strategy->params();
  // The first session traded (the curve starts at the close before it, with the initial cash).
  out["from"] = result.curve[result.curve.size() > 1 ? 1 : 0].date.to_string();
  out["to"] = result.curve.back().date.to_string();
  out["initial_cash"] = config.initial_cash;
  if (save) {
    trading::save_backtest(*ws.store, *ws.catalog, out, data, result);
  } else {
    out["saved"] = nullptr;
  }
  // Printed, not saved: the saved files are the same bytes on a rerun.
  out["engine_seconds"] = result.engine_seconds;
  if (run != nullptr) run->result = std::move(result);
  return out;
}

json run_backtest_json(Workspace& ws, const StrategyConfig& s, const std::string& from, const std::string& to,
                       const std::string& adjust, const std::string& as_of, bool save, const std::string& timeframe,
                       const std::string& feature_set) {
  auto strategy = trading::make_strategy(s);
  return run_backtest_with(ws, *strategy, "", s, from, to, adjust, as_of, save, timeframe, feature_set, nullptr);
}

void print_backtest(const json& b) {
  const bool bench = b.contains("benchmark");
  fmt::print("backtest {} {}({}) on {} symbol(s), {} .. {} ({} sessions); signals on {} prices, fills at raw\n",
             b["run_id"].get<std::string>(), b["strategy"].get<std::string>(), b["params"].get<std::string>(),
             b["symbols"].get<size_t>(), b["from"].get<std::string>(), b["to"].get<std::string>(),
             b["sessions"].get<int>(), b["signal_prices"].get<std::string>());
  const json empty = json::object();
  const json& m = b;
  const json& k = bench ? b["benchmark"] : empty;
  auto pct = [](const json& j, const char* key) {
    return j.contains(key) && j[key].is_number() ? fmt::format("{:+.2f}%", 100 * j[key].get<double>()) : std::string("");
  };
  auto share = [](const json& j, const char* key) {
    return j.contains(key) && j[key].is_number() ? fmt::format("{:.2f}%", 100 * j[key].get<double>()) : std::string("");
  };
  auto num = [](const json& j, const char* key) {
    return j.contains(key) && j[key].is_number() ? fmt::format("{:.2f}", j[key].get<double>()) : std::string("");
  };
  fmt::print("  {:<22} {:>14} {:>14}\n", "", "strategy",
             bench ? fmt::format("{} B&H", k["symbol"].get<std::string>()) : std::string(""));
  fmt::print("  {:<22} {:>14} {:>14}\n", "final equity", num(m, "final_equity"), num(k, "final_equity"));
  fmt::print("  {:<22} {:>14} {:>14}\n", "total return", pct(m, "total_return"), pct(k, "total_return"));
  fmt::print("  {:<22} {:>14} {:>14}\n", "CAGR", pct(m, "cagr"), pct(k, "cagr"));
  fmt::print("  {:<22} {:>14} {:>14}\n", "volatility", share(m, "annual_volatility"), share(k, "annual_volatility"));
  fmt::print("  {:<22} {:>14} {:>14}\n", fmt::format("Sharpe (rf {:.2f}%)", 100 * b["risk_free_rate"].get<double>()),
             num(m, "sharpe"), num(k, "sharpe"));
  fmt::print("  {:<22} {:>14} {:>14}\n", "Sortino", num(m, "sortino"), num(k, "sortino"));
  fmt::print("  {:<22} {:>14} {:>14}\n", "max drawdown", share(m, "max_drawdown"), share(k, "max_drawdown"));
  fmt::print("  {:<22} {:>14} {:>14}\n", "Calmar", num(m, "calmar"), num(k, "calmar"));
  if (m["drawdown_peak"].is_string()) {
    fmt::print("  drawdown {} -> {}, {}\n", m["drawdown_peak"].get<std::string>(), m["drawdown_trough"].get<std::string>(),
               m["drawdown_recovery"].is_string() ? "recovered " + m["drawdown_recovery"].get<std::string>()
                                                  : std::string("not recovered"));
  }
  const json& c = b["costs"];
  fmt::print("  turnover {:.2f}x/yr  exposure {:.0f}%  hit rate {:.0f}%  trades {}  orders {} ({} scaled to the limits, "
             "{} not filled in full)\n",
             b["turnover"].get<double>(), 100 * b["exposure"].get<double>(), 100 * b["hit_rate"].get<double>(),
             b["trades"].get<int64_t>(), b["orders"].get<int64_t>(), b["orders_scaled"].get<int64_t>(),
             b["orders_unfilled"].get<int64_t>());
  fmt::print("  costs {:.2f} (commissions {:.2f}, slippage {:.2f}, borrow {:.2f}, interest {:.2f}); dividends {:.2f}; "
             "{} split(s) applied\n",
             c["total"].get<double>(), c["commissions"].get<double>(), c["slippage"].get<double>(),
             c["borrow_fees"].get<double>(), c["margin_interest"].get<double>(), b["dividends"].get<double>(),
             b["splits_applied"].get<int>());
  if (b["denials"].get<size_t>() > 0) {
    fmt::print("  {} order(s) denied by risk; first: {} {}\n", b["denials"].get<size_t>(),
               b["first_denials"][0]["rule"].get<std::string>(), b["first_denials"][0]["reason"].get<std::string>());
  }
  for (const auto& s : b["state_changes"]) {
    fmt::print("  {} {} -> {}: {}\n", s["date"].get<std::string>(), s["from"].get<std::string>(),
               s["to"].get<std::string>(), s["reason"].get<std::string>());
  }
  if (b["saved"].is_string()) fmt::print("  saved to {} and the catalog (run {})\n", b["saved"].get<std::string>(), b["run_id"].get<std::string>());
}

namespace {

// The last completed NYSE session at `now_ns`: today's once its close has passed, else the one
// before.
Date last_completed_session(int64_t now_ns) {
  const TradingCalendar& nyse = TradingCalendar::nyse();
  Date d = Date(static_cast<int32_t>(now_ns / kNanosPerDay));
  if (!nyse.is_session(d) || nyse.session_close_ts_ns(d) > now_ns) d = nyse.previous_session(d);
  return d;
}

Date newest_session(const trading::MarketData& data) {
  int32_t newest = INT32_MIN;
  for (const auto& s : data.symbols) newest = std::max(newest, s.day.back());
  return Date(newest);
}

std::unique_ptr<broker::Broker> make_broker(Workspace& ws, const std::string& account, Date session) {
  const BrokerConfig& b = ws.config.broker;
  if (b.kind == "alpaca") return broker::make_alpaca_broker(broker::AlpacaConfig::from_env(b.url));
  broker::PaperBrokerConfig c;
  c.account = account;
  c.initial_cash = b.initial_cash;
  c.costs = trading::CostModel::from_config(b);
  c.volume_participation = b.volume_participation;
  c.margin = b.account_type == "margin";
  c.last_session = session;
  catalog::Catalog* catalog = ws.catalog.get();
  lake::ObjectStore* store = ws.store.get();
  const etl::PriceOptions raw = prices_of(ws.config, "raw");
  etl::PriceOptions split = prices_of(ws.config, "split");
  // The splits between an order's decision and its fill, from the catalog's resolved actions.
  broker::SplitLookup splits = [catalog, store, split](const std::string& symbol, Date decided, Date session) {
    etl::BarsQuery q;
    q.symbol = Symbol::parse(symbol);
    q.from = decided;
    q.to = session;
    double ratio = 1.0;
    try {
      for (const auto& a : etl::read_adjusted_bars(*store, *catalog, q, split).actions) {
        if (a.kind == CorporateAction::Kind::kSplit && a.ex_date > decided && a.ex_date <= session) ratio *= a.split_ratio;
      }
    } catch (const Error& e) {
      if (e.category() != ErrorCategory::kNotFound) throw;
    }
    return ratio;
  };
  return broker::make_paper_broker(*catalog, c, [catalog, store, raw](const std::string& symbol, Date day) {
    etl::BarsQuery q;
    q.symbol = Symbol::parse(symbol);
    q.from = q.to = day;
    std::optional<trading::BarPrices> out;
    try {
      for (const auto& r : etl::read_adjusted_bars(*store, *catalog, q, raw).rows) {
        if (r.bar.session_date == day) out = trading::BarPrices{r.bar.open, r.bar.high, r.bar.low, r.bar.close, r.bar.volume};
      }
    } catch (const Error& e) {
      if (e.category() != ErrorCategory::kNotFound) throw;
    }
    return out;
  }, splits);
}

json order_json(const catalog::OrderRecord& o) {
  return {{"client_order_id", o.client_order_id}, {"symbol", o.symbol},
          {"side", std::string(catalog::to_string(o.side))}, {"qty", o.qty.to_double()},
          {"type", o.order_type}, {"status", std::string(catalog::to_string(o.status))},
          {"filled_qty", o.filled_qty.to_double()}, {"reason", o.reason}, {"session_date", o.session_date},
          {"broker_order_id", o.broker_order_id}};
}

}  // namespace

json run_trade_json(Workspace& ws, const StrategyConfig& s, const std::string& session_text, const std::string& account,
                    const std::string& feature_set) {
  auto strategy = trading::make_strategy(s);
  const auto universe = strategy_universe(ws, s);
  const Date completed = last_completed_session(now_ts_ns());
  Date session = completed;
  if (!session_text.empty()) {
    session = Date::parse(session_text, "--session");
    if (!TradingCalendar::nyse().is_session(session)) {
      throw Error::InvalidInput(fmt::format("--session {} is not an NYSE session", session_text));
    }
    if (session > completed) {
      throw Error::InvalidInput(fmt::format("--session {} has not closed yet (the last completed session is {})",
                                            session_text, completed.to_string()));
    }
  }
  trading::MarketRequest request;
  request.symbols = universe;
  request.signal = prices_of(ws.config, ws.config.prices.adjust);
  request.to = session;
  request.model = strategy->model();
  request.feature_set = feature_set;
  request.workspace = ws.config.workspace;
  const trading::MarketData data = trading::load_market(*ws.store, *ws.catalog, request);
  const Date newest = newest_session(data);
  if (newest < session) {
    throw Error::InvalidInput(
        session_text.empty()
            ? fmt::format("stale data: the newest curated session of the universe is {}, the last completed session "
                          "{}; run `trib update` first (or `trib trade --session {}` to trade that past session)",
                          newest.to_string(), session.to_string(), newest.to_string())
            : fmt::format("no curated bars for --session {}: the universe's newest session is {}", session_text,
                          newest.to_string()));
  }
  auto broker = make_broker(ws, account, session);
  broker::CycleConfig config;
  config.account = account;
  config.initial_cash = ws.config.broker.initial_cash;
  config.costs = trading::CostModel::from_config(ws.config.broker);
  config.risk = trading::RiskLimits::from_config(ws.config.risk, ws.config.broker);
  config.session = session;
  const auto r = broker::run_cycle(*ws.catalog, *broker, *strategy, data, config);

  json orders = json::array(), denials = json::array(), positions = json::array();
  for (const auto& o : r.orders) orders.push_back(order_json(o));
  for (const auto& d : r.denials) {
    denials.push_back({{"client_order_id", d.client_order_id}, {"symbol", d.symbol},
                       {"side", std::string(catalog::to_string(d.side))}, {"qty", d.qty.to_double()},
                       {"rule", d.rule}, {"reason", d.reason}});
  }
  for (const auto& p : ws.catalog->list_positions(account)) {
    if (p.qty == Micros()) continue;
    positions.push_back({{"symbol", p.symbol}, {"qty", p.qty.to_double()}, {"avg_price", p.avg_price.to_double()},
                         {"realized_pnl", p.realized_pnl.to_double()}});
  }
  const auto& rc = r.reconcile;
  return {{"session_date", session.to_string()},
          {"account", account},
          {"broker", broker->name()},
          {"strategy", strategy->name()},
          {"params", strategy->params()},
          {"symbols", data.symbols.size()},
          {"action", r.action},
          {"state", std::string(trading::to_string(r.state))},
          {"state_reason", r.state_reason},
          {"reconcile",
           {{"orders_checked", rc.orders_checked},
            {"orders_updated", rc.orders_updated},
            {"fills_imported", rc.fills_imported},
            {"orders_resent", rc.orders_resent},
            {"orders_expired", rc.orders_expired},
            {"differences", rc.differences}}},
          {"orders", orders},
          {"denials", denials},
          {"positions", positions},
          {"equity", r.equity},
          {"cash", r.cash}};
}

void print_trade(const json& t) {
  fmt::print("{} cycle {}({}) for session {}, account {}: {} ({})\n", t["broker"].get<std::string>(),
             t["strategy"].get<std::string>(), t["params"].get<std::string>(), t["session_date"].get<std::string>(),
             t["account"].get<std::string>(), t["action"].get<std::string>(), t["state"].get<std::string>());
  if (t["state"] != "ACTIVE") fmt::print("  state {}: {}\n", t["state"].get<std::string>(), t["state_reason"].get<std::string>());
  const auto& rc = t["reconcile"];
  fmt::print("  reconciled {} open order(s): {} updated, {} fill(s) imported, {} resent, {} expired\n",
             rc["orders_checked"].get<int>(), rc["orders_updated"].get<int>(), rc["fills_imported"].get<int>(),
             rc["orders_resent"].get<int>(), rc["orders_expired"].get<int>());
  for (const auto& d : rc["differences"]) fmt::print("  DIFFERENCE {}\n", d.get<std::string>());
  for (const auto& o : t["orders"]) {
    fmt::print("  order {} {} {} {} {} -> {}\n", o["client_order_id"].get<std::string>(), o["side"].get<std::string>(),
               o["qty"].get<double>(), o["symbol"].get<std::string>(), o["type"].get<std::string>(),
               o["status"].get<std::string>());
  }
  for (const auto& d : t["denials"]) {
    fmt::print("  denied {} {} {}: {} ({})\n", d["side"].get<std::string>(), d["qty"].get<double>(),
               d["symbol"].get<std::string>(), d["rule"].get<std::string>(), d["reason"].get<std::string>());
  }
  for (const auto& p : t["positions"]) {
    fmt::print("  position {} {} @ {:.2f} (realised {:.2f})\n", p["symbol"].get<std::string>(), p["qty"].get<double>(),
               p["avg_price"].get<double>(), p["realized_pnl"].get<double>());
  }
  fmt::print("  equity {:.2f}  cash {:.2f}\n", t["equity"].get<double>(), t["cash"].get<double>());
}

void add_trading_commands(CLI::App& app, Globals& g, Action& action) {
  struct Args {
    std::vector<std::string> symbols;
    std::string universe, strategy, model, benchmark, from, to, adjust, as_of, session, account = "paper", reason,
        timeframe = "1d", features;
    int fast = 0, slow = 0, lookback = 0, skip = -1, top_k = 0, drop_n = -1, rebalance_days = 0, interval = 60;
    bool no_save = false, once = false, loop = false;
  };
  // [strategy] with the flags over it.
  auto strategy_of = [](const Config& config, const Args& a) {
    StrategyConfig s = config.strategy;
    if (!a.strategy.empty()) s.name = a.strategy;
    if (!a.symbols.empty()) {
      s.universe.clear();
      for (const auto& sym : a.symbols) s.universe += (s.universe.empty() ? "" : ",") + sym;
    }
    if (!a.universe.empty()) s.universe = a.universe;
    if (a.fast > 0) s.fast = a.fast;
    if (a.slow > 0) s.slow = a.slow;
    if (a.lookback > 0) s.lookback = a.lookback;
    if (a.skip >= 0) s.skip = a.skip;
    if (a.top_k > 0) s.top_k = a.top_k;
    if (a.drop_n >= 0) s.drop_n = a.drop_n;
    if (a.rebalance_days > 0) s.rebalance_days = a.rebalance_days;
    if (!a.model.empty()) s.model = a.model;
    if (!a.benchmark.empty()) s.benchmark = a.benchmark;
    return s;
  };
  auto add_strategy_options = [](CLI::App* cmd, Args& a) {
    cmd->add_option("--symbol", a.symbols, "A symbol of the universe (repeatable; default: [strategy] universe or symbol)");
    cmd->add_option("--universe", a.universe, "Comma-separated symbols, or 'all' (every curated daily symbol)");
    cmd->add_option("--strategy", a.strategy, "sma_cross, momentum, topk_dropout or buy_and_hold (default: [strategy] name)");
    cmd->add_option("--fast", a.fast, "sma_cross: fast SMA length");
    cmd->add_option("--slow", a.slow, "sma_cross: slow SMA length");
    cmd->add_option("--lookback", a.lookback, "momentum: return over this many sessions");
    cmd->add_option("--skip", a.skip, "momentum: ... ending this many sessions ago");
    cmd->add_option("--top-k", a.top_k, "momentum, topk_dropout: names held");
    cmd->add_option("--drop-n", a.drop_n, "topk_dropout: names replaced per session");
    cmd->add_option("--rebalance-days", a.rebalance_days, "momentum: sessions between rebalances");
    cmd->add_option("--model", a.model, "topk_dropout: the model whose predictions rank the names (trib ml list)");
    cmd->add_option("--features", a.features,
                    "A feature set the strategy sees beside the bars (basic, alpha158, yours; computed first if stale)");
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand(
      "backtest",
      "Portfolio backtest of a strategy over a universe: next-open fills, costs, risk limits, corporate actions; "
      "metrics next to a buy-and-hold benchmark, saved to backtests/<run id>/");
  add_strategy_options(cmd, *args);
  cmd->add_option("--benchmark", args->benchmark, "Buy-and-hold benchmark symbol (default: ^GSPC if ingested, else the first symbol)");
  cmd->add_option("--timeframe", args->timeframe,
                  "Bars: 1d (default), 1h or 1m (intraday: decisions at each bar's close fill at the next bar's open; "
                  "metrics on daily returns)");
  cmd->add_option("--from", args->from, "First session traded (the strategy warms up on the history before it)");
  cmd->add_option("--to", args->to, "Last session traded");
  cmd->add_option("--adjust", args->adjust,
                  "Prices the strategy sees: raw, split or total (default: [prices] adjust). Orders fill at raw "
                  "prices; splits scale positions and dividends pay cash on their ex-dates");
  cmd->add_option("--as-of", args->as_of,
                  "The lake and the corporate actions as they were then (YYYY-MM-DD: end of that day, UTC, or a timestamp)");
  cmd->add_flag("--no-save", args->no_save, "Do not write backtests/<run id>/ nor record the run");
  cmd->add_flag("--json", g.json, "Machine-readable summary: metrics, costs, parameters and the exact config");
  cmd->callback([&g, &action, args, strategy_of] {
    action = [&g, args, strategy_of] {
      Workspace ws = open_workspace(g.workspace);
      const StrategyConfig s = strategy_of(ws.config, *args);
      json out = run_backtest_json(ws, s, args->from, args->to, args->adjust, args->as_of, !args->no_save, args->timeframe,
                                   args->features);
      if (g.json) {
        fmt::print("{}\n", out.dump());
      } else {
        print_backtest(out);
      }
      return 0;
    };
  });

  {
    auto targs = std::make_shared<Args>();
    auto* trade = app.add_subcommand(
        "trade",
        "The live runner: reconcile the account with its broker, run [strategy] on the last completed session "
        "through the risk engine, record and send the orders (paper broker, or Alpaca with [broker] kind)");
    add_strategy_options(trade, *targs);
    trade->add_option("--account", targs->account, "The ledger account (one strategy per account; default paper)");
    trade->add_option("--session", targs->session,
                      "Decide on this past session instead of the last completed one (replays history: paper "
                      "trading over past sessions reproduces the backtest)");
    trade->add_flag("--once", targs->once, "One end-of-day cycle, then exit (the default)");
    trade->add_flag("--loop", targs->loop,
                    "Always on: wake every --interval seconds and run the cycle once each session's bars are in the "
                    "lake; stops on SIGINT/SIGTERM");
    trade->add_option("--interval", targs->interval, "Seconds between wake-ups with --loop (default 60)");
    trade->add_flag("--json", g.json, "Machine-readable output (one line per cycle)");
    trade->callback([&g, &action, targs, strategy_of] {
      action = [&g, targs, strategy_of] {
        if (targs->loop && (targs->once || !targs->session.empty())) {
          throw Error::InvalidInput("--loop runs every session as it closes: drop --once and --session");
        }
        Workspace ws = open_workspace(g.workspace);
        const StrategyConfig s = strategy_of(ws.config, *targs);
        auto emit = [&](const json& out) {
          if (g.json) {
            fmt::print("{}\n", out.dump());
          } else {
            print_trade(out);
          }
          std::fflush(stdout);
        };
        if (!targs->loop) {
          emit(run_trade_json(ws, s, targs->session, targs->account, targs->features));
          return 0;
        }
        const auto& stop = runtime::install_shutdown_handlers();
        std::string last_error;
        while (!stop.load()) {
          try {
            const std::string memory = broker::trading_state(*ws.catalog, targs->account).strategy_json;
            const std::string decided =
                memory.empty() ? std::string() : json::parse(memory).value("last_decided", std::string());
            const Date completed = last_completed_session(now_ts_ns());
            if (decided < completed.to_string()) {
              emit(run_trade_json(ws, s, "", targs->account, targs->features));
            } else {
              // Between sessions: reconcile on every wake (fills arrive after the open).
              auto broker = make_broker(ws, targs->account, completed);
              const auto report = broker::reconcile(*ws.catalog, *broker, targs->account, completed);
              if (report.orders_updated > 0 || !report.differences.empty()) {
                fmt::print(stderr, "trib trade --loop: reconciled {} order(s), {} fill(s) imported{}\n",
                           report.orders_updated, report.fills_imported,
                           report.differences.empty() ? "" : "; DIFFERENCES: trading halted");
              }
            }
            last_error.clear();
          } catch (const Error& e) {
            // Stale data is the normal state between the close and the update: said once.
            if (e.what() != last_error) fmt::print(stderr, "trib trade --loop: {}\n", e.what());
            last_error = e.what();
            if (e.category() != ErrorCategory::kInvalidInput && e.category() != ErrorCategory::kRetryable &&
                e.category() != ErrorCategory::kRateLimited) {
              throw;
            }
          }
          for (int k = 0; k < targs->interval * 10 && !stop.load(); ++k) {
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
          }
        }
        return 0;
      };
    });
  }
  for (const bool halting : {true, false}) {
    auto hargs = std::make_shared<Args>();
    auto* cmd = app.add_subcommand(halting ? "halt" : "resume",
                                   halting ? "The kill switch: the account sends no order until trib resume "
                                             "(persisted in the catalog; every runner sees it)"
                                           : "Lift a halt (a drawdown halt measures again from the current equity)");
    cmd->add_option("--account", hargs->account, "The ledger account (default paper)");
    if (halting) cmd->add_option("--reason", hargs->reason, "Why (kept with the state)");
    cmd->add_flag("--json", g.json, "Machine-readable output");
    cmd->callback([&g, &action, hargs, halting] {
      action = [&g, hargs, halting] {
        Workspace ws = open_workspace(g.workspace);
        if (halting) {
          broker::halt_trading(*ws.catalog, hargs->account, hargs->reason.empty() ? "trib halt" : "trib halt: " + hargs->reason);
        } else {
          broker::resume_trading(*ws.catalog, hargs->account);
        }
        const auto t = broker::trading_state(*ws.catalog, hargs->account);
        if (g.json) {
          fmt::print("{}\n", json{{"account", t.account}, {"state", t.state}, {"reason", t.reason}}.dump());
        } else {
          fmt::print("account {}: {} ({})\n", t.account, t.state, t.reason);
        }
        return 0;
      };
    });
  }
  {
    auto rargs = std::make_shared<Args>();
    auto* cmd = app.add_subcommand(
        "reconcile",
        "Compare the account with its broker now: open orders by client id (their status and fills into the ledger), "
        "then positions; a difference no order explains halts the account");
    cmd->add_option("--account", rargs->account, "The ledger account (default paper)");
    cmd->add_flag("--json", g.json, "Machine-readable output");
    cmd->callback([&g, &action, rargs] {
      action = [&g, rargs] {
        Workspace ws = open_workspace(g.workspace);
        const Date session = last_completed_session(now_ts_ns());
        auto broker = make_broker(ws, rargs->account, session);
        const auto r = broker::reconcile(*ws.catalog, *broker, rargs->account, session);
        const auto t = broker::trading_state(*ws.catalog, rargs->account);
        const json out = {{"account", rargs->account}, {"orders_checked", r.orders_checked},
                          {"orders_updated", r.orders_updated}, {"fills_imported", r.fills_imported},
                          {"orders_resent", r.orders_resent}, {"orders_expired", r.orders_expired},
                          {"differences", r.differences}, {"state", t.state}, {"reason", t.reason}};
        if (g.json) {
          fmt::print("{}\n", out.dump());
        } else {
          fmt::print("account {}: {} open order(s) checked, {} updated, {} fill(s) imported; {}\n", rargs->account,
                     r.orders_checked, r.orders_updated, r.fills_imported, t.state);
          for (const auto& d : r.differences) fmt::print("  DIFFERENCE {}\n", d);
        }
        return r.differences.empty() ? 0 : 1;
      };
    });
  }
}

}  // namespace trib::cli

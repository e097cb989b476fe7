// trib backtest: a portfolio backtest of [strategy] over a universe, saved to the lake and the
// catalog, printed next to its benchmark.
#include <memory>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli.hpp"
#include "trib/core/error.hpp"
#include "trib/trading/backtest.hpp"
#include "trib/trading/backtest_store.hpp"
#include "trib/trading/market_loader.hpp"
#include "workspace.hpp"

namespace trib::cli {
using nlohmann::json;

namespace {

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

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

json run_backtest_json(Workspace& ws, const StrategyConfig& s, const std::string& from, const std::string& to,
                       const std::string& adjust, const std::string& as_of, bool save) {
  auto strategy = trading::make_strategy(s);
  const std::string mode = adjust.empty() ? ws.config.prices.adjust : adjust;
  const auto universe = strategy_universe(ws, s);
  // The benchmark: [strategy] benchmark, else ^GSPC where the lake has it, else the first symbol.
  std::string benchmark = s.benchmark;
  if (benchmark.empty()) benchmark = has_daily_bars(ws, "^GSPC") ? "^GSPC" : universe.front().str();

  trading::MarketRequest request;
  request.symbols = universe;
  request.signal = prices_of(ws.config, mode);
  if (!to.empty()) request.to = Date::parse(to, "--to");
  request.as_of_ns = parse_as_of(as_of);
  request.model = strategy->model();
  request.benchmark = Symbol::parse(benchmark);
  const trading::MarketData data = trading::load_market(*ws.store, *ws.catalog, request);

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
  const auto result = trading::run_backtest(data, *strategy, config);

  const std::string text = config_text(ws.config, s, universe, benchmark, mode, from, to, as_of);
  const std::string run_id = trading::backtest_run_id(text, data);
  json out = trading::backtest_summary(run_id, text,
                                       parameters_json(ws.config, *strategy, s, mode, from, to, as_of), data, result);
  out["engine_seconds"] = result.engine_seconds;
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
  return out;
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

void add_backtest_commands(CLI::App& app, Globals& g, Action& action) {
  struct Args {
    std::vector<std::string> symbols;
    std::string universe, strategy, model, benchmark, from, to, adjust, as_of;
    int fast = 0, slow = 0, lookback = 0, skip = -1, top_k = 0, drop_n = -1, rebalance_days = 0;
    bool no_save = false;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand(
      "backtest",
      "Portfolio backtest of a strategy over a universe: next-open fills, costs, risk limits, corporate actions; "
      "metrics next to a buy-and-hold benchmark, saved to backtests/<run id>/");
  cmd->add_option("--symbol", args->symbols, "A symbol of the universe (repeatable; default: [strategy] universe or symbol)");
  cmd->add_option("--universe", args->universe, "Comma-separated symbols, or 'all' (every curated daily symbol)");
  cmd->add_option("--strategy", args->strategy, "sma_cross, momentum, topk_dropout or buy_and_hold (default: [strategy] name)");
  cmd->add_option("--fast", args->fast, "sma_cross: fast SMA length");
  cmd->add_option("--slow", args->slow, "sma_cross: slow SMA length");
  cmd->add_option("--lookback", args->lookback, "momentum: return over this many sessions");
  cmd->add_option("--skip", args->skip, "momentum: ... ending this many sessions ago");
  cmd->add_option("--top-k", args->top_k, "momentum, topk_dropout: names held");
  cmd->add_option("--drop-n", args->drop_n, "topk_dropout: names replaced per session");
  cmd->add_option("--rebalance-days", args->rebalance_days, "momentum: sessions between rebalances");
  cmd->add_option("--model", args->model, "topk_dropout: the model whose predictions rank the names (trib ml list)");
  cmd->add_option("--benchmark", args->benchmark, "Buy-and-hold benchmark symbol (default: ^GSPC if ingested, else the first symbol)");
  cmd->add_option("--from", args->from, "First session traded (the strategy warms up on the history before it)");
  cmd->add_option("--to", args->to, "Last session traded");
  cmd->add_option("--adjust", args->adjust,
                  "Prices the strategy sees: raw, split or total (default: [prices] adjust). Orders fill at raw "
                  "prices; splits scale positions and dividends pay cash on their ex-dates");
  cmd->add_option("--as-of", args->as_of,
                  "The lake and the corporate actions as they were then (YYYY-MM-DD: end of that day, UTC, or a timestamp)");
  cmd->add_flag("--no-save", args->no_save, "Do not write backtests/<run id>/ nor record the run");
  cmd->add_flag("--json", g.json, "Machine-readable summary: metrics, costs, parameters and the exact config");
  cmd->callback([&g, &action, args] {
    action = [&g, args] {
      Workspace ws = open_workspace(g.workspace);
      StrategyConfig s = ws.config.strategy;
      if (!args->strategy.empty()) s.name = args->strategy;
      if (!args->symbols.empty()) {
        s.universe.clear();
        for (const auto& sym : args->symbols) s.universe += (s.universe.empty() ? "" : ",") + sym;
      }
      if (!args->universe.empty()) s.universe = args->universe;
      if (args->fast > 0) s.fast = args->fast;
      if (args->slow > 0) s.slow = args->slow;
      if (args->lookback > 0) s.lookback = args->lookback;
      if (args->skip >= 0) s.skip = args->skip;
      if (args->top_k > 0) s.top_k = args->top_k;
      if (args->drop_n >= 0) s.drop_n = args->drop_n;
      if (args->rebalance_days > 0) s.rebalance_days = args->rebalance_days;
      if (!args->model.empty()) s.model = args->model;
      if (!args->benchmark.empty()) s.benchmark = args->benchmark;
      json out = run_backtest_json(ws, s, args->from, args->to, args->adjust, args->as_of, !args->no_save);
      if (g.json) {
        fmt::print("{}\n", out.dump());
      } else {
        print_backtest(out);
      }
      return 0;
    };
  });
}

}  // namespace trib::cli

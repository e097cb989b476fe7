#include "trib/broker/live_runner.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "failpoint.hpp"
#include "trib/core/calendar.hpp"
#include "trib/core/error.hpp"
#include "trib/core/hash.hpp"
#include "trib/trading/order_path.hpp"

namespace trib::broker {

using namespace trading;  // the engine's value types (orders, costs, risk) throughout

using catalog::OrderStatus;
using nlohmann::json;

std::string make_client_order_id(const std::string& strategy, const std::string& params, const std::string& account,
                                 const std::string& symbol, Date session) {
  const std::string date = session.to_string();
  const std::string compact = date.substr(0, 4) + date.substr(5, 2) + date.substr(8, 2);
  // Fields separated by a byte no name contains, so ("a-b","c") != ("a","b-c").
  const uint64_t h = fnv1a64(strategy + '\x1f' + params + '\x1f' + account + '\x1f' + symbol + '\x1f' + date);
  const auto folded = static_cast<uint32_t>(h ^ (h >> 32));
  // Alpaca takes at most 48 characters; the hash keeps ids distinct when the name is cut.
  std::string name = strategy.substr(0, 16), sym = symbol.substr(0, 12);
  return fmt::format("{}-{}-{}-{:08x}", name, sym, compact, folded);
}

catalog::TradingStateRecord trading_state(catalog::Catalog& catalog, const std::string& account) {
  if (auto t = catalog.get_trading_state(account)) return *t;
  catalog::TradingStateRecord t;
  t.account = account;
  return t;
}

void halt_trading(catalog::Catalog& catalog, const std::string& account, const std::string& reason) {
  auto t = trading_state(catalog, account);
  t.state = std::string(to_string(TradingState::kHalted));
  t.reason = reason.empty() ? "trib halt" : reason;
  t.updated_at_ns = 0;
  catalog.put_trading_state(t);
}

void resume_trading(catalog::Catalog& catalog, const std::string& account) {
  auto t = trading_state(catalog, account);
  t.state = std::string(to_string(TradingState::kActive));
  t.reason = "trib resume";
  // The drawdown is measured from here on: a resume after a drawdown halt would halt again.
  if (t.last_equity > Micros()) t.peak_equity = t.last_equity;
  t.updated_at_ns = 0;
  catalog.put_trading_state(t);
}

namespace {

std::vector<catalog::FillRecord> fill_records(const catalog::OrderRecord& o, const BrokerOrder& b) {
  std::vector<catalog::FillRecord> out;
  for (const auto& f : b.fills) {
    out.push_back({f.fill_id, o.client_order_id, o.symbol, o.side, Micros::from_double(f.qty),
                   Micros::from_double(f.price), Micros::from_double(f.commission), f.ts_ns});
  }
  return out;
}

BrokerOrderRequest request_of(const catalog::OrderRecord& o) {
  BrokerOrderRequest r;
  r.client_order_id = o.client_order_id;
  r.symbol = o.symbol;
  r.side = catalog::sign_of(o.side);
  r.qty = o.qty.to_double();
  r.type = parse_order_type(o.order_type);
  if (o.limit_price) r.limit_price = o.limit_price->to_double();
  if (o.stop_price) r.stop_price = o.stop_price->to_double();
  return r;
}

// Writes the broker's view of an order to the ledger when it says something new.
bool record(catalog::Catalog& catalog, const std::string& account, const catalog::OrderRecord& o,
            const BrokerOrder& b, ReconcileReport* report) {
  const auto fills = fill_records(o, b);
  const bool changed = b.status != o.status || std::fabs(b.filled_qty - o.filled_qty.to_double()) > 1e-9 ||
                       (!b.broker_order_id.empty() && b.broker_order_id != o.broker_order_id);
  if (!changed) return false;
  if (!fills.empty()) failpoint("after_fill_before_ledger");
  const int applied = catalog.apply_order_update(account, o.client_order_id, b.status, b.reason, b.broker_order_id, fills);
  if (report != nullptr) {
    ++report->orders_updated;
    report->fills_imported += applied;
  }
  return true;
}

}  // namespace

ReconcileReport reconcile(catalog::Catalog& catalog, Broker& broker, const std::string& account, Date session) {
  ReconcileReport report;
  // In the order they were placed: the paper broker's cash follows the earlier fills.
  for (const auto& o : catalog.list_orders()) {
    if (o.account != account || !catalog::is_open(o.status)) continue;
    ++report.orders_checked;
    auto b = broker.order(o.client_order_id);
    if (!b) {
      if (o.status == OrderStatus::kNew && o.session_date == session.to_string()) {
        // Recorded, then the runner stopped before the broker had it: send it now.
        b = broker.submit(request_of(o));
        ++report.orders_resent;
      } else if (o.status == OrderStatus::kNew) {
        catalog.apply_order_update(account, o.client_order_id, OrderStatus::kExpired,
                                   "never reached the broker, and its session has passed", "", {});
        ++report.orders_expired;
        continue;
      } else {
        report.differences.push_back(fmt::format("order {} ({} {} {}) is {} in the ledger but unknown to the broker",
                                                 o.client_order_id, catalog::to_string(o.side), o.qty.to_string(),
                                                 o.symbol, catalog::to_string(o.status)));
        continue;
      }
    }
    record(catalog, account, o, *b, &report);
  }
  // Positions: after the orders, the broker's book and the ledger's must agree.
  std::map<std::string, double> broker_qty, ledger_qty;
  for (const auto& p : broker.positions()) broker_qty[p.symbol] += p.qty;
  for (const auto& p : catalog.list_positions(account)) ledger_qty[p.symbol] += p.qty.to_double();
  std::map<std::string, std::pair<double, double>> both;
  for (const auto& [s, q] : broker_qty) both[s].first = q;
  for (const auto& [s, q] : ledger_qty) both[s].second = q;
  for (const auto& [s, q] : both) {
    if (std::fabs(q.first - q.second) > 1e-6) {
      report.differences.push_back(fmt::format("{}: the broker holds {}, the ledger {}", s, q.first, q.second));
    }
  }
  if (!report.differences.empty()) {
    std::string why = "reconciliation found differences no order explains: ";
    for (size_t k = 0; k < report.differences.size(); ++k) why += (k ? "; " : "") + report.differences[k];
    halt_trading(catalog, account, why);
  }
  return report;
}

CycleResult run_cycle(catalog::Catalog& catalog, Broker& broker, Strategy& strategy, const MarketData& data,
                      const CycleConfig& config) {
  data.validate();
  const Date D = config.session;
  const int32_t day = D.days_since_epoch();
  CycleResult result;
  result.session = D;
  const size_t n = data.symbols.size();

  // The account's memory: its strategy, last decided session and order path.
  catalog::TradingStateRecord state = trading_state(catalog, config.account);
  json memory = state.strategy_json.empty() ? json::object() : json::parse(state.strategy_json);
  const std::string key = strategy.name() + "(" + strategy.params() + ")";
  if (memory.contains("strategy") && memory["strategy"].get<std::string>() != key) {
    throw Error::Conflict(fmt::format(
        "account {} trades {}; this cycle asks for {}: one strategy per account (use another --account, or the "
        "strategy's parameters the account was started with)",
        config.account, memory["strategy"].get<std::string>(), key));
  }
  const std::string last_decided = memory.value("last_decided", std::string());

  std::vector<std::string> names;
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < n; ++i) {
    names.push_back(data.symbols[i].symbol);
    index[names.back()] = i;
  }

  // 1. The paper book follows the splits and dividends ex since its last session, before that
  // session's fills (a real broker applies them to its own book; reconciliation compares).
  if (broker.name() == "paper" && !state.last_session.empty()) {
    for (const auto& p : catalog.list_positions(config.account)) {
      auto it = index.find(p.symbol);
      if (it == index.end() || p.qty == Micros()) continue;
      const SymbolSeries& s = data.symbols[it->second];
      for (const auto& a : s.actions) {
        const std::string ex = a.ex_date.to_string();
        if (ex <= state.last_session || ex > D.to_string()) continue;
        catalog::LedgerAdjustment adj;
        adj.account = config.account;
        adj.symbol = p.symbol;
        adj.ex_date = ex;
        if (a.kind == CorporateAction::Kind::kSplit && a.split_ratio > 0) {
          adj.kind = "split";
          adj.ratio = a.split_ratio;
          // Cash in lieu at the close before the ex-date, on the new basis.
          const auto before = std::lower_bound(s.day.begin(), s.day.end(), a.ex_date.days_since_epoch());
          const double close = before == s.day.begin() ? 0.0 : s.close[static_cast<size_t>(before - s.day.begin()) - 1];
          adj.fraction_price = Micros::from_double(close / a.split_ratio);
        } else if (a.kind == CorporateAction::Kind::kDividend) {
          adj.kind = "dividend";
          adj.cash_per_share = Micros::from_double(a.cash_amount);
        } else {
          continue;
        }
        adj.action_id = adj.kind + ":" + p.symbol + ":" + ex;
        catalog.apply_adjustment(adj);
      }
    }
  }

  // 2. Reconcile.
  result.reconcile = reconcile(catalog, broker, config.account, D);
  state = trading_state(catalog, config.account);  // a reconciliation may have halted it

  // 3. Feed the strategy every session up to D; keep the targets it set after the last decided
  // session.
  RiskEngine risk(config.risk, config.costs);
  OrderPath path(names, risk, config.costs);
  if (memory.contains("targets")) {
    for (auto& [symbol, m] : memory["targets"].items()) {
      auto it = index.find(symbol);
      if (it == index.end()) continue;  // out of the universe now: its target lapses
      path.restore(it->second, {m.at(0).get<double>(), m.at(1).get<double>(), m.at(2).get<int>() != 0,
                                m.at(3).get<int>() != 0});
    }
  }
  // Target quantities follow the splits ex since the last decided session (the memory is saved
  // with that session, so a rerun scales from the same memory once).
  if (!last_decided.empty()) {
    for (size_t i = 0; i < n; ++i) {
      for (const auto& a : data.symbols[i].actions) {
        const std::string ex = a.ex_date.to_string();
        if (a.kind == CorporateAction::Kind::kSplit && ex > last_decided && ex <= D.to_string()) path.split(i, a.split_ratio);
      }
    }
  }
  Portfolio portfolio(n, 0);
  // Cash: the ledger's, plus positions outside the universe at their average price (no close of
  // theirs is loaded; they count toward equity, and the order path leaves them alone).
  double cash = catalog.account_cash(config.account, Micros::from_double(config.initial_cash)).to_double();
  for (const auto& p : catalog.list_positions(config.account)) {
    auto it = index.find(p.symbol);
    if (it == index.end()) {
      cash += p.qty.to_double() * p.avg_price.to_double();
    } else {
      portfolio.set_position(it->second, p.qty.to_double(), p.avg_price.to_double());
    }
  }
  portfolio.charge(-cash);
  const std::vector<int32_t> sessions = data.sessions();
  if (sessions.empty() || sessions.back() != day) {
    throw Error::InvalidInput(fmt::format("trading cycle for {}: the market data ends {} (load it up to the session)",
                                          D.to_string(), sessions.empty() ? "-" : Date(sessions.back()).to_string()));
  }
  std::vector<size_t> seen(n, 0), predictions_seen(n, 0), updated;
  Decision decision;
  for (int32_t s : sessions) {
    updated.clear();
    for (size_t i = 0; i < n; ++i) {
      const auto& series = data.symbols[i];
      if (seen[i] < series.size() && series.day[seen[i]] == s) {
        ++seen[i];
        updated.push_back(i);
      }
      const auto& p = series.predictions;
      while (predictions_seen[i] < p.size() && p[predictions_seen[i]].first <= s) ++predictions_seen[i];
    }
    decision.clear();
    strategy.on_bar(MarketView(data, seen, updated, predictions_seen, s), portfolio, decision);
    if (last_decided.empty() || Date(s).to_string() > last_decided) path.take(decision);
  }
  for (size_t i = 0; i < n; ++i) {
    if (!data.symbols[i].close.empty()) portfolio.set_price(i, data.symbols[i].close[seen[i] - 1]);
  }
  portfolio.mark_all();
  result.equity = portfolio.equity();
  result.cash = portfolio.cash();

  // 4. The risk state after D's close (once per session).
  TradingState ts = parse_trading_state(state.state);
  if (state.last_session.empty() || state.last_session < D.to_string()) {
    std::string why;
    if (!state.last_session.empty()) {
      const TradingState next = risk.after_close(ts, result.equity, state.last_equity.to_double(),
                                                 state.peak_equity.to_double(), &why);
      if (next != ts) {
        ts = next;
        state.reason = why;
      }
    }
    state.state = std::string(to_string(ts));
    state.peak_equity = Micros::from_double(std::max(state.peak_equity.to_double(), result.equity));
    state.last_equity = Micros::from_double(result.equity);
    state.last_session = D.to_string();
  }
  result.state = ts;
  result.state_reason = state.reason;

  auto save = [&](const std::string& decided) {
    json targets = json::object();
    for (size_t i = 0; i < n; ++i) {
      const auto m = path.memory(i);
      if (m.managed || m.resize) targets[names[i]] = {m.weight, m.target_qty, m.managed ? 1 : 0, m.resize ? 1 : 0};
    }
    memory["strategy"] = key;
    memory["last_decided"] = decided;
    memory["targets"] = targets;
    state.account = config.account;
    state.strategy_json = memory.dump();
    state.updated_at_ns = 0;
    catalog.put_trading_state(state);
  };
  if (!last_decided.empty() && last_decided >= D.to_string()) {
    result.action = "already_ran";
    for (const auto& o : catalog.list_orders(strategy.name())) {
      if (o.account == config.account && o.session_date == D.to_string()) result.orders.push_back(o);
    }
    return result;
  }

  // 5. Orders through the order path; each recorded before it is sent.
  auto plan = path.plan(portfolio, ts);
  const int64_t close_ns = TradingCalendar::nyse().session_close_ts_ns(D);
  int64_t k = 0;
  for (const auto& [order, denial] : plan.denied) {
    catalog::RiskDenialRecord d;
    d.account = config.account;
    d.client_order_id = make_client_order_id(strategy.name(), strategy.params(), config.account, names[order.symbol], D);
    d.strategy = strategy.name();
    d.symbol = names[order.symbol];
    d.side = order.side > 0 ? catalog::Side::kBuy : catalog::Side::kSell;
    d.qty = Micros::from_double(order.qty);
    d.rule = denial.rule;
    d.reason = denial.reason;
    d.session_date = D.to_string();
    d.created_at_ns = close_ns;
    catalog.record_denial(d);
    result.denials.push_back(d);
  }
  for (const auto& order : plan.orders) {
    catalog::OrderRecord o;
    o.client_order_id = make_client_order_id(strategy.name(), strategy.params(), config.account, names[order.symbol], D);
    o.strategy = strategy.name();
    o.symbol = names[order.symbol];
    o.side = order.side > 0 ? catalog::Side::kBuy : catalog::Side::kSell;
    o.qty = Micros::from_double(order.qty);
    o.order_type = std::string(to_string(order.type));
    if (order.type == OrderType::kLimit) o.limit_price = Micros::from_double(order.limit_price);
    if (order.type == OrderType::kStop) o.stop_price = Micros::from_double(order.stop_price);
    o.account = config.account;
    o.session_date = D.to_string();
    o.status = OrderStatus::kNew;
    o.broker = broker.name();
    // Deterministic, and in the plan's order (reducing first): the order they are settled in.
    o.created_at_ns = close_ns + k++;
    if (!catalog.insert_order_if_absent(o)) {  // placed by an earlier run for D
      if (auto existing = catalog.get_order(o.client_order_id)) result.orders.push_back(*existing);
      continue;
    }
    failpoint("before_submit");
    const BrokerOrder ack = broker.submit(request_of(o));
    failpoint("after_submit_before_ack");
    record(catalog, config.account, o, ack, nullptr);
    result.orders.push_back(catalog.get_order(o.client_order_id).value_or(o));
  }
  // 6. The account's memory.
  save(D.to_string());
  result.action = ts == TradingState::kHalted ? "halted" : (result.orders.empty() ? "none" : "placed");
  return result;
}

}  // namespace trib::broker

#include "trib/trading/backtest.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>

#include <fmt/format.h>

#include "trib/core/error.hpp"

namespace trib::trading {


BacktestResult run_backtest(const MarketData& data, Strategy& strategy, const BacktestConfig& config) {
  if (!(config.initial_cash > 0) || !std::isfinite(config.initial_cash)) {
    throw Error::InvalidInput(fmt::format("backtest: initial cash must be > 0, got {}", config.initial_cash));
  }
  if (!(config.volume_participation > 0) || config.volume_participation > 1) {
    throw Error::InvalidInput(
        fmt::format("backtest: volume participation must be in (0, 1], got {}", config.volume_participation));
  }
  data.validate();
  const auto started = std::chrono::steady_clock::now();
  const std::vector<int64_t> events = data.events();
  const size_t n_symbols = data.symbols.size();
  // Each event's session (every bar at one time belongs to one session).
  std::vector<int32_t> event_day(events.size(), 0);
  for (const auto& s : data.symbols) {
    size_t e = 0;
    for (size_t k = 0; k < s.size(); ++k) {
      while (events[e] < s.time(k)) ++e;
      event_day[e] = s.day[k];
    }
  }
  auto first_event_of = [&](int32_t day) {
    return static_cast<size_t>(std::lower_bound(event_day.begin(), event_day.end(), day) - event_day.begin());
  };

  // The events fed to the strategy: [0, end); decisions traded from `start` on.
  size_t end = events.size();
  if (config.to) end = first_event_of(config.to->days_since_epoch() + 1);
  size_t start = 0;
  if (config.from) {
    const size_t first = first_event_of(config.from->days_since_epoch());
    start = first > 0 ? first - 1 : 0;
  } else {
    start = static_cast<size_t>(std::max(0, strategy.warmup_bars() - 1));
  }
  if (end == 0 || start + 1 >= end) {
    throw Error::InvalidInput(fmt::format(
        "backtest: no sessions to trade between {} and {} (the data has {} bars' times, {} .. {}; the strategy needs "
        "{} bars of warm-up)",
        config.from ? config.from->to_string() : "the warm-up's end", config.to ? config.to->to_string() : "the end",
        events.size(), events.empty() ? "-" : Date(event_day.front()).to_string(),
        events.empty() ? "-" : Date(event_day.back()).to_string(), strategy.warmup_bars()));
  }

  std::vector<std::string> names;
  names.reserve(n_symbols);
  for (const auto& s : data.symbols) names.push_back(s.symbol);
  const RiskEngine risk(config.risk, config.costs);
  OrderPath path(names, risk, config.costs);
  Portfolio portfolio(n_symbols, config.initial_cash);
  BacktestResult result;
  Metrics& m = result.metrics;

  std::vector<size_t> seen(n_symbols, 0), predictions_seen(n_symbols, 0), next_action(n_symbols, 0), updated;
  // Each symbol's next bar time (INT64_MAX past its last): the event loop's scan is one compare.
  std::vector<int64_t> next_time(n_symbols, INT64_MAX);
  bool any_predictions = false;
  for (size_t i = 0; i < n_symbols; ++i) {
    if (data.symbols[i].size() > 0) next_time[i] = data.symbols[i].time(0);
    any_predictions = any_predictions || !data.symbols[i].predictions.empty();
  }
  std::vector<OrderRequest> pending;
  Decision decision;
  TradingState state = TradingState::kActive;
  double peak = config.initial_cash, previous_equity = config.initial_cash, session_base = config.initial_cash;
  const double per_session_borrow = config.borrow_bps / 10'000.0 / 252.0;
  const double per_session_interest = config.margin_interest_bps / 10'000.0 / 252.0;

  // The benchmark: buy-and-hold of its total-return closes from the start's close.
  const SymbolSeries* bench = data.benchmark ? &*data.benchmark : nullptr;
  size_t bench_seen = 0;
  double bench_base = 0;

  for (size_t t = 0; t < end; ++t) {
    const int64_t time = events[t];
    const int32_t day = event_day[t];
    const bool new_session = t == 0 || day != event_day[t - 1];
    updated.clear();
    for (size_t i = 0; i < n_symbols; ++i) {
      if (next_time[i] == time) updated.push_back(i);
    }

    // 1. Corporate actions ex since the symbol's previous bar, before this open.
    for (size_t i : updated) {
      const auto& s = data.symbols[i];
      while (next_action[i] < s.actions.size() && s.actions[next_action[i]].ex_date.days_since_epoch() <= s.day[seen[i]]) {
        const CorporateAction& a = s.actions[next_action[i]++];
        if (seen[i] == 0) continue;  // before its first bar: nothing held
        const double previous_close = s.close[seen[i] - 1];
        if (a.kind == CorporateAction::Kind::kSplit && a.split_ratio > 0) {
          if (portfolio.qty(i) != 0) ++result.splits_applied;
          portfolio.split(i, a.split_ratio, previous_close, /*whole_shares=*/true);
          path.split(i, a.split_ratio);
          for (auto& o : pending) {
            if (o.symbol != i) continue;
            o.qty = std::floor(o.qty * a.split_ratio + 1e-6);
            o.limit_price /= a.split_ratio;
            o.stop_price /= a.split_ratio;
          }
        } else if (a.kind == CorporateAction::Kind::kDividend) {
          result.dividends += portfolio.dividend(i, a.cash_amount);
        }
      }
    }

    // 2. Yesterday's orders on today's bars; a symbol without a bar today lets them expire.
    for (const OrderRequest& o : pending) {
      const auto& s = data.symbols[o.symbol];
      const size_t k = seen[o.symbol];
      if (!(k < s.size() && s.time(k) == time) || !(o.qty > 0)) {
        ++result.orders_unfilled;
        continue;
      }
      const BarPrices bar{s.open[k], s.high[k], s.low[k], s.close[k], s.volume[k]};
      auto fill = simulate_fill(o, bar, config.costs, config.volume_participation);
      if (fill && o.side > 0 && !config.risk.margin) {
        const double affordable = config.costs.affordable_shares(fill->qty, fill->price, portfolio.cash());
        if (affordable < fill->qty) {
          fill->qty = affordable;
          fill->commission = config.costs.commission(affordable, fill->price);
        }
      }
      if (!fill || !(fill->qty > 0)) {
        ++result.orders_unfilled;
        continue;
      }
      if (fill->qty < o.qty) ++result.orders_unfilled;  // the rest is cancelled
      const bool closing = o.side * portfolio.qty(o.symbol) < 0;
      const double realized = portfolio.fill(o.symbol, o.side, fill->qty, fill->price, fill->commission);
      result.trades.push_back(TradeRecord{Date(day), time, o.symbol, o.side, fill->qty, fill->price, fill->reference,
                                          fill->commission, realized, o.type});
      m.traded_notional += fill->qty * fill->price;
      m.commissions += fill->commission;
      m.slippage += std::fabs(fill->price - fill->reference) * fill->qty;
      if (closing) {
        ++m.closing_trades;
        if (realized > 0) ++m.winning_trades;
      }
    }
    pending.clear();

    // 3. The close: marks, then financing.
    for (size_t i : updated) {
      const auto& s = data.symbols[i];
      portfolio.set_price(i, s.close[seen[i]]);
      ++seen[i];
      next_time[i] = seen[i] < s.size() ? s.time(seen[i]) : INT64_MAX;
    }
    for (size_t i = 0; any_predictions && i < n_symbols; ++i) {
      const auto& p = data.symbols[i].predictions;
      // A prediction is known at its session's close: intraday, from the next session on.
      const bool daily = data.symbols[i].ts.empty();
      while (predictions_seen[i] < p.size() &&
             (p[predictions_seen[i]].first < day || (daily && p[predictions_seen[i]].first == day))) {
        ++predictions_seen[i];
      }
    }
    portfolio.mark_all();
    if (t > start && new_session) {  // financing accrues once a session
      const double borrow = (portfolio.gross() - portfolio.net()) / 2 * per_session_borrow;
      const double interest = portfolio.cash() < 0 ? -portfolio.cash() * per_session_interest : 0.0;
      if (borrow > 0) portfolio.charge(borrow);
      if (interest > 0) portfolio.charge(interest);
      m.borrow_fees += borrow;
      m.margin_interest += interest;
    }

    // 4. The curve and the risk state, from the start's close on. The daily loss is measured from
    // the previous session's last close; REDUCING ends only with a new session.
    if (t >= start) {
      const double equity = portfolio.equity();
      if (new_session) session_base = previous_equity;
      if (t > start) {
        std::string reason;
        TradingState next = risk.after_close(state, equity, session_base, peak, &reason);
        if (!new_session && state == TradingState::kReducing && next == TradingState::kActive) next = state;
        if (next != state) {
          result.state_changes.push_back(StateChange{Date(day), state, next, std::move(reason)});
          state = next;
        }
      }
      peak = std::max(peak, equity);
      previous_equity = equity;
      double bench_value = 0;
      if (bench != nullptr) {
        while (bench_seen < bench->size() && bench->time(bench_seen) <= time) ++bench_seen;
        if (bench_seen > 0) {
          if (bench_base == 0) bench_base = bench->close[bench_seen - 1];
          bench_value = config.initial_cash * bench->close[bench_seen - 1] / bench_base;
        } else {
          bench_value = config.initial_cash;
        }
      }
      result.curve.push_back(EquityPoint{Date(day), time, equity, portfolio.cash(), portfolio.gross(), portfolio.net(),
                                         bench_value, state});
    }

    // 5. The decision on the as-of view; orders for the next session.
    const MarketView view(data, seen, updated, predictions_seen, day, time);
    decision.clear();
    strategy.on_bar(view, portfolio, decision);
    for (const auto& [i, w] : decision.targets) {
      if (i >= n_symbols || !std::isfinite(w)) {
        throw Error::Internal(fmt::format("strategy {} set a target for symbol #{} (of {}) weight {} on {}",
                                          strategy.name(), i, n_symbols, w, Date(day).to_string()));
      }
    }
    path.take(decision);
    if (t >= start && t + 1 < end) {
      auto plan = path.plan(portfolio, state, decision.orders);
      for (auto& [order, denial] : plan.denied) {
        result.denials.push_back(DenialRecord{Date(day), order.symbol, order.side, order.qty, std::move(denial)});
      }
      result.orders += static_cast<int64_t>(plan.orders.size());
      result.orders_scaled += plan.scaled;
      pending = std::move(plan.orders);
    }
    result.bar_events += static_cast<int64_t>(updated.size());
  }

  // Metrics on the start and each session's last point (daily returns, whatever the bars).
  std::vector<Date> curve_dates;
  std::vector<double> curve_equity, curve_gross, curve_bench;
  for (size_t k = 0; k < result.curve.size(); ++k) {
    if (k > 0 && k + 1 < result.curve.size() && result.curve[k + 1].date == result.curve[k].date) continue;
    curve_dates.push_back(result.curve[k].date);
    curve_equity.push_back(result.curve[k].equity);
    curve_gross.push_back(result.curve[k].gross);
    curve_bench.push_back(result.curve[k].benchmark);
  }
  const Metrics curve = compute_metrics(curve_dates, curve_equity, config.risk_free_rate, &curve_gross);
  const Metrics trades = m;
  m = curve;
  m.traded_notional = trades.traded_notional;
  m.commissions = trades.commissions;
  m.slippage = trades.slippage;
  m.borrow_fees = trades.borrow_fees;
  m.margin_interest = trades.margin_interest;
  m.closing_trades = trades.closing_trades;
  m.winning_trades = trades.winning_trades;
  m.trades = static_cast<int64_t>(result.trades.size());
  m.hit_rate = m.closing_trades > 0 ? static_cast<double>(m.winning_trades) / static_cast<double>(m.closing_trades) : 0;
  const double years = (curve_dates.back() - curve_dates.front()) / 365.25;
  double mean_equity = 0;
  for (double e : curve_equity) mean_equity += e;
  mean_equity /= static_cast<double>(curve_equity.size());
  if (years > 0 && mean_equity > 0) m.turnover = m.traded_notional / 2 / mean_equity / years;
  if (bench != nullptr) result.benchmark = compute_metrics(curve_dates, curve_bench, config.risk_free_rate);
  result.engine_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return result;
}

}  // namespace trib::trading

#include "trib/trading/order_path.hpp"

#include <cmath>

namespace trib::trading {

OrderPath::OrderPath(std::vector<std::string> names, const RiskEngine& risk, const CostModel& costs)
    : names_(std::move(names)), risk_(risk), costs_(costs) {
  const size_t n = names_.size();
  weight_.assign(n, 0.0);
  target_qty_.assign(n, 0.0);
  managed_.assign(n, 0);
  resize_.assign(n, 0);
  last_denied_.assign(n, std::string());
}

void OrderPath::take(const Decision& decision) {
  for (const auto& [i, w] : decision.targets) {
    weight_[i] = std::isfinite(w) ? w : 0.0;
    managed_[i] = 1;
    if (!resize_[i]) {
      resize_[i] = 1;
      to_resize_.push_back(i);
    }
    last_denied_[i].clear();
  }
}

void OrderPath::restore(size_t i, const Memory& m) {
  weight_[i] = m.weight;
  target_qty_[i] = m.target_qty;
  managed_[i] = m.managed ? 1 : 0;
  if (m.resize && !resize_[i]) to_resize_.push_back(i);
  resize_[i] = m.resize ? 1 : 0;
}

void OrderPath::split(size_t i, double ratio) {
  if (ratio > 0) target_qty_[i] = std::trunc(target_qty_[i] * ratio + (target_qty_[i] > 0 ? 1e-6 : -1e-6)) + 0.0;
}

OrderPath::Plan OrderPath::plan(const Portfolio& portfolio, TradingState state,
                                const std::vector<OrderRequest>& explicit_orders) {
  Plan plan;
  // Re-size the symbols the strategy named: whole shares toward zero at the last price.
  for (size_t k = 0; k < to_resize_.size();) {
    const size_t i = to_resize_[k];
    const double p = portfolio.price(i);
    if (!(p > 0)) {  // not traded yet: sized once it has a price
      ++k;
      continue;
    }
    const double raw = weight_[i] * portfolio.equity() / p;
    target_qty_[i] = std::trunc(raw + (raw > 0 ? 1e-9 : -1e-9)) + 0.0;
    resize_[i] = 0;
    to_resize_[k] = to_resize_.back();
    to_resize_.pop_back();
  }
  if (state == TradingState::kHalted) return plan;

  // What each managed symbol needs, reducing orders first, each group in symbol order.
  auto& reducing = reducing_;
  auto& increasing = increasing_;
  reducing.clear();
  increasing.clear();
  for (size_t i = 0; i < weight_.size(); ++i) {
    if (!managed_[i] || resize_[i]) continue;
    const double q = portfolio.qty(i);
    const double delta = target_qty_[i] - q;
    if (std::fabs(delta) < 0.5) continue;
    OrderRequest o;
    o.symbol = i;
    o.side = delta > 0 ? 1 : -1;
    o.qty = std::fabs(delta);
    (o.side * q < 0 ? reducing : increasing).push_back(o);
  }
  for (const auto& o : explicit_orders) (o.side * portfolio.qty(o.symbol) < 0 ? reducing : increasing).push_back(o);

  // Nothing to order, nothing to check: most events of a long backtest.
  if (reducing.empty() && increasing.empty()) return plan;
  RiskBook& book = book_;
  book.refresh(portfolio, state);
  auto consider = [&](OrderRequest o) {
    const size_t i = o.symbol;
    const auto fit = risk_.fit(o, names_[i], book);
    const bool cut = fit.qty < std::floor(o.qty + 1e-9);
    if (fit.qty <= 0) {
      if (last_denied_[i] != fit.rule) {
        last_denied_[i] = std::string(fit.rule);
        plan.denied.emplace_back(o, risk_.explain(fit, o, names_[i], book).value_or(Denial{"invalid_order", "nothing to order"}));
      }
      return;
    }
    const double wanted = o.qty;
    o.qty = fit.qty;
    if (auto denial = risk_.check(o, names_[i], book)) {
      if (last_denied_[i] != denial->rule) {
        last_denied_[i] = denial->rule;
        o.qty = wanted;
        plan.denied.emplace_back(o, std::move(*denial));
      }
      return;
    }
    if (cut) ++plan.scaled;
    last_denied_[i].clear();
    book.apply(o, costs_);
    plan.orders.push_back(o);
  };
  for (const auto& o : reducing) consider(o);
  for (const auto& o : increasing) consider(o);
  return plan;
}

}  // namespace trib::trading

#include "trib/trading/risk.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "trib/core/config.hpp"
#include "trib/core/error.hpp"
#include "trib/core/text.hpp"

namespace trib::trading {

std::string_view to_string(TradingState state) {
  switch (state) {
    case TradingState::kActive: return "ACTIVE";
    case TradingState::kReducing: return "REDUCING";
    case TradingState::kHalted: return "HALTED";
  }
  return "ACTIVE";
}

TradingState parse_trading_state(std::string_view text) {
  if (text == "ACTIVE") return TradingState::kActive;
  if (text == "REDUCING") return TradingState::kReducing;
  if (text == "HALTED") return TradingState::kHalted;
  throw Error::InvalidInput(fmt::format("trading state '{}' is not known; use ACTIVE, REDUCING or HALTED", text));
}

RiskLimits RiskLimits::from_config(const RiskConfig& risk, const BrokerConfig& broker) {
  RiskLimits l;
  l.max_order_notional = risk.max_order_notional;
  l.max_order_qty = risk.max_order_qty;
  l.max_position_notional = risk.max_position_notional;
  l.max_position_weight = risk.max_position_weight;
  l.max_gross_leverage = risk.max_gross_leverage;
  l.max_net_leverage = risk.max_net_leverage;
  l.price_band_pct = risk.price_band_pct;
  l.max_orders_per_day = risk.max_orders_per_day;
  l.daily_loss_limit_pct = risk.daily_loss_limit_pct;
  l.max_drawdown_pct = risk.max_drawdown_pct;
  for (auto& name : split_list(risk.restricted)) l.restricted.insert(std::move(name));
  l.margin = broker.account_type == "margin";
  l.allow_short = broker.allow_short;
  return l;
}

RiskBook RiskBook::of(const Portfolio& portfolio, TradingState state) {
  RiskBook b;
  b.refresh(portfolio, state);
  return b;
}

void RiskBook::refresh(const Portfolio& portfolio, TradingState state) {
  this->state = state;
  equity = portfolio.equity();
  gross = portfolio.gross();
  net = portfolio.net();
  cash = portfolio.cash();
  orders_today = 0;
  qty.resize(portfolio.size());
  price.resize(portfolio.size());
  for (size_t i = 0; i < portfolio.size(); ++i) {
    qty[i] = portfolio.qty(i);
    price[i] = portfolio.price(i);
  }
}

void RiskBook::apply(const OrderRequest& order, const CostModel& costs) {
  const size_t i = order.symbol;
  const double p = price[i];
  const double before = qty[i];
  const double after = before + order.side * order.qty;
  const double fill = costs.fill_price(p, order.side);
  cash -= order.side * order.qty * fill + costs.commission(order.qty, fill);
  gross += (std::fabs(after) - std::fabs(before)) * p;
  net += order.side * order.qty * p;
  qty[i] = after;
  ++orders_today;
}

namespace {

enum class Rule {
  kHalted, kRestricted, kReducing, kShort, kOrderQty, kOrderNotional, kPositionNotional, kPositionWeight,
  kGross, kNet, kBuyingPower
};

const char* rule_name(Rule r) {
  switch (r) {
    case Rule::kHalted: return "halted";
    case Rule::kRestricted: return "restricted";
    case Rule::kReducing: return "reducing";
    case Rule::kShort: return "short_not_allowed";
    case Rule::kOrderQty: return "max_order_qty";
    case Rule::kOrderNotional: return "max_order_notional";
    case Rule::kPositionNotional: return "max_position_notional";
    case Rule::kPositionWeight: return "max_position_weight";
    case Rule::kGross: return "max_gross_leverage";
    case Rule::kNet: return "max_net_leverage";
    case Rule::kBuyingPower: return "buying_power";
  }
  return "";
}

struct Cap {
  double qty;
  Rule rule;
};

const char* side_name(int side) { return side > 0 ? "buy" : "sell"; }

// Every scalable limit as the most shares of `order` it allows (reasons are written only for
// the one that binds: this runs for every order of a backtest).
void caps_of(const RiskLimits& l, const CostModel& costs, const OrderRequest& order, const std::string& symbol,
             const RiskBook& book, std::vector<Cap>& caps) {
  caps.clear();
  const size_t i = order.symbol;
  const double p = book.price[i], q = book.qty[i], E = book.equity;
  const int s = order.side;
  const bool reduces = s * q < 0;
  const double reducible = reduces ? std::fabs(q) : 0.0;  // shares toward zero, not through it
  if (book.state == TradingState::kHalted) {
    caps.push_back({0, Rule::kHalted});
    return;
  }
  if (!l.restricted.empty() && l.restricted.count(symbol) != 0) {
    caps.push_back({0, Rule::kRestricted});
    return;
  }
  if (book.state == TradingState::kReducing) caps.push_back({reducible, Rule::kReducing});
  if (s < 0 && !(l.margin && l.allow_short)) caps.push_back({std::max(q, 0.0), Rule::kShort});
  caps.push_back({l.max_order_qty, Rule::kOrderQty});
  caps.push_back({l.max_order_notional / p, Rule::kOrderNotional});
  // A position limit A (shares, either side): reducing orders may go through zero to -A.
  auto position_cap = [&](double a) { return reduces ? std::fabs(q) + std::max(a, 0.0) : std::max(0.0, a - std::fabs(q)); };
  caps.push_back({position_cap(l.max_position_notional / p), Rule::kPositionNotional});
  caps.push_back({position_cap(l.max_position_weight * std::max(E, 0.0) / p), Rule::kPositionWeight});
  caps.push_back({position_cap((l.max_gross_leverage * E - book.gross + std::fabs(q) * p) / p), Rule::kGross});
  caps.push_back({std::max(reducible, (l.max_net_leverage * E - s * book.net) / p), Rule::kNet});
  if (s > 0 && !l.margin) {
    caps.push_back({costs.affordable_shares(order.qty, costs.fill_price(p, 1), book.cash), Rule::kBuyingPower});
  }
}

Denial describe(Rule rule, const RiskLimits& l, const CostModel& costs, const OrderRequest& order,
               const std::string& symbol, const RiskBook& book) {
  const double p = book.price[order.symbol], q = book.qty[order.symbol], E = book.equity;
  const char* side = side_name(order.side);
  std::string why;
  switch (rule) {
    case Rule::kHalted: why = fmt::format("{} {}: trading is HALTED (trib resume ends it)", side, symbol); break;
    case Rule::kRestricted:
      why = fmt::format("{} {}: {} is on the restricted list ([risk] restricted)", side, symbol, symbol);
      break;
    case Rule::kReducing:
      why = fmt::format("{} {} {}: trading is REDUCING, only orders toward a flat position (position {})", side,
                        order.qty, symbol, q);
      break;
    case Rule::kShort:
      why = fmt::format("sell {} {}: would go short from {} shares; shorts need [broker] account_type = 'margin' "
                        "and allow_short = true", order.qty, symbol, q);
      break;
    case Rule::kOrderQty:
      why = fmt::format("{} {} {}: more than max_order_qty {}", side, order.qty, symbol, l.max_order_qty);
      break;
    case Rule::kOrderNotional:
      why = fmt::format("{} {} {} @ {:.2f}: notional {:.2f} > max_order_notional {:.2f}", side, order.qty, symbol, p,
                        order.qty * p, l.max_order_notional);
      break;
    case Rule::kPositionNotional:
      why = fmt::format("{} {} {} @ {:.2f}: position {} -> {} would exceed max_position_notional {:.2f}", side,
                        order.qty, symbol, p, q, q + order.side * order.qty, l.max_position_notional);
      break;
    case Rule::kPositionWeight:
      why = fmt::format("{} {} {} @ {:.2f}: position {} -> {} would exceed max_position_weight {} of equity {:.2f}",
                        side, order.qty, symbol, p, q, q + order.side * order.qty, l.max_position_weight, E);
      break;
    case Rule::kGross:
      why = fmt::format("{} {} {}: gross exposure {:.2f} would exceed max_gross_leverage {} x equity {:.2f}", side,
                        order.qty, symbol, book.gross, l.max_gross_leverage, E);
      break;
    case Rule::kNet:
      why = fmt::format("{} {} {}: net exposure {:.2f} would exceed max_net_leverage {} x equity {:.2f}", side,
                        order.qty, symbol, book.net, l.max_net_leverage, E);
      break;
    case Rule::kBuyingPower:
      why = fmt::format("buy {} {} @ {:.2f}: costs more than the cash {:.2f} (a cash account)", order.qty, symbol,
                        costs.fill_price(p, 1), book.cash);
      break;
  }
  return Denial{rule_name(rule), std::move(why)};
}

}  // namespace

RiskEngine::Fit RiskEngine::fit(const OrderRequest& order, const std::string& symbol, const RiskBook& book) const {
  Fit f;
  f.qty = std::floor(order.qty + 1e-9);
  if (!(f.qty > 0) || !(book.price[order.symbol] > 0)) {
    f.qty = 0;
    f.rule = "invalid_order";
    return f;
  }
  thread_local std::vector<Cap> caps;
  caps_of(limits_, costs_, order, symbol, book, caps);
  const Cap* binding = nullptr;
  for (const auto& cap : caps) {
    const double allowed = std::max(0.0, std::floor(cap.qty + 1e-9));
    if (allowed < f.qty) {
      f.qty = allowed;
      binding = &cap;
    }
  }
  if (binding != nullptr) {
    f.rule = rule_name(binding->rule);
    f.limit = static_cast<int>(binding->rule);
  }
  return f;
}

std::optional<Denial> RiskEngine::explain(const Fit& fit, const OrderRequest& order, const std::string& symbol,
                                          const RiskBook& book) const {
  if (fit.rule.empty()) return std::nullopt;
  if (fit.limit < 0) {
    return Denial{std::string(fit.rule),
                  fmt::format("{} {} {}: no quantity or no price to size at", side_name(order.side), order.qty, symbol)};
  }
  return describe(static_cast<Rule>(fit.limit), limits_, costs_, order, symbol, book);
}

std::optional<Denial> RiskEngine::check(const OrderRequest& order, const std::string& symbol, const RiskBook& book) const {
  const char* side = side_name(order.side);
  if ((order.side != 1 && order.side != -1) || !(order.qty > 0) || !std::isfinite(order.qty)) {
    return Denial{"invalid_order", fmt::format("{}: side must be +1 or -1 and qty > 0, got side {} qty {}", symbol,
                                               order.side, order.qty)};
  }
  const double p = book.price[order.symbol];
  if (!(p > 0) || !std::isfinite(p)) {
    return Denial{"invalid_order", fmt::format("{} {}: no last price to check the order against", side, symbol)};
  }
  if (book.orders_today >= limits_.max_orders_per_day) {
    return Denial{"order_rate", fmt::format("{} {}: {} orders this session already (max_orders_per_day {})", side,
                                            symbol, book.orders_today, limits_.max_orders_per_day)};
  }
  if (order.type != OrderType::kMarket) {
    const double level = order.type == OrderType::kLimit ? order.limit_price : order.stop_price;
    const double off = std::fabs(level / p - 1.0) * 100.0;
    if (!(level > 0) || off > limits_.price_band_pct) {
      return Denial{"price_band", fmt::format("{} {} {} @ {:.2f}: {:.1f}% from the last price {:.2f} (price_band_pct {})",
                                              side, symbol, to_string(order.type), level, off, p,
                                              limits_.price_band_pct)};
    }
  }
  thread_local std::vector<Cap> caps;
  caps_of(limits_, costs_, order, symbol, book, caps);
  for (const auto& cap : caps) {
    if (order.qty > cap.qty + 1e-6) return describe(cap.rule, limits_, costs_, order, symbol, book);
  }
  return std::nullopt;
}

TradingState RiskEngine::after_close(TradingState state, double equity, double previous_equity, double peak,
                                     std::string* reason) const {
  if (state == TradingState::kHalted) return state;
  if (peak > 0 && equity <= peak * (1.0 - limits_.max_drawdown_pct / 100.0)) {
    if (reason) {
      *reason = fmt::format("equity {:.2f} is {:.2f}% below its peak {:.2f} (max_drawdown_pct {})", equity,
                            (1.0 - equity / peak) * 100.0, peak, limits_.max_drawdown_pct);
    }
    return TradingState::kHalted;
  }
  if (previous_equity > 0 && equity <= previous_equity * (1.0 - limits_.daily_loss_limit_pct / 100.0)) {
    if (reason) {
      *reason = fmt::format("equity {:.2f} lost {:.2f}% in the session from {:.2f} (daily_loss_limit_pct {})", equity,
                            (1.0 - equity / previous_equity) * 100.0, previous_equity, limits_.daily_loss_limit_pct);
    }
    return TradingState::kReducing;
  }
  if (state == TradingState::kReducing) {
    if (reason) *reason = "a session within the daily loss limit";
    return TradingState::kActive;
  }
  return state;
}

}  // namespace trib::trading

#include "trib/trading/live_runner.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "trib/core/calendar.hpp"
#include "trib/core/error.hpp"
#include "trib/core/hash.hpp"

namespace trib::trading {

std::string make_client_order_id(const OrderKey& key) {
  const std::string date = key.session.to_string();  // YYYY-MM-DD
  const std::string compact = date.substr(0, 4) + date.substr(5, 2) + date.substr(8, 2);
  // The hash separates fields with a byte no name contains, so ("a-b","c") != ("a","b-c").
  const uint64_t h = fnv1a64(key.strategy + '\x1f' + key.params + '\x1f' + key.account + '\x1f' +
                             key.symbol + '\x1f' + date);
  const auto folded = static_cast<uint32_t>(h ^ (h >> 32));
  return fmt::format("{}-{}-{}-{:08x}", key.strategy, key.symbol, compact, folded);
}

namespace {


}  // namespace

CycleResult run_eod_cycle(catalog::Catalog& catalog, const std::vector<Bar>& bars,
                          const legacy::Strategy& strategy, const legacy::RiskEngine& risk, Broker& broker,
                          const CycleConfig& config, const std::vector<Bar>* signal_bars) {
  if (bars.empty()) throw Error::InvalidInput("eod cycle: no bars for " + config.symbol);
  if (signal_bars != nullptr &&
      (signal_bars->size() != bars.size() || signal_bars->back().session_date != bars.back().session_date)) {
    throw Error::Internal(fmt::format("eod cycle: {} signal bars to {} do not match {} traded bars to {}",
                                      signal_bars->size(),
                                      signal_bars->empty() ? "-" : signal_bars->back().session_date.to_string(),
                                      bars.size(), bars.back().session_date.to_string()));
  }
  const std::vector<Bar>& seen = signal_bars != nullptr ? *signal_bars : bars;
  if (config.symbol.empty()) throw Error::InvalidInput("eod cycle: no symbol configured");
  if (config.account.empty()) throw Error::InvalidInput("eod cycle: no account configured");

  const Bar& last = bars.back();
  CycleResult result;
  result.session_date = last.session_date;
  result.last_close = last.close;
  if (!(last.close > 0) || !std::isfinite(last.close)) {
    throw Error::InvalidInput(fmt::format("eod cycle: last close of {} on {} is {}",
                                          config.symbol, last.session_date.to_string(),
                                          last.close));
  }

  // 1. The decision, on the bars up to the session just closed.
  double exposure = 0;
  if (seen.size() >= static_cast<size_t>(std::max(0, strategy.warmup_bars()))) {
    exposure = strategy.target_exposure(seen);
    if (!std::isfinite(exposure)) {
      throw Error::Internal("strategy " + strategy.name() + " returned a non-finite exposure");
    }
    exposure = std::clamp(exposure, -1.0, 1.0);
  }
  result.target_exposure = exposure;

  // 2. Size in whole shares against equity = cash + positions. Only this symbol has a price
  // here; other symbols of the account are marked at their average price.
  const std::string client_id =
      make_client_order_id({strategy.name(), strategy.params(), config.account, config.symbol, last.session_date});
  auto finish = [&](std::string action) {
    result.action = std::move(action);
    result.order = catalog.get_order(client_id);
    result.positions = catalog.list_positions(config.account);
    return result;
  };
  const auto position = catalog.get_position(config.account, config.symbol);
  result.current_qty = position ? position->qty.to_double() : 0.0;
  const double cash =
      catalog.account_cash(config.account, Micros::from_double(config.initial_cash)).to_double();
  double equity = cash;
  for (const auto& p : catalog.list_positions(config.account)) {
    equity += p.qty.to_double() * (p.symbol == config.symbol ? last.close : p.avg_price.to_double());
  }
  const double raw = exposure * equity / last.close;
  result.target_qty = std::trunc(raw + (raw > 0 ? 1e-9 : -1e-9)) + 0.0;  // never -0

  // 3. An order for this (strategy, symbol, session) means the cycle already ran, whatever its
  // outcome (a denial is that session's decision too) — unless it is still "new": the process
  // died between recording the order and recording the broker's answer. Then the recorded order
  // is sent again; the broker deduplicates on the client order id and the ledger on fill ids,
  // so a resend can never double a position.
  // Deterministic: the order's time is the session close, never the wall clock.
  const int64_t ts_ns = TradingCalendar::nyse().session_close_ts_ns(last.session_date);
  int side = 0;
  double qty = 0;
  std::string placed = "placed";
  if (auto existing = catalog.get_order(client_id)) {
    if (existing->status != catalog::OrderStatus::kNew) return finish("already_ran");
    side = catalog::sign_of(existing->side);
    qty = existing->qty.to_double();
    placed = "resumed";
  } else {
    const double delta = result.target_qty - result.current_qty;
    if (delta == 0) return finish("none");
    side = delta > 0 ? 1 : -1;
    qty = std::fabs(delta);
    if (side > 0) {
      // Equity includes the position, so a full-exposure target can cost more than the cash
      // there is once slippage and commission are added.
      qty = config.costs.affordable_shares(qty, config.costs.fill_price(last.close, 1), cash);
      if (qty == 0) return finish("insufficient_cash");
    }
    catalog::OrderRecord order;
    order.client_order_id = client_id;
    order.strategy = strategy.name();
    order.symbol = config.symbol;
    order.side = side > 0 ? catalog::Side::kBuy : catalog::Side::kSell;
    order.qty = Micros::from_double(qty);
    order.session_date = last.session_date.to_string();
    order.status = catalog::OrderStatus::kNew;
    order.broker = broker.name();
    order.created_at_ns = ts_ns;
    if (!catalog.insert_order_if_absent(order)) return finish("already_ran");  // lost a race
  }

  // 4. Risk, then the broker; fills go to the ledger, which updates position and cash.
  const legacy::RiskDecision decision =
      risk.check(legacy::OrderIntent{config.symbol, side, qty, last.close}, result.current_qty);
  if (const auto* denied = std::get_if<legacy::OrderDenied>(&decision)) {
    catalog.update_order(client_id, catalog::OrderStatus::kDenied, denied->rule + ": " + denied->reason, "");
    return finish("denied");
  }
  const BrokerAck ack =
      broker.submit(BrokerOrder{client_id, config.symbol, side, qty, last.close, ts_ns});
  if (ack.status == "rejected") {
    catalog.update_order(client_id, catalog::OrderStatus::kRejected, ack.reason, ack.broker_order_id);
    return finish("rejected");
  }
  for (const BrokerFill& fill : ack.fills) {
    catalog.apply_fill(config.account,
                       catalog::FillRecord{fill.fill_id, client_id, config.symbol,
                                           side > 0 ? catalog::Side::kBuy : catalog::Side::kSell,
                                           Micros::from_double(fill.qty),
                                           Micros::from_double(fill.price),
                                           Micros::from_double(fill.commission), fill.ts_ns});
  }
  catalog.update_order(client_id, catalog::parse_order_status(ack.status), "", ack.broker_order_id);
  return finish(placed);
}

}  // namespace trib::trading

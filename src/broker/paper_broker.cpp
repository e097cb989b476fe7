#include "trib/broker/paper_broker.hpp"

#include <cmath>

#include <fmt/format.h>

#include "trib/core/calendar.hpp"
#include "trib/core/error.hpp"

namespace trib::broker {

using namespace trading;  // the engine's value types (orders, costs, risk) throughout
namespace {

using catalog::OrderStatus;

class PaperBroker final : public Broker {
 public:
  PaperBroker(catalog::Catalog& catalog, PaperBrokerConfig config, BarLookup bars, SplitLookup splits)
      : catalog_(catalog), config_(std::move(config)), bars_(std::move(bars)), splits_(std::move(splits)) {}

  std::string name() const override { return "paper"; }

  BrokerAccount account() override {
    const double cash = catalog_.account_cash(config_.account, Micros::from_double(config_.initial_cash)).to_double();
    double equity = cash;
    for (const auto& p : catalog_.list_positions(config_.account)) equity += p.qty.to_double() * p.avg_price.to_double();
    return {cash, equity, config_.margin ? equity : cash};
  }

  // The ledger is the paper account's book.
  std::vector<BrokerPosition> positions() override {
    std::vector<BrokerPosition> out;
    for (const auto& p : catalog_.list_positions(config_.account)) {
      if (p.qty != Micros()) out.push_back({p.symbol, p.qty.to_double(), p.avg_price.to_double()});
    }
    return out;
  }

  BrokerOrder submit(const BrokerOrderRequest& request) override {
    if (request.client_order_id.empty()) throw Error::InvalidInput("paper broker: an order needs a client_order_id");
    auto o = order(request.client_order_id);
    if (!o) {
      throw Error::Internal(fmt::format("paper broker: order {} must be in the ledger before it is sent",
                                        request.client_order_id));
    }
    return *o;
  }

  std::optional<BrokerOrder> order(const std::string& client_order_id) override {
    const auto record = catalog_.get_order(client_order_id);
    if (!record || record->account != config_.account) return std::nullopt;
    BrokerOrder out;
    out.client_order_id = record->client_order_id;
    out.broker_order_id = "paper-" + record->client_order_id;
    out.symbol = record->symbol;
    out.side = catalog::sign_of(record->side);
    out.qty = record->qty.to_double();
    for (const auto& f : catalog_.list_fills(client_order_id)) {
      out.fills.push_back({f.fill_id, f.qty.to_double(), f.price.to_double(), f.commission.to_double(), f.ts_ns});
      out.filled_qty += f.qty.to_double();
    }
    if (!catalog::is_open(record->status)) {
      out.status = record->status;
      out.reason = record->reason;
      return out;
    }
    // A day order for the session after its decision.
    const Date decided = Date::parse(record->session_date, "order session");
    const Date session = TradingCalendar::nyse().next_session(decided);
    if (session > config_.last_session) {
      out.status = OrderStatus::kAccepted;
      return out;
    }
    const auto bar = bars_(record->symbol, session);
    if (!bar) {
      out.status = OrderStatus::kExpired;
      out.reason = fmt::format("{} did not trade on {}", record->symbol, session.to_string());
      return out;
    }
    OrderRequest request;
    request.side = out.side;
    request.qty = out.qty - out.filled_qty;
    request.type = parse_order_type(record->order_type);
    if (record->limit_price) request.limit_price = record->limit_price->to_double();
    if (record->stop_price) request.stop_price = record->stop_price->to_double();
    // A split between the decision and the fill: the order on the new basis.
    const double ratio = splits_ ? splits_(record->symbol, decided, session) : 1.0;
    if (ratio > 0 && ratio != 1.0) {
      request.qty = std::floor(request.qty * ratio + 1e-6);
      request.limit_price /= ratio;
      request.stop_price /= ratio;
      out.qty = std::floor(out.qty * ratio + 1e-6);
    }
    auto fill = simulate_fill(request, *bar, config_.costs, config_.volume_participation);
    if (fill && request.side > 0 && !config_.margin) {
      const double cash =
          catalog_.account_cash(config_.account, Micros::from_double(config_.initial_cash)).to_double();
      const double affordable = config_.costs.affordable_shares(fill->qty, fill->price, cash);
      if (affordable < fill->qty) {
        fill->qty = affordable;
        fill->commission = config_.costs.commission(affordable, fill->price);
      }
    }
    if (fill && fill->qty > 0) {
      out.fills.push_back({out.broker_order_id + "-1", fill->qty, fill->price, fill->commission,
                           TradingCalendar::nyse().session_open_ts_ns(session)});
      out.filled_qty += fill->qty;
    }
    // A day order: what did not fill on its session is cancelled.
    out.status = out.filled_qty >= out.qty - 1e-9 ? OrderStatus::kFilled : OrderStatus::kExpired;
    if (out.status == OrderStatus::kExpired) {
      out.reason = fmt::format("{} of {} filled on {} (the rest expired with the day)", out.filled_qty, out.qty,
                               session.to_string());
    }
    return out;
  }

  void cancel(const std::string&) override {}  // orders live one session; nothing rests here

 private:
  catalog::Catalog& catalog_;
  PaperBrokerConfig config_;
  BarLookup bars_;
  SplitLookup splits_;
};

}  // namespace

std::unique_ptr<Broker> make_paper_broker(catalog::Catalog& catalog, PaperBrokerConfig config, BarLookup bars,
                                          SplitLookup splits) {
  return std::make_unique<PaperBroker>(catalog, std::move(config), std::move(bars), std::move(splits));
}

}  // namespace trib::broker

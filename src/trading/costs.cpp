#include "trib/trading/costs.hpp"

#include <algorithm>
#include <cmath>

#include "trib/core/config.hpp"

namespace trib::trading {

double CostModel::commission(double qty, double price) const {
  qty = std::fabs(qty);
  if (qty == 0) return 0.0;
  const double value = qty * std::fabs(price);
  double fee = std::max(min_commission, qty * commission_per_share);
  if (max_commission_pct > 0) fee = std::min(fee, value * max_commission_pct / 100.0);
  return fee + value * commission_bps / 10'000.0;
}

double CostModel::fill_price(double reference, int side, double participation) const {
  double bps = slippage_bps;
  if (slippage == Slippage::kVolumeShare) bps += impact_bps * participation * participation;
  return reference * (1.0 + (side > 0 ? 1.0 : -1.0) * bps / 10'000.0);
}

double CostModel::affordable_shares(double wanted, double price, double cash) const {
  if (!(cash > 0) || !(price > 0) || !(wanted >= 1)) return 0;
  // The cost of n shares grows with n: the largest n that pays, by bisection.
  auto pays = [&](double n) { return n * price + commission(n, price) <= cash; };
  double lo = 0, hi = std::floor(wanted + 1e-9);
  if (pays(hi)) return hi;
  while (hi - lo > 1) {
    const double mid = std::floor((lo + hi) / 2);
    (pays(mid) ? lo : hi) = mid;
  }
  return lo;
}

CostModel CostModel::from_config(const BrokerConfig& broker) {
  CostModel c;
  c.commission_per_share = broker.commission_per_share;
  c.min_commission = broker.min_commission;
  c.max_commission_pct = broker.max_commission_pct;
  c.commission_bps = broker.commission_bps;
  c.slippage = broker.slippage_model == "volume_share" ? Slippage::kVolumeShare : Slippage::kBps;
  c.slippage_bps = broker.slippage_bps;
  c.impact_bps = broker.impact_bps;
  return c;
}

}  // namespace trib::trading

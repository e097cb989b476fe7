// What trading costs: commissions and slippage, the same model in the backtester, the paper
// broker and the sizing step's estimates.
#pragma once

#include <string>

namespace trib {
struct BrokerConfig;
}

namespace trib::trading {

struct CostModel {
  // Commission of one order: max(per_share x qty, min_commission), capped at
  // max_commission_pct % of its value (0: no cap), plus commission_bps of its value.
  double commission_per_share = 0.005;
  double min_commission = 1.0;
  double max_commission_pct = 1.0;
  double commission_bps = 0;
  // Slippage, always against the trader: slippage_bps of the reference price, plus with the
  // volume-share model impact_bps x participation^2 (participation = qty / the bar's volume).
  enum class Slippage { kBps, kVolumeShare };
  Slippage slippage = Slippage::kBps;
  double slippage_bps = 5;
  double impact_bps = 1000;

  // 0 for qty 0.
  double commission(double qty, double price) const;
  // Execution price of a buy (side +1) or sell (-1) at `reference`.
  double fill_price(double reference, int side, double participation = 0) const;
  // Whole shares of a buy at execution price `price` that `cash` pays for, commission included:
  // at most floor(wanted), 0 when nothing is affordable.
  double affordable_shares(double wanted, double price, double cash) const;

  static CostModel from_config(const BrokerConfig& broker);
};

}  // namespace trib::trading

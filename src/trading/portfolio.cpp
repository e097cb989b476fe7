#include "trib/trading/portfolio.hpp"

#include <algorithm>

namespace trib::trading {

void Portfolio::mark_all() {
  double net = 0, gross = 0;
  for (const auto& p : positions_) {
    if (p.qty == 0) continue;
    const double v = p.qty * p.price;
    net += v;
    gross += std::fabs(v);
  }
  net_ = net;
  gross_ = gross;
  equity_ = cash_ + net;
}

double Portfolio::fill(size_t i, int side, double qty, double price, double commission) {
  Position& p = positions_[i];
  const double signed_qty = side > 0 ? qty : -qty;
  cash_ -= signed_qty * price + commission;
  double realized = 0;
  if (p.qty == 0 || (p.qty > 0) == (signed_qty > 0)) {
    // Opening or adding: the average moves.
    const double total = p.qty + signed_qty;
    p.avg_price = (p.avg_price * std::fabs(p.qty) + price * qty) / std::fabs(total);
    p.qty = total;
  } else {
    const double closed = std::min(qty, std::fabs(p.qty));
    realized = closed * (price - p.avg_price) * (p.qty > 0 ? 1.0 : -1.0);
    p.realized += realized;
    const double total = p.qty + signed_qty;
    if (std::fabs(total) < 1e-9) {
      p.qty = 0;
      p.avg_price = 0;
    } else if ((total > 0) != (p.qty > 0)) {
      p.qty = total;  // crossed zero: the remainder opens at the fill price
      p.avg_price = price;
    } else {
      p.qty = total;
    }
  }
  return realized;
}

void Portfolio::split(size_t i, double ratio, double previous_close, bool whole_shares) {
  Position& p = positions_[i];
  if (p.qty == 0 || !(ratio > 0)) return;
  double q = p.qty * ratio;
  if (whole_shares) {
    const double nearest = std::round(q);
    if (std::fabs(q - nearest) <= 1e-5 * std::max(1.0, std::fabs(q))) {
      q = nearest;
    } else {
      const double whole = std::trunc(q);
      cash_ += (q - whole) * previous_close / ratio;  // cash in lieu of the fraction
      q = whole;
    }
  }
  p.avg_price /= ratio;
  if (!std::isnan(p.price)) p.price /= ratio;
  p.qty = q;
}

double Portfolio::dividend(size_t i, double amount) {
  const double cash = positions_[i].qty * amount;
  cash_ += cash;
  return cash;
}

}  // namespace trib::trading

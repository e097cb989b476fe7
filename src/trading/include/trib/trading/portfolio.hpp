// The account: cash and signed positions in whole or fractional shares, average-cost
// accounting, marked at the last traded price. Shared by the backtester and the paper path.
#pragma once

#include <cmath>
#include <limits>
#include <vector>

namespace trib::trading {

struct Position {
  double qty = 0;        // signed: negative is short
  double avg_price = 0;  // average entry price of the open quantity
  double price = std::numeric_limits<double>::quiet_NaN();  // the last traded price (raw)
  double realized = 0;   // realised P&L (before commissions)
};

class Portfolio {
 public:
  Portfolio(size_t symbols, double cash) : positions_(symbols), cash_(cash), equity_(cash) {}

  size_t size() const { return positions_.size(); }
  double cash() const { return cash_; }
  const Position& position(size_t i) const { return positions_[i]; }
  double qty(size_t i) const { return positions_[i].qty; }
  // The last price, NaN before the symbol's first bar.
  double price(size_t i) const { return positions_[i].price; }
  // Position value at the last price (0 when flat).
  double value(size_t i) const { return positions_[i].qty == 0 ? 0.0 : positions_[i].qty * positions_[i].price; }

  // cash + the positions at their last prices, summed in symbol order. Recomputed by mark_all().
  double equity() const { return equity_; }
  double gross() const { return gross_; }  // sum |position value|
  double net() const { return net_; }      // sum position value
  // |value| / equity of symbol i (0 when equity is not positive).
  double weight(size_t i) const { return equity_ > 0 ? value(i) / equity_ : 0.0; }

  void set_price(size_t i, double price) { positions_[i].price = price; }
  // A position as a ledger holds it (cash untouched).
  void set_position(size_t i, double qty, double avg_price) {
    positions_[i].qty = qty;
    positions_[i].avg_price = avg_price;
  }
  // Recomputes equity, gross and net from cash and every position at its last price.
  void mark_all();

  // Applies a fill (side +1 buy, -1 sell, qty > 0): moves cash by the notional and the
  // commission, the position by qty; returns the P&L realised by the part that closed.
  double fill(size_t i, int side, double qty, double price, double commission);
  // A split of `ratio` new shares per old: the position scales, the average price divides.
  // Whole-share accounts receive the fraction in cash at `previous_close` / ratio (cash in
  // lieu). Ratios printed to ~7 digits (100 x 1.9999955) round to the whole share.
  void split(size_t i, double ratio, double previous_close, bool whole_shares);
  // A cash dividend per share: position x amount to cash (a short pays it). Returns the cash.
  double dividend(size_t i, double amount);
  // Interest, borrow fees: cash out.
  void charge(double amount) {
    cash_ -= amount;
    equity_ -= amount;
  }

 private:
  std::vector<Position> positions_;
  double cash_;
  double equity_ = 0, gross_ = 0, net_ = 0;
};

}  // namespace trib::trading

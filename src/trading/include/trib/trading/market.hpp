// The market a strategy trades: a universe's daily bars, columnar, and the as-of view a strategy
// sees at each decision (nothing dated after it).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "trib/core/corporate_action.hpp"
#include "trib/core/time.hpp"

namespace trib::trading {

// One symbol's sessions, ascending. Orders fill at the traded prices; the strategy sees the
// signal prices (split- or total-return-adjusted, so a split is no crash to an indicator).
struct SymbolSeries {
  std::string symbol;
  std::vector<int32_t> day;                    // session dates, days since 1970-01-01
  std::vector<double> open, high, low, close;  // as traded
  std::vector<double> volume;
  // Signal prices for the same sessions; empty: the strategy sees the traded prices.
  std::vector<double> signal_open, signal_high, signal_low, signal_close, signal_volume;
  std::vector<CorporateAction> actions;                // splits and dividends (others ignored)
  std::vector<std::pair<int32_t, double>> predictions;  // (session day, score), ascending

  size_t size() const { return day.size(); }
  bool has_signal() const { return !signal_close.empty(); }
};

struct MarketData {
  std::vector<SymbolSeries> symbols;  // the universe, in the order strategies index it
  // The benchmark's total-return closes (buy-and-hold with dividends reinvested); optional.
  std::optional<SymbolSeries> benchmark;
  std::string signal_prices = "raw";  // what the signal columns are: raw, split, total

  // Error::InvalidInput naming the symbol and session when a series is not ascending, its
  // columns differ in length, or a price is not positive and finite.
  void validate() const;
  // Every session any symbol traded, ascending.
  std::vector<int32_t> sessions() const;
  size_t bars() const;
};

class MarketView {
 public:
  MarketView(const MarketData& data, const std::vector<size_t>& seen, const std::vector<size_t>& updated,
             const std::vector<size_t>& prediction_seen, int32_t day)
      : data_(&data), seen_(&seen), updated_(&updated), prediction_seen_(&prediction_seen), day_(day) {}

  Date date() const { return Date(day_); }
  size_t size() const { return data_->symbols.size(); }
  const std::string& symbol(size_t i) const { return data_->symbols[i].symbol; }
  // Bars of symbol i dated on or before date().
  size_t count(size_t i) const { return (*seen_)[i]; }
  // Symbols with a bar dated date(), ascending.
  const std::vector<size_t>& updated() const { return *updated_; }
  bool has_bar(size_t i) const {
    const auto& s = data_->symbols[i];
    return count(i) > 0 && s.day[count(i) - 1] == day_;
  }
  // The signal prices up to and including date() (the last element is the newest bar).
  std::span<const double> close(size_t i) const { return column(i, &SymbolSeries::signal_close, &SymbolSeries::close); }
  std::span<const double> open(size_t i) const { return column(i, &SymbolSeries::signal_open, &SymbolSeries::open); }
  std::span<const double> high(size_t i) const { return column(i, &SymbolSeries::signal_high, &SymbolSeries::high); }
  std::span<const double> low(size_t i) const { return column(i, &SymbolSeries::signal_low, &SymbolSeries::low); }
  std::span<const double> volume(size_t i) const {
    return column(i, &SymbolSeries::signal_volume, &SymbolSeries::volume);
  }
  // The newest prediction dated on or before date(), if any.
  std::optional<double> prediction(size_t i) const {
    const size_t n = (*prediction_seen_)[i];
    if (n == 0) return std::nullopt;
    return data_->symbols[i].predictions[n - 1].second;
  }
  // The date of that prediction.
  std::optional<Date> prediction_date(size_t i) const {
    const size_t n = (*prediction_seen_)[i];
    if (n == 0) return std::nullopt;
    return Date(data_->symbols[i].predictions[n - 1].first);
  }

 private:
  std::span<const double> column(size_t i, std::vector<double> SymbolSeries::*signal,
                                 std::vector<double> SymbolSeries::*traded) const {
    const auto& s = data_->symbols[i];
    const auto& v = s.has_signal() ? s.*signal : s.*traded;
    return std::span<const double>(v.data(), count(i));
  }

  const MarketData* data_;
  const std::vector<size_t>* seen_;
  const std::vector<size_t>* updated_;
  const std::vector<size_t>* prediction_seen_;
  int32_t day_;
};

}  // namespace trib::trading

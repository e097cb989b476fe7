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

// One symbol's bars, ascending: daily (one per session) or intraday (several per session). Orders
// fill at the traded prices; the strategy sees the signal prices (split- or total-return-
// adjusted, so a split is no crash to an indicator).
struct SymbolSeries {
  std::string symbol;
  std::vector<int32_t> day;                    // each bar's session date, days since 1970-01-01
  std::vector<int64_t> ts;                     // each bar's open (UTC ns); empty: one bar a day
  std::vector<double> open, high, low, close;  // as traded
  std::vector<double> volume;
  // Signal prices for the same sessions; empty: the strategy sees the traded prices.
  std::vector<double> signal_open, signal_high, signal_low, signal_close, signal_volume;
  std::vector<CorporateAction> actions;                // splits and dividends (others ignored)
  std::vector<std::pair<int32_t, double>> predictions;  // (session day, score), ascending
  // A feature set's values per feature (MarketData::feature_names), one per bar; NaN: none.
  std::vector<std::vector<float>> features;

  size_t size() const { return day.size(); }
  bool has_signal() const { return !signal_close.empty(); }
  // The time that orders the bar among every symbol's: its open, or its session's midnight.
  int64_t time(size_t k) const { return ts.empty() ? int64_t{day[k]} * 86'400'000'000'000 : ts[k]; }
};

struct MarketData {
  std::vector<SymbolSeries> symbols;  // the universe, in the order strategies index it
  // The benchmark's total-return closes (buy-and-hold with dividends reinvested); optional.
  std::optional<SymbolSeries> benchmark;
  std::string signal_prices = "raw";  // what the signal columns are: raw, split, total
  std::vector<std::string> feature_names;  // the feature set the strategy sees (may be empty)

  // Error::InvalidInput naming the symbol and session when a series is not ascending, its
  // columns differ in length, or a price is not positive and finite.
  void validate() const;
  // Every session any symbol traded, ascending.
  std::vector<int32_t> sessions() const;
  // Every bar time of any symbol, ascending: the backtester's events (= sessions for daily bars).
  std::vector<int64_t> events() const;
  size_t bars() const;
};

class MarketView {
 public:
  MarketView(const MarketData& data, const std::vector<size_t>& seen, const std::vector<size_t>& updated,
             const std::vector<size_t>& prediction_seen, int32_t day, int64_t time = 0)
      : data_(&data), seen_(&seen), updated_(&updated), prediction_seen_(&prediction_seen), day_(day), time_(time) {}

  // The session of the bar just closed, and its time (the event's: its open).
  Date date() const { return Date(day_); }
  int64_t time() const { return time_; }
  size_t size() const { return data_->symbols.size(); }
  const std::string& symbol(size_t i) const { return data_->symbols[i].symbol; }
  // Bars of symbol i up to this event.
  size_t count(size_t i) const { return (*seen_)[i]; }
  // Symbols with a bar at this event, ascending.
  const std::vector<size_t>& updated() const { return *updated_; }
  // A bar of symbol i in date()'s session so far.
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
  // Feature f of symbol i (MarketData::feature_names), one value per bar up to this event; a
  // feature of session d is computed from bars up to d's close (no look-ahead).
  std::span<const float> feature(size_t i, size_t f) const {
    const auto& v = data_->symbols[i].features;
    return f < v.size() ? std::span<const float>(v[f].data(), count(i)) : std::span<const float>();
  }
  // The index of a feature by name; npos when the data has none of that name.
  size_t feature_index(const std::string& name) const {
    for (size_t f = 0; f < data_->feature_names.size(); ++f) {
      if (data_->feature_names[f] == name) return f;
    }
    return static_cast<size_t>(-1);
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
  int64_t time_;
};

}  // namespace trib::trading

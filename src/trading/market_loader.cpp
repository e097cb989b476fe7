#include "trib/trading/market_loader.hpp"

#include <algorithm>
#include <limits>
#include <map>

#include <fmt/format.h>

#include "trib/core/error.hpp"
#include "trib/features/feature_set.hpp"
#include "trib/ml/dataset.hpp"
#include "trib/ml/predict.hpp"

namespace trib::trading {

namespace {

void put_traded(SymbolSeries& s, const std::vector<lake::CuratedBar>& rows, bool intraday) {
  for (const auto& r : rows) {
    if (intraday) s.ts.push_back(r.bar.ts_ns);
    s.day.push_back(r.bar.session_date.days_since_epoch());
    s.open.push_back(r.bar.open);
    s.high.push_back(r.bar.high);
    s.low.push_back(r.bar.low);
    s.close.push_back(r.bar.close);
    s.volume.push_back(r.bar.volume);
  }
}

}  // namespace

MarketData load_market(lake::ObjectStore& store, catalog::Catalog& catalog, const MarketRequest& request) {
  if (request.symbols.empty()) throw Error::InvalidInput("backtest: the universe is empty; name symbols with --symbol or [strategy] universe");
  MarketData data;
  data.signal_prices = request.signal.adjust == AdjustMode::kRaw     ? "raw"
                       : request.signal.adjust == AdjustMode::kSplit ? "split"
                                                                     : "total";
  // The adjusted read brings the splits and dividends (a raw read does not); where there are
  // none its prices are the traded ones and one read is enough.
  etl::PriceOptions with_actions = request.signal;
  if (with_actions.adjust == AdjustMode::kRaw) with_actions.adjust = AdjustMode::kSplit;
  with_actions.actions_as_of_ns = request.as_of_ns;
  etl::PriceOptions raw = request.signal;
  raw.adjust = AdjustMode::kRaw;
  raw.actions_as_of_ns = request.as_of_ns;
  for (const Symbol& symbol : request.symbols) {
    etl::BarsQuery query;
    query.symbol = symbol;
    query.timeframe = request.timeframe;
    query.to = request.to;
    query.as_of_ns = request.as_of_ns;
    auto adjusted = etl::read_adjusted_bars(store, catalog, query, with_actions);
    SymbolSeries s;
    s.symbol = symbol.str();
    s.actions = adjusted.actions;
    if (adjusted.actions.empty()) {
      put_traded(s, adjusted.rows, request.timeframe != Timeframe::kDay1);
    } else {
      put_traded(s, etl::read_adjusted_bars(store, catalog, query, raw).rows, request.timeframe != Timeframe::kDay1);
      if (request.signal.adjust != AdjustMode::kRaw) {
        if (adjusted.rows.size() != s.size()) {
          throw Error::Internal(fmt::format("{}: {} adjusted rows for {} traded ones", s.symbol, adjusted.rows.size(), s.size()));
        }
        for (const auto& r : adjusted.rows) {
          s.signal_open.push_back(r.bar.open);
          s.signal_high.push_back(r.bar.high);
          s.signal_low.push_back(r.bar.low);
          s.signal_close.push_back(r.bar.close);
          s.signal_volume.push_back(r.bar.volume);
        }
      }
    }
    if (s.day.empty()) continue;  // nothing up to `to`: it takes no part
    data.symbols.push_back(std::move(s));
  }
  if (data.symbols.empty()) {
    throw Error::NotFound(fmt::format("no curated {} bars for the universe{}", to_string(request.timeframe),
                                      request.to ? " up to " + request.to->to_string() : ""));
  }
  if (!request.model.empty()) {
    std::vector<Symbol> symbols;
    std::map<std::string, size_t> index;
    for (size_t i = 0; i < data.symbols.size(); ++i) {
      symbols.push_back(Symbol::parse(data.symbols[i].symbol));
      index[data.symbols[i].symbol] = i;
    }
    const Date to = request.to.value_or(Date::from_ymd(2999, 12, 31));
    for (const auto& row : ml::read_predictions(store, catalog, request.model, symbols, Date::from_ymd(1900, 1, 1), to)) {
      auto it = index.find(row.symbol);
      if (it != index.end()) data.symbols[it->second].predictions.emplace_back(row.day, row.prediction);
    }
  }
  if (!request.feature_set.empty()) {
    if (request.timeframe != Timeframe::kDay1) {
      throw Error::InvalidInput("feature sets are daily: a strategy on intraday bars cannot read one");
    }
    const features::FeatureSet set = features::load_feature_set(request.feature_set, request.workspace);
    std::vector<Symbol> symbols;
    for (const auto& s : data.symbols) symbols.push_back(Symbol::parse(s.symbol));
    features::FeatureRunOptions run;
    run.prices = request.signal;
    features::write_feature_set(store, catalog, set, symbols, run);  // a no-op when current
    const ml::Dataset rows = ml::read_feature_rows(store, catalog, set, symbols, Date::from_ymd(1900, 1, 1),
                                                   request.to.value_or(Date::from_ymd(2999, 12, 31)), request.timeframe);
    data.feature_names = rows.feature_names;
    for (auto& s : data.symbols) {
      s.features.assign(rows.features(), std::vector<float>(s.size(), std::numeric_limits<float>::quiet_NaN()));
    }
    for (size_t r = 0; r < rows.rows(); ++r) {
      SymbolSeries& s = data.symbols[static_cast<size_t>(rows.symbol[r])];
      const auto it = std::lower_bound(s.day.begin(), s.day.end(), rows.day[r]);
      if (it == s.day.end() || *it != rows.day[r]) continue;  // a feature row without a bar
      const size_t k = static_cast<size_t>(it - s.day.begin());
      for (size_t f = 0; f < rows.features(); ++f) s.features[f][k] = rows.x[f][r];
    }
  }
  if (request.benchmark) {
    etl::BarsQuery query;
    query.symbol = *request.benchmark;
    query.timeframe = request.timeframe;
    query.to = request.to;
    query.as_of_ns = request.as_of_ns;
    etl::PriceOptions total = request.signal;
    total.adjust = AdjustMode::kTotal;
    total.actions_as_of_ns = request.as_of_ns;
    SymbolSeries b;
    b.symbol = request.benchmark->str();
    for (const auto& r : etl::read_adjusted_bars(store, catalog, query, total).rows) {
      b.day.push_back(r.bar.session_date.days_since_epoch());
      if (request.timeframe != Timeframe::kDay1) b.ts.push_back(r.bar.ts_ns);
      b.close.push_back(r.bar.close);
    }
    data.benchmark = std::move(b);
  }
  data.validate();
  return data;
}

}  // namespace trib::trading

// The indicator table (features/registry.hpp): every indicator runs on edge inputs without a
// crash and with the documented result (a window longer than the series is all NaN; a NaN gap
// restarts the indicator, lookback included); parameters are checked with messages that name
// them. The values themselves are checked against TA-Lib in tests/interop/indicators_talib.test.mjs.
#include <gtest/gtest.h>

#include <cmath>

#include "trib/core/error.hpp"
#include "trib/features/indicators.hpp"
#include "trib/features/registry.hpp"

using namespace trib;
using namespace trib::features;

namespace {

struct Prices {
  std::vector<double> open, high, low, close, volume;
  PriceSeries view() const { return {open, high, low, close, volume}; }
};

Prices ramp(size_t n) {
  Prices p;
  for (size_t i = 0; i < n; ++i) {
    const double c = 100 + std::sin(i * 0.7) * 5 + i * 0.1;
    p.open.push_back(c - 0.5);
    p.high.push_back(c + 1);
    p.low.push_back(c - 1);
    p.close.push_back(c);
    p.volume.push_back(1000 + i);
  }
  return p;
}

size_t first_defined(const std::vector<double>& v, size_t from = 0) {
  for (size_t i = from; i < v.size(); ++i) {
    if (std::isfinite(v[i])) return i;
  }
  return v.size();
}

}  // namespace

TEST(IndicatorRegistry, EveryIndicatorOnEmptyShortAndGappedSeries) {
  for (const auto& spec : indicator_specs()) {
    for (size_t n : {0, 1, 3}) {
      const Prices p = ramp(n);
      std::map<std::string, double> params;
      for (const auto& param : spec.params) {
        if (param.name == "timeperiod") params["timeperiod"] = 10;
      }
      const auto out = compute_indicator(spec.name, p.view(), params);
      ASSERT_EQ(out.size(), spec.outputs.size()) << spec.name;
      for (const auto& o : out) {
        ASSERT_EQ(o.size(), n) << spec.name;
        if (!params.empty()) {
          for (double v : o) EXPECT_TRUE(std::isnan(v)) << spec.name << ": a 10-period window on " << n << " bars";
        }
      }
    }
    // A gap at 40: the values after it equal those of the series that starts after it.
    Prices p = ramp(120);
    Prices tail;
    for (auto [all, part] : {std::pair{&p.open, &tail.open}, std::pair{&p.high, &tail.high}, std::pair{&p.low, &tail.low},
                             std::pair{&p.close, &tail.close}, std::pair{&p.volume, &tail.volume}}) {
      part->assign(all->begin() + 41, all->end());
      (*all)[40] = std::nan("");
    }
    const auto gapped = compute_indicator(spec.name, p.view(), {});
    const auto fresh = compute_indicator(spec.name, tail.view(), {});
    for (size_t k = 0; k < gapped.size(); ++k) {
      EXPECT_TRUE(std::isnan(gapped[k][40])) << spec.name << " at the gap";
      EXPECT_EQ(first_defined(gapped[k], 41) - 41, first_defined(fresh[k])) << spec.name << ": restarts after the gap";
      for (size_t i = 41; i < 120; ++i) {
        if (std::isnan(fresh[k][i - 41])) continue;
        EXPECT_NEAR(gapped[k][i], fresh[k][i - 41], 1e-9 * std::max(1.0, std::abs(fresh[k][i - 41]))) << spec.name << " " << i;
      }
    }
  }
}

TEST(IndicatorRegistry, NamesAndParametersAreCheckedWithMessagesThatSayWhatIsAllowed) {
  const Prices p = ramp(50);
  auto message = [&](const char* name, std::map<std::string, double> params) -> std::string {
    try {
      compute_indicator(name, p.view(), params);
    } catch (const Error& e) {
      EXPECT_EQ(e.category(), ErrorCategory::kInvalidInput);
      return e.what();
    }
    return "";
  };
  EXPECT_NE(message("SMAA", {}).find("indicator 'SMAA' is not known; the indicators are SMA, EMA"), std::string::npos);
  EXPECT_NE(message("sma", {{"period", 5}}).find("SMA has no parameter 'period'; its parameters are timeperiod"),
            std::string::npos);
  EXPECT_NE(message("SMA", {{"timeperiod", 1}}).find("SMA timeperiod: 1 is not a whole number from 2"), std::string::npos);
  EXPECT_NE(message("RSI", {{"timeperiod", 14.5}}).find("not a whole number"), std::string::npos);
  EXPECT_NE(message("OBV", {{"timeperiod", 3}}).find("its parameters are none"), std::string::npos);
  EXPECT_EQ(message("bbands", {{"timeperiod", 20}, {"nbdevup", 1.5}}), "");  // names are case-insensitive
}

// The _into forms write every row of a buffer that starts with garbage, NaN where the vector forms
// have NaN, and adx_into (its own loop) equals directional()'s ADX.
TEST(IndicatorInto, WritesEveryRowAndEqualsTheVectorForms) {
  Prices p = ramp(300);
  p.close[40] = std::nan("");  // a gap in the close, and one in all of them
  for (auto* v : {&p.high, &p.low, &p.close}) (*v)[200] = std::nan("");
  const size_t n = p.close.size();
  auto garbage = [n] { return std::vector<double>(n, 7.0); };
  auto same = [](const std::vector<double>& a, const std::vector<double>& b, const char* what) {
    ASSERT_EQ(a.size(), b.size()) << what;
    for (size_t i = 0; i < a.size(); ++i) {
      if (std::isnan(b[i])) EXPECT_TRUE(std::isnan(a[i])) << what << " row " << i;
      else EXPECT_EQ(a[i], b[i]) << what << " row " << i;
    }
  };
  auto o = garbage();
  sma_into(p.close, 10, o);
  same(o, sma(p.close, 10), "sma");
  o = garbage();
  ema_into(p.close, 10, o);
  same(o, ema(p.close, 10), "ema");
  o = garbage();
  rsi_into(p.close, 14, o);
  same(o, rsi_talib(p.close, 14), "rsi");
  o = garbage();
  atr_into(p.high, p.low, p.close, 14, o);
  same(o, atr(p.high, p.low, p.close, 14), "atr");
  auto u = garbage(), m = garbage(), l = garbage();
  bbands_into(p.close, 20, 2, 1.5, u, m, l);
  const Bands bands = bbands(p.close, 20, 2, 1.5);
  same(u, bands.upper, "upper");
  same(m, bands.middle, "middle");
  same(l, bands.lower, "lower");
  auto mm = garbage(), ms = garbage(), mh = garbage();
  macd_into(p.close, 12, 26, 9, mm, ms, mh);
  same(mh, macd(p.close, 12, 26, 9).hist, "macd");
  for (int period : {1, 2, 14}) {
    o = garbage();
    adx_into(p.high, p.low, p.close, period, o);
    same(o, directional(p.high, p.low, p.close, period).adx, "adx");
  }
  std::vector<double> short_buffer(n - 1);
  EXPECT_THROW(sma_into(p.close, 10, short_buffer), Error);
}

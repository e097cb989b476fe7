#include "trib/features/registry.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "trib/core/error.hpp"
#include "trib/features/indicators.hpp"

namespace trib::features {
namespace {

using Outputs = std::vector<std::vector<double>>;
using Params = std::vector<double>;

constexpr double kMaxPeriod = 100000;

IndicatorParam period(double default_value, double min = 1) { return {"timeperiod", default_value, min, kMaxPeriod, true}; }
IndicatorParam deviations(const char* name) { return {name, 2, -3.0e37, 3.0e37, false}; }

int as_int(double v) { return static_cast<int>(v); }

std::vector<IndicatorSpec> make_specs() {
  std::vector<IndicatorSpec> s;
  auto one = [](std::vector<double> v) { return Outputs{std::move(v)}; };
  s.push_back({"SMA", "simple moving average", {"close"}, {period(30, 2)}, {"real"},
               [=](const PriceSeries& p, const Params& a) { return one(sma(p.close, as_int(a[0]))); }});
  s.push_back({"EMA", "exponential moving average seeded with the SMA", {"close"}, {period(30, 2)}, {"real"},
               [=](const PriceSeries& p, const Params& a) { return one(ema(p.close, as_int(a[0]))); }});
  s.push_back({"WMA", "weighted moving average (weights 1..n)", {"close"}, {period(30, 2)}, {"real"},
               [=](const PriceSeries& p, const Params& a) { return one(wma(p.close, as_int(a[0]))); }});
  s.push_back({"RSI", "Wilder's relative strength index", {"close"}, {period(14, 2)}, {"real"},
               [=](const PriceSeries& p, const Params& a) { return one(rsi(p.close, as_int(a[0]))); }});
  s.push_back({"MOM", "momentum: x - x[n ago]", {"close"}, {period(10)}, {"real"},
               [=](const PriceSeries& p, const Params& a) { return one(mom(p.close, as_int(a[0]))); }});
  s.push_back({"ROC", "rate of change, percent", {"close"}, {period(10)}, {"real"},
               [=](const PriceSeries& p, const Params& a) { return one(roc(p.close, as_int(a[0]))); }});
  s.push_back({"ROCP", "rate of change, fraction", {"close"}, {period(10)}, {"real"},
               [=](const PriceSeries& p, const Params& a) { return one(rocp(p.close, as_int(a[0]))); }});
  s.push_back({"ROCR", "rate of change, ratio", {"close"}, {period(10)}, {"real"},
               [=](const PriceSeries& p, const Params& a) { return one(rocr(p.close, as_int(a[0]))); }});
  s.push_back({"TRANGE", "true range", {"high", "low", "close"}, {}, {"real"},
               [=](const PriceSeries& p, const Params&) { return one(trange(p.high, p.low, p.close)); }});
  s.push_back({"ATR", "Wilder's average true range", {"high", "low", "close"}, {period(14)}, {"real"},
               [=](const PriceSeries& p, const Params& a) { return one(atr(p.high, p.low, p.close, as_int(a[0]))); }});
  s.push_back({"NATR", "ATR as a percent of the close", {"high", "low", "close"}, {period(14)}, {"real"},
               [=](const PriceSeries& p, const Params& a) { return one(natr(p.high, p.low, p.close, as_int(a[0]))); }});
  s.push_back({"VAR", "population variance", {"close"}, {period(5), {"nbdev", 1, -3.0e37, 3.0e37, false}}, {"real"},
               [=](const PriceSeries& p, const Params& a) { return one(var(p.close, as_int(a[0]), a[1])); }});
  s.push_back({"STDDEV", "population standard deviation x nbdev", {"close"},
               {period(5, 2), {"nbdev", 1, -3.0e37, 3.0e37, false}}, {"real"},
               [=](const PriceSeries& p, const Params& a) { return one(stddev(p.close, as_int(a[0]), a[1])); }});
  s.push_back({"BBANDS", "Bollinger bands on the SMA", {"close"},
               {period(5, 2), deviations("nbdevup"), deviations("nbdevdn")}, {"upperband", "middleband", "lowerband"},
               [=](const PriceSeries& p, const Params& a) {
                 Bands b = bbands(p.close, as_int(a[0]), a[1], a[2]);
                 return Outputs{std::move(b.upper), std::move(b.middle), std::move(b.lower)};
               }});
  s.push_back({"MIDPOINT", "(highest + lowest) / 2 of the close", {"close"}, {period(14, 2)}, {"real"},
               [=](const PriceSeries& p, const Params& a) { return one(midpoint(p.close, as_int(a[0]))); }});
  s.push_back({"MIDPRICE", "(highest high + lowest low) / 2", {"high", "low"}, {period(14, 2)}, {"real"},
               [=](const PriceSeries& p, const Params& a) { return one(midprice(p.high, p.low, as_int(a[0]))); }});
  s.push_back({"WILLR", "Williams' %R", {"high", "low", "close"}, {period(14, 2)}, {"real"},
               [=](const PriceSeries& p, const Params& a) { return one(willr(p.high, p.low, p.close, as_int(a[0]))); }});
  s.push_back({"OBV", "on-balance volume", {"close", "volume"}, {}, {"real"},
               [=](const PriceSeries& p, const Params&) { return one(obv(p.close, p.volume)); }});
  s.push_back({"BOP", "balance of power", {"open", "high", "low", "close"}, {}, {"real"},
               [=](const PriceSeries& p, const Params&) { return one(bop(p.open, p.high, p.low, p.close)); }});
  s.push_back({"AD", "Chaikin accumulation/distribution line", {"high", "low", "close", "volume"}, {}, {"real"},
               [=](const PriceSeries& p, const Params&) { return one(ad(p.high, p.low, p.close, p.volume)); }});
  s.push_back({"DEMA", "double exponential moving average", {"close"}, {period(30, 2)}, {"real"},
               [=](const PriceSeries& p, const Params& a) { return one(dema(p.close, as_int(a[0]))); }});
  s.push_back({"TEMA", "triple exponential moving average", {"close"}, {period(30, 2)}, {"real"},
               [=](const PriceSeries& p, const Params& a) { return one(tema(p.close, as_int(a[0]))); }});
  s.push_back({"TRIX", "1-day percent change of a triple EMA", {"close"}, {period(30)}, {"real"},
               [=](const PriceSeries& p, const Params& a) { return one(trix(p.close, as_int(a[0]))); }});
  s.push_back({"CMO", "Chande momentum oscillator", {"close"}, {period(14, 2)}, {"real"},
               [=](const PriceSeries& p, const Params& a) { return one(cmo(p.close, as_int(a[0]))); }});
  auto fit = [=](const char* name, const char* summary, std::vector<double> LinearFit::*field) {
    return IndicatorSpec{name, summary, {"close"}, {period(14, 2)}, {"real"},
                         [=](const PriceSeries& p, const Params& a) {
                           LinearFit f = linearreg(p.close, as_int(a[0]));
                           return Outputs{std::move(f.*field)};
                         }};
  };
  s.push_back(fit("LINEARREG", "least-squares line's value today", &LinearFit::value));
  s.push_back(fit("LINEARREG_SLOPE", "least-squares line's slope per bar", &LinearFit::slope));
  s.push_back(fit("LINEARREG_INTERCEPT", "least-squares line at the window's oldest bar", &LinearFit::intercept));
  s.push_back(fit("LINEARREG_ANGLE", "least-squares line's angle, degrees", &LinearFit::angle));
  s.push_back({"TRIMA", "triangular moving average", {"close"}, {period(30, 2)}, {"real"},
               [=](const PriceSeries& p, const Params& a) { return one(trima(p.close, as_int(a[0]))); }});
  s.push_back({"CCI", "commodity channel index", {"high", "low", "close"}, {period(14, 2)}, {"real"},
               [=](const PriceSeries& p, const Params& a) { return one(cci(p.high, p.low, p.close, as_int(a[0]))); }});
  s.push_back({"AROON", "Aroon down and up", {"high", "low"}, {period(14, 2)}, {"aroondown", "aroonup"},
               [=](const PriceSeries& p, const Params& a) {
                 Aroon r = aroon(p.high, p.low, as_int(a[0]));
                 return Outputs{std::move(r.down), std::move(r.up)};
               }});
  s.push_back({"AROONOSC", "Aroon up - down", {"high", "low"}, {period(14, 2)}, {"real"},
               [=](const PriceSeries& p, const Params& a) {
                 Aroon r = aroon(p.high, p.low, as_int(a[0]));
                 for (size_t i = 0; i < r.up.size(); ++i) r.up[i] -= r.down[i];
                 return Outputs{std::move(r.up)};
               }});
  s.push_back({"MFI", "money flow index", {"high", "low", "close", "volume"}, {period(14, 2)}, {"real"},
               [=](const PriceSeries& p, const Params& a) {
                 return one(mfi(p.high, p.low, p.close, p.volume, as_int(a[0])));
               }});
  s.push_back({"CORREL", "Pearson correlation of high and low", {"high", "low"}, {period(30)}, {"real"},
               [=](const PriceSeries& p, const Params& a) { return one(correl(p.high, p.low, as_int(a[0]))); }});
  return s;
}

std::string upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

const std::vector<IndicatorSpec>& indicator_specs() {
  static const std::vector<IndicatorSpec> specs = make_specs();
  return specs;
}

const IndicatorSpec& indicator_spec(std::string_view name) {
  const std::string wanted = upper(name);
  for (const auto& spec : indicator_specs()) {
    if (spec.name == wanted) return spec;
  }
  std::vector<std::string> names;
  for (const auto& spec : indicator_specs()) names.push_back(spec.name);
  throw Error::InvalidInput(fmt::format("indicator '{}' is not known; the indicators are {}", name,
                                        fmt::join(names, ", ")));
}

std::vector<std::vector<double>> compute_indicator(std::string_view name, const PriceSeries& prices,
                                                   const std::map<std::string, double>& params) {
  const IndicatorSpec& spec = indicator_spec(name);
  for (const auto& [key, value] : params) {
    if (std::none_of(spec.params.begin(), spec.params.end(), [&](const auto& p) { return p.name == key; })) {
      std::vector<std::string> names;
      for (const auto& p : spec.params) names.push_back(p.name);
      throw Error::InvalidInput(fmt::format("{} has no parameter '{}'; its parameters are {}", spec.name, key,
                                            names.empty() ? std::string("none") : fmt::format("{}", fmt::join(names, ", "))));
    }
  }
  std::vector<double> args;
  for (const auto& p : spec.params) {
    auto it = params.find(p.name);
    const double v = it == params.end() ? p.default_value : it->second;
    if (!std::isfinite(v) || v < p.min || v > p.max || (p.integer && v != std::floor(v))) {
      throw Error::InvalidInput(fmt::format("{} {}: {} is not {} from {} to {}", spec.name, p.name, v,
                                            p.integer ? "a whole number" : "a number", p.min, p.max));
    }
    args.push_back(v);
  }
  return spec.compute(prices, args);
}

}  // namespace trib::features

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

IndicatorParam whole(const char* name, double default_value, double min = 1) {
  return {name, default_value, min, kMaxPeriod, true};
}
// A TA-Lib moving-average type number (MAType); 7 (MAMA) is refused when the indicator runs.
IndicatorParam ma_kind(const char* name) { return {name, 0, 0, 8, true}; }
IndicatorParam real(const char* name, double default_value, double min = 0, double max = 3.0e37) {
  return {name, default_value, min, max, false};
}

int as_int(double v) { return static_cast<int>(v); }
MaType as_ma(double v) { return ma_type(v); }

Outputs three(Macd m) { return Outputs{std::move(m.macd), std::move(m.signal), std::move(m.hist)}; }
Outputs two(Stoch s) { return Outputs{std::move(s.k), std::move(s.d)}; }

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
               [=](const PriceSeries& p, const Params& a) { return one(rsi_talib(p.close, as_int(a[0]))); }});
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
  auto fit = [=](const char* name, const char* summary, std::vector<double> LinearFit::*field, unsigned output) {
    return IndicatorSpec{name, summary, {"close"}, {period(14, 2)}, {"real"},
                         [=](const PriceSeries& p, const Params& a) {
                           LinearFit f = linearreg(p.close, as_int(a[0]), output);
                           return Outputs{std::move(f.*field)};
                         }};
  };
  s.push_back(fit("LINEARREG", "least-squares line's value today", &LinearFit::value, LinearFit::kValue));
  s.push_back(fit("LINEARREG_SLOPE", "least-squares line's slope per bar", &LinearFit::slope, LinearFit::kSlope));
  s.push_back(fit("LINEARREG_INTERCEPT", "least-squares line at the window's oldest bar", &LinearFit::intercept,
                  LinearFit::kIntercept));
  s.push_back(fit("LINEARREG_ANGLE", "least-squares line's angle, degrees", &LinearFit::angle, LinearFit::kAngle));
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
  s.push_back({"MA", "moving average of a TA-Lib type (matype)", {"close"}, {period(30), ma_kind("matype")}, {"real"},
               [=](const PriceSeries& p, const Params& a) { return one(moving_average(p.close, as_int(a[0]), as_ma(a[1]))); }});
  s.push_back({"KAMA", "Kaufman adaptive moving average", {"close"}, {period(30, 2)}, {"real"},
               [=](const PriceSeries& p, const Params& a) { return one(kama(p.close, as_int(a[0]))); }});
  s.push_back({"T3", "Tillson's T3 moving average", {"close"}, {period(5, 2), real("vfactor", 0.7, 0, 1)}, {"real"},
               [=](const PriceSeries& p, const Params& a) { return one(t3(p.close, as_int(a[0]), a[1])); }});
  const std::vector<std::string> macd_outputs = {"macd", "macdsignal", "macdhist"};
  s.push_back({"MACD", "moving average convergence/divergence", {"close"},
               {whole("fastperiod", 12, 2), whole("slowperiod", 26, 2), whole("signalperiod", 9)}, macd_outputs,
               [=](const PriceSeries& p, const Params& a) {
                 return three(macd(p.close, as_int(a[0]), as_int(a[1]), as_int(a[2])));
               }});
  s.push_back({"MACDFIX", "MACD 12/26 with fixed factors", {"close"}, {whole("signalperiod", 9)}, macd_outputs,
               [=](const PriceSeries& p, const Params& a) { return three(macdfix(p.close, as_int(a[0]))); }});
  s.push_back({"MACDEXT", "MACD with a moving-average type per line", {"close"},
               {whole("fastperiod", 12, 2), ma_kind("fastmatype"), whole("slowperiod", 26, 2), ma_kind("slowmatype"),
                whole("signalperiod", 9), ma_kind("signalmatype")},
               macd_outputs,
               [=](const PriceSeries& p, const Params& a) {
                 return three(macdext(p.close, as_int(a[0]), as_ma(a[1]), as_int(a[2]), as_ma(a[3]), as_int(a[4]),
                                      as_ma(a[5])));
               }});
  s.push_back({"APO", "absolute price oscillator: fast MA - slow MA", {"close"},
               {whole("fastperiod", 12, 2), whole("slowperiod", 26, 2), ma_kind("matype")}, {"real"},
               [=](const PriceSeries& p, const Params& a) {
                 return one(apo(p.close, as_int(a[0]), as_int(a[1]), as_ma(a[2])));
               }});
  s.push_back({"PPO", "percentage price oscillator", {"close"},
               {whole("fastperiod", 12, 2), whole("slowperiod", 26, 2), ma_kind("matype")}, {"real"},
               [=](const PriceSeries& p, const Params& a) {
                 return one(ppo(p.close, as_int(a[0]), as_int(a[1]), as_ma(a[2])));
               }});
  s.push_back({"STOCH", "slow stochastic %K and %D", {"high", "low", "close"},
               {whole("fastk_period", 5), whole("slowk_period", 3), ma_kind("slowk_matype"), whole("slowd_period", 3),
                ma_kind("slowd_matype")},
               {"slowk", "slowd"},
               [=](const PriceSeries& p, const Params& a) {
                 return two(stoch(p.high, p.low, p.close, as_int(a[0]), as_int(a[1]), as_ma(a[2]), as_int(a[3]),
                                  as_ma(a[4])));
               }});
  s.push_back({"STOCHF", "fast stochastic %K and %D", {"high", "low", "close"},
               {whole("fastk_period", 5), whole("fastd_period", 3), ma_kind("fastd_matype")}, {"fastk", "fastd"},
               [=](const PriceSeries& p, const Params& a) {
                 return two(stochf(p.high, p.low, p.close, as_int(a[0]), as_int(a[1]), as_ma(a[2])));
               }});
  s.push_back({"STOCHRSI", "fast stochastic of the RSI", {"close"},
               {period(14, 2), whole("fastk_period", 5), whole("fastd_period", 3), ma_kind("fastd_matype")},
               {"fastk", "fastd"},
               [=](const PriceSeries& p, const Params& a) {
                 return two(stochrsi(p.close, as_int(a[0]), as_int(a[1]), as_int(a[2]), as_ma(a[3])));
               }});
  auto dm = [=](const char* name, const char* summary, std::vector<std::string> inputs, double min,
                std::vector<double> Directional::*field, unsigned output) {
    return IndicatorSpec{name, summary, inputs, {period(14, min)}, {"real"},
                         [=](const PriceSeries& p, const Params& a) {
                           // DM reads only highs and lows; the high stands in for the close its TR ignores.
                           const bool needs_close = inputs.size() == 3;
                           Directional d = directional(p.high, p.low, needs_close ? p.close : p.high, as_int(a[0]), output);
                           return Outputs{std::move(d.*field)};
                         }};
  };
  s.push_back(dm("PLUS_DM", "Wilder-smoothed plus directional movement", {"high", "low"}, 1, &Directional::plus_dm,
                 Directional::kPlusDm));
  s.push_back(dm("MINUS_DM", "Wilder-smoothed minus directional movement", {"high", "low"}, 1, &Directional::minus_dm,
                 Directional::kMinusDm));
  s.push_back(dm("PLUS_DI", "plus directional indicator", {"high", "low", "close"}, 2, &Directional::plus_di,
                 Directional::kPlusDi));
  s.push_back(dm("MINUS_DI", "minus directional indicator", {"high", "low", "close"}, 2, &Directional::minus_di,
                 Directional::kMinusDi));
  s.push_back(dm("DX", "directional movement index", {"high", "low", "close"}, 2, &Directional::dx,
                 Directional::kDx));
  s.push_back(dm("ADX", "average directional movement index", {"high", "low", "close"}, 2, &Directional::adx,
                 Directional::kAdx));
  s.push_back({"ADXR", "ADX rating: (ADX + ADX period-1 bars ago) / 2", {"high", "low", "close"}, {period(14, 2)},
               {"real"},
               [=](const PriceSeries& p, const Params& a) { return one(adxr(p.high, p.low, p.close, as_int(a[0]))); }});
  s.push_back({"ADOSC", "Chaikin A/D oscillator", {"high", "low", "close", "volume"},
               {whole("fastperiod", 3, 2), whole("slowperiod", 10, 2)}, {"real"},
               [=](const PriceSeries& p, const Params& a) {
                 return one(adosc(p.high, p.low, p.close, p.volume, as_int(a[0]), as_int(a[1])));
               }});
  s.push_back({"ULTOSC", "ultimate oscillator", {"high", "low", "close"},
               {whole("timeperiod1", 7), whole("timeperiod2", 14), whole("timeperiod3", 28)}, {"real"},
               [=](const PriceSeries& p, const Params& a) {
                 return one(ultosc(p.high, p.low, p.close, as_int(a[0]), as_int(a[1]), as_int(a[2])));
               }});
  s.push_back({"BETA", "beta of the second series' returns on the first's", {"high", "low"}, {period(5)}, {"real"},
               [=](const PriceSeries& p, const Params& a) { return one(beta(p.high, p.low, as_int(a[0]))); }});
  s.push_back({"SAR", "Wilder's parabolic stop and reverse", {"high", "low"},
               {real("acceleration", 0.02), real("maximum", 0.2)}, {"real"},
               [=](const PriceSeries& p, const Params& a) { return one(sar(p.high, p.low, a[0], a[1])); }});
  return s;
}

std::string upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

bool IndicatorParam::accepts(double v) const {
  return std::isfinite(v) && v >= min && v <= max && (!integer || v == std::floor(v));
}

std::string IndicatorParam::allowed() const {
  return fmt::format("{} from {} to {}", integer ? "a whole number" : "a number", min, max);
}

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
  for (const auto& entry : params) {
    const std::string& key = entry.first;  // a plain reference: older clang cannot capture a binding
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
    if (!p.accepts(v)) throw Error::InvalidInput(fmt::format("{} {}: {} is not {}", spec.name, p.name, v, p.allowed()));
    args.push_back(v);
  }
  return spec.compute(prices, args);
}

}  // namespace trib::features

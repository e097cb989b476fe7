// The indicators by name, as TA-Lib names them (SMA, BBANDS, ATR, ...): their price inputs, their
// parameters (Python TA-Lib's names: timeperiod, nbdevup, ...) with defaults and bounds, and their
// outputs (real, upperband, ...). One table serves `trib indicator`, the expression language and
// the data-driven tests against TA-Lib (tests/features/talib_cases.json): adding an indicator is a
// row here, and a case there.
#pragma once

#include <functional>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace trib::features {

// A symbol's price series, aligned (NaN marks a missing value).
struct PriceSeries {
  std::span<const double> open, high, low, close, volume;
};

struct IndicatorParam {
  std::string name;      // "timeperiod"
  double default_value;  // TA-Lib's default
  double min, max;       // accepted range, inclusive
  bool integer;          // a whole number (periods)

  bool accepts(double v) const;
  std::string allowed() const;  // "a whole number from 2 to 100000", for messages
};

struct IndicatorSpec {
  std::string name;                  // "BBANDS"
  std::string summary;               // one line for --help and errors
  std::vector<std::string> inputs;   // of "open", "high", "low", "close", "volume"
  std::vector<IndicatorParam> params;
  std::vector<std::string> outputs;  // "real", or "upperband", "middleband", "lowerband"
  std::function<std::vector<std::vector<double>>(const PriceSeries&, const std::vector<double>&)> compute;
};

// Every indicator, by name.
const std::vector<IndicatorSpec>& indicator_specs();
// The indicator called `name` (case-insensitive); Error::InvalidInput listing the known ones.
const IndicatorSpec& indicator_spec(std::string_view name);

// Runs `name` with `params` (missing ones take their defaults); Error::InvalidInput naming an
// unknown parameter, one out of range or not whole where it must be. One vector per output.
std::vector<std::vector<double>> compute_indicator(std::string_view name, const PriceSeries& prices,
                                                   const std::map<std::string, double>& params);

}  // namespace trib::features

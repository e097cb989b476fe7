// Lean's daily sample bars for the tests: the converted raw (as traded) CSV in ../shared/data.
#pragma once

#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "trib/core/bar.hpp"
#include "test_util.hpp"

namespace trib::testing {

inline std::filesystem::path lean_daily_dir() {
  return shared_data() / "equities-daily/lean-us-equity-daily";
}

// symbol -> raw daily bars (ts = midnight UTC of the session), from
// lean_us_equity_daily_raw_unadjusted.csv (symbol,date,open,high,low,close,volume); only
// `symbol`'s when one is named.
inline std::map<std::string, std::vector<Bar>> lean_raw_daily_all(const std::string& symbol = "") {
  std::map<std::string, std::vector<Bar>> out;
  std::istringstream in(slurp(lean_daily_dir() / "lean_us_equity_daily_raw_unadjusted.csv"));
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    if (!symbol.empty() && !line.starts_with(symbol + ",")) continue;
    std::vector<std::string> f;
    std::stringstream ls(line);
    std::string cell;
    while (std::getline(ls, cell, ',')) f.push_back(cell);
    if (f.size() != 7) continue;
    Bar b;
    b.session_date = Date::parse(f[1]);
    b.ts_ns = to_ts_ns(b.session_date);
    b.open = std::stod(f[2]), b.high = std::stod(f[3]), b.low = std::stod(f[4]), b.close = std::stod(f[5]);
    b.volume = std::stod(f[6]);
    out[f[0]].push_back(b);
  }
  return out;
}

inline std::vector<Bar> lean_raw_daily(const std::string& symbol) {
  auto all = lean_raw_daily_all(symbol);
  return all.empty() ? std::vector<Bar>{} : std::move(all.begin()->second);
}

}  // namespace trib::testing

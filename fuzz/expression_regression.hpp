// What the expression fuzzer checks, shared with tests/features/fuzz_regressions_test.cpp, which
// replays every input it ever kept: compile (any error a trib::Error), then evaluate.
#pragma once

#include <cmath>
#include <string>
#include <vector>

#include "trib/core/error.hpp"
#include "trib/features/expression.hpp"

namespace trib::features::expr {

inline const std::vector<SeriesInput>& fuzz_universe() {
  static const std::vector<SeriesInput> symbols = [] {
    std::vector<SeriesInput> out;
    for (int s = 0; s < 3; ++s) {
      SeriesInput in;
      in.symbol = "S" + std::to_string(s);
      for (int i = 0; i < 40 - 10 * s; ++i) {
        const double c = 100 + 10 * std::sin(i * 0.5 + s) + (i % 3 == 0 ? 0.0 : 0.25);
        in.dates.push_back(Date(19000 + i + 3 * s));
        in.open.push_back(c - 0.5);
        in.high.push_back(c + 1);
        in.low.push_back(c - 1);
        in.close.push_back(i == 17 ? std::nan("") : c);  // a gap
        in.volume.push_back(i % 5 == 0 ? 0.0 : 1000.0 * i);  // zero volumes too
        in.vwap.push_back(s == 1 ? std::nan("") : c);
      }
      out.push_back(std::move(in));
    }
    return out;
  }();
  return symbols;
}

// Throws only what the fuzzer should report (not trib::Error).
inline void check_formula(const std::string& text) {
  Program program;
  try {
    program = Program::compile({{"F", text}}, Purpose::kLabel);
  } catch (const Error&) {
    return;  // refused with a message: fine
  }
  try {
    (void)evaluate(program, fuzz_universe(), 1);
  } catch (const Error&) {
    // e.g. an indicator refusing a parameter combination at run time
  }
}

}  // namespace trib::features::expr

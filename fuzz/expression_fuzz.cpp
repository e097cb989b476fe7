// Fuzzes the feature expression language (src/features/expression_*.cpp): any bytes as a formula
// must compile or fail with trib::Error (labels' rules, so the future is allowed too); a formula
// that compiles must evaluate on three short symbols, with gaps and unequal dates, without a crash.
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "expression_regression.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  trib::features::expr::check_formula(std::string(reinterpret_cast<const char*>(data), size));
  return 0;
}

// Every formula the expression fuzzer ever kept (scripts/fuzz-vendors 60 expressions keeps them
// under tests/features/fuzz_regressions/) must compile or fail with a trib::Error, and evaluate.
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "../../fuzz/expression_regression.hpp"

TEST(FuzzRegressions, EveryKeptFormulaCompilesOrFailsCleanly) {
  const std::filesystem::path root = std::filesystem::path(TRIB_SOURCE_DIR) / "tests/features/fuzz_regressions";
  if (!std::filesystem::exists(root)) GTEST_SKIP() << "no regressions kept";
  int inputs = 0;
  for (const auto& file : std::filesystem::directory_iterator(root)) {
    std::ifstream in(file.path(), std::ios::binary);
    std::stringstream bytes;
    bytes << in.rdbuf();
    SCOPED_TRACE(file.path().string());
    trib::features::expr::check_formula(bytes.str());
    ++inputs;
  }
  RecordProperty("inputs", inputs);
}

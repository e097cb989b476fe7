// Every input a vendor-parser fuzzer ever found (scripts/fuzz-vendors keeps them under
// tests/providers/fuzz_regressions/<vendor>/) must parse to a result or throw trib::Error.
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "trib/core/error.hpp"
#include "trib/providers/provider.hpp"

namespace trib::providers {
namespace {

TEST(FuzzRegressions, EveryKeptInputParsesOrFailsCleanly) {
  const std::filesystem::path root =
      std::filesystem::path(TRIB_SOURCE_DIR) / "tests/providers/fuzz_regressions";
  if (!std::filesystem::exists(root)) GTEST_SKIP() << "no regressions kept";
  int inputs = 0;
  for (const auto& vendor_dir : std::filesystem::directory_iterator(root)) {
    if (!vendor_dir.is_directory()) continue;
    const std::string vendor = vendor_dir.path().filename().string();
    auto provider = make_provider(vendor);
    for (const auto& file : std::filesystem::directory_iterator(vendor_dir.path())) {
      std::ifstream in(file.path(), std::ios::binary);
      std::stringstream bytes;
      bytes << in.rdbuf();
      ParseContext context;
      context.symbol = Symbol::parse("AAPL");
      SCOPED_TRACE(file.path().string());
      try {
        (void)provider->parse(bytes.str(), context);
      } catch (const Error&) {
        // A clean refusal is fine; anything else (a crash, a std:: exception) is not.
      }
      ++inputs;
    }
  }
  RecordProperty("inputs", inputs);
}

}  // namespace
}  // namespace trib::providers

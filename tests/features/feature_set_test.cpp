// Feature sets as TOML (features/feature_set.hpp): the shipped sets compile, keep their file
// order and version by their text; a bad file gets an error that names the problem and the fix.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "trib/core/error.hpp"
#include "trib/features/feature_set.hpp"

using namespace trib;
using namespace trib::features;
namespace fs = std::filesystem;

namespace {

std::string error_of(const std::string& text) {
  try {
    parse_feature_set("mine", text, "mine.toml");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(FeatureSets, ShippedSetsCompileInFileOrder) {
  EXPECT_EQ(builtin_feature_sets(), (std::vector<std::string>{"alpha158", "basic"}));
  const FeatureSet alpha = load_feature_set("alpha158", "/nonexistent");
  ASSERT_EQ(alpha.features.size(), 158u);
  EXPECT_EQ(alpha.features.front().first, "KMID");
  EXPECT_EQ(alpha.features[9].first, "OPEN0");
  EXPECT_EQ(alpha.features.back().first, "VSUMD60");
  EXPECT_EQ(alpha.source, "built-in alpha158");
  EXPECT_EQ(alpha.hash.size(), 64u);
  const FeatureSet basic = load_feature_set("basic", "/nonexistent");
  EXPECT_EQ(basic.features.front(), (std::pair<std::string, std::string>{"sma_20", "SMA($close, 20)"}));
}

TEST(FeatureSets, TheVersionIsTheText) {
  const FeatureSet a = parse_feature_set("s", "[features]\nA = \"Mean($close, 5)\"\n", "s.toml");
  const FeatureSet b = parse_feature_set("s", "[features]\nA = \"Mean($close, 6)\"\n", "s.toml");
  EXPECT_NE(a.hash, b.hash);
  EXPECT_EQ(a.hash, parse_feature_set("s", a.text, "other.toml").hash);
}

TEST(FeatureSets, WorkspaceSetsAndPaths) {
  const fs::path dir = fs::temp_directory_path() / ("trib_sets_" + std::to_string(::getpid()));
  fs::create_directories(dir / "feature_sets");
  std::ofstream(dir / "feature_sets" / "mine.toml") << "[features]\nZ = \"$close\"\nA = \"$open\"\n";
  const FeatureSet mine = load_feature_set("mine", dir);
  ASSERT_EQ(mine.features.size(), 2u);
  EXPECT_EQ(mine.features[0].first, "Z");  // file order, not alphabetical
  EXPECT_EQ(load_feature_set((dir / "feature_sets" / "mine.toml").string(), "/elsewhere").name, "mine");
  try {
    load_feature_set("nosuch", dir);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::kNotFound);
    EXPECT_NE(std::string(e.what()).find("alpha158, basic, mine"), std::string::npos) << e.what();
  }
  fs::remove_all(dir);
}

TEST(FeatureSets, BadFilesSayWhatAndWhere) {
  EXPECT_NE(error_of("[features\nA = 1").find("not valid TOML at line 1"), std::string::npos) << error_of("[features\nA = 1");
  EXPECT_NE(error_of("A = \"$close\"").find("no [features] table"), std::string::npos);
  EXPECT_NE(error_of("[features]\nA = 5").find("feature A at line 2 must be a string formula"), std::string::npos);
  EXPECT_NE(error_of("[features]\n\"2x\" = \"$close\"").find("'2x' must be letters"), std::string::npos);
  EXPECT_NE(error_of("[features]\nclose = \"$close\"").find("taken by a column"), std::string::npos);
  EXPECT_NE(error_of("[features]\nA = \"Mean($close, 0)\"").find("mine.toml: A: window must be >= 1 at column 14"),
            std::string::npos)
      << error_of("[features]\nA = \"Mean($close, 0)\"");
  EXPECT_NE(error_of("[features]\nL = \"Ref($close, -1)\"").find("into the future"), std::string::npos);
}

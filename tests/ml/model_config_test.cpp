// model.toml: strict parsing with errors that name the key, and a canonical text that reads
// back to the same config (the model id hashes it).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "trib/core/error.hpp"
#include "trib/ml/model_config.hpp"

namespace trib::ml {
namespace {

using ::testing::HasSubstr;

std::string error_of(const std::string& text) {
  try {
    ModelConfig::parse(text, "m.toml");
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::kInvalidInput) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "parsed: " << text;
  return "";
}

TEST(ModelConfig, DefaultsAndCanonicalTextReadBackEqual) {
  const auto c = ModelConfig::parse(R"(
name = "m1"
[dataset]
universe = ["AAPL", "MSFT"]
from = 2014-01-02
to = "2017-12-29"
[split]
window = "rolling"
embargo = 2
[model]
kind = "xgboost"
seed = 7
[model.params]
max_depth = 4
eta = 0.1
num_boost_round = 200
)");
  EXPECT_EQ(c.feature_set, "alpha158");
  EXPECT_EQ(c.label, "Ref($close, -5) / $close - 1");
  EXPECT_EQ(c.split.window, WindowKind::kRolling);
  EXPECT_EQ(c.from->to_string(), "2014-01-02");
  EXPECT_EQ(c.params["max_depth"], 4);
  const auto again = ModelConfig::parse(c.to_toml());
  EXPECT_EQ(again.to_toml(), c.to_toml());
  EXPECT_EQ(again.params, c.params);
  EXPECT_THAT(c.to_toml(), HasSubstr("eta = 0.1\n"));
}

TEST(ModelConfig, MistakesNameTheKey) {
  EXPECT_THAT(error_of("name = \"m\"\n[split]\ntrian = 5\n"), HasSubstr("split.trian is not a known key"));
  EXPECT_THAT(error_of("name = \"m\"\n[split]\ntrain = 0\n"), HasSubstr("split.train is 0"));
  EXPECT_THAT(error_of("name = \"m\"\n[preprocess]\nfeatures = \"zscore\"\n"), HasSubstr("cs_zscore, cs_rank"));
  EXPECT_THAT(error_of("name = \"m\"\n[model]\nkind = \"forest\"\n"), HasSubstr("the kinds are ridge, xgboost"));
  EXPECT_THAT(error_of("name = \"m\"\n[model.params]\nn_estimators = 5\n"), HasSubstr("'n_estimators'"));
  EXPECT_THAT(error_of("name = \"m\"\n[model]\nkind = \"ridge\"\n[preprocess]\nmissing = \"keep\"\n"),
              HasSubstr("ridge cannot take missing inputs"));
  EXPECT_THAT(error_of("name = \"bad name\"\n"), HasSubstr("name must be"));
  EXPECT_THAT(error_of("[dataset]\n"), HasSubstr("name must be"));
  EXPECT_THAT(error_of("name = \"m\"\n[dataset]\nfrom = \"2018-01-01\"\nto = \"2017-01-01\"\n"),
              HasSubstr("after dataset.to"));
  EXPECT_THAT(error_of("name = \"m\"\n[dataset\n"), HasSubstr("m.toml:2"));
}

// Table headers that do not start with a key (found by scripts/fuzz-model-config; the header-only
// toml++ 3.3.0 asserts on them): an error naming the place, like any other syntax error.
TEST(ModelConfig, MalformedTableHeadersAreSyntaxErrors) {
  for (const char* text : {"name = \"r\"\n[= \"fill\"\n", "[&\n", "[[[1]]]\n", "[[=\n"}) {
    EXPECT_THAT(error_of(text), HasSubstr("m.toml:")) << text;
  }
}

// Parameters of the wrong type are refused by name (found by scripts/fuzz-model-config: `alphas = 6`
// escaped as a JSON library exception, an internal error to the CLI).
TEST(ModelConfig, ParametersOfTheWrongTypeNameTheKey) {
  const std::string ridge = "name = \"m\"\n[model]\nkind = \"ridge\"\n[model.params]\n";
  EXPECT_THAT(error_of(ridge + "alphas = 6\n"), HasSubstr("alphas must be a list of numbers, not 6"));
  EXPECT_THAT(error_of(ridge + "alpha = \"big\"\n"), HasSubstr("alpha must be a number"));
  EXPECT_THAT(error_of(ridge + "select_by = 1\n"), HasSubstr("select_by must be a string"));
  const std::string xgb = "name = \"m\"\n[model]\nkind = \"xgboost\"\n[model.params]\n";
  EXPECT_THAT(error_of(xgb + "num_boost_round = 1e30\n"), HasSubstr("num_boost_round must be an integer"));
  EXPECT_THAT(error_of(xgb + "num_boost_round = 9999999999\n"), HasSubstr("num_boost_round must be an integer"));
  EXPECT_THAT(error_of(xgb + "early_stopping_rounds = 2.5\n"), HasSubstr("early_stopping_rounds must be an integer"));
  EXPECT_THAT(error_of(xgb + "objective = 3\n"), HasSubstr("objective must be a string"));
}

}  // namespace
}  // namespace trib::ml

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

}  // namespace
}  // namespace trib::ml

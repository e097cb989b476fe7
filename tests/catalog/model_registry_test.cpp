// The model registry (trib ml train records what it trained), on both backends: a model id is
// registered once, read back field for field, listed newest first.
#include <gtest/gtest.h>

#include "catalog_fixture.hpp"

namespace trib::catalog {
namespace {

INSTANTIATE_TEST_SUITE_P(Backends, ModelRegistryTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres), backend_name);

ModelRecord model(const std::string& id, int64_t created) {
  ModelRecord m;
  m.id = id;
  m.name = "alpha158-xgb";
  m.kind = "xgboost";
  m.feature_set = "alpha158";
  m.feature_set_hash = std::string(64, 'a');
  m.label = "Ref($close, -5) / $close - 1";
  m.dataset_hash = std::string(64, 'b');
  m.config_toml = "name = \"alpha158-xgb\"\n[model]\nkind = \"xgboost\"\n";
  m.code_version = "0.1.0";
  m.artefacts = "models/" + id + "/";
  m.metrics_json = R"({"test":{"ic_mean":0.0123456789012345,"icir":0.5}})";
  m.importance_json = R"({"KMID":12.5,"ROC5":0.25})";
  m.from_day = 15'742;
  m.to_day = 17'569;
  m.splits = 12;
  m.created_at_ns = created;
  return m;
}

TEST_P(ModelRegistryTest, AModelIsRecordedOnceAndReadBackExactly) {
  const ModelRecord m = model("alpha158-xgb-0123456789ab", 1'700'000'000'000'000'000);
  EXPECT_TRUE(catalog_->record_model(m));
  ModelRecord changed = m;
  changed.metrics_json = "{}";
  EXPECT_FALSE(catalog_->record_model(changed));  // the id is taken: nothing changes
  const auto got = catalog_->get_model(m.id);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(*got, m);
  EXPECT_FALSE(catalog_->get_model("no-such-model").has_value());
}

TEST_P(ModelRegistryTest, ListsNewestFirst) {
  EXPECT_TRUE(catalog_->list_models().empty());
  catalog_->record_model(model("m-old", 100));
  catalog_->record_model(model("m-new", 300));
  catalog_->record_model(model("m-mid", 200));
  const auto all = catalog_->list_models();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].id, "m-new");
  EXPECT_EQ(all[1].id, "m-mid");
  EXPECT_EQ(all[2].id, "m-old");
}

TEST_P(ModelRegistryTest, AnEmptyIdIsRefused) {
  EXPECT_EQ(testing::category_of([&] { catalog_->record_model(model("", 1)); }),
            ErrorCategory::kInvalidInput);
}

}  // namespace
}  // namespace trib::catalog

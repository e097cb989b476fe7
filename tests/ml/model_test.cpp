// The models through the Model interface: ridge against its closed form, XGBoost repeatable with
// a seed and stopped early on noise, both saved and loaded back to the same predictions; and the
// honesty checks of walk-forward evaluation: a leaked label fits in sample and tells nothing out
// of sample, a random label scores an IC indistinguishable from zero.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "ml_fixture.hpp"
#include "trib/core/error.hpp"
#include "trib/ml/metrics.hpp"
#include "trib/ml/model.hpp"
#include "trib/ml/preprocess.hpp"
#include "trib/ml/splits.hpp"

namespace trib::ml {
namespace {

using nlohmann::json;

Matrix random_matrix(size_t rows, size_t cols, std::mt19937_64& rng) {
  std::normal_distribution<float> n(0, 1);
  Matrix m;
  m.rows = rows;
  m.cols = cols;
  for (size_t i = 0; i < rows * cols; ++i) m.values.push_back(n(rng));
  return m;
}

TEST(Ridge, EqualsTheClosedFormAndRoundTrips) {
  std::mt19937_64 rng(7);
  const Matrix x = random_matrix(500, 3, rng);
  std::vector<double> y;
  auto at = [&](size_t r, size_t c) { return static_cast<double>(x.at(r, c)); };
  for (size_t r = 0; r < x.rows; ++r) y.push_back(1.5 + 2 * at(r, 0) - 3 * at(r, 1) + 0.5 * at(r, 2));
  auto model = make_model("ridge", {{"alpha", 0.0}}, {"a", "b", "c"}, 0);
  model->fit({&x, y, {}}, {});
  const auto p = model->predict(x);
  for (size_t r = 0; r < x.rows; ++r) ASSERT_NEAR(p[r], y[r], 1e-9);
  const json saved = json::parse(model->save());
  EXPECT_NEAR(saved["intercept"].get<double>(), 1.5, 1e-9);
  EXPECT_NEAR(saved["coef"][1].get<double>(), -3, 1e-9);
  const auto back = load_model("ridge", model->save(), {"a", "b", "c"});
  EXPECT_EQ(back->predict(x), p);
  // A large alpha shrinks the coefficients toward zero.
  auto shrunk = make_model("ridge", {{"alpha", 1e6}}, {"a", "b", "c"}, 0);
  shrunk->fit({&x, y, {}}, {});
  EXPECT_LT(std::abs(json::parse(shrunk->save())["coef"][1].get<double>()), 0.01);
}

TEST(Ridge, ChoosesAlphaOnTheValidationWindow) {
  std::mt19937_64 rng(8);
  // Many noise inputs, one that matters: a small validation set prefers more shrinkage than none.
  const Matrix train = random_matrix(60, 40, rng), valid = random_matrix(400, 40, rng);
  std::normal_distribution<double> noise(0, 1);
  std::vector<double> ty, vy;
  for (size_t r = 0; r < train.rows; ++r) ty.push_back(train.at(r, 0) + 2 * noise(rng));
  for (size_t r = 0; r < valid.rows; ++r) vy.push_back(valid.at(r, 0) + 2 * noise(rng));
  const std::vector<uint32_t> groups(4, 100);
  auto model = make_model("ridge", {{"alphas", {0.0, 10.0, 100.0}}, {"select_by", "mse"}}, {}, 0);
  const json report = model->fit({&train, ty, {}}, {&valid, vy, groups});
  EXPECT_GT(report["alpha"].get<double>(), 0.0);
  EXPECT_EQ(report["alphas"].size(), 3u);
}

TEST(Ridge, RefusesMissingInputsAndUnknownParameters) {
  Matrix x;
  x.rows = 2;
  x.cols = 1;
  x.values = {1.0f, NAN};
  const std::vector<double> y = {1, 2};
  auto model = make_model("ridge", json::object(), {"a"}, 0);
  try {
    model->fit({&x, y, {}}, {});
    FAIL();
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("missing = \"fill\""));
  }
  EXPECT_THROW(make_model("ridge", {{"lambda", 1}}, {}, 0), Error);
  EXPECT_THROW(make_model("forest", json::object(), {}, 0), Error);
}

TEST(Xgboost, RepeatableWithASeedAndTheSameAfterLoading) {
  std::mt19937_64 rng(9);
  const Matrix x = random_matrix(2000, 5, rng), v = random_matrix(500, 5, rng);
  std::vector<double> y, vy;
  for (size_t r = 0; r < x.rows; ++r) y.push_back(std::sin(x.at(r, 0)) + 0.5 * x.at(r, 1) * x.at(r, 2));
  for (size_t r = 0; r < v.rows; ++r) vy.push_back(std::sin(v.at(r, 0)) + 0.5 * v.at(r, 1) * v.at(r, 2));
  const json params = {{"num_boost_round", 60}, {"early_stopping_rounds", 10}, {"nthread", 2}};
  const std::vector<std::string> names = {"a", "b", "c", "d", "e"};
  auto one = make_model("xgboost", params, names, 42);
  auto two = make_model("xgboost", params, names, 42);
  const json r1 = one->fit({&x, y, {}}, {&v, vy, {}});
  two->fit({&x, y, {}}, {&v, vy, {}});
  EXPECT_EQ(one->predict(v), two->predict(v));
  EXPECT_EQ(one->save(), two->save());
  EXPECT_LE(r1["rounds"].get<int>(), 60);
  const auto back = load_model("xgboost", one->save(), names);
  EXPECT_EQ(back->predict(v), one->predict(v));
  // The inputs that matter carry the gain; the noise inputs d and e next to none.
  const auto importance = one->importance();
  ASSERT_EQ(importance.size(), 5u);
  EXPECT_GT(importance[0], importance[3]);
  EXPECT_GT(importance[1], importance[4]);
  // A different seed samples differently.
  auto other = make_model("xgboost", params, names, 43);
  other->fit({&x, y, {}}, {&v, vy, {}});
  EXPECT_NE(other->predict(v), one->predict(v));
}

TEST(Xgboost, StopsEarlyOnNoiseAndRanksByDate) {
  std::mt19937_64 rng(10);
  const Matrix x = random_matrix(1000, 4, rng), v = random_matrix(400, 4, rng);
  std::normal_distribution<double> noise(0, 1);
  std::vector<double> y, vy;
  for (size_t r = 0; r < x.rows; ++r) y.push_back(noise(rng));
  for (size_t r = 0; r < v.rows; ++r) vy.push_back(noise(rng));
  auto model = make_model("xgboost", {{"num_boost_round", 500}, {"early_stopping_rounds", 5}}, {}, 1);
  const json report = model->fit({&x, y, {}}, {&v, vy, {}});
  EXPECT_LT(report["rounds"].get<int>(), 100);
  EXPECT_EQ(report["rounds_tried"].get<int>(), report["rounds"].get<int>() + 5);
  const std::vector<uint32_t> groups(10, 100), vgroups(4, 100);
  auto ranker = make_model("xgboost", {{"objective", "rank:pairwise"}, {"num_boost_round", 20}}, {}, 1);
  const json ranked = ranker->fit({&x, y, groups}, {&v, vy, vgroups});
  EXPECT_EQ(ranked["eval_metric"], "ndcg");
  EXPECT_THROW(make_model("xgboost", {{"n_estimators", 5}}, {}, 0), Error);
}

// One walk-forward evaluation of `kind` on `data`: (train IC, test metrics).
std::pair<double, MetricsSummary> evaluate(const Dataset& data, const std::string& kind, const json& params,
                                           bool hide_leak_in_test) {
  SplitConfig c;
  c.train = 150;
  c.valid = 50;
  c.test = 50;
  PreprocessConfig pc;
  std::vector<int32_t> day, symbol;
  std::vector<double> pred, label, train_ic;
  for (const Split& s : walk_forward_splits(data, c)) {
    Dataset view = data;
    if (hide_leak_in_test) {  // the leaked column is the future: at test time nobody knows it
      for (size_t r : s.test_rows) view.x[0][r] = NAN;
    }
    const auto fitted = fit_preprocess(view, s.train_rows, pc);
    const auto train = prepare(view, s.train_rows, fitted, true);
    const auto valid = prepare(view, s.valid_rows, fitted, true);
    const auto test = prepare(view, s.test_rows, fitted, false);
    auto model = make_model(kind, params, view.feature_names, 3);
    model->fit({&train.x, train.target, train.group_sizes}, {&valid.x, valid.target, valid.group_sizes});
    std::vector<double> in_sample_label;
    for (size_t r : train.rows) in_sample_label.push_back(view.y[r]);
    train_ic.push_back(pearson(model->predict(train.x), in_sample_label));
    const auto p = model->predict(test.x);
    for (size_t i = 0; i < test.rows.size(); ++i) {
      day.push_back(view.day[test.rows[i]]);
      symbol.push_back(view.symbol[test.rows[i]]);
      pred.push_back(p[i]);
      label.push_back(view.y[test.rows[i]]);
    }
  }
  double mean = 0;
  for (double ic : train_ic) mean += ic / static_cast<double>(train_ic.size());
  return {mean, summarize(metrics_by_date(day, symbol, pred, label))};
}

Dataset noise_dataset(uint64_t seed) {
  Dataset d = testing::grid(600, 40, 4, 5);
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> n(0, 1);
  for (auto& col : d.x) {
    for (auto& v : col) v = static_cast<float>(n(rng));
  }
  for (auto& y : d.y) {
    if (std::isfinite(y)) y = n(rng);
  }
  return d;
}

TEST(Honesty, ALeakedLabelFitsInSampleAndTellsNothingOutOfSample) {
  Dataset d = noise_dataset(11);
  for (size_t r = 0; r < d.rows(); ++r) d.x[0][r] = std::isfinite(d.y[r]) ? static_cast<float>(d.y[r]) : NAN;
  const auto [train_ic, test] = evaluate(d, "xgboost", {{"num_boost_round", 50}, {"nthread", 2}}, true);
  EXPECT_GT(train_ic, 0.95) << "the leaked column should fit almost perfectly in sample";
  // Out of sample: mean IC within 3 standard errors of zero.
  EXPECT_LT(std::abs(test.ic_mean), 3 * test.ic_std / std::sqrt(static_cast<double>(test.dates)))
      << "IC " << test.ic_mean << " over " << test.dates << " dates";
}

TEST(Honesty, ARandomLabelScoresNoBetterThanChance) {
  for (const char* kind : {"ridge", "xgboost"}) {
    const Dataset d = noise_dataset(12);
    const json params = std::string(kind) == "xgboost" ? json{{"num_boost_round", 30}, {"nthread", 2}} : json::object();
    const auto [train_ic, test] = evaluate(d, kind, params, false);
    EXPECT_GT(test.dates, 350u);
    EXPECT_LT(std::abs(test.ic_mean), 3 * test.ic_std / std::sqrt(static_cast<double>(test.dates))) << kind;
    EXPECT_LT(std::abs(test.rank_ic_mean), 3 * test.rank_ic_std / std::sqrt(static_cast<double>(test.dates))) << kind;
    EXPECT_NEAR(test.hit_rate, 0.5, 0.02) << kind;
  }
}

}  // namespace
}  // namespace trib::ml

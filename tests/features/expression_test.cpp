// The expression language (features/expression.hpp): compile errors name the feature, the
// problem and the column; values equal hand computations on small series; shared
// sub-expressions are one node; a value does not depend on where the computation started; the
// cross-sectional operators meet on dates. The DuckDB cross-check of 30 expressions on real
// adjusted bars is tests/interop/expressions_duckdb.test.mjs.
#include <gtest/gtest.h>

#include <cmath>

#include "trib/core/error.hpp"
#include "trib/features/expression.hpp"
#include "trib/features/indicators.hpp"

using namespace trib;
using namespace trib::features;
using namespace trib::features::expr;

namespace {

SeriesInput series(const std::string& symbol, std::vector<double> close, int first_day = 19000) {
  SeriesInput s;
  s.symbol = symbol;
  for (size_t i = 0; i < close.size(); ++i) {
    s.dates.push_back(Date(first_day + static_cast<int>(i)));
    s.open.push_back(close[i] - 1);
    s.high.push_back(close[i] + 2);
    s.low.push_back(close[i] - 2);
    s.volume.push_back(1000.0 * static_cast<double>(i + 1));
    s.vwap.push_back(close[i]);
  }
  s.close = std::move(close);
  return s;
}

std::string compile_error(const std::string& formula, Purpose purpose = Purpose::kFeature) {
  try {
    Program::compile({{"F", formula}}, purpose);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

std::vector<double> eval1(const std::string& formula, const SeriesInput& s, Purpose purpose = Purpose::kFeature) {
  return evaluate(Program::compile({{"F", formula}}, purpose), {s})[0][0];
}

const std::vector<double> kClose = {10, 11, 13, 12, 15, 14, 18, 17, 16, 20};

}  // namespace

TEST(Expression, ErrorsNameTheProblemAndItsColumn) {
  EXPECT_NE(compile_error("Mean($close, 0)").find("F: window must be >= 1 at column 14"), std::string::npos)
      << compile_error("Mean($close, 0)");
  EXPECT_NE(compile_error("Std($close, 1)").find("window must be >= 2 at column 13"), std::string::npos);
  EXPECT_NE(compile_error("Mean($close, 2.5)").find("must be a whole number, got 2.5 at column 14"), std::string::npos);
  EXPECT_NE(compile_error("Mean($close, $open)").find("window must be a whole-number constant at column 14"),
            std::string::npos);
  EXPECT_NE(compile_error("$close / Mena($close, 5)").find("unknown function 'Mena' at column 10"), std::string::npos);
  EXPECT_NE(compile_error("mean($close, 5)").find("did you mean Mean?"), std::string::npos);
  EXPECT_NE(compile_error("$closed + 1").find("unknown field '$closed'"), std::string::npos);
  EXPECT_NE(compile_error("Mean($close)").find("Mean takes 2 arguments, got 1 at column 1"), std::string::npos);
  EXPECT_NE(compile_error("($close + 1").find("expected ')'"), std::string::npos);
  EXPECT_NE(compile_error("$close +").find("ended where a value was expected"), std::string::npos);
  EXPECT_NE(compile_error("MACD($close)").find("MACD has 3 outputs (macd, macdsignal, macdhist)"), std::string::npos);
  EXPECT_NE(compile_error("RSI($close, 1)").find("RSI's timeperiod must be a whole number from 2 to"), std::string::npos);
  EXPECT_NE(compile_error("Quantile($close, 5, 1.5)").find("quantile must be from 0 to 1"), std::string::npos);
  // Pathological nesting is an error, not a stack overflow: parentheses, long chains, signs.
  const std::string deep = std::string(5000, '(') + "$close" + std::string(5000, ')');
  EXPECT_NE(compile_error(deep).find("nests deeper than 200 levels"), std::string::npos);
  std::string chain = "$close";
  for (int i = 0; i < 5000; ++i) chain += "+$close";
  EXPECT_NE(compile_error(chain).find("nests deeper than 200 levels"), std::string::npos);
  EXPECT_NE(compile_error(std::string(5000, '-') + "$close").find("nests deeper"), std::string::npos);
  EXPECT_EQ(compile_error("Mean(" + std::string(100, '(') + "$close" + std::string(100, ')') + ", 5)"), "");
  // The caret line points at the column.
  EXPECT_NE(compile_error("Mean($close, 0)").find("\n  Mean($close, 0)\n               ^"), std::string::npos);
}

TEST(Expression, TheFutureIsRefusedInFeaturesAndAllowedInLabels) {
  EXPECT_NE(compile_error("Ref($close, -5) / $close - 1").find("reads 5 session(s) into the future"), std::string::npos);
  EXPECT_NE(compile_error("Ref($close, -5) / $close - 1").find("at column 13"), std::string::npos);
  const auto label = eval1("Ref($close, -2) / $close - 1", series("A", kClose), Purpose::kLabel);
  EXPECT_DOUBLE_EQ(label[0], 13.0 / 10 - 1);
  EXPECT_TRUE(std::isnan(label[8]) && std::isnan(label[9]));
}

TEST(Expression, ValuesEqualHandComputations) {
  const SeriesInput s = series("A", kClose);
  auto mean3 = eval1("Mean($close, 3)", s);
  EXPECT_TRUE(std::isnan(mean3[1]));
  EXPECT_DOUBLE_EQ(mean3[2], (10 + 11 + 13) / 3.0);
  EXPECT_DOUBLE_EQ(mean3[9], (17 + 16 + 20) / 3.0);
  EXPECT_DOUBLE_EQ(eval1("Std($close, 3)", s)[2], std::sqrt(((10 - 34 / 3.0) * (10 - 34 / 3.0) +
                                                             (11 - 34 / 3.0) * (11 - 34 / 3.0) +
                                                             (13 - 34 / 3.0) * (13 - 34 / 3.0)) / 2));
  EXPECT_DOUBLE_EQ(eval1("Ref($close, 2)", s)[5], 12);
  EXPECT_DOUBLE_EQ(eval1("Delta($close, 3)", s)[9], 20 - 18);
  EXPECT_DOUBLE_EQ(eval1("Max($high, 4)", s)[6], 20);
  EXPECT_DOUBLE_EQ(eval1("IdxMax($close, 5)", s)[9], 5);  // today's 20 is the newest of five
  EXPECT_DOUBLE_EQ(eval1("IdxMin($close, 5)", s)[9], 1);  // 14 is the oldest of 14 18 17 16 20
  EXPECT_DOUBLE_EQ(eval1("Rank($close, 4)", s)[9], 1.0);
  EXPECT_DOUBLE_EQ(eval1("Rank($close, 4)", s)[8], 0.5);  // 16 is the second of 14 18 17 16: (2 + 1 + 1) / 8
  EXPECT_DOUBLE_EQ(eval1("Quantile($close, 5, 0.8)", s)[4], 13.4);  // sorted 10 11 12 13 15, position 3.2: 13 + 0.2 x 2
  EXPECT_DOUBLE_EQ(eval1("Med($close, 4)", s)[3], 11.5);
  EXPECT_DOUBLE_EQ(eval1("Slope($close, 3)", s)[2], 1.5);
  EXPECT_DOUBLE_EQ(eval1("Resi($close, 3)", s)[2], 13 - (34 / 3.0 + 1.5 * 1));
  EXPECT_DOUBLE_EQ(eval1("Greater($open, $close - 0.5)", s)[0], 9.5);
  EXPECT_DOUBLE_EQ(eval1("If($close > Ref($close, 1), 1, -1)", s)[3], -1);
  EXPECT_TRUE(std::isnan(eval1("If($close > Ref($close, 1), 1, -1)", s)[0]));  // the comparison with nothing is NaN
  EXPECT_DOUBLE_EQ(eval1("Mean($close > Ref($close, 1), 3)", s)[4], 2.0 / 3);
  EXPECT_DOUBLE_EQ(eval1("-$close + 2 * 3", s)[0], -4);
  EXPECT_DOUBLE_EQ(eval1("Power($close, 2) - Abs(-$close)", s)[1], 110);
  EXPECT_TRUE(std::isnan(eval1("$close / ($close - $close)", s)[0]));  // x/0 is null, not inf
  // Indicators by name equal the library.
  const auto direct = sma(kClose, 4);
  const auto via = eval1("SMA($close, 4)", s);
  for (size_t i = 3; i < kClose.size(); ++i) EXPECT_DOUBLE_EQ(via[i], direct[i]);
  EXPECT_DOUBLE_EQ(eval1("MACD($close, 2, 3, 2).macdhist", s)[9],
                   macd(kClose, 2, 3, 2).hist[9]);
}

TEST(Expression, EqualSubExpressionsAreOneNode) {
  const Program p = Program::compile({{"A", "Mean($close, 5) / $close"}, {"B", "Mean( $close,5 )-$close"},
                                      {"C", "Std($close, 5) / Mean($close, 5)"}});
  // $close, 5-mean, A, B, 5-std, C: the mean once.
  EXPECT_EQ(p.nodes().size(), 6u);
  EXPECT_EQ(p.canonical(1), "(Mean($close,5)-$close)");
  EXPECT_EQ(p.lookback(), 4);
  EXPECT_EQ(Program::compile({{"E", "EMA($close, 10) / Ref(Mean($close, 5), 3)"}}).lookback(), -1);
  EXPECT_EQ(Program::compile({{"R", "Corr($close, Ref($volume, 2), 10)"}}).lookback(), 11);
  EXPECT_THROW(Program::compile({{"A", "$close"}, {"A", "$open"}}), Error);
}

TEST(Expression, ALabelSaysHowFarAheadItReads) {
  EXPECT_EQ(Program::compile({{"F", "Mean($close, 5) / $close"}}).lookahead(), 0);
  EXPECT_EQ(Program::compile({{"L", "Ref($close, -5) / $close - 1"}}, Purpose::kLabel).lookahead(), 5);
  // A window over the future reads as far ahead as its input; nested offsets add up.
  EXPECT_EQ(Program::compile({{"L", "Mean(Ref($close, -3), 10)"}}, Purpose::kLabel).lookahead(), 3);
  EXPECT_EQ(Program::compile({{"L", "Ref(Ref($close, -2), -4) / Ref($close, -1)"}}, Purpose::kLabel).lookahead(), 6);
  EXPECT_EQ(Program::compile({{"L", "Ref($close, 2) / Ref($close, -1)"}}, Purpose::kLabel).lookahead(), 1);
}

TEST(Expression, AValueDoesNotDependOnWhereTheComputationStarted) {
  std::vector<double> close;
  for (int i = 0; i < 400; ++i) close.push_back(100 + 10 * std::sin(i * 0.37) + i * 0.05 + (i % 7) * 0.013);
  const Program p = Program::compile({{"A", "Std($close, 20) / Mean($close, 20)"},
                                      {"B", "Corr($close, Log($volume + 1), 30)"},
                                      {"C", "Rsquare(Ref($close, 3), 10) + Skew($close, 15) + Quantile($low, 12, 0.3)"}});
  const SeriesInput full = series("A", close);
  const auto whole = evaluate(p, {full})[0];
  for (size_t start : {1u, 57u, 200u}) {
    SeriesInput tail = full;
    for (auto* v : {&tail.open, &tail.high, &tail.low, &tail.close, &tail.volume, &tail.vwap}) {
      v->erase(v->begin(), v->begin() + static_cast<long>(start));
    }
    tail.dates.erase(tail.dates.begin(), tail.dates.begin() + static_cast<long>(start));
    // Volume is 1000 x row number: keep the original rows' values.
    for (size_t i = 0; i < tail.volume.size(); ++i) tail.volume[i] = full.volume[i + start];
    const auto part = evaluate(p, {tail})[0];
    for (size_t k = 0; k < p.names().size(); ++k) {
      for (size_t i = static_cast<size_t>(p.lookback()); i < part[k].size(); ++i) {
        ASSERT_EQ(part[k][i], whole[k][i + start]) << p.names()[k] << " row " << i + start << " from " << start;
      }
    }
  }
}

TEST(Expression, CrossSectionalOperatorsMeetOnDates) {
  // B starts a day later: on day 0 only A and C are ranked.
  std::vector<SeriesInput> u = {series("A", {1, 5, 3}), series("B", {2, 2}, 19001), series("C", {3, 4, 3})};
  const Program p = Program::compile({{"R", "CSRank($close)"}, {"Z", "CSZScore($close)"}, {"D", "CSDemean($close)"},
                                      {"N", "CSNeutralize($close, $close > 2.5)"}, {"T", "Mean(CSRank($close), 2)"}});
  const auto r = evaluate(p, u, 2);
  EXPECT_DOUBLE_EQ(r[0][0][0], 0.5);  // A day 0: 1 of {1, 3}
  EXPECT_DOUBLE_EQ(r[2][0][0], 1.0);
  EXPECT_DOUBLE_EQ(r[1][0][1], 1.0 / 3);  // B day 2 (its row 1): 2 of {3, 2, 3}
  EXPECT_DOUBLE_EQ(r[0][0][2], (2 + 3) / 2.0 / 3);  // A and C tie at 3
  EXPECT_DOUBLE_EQ(r[0][2][1], 5 - 11 / 3.0);       // demean day 1: {5, 2, 4}
  const double sd = std::sqrt(((5 - 11 / 3.0) * (5 - 11 / 3.0) + (2 - 11 / 3.0) * (2 - 11 / 3.0) +
                               (4 - 11 / 3.0) * (4 - 11 / 3.0)) / 2);
  EXPECT_DOUBLE_EQ(r[0][1][1], (5 - 11 / 3.0) / sd);
  EXPECT_DOUBLE_EQ(r[0][3][1], 5 - 4.5);  // group {5, 4} above 2.5
  EXPECT_DOUBLE_EQ(r[1][3][0], 0);        // B alone in its group on day 1
  EXPECT_DOUBLE_EQ(r[0][4][1], (0.5 + 1.0) / 2);  // a time-series mean of a cross-sectional rank
  EXPECT_TRUE(p.cross_sectional());
}

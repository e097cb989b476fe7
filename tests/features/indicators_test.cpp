// Indicators against hand-computed values, a published worked example, naive long-double
// references, and real SPY closes.
#include "trib/features/indicators.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "trib/core/error.hpp"

namespace trib::features {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Expect `actual` to match `expected` element-wise, NaN matching NaN.
void expect_series(const std::vector<double>& actual, const std::vector<double>& expected,
                   double tol) {
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    if (std::isnan(expected[i])) {
      EXPECT_TRUE(std::isnan(actual[i])) << "index " << i << " = " << actual[i];
    } else {
      EXPECT_NEAR(actual[i], expected[i], tol) << "index " << i;
    }
  }
}

size_t first_defined(const std::vector<double>& v) {
  for (size_t i = 0; i < v.size(); ++i) {
    if (!std::isnan(v[i])) return i;
  }
  return v.size();
}

// ---- SMA --------------------------------------------------------------------------------------

TEST(Sma, HandComputed) {
  // period 3: (1+2+3)/3 = 2, (2+3+4)/3 = 3, (3+4+5)/3 = 4
  std::vector<double> v = {1, 2, 3, 4, 5};
  expect_series(sma(v, 3), {kNaN, kNaN, 2, 3, 4}, 1e-12);
  // (10+20)/2 = 15, (20+6)/2 = 13
  std::vector<double> w = {10, 20, 6};
  expect_series(sma(w, 2), {kNaN, 15, 13}, 1e-12);
  expect_series(sma(w, 1), {10, 20, 6}, 0);
}

TEST(Sma, ShorterThanPeriodIsAllNaN) {
  std::vector<double> v = {1, 2};
  expect_series(sma(v, 3), {kNaN, kNaN}, 0);
  EXPECT_TRUE(sma(std::vector<double>{}, 3).empty());
}

TEST(Sma, GapRestartsTheWindow) {
  // The NaN at index 2 blanks every window containing it: next defined at 2+2 = 4.
  std::vector<double> v = {1, 2, kNaN, 4, 6, 8};
  expect_series(sma(v, 2), {kNaN, 1.5, kNaN, kNaN, 5, 7}, 1e-12);
}

TEST(Sma, InvalidPeriodThrows) {
  std::vector<double> v = {1, 2, 3};
  EXPECT_THROW(sma(v, 0), Error);
  try {
    sma(v, -1);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::kInvalidInput);
  }
}

// A long series with a large offset: a naive running sum would lose the small variations.
TEST(Sma, NoDriftOnLongSeries) {
  const int n = 1'000'000, period = 30;
  std::vector<double> v(n);
  for (int i = 0; i < n; ++i) v[i] = 1e9 + std::sin(i * 0.37) * 0.001 + (i % 7) * 1e-4;
  const std::vector<double> out = sma(v, period);
  for (int end : {period - 1, n / 2, n - 1}) {
    long double s = 0;  // independent reference: direct sum of the window
    for (int j = end - period + 1; j <= end; ++j) s += v[j];
    EXPECT_NEAR(out[end], static_cast<double>(s / period), 1e-6) << "at " << end;
  }
}

// ---- EMA --------------------------------------------------------------------------------------

TEST(Ema, SeededWithSmaThenSmoothed) {
  // period 3, k = 2/4 = 0.5: seed (2+4+6)/3 = 4; then 4 + .5*(8-4) = 6; 6 + .5*(4-6) = 5.
  std::vector<double> v = {2, 4, 6, 8, 4};
  expect_series(ema(v, 3), {kNaN, kNaN, 4, 6, 5}, 1e-12);
  // period 4, k = 2/5 = 0.4: seed (10+11+12+13)/4 = 11.5;
  // 11.5 + .4*(9-11.5) = 10.5; 10.5 + .4*(15-10.5) = 12.3.
  std::vector<double> w = {10, 11, 12, 13, 9, 15};
  expect_series(ema(w, 4), {kNaN, kNaN, kNaN, 11.5, 10.5, 12.3}, 1e-12);
}

TEST(Ema, PeriodOneIsIdentity) {
  std::vector<double> v = {3, 1, 4, 1, 5};
  expect_series(ema(v, 1), v, 0);
}

TEST(Ema, ConstantSeriesStaysConstant) {
  std::vector<double> v(100, 42.5);
  const auto out = ema(v, 12);
  EXPECT_EQ(first_defined(out), 11u);
  for (size_t i = 11; i < out.size(); ++i) EXPECT_DOUBLE_EQ(out[i], 42.5);
}

TEST(Ema, LeadingNaNShiftsTheSeed) {
  // Seed over the first 2 finite values: (2+4)/2 = 3; k = 2/3: 3 + 2/3*(6-3) = 5.
  std::vector<double> v = {kNaN, 2, 4, 6};
  expect_series(ema(v, 2), {kNaN, kNaN, 3, 5}, 1e-12);
}

// ---- RSI --------------------------------------------------------------------------------------

TEST(Rsi, HandComputedWilder) {
  // period 3 on 44, 45, 43, 46, 46, 44: changes +1, -2, +3, 0, -2.
  // Seed: gain (1+0+3)/3 = 4/3, loss (0+2+0)/3 = 2/3 -> RSI = 100 * (4/3)/(6/3) = 66.666...
  // change 0:  gain (4/3*2 + 0)/3 = 8/9,  loss (2/3*2 + 0)/3 = 4/9  -> 100 * 8/12 = 66.666...
  // change -2: gain (8/9*2 + 0)/3 = 16/27, loss (4/9*2 + 2)/3 = 26/27 -> 100 * 16/42 = 38.0952...
  std::vector<double> v = {44, 45, 43, 46, 46, 44};
  expect_series(rsi(v, 3), {kNaN, kNaN, kNaN, 200.0 / 3, 200.0 / 3, 1600.0 / 42}, 1e-9);
}

// The worked example of Wilder's RSI(14) in StockCharts' ChartSchool article. Its spreadsheet
// rounds the averages to 2 decimals, so its published values differ from exact arithmetic in the
// second decimal: tolerance 0.1.
TEST(Rsi, MatchesPublishedWorkedExample) {
  std::vector<double> closes = {44.34, 44.09, 44.15, 43.61, 44.33, 44.83, 45.10, 45.42, 45.84,
                                46.08, 45.89, 46.03, 45.61, 46.28, 46.28, 46.00, 46.03, 46.41,
                                46.22, 45.64, 46.21, 46.25, 45.71, 46.45, 45.78, 45.35, 44.03,
                                44.18, 44.22, 44.57, 43.42, 42.66, 43.13};
  std::vector<double> published = {70.53, 66.32, 66.55, 69.41, 66.36, 57.97, 62.93,
                                   63.26, 56.06, 62.38, 54.71, 50.42, 39.99, 41.46,
                                   41.87, 45.46, 37.30, 33.08, 37.77};
  const auto out = rsi(closes, 14);
  ASSERT_EQ(first_defined(out), 14u);
  for (size_t i = 0; i < published.size(); ++i) {
    EXPECT_NEAR(out[14 + i], published[i], 0.1) << "close #" << 14 + i;
  }
}

TEST(Rsi, ConstantSeriesIs50) {
  std::vector<double> v(30, 10.0);
  const auto out = rsi(v, 14);
  EXPECT_EQ(first_defined(out), 14u);
  for (size_t i = 14; i < out.size(); ++i) EXPECT_EQ(out[i], 50.0);
}

TEST(Rsi, MonotoneSeries) {
  std::vector<double> up, down;
  for (int i = 0; i < 40; ++i) {
    up.push_back(100 + i * 0.5);
    down.push_back(100 - i * 0.5);
  }
  const auto r_up = rsi(up, 14), r_down = rsi(down, 14);
  for (size_t i = 14; i < up.size(); ++i) {
    EXPECT_EQ(r_up[i], 100.0);
    EXPECT_EQ(r_down[i], 0.0);
  }
  // One loss after a run of gains: gain 0.5*13/14, loss 5/14 -> 100*6.5/11.5 = 56.52...
  up.push_back(up.back() - 5);
  EXPECT_NEAR(rsi(up, 14).back(), 100.0 * 6.5 / 11.5, 1e-9);
}

TEST(Rsi, TooShortIsAllNaN) {
  std::vector<double> v = {1, 2, 3};
  expect_series(rsi(v, 3), {kNaN, kNaN, kNaN}, 0);
  EXPECT_THROW(rsi(v, 0), Error);
}

// ---- log returns and rolling stddev ------------------------------------------------------------

TEST(LogReturns, HandComputed) {
  // ln(110/100) = 0.0953101798043249, ln(99/110) = ln(0.9) = -0.1053605156578263
  std::vector<double> p = {100, 110, 99};
  expect_series(log_returns(p), {kNaN, 0.0953101798043249, -0.1053605156578263}, 1e-15);
  std::vector<double> bad = {100, 0, 50, -1};
  expect_series(log_returns(bad), {kNaN, kNaN, kNaN, kNaN}, 0);
}

TEST(RollingStddev, HandComputed) {
  // 2,4,4,4,5,5,7,9: mean 5, squared deviations 9+1+1+1+0+0+4+16 = 32, sample var 32/7.
  std::vector<double> v = {2, 4, 4, 4, 5, 5, 7, 9};
  EXPECT_NEAR(rolling_stddev(v, 8).back(), std::sqrt(32.0 / 7), 1e-12);
  // window 3 on 1,2,3,4,10: sd(1,2,3) = sd(2,3,4) = 1; (3,4,10): mean 17/3,
  // squared deviations (8/3)^2 + (5/3)^2 + (13/3)^2 = 258/9, /2 -> 43/3.
  std::vector<double> w = {1, 2, 3, 4, 10};
  expect_series(rolling_stddev(w, 3), {kNaN, kNaN, 1, 1, std::sqrt(43.0 / 3)}, 1e-12);
}

TEST(RollingStddev, NeedsAFullWindowOfDefinedValues) {
  // log returns start with NaN: the first full window of 3 ends at index 3.
  std::vector<double> r = {kNaN, 1, 2, 3, kNaN, 5, 6, 7};
  expect_series(rolling_stddev(r, 3), {kNaN, kNaN, kNaN, 1, kNaN, kNaN, kNaN, 1}, 1e-12);
  EXPECT_THROW(rolling_stddev(r, 1), Error);
}

TEST(RollingStddev, ConstantIsExactlyZero) {
  std::vector<double> v(500, 123.456);
  const auto out = rolling_stddev(v, 20);
  // Rounding in the window mean may leave ~1e-14; anything visible would be a bug.
  for (size_t i = 19; i < out.size(); ++i) EXPECT_NEAR(out[i], 0.0, 1e-12);
}

// Small variations on a huge offset over a long series: the sliding update must not drift.
TEST(RollingStddev, NoDriftOnLongSeries) {
  const int n = 1'000'000, window = 20;
  std::vector<double> v(n);
  for (int i = 0; i < n; ++i) v[i] = 1e6 + std::sin(i * 1.3) * 0.01 + (i % 11) * 1e-3;
  const auto out = rolling_stddev(v, window);
  for (int end : {window - 1, 1234, n / 3, n - 2, n - 1}) {
    long double mean = 0, ss = 0;  // independent two-pass reference in long double
    for (int j = end - window + 1; j <= end; ++j) mean += v[j];
    mean /= window;
    for (int j = end - window + 1; j <= end; ++j) ss += (v[j] - mean) * (v[j] - mean);
    const double expected = static_cast<double>(std::sqrt(ss / (window - 1)));
    EXPECT_NEAR(out[end], expected, expected * 1e-6) << "at " << end;
  }
}

// ---- real data: SPY daily closes, 1998-2021 ---------------------------------------------------

struct DailyClose {
  std::string date;  // yyyyMMdd
  double close = 0;
};

// Lean raw daily file: "yyyyMMdd HH:mm,open,high,low,close,volume", prices scaled by 10,000.
std::vector<DailyClose> load_lean_daily(const std::string& ticker) {
  std::ifstream in(std::string(TRIB_SHARED_DATA) + "/equities-daily/lean-us-equity-daily/raw/" +
                   ticker + ".csv");
  std::vector<DailyClose> rows;
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> fields;
    size_t start = 0;
    for (size_t comma; (comma = line.find(',', start)) != std::string::npos; start = comma + 1) {
      fields.push_back(line.substr(start, comma - start));
    }
    fields.push_back(line.substr(start));
    if (fields.size() != 6) continue;
    rows.push_back({fields[0].substr(0, 8), std::stod(fields[4]) / 10'000.0});
  }
  return rows;
}

class SpyTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    rows_ = load_lean_daily("spy");
    for (const auto& r : rows_) closes_.push_back(r.close);
  }
  static size_t index_of(const std::string& date) {
    for (size_t i = 0; i < rows_.size(); ++i) {
      if (rows_[i].date == date) return i;
    }
    ADD_FAILURE() << "no SPY row for " << date;
    return 0;
  }
  static inline std::vector<DailyClose> rows_;
  static inline std::vector<double> closes_;
};

TEST_F(SpyTest, LoadedTheWholeFile) {
  // SOURCE.md: SPY 5,849 rows, 1998-01-02 .. 2021-03-31; first close 97.36, last 396.33.
  ASSERT_EQ(rows_.size(), 5849u);
  EXPECT_EQ(rows_.front().date, "19980102");
  EXPECT_DOUBLE_EQ(rows_.front().close, 97.36);
  EXPECT_EQ(rows_.back().date, "20210331");
  EXPECT_DOUBLE_EQ(rows_.back().close, 396.33);
}

TEST_F(SpyTest, HandVerifiedPoints) {
  // First closes 97.36, 97.75, 96.63 -> SMA(3) = 291.74/3 = 97.24666...
  EXPECT_NEAR(sma(closes_, 3)[2], 97.2466666666667, 1e-9);
  // 2020-03-10..16: 288.42, 274.36, 248.11, 269.32, 239.85 -> SMA(5) = 1320.06/5 = 264.012
  const size_t mar16 = index_of("20200316");
  EXPECT_NEAR(sma(closes_, 5)[mar16], 264.012, 1e-9);
  // ln(239.85/269.32) = -0.115886535729 (2020-03-16, the largest one-day fall of 2020)
  const auto r = log_returns(closes_);
  EXPECT_NEAR(r[mar16], -0.115886535729, 1e-10);
  // ln(248.11/274.36) = -0.100568916418 (2020-03-12)
  EXPECT_NEAR(r[index_of("20200312")], -0.100568916418, 1e-10);
  // RSI(14) four weeks into the COVID crash, and at the end of 2020, from a separate Python
  // implementation of Wilder's recurrences over the same file (30.0612823631581, 65.7026291417523).
  const auto r14 = rsi(closes_, 14);
  EXPECT_NEAR(r14[mar16], 30.0612823631581, 1e-9);
  EXPECT_NEAR(r14[index_of("20201231")], 65.7026291417523, 1e-9);
}

TEST_F(SpyTest, Invariants) {
  const auto s20 = sma(closes_, 20), e26 = ema(closes_, 26), r14 = rsi(closes_, 14);
  const auto lr = log_returns(closes_);
  const auto vol = rolling_stddev(lr, 20);
  EXPECT_EQ(first_defined(s20), 19u);
  EXPECT_EQ(first_defined(e26), 25u);
  EXPECT_EQ(first_defined(r14), 14u);
  EXPECT_EQ(first_defined(lr), 1u);
  EXPECT_EQ(first_defined(vol), 20u);
  for (size_t i = 19; i < closes_.size(); ++i) {
    double lo = closes_[i], hi = closes_[i];
    for (size_t j = i - 19; j <= i; ++j) {
      lo = std::min(lo, closes_[j]);
      hi = std::max(hi, closes_[j]);
    }
    ASSERT_GE(s20[i], lo - 1e-9) << i;
    ASSERT_LE(s20[i], hi + 1e-9) << i;
  }
  for (size_t i = 20; i < vol.size(); ++i) ASSERT_GE(vol[i], 0) << i;
  for (size_t i = 14; i < closes_.size(); ++i) {
    ASSERT_GE(r14[i], 0);
    ASSERT_LE(r14[i], 100);
  }
  // Sum of log returns telescopes to ln(last/first).
  long double total = 0;
  for (size_t i = 1; i < lr.size(); ++i) total += lr[i];
  EXPECT_NEAR(static_cast<double>(total), std::log(396.33 / 97.36), 1e-9);
}

// Values produced by TA-Lib itself (C library via the npm package talib 1.1.6: TA_SMA, TA_EMA,
// TA_RSI with default compatibility, on the same /10,000 closes), printed with 17 digits. Over the
// whole series the largest difference found was 8e-13 (TA-Lib's SMA uses a plain running sum).
TEST_F(SpyTest, MatchesTaLib) {
  struct Point {
    const char* fn;
    int period;
    size_t index;
    double talib;
  };
  const Point points[] = {
      {"SMA", 20, 19, 96.376500000000007},
      {"SMA", 20, 1000, 114.69099999999987},
      {"SMA", 20, 5585, 300.11199999999940},  // 2020-03-16
      {"SMA", 20, 5848, 390.95299999999952},
      {"SMA", 50, 49, 100.83720000000000},
      {"SMA", 50, 3000, 107.96439999999993},
      {"SMA", 50, 5848, 387.60100000000011},
      {"EMA", 12, 11, 95.893333333333331},
      {"EMA", 12, 2000, 126.52010118127332},
      {"EMA", 12, 5848, 392.95346488684299},
      {"EMA", 26, 25, 97.379230769230787},
      {"EMA", 26, 100, 110.79110122739763},
      {"EMA", 26, 5000, 256.49706653031529},
      {"EMA", 26, 5848, 390.67243790279662},
      {"RSI", 14, 14, 44.437172774869104},
      {"RSI", 14, 15, 44.787393696848433},
      {"RSI", 14, 4000, 66.794433541770488},
      {"RSI", 14, 5585, 30.061282363158092},
      {"RSI", 14, 5848, 58.164796448430899},
  };
  ASSERT_EQ(index_of("20200316"), 5585u);
  for (const Point& p : points) {
    const std::string fn = p.fn;
    const std::vector<double> out =
        fn == "SMA" ? sma(closes_, p.period) : fn == "EMA" ? ema(closes_, p.period)
                                                           : rsi(closes_, p.period);
    EXPECT_NEAR(out[p.index], p.talib, 1e-10) << fn << "(" << p.period << ")[" << p.index << "]";
    // TA-Lib's lookback: nothing defined before its first output.
    EXPECT_TRUE(std::isnan(out[fn == "RSI" ? p.period - 1 : p.period - 2]));
  }
}

// Every point against naive references written directly from the definitions, in long double.
TEST_F(SpyTest, MatchesNaiveReferences) {
  const int p = 26;
  const auto e = ema(closes_, p);
  long double ref = 0;
  for (int i = 0; i < p; ++i) ref += closes_[i];
  ref /= p;
  for (size_t i = p - 1; i < closes_.size(); ++i) {
    if (i >= static_cast<size_t>(p)) ref = ref + (2.0L / (p + 1)) * (closes_[i] - ref);
    ASSERT_NEAR(e[i], static_cast<double>(ref), 1e-9) << i;
  }
  const auto lr = log_returns(closes_);
  const auto vol = rolling_stddev(lr, 20);
  for (size_t i = 20; i < lr.size(); ++i) {
    long double mean = 0, ss = 0;
    for (size_t j = i - 19; j <= i; ++j) mean += lr[j];
    mean /= 20;
    for (size_t j = i - 19; j <= i; ++j) ss += (lr[j] - mean) * (lr[j] - mean);
    ASSERT_NEAR(vol[i], static_cast<double>(std::sqrt(ss / 19)), 1e-12) << i;
  }
}

}  // namespace
}  // namespace trib::features

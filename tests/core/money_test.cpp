#include <cmath>

#include <gtest/gtest.h>

#include "trib/core/error.hpp"
#include "trib/core/money.hpp"
#include "test_util.hpp"

namespace trib {
namespace {

using testing::category_of;

TEST(Micros, RoundsDoublesHalfAwayFromZero) {
  EXPECT_EQ(Micros::from_double(1.5).raw(), 1'500'000);
  EXPECT_EQ(Micros::from_double(0.0000005).raw(), 1);
  EXPECT_EQ(Micros::from_double(-0.0000005).raw(), -1);
  EXPECT_EQ(Micros::from_double(123.456789).raw(), 123'456'789);
  EXPECT_EQ(category_of([] { Micros::from_double(NAN); }), ErrorCategory::kInvalidInput);
  EXPECT_EQ(category_of([] { Micros::from_double(1e13); }), ErrorCategory::kInvalidInput);
}

TEST(Micros, ParsesAndPrintsExactDecimals) {
  EXPECT_EQ(Micros::parse("100").raw(), 100'000'000);
  EXPECT_EQ(Micros::parse("-2.5").raw(), -2'500'000);
  EXPECT_EQ(Micros::parse("0.000001").raw(), 1);
  EXPECT_EQ(Micros::parse(".5").raw(), 500'000);
  for (const char* bad : {"", "-", "1.2345678", "1e3", "abc", "1.2.3", "99999999999999"}) {
    EXPECT_EQ(category_of([&] { Micros::parse(bad); }), ErrorCategory::kInvalidInput) << bad;
  }
  EXPECT_EQ(Micros::parse("-12.50").to_string(), "-12.5");
  EXPECT_EQ(Micros::parse("3").to_string(), "3");
  EXPECT_EQ(Micros::from_raw(1).to_string(), "0.000001");
  EXPECT_EQ(Micros::from_raw(INT64_MIN).to_string(), "-9223372036854.775808");
}

TEST(Micros, TenthsAddUpExactlyWhereDoublesDrift) {
  Micros sum;
  double dsum = 0;
  for (int i = 0; i < 10; ++i) {
    sum += Micros::parse("0.1");
    dsum += 0.1;
  }
  EXPECT_EQ(sum, Micros::parse("1"));
  EXPECT_NE(dsum, 1.0);
}

TEST(Micros, MultiplyAndDivideIn128BitsAndRound) {
  // 1,000,000 shares at 9,999.99: the product overflows int64 before rounding, not after.
  EXPECT_EQ(mul(Micros::parse("1000000"), Micros::parse("9999.99")), Micros::parse("9999990000"));
  EXPECT_EQ(mul(Micros::parse("0.000001"), Micros::parse("0.5")).raw(), 1);  // 0.5e-6 rounds up
  EXPECT_EQ(mul(Micros::parse("-0.000001"), Micros::parse("0.5")).raw(), -1);
  EXPECT_EQ(div(Micros::parse("10"), Micros::parse("3")), Micros::parse("3.333333"));
  EXPECT_EQ(div(Micros::parse("20"), Micros::parse("3")), Micros::parse("6.666667"));
  EXPECT_EQ(category_of([] { div(Micros::parse("1"), Micros()); }), ErrorCategory::kInvalidInput);
  EXPECT_EQ(category_of([] { mul(Micros::parse("9000000000000"), Micros::parse("9000000000000")); }),
            ErrorCategory::kInvalidInput);
}

}  // namespace
}  // namespace trib

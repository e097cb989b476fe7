// The request gate on a real (SQLite) catalog with a fake clock: waits follow the budget, a 429
// pauses every gate on the catalog, a used-up daily cap fails fast as RateLimited, and trib.toml
// overrides the vendor's defaults.
#include <gtest/gtest.h>

#include "trib/catalog/catalog.hpp"
#include "trib/core/config.hpp"
#include "trib/core/error.hpp"
#include "trib/ingest/vendor_access.hpp"
#include "../core/test_util.hpp"

namespace trib::ingest {
namespace {

constexpr int64_t kSec = 1'000'000'000;

struct FakeClock {
  int64_t now = int64_t{1'700'000'000} * kSec;
  int64_t slept = 0;
  CatalogRequestGate::Options options(int64_t max_block_ms = 60'000) {
    CatalogRequestGate::Options o;
    o.max_block_ms = max_block_ms;
    o.now_ns = [this] { return now; };
    o.sleep_ns = [this](int64_t ns) {
      now += ns;
      slept += ns;
    };
    return o;
  }
};

class GateTest : public ::testing::Test {
 protected:
  trib::testing::TempDir dir_;
  std::unique_ptr<catalog::Catalog> catalog_ = catalog::open_sqlite_catalog(dir_.path() / "c.db");
  FakeClock clock_;
};

TEST_F(GateTest, RequestsAreSpacedByTheRateAfterTheBurst) {
  providers::RateBudget budget{.per_minute = 200, .burst = 10};
  CatalogRequestGate gate(*catalog_, {{"alpaca", budget}}, clock_.options());
  const int64_t start = clock_.now;
  for (int i = 0; i < 10; ++i) gate.acquire("alpaca");
  EXPECT_EQ(clock_.now, start);  // the burst goes at once
  for (int i = 0; i < 190; ++i) gate.acquire("alpaca");
  // 190 more at 200/min with the 1 % margin: 190 x 303 ms (rounded up), never faster.
  const int64_t interval = budget_rule(budget, 0).interval_ns;
  EXPECT_EQ(interval, 303'000'000);
  EXPECT_EQ(clock_.now - start, 190 * interval);
  // The budget is a token bucket (the vendor's own model): `burst` tokens, refilled at the rate.
  // The theoretical minimum for these 200 is (200 - 10) x 300 ms = 57 s; the margin adds 1 %.
  EXPECT_LE(clock_.now - start, 57'570 * int64_t{1'000'000});
}

TEST_F(GateTest, UnlimitedVendorsNeverTouchTheCatalog) {
  CatalogRequestGate gate(*catalog_, {{"sim", providers::RateBudget{}}}, clock_.options());
  for (int i = 0; i < 1000; ++i) gate.acquire("sim");
  gate.acquire("not-configured");
  EXPECT_EQ(clock_.slept, 0);
  EXPECT_FALSE(catalog_->vendor_budget_state("sim").has_value());
}

TEST_F(GateTest, APauseFromOneGateHoldsEveryGateOnTheCatalog) {
  auto other_catalog = catalog::open_sqlite_catalog(dir_.path() / "c.db");
  providers::RateBudget budget{.per_minute = 60, .burst = 5};
  CatalogRequestGate a(*catalog_, {{"polygon", budget}}, clock_.options());
  CatalogRequestGate b(*other_catalog, {{"polygon", budget}}, clock_.options());
  a.acquire("polygon");
  const int64_t t = clock_.now;
  a.pause("polygon", (t + 7 * kSec) / 1'000'000);  // a 429 with Retry-After: 7
  b.acquire("polygon");
  EXPECT_EQ(clock_.now, t + 7 * kSec);
}

TEST_F(GateTest, AUsedUpDailyCapIsRateLimitedNotAHang) {
  providers::RateBudget budget{.per_minute = 5, .per_day = 3, .burst = 3};
  CatalogRequestGate gate(*catalog_, {{"alphavantage", budget}}, clock_.options(5 * 60 * 1000));
  for (int i = 0; i < 3; ++i) gate.acquire("alphavantage");
  try {
    gate.acquire("alphavantage");
    FAIL() << "a fourth request on a 3/day budget went out";
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::kRateLimited);
    EXPECT_NE(std::string(e.what()).find("requests_per_day=3"), std::string::npos) << e.what();
  }
  EXPECT_EQ(catalog_->vendor_budget_state("alphavantage")->day_count, 3);
}

TEST(VendorSettings, TribTomlOverridesTheDefaults) {
  Config config = Config::defaults("/tmp/ws");
  EXPECT_EQ(vendor_settings(config, "alpaca").budget.per_minute, 200);
  EXPECT_EQ(vendor_settings(config, "alpaca").base_url, "https://data.alpaca.markets");
  VendorConfig v;
  v.requests_per_minute = 1000;
  v.requests_per_day = 0;
  v.burst = 20;
  v.base_url = "http://127.0.0.1:9999/alpaca";
  v.options["feed"] = "sip";
  config.vendors["alpaca"] = v;
  const VendorSettings s = vendor_settings(config, "alpaca");
  EXPECT_EQ(s.budget.per_minute, 1000);
  EXPECT_EQ(s.budget.burst, 20);
  EXPECT_EQ(s.options.at("base_url"), "http://127.0.0.1:9999/alpaca");
  EXPECT_EQ(s.options.at("feed"), "sip");
  config.vendors["bloomberg"] = {};
  try {
    check_vendor_sections(config);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::kInvalidInput);
    EXPECT_NE(std::string(e.what()).find("[vendors.bloomberg]"), std::string::npos);
  }
}

}  // namespace
}  // namespace trib::ingest

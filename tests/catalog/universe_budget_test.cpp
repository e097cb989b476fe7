// The universe and the vendor request budgets, on both backends; the budget arithmetic itself
// (reserve_in_budget) on a fake clock.
#include <atomic>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "catalog_fixture.hpp"

namespace trib::catalog {
namespace {

using ::testing::ElementsAre;
using testing::category_of;

constexpr int64_t kSec = 1'000'000'000;

INSTANTIATE_TEST_SUITE_P(Backends, UniverseBudgetTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres), backend_name);

UniverseEntry entry(const std::string& symbol, const std::string& vendor = "polygon") {
  UniverseEntry e;
  e.symbol = symbol;
  e.vendor = vendor;
  e.start_date = "2015-01-02";
  return e;
}

TEST_P(UniverseBudgetTest, UniverseAddListRemoveAndStatus) {
  EXPECT_TRUE(catalog_->upsert_universe(entry("MSFT")));
  EXPECT_TRUE(catalog_->upsert_universe(entry("AAPL")));
  EXPECT_TRUE(catalog_->upsert_universe(entry("AAPL", "yahoo")));
  EXPECT_FALSE(catalog_->upsert_universe(entry("AAPL")));  // the same key again: replaced
  auto all = catalog_->list_universe();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].symbol, "AAPL");
  EXPECT_EQ(all[0].vendor, "polygon");
  EXPECT_EQ(all[0].status, "active");
  EXPECT_EQ(all[0].start_date, "2015-01-02");
  EXPECT_EQ(catalog_->list_universe("yahoo").size(), 1u);

  catalog_->set_universe_status("MSFT", "polygon", "bars", "1d", "unknown_symbol", "polygon: 404");
  auto msft = catalog_->list_universe("polygon");
  ASSERT_EQ(msft.size(), 2u);
  EXPECT_EQ(msft[1].status, "unknown_symbol");
  EXPECT_EQ(msft[1].status_reason, "polygon: 404");
  // Adding it again makes it active again (the user says: try it).
  catalog_->upsert_universe(entry("MSFT"));
  EXPECT_EQ(catalog_->list_universe("polygon")[1].status, "active");

  EXPECT_TRUE(catalog_->remove_universe("AAPL", "yahoo", "bars", "1d"));
  EXPECT_FALSE(catalog_->remove_universe("AAPL", "yahoo", "bars", "1d"));
  EXPECT_EQ(catalog_->list_universe().size(), 2u);

  EXPECT_EQ(category_of([&] { catalog_->set_universe_status("MSFT", "polygon", "bars", "1d", "gone", ""); }),
            ErrorCategory::kInvalidInput);
  auto bad = entry("IBM");
  bad.start_date = "2015-13-01";
  EXPECT_EQ(category_of([&] { catalog_->upsert_universe(bad); }), ErrorCategory::kInvalidInput);
}

TEST_P(UniverseBudgetTest, BudgetIsSharedByConnections) {
  BudgetRule rule;
  rule.interval_ns = 1 * kSec;  // 60 per minute
  rule.tolerance_ns = 2 * kSec; // burst 3
  rule.max_reserve_ns = 10 * kSec;
  const int64_t t0 = 1'700'000'000 * kSec;
  auto other = open();
  // Three at once (the burst), whichever connection asks.
  EXPECT_EQ(catalog_->reserve_vendor_request("alpaca", rule, t0).wait_ns, 0);
  EXPECT_EQ(other->reserve_vendor_request("alpaca", rule, t0).wait_ns, 0);
  EXPECT_EQ(catalog_->reserve_vendor_request("alpaca", rule, t0).wait_ns, 0);
  // The fourth is reserved one interval later; another vendor is not affected.
  auto fourth = other->reserve_vendor_request("alpaca", rule, t0);
  EXPECT_TRUE(fourth.reserved);
  EXPECT_EQ(fourth.wait_ns, 1 * kSec);
  EXPECT_EQ(catalog_->reserve_vendor_request("polygon", rule, t0).wait_ns, 0);
  // A 429 pauses everyone until then; nothing is taken while paused.
  other->pause_vendor("alpaca", t0 + 30 * kSec);
  auto paused = catalog_->reserve_vendor_request("alpaca", rule, t0 + 5 * kSec);
  EXPECT_FALSE(paused.reserved);
  EXPECT_EQ(paused.wait_ns, 25 * kSec);
  catalog_->pause_vendor("alpaca", t0 + 10 * kSec);  // never earlier
  EXPECT_EQ(catalog_->vendor_budget_state("alpaca")->paused_until_ns, t0 + 30 * kSec);
  EXPECT_FALSE(catalog_->vendor_budget_state("fred").has_value());
}

TEST_P(UniverseBudgetTest, ThreadsRacingForABudgetNeverOverbook) {
  // 4 connections x 25 reservations at one instant against 10/s with burst 5: every slot
  // handed out is distinct and on the GCRA schedule (5 at once, then one per 100 ms).
  BudgetRule rule;
  rule.interval_ns = kSec / 10;
  rule.tolerance_ns = 4 * rule.interval_ns;
  rule.max_reserve_ns = 3600 * kSec;
  const int64_t t0 = 1'700'000'000 * kSec;
  std::vector<std::thread> threads;
  std::mutex mutex;
  std::vector<int64_t> waits;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      auto c = open();
      for (int i = 0; i < 25; ++i) {
        auto r = c->reserve_vendor_request("alpaca", rule, t0);
        std::lock_guard lock(mutex);
        waits.push_back(r.reserved ? r.wait_ns : -1);
      }
    });
  }
  for (auto& t : threads) t.join();
  std::sort(waits.begin(), waits.end());
  ASSERT_EQ(waits.size(), 100u);
  for (int i = 0; i < 100; ++i) {
    const int64_t expected = i < 5 ? 0 : (i - 4) * rule.interval_ns;
    ASSERT_EQ(waits[static_cast<size_t>(i)], expected) << "slot " << i;
  }
}

TEST(ReserveInBudget, HourAndDayCapsUseUtcWindows) {
  BudgetRule rule;
  rule.per_day = 25;
  rule.per_hour = 10;
  BudgetState state;
  const int64_t day0 = int64_t{19'700} * 86'400 * kSec;  // a UTC midnight
  const int64_t t = day0 + 3 * 3600 * kSec + 59 * 60 * kSec;  // 03:59
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(reserve_in_budget(state, rule, t).reserved);
  auto full = reserve_in_budget(state, rule, t);
  EXPECT_FALSE(full.reserved);
  EXPECT_EQ(full.wait_ns, 60 * kSec);  // until 04:00
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(reserve_in_budget(state, rule, t + 60 * kSec).reserved);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(reserve_in_budget(state, rule, t + 2 * 3600 * kSec).reserved);
  auto day_full = reserve_in_budget(state, rule, t + 2 * 3600 * kSec);
  EXPECT_FALSE(day_full.reserved);
  EXPECT_EQ(day_full.wait_ns, day0 + 86'400 * kSec - (t + 2 * 3600 * kSec));  // until 00:00 UTC
  EXPECT_TRUE(reserve_in_budget(state, rule, day0 + 86'400 * kSec).reserved);
}

TEST(ReserveInBudget, FarReservationsAreNotTaken) {
  BudgetRule rule;
  rule.interval_ns = 12 * kSec;  // 5 per minute
  rule.max_reserve_ns = 30 * kSec;
  BudgetState state;
  const int64_t t = 1'000 * kSec;
  EXPECT_EQ(reserve_in_budget(state, rule, t).wait_ns, 0);
  EXPECT_EQ(reserve_in_budget(state, rule, t).wait_ns, 12 * kSec);
  EXPECT_EQ(reserve_in_budget(state, rule, t).wait_ns, 24 * kSec);
  auto far = reserve_in_budget(state, rule, t);  // 36 s ahead > 30 s
  EXPECT_FALSE(far.reserved);
  EXPECT_EQ(far.wait_ns, 6 * kSec);
  EXPECT_EQ(state.day_count, 3);
}

}  // namespace
}  // namespace trib::catalog

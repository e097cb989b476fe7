// The order / fill / position ledger: idempotent orders and fills, average-cost position math
// checked against hand-computed numbers, and account cash.
#include <unistd.h>

#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "trib/catalog/catalog.hpp"
#include "trib/core/error.hpp"
#include "../core/test_util.hpp"

namespace trib::catalog {
namespace {

namespace fs = std::filesystem;

using testing::category_of;

class LedgerTest : public ::testing::Test {
 protected:
  void SetUp() override { catalog_ = open_sqlite_catalog(dir_ / "catalog.db"); }
  void TearDown() override { catalog_.reset(); }  // before tmp_ removes the folder

  static OrderRecord order(const std::string& id, const std::string& side = "buy") {
    OrderRecord o;
    o.client_order_id = id;
    o.strategy = "sma";
    o.symbol = "AAPL";
    o.side = side;
    o.qty = 10;
    o.session_date = "2024-01-05";
    o.status = "new";
    o.broker = "paper";
    o.created_at_ns = 1000;
    return o;
  }

  // Applies a fill of `qty` at `price` with commission 1 and returns the position after it.
  PositionRecord fill(const std::string& side, double qty, double price) {
    const std::string id = fmt::format("f{}", ++fills_);
    EXPECT_TRUE(catalog_->apply_fill("paper", {id, "o1", "AAPL", side, qty, price, 1.0, fills_}));
    auto p = catalog_->get_position("paper", "AAPL");
    EXPECT_TRUE(p.has_value());
    return p.value_or(PositionRecord{});
  }

  testing::TempDir tmp_;
  const fs::path dir_ = tmp_.path();
  std::unique_ptr<Catalog> catalog_;
  int fills_ = 0;
};

TEST_F(LedgerTest, OrdersInsertOnceByClientOrderId) {
  auto o = order("sma-AAPL-2024-01-05");
  o.order_type = "limit";
  o.limit_price = 101.5;
  EXPECT_TRUE(catalog_->insert_order_if_absent(o));
  auto second = o;
  second.qty = 99;
  EXPECT_FALSE(catalog_->insert_order_if_absent(second));  // the first one stands

  auto got = catalog_->get_order(o.client_order_id);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->qty, 10);
  EXPECT_EQ(got->strategy, "sma");
  EXPECT_EQ(got->side, "buy");
  EXPECT_EQ(got->order_type, "limit");
  EXPECT_EQ(got->limit_price, 101.5);
  EXPECT_EQ(got->session_date, "2024-01-05");
  EXPECT_EQ(got->status, "new");
  EXPECT_EQ(got->broker, "paper");
  EXPECT_EQ(got->created_at_ns, 1000);

  EXPECT_TRUE(catalog_->insert_order_if_absent(order("market-order")));
  EXPECT_FALSE(catalog_->get_order("market-order")->limit_price.has_value());
  EXPECT_FALSE(catalog_->get_order("missing").has_value());
}

TEST_F(LedgerTest, OrdersUpdateAndList) {
  catalog_->insert_order_if_absent(order("a"));
  auto b = order("b", "sell");
  b.strategy = "other";
  b.created_at_ns = 500;  // earlier
  catalog_->insert_order_if_absent(b);

  catalog_->update_order("a", "accepted", "", "paper-1");
  catalog_->update_order("a", "filled", "", "");  // empty keeps the broker's id
  auto a = catalog_->get_order("a");
  EXPECT_EQ(a->status, "filled");
  EXPECT_EQ(a->broker_order_id, "paper-1");
  catalog_->update_order("b", "denied", "max_order_notional: 5000.00 > 1000.00", "");
  EXPECT_EQ(catalog_->get_order("b")->reason, "max_order_notional: 5000.00 > 1000.00");
  EXPECT_EQ(category_of([&] { catalog_->update_order("zzz", "filled", "", ""); }),
            ErrorCategory::kNotFound);

  auto all = catalog_->list_orders();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].client_order_id, "b");  // by creation time
  EXPECT_EQ(all[1].client_order_id, "a");
  auto sma = catalog_->list_orders("sma");
  ASSERT_EQ(sma.size(), 1u);
  EXPECT_EQ(sma[0].client_order_id, "a");
}

TEST_F(LedgerTest, OrdersRejectBadSidesAndQuantities) {
  EXPECT_EQ(category_of([&] { catalog_->insert_order_if_absent(order("x", "hold")); }),
            ErrorCategory::kInvalidInput);
  auto zero = order("y");
  zero.qty = 0;
  EXPECT_EQ(category_of([&] { catalog_->insert_order_if_absent(zero); }),
            ErrorCategory::kInvalidInput);
  EXPECT_TRUE(catalog_->list_orders().empty());
}

// The worked example, every number by hand (commission 1 per fill, initial cash 10,000):
TEST_F(LedgerTest, PositionMathThroughBuysSellsReducingClosingAndFlipping) {
  EXPECT_DOUBLE_EQ(catalog_->account_cash("paper", 10'000), 10'000);

  auto p = fill("buy", 10, 100);  // open long
  EXPECT_DOUBLE_EQ(p.qty, 10);
  EXPECT_DOUBLE_EQ(p.avg_price, 100);
  EXPECT_DOUBLE_EQ(p.realized_pnl, 0);
  EXPECT_DOUBLE_EQ(catalog_->account_cash("paper", 10'000), 8'999);  // -1,000 - 1

  p = fill("buy", 10, 110);  // add: avg (10*100 + 10*110) / 20
  EXPECT_DOUBLE_EQ(p.qty, 20);
  EXPECT_DOUBLE_EQ(p.avg_price, 105);
  EXPECT_DOUBLE_EQ(catalog_->account_cash("paper", 10'000), 7'898);  // -1,100 - 1

  p = fill("sell", 15, 120);  // reduce: 15 * (120 - 105)
  EXPECT_DOUBLE_EQ(p.qty, 5);
  EXPECT_DOUBLE_EQ(p.avg_price, 105);
  EXPECT_DOUBLE_EQ(p.realized_pnl, 225);
  EXPECT_DOUBLE_EQ(catalog_->account_cash("paper", 10'000), 9'697);  // +1,800 - 1

  p = fill("sell", 10, 100);  // close 5 at 5 * (100 - 105), flip: short 5 at 100
  EXPECT_DOUBLE_EQ(p.qty, -5);
  EXPECT_DOUBLE_EQ(p.avg_price, 100);
  EXPECT_DOUBLE_EQ(p.realized_pnl, 200);
  EXPECT_DOUBLE_EQ(catalog_->account_cash("paper", 10'000), 10'696);  // +1,000 - 1

  p = fill("sell", 5, 90);  // add to the short: avg (5*100 + 5*90) / 10
  EXPECT_DOUBLE_EQ(p.qty, -10);
  EXPECT_DOUBLE_EQ(p.avg_price, 95);
  EXPECT_DOUBLE_EQ(p.realized_pnl, 200);
  EXPECT_DOUBLE_EQ(catalog_->account_cash("paper", 10'000), 11'145);  // +450 - 1

  p = fill("buy", 4, 80);  // cover 4: a short gains 4 * (95 - 80)
  EXPECT_DOUBLE_EQ(p.qty, -6);
  EXPECT_DOUBLE_EQ(p.avg_price, 95);
  EXPECT_DOUBLE_EQ(p.realized_pnl, 260);
  EXPECT_DOUBLE_EQ(catalog_->account_cash("paper", 10'000), 10'824);  // -320 - 1

  p = fill("buy", 6, 100);  // cover the rest: loses 6 * (100 - 95); flat
  EXPECT_DOUBLE_EQ(p.qty, 0);
  EXPECT_DOUBLE_EQ(p.avg_price, 0);
  EXPECT_DOUBLE_EQ(p.realized_pnl, 230);
  EXPECT_DOUBLE_EQ(catalog_->account_cash("paper", 10'000), 10'223);  // -600 - 1

  p = fill("buy", 3, 50);  // reopen from flat
  EXPECT_DOUBLE_EQ(p.qty, 3);
  EXPECT_DOUBLE_EQ(p.avg_price, 50);
  EXPECT_DOUBLE_EQ(p.realized_pnl, 230);
  const double cash = catalog_->account_cash("paper", 10'000);
  EXPECT_DOUBLE_EQ(cash, 10'072);  // -150 - 1
  // Books balance: cash + position at cost = initial + realized - commissions.
  EXPECT_DOUBLE_EQ(cash + p.qty * p.avg_price, 10'000 + 230 - 8);
  EXPECT_EQ(p.updated_at_ns, 8);  // the fill's time
}

TEST_F(LedgerTest, PureMathIgnoresFloatDustWhenClosing) {
  PositionRecord p{"a", "X"};
  for (int i = 0; i < 3; ++i) p = apply_fill_to_position(p, +1, 0.1, 10);
  p = apply_fill_to_position(p, -1, 0.3, 11);  // 0.1+0.1+0.1 != 0.3 in binary
  EXPECT_EQ(p.qty, 0);
  EXPECT_EQ(p.avg_price, 0);
  EXPECT_NEAR(p.realized_pnl, 0.3, 1e-12);
  // A short that flips long in one fill.
  p = apply_fill_to_position(PositionRecord{"a", "X", -2, 50, 0, 0}, +1, 5, 40);
  EXPECT_EQ(p.qty, 3);
  EXPECT_EQ(p.avg_price, 40);
  EXPECT_EQ(p.realized_pnl, 20);  // 2 * (50 - 40)
}

TEST_F(LedgerTest, DuplicateFillIdChangesNothing) {
  catalog_->account_cash("paper", 1'000);
  FillRecord f{"paper-o1-1", "o1", "AAPL", "buy", 5, 10, 0.5, 42};
  EXPECT_TRUE(catalog_->apply_fill("paper", f));
  const auto position = catalog_->get_position("paper", "AAPL");
  const double cash = catalog_->account_cash("paper", 1'000);
  EXPECT_DOUBLE_EQ(cash, 1'000 - 50 - 0.5);

  EXPECT_FALSE(catalog_->apply_fill("paper", f));
  auto changed = f;
  changed.qty = 500;  // same id, different content: still the same fill
  EXPECT_FALSE(catalog_->apply_fill("paper", changed));

  EXPECT_EQ(catalog_->list_fills().size(), 1u);
  EXPECT_DOUBLE_EQ(catalog_->get_position("paper", "AAPL")->qty, position->qty);
  EXPECT_DOUBLE_EQ(catalog_->account_cash("paper", 1'000), cash);
}

TEST_F(LedgerTest, FillsListByOrderInTimeOrder) {
  catalog_->apply_fill("paper", {"f2", "o1", "AAPL", "buy", 1, 10, 0, 20});
  catalog_->apply_fill("paper", {"f1", "o1", "AAPL", "buy", 2, 11, 0.25, 10});
  catalog_->apply_fill("paper", {"f3", "o2", "MSFT", "sell", 3, 12, 0, 30});
  auto o1 = catalog_->list_fills("o1");
  ASSERT_EQ(o1.size(), 2u);
  EXPECT_EQ(o1[0].fill_id, "f1");
  EXPECT_EQ(o1[0].qty, 2);
  EXPECT_EQ(o1[0].price, 11);
  EXPECT_EQ(o1[0].commission, 0.25);
  EXPECT_EQ(o1[0].side, "buy");
  EXPECT_EQ(o1[0].symbol, "AAPL");
  EXPECT_EQ(o1[0].ts_ns, 10);
  EXPECT_EQ(o1[1].fill_id, "f2");
  EXPECT_EQ(catalog_->list_fills().size(), 3u);
  EXPECT_TRUE(catalog_->list_fills("o9").empty());
}

TEST_F(LedgerTest, FillsRejectBadInput) {
  EXPECT_EQ(category_of([&] {
              catalog_->apply_fill("paper", {"f", "o", "AAPL", "short", 1, 10, 0, 0});
            }),
            ErrorCategory::kInvalidInput);
  EXPECT_EQ(category_of([&] {
              catalog_->apply_fill("paper", {"f", "o", "AAPL", "buy", -1, 10, 0, 0});
            }),
            ErrorCategory::kInvalidInput);
  EXPECT_TRUE(catalog_->list_fills().empty());
  EXPECT_FALSE(catalog_->get_position("paper", "AAPL").has_value());
}

TEST_F(LedgerTest, AccountCashIsCreatedOnceAndCanFollowAnEarlierFill) {
  // A fill may reach the ledger before anyone asked for the account's cash.
  catalog_->apply_fill("acct", {"f1", "o1", "AAPL", "sell", 2, 50, 1, 0});
  EXPECT_DOUBLE_EQ(catalog_->account_cash("acct", 1'000), 1'000 + 100 - 1);
  EXPECT_DOUBLE_EQ(catalog_->account_cash("acct", 5'000), 1'099);  // initial fixed once
  EXPECT_DOUBLE_EQ(catalog_->account_cash("other", 7), 7);

  auto positions = catalog_->list_positions("acct");
  ASSERT_EQ(positions.size(), 1u);
  EXPECT_EQ(positions[0].qty, -2);
  catalog_->apply_fill("other", {"f2", "o2", "MSFT", "buy", 1, 5, 0, 0});
  EXPECT_EQ(catalog_->list_positions().size(), 2u);
  EXPECT_EQ(catalog_->list_positions("other")[0].symbol, "MSFT");
}

TEST_F(LedgerTest, ConcurrentFillsFromManyConnectionsAreEachAppliedOnce) {
  catalog_->account_cash("paper", 0);
  constexpr int kThreads = 4, kFills = 40;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto c = open_sqlite_catalog(dir_ / "catalog.db");
      // Every thread offers every fill: each id must be applied by exactly one of them.
      for (int i = 0; i < kFills; ++i) {
        const int id = (i + t * 7) % kFills;
        c->apply_fill("paper", {fmt::format("f{}", id), "o", "AAPL", "buy", 1, 2, 0, id});
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(catalog_->list_fills().size(), static_cast<size_t>(kFills));
  EXPECT_DOUBLE_EQ(catalog_->get_position("paper", "AAPL")->qty, kFills);
  EXPECT_DOUBLE_EQ(catalog_->account_cash("paper", 0), -2.0 * kFills);
}

}  // namespace
}  // namespace trib::catalog

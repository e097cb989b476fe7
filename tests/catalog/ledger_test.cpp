// The order / fill / position ledger on every backend: idempotent orders and fills, average-cost
// position math checked against hand-computed numbers, exact micro-unit sums, account cash, and
// fills and cash offered concurrently from many connections.
#include <latch>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "catalog_fixture.hpp"
#include "trib/catalog/catalog.hpp"
#include "trib/core/error.hpp"

namespace trib::catalog {
namespace {

using testing::category_of;

Micros M(const char* text) { return Micros::parse(text); }

class LedgerTest : public CatalogTest {
 protected:
  static OrderRecord order(const std::string& id, Side side = Side::kBuy) {
    OrderRecord o;
    o.client_order_id = id;
    o.strategy = "sma";
    o.symbol = "AAPL";
    o.side = side;
    o.qty = M("10");
    o.session_date = "2024-01-05";
    o.status = OrderStatus::kNew;
    o.broker = "paper";
    o.created_at_ns = 1000;
    return o;
  }

  // Applies a fill of `qty` at `price` with commission 1 and returns the position after it.
  PositionRecord fill(Side side, const char* qty, const char* price) {
    const std::string id = fmt::format("f{}", ++fills_);
    EXPECT_TRUE(
        catalog_->apply_fill("paper", {id, "o1", "AAPL", side, M(qty), M(price), M("1"), fills_}));
    auto p = catalog_->get_position("paper", "AAPL");
    EXPECT_TRUE(p.has_value());
    return p.value_or(PositionRecord{});
  }

  int fills_ = 0;
};

INSTANTIATE_TEST_SUITE_P(Backends, LedgerTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres), backend_name);

TEST_P(LedgerTest, OrdersInsertOnceByClientOrderId) {
  auto o = order("sma-AAPL-2024-01-05");
  o.order_type = "limit";
  o.limit_price = M("101.5");
  o.reason = "why";
  o.broker_order_id = "b-1";
  EXPECT_TRUE(catalog_->insert_order_if_absent(o));
  auto second = o;
  second.qty = M("99");
  EXPECT_FALSE(catalog_->insert_order_if_absent(second));  // the first one stands

  auto got = catalog_->get_order(o.client_order_id);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->client_order_id, o.client_order_id);
  EXPECT_EQ(got->qty, M("10"));
  EXPECT_EQ(got->strategy, "sma");
  EXPECT_EQ(got->symbol, "AAPL");
  EXPECT_EQ(got->side, Side::kBuy);
  EXPECT_EQ(got->order_type, "limit");
  EXPECT_EQ(got->limit_price, M("101.5"));
  EXPECT_EQ(got->session_date, "2024-01-05");
  EXPECT_EQ(got->status, OrderStatus::kNew);
  EXPECT_EQ(got->reason, "why");
  EXPECT_EQ(got->broker, "paper");
  EXPECT_EQ(got->broker_order_id, "b-1");
  EXPECT_EQ(got->created_at_ns, 1000);

  EXPECT_TRUE(catalog_->insert_order_if_absent(order("market-order")));
  EXPECT_FALSE(catalog_->get_order("market-order")->limit_price.has_value());
  EXPECT_FALSE(catalog_->get_order("missing").has_value());
}

TEST_P(LedgerTest, OrdersUpdateAndList) {
  catalog_->insert_order_if_absent(order("a"));
  auto b = order("b", Side::kSell);
  b.strategy = "other";
  b.created_at_ns = 500;  // earlier
  catalog_->insert_order_if_absent(b);

  catalog_->update_order("a", OrderStatus::kAccepted, "", "paper-1");
  catalog_->update_order("a", OrderStatus::kFilled, "", "");  // empty keeps the broker's id
  auto a = catalog_->get_order("a");
  EXPECT_EQ(a->status, OrderStatus::kFilled);
  EXPECT_EQ(a->broker_order_id, "paper-1");
  catalog_->update_order("b", OrderStatus::kDenied, "max_order_notional: 5000.00 > 1000.00", "");
  EXPECT_EQ(catalog_->get_order("b")->reason, "max_order_notional: 5000.00 > 1000.00");
  EXPECT_EQ(catalog_->get_order("b")->status, OrderStatus::kDenied);
  EXPECT_EQ(category_of([&] { catalog_->update_order("zzz", OrderStatus::kFilled, "", ""); }),
            ErrorCategory::kNotFound);

  auto all = catalog_->list_orders();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].client_order_id, "b");  // by creation time
  EXPECT_EQ(all[1].client_order_id, "a");
  auto sma = catalog_->list_orders("sma");
  ASSERT_EQ(sma.size(), 1u);
  EXPECT_EQ(sma[0].client_order_id, "a");
}

TEST_P(LedgerTest, OrdersRejectBadQuantitiesAndIds) {
  // (A bad side can no longer be expressed: Side is an enum, checked by the schema as well.)
  auto zero = order("y");
  zero.qty = Micros();
  EXPECT_EQ(category_of([&] { catalog_->insert_order_if_absent(zero); }),
            ErrorCategory::kInvalidInput);
  auto negative = order("z");
  negative.qty = M("-1");
  EXPECT_EQ(category_of([&] { catalog_->insert_order_if_absent(negative); }),
            ErrorCategory::kInvalidInput);
  EXPECT_EQ(category_of([&] { catalog_->insert_order_if_absent(order("")); }),
            ErrorCategory::kInvalidInput);
  EXPECT_TRUE(catalog_->list_orders().empty());
}

// The worked example, every number by hand (commission 1 per fill, initial cash 10,000):
TEST_P(LedgerTest, PositionMathThroughBuysSellsReducingClosingAndFlipping) {
  EXPECT_EQ(catalog_->account_cash("paper", M("10000")), M("10000"));

  auto p = fill(Side::kBuy, "10", "100");  // open long
  EXPECT_EQ(p.qty, M("10"));
  EXPECT_EQ(p.avg_price, M("100"));
  EXPECT_EQ(p.realized_pnl, M("0"));
  EXPECT_EQ(catalog_->account_cash("paper", M("10000")), M("8999"));  // -1,000 - 1

  p = fill(Side::kBuy, "10", "110");  // add: avg (10*100 + 10*110) / 20
  EXPECT_EQ(p.qty, M("20"));
  EXPECT_EQ(p.avg_price, M("105"));
  EXPECT_EQ(catalog_->account_cash("paper", M("10000")), M("7898"));  // -1,100 - 1

  p = fill(Side::kSell, "15", "120");  // reduce: 15 * (120 - 105)
  EXPECT_EQ(p.qty, M("5"));
  EXPECT_EQ(p.avg_price, M("105"));
  EXPECT_EQ(p.realized_pnl, M("225"));
  EXPECT_EQ(catalog_->account_cash("paper", M("10000")), M("9697"));  // +1,800 - 1

  p = fill(Side::kSell, "10", "100");  // close 5 at 5 * (100 - 105), flip: short 5 at 100
  EXPECT_EQ(p.qty, M("-5"));
  EXPECT_EQ(p.avg_price, M("100"));
  EXPECT_EQ(p.realized_pnl, M("200"));
  EXPECT_EQ(catalog_->account_cash("paper", M("10000")), M("10696"));  // +1,000 - 1

  p = fill(Side::kSell, "5", "90");  // add to the short: avg (5*100 + 5*90) / 10
  EXPECT_EQ(p.qty, M("-10"));
  EXPECT_EQ(p.avg_price, M("95"));
  EXPECT_EQ(p.realized_pnl, M("200"));
  EXPECT_EQ(catalog_->account_cash("paper", M("10000")), M("11145"));  // +450 - 1

  p = fill(Side::kBuy, "4", "80");  // cover 4: a short gains 4 * (95 - 80)
  EXPECT_EQ(p.qty, M("-6"));
  EXPECT_EQ(p.avg_price, M("95"));
  EXPECT_EQ(p.realized_pnl, M("260"));
  EXPECT_EQ(catalog_->account_cash("paper", M("10000")), M("10824"));  // -320 - 1

  p = fill(Side::kBuy, "6", "100");  // cover the rest: loses 6 * (100 - 95); flat
  EXPECT_EQ(p.qty, M("0"));
  EXPECT_EQ(p.avg_price, M("0"));
  EXPECT_EQ(p.realized_pnl, M("230"));
  EXPECT_EQ(catalog_->account_cash("paper", M("10000")), M("10223"));  // -600 - 1

  p = fill(Side::kBuy, "3", "50");  // reopen from flat
  EXPECT_EQ(p.qty, M("3"));
  EXPECT_EQ(p.avg_price, M("50"));
  EXPECT_EQ(p.realized_pnl, M("230"));
  const Micros cash = catalog_->account_cash("paper", M("10000"));
  EXPECT_EQ(cash, M("10072"));  // -150 - 1
  // Books balance: cash + position at cost = initial + realized - commissions.
  EXPECT_EQ(cash + mul(p.qty, p.avg_price), M("10000") + M("230") - M("8"));
  EXPECT_EQ(p.updated_at_ns, 8);  // the fill's time
  EXPECT_EQ(p.account, "paper");
  EXPECT_EQ(p.symbol, "AAPL");
}

TEST_P(LedgerTest, PureMathIsExactWhenClosingInSmallLots) {
  PositionRecord p{"a", "X", {}, {}, {}, 0};
  for (int i = 0; i < 3; ++i) p = apply_fill_to_position(p, Side::kBuy, M("0.1"), M("10"));
  EXPECT_EQ(p.qty, M("0.3"));  // exactly: no binary dust to ignore
  p = apply_fill_to_position(p, Side::kSell, M("0.3"), M("11"));
  EXPECT_EQ(p.qty, M("0"));
  EXPECT_EQ(p.avg_price, M("0"));
  EXPECT_EQ(p.realized_pnl, M("0.3"));
  // A short that flips long in one fill.
  p = apply_fill_to_position(PositionRecord{"a", "X", M("-2"), M("50"), M("0"), 0}, Side::kBuy,
                             M("5"), M("40"));
  EXPECT_EQ(p.qty, M("3"));
  EXPECT_EQ(p.avg_price, M("40"));
  EXPECT_EQ(p.realized_pnl, M("20"));  // 2 * (50 - 40)
}

// Ten fills of 0.1 shares at 0.1 sum to exactly one share and exactly 0.1 of cash: what a sum of
// doubles (0.1 * 10 = 0.9999999999999999) cannot promise.
TEST_P(LedgerTest, MicroUnitsSumExactly) {
  catalog_->account_cash("paper", M("1"));
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(catalog_->apply_fill(
        "paper", {fmt::format("f{}", i), "o1", "AAPL", Side::kBuy, M("0.1"), M("0.1"), M("0"), i}));
  }
  const auto p = catalog_->get_position("paper", "AAPL");
  EXPECT_EQ(p->qty, M("1"));
  EXPECT_EQ(p->qty.raw(), 1'000'000);
  EXPECT_EQ(p->avg_price, M("0.1"));
  EXPECT_EQ(catalog_->account_cash("paper", M("1")), M("0.9"));  // 1 - 10 * 0.01
  // A sub-cent commission and a price with six decimals are kept to the micro-unit.
  ASSERT_TRUE(catalog_->apply_fill("paper", {"f-odd", "o2", "AAPL", Side::kSell, M("0.000001"),
                                             M("123.456789"), M("0.000123"), 20}));
  EXPECT_EQ(catalog_->account_cash("paper", M("1")), M("0.9") + M("0.000123") - M("0.000123"));
  EXPECT_EQ(catalog_->get_position("paper", "AAPL")->qty, M("0.999999"));
  const auto fills = catalog_->list_fills("o2");
  ASSERT_EQ(fills.size(), 1u);
  EXPECT_EQ(fills[0].price.raw(), 123'456'789);
  EXPECT_EQ(fills[0].commission.raw(), 123);
}

TEST_P(LedgerTest, DuplicateFillIdChangesNothing) {
  catalog_->account_cash("paper", M("1000"));
  FillRecord f{"paper-o1-1", "o1", "AAPL", Side::kBuy, M("5"), M("10"), M("0.5"), 42};
  EXPECT_TRUE(catalog_->apply_fill("paper", f));
  const auto position = catalog_->get_position("paper", "AAPL");
  const Micros cash = catalog_->account_cash("paper", M("1000"));
  EXPECT_EQ(cash, M("949.5"));  // 1,000 - 50 - 0.5

  EXPECT_FALSE(catalog_->apply_fill("paper", f));
  auto changed = f;
  changed.qty = M("500");  // same id, different content: still the same fill
  EXPECT_FALSE(catalog_->apply_fill("paper", changed));
  EXPECT_FALSE(catalog_->apply_fill("other-account", changed));

  EXPECT_EQ(catalog_->list_fills().size(), 1u);
  EXPECT_EQ(catalog_->get_position("paper", "AAPL")->qty, position->qty);
  EXPECT_EQ(catalog_->account_cash("paper", M("1000")), cash);
  EXPECT_FALSE(catalog_->get_position("other-account", "AAPL").has_value());
}

TEST_P(LedgerTest, FillsListByOrderInTimeOrder) {
  catalog_->apply_fill("paper", {"f2", "o1", "AAPL", Side::kBuy, M("1"), M("10"), M("0"), 20});
  catalog_->apply_fill("paper", {"f1", "o1", "AAPL", Side::kBuy, M("2"), M("11"), M("0.25"), 10});
  catalog_->apply_fill("paper", {"f3", "o2", "MSFT", Side::kSell, M("3"), M("12"), M("0"), 30});
  auto o1 = catalog_->list_fills("o1");
  ASSERT_EQ(o1.size(), 2u);
  EXPECT_EQ(o1[0].fill_id, "f1");
  EXPECT_EQ(o1[0].client_order_id, "o1");
  EXPECT_EQ(o1[0].qty, M("2"));
  EXPECT_EQ(o1[0].price, M("11"));
  EXPECT_EQ(o1[0].commission, M("0.25"));
  EXPECT_EQ(o1[0].side, Side::kBuy);
  EXPECT_EQ(o1[0].symbol, "AAPL");
  EXPECT_EQ(o1[0].ts_ns, 10);
  EXPECT_EQ(o1[1].fill_id, "f2");
  EXPECT_EQ(catalog_->list_fills().size(), 3u);
  EXPECT_EQ(catalog_->list_fills()[2].side, Side::kSell);
  EXPECT_TRUE(catalog_->list_fills("o9").empty());
}

TEST_P(LedgerTest, FillsRejectBadInput) {
  EXPECT_EQ(
      category_of([&] {
        catalog_->apply_fill("paper", {"f", "o", "AAPL", Side::kBuy, M("-1"), M("10"), M("0"), 0});
      }),
      ErrorCategory::kInvalidInput);
  EXPECT_EQ(
      category_of([&] {
        catalog_->apply_fill("paper", {"f", "o", "AAPL", Side::kBuy, M("0"), M("10"), M("0"), 0});
      }),
      ErrorCategory::kInvalidInput);
  EXPECT_EQ(category_of([&] {
              catalog_->apply_fill("paper",
                                   {"f", "o", "AAPL", Side::kBuy, M("1"), M("-0.01"), M("0"), 0});
            }),
            ErrorCategory::kInvalidInput);
  EXPECT_EQ(category_of([&] {
              catalog_->apply_fill("", {"f", "o", "AAPL", Side::kBuy, M("1"), M("1"), M("0"), 0});
            }),
            ErrorCategory::kInvalidInput);
  EXPECT_EQ(
      category_of([&] {
        catalog_->apply_fill("paper", {"", "o", "AAPL", Side::kBuy, M("1"), M("1"), M("0"), 0});
      }),
      ErrorCategory::kInvalidInput);
  EXPECT_TRUE(catalog_->list_fills().empty());
  EXPECT_FALSE(catalog_->get_position("paper", "AAPL").has_value());
}

TEST_P(LedgerTest, AccountCashIsCreatedOnceAndCanFollowAnEarlierFill) {
  // A fill may reach the ledger before anyone asked for the account's cash.
  catalog_->apply_fill("acct", {"f1", "o1", "AAPL", Side::kSell, M("2"), M("50"), M("1"), 0});
  EXPECT_EQ(catalog_->account_cash("acct", M("1000")), M("1099"));  // 1,000 + 100 - 1
  EXPECT_EQ(catalog_->account_cash("acct", M("5000")), M("1099"));  // initial fixed once
  EXPECT_EQ(catalog_->account_cash("other", M("7")), M("7"));
  EXPECT_EQ(catalog_->account_cash("other", M("8")), M("7"));
  EXPECT_EQ(category_of([&] { catalog_->account_cash("", M("1")); }), ErrorCategory::kInvalidInput);

  auto positions = catalog_->list_positions("acct");
  ASSERT_EQ(positions.size(), 1u);
  EXPECT_EQ(positions[0].qty, M("-2"));
  EXPECT_EQ(positions[0].avg_price, M("50"));
  catalog_->apply_fill("other", {"f2", "o2", "MSFT", Side::kBuy, M("1"), M("5"), M("0"), 0});
  EXPECT_EQ(catalog_->list_positions().size(), 2u);
  EXPECT_EQ(catalog_->list_positions("other")[0].symbol, "MSFT");
  EXPECT_EQ(catalog_->list_positions()[0].account, "acct");  // by account, symbol
  EXPECT_TRUE(catalog_->list_positions("nobody").empty());
}

TEST_P(LedgerTest, ConcurrentFillsFromManyConnectionsAreEachAppliedOnce) {
  catalog_->account_cash("paper", M("0"));
  constexpr int kThreads = 4, kFills = 40;
  std::vector<std::thread> threads;
  std::atomic<int> applied{0}, failures{0};
  std::latch start(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      try {
        auto c = open();
        start.arrive_and_wait();
        // Every thread offers every fill: each id must be applied by exactly one of them.
        for (int i = 0; i < kFills; ++i) {
          const int id = (i + t * 7) % kFills;
          if (c->apply_fill("paper", {fmt::format("f{}", id), "o", "AAPL", Side::kBuy, M("0.1"),
                                      M("2.5"), M("0.01"), id})) {
            applied.fetch_add(1);
          }
        }
      } catch (const std::exception& e) {
        ADD_FAILURE() << "thread " << t << ": " << e.what();
        failures.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(applied.load(), kFills);
  EXPECT_EQ(catalog_->list_fills().size(), static_cast<size_t>(kFills));
  EXPECT_EQ(catalog_->get_position("paper", "AAPL")->qty, M("4"));  // 40 x 0.1
  EXPECT_EQ(catalog_->get_position("paper", "AAPL")->avg_price, M("2.5"));
  EXPECT_EQ(catalog_->account_cash("paper", M("0")), M("-10.4"));  // 40 x (0.25 + 0.01)
}

TEST_P(LedgerTest, TheFirstCallerNamesTheInitialCashUnderConcurrency) {
  constexpr int kThreads = 6;
  std::vector<std::thread> threads;
  std::vector<Micros> seen(kThreads);
  std::latch start(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      try {
        auto c = open();
        start.arrive_and_wait();
        seen[t] = c->account_cash("shared", Micros::from_raw((t + 1) * int64_t{1'000'000'000}));
      } catch (const std::exception& e) {
        ADD_FAILURE() << "thread " << t << ": " << e.what();
      }
    });
  }
  for (auto& t : threads) t.join();
  const Micros winner = catalog_->account_cash("shared", M("1"));
  std::set<int64_t> distinct;
  for (const Micros m : seen) distinct.insert(m.raw());
  EXPECT_EQ(distinct.size(), 1u) << "callers saw different initial cash";
  EXPECT_EQ(seen[0], winner);
  EXPECT_EQ(winner.raw() % 1'000'000'000, 0);
  EXPECT_GE(winner.raw(), 1'000'000'000);
  EXPECT_LE(winner.raw(), kThreads * int64_t{1'000'000'000});
}

}  // namespace
}  // namespace trib::catalog

namespace trib::catalog {
namespace {

class TradingLedgerTest : public CatalogTest {};
INSTANTIATE_TEST_SUITE_P(Backends, TradingLedgerTest, ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         backend_name);

OrderRecord stop_order(const std::string& id) {
  OrderRecord o;
  o.client_order_id = id;
  o.strategy = "momentum";
  o.symbol = "MSFT";
  o.qty = Micros::parse("10");
  o.order_type = "stop";
  o.stop_price = Micros::parse("401.25");
  o.account = "alpaca-paper";
  o.session_date = "2024-03-01";
  o.broker = "alpaca";
  o.created_at_ns = 5;
  return o;
}

TEST_P(TradingLedgerTest, AnOrderUpdateAndItsFillsLandTogetherAndOnce) {
  ASSERT_TRUE(catalog_->insert_order_if_absent(stop_order("o1")));
  auto o = catalog_->get_order("o1");
  ASSERT_TRUE(o);
  EXPECT_EQ(o->account, "alpaca-paper");
  EXPECT_EQ(o->stop_price, Micros::parse("401.25"));
  EXPECT_EQ(o->filled_qty, Micros());
  const FillRecord f1{"b1-1", "o1", "MSFT", Side::kBuy, Micros::parse("4"), Micros::parse("402"), Micros(), 10};
  const FillRecord f2{"b1-2", "o1", "MSFT", Side::kBuy, Micros::parse("6"), Micros::parse("403"), Micros(), 11};
  EXPECT_EQ(catalog_->apply_order_update("alpaca-paper", "o1", OrderStatus::kPartiallyFilled, "", "b1", {f1}), 1);
  o = catalog_->get_order("o1");
  EXPECT_EQ(o->status, OrderStatus::kPartiallyFilled);
  EXPECT_EQ(o->broker_order_id, "b1");
  EXPECT_EQ(o->filled_qty, Micros::parse("4"));
  // The same report again with the rest: only the new fill counts.
  EXPECT_EQ(catalog_->apply_order_update("alpaca-paper", "o1", OrderStatus::kFilled, "", "", {f1, f2}), 1);
  o = catalog_->get_order("o1");
  EXPECT_EQ(o->status, OrderStatus::kFilled);
  EXPECT_EQ(o->broker_order_id, "b1");
  EXPECT_EQ(o->filled_qty, Micros::parse("10"));
  EXPECT_EQ(catalog_->get_position("alpaca-paper", "MSFT")->qty, Micros::parse("10"));
  // An order the ledger does not have: nothing is applied.
  const FillRecord stray{"b9-1", "o9", "MSFT", Side::kBuy, Micros::parse("1"), Micros::parse("400"), Micros(), 12};
  EXPECT_EQ(category_of([&] { catalog_->apply_order_update("alpaca-paper", "o9", OrderStatus::kFilled, "", "", {stray}); }),
            ErrorCategory::kNotFound);
  EXPECT_TRUE(catalog_->list_fills("o9").empty());
  EXPECT_EQ(catalog_->get_position("alpaca-paper", "MSFT")->qty, Micros::parse("10"));
}

TEST_P(TradingLedgerTest, TradingStateAndDenialsAreKept) {
  EXPECT_FALSE(catalog_->get_trading_state("paper"));
  TradingStateRecord t;
  t.account = "paper";
  t.state = "HALTED";
  t.reason = "trib halt: \"market closed early\"";
  t.peak_equity = Micros::parse("123456.78");
  t.last_equity = Micros::parse("120000");
  t.last_session = "2024-03-01";
  catalog_->put_trading_state(t);
  auto back = catalog_->get_trading_state("paper");
  ASSERT_TRUE(back);
  EXPECT_EQ(back->state, "HALTED");
  EXPECT_EQ(back->reason, t.reason);
  EXPECT_EQ(back->peak_equity, t.peak_equity);
  EXPECT_EQ(back->last_session, "2024-03-01");
  t.state = "ACTIVE";
  catalog_->put_trading_state(t);
  EXPECT_EQ(catalog_->get_trading_state("paper")->state, "ACTIVE");
  t.state = "PAUSED";
  EXPECT_EQ(category_of([&] { catalog_->put_trading_state(t); }), ErrorCategory::kInvalidInput);

  RiskDenialRecord d;
  d.account = "paper";
  d.client_order_id = "sma-AAPL-20240301-0a0b0c0d";
  d.strategy = "sma_cross";
  d.symbol = "AAPL";
  d.qty = Micros::parse("500");
  d.rule = "max_order_notional";
  d.reason = "buy 500 AAPL @ 180.00: notional 90000.00 > max_order_notional 25000.00";
  d.session_date = "2024-03-01";
  catalog_->record_denial(d);
  d.account = "other";
  catalog_->record_denial(d);
  const auto denials = catalog_->list_denials("paper");
  ASSERT_EQ(denials.size(), 1u);
  EXPECT_EQ(denials[0].rule, "max_order_notional");
  EXPECT_EQ(denials[0].reason, d.reason);
  EXPECT_EQ(denials[0].qty, Micros::parse("500"));
  EXPECT_EQ(catalog_->list_denials().size(), 2u);
  // A denial takes no client order id: the order may still be placed.
  EXPECT_FALSE(catalog_->get_order(d.client_order_id));
}

}  // namespace
}  // namespace trib::catalog

namespace trib::catalog {
namespace {

class AdjustmentTest : public CatalogTest {};
INSTANTIATE_TEST_SUITE_P(Backends, AdjustmentTest, ::testing::Values(Backend::kSqlite, Backend::kPostgres), backend_name);

TEST_P(AdjustmentTest, SplitsAndDividendsMoveThePositionAndTheCashOnce) {
  const Micros initial = Micros::parse("10000");
  catalog_->account_cash("paper", initial);
  ASSERT_TRUE(catalog_->apply_fill("paper", {"f1", "o1", "AAPL", Side::kBuy, Micros::parse("61"), Micros::parse("100"),
                                             Micros(), 1}));
  const Micros after_buy = catalog_->account_cash("paper", initial);  // 10,000 - 6,100
  LedgerAdjustment split;
  split.action_id = "split:AAPL:2020-08-31";
  split.account = "paper";
  split.symbol = "AAPL";
  split.kind = "split";
  split.ratio = 1.5;                               // 61 x 1.5 = 91.5: 91 shares and half a share in cash
  split.fraction_price = Micros::parse("66.5");    // the close before, on the new basis
  split.ex_date = "2020-08-31";
  EXPECT_TRUE(catalog_->apply_adjustment(split));
  EXPECT_FALSE(catalog_->apply_adjustment(split));  // once
  auto p = catalog_->get_position("paper", "AAPL");
  EXPECT_EQ(p->qty, Micros::parse("91"));
  EXPECT_EQ(p->avg_price, Micros::from_double(100 / 1.5));
  EXPECT_EQ(catalog_->account_cash("paper", initial), after_buy + Micros::parse("33.25"));
  LedgerAdjustment dividend;
  dividend.action_id = "dividend:AAPL:2020-11-06";
  dividend.account = "paper";
  dividend.symbol = "AAPL";
  dividend.kind = "dividend";
  dividend.cash_per_share = Micros::parse("0.205");
  dividend.ex_date = "2020-11-06";
  EXPECT_TRUE(catalog_->apply_adjustment(dividend));
  EXPECT_FALSE(catalog_->apply_adjustment(dividend));
  EXPECT_EQ(catalog_->account_cash("paper", initial), after_buy + Micros::parse("33.25") + Micros::parse("18.655"));
  dividend.action_id = "x";
  dividend.kind = "spinoff";
  EXPECT_EQ(category_of([&] { catalog_->apply_adjustment(dividend); }), ErrorCategory::kInvalidInput);
}

}  // namespace
}  // namespace trib::catalog

namespace trib::catalog {
namespace {

// A read-only session (CatalogOptions::read_only, what the LLM assistant's tools get): the
// database refuses every write, the ledger included, and reads see what others wrote.
class ReadOnlyTest : public CatalogTest {};

TEST_P(ReadOnlyTest, TheDatabaseRefusesEveryWrite) {
  CatalogOptions ro;
  ro.read_only = true;
  auto reader = open(ro);
  OrderRecord o;
  o.client_order_id = "ro-1";
  o.strategy = "sma";
  o.symbol = "AAPL";
  o.qty = Micros::parse("1");
  o.session_date = "2024-01-05";
  EXPECT_THROW(reader->insert_order_if_absent(o), Error);
  EXPECT_THROW(reader->apply_fill("paper", {"f1", "ro-1", "AAPL", Side::kBuy, Micros::parse("1"), Micros::parse("10"),
                                            Micros::parse("0"), 1}),
               Error);
  EXPECT_THROW(reader->upsert_instrument("AAPL", "csv", "nyse"), Error);
  TradingStateRecord t;
  t.account = "paper";
  EXPECT_THROW(reader->put_trading_state(t), Error);
  EXPECT_TRUE(catalog_->list_orders().empty());
  EXPECT_TRUE(catalog_->insert_order_if_absent(o));  // the writer is unaffected
  EXPECT_EQ(reader->list_orders().size(), 1u);
  EXPECT_EQ(reader->schema_version(), catalog_->schema_version());
}

INSTANTIATE_TEST_SUITE_P(Backends, ReadOnlyTest, ::testing::Values(Backend::kSqlite, Backend::kPostgres), backend_name);

}  // namespace
}  // namespace trib::catalog

// The end-of-day runner against a real SQLite catalog in a temp folder.
#include "trib/trading/live_runner.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <regex>

#include "trib/core/calendar.hpp"
#include "trib/core/error.hpp"

namespace trib::trading {
namespace {
using namespace legacy;

namespace fs = std::filesystem;

// Always wants the same exposure.
class FixedExposure final : public Strategy {
 public:
  explicit FixedExposure(double exposure) : exposure_(exposure) {}
  std::string name() const override { return "fixed"; }
  int warmup_bars() const override { return 1; }
  double target_exposure(std::span<const Bar>) const override { return exposure_; }

 private:
  double exposure_;
};

Bar daily(Date d, double close) {
  Bar b;
  b.session_date = d;
  b.ts_ns = TradingCalendar::nyse().session_open_ts_ns(d);
  b.open = b.high = b.low = b.close = close;
  b.volume = 1e6;
  return b;
}

CostModel paper_costs() {
  CostModel c;
  c.commission_per_share = 0.005;
  c.min_commission = 1.0;
  c.slippage_bps = 10;  // buys at close * 1.001, sells at close * 0.999
  return c;
}

const Date kFri = Date::from_ymd(2024, 1, 5);

class LiveRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("trib_live_runner_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    catalog_ = catalog::open_sqlite_catalog(dir_ / "catalog.db");
    config_.account = "paper";
    config_.symbol = "AAPL";
    config_.initial_cash = 10'000;
    // Tue 2024-01-02 .. Fri 2024-01-05, last close 100.
    bars_ = {daily(kFri - 3, 97), daily(kFri - 2, 98), daily(kFri - 1, 99), daily(kFri, 100)};
  }
  void TearDown() override {
    catalog_.reset();
    fs::remove_all(dir_);
  }

  CycleResult run(const Strategy& s, const RiskEngine& risk, Broker& broker) {
    return run_eod_cycle(*catalog_, bars_, s, risk, broker, config_);
  }

  fs::path dir_;
  std::unique_ptr<catalog::Catalog> catalog_;
  CycleConfig config_;
  std::vector<Bar> bars_;
  RiskEngine risk_{RiskLimits{}};  // 50,000 position / 25,000 order
};

// Cycle 1 (Fri 2024-01-05, close 100, cash 10,000, flat, exposure 0.5):
//   target trunc(0.5 * 10,000 / 100) = 50 -> buy 50, filled at 100.1 with commission
//   max(1, 50 * 0.005) = 1 -> cash 10,000 - 5,005 - 1 = 4,994, position 50.
TEST_F(LiveRunnerTest, RunningTwiceForTheSameSessionPlacesOneOrder) {
  FixedExposure half(0.5);
  auto broker = make_paper_broker(paper_costs());
  const CycleResult first = run(half, risk_, *broker);
  EXPECT_EQ(first.action, "placed");
  EXPECT_EQ(first.session_date, kFri);
  EXPECT_EQ(first.last_close, 100);
  EXPECT_EQ(first.target_exposure, 0.5);
  EXPECT_EQ(first.current_qty, 0);
  EXPECT_EQ(first.target_qty, 50);
  ASSERT_TRUE(first.order.has_value());
  const std::string id = make_client_order_id({"fixed", "", "paper", "AAPL", kFri});
  EXPECT_EQ(first.order->client_order_id, id);
  EXPECT_EQ(first.order->status, catalog::OrderStatus::kFilled);
  EXPECT_EQ(first.order->side, catalog::Side::kBuy);
  EXPECT_EQ(first.order->qty.to_double(), 50);
  EXPECT_EQ(first.order->session_date, "2024-01-05");
  EXPECT_EQ(first.order->broker, "paper");
  EXPECT_EQ(first.order->broker_order_id, "paper-" + id);
  // 16:00 New York on 2024-01-05 (EST, UTC-5) = 21:00 UTC: no wall clock involved.
  const int64_t close_ts = to_ts_ns(kFri) + 21 * 3600 * kNanosPerSecond;
  EXPECT_EQ(first.order->created_at_ns, close_ts);

  // A second run, even through a fresh broker (a restarted process), sends nothing.
  auto restarted = make_paper_broker(paper_costs());
  const CycleResult second = run(half, risk_, *restarted);
  EXPECT_EQ(second.action, "already_ran");
  ASSERT_TRUE(second.order.has_value());
  EXPECT_EQ(second.order->status, catalog::OrderStatus::kFilled);

  EXPECT_EQ(catalog_->list_orders().size(), 1u);
  const auto fills = catalog_->list_fills();
  ASSERT_EQ(fills.size(), 1u);
  EXPECT_EQ(fills[0].fill_id, "paper-" + id + "-1");
  EXPECT_EQ(fills[0].client_order_id, id);
  EXPECT_EQ(fills[0].side, catalog::Side::kBuy);
  EXPECT_EQ(fills[0].qty.to_double(), 50);
  EXPECT_NEAR(fills[0].price.to_double(), 100.1, 1e-9);
  EXPECT_NEAR(fills[0].commission.to_double(), 1.0, 1e-12);
  EXPECT_EQ(fills[0].ts_ns, close_ts);

  const auto position = catalog_->get_position("paper", "AAPL");
  ASSERT_TRUE(position.has_value());
  EXPECT_EQ(position->qty.to_double(), 50);
  EXPECT_NEAR(catalog_->account_cash("paper", Micros::from_double(10'000)).to_double(), 4'994.0, 1e-9);
  ASSERT_EQ(second.positions.size(), 1u);
  EXPECT_EQ(second.positions[0].qty.to_double(), 50);
}

// Cycle 2 (Mon 2024-01-08, close 110): equity = 4,994 + 50 * 110 = 10,494;
//   target trunc(0.5 * 10,494 / 110 = 47.7) = 47 -> sell 3 at 109.89, commission 1
//   -> cash 4,994 + 329.67 - 1 = 5,322.67, position 47.
TEST_F(LiveRunnerTest, NextSessionSizesAgainstLedgerEquity) {
  FixedExposure half(0.5);
  auto broker = make_paper_broker(paper_costs());
  ASSERT_EQ(run(half, risk_, *broker).action, "placed");
  bars_.push_back(daily(Date::from_ymd(2024, 1, 8), 110));
  const CycleResult next = run(half, risk_, *broker);
  EXPECT_EQ(next.action, "placed");
  EXPECT_EQ(next.current_qty, 50);
  EXPECT_EQ(next.target_qty, 47);
  ASSERT_TRUE(next.order.has_value());
  EXPECT_EQ(next.order->side, catalog::Side::kSell);
  EXPECT_EQ(next.order->qty.to_double(), 3);
  EXPECT_EQ(catalog_->get_position("paper", "AAPL")->qty.to_double(), 47);
  EXPECT_NEAR(catalog_->account_cash("paper", Micros::from_double(10'000)).to_double(), 5'322.67, 1e-6);
  EXPECT_EQ(catalog_->list_orders().size(), 2u);
}

TEST_F(LiveRunnerTest, DenialIsRecordedWithItsReason) {
  FixedExposure half(0.5);
  auto broker = make_paper_broker(paper_costs());
  const RiskEngine tight(RiskLimits{50'000, 1'000});  // the 50 * 100 = 5,000 order is too big
  const CycleResult r = run(half, tight, *broker);
  EXPECT_EQ(r.action, "denied");
  ASSERT_TRUE(r.order.has_value());
  EXPECT_EQ(r.order->status, catalog::OrderStatus::kDenied);
  EXPECT_NE(r.order->reason.find("max_order_notional"), std::string::npos) << r.order->reason;
  EXPECT_NE(r.order->reason.find("5000.00"), std::string::npos) << r.order->reason;
  EXPECT_NE(r.order->reason.find("1000.00"), std::string::npos) << r.order->reason;
  EXPECT_TRUE(catalog_->list_fills().empty());
  const auto position = catalog_->get_position("paper", "AAPL");
  EXPECT_TRUE(!position.has_value() || position->qty.is_zero());
  EXPECT_NEAR(catalog_->account_cash("paper", Micros::from_double(10'000)).to_double(), 10'000, 1e-9);

  // The denial is the session's decision: a rerun does not retry it.
  EXPECT_EQ(run(half, risk_, *broker).action, "already_ran");
  EXPECT_EQ(catalog_->list_orders().size(), 1u);
  EXPECT_EQ(catalog_->get_order(r.order->client_order_id)->status, catalog::OrderStatus::kDenied);
}

TEST_F(LiveRunnerTest, AtTargetPlacesNothing) {
  FixedExposure flat(0.0);
  auto broker = make_paper_broker(paper_costs());
  const CycleResult r = run(flat, risk_, *broker);
  EXPECT_EQ(r.action, "none");
  EXPECT_EQ(r.target_qty, 0);
  EXPECT_FALSE(r.order.has_value());
  EXPECT_TRUE(catalog_->list_orders().empty());
}

// Full exposure (cash 10,000, close 100, buys at 100.1): 100 shares would cost 10,010 + 1.
// The buy is capped at 99 (9,909.90 + the 1.00 minimum commission), leaving 89.10 cash.
TEST_F(LiveRunnerTest, FullExposureBuyIsCappedByCashIncludingCosts) {
  config_.costs = paper_costs();
  auto broker = make_paper_broker(paper_costs());
  const CycleResult r = run(FixedExposure(1.0), risk_, *broker);
  EXPECT_EQ(r.action, "placed");
  EXPECT_EQ(r.target_qty, 100);
  ASSERT_TRUE(r.order.has_value());
  EXPECT_EQ(r.order->qty.to_double(), 99);
  EXPECT_NEAR(catalog_->account_cash("paper", Micros::from_double(10'000)).to_double(), 10'000 - 99 * 100.1 - 1.0, 1e-9);
  EXPECT_GE(catalog_->account_cash("paper", Micros::from_double(10'000)).to_double(), 0.0);

  // Next session, close 89: equity 89.10 + 99 * 89 = 8,900.10 -> target 100, one more share,
  // which costs 89.089 + 1.00 commission: more than the 89.10 cash.
  bars_.push_back(daily(Date::from_ymd(2024, 1, 8), 89));
  const CycleResult next = run(FixedExposure(1.0), risk_, *broker);
  EXPECT_EQ(next.action, "insufficient_cash");
  EXPECT_FALSE(next.order.has_value());
  EXPECT_NEAR(catalog_->account_cash("paper", Micros::from_double(10'000)).to_double(), 10'000 - 99 * 100.1 - 1.0, 1e-9);
}

// Two parameterisations of one strategy, each in its own account, trade the same symbol on the
// same session: both orders are placed (their client order ids differ).
TEST_F(LiveRunnerTest, TwoParameterisationsInTwoAccountsBothTrade) {
  auto broker = make_paper_broker(paper_costs());
  bars_.clear();
  // 40 sessions of rising closes: SMA(2) > SMA(5) and SMA(3) > SMA(8), both long.
  Date d = TradingCalendar::nyse().previous_session(kFri);
  std::vector<Date> days;
  for (int i = 0; i < 40; ++i, d = TradingCalendar::nyse().previous_session(d)) days.push_back(d);
  for (size_t i = days.size(); i-- > 0;) bars_.push_back(daily(days[i], 100.0 + static_cast<double>(days.size() - i)));
  const SmaCrossStrategy a(2, 5), b(3, 8);
  config_.account = "alpha";
  const CycleResult ra = run(a, risk_, *broker);
  config_.account = "beta";
  const CycleResult rb = run(b, risk_, *broker);
  EXPECT_EQ(ra.action, "placed");
  EXPECT_EQ(rb.action, "placed");
  ASSERT_TRUE(ra.order && rb.order);
  EXPECT_NE(ra.order->client_order_id, rb.order->client_order_id);
  EXPECT_GT(catalog_->get_position("alpha", "AAPL")->qty, Micros());
  EXPECT_GT(catalog_->get_position("beta", "AAPL")->qty, Micros());
}

TEST_F(LiveRunnerTest, RejectsEmptyInput) {
  FixedExposure half(0.5);
  auto broker = make_paper_broker(paper_costs());
  bars_.clear();
  EXPECT_THROW(run(half, risk_, *broker), Error);
}

// The strategy decides on the signal bars (adjusted), the order is sized at the raw close: an
// SMA(2/3) cross across a 4:1 split wants out on raw prices (the split looks like a crash) and is
// long on split-adjusted ones.
TEST_F(LiveRunnerTest, TheStrategyDecidesOnTheSignalBarsAndOrdersAreSizedAtTheRawClose) {
  bars_ = {daily(kFri - 3, 400), daily(kFri - 2, 404), daily(kFri - 1, 102), daily(kFri, 103)};
  std::vector<Bar> adjusted = {daily(kFri - 3, 100), daily(kFri - 2, 101), daily(kFri - 1, 102), daily(kFri, 103)};
  auto sma = make_strategy("sma_cross", 2, 3);
  auto broker = make_paper_broker(paper_costs());
  EXPECT_EQ(sma->target_exposure(bars_), 0.0);
  EXPECT_EQ(sma->target_exposure(adjusted), 1.0);
  const auto r = run_eod_cycle(*catalog_, bars_, *sma, risk_, *broker, config_, &adjusted);
  EXPECT_EQ(r.target_exposure, 1.0);
  EXPECT_EQ(r.last_close, 103);
  // Sized at the raw close: trunc(1.0 x 10,000 / 103) = 97 (on the unadjusted 400s it would be 24).
  EXPECT_EQ(r.target_qty, 97);
  std::vector<Bar> short_signal(adjusted.begin() + 1, adjusted.end());
  EXPECT_THROW(run_eod_cycle(*catalog_, bars_, *sma, risk_, *broker, config_, &short_signal), Error);
}

TEST(ClientOrderId, DeterministicAndReadable) {
  const OrderKey key{"sma_cross", "fast=10,slow=30", "paper", "AAPL", kFri};
  const std::string id = make_client_order_id(key);
  EXPECT_TRUE(std::regex_match(id, std::regex("sma_cross-AAPL-20240105-[0-9a-f]{8}"))) << id;
  EXPECT_EQ(id, make_client_order_id(key));
  auto with = [&](auto change) {
    OrderKey k = key;
    change(k);
    return make_client_order_id(k);
  };
  EXPECT_NE(id, with([](OrderKey& k) { k.session = kFri + 3; }));
  EXPECT_NE(id, with([](OrderKey& k) { k.symbol = "MSFT"; }));
  EXPECT_NE(id, with([](OrderKey& k) { k.params = "fast=5,slow=30"; }));
  EXPECT_NE(id, with([](OrderKey& k) { k.account = "paper2"; }));
  // Ambiguous dashes in the readable part are told apart by the hash.
  EXPECT_NE(make_client_order_id({"a-b", "", "p", "C", kFri}), make_client_order_id({"a", "", "p", "b-C", kFri}));
}

}  // namespace
TEST_F(LiveRunnerTest, AnOrderLeftNewByACrashIsResentOnceAndFilledOnce) {
  // A previous cycle recorded its order and died before the broker's answer was recorded.
  FixedExposure half(0.5);
  const std::string id = make_client_order_id({"fixed", "", "paper", "AAPL", kFri});
  catalog::OrderRecord order;
  order.client_order_id = id;
  order.strategy = "fixed";
  order.symbol = "AAPL";
  order.side = catalog::Side::kBuy;
  order.qty = Micros::from_double(49);
  order.session_date = kFri.to_string();
  order.status = catalog::OrderStatus::kNew;
  order.broker = "paper";
  ASSERT_TRUE(catalog_->insert_order_if_absent(order));

  auto broker = make_paper_broker(paper_costs());
  CycleResult resumed = run(half, risk_, *broker);
  EXPECT_EQ(resumed.action, "resumed");
  ASSERT_TRUE(resumed.order.has_value());
  EXPECT_EQ(resumed.order->status, catalog::OrderStatus::kFilled);
  EXPECT_EQ(resumed.order->qty.to_double(), 49) << "the recorded order is sent, not a new decision";
  ASSERT_EQ(catalog_->list_fills(id).size(), 1u);
  EXPECT_EQ(catalog_->get_position("paper", "AAPL")->qty.to_double(), 49);

  // A fresh broker (a restarted process) and another run: nothing more is sent.
  auto broker2 = make_paper_broker(paper_costs());
  EXPECT_EQ(run(half, risk_, *broker2).action, "already_ran");
  EXPECT_EQ(catalog_->list_fills(id).size(), 1u);
  EXPECT_EQ(catalog_->get_position("paper", "AAPL")->qty.to_double(), 49);
}

}  // namespace trib::trading

// The Alpaca broker client against the mock Alpaca Trading API (tests/support/mock_vendor,
// alpaca_trading_routes.cpp: Alpaca's real paths and recorded bodies): account, positions,
// orders by client id with their fills, partial fills, rejections, 429 and 5xx, an answer lost
// after the order was taken (a retry finds it instead of doubling it), cancels, the clock and
// calendar; no error message carries a key.
#include "trib/broker/alpaca_broker.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "../core/test_util.hpp"
#include "mock_vendor.hpp"
#include "trib/core/error.hpp"

namespace trib::broker {
using namespace trading;
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing::MockVendorServer;
using testing::VendorFault;
using json = nlohmann::json;
using catalog::OrderStatus;

class NoSleep : public net::Sleeper {
 public:
  void sleep_ms(int64_t ms) override { slept.push_back(ms); }
  int64_t now_unix_ms() override { return 0; }
  std::vector<int64_t> slept;
};

class AlpacaBrokerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.start();
    control("/_mock/reset?cash=100000");
    control("/_mock/now?ts=2024-03-01T21:30:00Z");  // after Friday's close
  }
  void TearDown() override { control("/_mock/reset?cash=100000"); }

  json control(const std::string& path, const json& body = nullptr) {
    httplib::Client c("127.0.0.1", server_.port());
    auto r = body.is_null() ? c.Post("/alpaca-trading" + path) : c.Post("/alpaca-trading" + path, body.dump(), "application/json");
    EXPECT_TRUE(r) << path;
    return r ? json::parse(r->body, nullptr, false) : json();
  }

  std::unique_ptr<AlpacaBroker> broker(int64_t timeout_ms = 5'000, std::string secret = MockVendorServer::kApiSecret) {
    AlpacaConfig c;
    c.base_url = server_.base_url("alpaca-trading");
    c.key_id = MockVendorServer::kApiKey;
    c.secret_key = std::move(secret);
    c.timeout_ms = timeout_ms;
    c.retry.max_attempts = 4;
    return make_alpaca_broker(c, nullptr, &sleep_);
  }

  static BrokerOrderRequest buy(const std::string& id, const std::string& symbol, double qty) {
    BrokerOrderRequest r;
    r.client_order_id = id;
    r.symbol = symbol;
    r.qty = qty;
    return r;
  }

  size_t orders_at_broker() { return control("/_mock/state")["orders"].size(); }

  MockVendorServer server_;
  NoSleep sleep_;
};

TEST_F(AlpacaBrokerTest, AnOrderIsTakenFilledAtTheOpenAndItsFillsRead) {
  auto b = broker();
  const auto ack = b->submit(buy("sma-AAPL-20240301-0000aaaa", "AAPL", 10));
  EXPECT_EQ(ack.status, OrderStatus::kAccepted);
  EXPECT_EQ(ack.client_order_id, "sma-AAPL-20240301-0000aaaa");
  EXPECT_FALSE(ack.broker_order_id.empty());
  EXPECT_EQ(ack.qty, 10);
  EXPECT_FALSE(b->order("never-sent"));
  control("/_mock/open", {{"prices", {{"AAPL", 180.25}}}});
  const auto o = b->order("sma-AAPL-20240301-0000aaaa");
  ASSERT_TRUE(o);
  EXPECT_EQ(o->status, OrderStatus::kFilled);
  EXPECT_EQ(o->filled_qty, 10);
  ASSERT_EQ(o->fills.size(), 1u);
  EXPECT_EQ(o->fills[0].qty, 10);
  EXPECT_DOUBLE_EQ(o->fills[0].price, 180.25);
  EXPECT_FALSE(o->fills[0].fill_id.empty());
  const auto positions = b->positions();
  ASSERT_EQ(positions.size(), 1u);
  EXPECT_EQ(positions[0].symbol, "AAPL");
  EXPECT_EQ(positions[0].qty, 10);
  const auto account = b->account();
  EXPECT_NEAR(account.cash, 100'000 - 1802.5, 1e-6);
}

TEST_F(AlpacaBrokerTest, PartialFillsAreReportedFillByFill) {
  auto b = broker();
  b->submit(buy("o-partial", "MSFT", 10));
  control("/_mock/open", {{"prices", {{"MSFT", 400}}}, {"fill_fraction", {{"MSFT", 0.5}}}});
  auto o = b->order("o-partial");
  EXPECT_EQ(o->status, OrderStatus::kPartiallyFilled);
  EXPECT_EQ(o->filled_qty, 5);
  control("/_mock/open", {{"prices", {{"MSFT", 402}}}});
  o = b->order("o-partial");
  EXPECT_EQ(o->status, OrderStatus::kFilled);
  ASSERT_EQ(o->fills.size(), 2u);
  EXPECT_NE(o->fills[0].fill_id, o->fills[1].fill_id);
  EXPECT_DOUBLE_EQ(o->fills[1].price, 402);
}

TEST_F(AlpacaBrokerTest, ARetryAfterALostAnswerFindsTheFirstOrder) {
  // The order is taken, then the answer hangs past the client's timeout.
  control("/_mock/script", {{"post_order", "commit_then_hang"}, {"hang_ms", 3000}});
  auto b = broker(/*timeout_ms=*/500);
  const auto ack = b->submit(buy("o-lost", "AAPL", 3));
  EXPECT_EQ(ack.client_order_id, "o-lost");
  EXPECT_EQ(orders_at_broker(), 1u);
  // A 500 after the order was taken: the same.
  control("/_mock/script", {{"post_order", "500_after_commit"}});
  b->submit(buy("o-500", "AAPL", 3));
  EXPECT_EQ(orders_at_broker(), 2u);
  // The runner sending an order again (a crash before it recorded the answer): Alpaca says the
  // id is taken, the client answers with the first order.
  const auto again = b->submit(buy("o-500", "AAPL", 3));
  EXPECT_EQ(again.client_order_id, "o-500");
  EXPECT_EQ(orders_at_broker(), 2u);
}

TEST_F(AlpacaBrokerTest, RateLimitsAndServerErrorsAreRetried) {
  server_.inject("alpaca-trading", {VendorFault::k429, 1, /*retry_after_s=*/2});
  auto b = broker();
  EXPECT_EQ(b->submit(buy("o-429", "AAPL", 1)).status, OrderStatus::kAccepted);
  ASSERT_FALSE(sleep_.slept.empty());
  EXPECT_EQ(sleep_.slept[0], 2000);  // Alpaca's Retry-After
  server_.inject("alpaca-trading", {VendorFault::k503, 2});
  EXPECT_TRUE(b->order("o-429"));
  EXPECT_EQ(orders_at_broker(), 1u);
}

TEST_F(AlpacaBrokerTest, RefusedOrdersComeBackRejectedWithAlpacasReason) {
  auto b = broker();
  server_.add_unknown_symbol("ZZZZ");
  const auto unknown = b->submit(buy("o-unknown", "ZZZZ", 1));
  EXPECT_EQ(unknown.status, OrderStatus::kRejected);
  EXPECT_THAT(unknown.reason, HasSubstr("ZZZZ"));
  control("/_mock/script", {{"post_order", "reject"}});
  EXPECT_EQ(b->submit(buy("o-rejected", "AAPL", 1)).status, OrderStatus::kRejected);
  b->submit(buy("o-rejected-at-open", "MSFT", 1));
  control("/_mock/open", {{"prices", json::object()}, {"reject", {"MSFT"}}});
  EXPECT_EQ(b->order("o-rejected-at-open")->status, OrderStatus::kRejected);
}

TEST_F(AlpacaBrokerTest, CancelClockAndCalendar) {
  auto b = broker();
  b->submit(buy("o-cancel", "AAPL", 1));
  b->cancel("o-cancel");
  EXPECT_EQ(b->order("o-cancel")->status, OrderStatus::kCancelled);
  b->cancel("o-cancel");  // no longer cancelable: nothing to do
  b->cancel("never-sent");
  const auto clock = b->clock();
  EXPECT_FALSE(clock.is_open);
  EXPECT_EQ(format_ts_ns(clock.timestamp_ns), "2024-03-01T21:30:00Z");
  EXPECT_EQ(format_ts_ns(clock.next_open_ns), "2024-03-04T14:30:00Z");  // Monday 09:30 New York
  const auto days = b->calendar(Date::from_ymd(2024, 3, 28), Date::from_ymd(2024, 4, 2));
  ASSERT_EQ(days.size(), 3u);  // Good Friday 03-29 closed
  EXPECT_EQ(days[0], Date::from_ymd(2024, 3, 28));
  EXPECT_EQ(days[1], Date::from_ymd(2024, 4, 1));
}

TEST_F(AlpacaBrokerTest, WrongKeysFailWithoutSayingTheKeys) {
  auto b = broker(5'000, "not-the-secret-9d8c7b");
  try {
    b->account();
    FAIL() << "a wrong secret was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::kPermanent);
    EXPECT_THAT(std::string(e.what()), Not(HasSubstr("not-the-secret-9d8c7b")));
    EXPECT_THAT(std::string(e.what()), Not(HasSubstr(MockVendorServer::kApiKey)));
  }
  ::unsetenv("APCA_API_KEY_ID");
  EXPECT_THROW(AlpacaConfig::from_env("https://paper-api.alpaca.markets"), Error);
}

}  // namespace
}  // namespace trib::broker

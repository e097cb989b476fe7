// The live runner with the paper broker and a SQLite ledger, on a synthetic market: paper trading
// cycle by cycle over past sessions gives the backtest's orders and fills; reruns send nothing
// twice; a denial takes no client order id; halt and resume; one strategy per account; a
// reconciliation difference halts the account.
#include "trib/broker/live_runner.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "../core/test_util.hpp"
#include "trib/core/calendar.hpp"
#include "trib/core/error.hpp"
#include "trib/trading/backtest.hpp"
#include "trib/broker/paper_broker.hpp"

namespace trib::broker {
using namespace trading;
namespace {

using testing::TempDir;

// NYSE sessions from 2021-01-04, three symbols on deterministic random walks.
MarketData synthetic_market(int sessions) {
  MarketData data;
  const TradingCalendar& nyse = TradingCalendar::nyse();
  std::vector<Date> days;
  for (Date d = Date::from_ymd(2021, 1, 4); static_cast<int>(days.size()) < sessions; d = nyse.next_session(d)) {
    days.push_back(d);
  }
  uint64_t state = 42;
  auto next = [&] {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<double>(state >> 11) / 9007199254740992.0;  // [0, 1)
  };
  for (const char* name : {"AAA", "BBB", "CCC"}) {
    SymbolSeries s;
    s.symbol = name;
    double p = 50 + 50 * next();
    for (Date d : days) {
      const double open = p * (1 + 0.01 * (next() - 0.5));
      p *= 1 + 0.04 * (next() - 0.5);
      s.day.push_back(d.days_since_epoch());
      s.open.push_back(open);
      s.close.push_back(p);
      s.high.push_back(std::max(open, p) * 1.005);
      s.low.push_back(std::min(open, p) * 0.995);
      s.volume.push_back(20'000 + 10'000 * next());  // the 5% cap binds on some orders
    }
    data.symbols.push_back(std::move(s));
  }
  return data;
}

// BBB splits 2-for-1 on the 30th session (its raw prices halve; the strategy sees them split-
// adjusted); AAA and CCC pay 0.50 dividends on the 40th and 50th.
MarketData with_actions(MarketData data) {
  SymbolSeries& b = data.symbols[1];
  b.signal_open = b.open;
  b.signal_high = b.high;
  b.signal_low = b.low;
  b.signal_close = b.close;
  b.signal_volume = b.volume;
  for (size_t t = 30; t < b.size(); ++t) {
    b.open[t] /= 2;
    b.high[t] /= 2;
    b.low[t] /= 2;
    b.close[t] /= 2;
    b.volume[t] *= 2;
  }
  for (size_t t = 0; t < b.size(); ++t) {
    if (t < 30) {
      b.signal_open[t] /= 2;
      b.signal_high[t] /= 2;
      b.signal_low[t] /= 2;
      b.signal_close[t] /= 2;
    }
  }
  CorporateAction split;
  split.kind = CorporateAction::Kind::kSplit;
  split.ex_date = Date(b.day[30]);
  split.split_ratio = 2;
  b.actions = {split};
  for (size_t i : {0, 2}) {
    for (size_t t : {40, 50}) {
      CorporateAction dividend;
      dividend.kind = CorporateAction::Kind::kDividend;
      dividend.ex_date = Date(data.symbols[i].day[t]);
      dividend.cash_amount = 0.5;
      data.symbols[i].actions.push_back(dividend);
    }
  }
  return data;
}

// The market as it was known after `day`'s close.
MarketData up_to(const MarketData& data, Date day) {
  MarketData out = data;
  for (auto& s : out.symbols) {
    size_t n = 0;
    while (n < s.size() && s.day[n] <= day.days_since_epoch()) ++n;
    s.day.resize(n);
    for (auto* v : {&s.open, &s.high, &s.low, &s.close, &s.volume}) v->resize(n);
    if (s.has_signal()) {
      for (auto* v : {&s.signal_open, &s.signal_high, &s.signal_low, &s.signal_close, &s.signal_volume}) v->resize(n);
    }
    std::erase_if(s.actions, [&](const CorporateAction& a) { return a.ex_date > day; });
  }
  return out;
}

SplitLookup split_lookup(const MarketData& data) {
  return [&data](const std::string& symbol, Date decided, Date session) {
    double ratio = 1;
    for (const auto& s : data.symbols) {
      if (s.symbol != symbol) continue;
      for (const auto& a : s.actions) {
        if (a.kind == CorporateAction::Kind::kSplit && a.ex_date > decided && a.ex_date <= session) ratio *= a.split_ratio;
      }
    }
    return ratio;
  };
}

BarLookup lookup(const MarketData& data) {
  return [&data](const std::string& symbol, Date day) -> std::optional<BarPrices> {
    for (const auto& s : data.symbols) {
      if (s.symbol != symbol) continue;
      for (size_t t = 0; t < s.size(); ++t) {
        if (s.day[t] == day.days_since_epoch()) return BarPrices{s.open[t], s.high[t], s.low[t], s.close[t], s.volume[t]};
      }
    }
    return std::nullopt;
  };
}

class LiveRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override { catalog_ = catalog::open_sqlite_catalog(dir_.path() / "catalog.db"); }

  CycleConfig config(Date session) const {
    CycleConfig c;
    c.account = "paper";
    c.initial_cash = 100'000;
    c.risk = risk_;
    c.session = session;
    return c;
  }

  CycleResult cycle(Strategy& strategy, Date session) {
    PaperBrokerConfig pc;
    pc.account = "paper";
    pc.initial_cash = 100'000;
    pc.last_session = session;
    auto broker = make_paper_broker(*catalog_, pc, lookup(market_), split_lookup(market_));
    return run_cycle(*catalog_, *broker, strategy, up_to(market_, session), config(session));
  }

  std::vector<Date> sessions() const {
    std::vector<Date> out;
    for (int32_t d : market_.symbols[0].day) out.push_back(Date(d));
    return out;
  }

  TempDir dir_;
  std::unique_ptr<catalog::Catalog> catalog_;
  MarketData market_ = with_actions(synthetic_market(60));
  RiskLimits risk_;
};

TEST_F(LiveRunnerTest, PaperCyclesOverPastSessionsGiveTheBacktestsOrdersAndFills) {
  const auto days = sessions();
  const size_t first = 9;  // the strategy's warm-up: the first decision on the 10th session
  for (size_t t = first; t < days.size(); ++t) {
    auto strategy = make_sma_cross(3, 8);  // a fresh process each session: state rebuilt
    const auto r = cycle(*strategy, days[t]);
    EXPECT_NE(r.action, "already_ran");
  }
  auto strategy = make_sma_cross(3, 8);
  BacktestConfig bc;
  bc.initial_cash = 100'000;
  bc.risk = risk_;
  bc.from = days[first + 1];
  const auto bt = run_backtest(market_, *strategy, bc);
  // Every backtest trade is a paper fill: same session, symbol, side, quantity, price, fee.
  std::vector<catalog::FillRecord> fills = catalog_->list_fills();
  ASSERT_GT(bt.trades.size(), 20u);
  ASSERT_EQ(fills.size(), bt.trades.size());
  std::sort(fills.begin(), fills.end(), [&](const auto& a, const auto& b) {
    return catalog_->get_order(a.client_order_id)->created_at_ns < catalog_->get_order(b.client_order_id)->created_at_ns;
  });
  for (size_t k = 0; k < fills.size(); ++k) {
    const auto& f = fills[k];
    const auto& t = bt.trades[k];
    const Date filled_on = Date(static_cast<int32_t>(f.ts_ns / kNanosPerDay));
    EXPECT_EQ(filled_on, t.date) << k;
    EXPECT_EQ(f.symbol, market_.symbols[t.symbol].symbol) << k;
    EXPECT_EQ(catalog::sign_of(f.side), t.side) << k;
    EXPECT_EQ(f.qty.to_double(), t.qty) << k;
    EXPECT_NEAR(f.price.to_double(), t.price, 1e-6) << k;      // the ledger keeps micro-units
    EXPECT_NEAR(f.commission.to_double(), t.commission, 1e-6) << k;
  }
  // The orders decided on the last session are still open (they fill tomorrow); all others done.
  for (const auto& o : catalog_->list_orders()) {
    if (o.session_date == days.back().to_string()) {
      EXPECT_EQ(o.status, catalog::OrderStatus::kAccepted);
    } else {
      EXPECT_FALSE(catalog::is_open(o.status)) << o.client_order_id;
    }
  }
  // The equity the runner marked equals the backtest's curve at the last close: the split and the
  // dividend reached the paper book as they reached the backtest's.
  EXPECT_EQ(bt.splits_applied, 1);
  EXPECT_GT(bt.dividends, 0);
  EXPECT_NEAR(trading_state(*catalog_, "paper").last_equity.to_double(), bt.curve.back().equity, 0.01);
}

TEST_F(LiveRunnerTest, ARerunForTheSameSessionSendsNothingTwice) {
  const auto days = sessions();
  auto s1 = make_buy_and_hold();
  const auto first = cycle(*s1, days[5]);
  EXPECT_EQ(first.action, "placed");
  ASSERT_EQ(first.orders.size(), 3u);
  auto s2 = make_buy_and_hold();
  const auto again = cycle(*s2, days[5]);
  EXPECT_EQ(again.action, "already_ran");
  EXPECT_EQ(catalog_->list_orders().size(), 3u);
  auto s3 = make_buy_and_hold();
  const auto next = cycle(*s3, days[6]);
  EXPECT_EQ(next.reconcile.orders_checked, 3);
  EXPECT_EQ(next.reconcile.fills_imported, 3);
  EXPECT_EQ(catalog_->list_orders().size(), 3u);  // buy-and-hold: nothing more to do
}

TEST_F(LiveRunnerTest, ADenialTakesNoClientOrderIdAndTheNextCycleMayPlaceTheOrder) {
  const auto days = sessions();
  risk_.restricted = {"BBB"};
  auto s1 = make_buy_and_hold();
  const auto r = cycle(*s1, days[5]);
  ASSERT_EQ(r.denials.size(), 1u);
  EXPECT_EQ(r.denials[0].rule, "restricted");
  EXPECT_FALSE(catalog_->get_order(r.denials[0].client_order_id));
  EXPECT_EQ(catalog_->list_denials("paper").size(), 1u);
  risk_.restricted.clear();  // the limit changes
  auto s2 = make_buy_and_hold();
  const auto next = cycle(*s2, days[6]);
  ASSERT_EQ(next.orders.size(), 1u);
  EXPECT_EQ(next.orders[0].symbol, "BBB");
}

TEST_F(LiveRunnerTest, HaltStopsEveryOrderUntilResume) {
  const auto days = sessions();
  halt_trading(*catalog_, "paper", "trib halt: testing");
  auto s1 = make_buy_and_hold();
  const auto halted = cycle(*s1, days[5]);
  EXPECT_EQ(halted.action, "halted");
  EXPECT_TRUE(halted.orders.empty());
  EXPECT_EQ(halted.state_reason, "trib halt: testing");
  resume_trading(*catalog_, "paper");
  auto s2 = make_buy_and_hold();
  const auto resumed = cycle(*s2, days[6]);
  EXPECT_EQ(resumed.action, "placed");
  EXPECT_EQ(resumed.orders.size(), 3u);
}

TEST_F(LiveRunnerTest, AnAccountRunsOneStrategy) {
  const auto days = sessions();
  auto s1 = make_sma_cross(3, 8);
  cycle(*s1, days[10]);
  auto s2 = make_sma_cross(4, 8);
  try {
    cycle(*s2, days[11]);
    FAIL() << "another strategy on the same account";
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::kConflict);
    EXPECT_NE(std::string(e.what()).find("sma_cross(fast=3,slow=8)"), std::string::npos) << e.what();
  }
}

// A broker that holds a position the ledger never heard of.
class DriftedBroker final : public Broker {
 public:
  explicit DriftedBroker(std::unique_ptr<Broker> inner) : inner_(std::move(inner)) {}
  std::string name() const override { return "paper"; }
  BrokerAccount account() override { return inner_->account(); }
  std::vector<BrokerPosition> positions() override {
    auto p = inner_->positions();
    p.push_back({"ZZZ", 7, 10});
    return p;
  }
  BrokerOrder submit(const BrokerOrderRequest& o) override { return inner_->submit(o); }
  std::optional<BrokerOrder> order(const std::string& id) override { return inner_->order(id); }
  void cancel(const std::string& id) override { inner_->cancel(id); }

 private:
  std::unique_ptr<Broker> inner_;
};

TEST_F(LiveRunnerTest, APositionNoOrderExplainsHaltsTheAccountWithAReport) {
  const auto days = sessions();
  PaperBrokerConfig pc;
  pc.last_session = days[5];
  DriftedBroker broker(make_paper_broker(*catalog_, pc, lookup(market_)));
  auto s = make_buy_and_hold();
  const auto r = run_cycle(*catalog_, broker, *s, up_to(market_, days[5]), config(days[5]));
  ASSERT_EQ(r.reconcile.differences.size(), 1u);
  EXPECT_EQ(r.reconcile.differences[0], "ZZZ: the broker holds 7, the ledger 0");
  EXPECT_EQ(r.state, TradingState::kHalted);
  EXPECT_TRUE(r.orders.empty());
  EXPECT_NE(trading_state(*catalog_, "paper").reason.find("ZZZ"), std::string::npos);
}

TEST(ClientOrderId, ReadableStableDistinctAndShortEnoughForAlpaca) {
  const Date d = Date::from_ymd(2024, 3, 1);
  const std::string a = make_client_order_id("sma_cross", "fast=50,slow=200", "paper", "AAPL", d);
  EXPECT_EQ(a.rfind("sma_cross-AAPL-20240301-", 0), 0u) << a;
  EXPECT_EQ(a, make_client_order_id("sma_cross", "fast=50,slow=200", "paper", "AAPL", d));
  EXPECT_NE(a, make_client_order_id("sma_cross", "fast=20,slow=200", "paper", "AAPL", d));
  EXPECT_NE(a, make_client_order_id("sma_cross", "fast=50,slow=200", "live", "AAPL", d));
  EXPECT_LE(make_client_order_id("a_very_long_strategy_name", "", "paper", "VERYLONGSYMBOL.WARRANT", d).size(), 48u);
}

}  // namespace
}  // namespace trib::broker

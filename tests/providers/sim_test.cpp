// The sim vendor: determinism, sessions, bar shape and injected faults.
#include <chrono>
#include <cmath>
#include <map>
#include <set>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "../core/test_util.hpp"
#include "trib/core/error.hpp"
#include "trib/providers/provider.hpp"

namespace trib::providers {
namespace {

using testing::expect_error;
using ::testing::HasSubstr;

FetchRequest request_for(std::string_view symbol, std::string_view from, std::string_view to) {
  FetchRequest r;
  r.symbol = Symbol::parse(symbol);
  r.from = Date::parse(from);
  r.to = Date::parse(to);
  return r;
}

std::string fetch_bytes(const ProviderOptions& options, std::string_view symbol,
                        std::string_view from, std::string_view to) {
  return make_provider("sim", options)->fetch(request_for(symbol, from, to)).bytes;
}

std::vector<Bar> fetch_bars(const ProviderOptions& options, std::string_view symbol,
                            std::string_view from, std::string_view to) {
  auto provider = make_provider("sim", options);
  FetchResult fetched = provider->fetch(request_for(symbol, from, to));
  ParseContext context;
  context.symbol = Symbol::parse(symbol);
  ParseResult parsed = provider->parse(fetched.bytes, context);
  EXPECT_TRUE(parsed.findings.empty()) << parsed.findings.front().reason;
  return parsed.bars[context.symbol];
}

std::map<Date, Bar> by_date(const std::vector<Bar>& bars) {
  std::map<Date, Bar> out;
  for (const Bar& b : bars) out.emplace(b.session_date, b);
  return out;
}

TEST(SimProvider, SameSeedSymbolAndRangeGiveIdenticalBytes) {
  std::string a = fetch_bytes({}, "SIM0001", "2015-01-01", "2016-12-31");
  std::string b = fetch_bytes({{"seed", "42"}}, "SIM0001", "2015-01-01", "2016-12-31");
  EXPECT_FALSE(a.empty());
  EXPECT_EQ(a, b);  // default seed is 42
}

TEST(SimProvider, OverlappingRangesAgreeOnCommonDates) {
  auto first = by_date(fetch_bars({}, "AAPL", "2014-01-01", "2016-06-30"));
  auto second = by_date(fetch_bars({}, "AAPL", "2016-01-01", "2017-12-31"));
  int common = 0;
  for (const auto& [date, bar] : second) {
    auto it = first.find(date);
    if (it == first.end()) continue;
    ++common;
    EXPECT_EQ(it->second, bar) << date.to_string();
  }
  // Jan-Jun 2016 holds 125 NYSE sessions.
  EXPECT_EQ(common, 125);
}

TEST(SimProvider, SingleDayRequestMatchesTheLongerHistory) {
  auto year = by_date(fetch_bars({}, "SIM0007", "2020-01-01", "2020-12-31"));
  auto day = fetch_bars({}, "SIM0007", "2020-03-16", "2020-03-16");
  ASSERT_EQ(day.size(), 1u);
  EXPECT_EQ(day[0], year.at(Date::parse("2020-03-16")));
}

TEST(SimProvider, DifferentSeedsAndSymbolsDiffer) {
  std::string base = fetch_bytes({{"seed", "1"}}, "SIM0001", "2019-01-01", "2019-12-31");
  EXPECT_NE(base, fetch_bytes({{"seed", "2"}}, "SIM0001", "2019-01-01", "2019-12-31"));
  EXPECT_NE(base, fetch_bytes({{"seed", "1"}}, "SIM0002", "2019-01-01", "2019-12-31"));
  // Not just a shifted level: the closes differ on most days.
  auto a = fetch_bars({{"seed", "1"}}, "SIM0001", "2019-01-01", "2019-12-31");
  auto b = fetch_bars({{"seed", "2"}}, "SIM0001", "2019-01-01", "2019-12-31");
  ASSERT_EQ(a.size(), b.size());
  int equal = 0;
  for (size_t i = 0; i < a.size(); ++i) equal += a[i].close == b[i].close;
  EXPECT_LT(equal, 5);
}

TEST(SimProvider, ServesExactlyTheNyseSessions) {
  auto bars = fetch_bars({}, "SIM0003", "2019-01-01", "2019-12-31");
  // 2019 had 252 NYSE sessions (a published count, not derived from our calendar).
  EXPECT_EQ(bars.size(), 252u);
  std::set<Date> dates;
  for (const Bar& b : bars) {
    EXPECT_NE(b.session_date.weekday(), 0) << b.session_date.to_string();
    EXPECT_NE(b.session_date.weekday(), 6) << b.session_date.to_string();
    dates.insert(b.session_date);
  }
  EXPECT_EQ(dates.size(), bars.size());
  EXPECT_TRUE(dates.count(Date::parse("2019-12-24")));
  EXPECT_TRUE(dates.count(Date::parse("2019-12-26")));
  for (const char* holiday : {"2019-01-01", "2019-01-21", "2019-02-18", "2019-04-19", "2019-05-27",
                              "2019-07-04", "2019-09-02", "2019-11-28", "2019-12-25"}) {
    EXPECT_FALSE(dates.count(Date::parse(holiday))) << holiday;
  }
  EXPECT_EQ(bars.front().session_date, Date::parse("2019-01-02"));
  EXPECT_EQ(bars.back().session_date, Date::parse("2019-12-31"));
}

TEST(SimProvider, TimestampsAreTheNewYorkOpenInUtc) {
  std::string bytes = fetch_bytes({}, "SIM0001", "2019-07-01", "2019-07-01");
  EXPECT_THAT(bytes, HasSubstr("2019-07-01T13:30:00Z,2019-07-01,"));
  bytes = fetch_bytes({}, "SIM0001", "2019-12-24", "2019-12-24");
  EXPECT_THAT(bytes, HasSubstr("2019-12-24T14:30:00Z,2019-12-24,"));
  EXPECT_EQ(bytes.substr(0, bytes.find('\n')), "ts,session_date,open,high,low,close,volume");
  auto bars = fetch_bars({}, "SIM0001", "2019-12-24", "2019-12-24");
  ASSERT_EQ(bars.size(), 1u);
  EXPECT_EQ(format_ts_ns(bars[0].ts_ns), "2019-12-24T14:30:00Z");
}

TEST(SimProvider, BarsAreWellFormedWithoutFaults) {
  for (const char* symbol : {"SIM0001", "SIM0002", "SIM0003", "SIM0004", "SIM0005"}) {
    auto bars = fetch_bars({}, symbol, "1990-01-01", "2024-12-31");
    ASSERT_GT(bars.size(), 8000u);
    double prev_close = 0;
    for (const Bar& b : bars) {
      EXPECT_GT(b.low, 0) << symbol << " " << b.session_date.to_string();
      EXPECT_GE(b.high, std::max(b.open, b.close)) << symbol << " " << b.session_date.to_string();
      EXPECT_LE(b.low, std::min(b.open, b.close)) << symbol << " " << b.session_date.to_string();
      EXPECT_GT(b.volume, 0);
      EXPECT_EQ(b.volume, std::floor(b.volume));
      // Open near the previous close: no jumps of more than 25% overnight.
      if (prev_close > 0) {
        EXPECT_LT(std::fabs(std::log(b.open / prev_close)), 0.25);
      }
      prev_close = b.close;
    }
  }
}

TEST(SimProvider, PricesAreRoundTripExactInThePayload) {
  std::string bytes = fetch_bytes({}, "SIM0009", "2021-03-01", "2021-03-05");
  auto bars = fetch_bars({}, "SIM0009", "2021-03-01", "2021-03-05");
  ASSERT_EQ(bars.size(), 5u);
  for (const Bar& b : bars) {
    EXPECT_THAT(bytes, HasSubstr(fmt::format(",{},{},{},{},{}\n", b.open, b.high, b.low, b.close,
                                             b.volume)));
  }
}

TEST(SimProvider, RequestDescriptionAndFormat) {
  auto provider = make_provider("sim", {{"seed", "7"}, {"fault_rate", "0.25"}});
  EXPECT_EQ(provider->name(), "sim");
  FetchResult r = provider->fetch(request_for("spy", "2020-01-01", "2020-01-31"));
  EXPECT_EQ(r.ext, "csv");
  EXPECT_EQ(r.content_type, "text/csv");
  EXPECT_FALSE(r.multi_symbol);
  EXPECT_EQ(r.request["vendor"], "sim");
  EXPECT_EQ(r.request["symbol"], "SPY");
  EXPECT_EQ(r.request["from"], "2020-01-01");
  EXPECT_EQ(r.request["to"], "2020-01-31");
  EXPECT_EQ(r.request["seed"], 7);
  EXPECT_DOUBLE_EQ(r.request["fault_rate"].get<double>(), 0.25);
}

TEST(SimProvider, HistoryStartsAtTheOrigin) {
  auto bars = fetch_bars({}, "SIM0001", "1985-01-01", "1990-01-10");
  ASSERT_FALSE(bars.empty());
  EXPECT_EQ(bars.front().session_date, Date::parse("1990-01-02"));
  EXPECT_TRUE(fetch_bars({}, "SIM0001", "1980-01-01", "1989-12-31").empty());
}

TEST(SimProvider, RejectsBadRequestsAndOptions) {
  auto provider = make_provider("sim");
  expect_error([&] { provider->fetch(request_for("SIM0001", "2020-02-01", "2020-01-01")); },
               ErrorCategory::kInvalidInput);
  FetchRequest no_symbol = request_for("SIM0001", "2020-01-01", "2020-01-31");
  no_symbol.symbol = Symbol();
  expect_error([&] { provider->fetch(no_symbol); }, ErrorCategory::kInvalidInput);
  EXPECT_THAT(expect_error(
                  [] {
                    make_provider("sim", {{"fault_rate", "2"}});
                  },
                  ErrorCategory::kInvalidInput),
              HasSubstr("fault_rate"));
  EXPECT_THAT(expect_error(
                  [] {
                    make_provider("sim", {{"seed", "abc"}});
                  },
                  ErrorCategory::kInvalidInput),
              HasSubstr("seed"));
  EXPECT_THAT(expect_error(
                  [] {
                    make_provider("sim", {{"fail_fetch", "sometimes"}});
                  },
                  ErrorCategory::kInvalidInput),
              HasSubstr("retryable:N"));
}

// Counts of each injected fault kind in a payload, found the way a DQ rule would.
struct FaultCounts {
  int high_below_low = 0, negative_volume = 0, non_positive_price = 0, duplicate_ts = 0;
  int total() const { return high_below_low + negative_volume + non_positive_price + duplicate_ts; }
};

FaultCounts count_faults(const std::vector<Bar>& bars) {
  FaultCounts c;
  std::set<int64_t> seen;
  for (const Bar& b : bars) {
    if (b.high < b.low) ++c.high_below_low;
    if (b.volume < 0) ++c.negative_volume;
    if (b.open <= 0 || b.high <= 0 || b.low <= 0 || b.close <= 0) ++c.non_positive_price;
    if (!seen.insert(b.ts_ns).second) ++c.duplicate_ts;
  }
  return c;
}

TEST(SimProvider, FaultRateCorruptsAboutThatFractionWithEveryKind) {
  const ProviderOptions options = {{"fault_rate", "0.1"}};
  int sessions = 0;
  FaultCounts total;
  for (const char* symbol : {"SIM0001", "SIM0002", "SIM0003", "SIM0004"}) {
    auto bars = fetch_bars(options, symbol, "2000-01-01", "2019-12-31");
    auto clean = fetch_bars({}, symbol, "2000-01-01", "2019-12-31");
    sessions += static_cast<int>(clean.size());
    FaultCounts c = count_faults(bars);
    total.high_below_low += c.high_below_low;
    total.negative_volume += c.negative_volume;
    total.non_positive_price += c.non_positive_price;
    total.duplicate_ts += c.duplicate_ts;
    EXPECT_EQ(bars.size(), clean.size() + static_cast<size_t>(c.duplicate_ts));
  }
  // ~20,000 sessions at 10%: expect ~2,000 faults; binomial sd ~42, so +-15% is generous.
  const double rate = static_cast<double>(total.total()) / sessions;
  EXPECT_NEAR(rate, 0.1, 0.015) << total.total() << " faults in " << sessions << " sessions";
  // Four kinds chosen uniformly: each near a quarter.
  for (int kind : {total.high_below_low, total.negative_volume, total.non_positive_price,
                   total.duplicate_ts}) {
    EXPECT_NEAR(static_cast<double>(kind) / total.total(), 0.25, 0.05);
  }
  // No faults when not asked for.
  EXPECT_EQ(count_faults(fetch_bars({}, "SIM0001", "2000-01-01", "2019-12-31")).total(), 0);
}

TEST(SimProvider, FaultsDoNotDependOnTheWindow) {
  const ProviderOptions options = {{"fault_rate", "0.2"}};
  auto wide = fetch_bars(options, "SIM0011", "2009-01-01", "2011-12-31");
  auto narrow = fetch_bars(options, "SIM0011", "2010-01-01", "2010-12-31");
  std::vector<Bar> wide_2010;
  for (const Bar& b : wide) {
    if (b.session_date.year() == 2010) wide_2010.push_back(b);
  }
  EXPECT_EQ(wide_2010, narrow);
  // Faults change which bars are bad, not the path of the clean ones.
  auto clean = by_date(fetch_bars({}, "SIM0011", "2010-01-01", "2010-12-31"));
  int same = 0;
  for (const Bar& b : narrow) same += clean.at(b.session_date) == b;
  EXPECT_GT(same, 150);
}

TEST(SimProvider, FailFetchFailsTheFirstNCallsOfTheProcess) {
  reset_sim_injected_failures();
  const ProviderOptions options = {{"fail_fetch", "retryable:2"}};
  const FetchRequest request = request_for("SIM0001", "2020-01-01", "2020-01-31");
  auto first = make_provider("sim", options);
  EXPECT_THAT(expect_error([&] { first->fetch(request); }, ErrorCategory::kRetryable),
              HasSubstr("injected"));
  // A fresh instance (as a queue worker builds per delivery) continues the same count.
  auto second = make_provider("sim", options);
  expect_error([&] { second->fetch(request); }, ErrorCategory::kRetryable);
  EXPECT_NO_THROW(second->fetch(request));
  EXPECT_NO_THROW(make_provider("sim", options)->fetch(request));
  reset_sim_injected_failures();
}

TEST(SimProvider, BackfillOfFiftySymbolsOverElevenYearsIsFast) {
  auto provider = make_provider("sim");
  const auto start = std::chrono::steady_clock::now();
  size_t rows = 0;
  for (const Symbol& symbol : sim_universe(50)) {
    FetchRequest r;
    r.symbol = symbol;
    r.from = Date::parse("2010-01-01");
    r.to = Date::parse("2020-12-31");
    FetchResult fetched = provider->fetch(r);
    ParseContext context;
    context.symbol = symbol;
    rows += provider->parse(fetched.bytes, context).bars.at(symbol).size();
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // 2010-2020: 2,769 NYSE sessions per symbol.
  EXPECT_EQ(rows, 50u * 2769u);
  RecordProperty("seconds", std::to_string(seconds));
  // The target is well under a second in Release; the bound leaves room for sanitizer builds.
  EXPECT_LT(seconds, 3.0);
}

TEST(SimUniverse, NamesSymbolsInOrder) {
  auto symbols = sim_universe(3);
  ASSERT_EQ(symbols.size(), 3u);
  EXPECT_EQ(symbols[0].str(), "SIM0001");
  EXPECT_EQ(symbols[2].str(), "SIM0003");
  EXPECT_EQ(sim_universe(120)[119].str(), "SIM0120");
  EXPECT_TRUE(sim_universe(0).empty());
}

TEST(Registry, UnknownVendorListsTheAvailableOnes) {
  std::string message =
      expect_error([] { make_provider("bloomberg"); }, ErrorCategory::kInvalidInput);
  EXPECT_THAT(message, HasSubstr("'bloomberg'"));
  EXPECT_THAT(message, HasSubstr("available vendors: sim, csv, alphavantage, polygon, yahoo, stooq, "
                                  "tiingo, alpaca, fred"));
  EXPECT_EQ(available_vendors(),
            (std::vector<std::string>{"sim", "csv", "alphavantage", "polygon", "yahoo", "stooq",
                                      "tiingo", "alpaca", "fred"}));
  EXPECT_EQ(make_provider("csv")->name(), "csv");
}

}  // namespace
}  // namespace trib::providers

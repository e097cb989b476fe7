// Coverage on both backends: the calendar's sessions materialised in calendar_sessions, each
// partition's sessions in partition_sessions (written by the commit), and session_coverage(),
// the one query that compares them per year.
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "catalog_fixture.hpp"
#include "trib/core/calendar.hpp"
#include "trib/core/time.hpp"

namespace trib::catalog {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using testing::category_of;

class CoverageTest : public CatalogTest {
 protected:
  static int32_t day(const char* date) { return Date::parse(date).days_since_epoch(); }

  static std::vector<int32_t> nyse_sessions(const char* from, const char* to) {
    std::vector<int32_t> out;
    for (Date d : TradingCalendar::nyse().sessions(Date::parse(from), Date::parse(to))) {
      out.push_back(d.days_since_epoch());
    }
    return out;
  }

  // Materialises NYSE for [from, to].
  void ensure_nyse(const char* from, const char* to) {
    catalog_->ensure_calendar_sessions("nyse", day(from), day(to), nyse_sessions(from, to));
  }

  // A commit of partition (symbol, partition) holding rows on `days`.
  static PartitionCommit bars_commit(const std::string& symbol, const std::string& partition,
                                     const std::string& sha, int64_t expected_version,
                                     std::vector<int32_t> days) {
    PartitionCommit c = commit(record(symbol, partition, sha), expected_version);
    c.session_days = std::move(days);
    return c;
  }

  std::vector<CoverageYear> coverage(const std::string& symbol, const char* from, const char* to) {
    return catalog_->session_coverage("bars", "1d", symbol, "nyse", day(from), day(to));
  }

  static std::vector<int32_t> without(std::vector<int32_t> days, std::vector<int32_t> drop) {
    std::erase_if(days, [&](int32_t d) { return std::find(drop.begin(), drop.end(), d) != drop.end(); });
    return days;
  }
};

INSTANTIATE_TEST_SUITE_P(Backends, CoverageTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres), backend_name);

// 2019-12-20 .. 2020-01-10: Christmas (Wed 25 Dec) and New Year's Day (Wed 1 Jan) are weekdays
// without a session; 27 Dec has no data; the range crosses a year boundary.
TEST_P(CoverageTest, MissingDayHolidayAndYearBoundary) {
  ensure_nyse("2019-12-20", "2020-01-10");
  const auto dec = nyse_sessions("2019-12-20", "2019-12-31");
  const auto jan = nyse_sessions("2020-01-01", "2020-01-10");
  ASSERT_EQ(dec.size(), 7u);  // 20, 23, 24, 26, 27, 30, 31
  ASSERT_EQ(jan.size(), 7u);  // 2, 3, 6, 7, 8, 9, 10
  catalog_->commit_partitions({bars_commit("AAPL", "2019", "sha-19", 0, without(dec, {day("2019-12-27")})),
                               bars_commit("AAPL", "2020", "sha-20", 0, jan)});

  const auto years = coverage("AAPL", "2019-12-20", "2020-01-10");
  ASSERT_EQ(years.size(), 2u);
  EXPECT_EQ(years[0], (CoverageYear{2019, 7, 6, {"2019-12-27"}}));
  EXPECT_EQ(years[1], (CoverageYear{2020, 7, 7, {}}));
  // The bitmap as stored (persistent format): 20 Dec .. 31 Dec, '1' where the partition has rows.
  EXPECT_EQ(raw().text("SELECT days FROM partition_sessions WHERE symbol = 'AAPL' AND partition = '2019'"),
            "100110100011");
  EXPECT_EQ(raw().number("SELECT first_day FROM partition_sessions WHERE symbol = 'AAPL' AND partition = '2019'"),
            day("2019-12-20"));

  // A narrower range counts only its own sessions (the holidays never count).
  EXPECT_THAT(coverage("AAPL", "2019-12-24", "2019-12-27"),
              ElementsAre(CoverageYear{2019, 3, 2, {"2019-12-27"}}));
  EXPECT_THAT(coverage("AAPL", "2019-12-25", "2019-12-25"), IsEmpty());
  EXPECT_THAT(coverage("AAPL", "2020-01-01", "2020-01-01"), IsEmpty());
  // Another timeframe or dataset of the symbol has no data.
  EXPECT_EQ(catalog_->session_coverage("bars", "1h", "AAPL", "nyse", day("2020-01-01"), day("2020-01-10")),
            (std::vector<CoverageYear>{{2020, 7, 0, {"2020-01-02", "2020-01-03", "2020-01-06", "2020-01-07",
                                                     "2020-01-08", "2020-01-09", "2020-01-10"}}}));
}

TEST_P(CoverageTest, SymbolWithNoDataHasEverySessionMissing) {
  ensure_nyse("2019-12-30", "2020-01-03");
  catalog_->commit_partitions({bars_commit("AAPL", "2020", "sha", 0, nyse_sessions("2020-01-02", "2020-01-03"))});
  EXPECT_THAT(coverage("NODATA", "2019-12-30", "2020-01-03"),
              ElementsAre(CoverageYear{2019, 2, 0, {"2019-12-30", "2019-12-31"}},
                          CoverageYear{2020, 2, 0, {"2020-01-02", "2020-01-03"}}));
  // A calendar nothing was materialised for expects nothing.
  EXPECT_THAT(catalog_->session_coverage("bars", "1d", "AAPL", "lse", day("2020-01-01"), day("2020-01-03")),
              IsEmpty());
}

// Hand facts the CLI test also relies on: 253 NYSE sessions in 2020; 124 in 2021-01-01..06-30
// (19 + 19 + 23 + 21 + 20 + 22: Juneteenth closes the exchange only from 2022), 252 in 2021.
TEST_P(CoverageTest, WholeYearsMatchTheExchangesCount) {
  ensure_nyse("2020-01-01", "2021-06-30");
  catalog_->commit_partitions(
      {bars_commit("SPY", "2020", "a", 0, nyse_sessions("2020-01-01", "2020-12-31")),
       bars_commit("SPY", "2021", "b", 0, without(nyse_sessions("2021-01-01", "2021-06-30"),
                                                 {day("2021-03-01"), day("2021-06-30")}))});
  const auto years = coverage("SPY", "2020-01-01", "2021-06-30");
  ASSERT_EQ(years.size(), 2u);
  EXPECT_EQ(years[0], (CoverageYear{2020, 253, 253, {}}));
  EXPECT_EQ(years[1], (CoverageYear{2021, 124, 122, {"2021-03-01", "2021-06-30"}}));
  ensure_nyse("2021-07-01", "2021-12-31");
  EXPECT_EQ(coverage("SPY", "2021-01-01", "2021-12-31")[0].expected, 252);
}

// Intraday partitions (a month of 1h bars) name a session once per row: duplicates are one day.
TEST_P(CoverageTest, IntradayRowsCountOncePerSession) {
  ensure_nyse("2020-03-01", "2020-03-31");
  std::vector<int32_t> rows;
  for (int32_t d : nyse_sessions("2020-03-01", "2020-03-31")) {
    if (d == day("2020-03-16")) continue;
    for (int hour = 0; hour < 7; ++hour) rows.push_back(d);
  }
  PartitionCommit c = bars_commit("QQQ", "2020-03", "h", 0, rows);
  c.record.key.timeframe = "1h";
  catalog_->commit_partitions({c});
  EXPECT_THAT(catalog_->session_coverage("bars", "1h", "QQQ", "nyse", day("2020-03-01"), day("2020-03-31")),
              ElementsAre(CoverageYear{2020, 22, 21, {"2020-03-16"}}));
}

TEST_P(CoverageTest, ChangedCommitsReplaceUnchangedOnesOnlyFillIn) {
  ensure_nyse("2020-01-01", "2020-01-10");
  const auto all = nyse_sessions("2020-01-01", "2020-01-10");
  const auto gap = without(all, {day("2020-01-07")});
  catalog_->commit_partitions({bars_commit("AAPL", "2020", "v1", 0, gap)});
  EXPECT_EQ(coverage("AAPL", "2020-01-01", "2020-01-10")[0].missing, std::vector<std::string>{"2020-01-07"});

  // A partition committed before partition_sessions existed has no row: an unchanged commit
  // (same content) records it.
  raw().exec("DELETE FROM partition_sessions");
  EXPECT_EQ(coverage("AAPL", "2020-01-01", "2020-01-10")[0].present, 0);
  auto unchanged = catalog_->commit_partitions({bars_commit("AAPL", "2020", "v1", 1, gap)});
  EXPECT_EQ(unchanged[0].outcome, CommitOutcome::kUnchanged);
  EXPECT_EQ(coverage("AAPL", "2020-01-01", "2020-01-10")[0].missing, std::vector<std::string>{"2020-01-07"});
  // ... but never replaces one: what an unchanged commit says is not newer than the row.
  catalog_->commit_partitions({bars_commit("AAPL", "2020", "v1", 1, all)});
  EXPECT_EQ(coverage("AAPL", "2020-01-01", "2020-01-10")[0].present, 6);

  // New content replaces it.
  auto replaced = catalog_->commit_partitions({bars_commit("AAPL", "2020", "v2", 1, all)});
  EXPECT_EQ(replaced[0].outcome, CommitOutcome::kReplaced);
  EXPECT_EQ(coverage("AAPL", "2020-01-01", "2020-01-10")[0], (CoverageYear{2020, 7, 7, {}}));

  // A conflicting group writes nothing, sessions included.
  EXPECT_EQ(category_of([&] {
              catalog_->commit_partitions({bars_commit("MSFT", "2020", "m", 0, all),
                                           bars_commit("AAPL", "2020", "v3", 1, gap)});
            }),
            ErrorCategory::kConflict);
  EXPECT_EQ(coverage("MSFT", "2020-01-01", "2020-01-10")[0].present, 0);
  EXPECT_EQ(coverage("AAPL", "2020-01-01", "2020-01-10")[0].present, 7);

  // Commits without sessions (other datasets) record nothing.
  catalog_->commit_partitions({commit(record("IBM", "2020", "i"), 0)});
  EXPECT_EQ(raw().number("SELECT count(*) FROM partition_sessions WHERE symbol = 'IBM'"), 0);

  // Sessions spanning more than any partition can are a caller's bug: nothing is written.
  EXPECT_EQ(category_of([&] {
              catalog_->commit_partitions(
                  {bars_commit("IBM", "2021", "x", 0, {day("2020-01-02"), day("2021-12-31")})});
            }),
            ErrorCategory::kInvalidInput);
  EXPECT_FALSE(catalog_->get_partition(key("IBM", "2021")).has_value());
}

TEST_P(CoverageTest, ReplacePartitionSessionsSetsAndRemoves) {
  ensure_nyse("2020-01-01", "2020-01-10");
  catalog_->replace_partition_sessions(key("AAPL", "2020"), {day("2020-01-03"), day("2020-01-02")});
  EXPECT_EQ(coverage("AAPL", "2020-01-01", "2020-01-10")[0].present, 2);
  catalog_->replace_partition_sessions(key("AAPL", "2020"), nyse_sessions("2020-01-01", "2020-01-10"));
  EXPECT_EQ(coverage("AAPL", "2020-01-01", "2020-01-10")[0].present, 7);
  catalog_->replace_partition_sessions(key("AAPL", "2020"), {});
  EXPECT_EQ(coverage("AAPL", "2020-01-01", "2020-01-10")[0].present, 0);
}

TEST_P(CoverageTest, EnsureCalendarSessionsIsIdempotentAndCorrectsTheRange) {
  ensure_nyse("2020-01-01", "2020-12-31");
  ensure_nyse("2020-01-01", "2020-12-31");
  ensure_nyse("2020-06-01", "2021-01-31");  // overlapping: only the new days are added
  auto sql = raw();
  EXPECT_EQ(sql.number("SELECT count(*) FROM calendar_sessions WHERE calendar = 'nyse'"), 253 + 19);
  EXPECT_EQ(sql.text("SELECT session_date FROM calendar_sessions WHERE session_day = " +
                     std::to_string(day("2020-07-02"))),
            "2020-07-02");
  // The calendar's code changed (a day of mourning closes the exchange): the range is made equal.
  const auto fewer = without(nyse_sessions("2020-07-01", "2020-07-31"), {day("2020-07-02")});
  catalog_->ensure_calendar_sessions("nyse", day("2020-07-01"), day("2020-07-31"), fewer);
  EXPECT_EQ(sql.number("SELECT count(*) FROM calendar_sessions WHERE calendar = 'nyse'"), 253 + 19 - 1);
  EXPECT_THAT(coverage("AAPL", "2020-07-01", "2020-07-03"),
              ElementsAre(CoverageYear{2020, 1, 0, {"2020-07-01"}}));
  // Another calendar is its own set.
  catalog_->ensure_calendar_sessions("other", day("2020-07-01"), day("2020-07-03"), {day("2020-07-03")});
  EXPECT_EQ(sql.number("SELECT count(*) FROM calendar_sessions WHERE calendar = 'other'"), 1);

  EXPECT_EQ(category_of([&] { catalog_->ensure_calendar_sessions("nyse", day("2020-01-02"), day("2020-01-01"), {}); }),
            ErrorCategory::kInvalidInput);
  EXPECT_EQ(category_of([&] {
              catalog_->ensure_calendar_sessions("nyse", day("2020-01-01"), day("2020-01-10"),
                                                 {day("2020-01-03"), day("2020-01-02")});
            }),
            ErrorCategory::kInvalidInput);
  EXPECT_EQ(category_of([&] {
              catalog_->ensure_calendar_sessions("nyse", day("2020-01-01"), day("2020-01-10"), {day("2020-01-11")});
            }),
            ErrorCategory::kInvalidInput);
  EXPECT_EQ(category_of([&] { catalog_->ensure_calendar_sessions("", 0, 1, {}); }), ErrorCategory::kInvalidInput);
}

TEST_P(CoverageTest, GetInstrumentReadsWhatTheEtlRecorded) {
  EXPECT_FALSE(catalog_->get_instrument("AAPL").has_value());
  catalog_->upsert_instrument("AAPL", "sim", "nyse");
  EXPECT_EQ(catalog_->get_instrument("AAPL"), (InstrumentRecord{"AAPL", "sim", "nyse"}));
}

}  // namespace
}  // namespace trib::catalog

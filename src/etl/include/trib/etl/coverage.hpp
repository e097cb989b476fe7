// What the curated zone holds per series, from the catalog's manifest alone (no Parquet opened),
// and the sessions a calendar expects against the sessions present, per year. The API, the
// assistant's tools and the dashboard's heatmap answer from these.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "trib/catalog/catalog.hpp"
#include "trib/core/calendar.hpp"
#include "trib/core/time.hpp"

namespace trib::etl {

struct CuratedSpan {
  int64_t first_ts_ns = INT64_MAX, last_ts_ns = INT64_MIN;  // the first and last bar's open
  int64_t rows = 0;
  std::map<int, int64_t> rows_by_year;  // from yearly partitions (daily bars)
};

// Per symbol with curated bars of `timeframe` (name order), whose symbol starts with `prefix`.
std::map<std::string, CuratedSpan> curated_spans(catalog::Catalog& catalog, const std::string& timeframe,
                                                 const std::string& prefix = "");

struct YearSessions {
  int year = 0;
  int64_t expected = 0, present = 0;
  std::vector<Date> missing;  // ascending
};

// The calendar's sessions in [from, to] (clamped to the calendar's range) by year, each counted
// present when `present` holds it.
std::vector<YearSessions> sessions_by_year(const TradingCalendar& calendar, const std::set<Date>& present, Date from,
                                           Date to);

}  // namespace trib::etl

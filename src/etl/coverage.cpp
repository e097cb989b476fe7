#include "trib/etl/coverage.hpp"

#include <algorithm>

namespace trib::etl {

std::map<std::string, CuratedSpan> curated_spans(catalog::Catalog& catalog, const std::string& timeframe,
                                                 const std::string& prefix) {
  std::map<std::string, CuratedSpan> spans;
  for (const auto& p : catalog.list_partitions("bars", timeframe)) {
    if (!p.key.symbol.starts_with(prefix)) continue;
    CuratedSpan& s = spans[p.key.symbol];
    s.first_ts_ns = std::min(s.first_ts_ns, p.min_ts_ns);
    s.last_ts_ns = std::max(s.last_ts_ns, p.max_ts_ns);
    s.rows += p.row_count;
    if (p.key.partition.size() == 4) s.rows_by_year[std::stoi(p.key.partition)] += p.row_count;
  }
  return spans;
}

std::vector<YearSessions> sessions_by_year(const TradingCalendar& calendar, const std::set<Date>& present, Date from,
                                           Date to) {
  from = std::max(from, calendar.first_date());
  to = std::min(to, calendar.last_date());
  std::vector<YearSessions> out;
  if (to < from) return out;
  for (const Date d : calendar.sessions(from, to)) {
    if (out.empty() || out.back().year != d.year()) out.push_back({d.year(), 0, 0, {}});
    YearSessions& y = out.back();
    ++y.expected;
    if (present.count(d)) {
      ++y.present;
    } else {
      y.missing.push_back(d);
    }
  }
  return out;
}

}  // namespace trib::etl

#include "trib/etl/series_checks.hpp"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <map>
#include <set>
#include <tuple>

#include <fmt/format.h>

#include "trib/core/error.hpp"
#include "trib/etl/adjusted_bars.hpp"
#include "trib/etl/bars_reader.hpp"

namespace trib::etl {
namespace {

// The split a price ratio (previous close / close) is near, as "2:1" or "1:10" (a reverse
// split); "" when none is within 8% (the price moves on the day too: AAPL's 4:1 split day
// rose 3.4%).
std::string near_split(double ratio) {
  struct Candidate { double ratio; const char* text; };
  static constexpr Candidate kSplits[] = {
      {2, "2:1"},   {3, "3:1"},   {4, "4:1"},     {5, "5:1"},   {6, "6:1"},   {7, "7:1"},
      {8, "8:1"},   {10, "10:1"}, {15, "15:1"},   {20, "20:1"}, {1.5, "3:2"}, {1.25, "5:4"},
      {0.5, "1:2"}, {1.0 / 3, "1:3"}, {0.25, "1:4"}, {0.2, "1:5"}, {0.1, "1:10"}, {0.05, "1:20"},
      {2.0 / 3, "2:3"}};
  const char* best = nullptr;
  double best_distance = 0.08;
  for (const auto& c : kSplits) {
    const double distance = std::abs(std::log(ratio / c.ratio));
    if (distance < best_distance) {
      best_distance = distance;
      best = c.text;
    }
  }
  return best ? best : "";
}

}  // namespace

std::vector<SeriesFinding> check_series(const Symbol& symbol, std::vector<lake::CuratedBar> rows,
                                        const std::vector<CorporateAction>& actions,
                                        const SeriesCheckOptions& options) {
  std::vector<SeriesFinding> out;
  if (rows.empty()) return out;
  const TradingCalendar& calendar = *options.calendar;
  const QualityConfig& q = options.thresholds;
  const bool daily = options.timeframe == Timeframe::kDay1;
  const Date today = options.today == Date() ? utc_date_of(now_ts_ns()) : options.today;
  auto finding = [&](std::string rule, Date first, Date last, int64_t ts, int64_t count, std::string detail) {
    out.push_back({symbol, options.timeframe, std::move(rule), first, last, ts, count, std::move(detail)});
  };

  // Row by row: bounds, the calendar's range, the session a timestamp belongs to.
  for (const auto& r : rows) {
    const Bar& b = r.bar;
    const double prices[] = {b.open, b.high, b.low, b.close};
    const double top = *std::max_element(std::begin(prices), std::end(prices));
    const double bottom = *std::min_element(std::begin(prices), std::end(prices));
    if (top > q.max_price || bottom < 0.0001 || b.volume > q.max_volume) {
      finding("out_of_bounds", b.session_date, b.session_date, b.ts_ns, 1,
              fmt::format("{} from {}: {}", format_ts_ns(b.ts_ns), r.source,
                          top > q.max_price ? fmt::format("price {} above [quality] max_price {}", top, q.max_price)
                          : bottom < 0.0001 ? fmt::format("price {} below 0.0001", bottom)
                                            : fmt::format("volume {} above [quality] max_volume {}", b.volume, q.max_volume)));
    }
    if (b.session_date < calendar.first_date() || b.session_date > calendar.last_date() ||
        b.session_date > today) {
      finding("outside_calendar", b.session_date, b.session_date, b.ts_ns, 1,
              b.session_date > today
                  ? fmt::format("{} from {} is after today ({})", b.session_date.to_string(), r.source, today.to_string())
                  : fmt::format("{} from {} is outside the {} calendar's range {} to {}", b.session_date.to_string(),
                                r.source, calendar.name(), calendar.first_date().to_string(),
                                calendar.last_date().to_string()));
    }
    bool mismatch = false;
    if (daily) {
      mismatch = utc_date_of(b.ts_ns) != b.session_date && calendar.session_of(b.ts_ns) != b.session_date;
    } else {
      mismatch = calendar.session_of(b.ts_ns) != b.session_date;
    }
    if (mismatch) {
      finding("session_mismatch", b.session_date, b.session_date, b.ts_ns, 1,
              fmt::format("{} from {} is dated session {}, but the {} session of that time is {}",
                          format_ts_ns(b.ts_ns), r.source, b.session_date.to_string(), calendar.name(),
                          calendar.session_of(b.ts_ns).to_string()));
    }
  }

  // Sessions missing between the first and the last bar.
  if (daily) {
    std::set<int32_t> held;
    for (const auto& r : rows) held.insert(r.bar.session_date.days_since_epoch());
    const Date first = rows.front().bar.session_date, last = rows.back().bar.session_date;
    if (first >= calendar.first_date() && last <= calendar.last_date() && first <= last) {
      std::vector<Date> run;
      auto flush = [&] {
        if (run.empty()) return;
        finding("missing_sessions", run.front(), run.back(), 0, static_cast<int64_t>(run.size()),
                run.size() == 1 ? fmt::format("no bar for the {} session {}", calendar.name(), run.front().to_string())
                                : fmt::format("no bars for {} consecutive {} sessions {} to {}", run.size(),
                                              calendar.name(), run.front().to_string(), run.back().to_string()));
        run.clear();
      };
      for (Date d : calendar.sessions(first, last)) {
        if (held.contains(d.days_since_epoch())) {
          flush();
        } else {
          run.push_back(d);
        }
      }
      flush();
    }
  }

  // Stale runs: zero volume and a flat bar, session after session.
  if (daily) {
    size_t start = 0, length = 0;
    auto flush = [&](size_t end) {
      if (length >= static_cast<size_t>(q.stale_sessions)) {
        const Bar& a = rows[start].bar;
        const Bar& z = rows[end - 1].bar;
        finding("stale_bars", a.session_date, z.session_date, 0, static_cast<int64_t>(length),
                fmt::format("{} consecutive bars {} to {} with zero volume and open = high = low = close "
                            "(close {} to {}; [quality] stale_sessions = {})",
                            length, a.session_date.to_string(), z.session_date.to_string(), a.close, z.close,
                            q.stale_sessions));
      }
      length = 0;
    };
    for (size_t i = 0; i < rows.size(); ++i) {
      const Bar& b = rows[i].bar;
      const bool flat = b.volume == 0 && b.open == b.high && b.high == b.low && b.low == b.close;
      if (!flat) {
        flush(i);
        continue;
      }
      if (length == 0) start = i;
      ++length;
    }
    flush(rows.size());
  }

  // Jumps on split-adjusted session closes (adjusted vendors first turned back into raw).
  {
    AdjustedBars split = adjust_history(rows, std::nullopt, std::nullopt, actions, AdjustMode::kSplit);
    std::vector<const lake::CuratedBar*> closes;  // the last row of each session
    for (const auto& r : split.rows) {
      if (!closes.empty() && closes.back()->bar.session_date == r.bar.session_date) {
        closes.back() = &r;
      } else {
        closes.push_back(&r);
      }
    }
    for (size_t i = 1; i < closes.size(); ++i) {
      const Bar& prev = closes[i - 1]->bar;
      const Bar& cur = closes[i]->bar;
      if (!(prev.close > 0) || !(cur.close > 0)) continue;
      const double move = std::log(cur.close / prev.close);
      if (std::abs(move) <= q.jump_threshold) continue;
      const std::string split_text = near_split(prev.close / cur.close);
      finding("unexplained_jump", cur.session_date, cur.session_date, cur.ts_ns, 1,
              fmt::format("close {:.6g} on {} after {:.6g} on {} ({:+.1f}%, ln {:+.3f}; [quality] jump_threshold {}) "
                          "with no split recorded to explain it{}",
                          cur.close, cur.session_date.to_string(), prev.close, prev.session_date.to_string(),
                          100 * (cur.close / prev.close - 1), move, q.jump_threshold,
                          split_text.empty() ? std::string()
                                             : fmt::format("; the move is near a {} split's ratio: if it is one, "
                                                           "record it with `trib actions import`", split_text)));
    }
  }

  std::stable_sort(out.begin(), out.end(), [](const SeriesFinding& a, const SeriesFinding& b) {
    return std::tie(a.rule, a.first) < std::tie(b.rule, b.first);
  });
  return out;
}

std::vector<SeriesFinding> check_lake_series(lake::ObjectStore& store, catalog::Catalog& catalog,
                                             const SeriesCheckOptions& options,
                                             const SourcePrecedence& precedence,
                                             const std::optional<Symbol>& symbol) {
  std::set<std::string> symbols;
  if (symbol) {
    symbols.insert(symbol->str());
  } else {
    for (const auto& p : catalog.list_partitions("bars", std::string(to_string(options.timeframe)))) {
      symbols.insert(p.key.symbol);
    }
  }
  std::map<std::string, std::vector<catalog::ActionRecord>> known;  // by symbol
  for (auto& r : catalog.list_actions("", INT64_MAX)) known[r.action.symbol.str()].push_back(std::move(r));
  std::vector<SeriesFinding> out;
  for (const auto& text : symbols) {
    const Symbol s = Symbol::parse(text);
    std::vector<lake::CuratedBar> rows;
    try {
      rows = read_curated_bars(store, catalog, BarsQuery{s, options.timeframe, std::nullopt, std::nullopt});
    } catch (const Error& e) {
      if (e.category() != ErrorCategory::kNotFound) throw;
      continue;
    }
    const auto it = known.find(s.str());
    const std::vector<catalog::ActionRecord> mine = it != known.end() ? it->second : std::vector<catalog::ActionRecord>{};
    SeriesCheckOptions o = options;
    if (auto instrument = catalog.get_instrument(text); instrument && !instrument->calendar.empty()) {
      o.calendar = &TradingCalendar::by_name(instrument->calendar);
    }
    auto found = check_series(s, std::move(rows), resolve_actions(mine, precedence).actions, o);
    std::move(found.begin(), found.end(), std::back_inserter(out));
  }
  return out;
}

}  // namespace trib::etl

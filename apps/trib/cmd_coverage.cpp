// coverage: per instrument and calendar year, the sessions its calendar expects against the
// sessions curated bars hold, with the missing dates. The counting is the catalog's, in SQL
// (Catalog::session_coverage over calendar_sessions and partition_sessions); this file chooses
// the instruments and their ranges and prints.
//
// Instruments: the universe's entries of the bars dataset, then every curated (symbol,
// timeframe) series of bars that no universe entry names. The range each is expected over:
//   - a universe entry: from its start date through the last session of its calendar that has
//     closed by now (or --as-of), after its vendor's publishing delay: what `trib update`
//     promises to have, so a series the updater has not reached yet shows as missing;
//   - a curated series outside the universe: from its first through its last curated session
//     (its watermark, for a series of one timeframe): nobody promised more than was ingested,
//     so only holes inside what is there count.
// --from/--to narrow the range to whole calendar years.
#include <algorithm>
#include <iostream>
#include <map>
#include <set>
#include <tuple>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli.hpp"
#include "trib/core/calendar.hpp"
#include "trib/core/error.hpp"
#include "trib/core/symbol.hpp"
#include "trib/core/time.hpp"
#include "trib/ingest/task.hpp"
#include "trib/ingest/vendor_access.hpp"
#include "workspace.hpp"

namespace trib::cli {
namespace {

struct Series {
  std::string symbol, vendor, dataset = "bars", timeframe, calendar = "nyse";
  bool in_universe = false;
  std::string status;  // the universe status; "" outside the universe
  Date first, last;    // the range expected (first > last: nothing expected)
  std::vector<catalog::CoverageYear> years;
};

// The missing sessions as runs of consecutive sessions: "2020-07-01..2020-07-09 (6)".
std::vector<std::string> missing_runs(const TradingCalendar& calendar,
                                      const std::vector<std::string>& missing) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < missing.size()) {
    size_t j = i;
    while (j + 1 < missing.size() &&
           calendar.next_session(Date::parse(missing[j])) == Date::parse(missing[j + 1])) {
      ++j;
    }
    out.push_back(j == i ? missing[i] : fmt::format("{}..{} ({})", missing[i], missing[j], j - i + 1));
    i = j + 1;
  }
  return out;
}

nlohmann::json series_json(const Series& s) {
  nlohmann::json years = nlohmann::json::array();
  int64_t expected = 0, present = 0;
  for (const auto& y : s.years) {
    years.push_back({{"year", y.year}, {"expected", y.expected}, {"present", y.present},
                     {"missing_count", static_cast<int64_t>(y.missing.size())}, {"missing", y.missing}});
    expected += y.expected;
    present += y.present;
  }
  const bool any = s.first <= s.last;
  return {{"symbol", s.symbol},
          {"vendor", s.vendor},
          {"dataset", s.dataset},
          {"timeframe", s.timeframe},
          {"calendar", s.calendar},
          {"in_universe", s.in_universe},
          {"status", s.status},
          {"from", any ? s.first.to_string() : ""},
          {"to", any ? s.last.to_string() : ""},
          {"expected", expected},
          {"present", present},
          {"missing_count", expected - present},
          {"years", years}};
}

// The series and their years; `other_datasets` counts universe entries of other datasets.
std::vector<Series> coverage_series(Workspace& ws, const CoverageArgs& args, int* other_datasets_out) {
  const std::string only_symbol = args.symbol.empty() ? "" : Symbol::parse(args.symbol).str();
  if (args.from_year != 0 && args.to_year != 0 && args.from_year > args.to_year) {
    throw Error::InvalidInput(fmt::format("--from {} is after --to {}", args.from_year, args.to_year));
  }
  const std::optional<Date> year_from =
      args.from_year != 0 ? std::optional(Date::from_ymd(args.from_year, 1, 1)) : std::nullopt;
  const std::optional<Date> year_to =
      args.to_year != 0 ? std::optional(Date::from_ymd(args.to_year, 12, 31)) : std::nullopt;
  const int64_t now = planning_time(args.as_of);  // as `trib update --as-of`
  catalog::Catalog& cat = *ws.catalog;

  // Curated series of bars: (symbol, timeframe) -> first and last session.
  std::map<std::pair<std::string, std::string>, std::pair<int64_t, int64_t>> curated;
  for (const auto& p : cat.list_partitions("bars", "", only_symbol)) {
    auto [it, fresh] = curated.try_emplace({p.key.symbol, p.key.timeframe}, p.min_ts_ns, p.max_ts_ns);
    if (!fresh) {
      it->second.first = std::min(it->second.first, p.min_ts_ns);
      it->second.second = std::max(it->second.second, p.max_ts_ns);
    }
  }

  std::vector<Series> series;
  std::set<std::pair<std::string, std::string>> named;  // (symbol, timeframe) the universe names
  int other_datasets = 0;
  for (const auto& e : cat.list_universe(args.vendor)) {
    if (!only_symbol.empty() && e.symbol != only_symbol) continue;
    if (e.dataset != "bars") {
      ++other_datasets;
      continue;
    }
    Series s;
    s.symbol = e.symbol;
    s.vendor = e.vendor;
    s.dataset = e.dataset;
    s.timeframe = e.timeframe;
    s.calendar = e.calendar;
    s.in_universe = true;
    s.status = e.status;
    const TradingCalendar& calendar = TradingCalendar::by_name(e.calendar);
    s.first = Date::parse(e.start_date, "universe start date");
    s.last = ingest::last_completed_session(
        calendar, now, ingest::vendor_settings(ws.config, e.vendor).publish_delay_minutes);
    named.insert({e.symbol, e.timeframe});
    series.push_back(std::move(s));
  }
  for (const auto& [key, range] : curated) {
    if (named.contains(key)) continue;
    Series s;
    s.symbol = key.first;
    s.timeframe = key.second;
    if (auto instrument = cat.get_instrument(key.first)) {
      s.vendor = instrument->vendor;
      s.calendar = instrument->calendar;
    }
    if (!args.vendor.empty() && s.vendor != args.vendor) continue;
    s.first = utc_date_of(range.first);
    s.last = utc_date_of(range.second);
    series.push_back(std::move(s));
  }
  if (series.empty() && !only_symbol.empty()) {
    throw Error::NotFound(fmt::format("{} is neither in the universe{} nor in curated bars{}",
                                      only_symbol, args.vendor.empty() ? "" : " for " + args.vendor,
                                      args.vendor.empty() ? "" : " from " + args.vendor));
  }
  std::stable_sort(series.begin(), series.end(), [](const Series& a, const Series& b) {
    return std::tie(a.symbol, a.timeframe) < std::tie(b.symbol, b.timeframe);
  });

  // The years asked of each calendar, materialised once (whole years, so a later call over a
  // few more days finds them there), then one query per series.
  std::map<std::string, std::pair<Date, Date>> calendars;
  for (auto& s : series) {
    if (year_from && s.first < *year_from) s.first = *year_from;
    if (year_to && s.last > *year_to) s.last = *year_to;
    if (s.first > s.last) continue;
    const Date jan1 = Date::from_ymd(s.first.year(), 1, 1), dec31 = Date::from_ymd(s.last.year(), 12, 31);
    auto [it, fresh] = calendars.try_emplace(s.calendar, jan1, dec31);
    if (!fresh) {
      it->second.first = std::min(it->second.first, jan1);
      it->second.second = std::max(it->second.second, dec31);
    }
  }
  for (const auto& [name, range] : calendars) {
    std::vector<int32_t> sessions;
    for (Date d : TradingCalendar::by_name(name).sessions(range.first, range.second)) {
      sessions.push_back(d.days_since_epoch());
    }
    cat.ensure_calendar_sessions(name, range.first.days_since_epoch(), range.second.days_since_epoch(),
                                 sessions);
  }
  for (auto& s : series) {
    if (s.first > s.last) continue;
    s.years = cat.session_coverage(s.dataset, s.timeframe, s.symbol, s.calendar,
                                   s.first.days_since_epoch(), s.last.days_since_epoch());
  }

  if (other_datasets_out != nullptr) *other_datasets_out = other_datasets;
  return series;
}

int run_coverage(const Globals& g, const CoverageArgs& args) {
  Workspace ws = open_workspace(g.workspace);
  int other_datasets = 0;
  const std::vector<Series> series = coverage_series(ws, args, &other_datasets);
  if (g.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& s : series) out.push_back(series_json(s));
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  int64_t all_expected = 0, all_present = 0;
  for (const auto& s : series) {
    const bool any = s.first <= s.last;
    fmt::print("{} {} {} {} {}  {}  {}\n", s.symbol, s.vendor.empty() ? "-" : s.vendor, s.dataset,
               s.timeframe, s.calendar,
               any ? s.first.to_string() + ".." + s.last.to_string() : "nothing expected in the years asked",
               s.in_universe ? "universe (" + s.status + ")" : "curated, not in the universe");
    if (!any) continue;
    const TradingCalendar& calendar = TradingCalendar::by_name(s.calendar);
    fmt::print("  {:<4} {:>8} {:>7} {:>7}  {}\n", "year", "expected", "present", "missing", "missing sessions");
    for (const auto& y : s.years) {
      const std::vector<std::string> runs = missing_runs(calendar, y.missing);
      std::string list;
      constexpr size_t kShown = 8;
      for (size_t i = 0; i < runs.size() && i < kShown; ++i) list += (i == 0 ? "" : ", ") + runs[i];
      if (runs.size() > kShown) list += fmt::format(", ... {} more (--json lists all)", runs.size() - kShown);
      fmt::print("  {:<4} {:>8} {:>7} {:>7}  {}\n", y.year, y.expected, y.present, y.expected - y.present, list);
      all_expected += y.expected;
      all_present += y.present;
    }
  }
  fmt::print("{} series: {} session(s) expected, {} present, {} missing\n", series.size(), all_expected,
             all_present, all_expected - all_present);
  if (other_datasets > 0) {
    fmt::print("({} universe entr{} of other datasets not counted: coverage counts curated bars)\n",
               other_datasets, other_datasets == 1 ? "y" : "ies");
  }
  return 0;
}

}  // namespace

nlohmann::json coverage_json(Workspace& ws, const CoverageArgs& args) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& s : coverage_series(ws, args, nullptr)) out.push_back(series_json(s));
  return out;
}

void add_coverage_command(CLI::App& app, Globals& g, Action& action) {
  auto* cmd = app.add_subcommand(
      "coverage",
      "Per instrument (universe entries and curated symbols) and year: sessions the calendar expects vs "
      "sessions in curated bars, with the missing dates (counted in SQL by the catalog)");
  auto args = std::make_shared<CoverageArgs>();
  cmd->add_option("symbol", args->symbol, "Only this symbol (default: every instrument)");
  cmd->add_option("--vendor", args->vendor, "Only instruments of this vendor");
  cmd->add_option("--from", args->from_year, "First year counted (YYYY)")->check(CLI::Range(1900, 2200));
  cmd->add_option("--to", args->to_year, "Last year counted (YYYY)")->check(CLI::Range(1900, 2200));
  cmd->add_option("--as-of", args->as_of,
                  "Universe entries are expected through the last session closed by this date (YYYY-MM-DD; "
                  "default: now)");
  cmd->add_flag("--json", g.json, "Machine-readable output (every missing date)");
  cmd->callback([&g, &action, args] { action = [&g, args] { return run_coverage(g, *args); }; });
}

}  // namespace trib::cli

#include "trib/etl/etl.hpp"

#include <chrono>
#include <iterator>
#include <list>
#include <map>

#include <fmt/format.h>

#include "trib/core/config.hpp"
#include "trib/core/error.hpp"
#include "trib/core/hash.hpp"
#include "trib/core/log.hpp"
#include "trib/etl/bar_conflicts.hpp"
#include "trib/etl/bars_reader.hpp"
#include "trib/etl/corporate_actions.hpp"
#include "trib/etl/partition_commit.hpp"
#include "parallel.hpp"
#include "trib/etl/quality.hpp"
#include "trib/lake/bars_file.hpp"
#include "trib/lake/layout.hpp"
#include "trib/lake/parquet.hpp"
#include "trib/lake/raw_store.hpp"
#include "trib/providers/action_files.hpp"

namespace trib::etl {

using lake::CuratedBar;

void EtlStats::add(const EtlStats& other) {
  rows_in += other.rows_in;
  rows_accepted += other.rows_accepted;
  rows_quarantined += other.rows_quarantined;
  rows_outside_window += other.rows_outside_window;
  payloads_quarantined += other.payloads_quarantined;
  partitions_created += other.partitions_created;
  partitions_replaced += other.partitions_replaced;
  partitions_unchanged += other.partitions_unchanged;
  live_files_repaired += other.live_files_repaired;
  actions_added += other.actions_added;
  actions_quarantined += other.actions_quarantined;
  for (const auto& [rule, count] : other.quarantined_by_rule) quarantined_by_rule[rule] += count;
}

namespace {

// The work on one partition a payload touches.
struct PartitionJob {
  Symbol symbol;
  std::string partition;
  std::vector<const Bar*> rows;  // the payload's accepted rows of the partition, ascending
  size_t hot_wanted = 0;         // at most this many of its newest rows can be hot
  catalog::PartitionKey key;
  std::optional<catalog::PartitionRecord> current;
  std::string id;
  bool start_over = false;
};

// Below this many partitions a payload is handled on the calling thread only.
constexpr size_t kParallelFrom = 16;

std::string partition_id(const catalog::PartitionKey& key) {
  return fmt::format("{}/{}/{}/{}", key.dataset, key.timeframe, key.symbol, key.partition);
}

}  // namespace

EtlOptions EtlOptions::from_config(const Config& config) {
  EtlOptions options;
  options.bar_precedence = SourcePrecedence::parse(config.prices.bar_precedence);
  return options;
}

EtlEngine::EtlEngine(lake::ObjectStore& store, catalog::Catalog& catalog, EtlOptions options)
    : store_(store),
      catalog_(catalog),
      options_(options),
      threads_(internal::resolve_threads(options.threads)) {}

EtlStats EtlEngine::apply(const ingest::FetchedRaw& fetched) {
  const auto t_start = std::chrono::steady_clock::now();
  EtlStats stats;
  const catalog::RawObjectRecord& rec = fetched.record;
  // The sidecar names the calendar (intraday sessions) and the local file the payload came from.
  const nlohmann::json sidecar = nlohmann::json::parse(rec.request_json.empty() ? "{}" : rec.request_json, nullptr, false);
  const TradingCalendar& calendar = TradingCalendar::by_name(
      sidecar.is_object() ? sidecar.value("calendar", std::string("nyse")) : std::string("nyse"));
  std::string file_name;
  // The curated rows' source: the vendor, or "csv:split" / "csv:total" for a file declared
  // adjusted at ingest (read back into raw prices, never adjusted twice).
  std::string source = rec.vendor;
  if (sidecar.is_object() && sidecar.contains("request") && sidecar["request"].is_object()) {
    file_name = sidecar["request"].value("file", std::string());
    const std::string basis = sidecar["request"].value("price_basis", std::string("raw"));
    if (basis == "split" || basis == "total") source += ":" + basis;
  }
  const std::string& raw_id = rec.sha256;
  const bool rates = rec.dataset == "rates";
  const std::string dataset = rates ? "rates" : "bars";
  const std::string timeframe(to_string(fetched.timeframe));
  const std::string tag = sha256_hex(rec.object_key).substr(0, 16);
  std::map<std::string, std::map<std::string, int64_t>> dq;  // symbol -> rule -> rows
  if (rec.dataset == "actions" && rec.vendor == "csv") return apply_action_file(fetched);

  // 1. Parse (unless the caller already parsed these bytes).
  providers::ParseResult parsed_here;
  const providers::ParseResult* parsed = fetched.parsed ? &*fetched.parsed : nullptr;
  if (parsed == nullptr) {
    std::string bytes = lake::RawStore(store_).get(rec.object_key);  // a bad raw zone throws
    try {
      auto provider = providers::make_provider(rec.vendor);
      providers::ParseContext context;
      context.symbol = fetched.symbol;
      context.timeframe = fetched.timeframe;
      context.calendar = &calendar;
      context.file_name = file_name;
      parsed_here = provider->parse(bytes, context);
      parsed = &parsed_here;
    } catch (const Error& e) {
      if (e.category() != ErrorCategory::kDataLoss && e.category() != ErrorCategory::kInvalidInput) {
        throw;
      }
      // The payload as a whole is unreadable (an error page, a truncated body): it stays in the
      // raw zone as evidence and is quarantined as a whole with the reason.
      nlohmann::json note = {{"raw_object", rec.object_key}, {"vendor", rec.vendor},
                             {"symbol", rec.symbol},         {"rule", "unparseable_payload"},
                             {"reason", e.what()}};
      store_.put(fmt::format("quarantine/payloads/vendor={}/raw={}.json", rec.vendor, tag),
                 note.dump(2) + "\n");
      catalog_.replace_dq(rec.object_key, dataset, {{rec.symbol, {{"unparseable_payload", 1}}}},
                          fetched.run_id);
      log::warn("raw object {} could not be parsed and is quarantined: {}", rec.object_key,
                e.what());
      stats.payloads_quarantined = 1;
      stats.quarantined_by_rule["unparseable_payload"] = 1;
      return stats;
    }
  }

  if (rates) return apply_rates(fetched, *parsed);

  // The splits and dividends the vendor reported, as the vendor's, known from the fetch.
  if (!parsed->actions.empty()) {
    std::vector<catalog::ActionRecord> reported;
    reported.reserve(parsed->actions.size());
    for (const auto& action : parsed->actions) {
      reported.push_back({action, rec.vendor, rec.object_key, rec.fetched_at_ns, false});
    }
    const RecordedActions recorded =
        record_reported_actions(store_, catalog_, std::move(reported), fetched.symbol);
    stats.actions_added += recorded.added;
    stats.actions_quarantined += recorded.rejected;
    if (recorded.rejected > 0) {
      stats.quarantined_by_rule["bad_corporate_action"] += recorded.rejected;
      dq[fetched.symbol.str()]["bad_corporate_action"] += recorded.rejected;
    }
  }

  auto quarantine = [&](const std::string& symbol_component, const std::string& symbol,
                        const std::vector<QuarantinedRow>& rows) {
    if (rows.empty()) return;
    std::string key = fmt::format("quarantine/bars/timeframe={}/symbol={}/raw={}.parquet",
                                  timeframe, symbol_component, tag);
    store_.put(key, encode_quarantine_file(rows, rec.vendor, raw_id));
    for (const auto& row : rows) {
      ++dq[symbol][row.rule];
      ++stats.quarantined_by_rule[row.rule];
    }
    stats.rows_quarantined += static_cast<int64_t>(rows.size());
  };

  const auto t_parsed = std::chrono::steady_clock::now();
  // 2. Window, rules, quarantine. Rows the parser could not read belong to the payload's
  // symbol, or to the multi-symbol file.
  const std::optional<Date> window_from = Date::try_parse(rec.window_from);
  const std::optional<Date> window_to = Date::try_parse(rec.window_to);
  std::vector<QuarantinedRow> unparsed;
  for (const auto& finding : parsed->findings) {
    unparsed.push_back({std::nullopt, finding.line, finding.rule, finding.reason, finding.raw_text});
  }
  stats.rows_in += static_cast<int64_t>(unparsed.size());
  if (fetched.symbol.empty()) {
    quarantine("_multi", "", unparsed);
    unparsed.clear();
  }

  // One job per (symbol, partition) the payload touches; the accepted bars they point into are
  // kept here until the commit.
  std::vector<PartitionJob> jobs;
  std::vector<std::pair<size_t, size_t>> symbol_jobs;  // each symbol's [first, last) jobs
  std::list<std::vector<Bar>> kept_bars;
  const size_t hot_sessions = static_cast<size_t>(std::max(0, catalog_.hot_cache_sessions()));
  for (const auto& [symbol, all_bars] : parsed->bars) {
    stats.rows_in += static_cast<int64_t>(all_bars.size());
    std::vector<Bar> bars;
    bars.reserve(all_bars.size());
    for (const Bar& bar : all_bars) {
      if ((window_from && bar.session_date < *window_from) ||
          (window_to && bar.session_date > *window_to)) {
        ++stats.rows_outside_window;
      } else {
        bars.push_back(bar);
      }
    }
    ValidatedBars validated = validate_bars(bars, fetched.timeframe, calendar);
    if (symbol == fetched.symbol) {
      validated.quarantined.insert(validated.quarantined.begin(), unparsed.begin(), unparsed.end());
      unparsed.clear();
    }
    quarantine(symbol.path_component(), symbol.str(), validated.quarantined);
    stats.rows_accepted += static_cast<int64_t>(validated.accepted.size());
    if (!validated.accepted.empty()) catalog_.upsert_instrument(symbol.str(), rec.vendor, std::string(calendar.name()));

    std::map<std::string, std::vector<const Bar*>> by_partition;
    const std::vector<Bar>& accepted = kept_bars.emplace_back(std::move(validated.accepted));
    std::vector<const Bar*>* current_rows = nullptr;
    int64_t current_ordinal = 0;
    for (const Bar& bar : accepted) {  // ascending: a partition's bars are one run
      const int64_t ordinal = partition_ordinal(fetched.timeframe, bar.session_date);
      if (current_rows == nullptr || ordinal != current_ordinal) {
        current_rows = &by_partition[partition_of(fetched.timeframe, bar.session_date)];
        current_ordinal = ordinal;
      }
      current_rows->push_back(&bar);
    }
    // Rows of this payload in partitions after each one: no partition needs to hand the hot
    // cache more than its newest (N - rows after it) rows.
    size_t rows_after = accepted.size();
    const size_t first = jobs.size();
    // One catalog read for the symbol's partitions when the payload touches several (a round
    // trip each would dominate on a networked catalog).
    std::map<std::string, catalog::PartitionRecord> known;
    if (by_partition.size() > 1) {
      for (auto& record : catalog_.list_partitions(dataset, timeframe, symbol.str())) {
        known.emplace(record.key.partition, std::move(record));
      }
    }
    for (auto& [partition, rows] : by_partition) {
      rows_after -= rows.size();
      PartitionJob job;
      job.symbol = symbol;
      job.partition = partition;
      job.rows = std::move(rows);
      job.hot_wanted = hot_sessions > rows_after ? hot_sessions - rows_after : 0;
      job.key = {dataset, timeframe, symbol.str(), partition};
      if (by_partition.size() > 1) {
        if (auto it = known.find(partition); it != known.end()) job.current = it->second;
      } else {
        job.current = catalog_.get_partition(job.key);
      }
      job.id = partition_id(job.key);
      job.start_over = options_.rebuild && !rebuilt_.contains(job.id);
      jobs.push_back(std::move(job));
    }
    symbol_jobs.emplace_back(first, jobs.size());
  }

  const auto t_grouped = std::chrono::steady_clock::now();
  // 3. Merge onto the committed rows (vendor precedence, then the later fetch), encode: per partition, in
  // parallel (each job fills its own PendingVersion).
  std::vector<PendingVersion> pending(jobs.size());
  // Rows of other vendors that lost a timestamp (or were displaced from it), per job.
  std::vector<std::vector<CuratedBar>> overlaps(jobs.size());
  const SourcePrecedence& precedence = options_.bar_precedence;
  const auto prefer = [&precedence](const CuratedBar& candidate, const CuratedBar& current) {
    const int a = precedence.rank(candidate.source), b = precedence.rank(current.source);
    if (a != b) return a < b;
    return lake::takes_precedence(candidate, current);
  };
  const lake::Lineage lineage{source, raw_id, rec.fetched_at_ns};
  internal::parallel_for(jobs.size(), jobs.size() >= kParallelFrom ? threads_ : 1, [&](size_t i) {
    const PartitionJob& job = jobs[i];
    const auto& rows = job.rows;
    PendingVersion& p = pending[i];
    p.commit.expected_version = job.current ? job.current->version : 0;
    p.commit.watermarks.push_back(
        {rec.vendor, dataset, job.symbol.str(), rows.back()->session_date.to_string()});
    catalog::PartitionRecord& record = p.commit.record;
    record.key = job.key;
    record.object_key = lake::curated_bars_key(fetched.timeframe, job.symbol, job.partition);
    record.code_version = std::string(code_version());
    if (!job.current || job.start_over) {
      // Nothing to merge onto: the accepted rows are sorted and unique by ts, and all share this
      // payload's lineage.
      p.bytes = lake::encode_bars_file(rows, lineage, job.symbol, fetched.timeframe, job.partition);
      record.row_count = static_cast<int64_t>(rows.size());
      record.min_ts_ns = rows.front()->ts_ns;
      record.max_ts_ns = rows.back()->ts_ns;
      p.commit.session_days.reserve(rows.size());
      for (const Bar* bar : rows) p.commit.session_days.push_back(bar->session_date.days_since_epoch());
      for (size_t r = rows.size() > job.hot_wanted ? rows.size() - job.hot_wanted : 0;
           r < rows.size(); ++r) {
        p.commit.hot_rows.push_back(
            to_hot_bar(*rows[r], source, raw_id, rec.fetched_at_ns));
      }
      return;
    }
    // A partition committed by an older build (no version object) is rewritten in the new
    // layout.
    bool changed = job.current->version_key.empty();
    std::map<int64_t, CuratedBar> merged;
    for (auto& row : read_committed_partition(store_, *job.current)) {
      merged.emplace(row.bar.ts_ns, std::move(row));
    }
    for (const Bar* bar : rows) {
      CuratedBar candidate{*bar, source, raw_id, rec.fetched_at_ns};
      auto [it, inserted] = merged.try_emplace(bar->ts_ns, candidate);
      if (inserted) {
        changed = true;
      } else if (!(candidate == it->second)) {
        const bool other_vendor = candidate.source != it->second.source;
        if (prefer(candidate, it->second)) {
          if (other_vendor) overlaps[i].push_back(std::move(it->second));
          it->second = std::move(candidate);
          changed = true;
        } else if (other_vendor) {
          overlaps[i].push_back(std::move(candidate));
        }
      }
    }
    // The partition's sessions after the merge (coverage): recorded if absent when unchanged.
    p.commit.session_days.reserve(merged.size());
    for (const auto& [ts, row] : merged) {
      p.commit.session_days.push_back(row.bar.session_date.days_since_epoch());
    }
    if (!changed) {
      record = *job.current;  // same content: the commit only advances the watermark
      return;
    }
    std::vector<CuratedBar> out;
    out.reserve(merged.size());
    for (auto& [ts, row] : merged) out.push_back(std::move(row));
    p.bytes = lake::encode_bars_file(out, job.symbol, fetched.timeframe, job.partition);
    record.row_count = static_cast<int64_t>(out.size());
    record.min_ts_ns = out.front().bar.ts_ns;
    record.max_ts_ns = out.back().bar.ts_ns;
    for (size_t r = out.size() > job.hot_wanted ? out.size() - job.hot_wanted : 0; r < out.size();
         ++r) {
      p.commit.hot_rows.push_back(to_hot_bar(out[r]));
    }
  });
  // Only a symbol's newest N rows of this payload can end up in the hot cache: hand the catalog
  // no more than that (partitions ascend, so walk them from the newest).
  for (const auto& [first, last] : symbol_jobs) {
    size_t room = hot_sessions;
    for (size_t i = last; i-- > first;) {
      auto& hot_rows = pending[i].commit.hot_rows;
      if (hot_rows.size() > room) hot_rows.erase(hot_rows.begin(), hot_rows.end() - room);
      room -= hot_rows.size();
    }
  }
  // Kept aside before the commit (added to, never replaced: a retry after the commit sees the
  // rows as this payload's own and finds nothing new).
  for (const auto& [first, last] : symbol_jobs) {
    std::vector<CuratedBar> rows;
    for (size_t i = first; i < last; ++i) {
      std::move(overlaps[i].begin(), overlaps[i].end(), std::back_inserter(rows));
    }
    if (!rows.empty()) record_overlaps(store_, fetched.timeframe, jobs[first].symbol, tag, rows);
  }
  // Findings for a single-symbol payload whose rows all failed to parse.
  if (!unparsed.empty()) quarantine(fetched.symbol.path_component(), fetched.symbol.str(), unparsed);
  catalog_.replace_dq(rec.object_key, dataset, dq, fetched.run_id);

  const auto t_encoded = std::chrono::steady_clock::now();
  // 4. Version objects, the conditional commit, the live files.
  const CommitReport report = commit_versions(store_, catalog_, pending,
                                              jobs.size() >= kParallelFrom ? threads_ : 1);
  for (size_t i = 0; i < report.results.size(); ++i) {
    switch (report.results[i].outcome) {
      case catalog::CommitOutcome::kCreated: ++stats.partitions_created; break;
      case catalog::CommitOutcome::kReplaced: ++stats.partitions_replaced; break;
      case catalog::CommitOutcome::kUnchanged: ++stats.partitions_unchanged; break;
    }
    if (jobs[i].start_over) rebuilt_.insert(jobs[i].id);
  }
  stats.live_files_repaired = report.live_files_repaired;
  const auto ms = [](auto from, auto to) {
    return std::chrono::duration<double, std::milli>(to - from).count();
  };
  log::debug("etl {}: parse {:.0f} ms, rules {:.0f} ms, merge+encode {:.0f} ms on {} thread(s), "
             "commit {:.0f} ms ({} partitions)",
             rec.object_key, ms(t_start, t_parsed), ms(t_parsed, t_grouped),
             ms(t_grouped, t_encoded), jobs.size() >= kParallelFrom ? threads_ : 1,
             ms(t_encoded, std::chrono::steady_clock::now()), jobs.size());
  return stats;
}

EtlStats EtlEngine::apply_action_file(const ingest::FetchedRaw& fetched) {
  EtlStats stats;
  const catalog::RawObjectRecord& rec = fetched.record;
  const nlohmann::json sidecar = nlohmann::json::parse(rec.request_json, nullptr, false);
  const nlohmann::json request = sidecar.is_object() ? sidecar.value("request", nlohmann::json::object())
                                                     : nlohmann::json::object();
  const std::string source = request.value("source", "");
  const std::string format_text = request.value("format", "");
  const std::string symbol_text = request.value("symbol", "");
  if (source.empty() || format_text.empty()) {
    throw Error::DataLoss(fmt::format("raw object {}: an action file's sidecar names no source or format; "
                                      "import the file again with `trib actions import`", rec.object_key));
  }
  const auto format = providers::parse_action_file_format(format_text);
  const Symbol symbol = symbol_text.empty() ? Symbol() : Symbol::parse(symbol_text);
  const std::string bytes = lake::RawStore(store_).get(rec.object_key);
  const providers::ActionFileParse parsed = providers::parse_action_file(bytes, format, symbol);
  std::vector<catalog::ActionRecord> reported;
  for (const auto& a : parsed.actions) {
    reported.push_back({a.action, source, rec.object_key, rec.fetched_at_ns, a.retracted});
  }
  const RecordedActions recorded = record_reported_actions(store_, catalog_, std::move(reported), symbol);
  stats.actions_added = recorded.added;
  stats.actions_quarantined = recorded.rejected + static_cast<int64_t>(parsed.findings.size());
  std::map<std::string, std::map<std::string, int64_t>> dq;
  for (const auto& f : parsed.findings) {
    ++dq[symbol.str()][f.rule];
    ++stats.quarantined_by_rule[f.rule];
  }
  if (recorded.rejected > 0) dq[symbol.str()]["bad_corporate_action"] += recorded.rejected;
  catalog_.replace_dq(rec.object_key, "actions", dq, fetched.run_id);
  return stats;
}

EtlStats EtlEngine::apply_raw_object(const catalog::RawObjectRecord& record,
                                     const std::string& run_id) {
  ingest::FetchedRaw fetched;
  fetched.record = record;
  nlohmann::json sidecar = nlohmann::json::parse(record.request_json, nullptr, false);
  if (!sidecar.is_discarded() && sidecar.contains("timeframe") && sidecar["timeframe"].is_string()) {
    fetched.timeframe = parse_timeframe(sidecar["timeframe"].get<std::string>());
  }
  if (!record.symbol.empty()) fetched.symbol = Symbol::parse(record.symbol);
  fetched.run_id = run_id;
  EtlStats stats = apply(fetched);
  stats_.add(stats);
  return stats;
}

int repair_live_files(lake::ObjectStore& store, catalog::Catalog& catalog,
                      const std::string& dataset, bool dry_run) {
  int repaired = 0;
  std::vector<std::string> published;
  for (const auto& record : catalog.list_partitions(dataset)) {
    if (record.version_key.empty()) continue;
    if (dry_run) {
      if (!live_is_published(store.head(record.version_key), store.head(record.object_key))) ++repaired;
      continue;
    }
    if (publish_live(store, record, published)) ++repaired;
  }
  store.sync(published);
  return repaired;
}

}  // namespace trib::etl

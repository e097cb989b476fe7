// Raw to curated for economic series (dataset "rates"): EtlEngine::apply_rates and the reader.
// The bars path's guarantees carry over: rows outside the ingest window are counted and left
// out, every finding is quarantined with its reason, one date's row from the later fetch wins
// whatever order payloads are applied in, and each touched (series, year) is committed through
// the same version-object protocol, with the series' watermark (its last date) advanced in the
// same transaction. A series keeps its own calendar: no NYSE session rules apply.
#include <map>

#include <fmt/format.h>

#include "trib/core/config.hpp"
#include "trib/core/error.hpp"
#include "trib/core/hash.hpp"
#include "trib/core/log.hpp"
#include "trib/etl/bars_reader.hpp"
#include "trib/etl/etl.hpp"
#include "trib/etl/partition_commit.hpp"
#include "trib/etl/quality.hpp"
#include "trib/etl/rates_reader.hpp"
#include "trib/lake/parquet.hpp"
#include "trib/lake/rates_file.hpp"

namespace trib::etl {

using lake::CuratedObservation;

std::vector<CuratedObservation> read_committed_rates(lake::ObjectStore& store,
                                                     const catalog::PartitionRecord& record,
                                                     std::optional<Date> from, std::optional<Date> to) {
  std::string key;
  std::string bytes = read_committed_bytes(store, record, &key);
  parquet::Reader reader(parquet::memory_source(std::move(bytes)), key);
  return lake::decode_rates_file(reader, from, to);
}

std::vector<CuratedObservation> read_rates(lake::ObjectStore& store, catalog::Catalog& catalog,
                                           const Symbol& series, std::optional<Date> from,
                                           std::optional<Date> to) {
  auto partitions = catalog.list_partitions(kRatesDataset, kRatesTimeframe, series.str());
  if (partitions.empty()) {
    throw Error::NotFound(fmt::format(
        "no curated rates for series {}; add it with `trib universe add {} --vendor fred "
        "--dataset rates` and run `trib update`",
        series.str(), series.str()));
  }
  const std::string from_year = from ? std::to_string(from->year()) : "";
  const std::string to_year = to ? std::to_string(to->year()) : "";
  std::vector<CuratedObservation> out;
  for (const auto& partition : partitions) {  // ascending by year
    if (!from_year.empty() && partition.key.partition < from_year) continue;
    if (!to_year.empty() && partition.key.partition > to_year) continue;
    auto rows = read_committed_rates(store, partition, from, to);
    out.insert(out.end(), std::make_move_iterator(rows.begin()), std::make_move_iterator(rows.end()));
  }
  return out;
}

EtlStats EtlEngine::apply_rates(const ingest::FetchedRaw& fetched, const providers::ParseResult& parsed) {
  EtlStats stats;
  const catalog::RawObjectRecord& rec = fetched.record;
  const std::string& raw_id = rec.sha256;
  const std::string tag = sha256_hex(rec.object_key).substr(0, 16);
  std::map<std::string, std::map<std::string, int64_t>> dq;  // series -> rule -> rows
  if (!parsed.bars.empty()) {
    throw Error::Internal(fmt::format("raw object {} is dataset 'rates' but its parse gave bars",
                                      rec.object_key));
  }

  // Findings belong to the payload's series (a FRED payload is one series).
  const Symbol payload_series = fetched.symbol;
  if (!parsed.findings.empty()) {
    if (payload_series.empty()) {
      throw Error::Internal(fmt::format("rates payload {} has no series id", rec.object_key));
    }
    std::vector<QuarantinedRow> rows;
    for (const auto& f : parsed.findings) rows.push_back({std::nullopt, f.line, f.rule, f.reason, f.raw_text});
    store_.put(lake::rates_quarantine_key(payload_series, tag),
               encode_quarantine_file(rows, rec.vendor, raw_id));
    for (const auto& row : rows) {
      ++dq[payload_series.str()][row.rule];
      ++stats.quarantined_by_rule[row.rule];
    }
    stats.rows_quarantined += static_cast<int64_t>(rows.size());
    stats.rows_in += static_cast<int64_t>(rows.size());
  }

  const std::optional<Date> window_from = Date::try_parse(rec.window_from);
  const std::optional<Date> window_to = Date::try_parse(rec.window_to);
  std::vector<PendingVersion> pending;
  std::vector<std::string> ids;
  for (const auto& [series_id, observations] : parsed.series) {
    const Symbol series = Symbol::parse(series_id);
    stats.rows_in += static_cast<int64_t>(observations.size());
    // By year; the parser leaves one observation a date (later duplicates are findings).
    std::map<int, std::map<int32_t, CuratedObservation>> by_year;
    for (const auto& o : observations) {
      if ((window_from && o.date < *window_from) || (window_to && o.date > *window_to)) {
        ++stats.rows_outside_window;
        continue;
      }
      by_year[o.date.year()].emplace(o.date.days_since_epoch(),
                                     CuratedObservation{o.date, o.value, rec.vendor, raw_id, rec.fetched_at_ns});
      ++stats.rows_accepted;
    }
    if (by_year.empty()) continue;
    auto known = catalog_.list_partitions(kRatesDataset, kRatesTimeframe, series.str());
    for (auto& [year, rows] : by_year) {
      const std::string partition = std::to_string(year);
      PendingVersion p;
      catalog::PartitionRecord& record = p.commit.record;
      record.key = {kRatesDataset, kRatesTimeframe, series.str(), partition};
      record.object_key = lake::curated_rates_key(series, partition);
      record.code_version = std::string(code_version());
      const std::string id = fmt::format("rates/{}/{}", series.str(), partition);
      std::optional<catalog::PartitionRecord> current;
      for (const auto& k : known) {
        if (k.key.partition == partition) current = k;
      }
      const bool start_over = options_.rebuild && !rebuilt_.contains(id);
      p.commit.expected_version = current ? current->version : 0;
      p.commit.watermarks.push_back(
          {rec.vendor, kRatesDataset, series.str(), Date(rows.rbegin()->first).to_string()});
      std::map<int32_t, CuratedObservation> merged;
      bool changed = !current || start_over || current->version_key.empty();
      if (current && !start_over) {
        for (auto& row : read_committed_rates(store_, *current)) {
          merged.emplace(row.date.days_since_epoch(), std::move(row));
        }
      }
      for (auto& [day, candidate] : rows) {
        auto [it, inserted] = merged.try_emplace(day, candidate);
        if (inserted) {
          changed = true;
        } else if (lake::takes_precedence(candidate, it->second) && !(candidate == it->second)) {
          it->second = candidate;
          changed = true;
        }
      }
      if (!changed) {
        record = *current;  // same content: the commit only advances the watermark
      } else {
        std::vector<CuratedObservation> out;
        out.reserve(merged.size());
        for (auto& [day, row] : merged) out.push_back(std::move(row));
        p.bytes = lake::encode_rates_file(out, series, partition);
        record.row_count = static_cast<int64_t>(out.size());
        record.min_ts_ns = to_ts_ns(out.front().date);
        record.max_ts_ns = to_ts_ns(out.back().date);
      }
      pending.push_back(std::move(p));
      ids.push_back(id);
    }
  }
  catalog_.replace_dq(rec.object_key, kRatesDataset, dq, fetched.run_id);
  if (pending.empty()) return stats;
  const CommitReport report = commit_versions(store_, catalog_, pending, 1);
  for (size_t i = 0; i < report.results.size(); ++i) {
    switch (report.results[i].outcome) {
      case catalog::CommitOutcome::kCreated: ++stats.partitions_created; break;
      case catalog::CommitOutcome::kReplaced: ++stats.partitions_replaced; break;
      case catalog::CommitOutcome::kUnchanged: ++stats.partitions_unchanged; break;
    }
    if (options_.rebuild) rebuilt_.insert(ids[i]);
  }
  stats.live_files_repaired = report.live_files_repaired;
  log::debug("etl {}: {} rates partition(s)", rec.object_key, pending.size());
  return stats;
}

}  // namespace trib::etl

#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "trib/catalog/catalog.hpp"
#include "trib/core/config.hpp"
#include "trib/etl/corporate_actions.hpp"
#include "trib/ingest/fetch_handler.hpp"
#include "trib/lake/object_store.hpp"
#include "trib/providers/provider.hpp"

namespace trib::etl {

struct EtlStats {
  int64_t rows_in = 0;              // rows the payload held (parsed + unparseable)
  int64_t rows_accepted = 0;        // passed the rules
  int64_t rows_quarantined = 0;     // written to quarantine with a reason
  int64_t rows_outside_window = 0;  // outside the ingest window recorded with the raw object
  int64_t payloads_quarantined = 0; // whole payloads that could not be parsed at all
  int partitions_created = 0, partitions_replaced = 0, partitions_unchanged = 0;
  int live_files_repaired = 0;      // live files found stale (a crash after a commit) and fixed
  int64_t actions_added = 0;        // corporate-action versions new to the catalog
  int64_t actions_quarantined = 0;  // reported actions that were not valid
  std::map<std::string, int64_t> quarantined_by_rule;
  void add(const EtlStats& other);
};

struct EtlOptions {
  // Rebuild from raw (`trib etl --rebuild`): the first time this engine touches a partition it
  // starts from nothing instead of the committed rows, so the result depends only on the raw
  // objects applied, whatever the curated zone held (or lost).
  bool rebuild = false;
  // Threads for a payload touching many partitions (merge, encode, object writes); the catalog
  // commit stays one transaction. 0 = the machine's cores (at most 8), 1 = the calling thread.
  int threads = 0;
  // Whose row a timestamp keeps when vendors overlap ([prices] bar_precedence): the vendor
  // ranked first; between rows of one vendor (or vendors not ranked) the later fetch. The row
  // that loses is kept aside in quarantine/overlaps/ (etl/bar_conflicts.hpp).
  SourcePrecedence bar_precedence;

  // rebuild and threads at their defaults, bar_precedence from `config`.
  static EtlOptions from_config(const Config& config);
};

// Raw to curated for bars (and economic series: dataset "rates", apply_rates; corporate-action
// files: dataset "actions", apply_action_file). The corporate actions a bars payload reports
// are recorded in the catalog as the vendor's, known from the payload's fetch time. For each
// stored payload:
//  1. parse (a payload that cannot be parsed at all is quarantined as a whole with its reason
//     and counted; the task is done — the evidence is in the raw zone);
//  2. keep the rows inside the ingest window recorded with the raw object, apply the data-quality
//     rules, write rejected rows to quarantine/ (one file per symbol and raw object, rewritten
//     identically on a retry), and replace the payload's data-quality counts in the catalog;
//  3. merge the accepted rows into each touched partition with a deterministic precedence: for
//     one timestamp the row of the vendor ranked first in options.bar_precedence wins, then the
//     later fetch (fetched_at, then raw id), whatever order payloads are applied or replayed in;
//     a row of another vendor that loses, or is displaced, is added to the payload's overlap
//     file (quarantine/overlaps/...) for `trib dq --conflicts`;
//  4. commit (docs/architecture.md, "The commit protocol"): write each new version as an
//     immutable object under _versions/ (put-if-absent, fsyncs grouped), then one conditional
//     catalog commit for the payload's partitions (expected version = the one merged onto; a
//     concurrent writer makes it a Conflict, retried by the queue on top of the winner), which
//     also refreshes the hot cache and advances watermarks; then publish the live files
//     (repairing any a crash left stale).
class EtlEngine final : public ingest::RawConsumer {
 public:
  EtlEngine(lake::ObjectStore& store, catalog::Catalog& catalog, EtlOptions options = {});

  void consume(const ingest::FetchedRaw& fetched) override { stats_.add(apply(fetched)); }
  EtlStats apply(const ingest::FetchedRaw& fetched);
  // Re-runs ETL from a raw object already in the lake (`trib etl`).
  EtlStats apply_raw_object(const catalog::RawObjectRecord& record, const std::string& run_id);

  const EtlStats& stats() const { return stats_; }

 private:
  lake::ObjectStore& store_;
  catalog::Catalog& catalog_;
  EtlOptions options_;
  int threads_;
  // Dataset "rates" (economic series, lake/rates_file.hpp): the same window, quarantine, merge
  // precedence and commit protocol, one partition per series and year (rates_etl.cpp).
  EtlStats apply_rates(const ingest::FetchedRaw& fetched, const providers::ParseResult& parsed);
  // Dataset "actions" (`trib actions import`: Lean factor and map files, our CSV): the actions
  // recorded with the source and knowledge time the raw sidecar names.
  EtlStats apply_action_file(const ingest::FetchedRaw& fetched);

  EtlStats stats_;
  std::set<std::string> rebuilt_;  // partitions this engine has started from nothing
};

// Makes every live file of `dataset` equal to its committed version (a crash between a commit
// and its publish leaves the live file stale; readers through the catalog are unaffected, tools
// that glob the folder are not). Returns how many were republished; with `dry_run`, how many
// would be.
int repair_live_files(lake::ObjectStore& store, catalog::Catalog& catalog,
                      const std::string& dataset = "bars", bool dry_run = false);

}  // namespace trib::etl

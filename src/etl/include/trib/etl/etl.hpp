#pragma once

#include <map>
#include <string>
#include <vector>

#include "trib/catalog/catalog.hpp"
#include "trib/ingest/fetch_handler.hpp"
#include "trib/lake/object_store.hpp"
#include "trib/providers/provider.hpp"

namespace trib::etl {

struct EtlStats {
  int64_t rows_in = 0;           // rows the payload held (parsed + unparseable)
  int64_t rows_accepted = 0;     // passed the rules
  int64_t rows_quarantined = 0;  // written to quarantine with a reason
  int partitions_created = 0, partitions_replaced = 0, partitions_unchanged = 0;
  std::map<std::string, int64_t> quarantined_by_rule;
  void add(const EtlStats& other);
};

// Merges stored payloads into curated partitions. For each (symbol, partition) touched:
// the live file's rows are read, the payload's accepted rows replace rows with the same ts (the
// newer fetch wins) or are added, and the result is committed through
// Catalog::commit_partition: unchanged content is not rewritten; replaced content keeps the old
// file under _versions/. A concurrent commit to the same partition between our read and our
// commit raises Error::Conflict (retryable), so no update is lost. Quarantined rows go to
// quarantine/ (one file per symbol and raw object, rewritten identically on a retry) and are
// counted in the catalog's dq_results under the run id.
class EtlEngine final : public ingest::RawConsumer {
 public:
  EtlEngine(lake::ObjectStore& store, catalog::Catalog& catalog)
      : store_(store), catalog_(catalog) {}

  void consume(const ingest::FetchedRaw& fetched) override { stats_.add(apply(fetched)); }
  EtlStats apply(const ingest::FetchedRaw& fetched);
  // Re-runs ETL from a raw object already in the lake (`trib etl`): parse with its vendor's
  // adapter and apply.
  EtlStats apply_raw_object(const catalog::RawObjectRecord& record, const std::string& run_id);

  const EtlStats& stats() const { return stats_; }

 private:
  lake::ObjectStore& store_;
  catalog::Catalog& catalog_;
  EtlStats stats_;
};

}  // namespace trib::etl

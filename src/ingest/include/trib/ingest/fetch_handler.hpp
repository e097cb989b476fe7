#pragma once

#include <string>

#include "trib/catalog/catalog.hpp"
#include "trib/ingest/task.hpp"
#include "trib/lake/object_store.hpp"
#include "trib/lake/raw_store.hpp"
#include "trib/providers/provider.hpp"

namespace trib::ingest {

// A payload that is safely in the raw zone and recorded in the catalog, with its parse.
struct FetchedRaw {
  std::string vendor;
  Timeframe timeframe = Timeframe::kDay1;
  Symbol symbol;  // empty for multi-symbol payloads
  lake::RawObject raw;
  catalog::RawObjectRecord record;
  providers::ParseResult parsed;
  std::string run_id;
};

// What happens to a stored payload next (the ETL). Must be idempotent: a redelivered task hands
// the same payload over again.
class RawConsumer {
 public:
  virtual ~RawConsumer() = default;
  virtual void consume(const FetchedRaw& fetched) = 0;
};

// Fetches, stores write-once, records, parses and hands over. Idempotent per task: the raw
// object is content-addressed and put-if-absent, the catalog record insert-if-absent, and the
// consumer is idempotent.
class FetchHandler {
 public:
  FetchHandler(lake::ObjectStore& store, catalog::Catalog& catalog, RawConsumer* consumer)
      : store_(store), raw_(store), catalog_(catalog), consumer_(consumer) {}

  void handle(const Task& task);
  // Stores and records an already fetched payload (used by `trib ingest` for local files, which
  // must validate before anything is written) and hands it over.
  FetchedRaw store(const std::string& vendor, Timeframe tf, const Symbol& symbol,
                   const providers::FetchResult& fetched, providers::ParseResult parsed,
                   const std::string& run_id);

 private:
  lake::ObjectStore& store_;
  lake::RawStore raw_;
  catalog::Catalog& catalog_;
  RawConsumer* consumer_;
};

}  // namespace trib::ingest

// The fetch stage: ask the vendor, store the bytes write-once in the raw zone, record them in the
// catalog — before anything parses them — then hand the stored payload to the next stage (the
// ETL, plugged in by the application as a RawConsumer). A vendor's error page or an unparseable
// body is thereby kept as evidence, and a retried task whose payload is already recorded (by task
// id) goes straight to the next stage: an ETL retry never calls the vendor again.
#pragma once

#include <optional>
#include <string>

#include "trib/catalog/catalog.hpp"
#include "trib/ingest/task.hpp"
#include "trib/lake/object_store.hpp"
#include "trib/lake/raw_store.hpp"
#include "trib/providers/provider.hpp"
#include "trib/ingest/vendor_access.hpp"

namespace trib::ingest {

// A payload that is safely in the raw zone and recorded in the catalog.
struct FetchedRaw {
  catalog::RawObjectRecord record;  // key, vendor, symbol, fetch time, task, window
  Timeframe timeframe = Timeframe::kDay1;
  Symbol symbol;  // empty for multi-symbol payloads
  bool newly_written = false;
  std::string run_id;
  // The parse of these very bytes when the caller already has it (a local file is parsed to be
  // validated before anything is written); otherwise the next stage parses the stored bytes.
  std::optional<providers::ParseResult> parsed;
};

// What happens to a stored payload next (the ETL). Must be idempotent: a redelivered task hands
// the same payload over again.
class RawConsumer {
 public:
  virtual ~RawConsumer() = default;
  virtual void consume(const FetchedRaw& fetched) = 0;
};

// Describes a payload being stored.
struct RawOrigin {
  std::string vendor;
  std::string dataset = "bars";
  Timeframe timeframe = Timeframe::kDay1;
  // The trading calendar of the payload's bars ("nyse", "fx"): in the sidecar, so the ETL and a
  // rebuild put intraday bars in the same sessions.
  std::string calendar = "nyse";
  Symbol symbol;  // empty for multi-symbol payloads
  std::string run_id, task_id;
  std::optional<Date> window_from, window_to;  // the ingest window the ETL honours
};

class FetchHandler {
 public:
  // `providers` builds each task's provider (vendor settings, budget gate); by default
  // make_provider(task.vendor, task.options) without a budget.
  FetchHandler(lake::ObjectStore& store, catalog::Catalog& catalog, RawConsumer* consumer,
               ProviderFactory providers = nullptr)
      : store_(store), raw_(store), catalog_(catalog), consumer_(consumer),
        providers_(std::move(providers)) {}

  // Stage 1 (skipped when the task's payload is already recorded), then stage 2.
  void handle(const Task& task);
  // Stores and records an already fetched payload (`trib ingest` of a local file) and hands it
  // over; `parsed` is the caller's parse of fetched.bytes, if any.
  FetchedRaw store(const RawOrigin& origin, const providers::FetchResult& fetched,
                   std::optional<providers::ParseResult> parsed = std::nullopt);

 private:
  lake::ObjectStore& store_;
  lake::RawStore raw_;
  catalog::Catalog& catalog_;
  RawConsumer* consumer_;
  ProviderFactory providers_;
};

}  // namespace trib::ingest

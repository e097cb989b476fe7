// ingest: getting vendor data into the raw zone. The backfill planner, the task format that
// travels through the queue, the fetch handler (fetch -> raw store -> catalog record -> hand the
// parsed payload downstream) and the worker loop that drains a queue. It knows nothing of
// curated files: what happens after a raw object is stored is a RawConsumer the application
// plugs in (the ETL), which keeps the module order (ingest below etl).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "trib/core/bar.hpp"
#include "trib/core/symbol.hpp"
#include "trib/core/time.hpp"

namespace trib::ingest {

// One unit of work on the queue. JSON body (persistent field names):
// {"kind":"fetch","vendor":"sim","dataset":"bars","timeframe":"1d","symbol":"SIM0001",
//  "from":"2010-01-01","to":"2010-12-31","run_id":"...","options":{"seed":"42"}}
struct Task {
  std::string kind = "fetch";
  std::string vendor;
  std::string dataset = "bars";
  Timeframe timeframe = Timeframe::kDay1;
  Symbol symbol;
  Date from, to;
  std::string run_id;
  std::map<std::string, std::string> options;

  // Deterministic id of the work (not of the delivery): the same task planned twice has the
  // same id, so its effects are keyed by it.
  std::string id() const;
  std::string to_json() const;
  // Throws Error::InvalidInput naming the bad field (a poison-worthy message).
  static Task from_json(const std::string& body);
};

struct BackfillPlan {
  std::string vendor;
  std::vector<Symbol> symbols;
  Date from, to;
  Timeframe timeframe = Timeframe::kDay1;
  std::string run_id;
  std::map<std::string, std::string> options;
};

// One task per (symbol, partition) — for daily bars one per calendar year — clipped to
// [from, to], ordered by symbol then time. Error::InvalidInput when from > to or no symbols.
std::vector<Task> plan_backfill(const BackfillPlan& plan);

}  // namespace trib::ingest

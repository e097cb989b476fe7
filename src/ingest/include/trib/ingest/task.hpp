// ingest: getting vendor data into the raw zone. The backfill planner, the task format that
// travels through the queue, the fetch handler (fetch -> raw store -> catalog record -> hand the
// parsed payload downstream) and the worker loop that drains a queue. It knows nothing of
// curated files: what happens after a raw object is stored is a RawConsumer the application
// plugs in (the ETL), which keeps the module order (ingest below etl).
#pragma once

#include "trib/catalog/catalog.hpp"
#include "trib/core/calendar.hpp"

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
  std::string dataset = "bars";
  std::vector<Symbol> symbols;
  Date from, to;
  Timeframe timeframe = Timeframe::kDay1;
  std::string run_id;
  std::map<std::string, std::string> options;
  // How the range is cut into tasks (providers::VendorInfo::max_sessions_per_task): -1 one task
  // per partition (for daily bars a calendar year), 0 the whole range in one task (one request
  // and its pages answer it), N chunks of at most N NYSE sessions.
  int max_sessions_per_task = -1;
};

// Tasks for each symbol over [from, to] cut as max_sessions_per_task says, ordered by symbol
// then time. Error::InvalidInput when from > to or no symbols.
std::vector<Task> plan_backfill(const BackfillPlan& plan);

// "AAPL,MSFT" -> symbols; for the sim vendor a count "50" -> SIM0001..SIM0050. Error::InvalidInput
// naming the fix otherwise.
std::vector<Symbol> parse_symbol_list(const std::string& text, const std::string& vendor);

// The daily update: for each symbol, the sessions after its watermark (the last date fully
// ingested from `vendor`; `start` when it has none) up to the last session of `calendar` that has
// closed by `now_ns`. Symbols already current give no task. Tasks are those plan_backfill gives
// for each symbol's window, so an update run twice plans the same ids (the queue's dedupe key).
struct UpdatePlan {
  std::string vendor;
  std::string dataset = "bars";
  int max_sessions_per_task = -1;  // as in BackfillPlan
  int publish_delay_minutes = 0;   // the vendor's daily bar is final this long after the close
  std::vector<Symbol> symbols;
  Date start;      // first date for a symbol never ingested
  int64_t now_ns;  // when the update runs (a timer's scheduled time, or the clock)
  Timeframe timeframe = Timeframe::kDay1;
  std::string run_id;
  std::map<std::string, std::string> options;
};

// The last session whose close (16:00 New York, 13:00 on early-close days) plus the vendor's
// publishing delay is at or before `now_ns`.
Date last_completed_session(const TradingCalendar& calendar, int64_t now_ns, int publish_delay_minutes = 0);
// When the next session's bar becomes final: the first session close (13:00 on early-close
// days) plus the publishing delay strictly after `now_ns` — when a scheduler runs the update
// next (weekends and holidays have no close, so they are skipped).
int64_t next_update_ns(const TradingCalendar& calendar, int64_t now_ns, int publish_delay_minutes = 0);

std::vector<Task> plan_update(catalog::Catalog& catalog, const UpdatePlan& plan,
                              const TradingCalendar& calendar = TradingCalendar::nyse());

}  // namespace trib::ingest

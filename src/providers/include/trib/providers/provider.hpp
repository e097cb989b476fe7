// providers: one adapter per vendor. An adapter has two halves that never mix:
//   fetch  — ask the vendor for data, return the bytes exactly as sent (they go to the raw zone);
//   parse  — turn stored bytes into bars, deterministically, with a finding for every row it
//            could not use (those rows are quarantined, never silently dropped).
// Adapters here: sim (deterministic synthetic sandbox) and csv (local Yahoo/Kaggle-style files).
// REST vendors (Alpha Vantage, Polygon, ...) plug in behind the same interface later.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "trib/core/bar.hpp"
#include "trib/core/calendar.hpp"
#include "trib/core/symbol.hpp"
#include "trib/core/time.hpp"

namespace trib::providers {

struct FetchRequest {
  std::string dataset = "bars";
  Timeframe timeframe = Timeframe::kDay1;
  Symbol symbol;   // empty for a multi-symbol file (csv)
  Date from, to;   // inclusive
  std::map<std::string, std::string> params;  // adapter-specific ("file" for csv)
};

struct FetchResult {
  std::string bytes;         // exactly what the vendor sent
  std::string ext;           // "csv", "json"
  std::string content_type;  // "text/csv"
  int status = 200;
  nlohmann::json request;    // what was asked (URL, params), never credentials
  bool multi_symbol = false; // the payload holds several symbols (raw path uses "_multi")
  // When the source itself says when its data was produced (a local file's modification time,
  // the simulated vendor's fixed clock): used as the fetch time, so that ingesting the same data
  // twice, on one machine or two backends, gives the same lineage and the same curated bytes.
  // Unset for live vendors: their fetch time is the wall clock.
  std::optional<int64_t> as_of_ns;
};

// A row the parser could not turn into a bar.
struct ParseFinding {
  int64_t line = 0;      // 1-based line in the payload, 0 when not applicable
  std::string rule;      // "malformed_row", "bad_number", "bad_date", "unknown_symbol", ...
  std::string reason;    // one line for a human: field, value, what was expected
  std::string raw_text;  // the offending text, truncated to 200 bytes
};

struct ParseResult {
  std::map<Symbol, std::vector<Bar>> bars;  // in payload order per symbol
  std::vector<ParseFinding> findings;
};

struct ParseContext {
  Symbol symbol;  // the symbol a single-symbol payload is for
  Timeframe timeframe = Timeframe::kDay1;
  const TradingCalendar* calendar = &TradingCalendar::nyse();
};

class Provider {
 public:
  virtual ~Provider() = default;
  virtual std::string_view name() const = 0;
  // Throws Error with a category: InvalidInput (bad request), NotFound (unknown symbol / file),
  // Retryable / RateLimited (transient), Permanent.
  virtual FetchResult fetch(const FetchRequest& request) = 0;
  // Never throws for bad rows (they become findings); throws Error::DataLoss only when the
  // payload as a whole is unreadable (e.g. no recognisable header).
  virtual ParseResult parse(std::string_view bytes, const ParseContext& context) const = 0;
};

// Options for building providers; unknown keys are ignored by adapters that do not use them.
//   sim: "seed" (default 42), "fault_rate" (probability a bar is corrupted, default 0),
//        "fail_fetch" ("retryable:N"), "latency_ms" (sleep per fetch, default 0)
using ProviderOptions = std::map<std::string, std::string>;

// Throws Error::InvalidInput "unknown vendor 'x'; available vendors: csv, sim".
std::unique_ptr<Provider> make_provider(std::string_view vendor, const ProviderOptions& options = {});
std::vector<std::string> available_vendors();

// The symbols the sim vendor serves for a universe of n: SIM0001 ... SIMnnnn.
std::vector<Symbol> sim_universe(int n);

// sim option "fail_fetch" = "retryable:N" fails the first N fetch calls of the process (counted
// across provider instances, since workers build one per task). Tests reset the count here.
void reset_sim_injected_failures();

}  // namespace trib::providers

// providers: one adapter per vendor. An adapter has two halves that never mix:
//   fetch  — ask the vendor for data, return the bytes exactly as sent (they go to the raw zone);
//   parse  — turn stored bytes into bars, deterministically, with a finding for every row it
//            could not use (those rows are quarantined, never silently dropped).
// Adapters: sim (deterministic synthetic sandbox), csv (local files), and the REST vendors under
// src/providers/<vendor>/ (alphavantage, polygon, yahoo, stooq, tiingo, alpaca, fred), which
// talk HTTP through vendor_http.hpp and are described by vendor_info() (budget, key, paging).
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
#include "trib/core/corporate_action.hpp"
#include "trib/core/error.hpp"
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

// A split or a cash dividend as the vendor reported it (core/corporate_action.hpp; stored and
// applied by the corporate-actions layer, the parser only reports them).
using CorporateAction = trib::CorporateAction;

// One observation of an economic series (FRED rates): a date in the series' own calendar and a
// value; nullopt where the vendor marks the value missing ("." in FRED).
struct Observation {
  Date date;
  std::optional<double> value;

  bool operator==(const Observation&) const = default;
};

struct ParseResult {
  std::map<Symbol, std::vector<Bar>> bars;  // in payload order per symbol
  std::vector<CorporateAction> actions;     // in payload order
  std::map<std::string, std::vector<Observation>> series;  // by series id (dataset "rates")
  std::vector<ParseFinding> findings;
};

struct ParseContext {
  Symbol symbol;  // the symbol a single-symbol payload is for
  Timeframe timeframe = Timeframe::kDay1;
  // Sessions, and the time zone of intraday times written without an offset (New York for
  // nyse and fx); intraday bars belong to calendar->session_of(ts).
  const TradingCalendar* calendar = &TradingCalendar::nyse();
  // The name of the local file the payload came from ("" otherwise), for formats that keep a
  // field in the name (a Lean minute file's date: 20140609_aapl_minute_trade.csv).
  std::string file_name;
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
//   REST vendors: "base_url" (default the vendor's own; tests point it at the mock vendor
//        server), "feed" (alpaca: iex | sip), "adjusted" (polygon, default "false"),
//        "format" (tiingo: json | csv), "function" (alphavantage: TIME_SERIES_DAILY |
//        TIME_SERIES_DAILY_ADJUSTED | TIME_SERIES_INTRADAY | FX_DAILY), "outputsize"
using ProviderOptions = std::map<std::string, std::string>;

// A vendor's request budget (its published free-tier limits by default; [vendors.<name>] in
// trib.toml overrides). 0 means "no limit" for that window.
struct RateBudget {
  double per_minute = 0;
  double per_hour = 0;
  double per_day = 0;
  int burst = 1;  // requests that may go out back to back

  bool unlimited() const { return per_minute <= 0 && per_hour <= 0 && per_day <= 0; }
  bool operator==(const RateBudget&) const = default;
};

// A vendor's request budget is used up (our own budget, or the vendor said so: a daily limit, a
// Retry-After longer than a fetch should wait) for `retry_after_ms`: the task was not done and
// is no worse for trying, so the worker defers it until then without spending one of its
// attempts (TaskQueue::defer) instead of releasing it for a retry. Category: RateLimited.
class BudgetExhausted : public Error {
 public:
  BudgetExhausted(std::string message, int64_t retry_after_ms)
      : Error(ErrorCategory::kRateLimited, std::move(message)), retry_after_ms_(retry_after_ms) {}
  int64_t retry_after_ms() const { return retry_after_ms_; }

 private:
  int64_t retry_after_ms_;
};

// Where a provider asks before each HTTP request, so every thread and process sharing a vendor
// stays inside its budget (the catalog-backed gate shares it across processes and machines).
class RequestGate {
 public:
  virtual ~RequestGate() = default;
  // Blocks until one request to `vendor` may go out, and takes it. Throws BudgetExhausted
  // when the wait would be longer than the caller should block (a used-up daily budget).
  virtual void acquire(std::string_view vendor) = 0;
  // The vendor answered 429: nobody sharing the budget sends before `until_unix_ms`.
  virtual void pause(std::string_view vendor, int64_t until_unix_ms) = 0;
};

// The static description of a vendor: what the planner, the budget and the CLI need to know.
struct VendorInfo {
  std::string name;
  bool remote = false;            // fetches over HTTP (false: sim, csv)
  std::string key_env;            // environment variable holding the API key ("" if none)
  std::string secret_env;         // a second credential (alpaca's secret key), "" if none
  std::string default_base_url;
  RateBudget budget;              // published free-tier limits
  // How the backfill planner cuts a range into tasks (ingest::BackfillPlan): -1 one task per
  // partition (a year of daily bars), 0 the whole range in one task (one request and its pages
  // answer it), N at most N sessions per task.
  int max_sessions_per_task = -1;
  std::vector<std::string> datasets = {"bars"};  // "bars", "rates"
  // What the vendor's prices already include, as it delivers them: kRaw (as traded), kSplit
  // (Yahoo's chart OHLC, split-adjusted as of the fetch) or kTotal (Stooq's split- and
  // dividend-adjusted back-series). Curated rows keep the vendor's values; readers turn them
  // into the mode asked with the actions known (etl/adjusted_bars.hpp), never adjusting twice.
  AdjustMode price_basis = AdjustMode::kRaw;
};

// Throws Error::InvalidInput "unknown vendor 'x'; available vendors: ...".
const VendorInfo& vendor_info(std::string_view vendor);

// `gate` (may be null: no budget) is used by REST adapters before every request.
std::unique_ptr<Provider> make_provider(std::string_view vendor, const ProviderOptions& options = {},
                                        std::shared_ptr<RequestGate> gate = nullptr);
std::vector<std::string> available_vendors();

// The symbols the sim vendor serves for a universe of n: SIM0001 ... SIMnnnn.
std::vector<Symbol> sim_universe(int n);

// sim option "fail_fetch" = "retryable:N" fails the first N fetch calls of the process (counted
// across provider instances, since workers build one per task). Tests reset the count here.
void reset_sim_injected_failures();

}  // namespace trib::providers

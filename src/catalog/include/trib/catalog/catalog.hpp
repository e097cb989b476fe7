// catalog: the platform's metadata and state. One interface, SQLite (embedded default) and
// PostgreSQL implementations with the same versioned migrations, one typed test suite over both. It owns: instruments, the
// partition manifest (the commit point of every curated file), raw-object records, ingestion
// runs and watermarks, data-quality results, and the order / fill / position ledger.
// It knows nothing of Parquet, vendors or strategies.
//
// Thread safety: a Catalog object may be used from one thread at a time; open one per thread or
// process (SQLite handles cross-process locking; busy waits are bounded by a 30 s timeout and
// then throw Error::Retryable; PostgreSQL serialisation failures are retried, then Retryable).
//
// The commit protocol (docs/architecture.md): the writer puts the new version as an immutable
// object, then commit_partition() is the commit point (a conditional update on the version the
// writer read, never a transaction held across object I/O), then the live file is published and
// repaired by the next writer or reader if a crash left it stale.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "trib/core/corporate_action.hpp"
#include "trib/core/money.hpp"

namespace trib::catalog {

// ---- statuses: enums in code, stable lower-case strings in the database ----
enum class RunStatus { kRunning, kOk, kFailed, kInterrupted };
enum class Side { kBuy, kSell };
// kNew: recorded, not acknowledged by a broker yet (a crash may have left it there); kDenied is
// kept for orders of the single-symbol runner before denials moved to their own table.
enum class OrderStatus { kNew, kAccepted, kPartiallyFilled, kFilled, kDenied, kRejected, kCancelled, kExpired };
// An order the broker is still working (accepted or partially filled) or may be (new).
inline bool is_open(OrderStatus s) {
  return s == OrderStatus::kNew || s == OrderStatus::kAccepted || s == OrderStatus::kPartiallyFilled;
}

std::string_view to_string(RunStatus status);
std::string_view to_string(Side side);
std::string_view to_string(OrderStatus status);
// Error::InvalidInput naming the value and the allowed ones.
RunStatus parse_run_status(std::string_view text);
Side parse_side(std::string_view text);
OrderStatus parse_order_status(std::string_view text);
inline int sign_of(Side side) { return side == Side::kBuy ? 1 : -1; }

// Identifies one live file of a dataset: ("bars", "1d", "AAPL", "2020").
struct PartitionKey {
  std::string dataset;    // "bars", "features/basic", ...
  std::string timeframe;  // "1d"
  std::string symbol;     // Symbol::str()
  std::string partition;  // "2020"
  bool operator==(const PartitionKey&) const = default;
};

struct PartitionRecord {
  PartitionKey key;
  std::string object_key;      // lake key of the live file (the globbed tree)
  std::string version_key;     // lake key of this version's immutable object (_versions/...)
  int64_t row_count = 0;
  std::string content_sha256;  // of the file bytes
  int64_t min_ts_ns = 0, max_ts_ns = 0;
  int64_t version = 0;         // 1 for the first commit, +1 per content change
  std::string code_version;
  int64_t committed_at_ns = 0;  // wall clock of the commit (catalog only, never in files)
};

enum class CommitOutcome { kCreated, kReplaced, kUnchanged };

// One row of the hot cache: the last N sessions of a symbol, kept in the catalog so recent bars
// (and strategies) are answered without opening Parquet. Same values as the curated row.
struct HotBar {
  int64_t ts_ns = 0;
  int32_t session_date = 0;  // days since the epoch
  double open = 0, high = 0, low = 0, close = 0, volume = 0;
  std::optional<double> vwap;
  std::optional<int64_t> trades;
  std::string source, raw_id;
  int64_t fetched_at_ns = 0;
  bool operator==(const HotBar&) const = default;
};

struct Watermark {
  std::string vendor, dataset, symbol;
  std::string date;  // YYYY-MM-DD: the last date fully ingested
};

// Everything that becomes true at the commit point of one partition, in one unit of work.
struct PartitionCommit {
  PartitionRecord record;        // the new version (version/committed_at are filled in)
  int64_t expected_version = 0;  // the version the writer read and merged onto; 0 = none
  // The partition's rows for the hot cache (bars datasets; empty for others).
  std::vector<HotBar> hot_rows;
  std::vector<Watermark> watermarks;  // advanced with the commit (only ever forward)
  // Bars datasets: the sessions (days since the epoch) the partition holds rows for after this
  // commit, i.e. of the whole partition, not only what the payload brought; any order,
  // duplicates allowed (intraday rows share a session). Recorded in partition_sessions for
  // session_coverage(): replaced when the content changes, inserted only if absent when the
  // commit is unchanged (so partitions committed by older builds fill in as they are touched).
  // Empty: nothing is recorded (other datasets).
  std::vector<int32_t> session_days;
};

struct CommitResult {
  CommitOutcome outcome = CommitOutcome::kUnchanged;
  int64_t version = 0;  // the partition's version after the call
};

struct RawObjectRecord {
  std::string object_key;
  std::string vendor, dataset, symbol;  // symbol "" for multi-symbol payloads
  std::string sha256;
  int64_t size = 0;
  std::string fetched_date;  // YYYY-MM-DD
  std::string request_json;  // the sidecar
  int64_t fetched_at_ns = 0;  // when the bytes were fetched: the merge precedence (later wins)
  std::string task_id;        // the task that fetched it ("" for a local file)
  std::string window_from, window_to;  // the ingest window (YYYY-MM-DD or ""), honoured by rebuilds
  bool operator==(const RawObjectRecord&) const = default;
};

// A data-quality count: rows of one raw object and symbol that failed one rule.
struct DqResult {
  std::string run_id;  // the run that last (re)counted it
  std::string dataset, symbol, rule;
  int64_t rows = 0;
  std::string raw_object;
};

struct RunRecord {
  std::string run_id;
  std::string kind;  // "ingest", "backfill", "etl", "trade", ...
  std::string params_json;
  RunStatus status = RunStatus::kRunning;
  std::string stats_json;
  int64_t started_at_ns = 0, finished_at_ns = 0;
};

// ---- ledger: money and quantities exact (Micros) ----
struct OrderRecord {
  std::string client_order_id;  // deterministic: the idempotency key
  std::string strategy, symbol;
  Side side = Side::kBuy;
  Micros qty;
  std::string order_type = "market";
  std::optional<Micros> limit_price;
  std::optional<Micros> stop_price;
  std::string account = "paper";
  Micros filled_qty;            // the sum of its fills (apply_order_update keeps it)
  std::string session_date;     // YYYY-MM-DD the decision was made for
  OrderStatus status = OrderStatus::kNew;
  std::string reason;           // denial / rejection reason
  std::string broker;           // "paper"
  std::string broker_order_id;
  int64_t created_at_ns = 0;
};

struct FillRecord {
  std::string fill_id;          // unique per broker
  std::string client_order_id;
  std::string symbol;
  Side side = Side::kBuy;
  Micros qty, price, commission;
  int64_t ts_ns = 0;
};

// The account's trading state (ACTIVE, REDUCING, HALTED) and what the daily loss and drawdown
// limits are measured against.
struct TradingStateRecord {
  std::string account;
  std::string state = "ACTIVE";
  std::string reason;         // why it is in that state (a halt's reason, the limit that tripped)
  Micros peak_equity, last_equity;  // 0 until a cycle marked the account
  std::string last_session;   // YYYY-MM-DD of last_equity
  // The account's strategy and its order path's memory (targets per symbol), JSON, written by the
  // trading module beside the state: one strategy per account.
  std::string strategy_json;
  int64_t updated_at_ns = 0;
};

// A split or cash dividend applied to an account's position, as a broker applies it to its book
// (the paper account's; a real broker's book is reconciled instead). Recorded once per action_id.
struct LedgerAdjustment {
  std::string action_id;  // e.g. "split:AAPL:2020-08-31": the idempotency key
  std::string account, symbol;
  std::string kind;       // "split" | "dividend"
  double ratio = 1;       // split: new shares per old
  Micros cash_per_share;  // dividend
  Micros fraction_price;  // split: cash per new share for a fraction of a share (cash in lieu)
  std::string ex_date;    // YYYY-MM-DD
};

// An order the risk engine denied. Kept apart from the orders, so a denial does not take the
// session's client order id: once the limits change, a later cycle may place that order.
struct RiskDenialRecord {
  std::string account, client_order_id, strategy, symbol;
  Side side = Side::kBuy;
  Micros qty;
  std::string rule, reason;
  std::string session_date;
  int64_t created_at_ns = 0;
};

struct PositionRecord {
  std::string account, symbol;  // account "paper"
  Micros qty;                   // signed: negative is short
  Micros avg_price;
  Micros realized_pnl;
  int64_t updated_at_ns = 0;
};

// ---- the universe: the instruments `trib update` keeps current ----
struct UniverseEntry {
  std::string symbol, vendor;
  std::string dataset = "bars";
  std::string timeframe = "1d";
  std::string calendar = "nyse";
  std::string asset_class = "equity";  // equity | etf | fx | crypto | rate | index
  std::string currency = "USD";
  std::string start_date;  // YYYY-MM-DD: where an instrument never ingested starts
  // Persistent strings: "active", or "unknown_symbol" when the vendor said it does not know the
  // symbol (a permanent finding: the updater skips it until it is added again).
  std::string status = "active";
  std::string status_reason;
  int64_t status_at_ns = 0;
  int64_t added_at_ns = 0;
  bool operator==(const UniverseEntry&) const = default;
};

// ---- vendor request budgets, shared by every process on this catalog ----
struct BudgetRule {
  int64_t interval_ns = 0;   // spacing of requests at the sustained rate; 0: no per-minute limit
  int64_t tolerance_ns = 0;  // how far ahead of that schedule a burst may run: (burst - 1) intervals
  int64_t per_hour = 0;      // requests per UTC clock hour; 0: no limit
  int64_t per_day = 0;       // requests per UTC day; 0: no limit
  int64_t max_reserve_ns = 0;  // a slot further ahead than this is not taken (the caller waits)
};
struct BudgetState {
  int64_t tat_ns = 0;           // the rate's theoretical arrival time (GCRA)
  int64_t paused_until_ns = 0;  // a 429 asked everyone to wait until then
  int64_t hour_start_ns = 0, hour_count = 0;
  int64_t day_start_ns = 0, day_count = 0;
  bool operator==(const BudgetState&) const = default;
};
struct BudgetReservation {
  bool reserved = false;  // true: the request is counted and may go out after wait_ns
  int64_t wait_ns = 0;    // false: nothing was taken; ask again after wait_ns
};
// The budget arithmetic both backends apply inside their transaction (pure, so it is tested
// without a database): GCRA for the rate and burst, fixed UTC hour and day windows for the
// hourly and daily caps, and a pause set by a 429.
BudgetReservation reserve_in_budget(BudgetState& state, const BudgetRule& rule, int64_t now_ns);

// ---- coverage: the sessions a calendar expects vs the sessions the manifest holds ----
struct InstrumentRecord {
  std::string symbol, vendor, calendar;
  bool operator==(const InstrumentRecord&) const = default;
};

// One calendar year of session_coverage().
struct CoverageYear {
  int year = 0;
  int64_t expected = 0;  // sessions of the calendar in the range asked, in this year
  int64_t present = 0;   // of those, sessions the partitions hold rows for
  std::vector<std::string> missing;  // the expected sessions not present, YYYY-MM-DD ascending
  bool operator==(const CoverageYear&) const = default;
};

// ---- corporate actions, point-in-time ----
// One version of what one source said about one action: (symbol, kind, ex_date, source) is the
// action, knowledge_ts_ns when we learned this version. A later version from the same source
// replaces it from its knowledge time on (a corrected amount, a retraction); earlier reads
// (--as-of) still see the earlier one.
struct ActionRecord {
  CorporateAction action;
  std::string source;          // who said it: a vendor ("alphavantage"), "lean", "user"
  std::string origin;          // lineage: the raw object key or the imported file ("" if none)
  int64_t knowledge_ts_ns = 0;  // when we learned it: the payload's fetch time, the import time
  bool retracted = false;      // the source withdrew the action (e.g. a user's correction)
  bool operator==(const ActionRecord&) const = default;
};
// True when two versions say the same (everything but origin and knowledge time).
bool same_action_values(const ActionRecord& a, const ActionRecord& b);

struct CatalogOptions {
  int hot_cache_sessions = 300;  // rows per (symbol, timeframe) kept in the hot cache; 0 = off
  // A session that cannot write: the database refuses every write (SQLite `query_only`,
  // PostgreSQL `default_transaction_read_only`), and opening does not migrate (a catalog older
  // than this build is an error naming the fix). For readers that must never change state,
  // such as the LLM assistant's tools.
  bool read_only = false;
};

// A trained model in the registry (`trib ml train`): what it is, what it saw, how it scored.
// Its artefacts (per-split boosters or coefficients, the fitted preprocessing, per-date
// metrics) live in the lake under `artefacts`; this row is the commit point that makes them a
// model.
struct ModelRecord {
  std::string id;                // "<name>-<12 hex>": a hash of config, dataset and code version
  std::string name;
  std::string kind;              // "xgboost", "ridge", ...
  std::string feature_set;       // "alpha158"
  std::string feature_set_hash;  // SHA-256 of the set's text
  std::string label;             // the label expression
  std::string dataset_hash;
  std::string config_toml;       // the config as trained (defaults filled in)
  std::string code_version;
  std::string artefacts;         // lake prefix: "models/<id>/"
  std::string metrics_json;      // test-period summary and per-split metrics
  std::string importance_json;   // feature -> importance (the final model)
  int32_t from_day = 0, to_day = 0;  // the dataset's session dates (days since the epoch)
  int32_t splits = 0;
  int64_t created_at_ns = 0;
  bool operator==(const ModelRecord&) const = default;
};

class Catalog {
 public:
  virtual ~Catalog() = default;

  // Brings the schema to the latest version; idempotent; safe to race from several processes.
  virtual void migrate() = 0;
  virtual int schema_version() = 0;
  // "sqlite:<path>" or "postgres:<url without password>", for messages.
  virtual std::string describe() const = 0;

  // ---- instruments ----
  virtual void upsert_instrument(const std::string& symbol, const std::string& vendor,
                                 const std::string& calendar) = 0;
  virtual std::vector<std::string> list_instruments() = 0;
  virtual std::optional<InstrumentRecord> get_instrument(const std::string& symbol) = 0;

  // ---- partitions: the manifest ----
  virtual std::optional<PartitionRecord> get_partition(const PartitionKey& key) = 0;
  // Empty symbol / timeframe = any. Sorted by symbol, partition, timeframe.
  virtual std::vector<PartitionRecord> list_partitions(const std::string& dataset,
                                                       const std::string& timeframe = "",
                                                       const std::string& symbol = "") = 0;
  // The commit point of a partition: one short transaction, no object I/O inside it. The new
  // version's immutable object (record.version_key) must already be durable in the lake.
  //   - the row's version differs from commit.expected_version: if its content equals the
  //     record's (someone committed the same bytes) -> kUnchanged, else Error::Conflict and
  //     nothing is written (the queue retries the merge on top of the winner: no lost update);
  //   - same content as the current row -> kUnchanged (watermarks still advance);
  //   - otherwise the row becomes version expected+1 (kCreated / kReplaced), the replaced
  //     version is kept in partition history, the hot cache takes commit.hot_rows, and
  //     commit.watermarks advance — all or nothing.
  virtual CommitResult commit_partition(const PartitionCommit& commit) = 0;
  // Several commits in one transaction (a run's group commit): each as above; a Conflict on any
  // rolls back all of them. Results in order.
  virtual std::vector<CommitResult> commit_partitions(const std::vector<PartitionCommit>& commits) = 0;
  // Replaced versions of a partition, oldest first; the live one is get_partition(). For --as-of
  // reads and vacuum.
  virtual std::vector<PartitionRecord> partition_history(const PartitionKey& key) = 0;
  // Sets a partition's row as found in the lake (`trib catalog rebuild`): no version check.
  virtual void restore_partition(const PartitionRecord& record) = 0;
  // Replaces the sessions recorded for a partition (`trib catalog rebuild`, from the live file),
  // as PartitionCommit::session_days describes them; empty removes the record.
  virtual void replace_partition_sessions(const PartitionKey& key,
                                          const std::vector<int32_t>& session_days) = 0;

  // ---- coverage ----
  // Makes calendar_sessions hold exactly `sessions` (days since the epoch, strictly ascending,
  // each in [from_day, to_day]) for `calendar` in [from_day, to_day]: the calendar (core's
  // TradingCalendar) materialised for SQL. Writes nothing when it already does (the usual case),
  // so racing callers and repeated calls are cheap; a range that differs (the calendar's code
  // changed) is corrected in one transaction.
  virtual void ensure_calendar_sessions(const std::string& calendar, int32_t from_day,
                                        int32_t to_day, const std::vector<int32_t>& sessions) = 0;
  // Per calendar year, ascending: the sessions `calendar` expects in [from_day, to_day] (as
  // calendar_sessions holds them: ensure_calendar_sessions first) against the sessions the
  // partitions of (dataset, timeframe, symbol) hold (partition_sessions), with the missing
  // dates. One SQL query (the same text on both backends). Years without an expected session
  // are absent; a symbol without data has every session missing.
  virtual std::vector<CoverageYear> session_coverage(const std::string& dataset,
                                                     const std::string& timeframe,
                                                     const std::string& symbol,
                                                     const std::string& calendar,
                                                     int32_t from_day, int32_t to_day) = 0;

  // ---- hot cache ----
  // The cached rows of (symbol, timeframe) with ts in [from_ts_ns, to_ts_ns], ascending.
  virtual std::vector<HotBar> hot_bars(const std::string& symbol, const std::string& timeframe,
                                       int64_t from_ts_ns = INT64_MIN,
                                       int64_t to_ts_ns = INT64_MAX) = 0;
  // Replaces the whole cache of (symbol, timeframe) (rebuild); keeps the newest N rows.
  virtual void replace_hot_bars(const std::string& symbol, const std::string& timeframe,
                                const std::vector<HotBar>& rows) = 0;
  virtual int hot_cache_sessions() const = 0;

  // ---- raw objects ----
  // Inserts if absent (keyed by object_key); returns true if inserted.
  virtual bool record_raw_object(const RawObjectRecord& record) = 0;
  virtual std::optional<RawObjectRecord> get_raw_object(const std::string& object_key) = 0;
  // The raw objects a task stored (a redelivered fetch finds its payload here and skips the
  // vendor), by object key.
  virtual std::vector<RawObjectRecord> raw_objects_of_task(const std::string& task_id) = 0;
  // Sorted by (fetched_at_ns, object_key): the order in which a rebuild applies them.
  virtual std::vector<RawObjectRecord> list_raw_objects(const std::string& vendor = "",
                                                        const std::string& symbol = "") = 0;

  // ---- runs, tasks, watermarks, data quality ----
  virtual void start_run(const RunRecord& run) = 0;
  virtual void finish_run(const std::string& run_id, RunStatus status,
                          const std::string& stats_json) = 0;
  virtual std::optional<RunRecord> get_run(const std::string& run_id) = 0;
  // Runs newest first (by start), of one kind ("" = any), at most `limit`.
  virtual std::vector<RunRecord> list_runs(const std::string& kind, int64_t limit) = 0;
  // A task's effect committed (keyed by task id: a redelivery changes nothing). Returns true
  // when newly recorded.
  virtual bool mark_task_done(const std::string& task_id, const std::string& run_id) = 0;
  virtual bool is_task_done(const std::string& task_id) = 0;
  // Tasks recorded done by `run_id`.
  virtual int64_t count_tasks_done(const std::string& run_id) = 0;
  // Task throughput: every task recorded done (`total`), and those done at or after `since_ns`
  // counted per `bucket_ns` (bucket start, count; ascending; empty buckets absent).
  struct TaskThroughput {
    int64_t total = 0;
    std::vector<std::pair<int64_t, int64_t>> buckets;
  };
  virtual TaskThroughput task_throughput(int64_t since_ns, int64_t bucket_ns) = 0;
  // Last date fully ingested for (vendor, dataset, symbol); advancing only (an older value is
  // ignored).
  virtual std::optional<std::string> get_watermark(const std::string& vendor,
                                                   const std::string& dataset,
                                                   const std::string& symbol) = 0;
  virtual void advance_watermark(const Watermark& watermark) = 0;
  // Replaces every count of (raw_object, dataset) with `rows_by_symbol_rule` (symbol -> rule ->
  // rows; what is absent drops out), so redelivery, re-runs and concurrent ingests of one payload
  // report the true count, never a sum of attempts.
  virtual void replace_dq(
      const std::string& raw_object, const std::string& dataset,
      const std::map<std::string, std::map<std::string, int64_t>>& rows_by_symbol_rule,
      const std::string& run_id) = 0;
  // Totals per (dataset, rule) over everything (run_id empty) or what one run (re)counted.
  virtual std::vector<DqResult> dq_summary(const std::string& run_id = "") = 0;

  // ---- ledger ----
  // Inserts if no order has this client_order_id; returns true if inserted. This is what makes
  // a repeated trading cycle place no second order.
  virtual bool insert_order_if_absent(const OrderRecord& order) = 0;
  virtual std::optional<OrderRecord> get_order(const std::string& client_order_id) = 0;
  virtual void update_order(const std::string& client_order_id, OrderStatus status,
                            const std::string& reason, const std::string& broker_order_id) = 0;
  virtual std::vector<OrderRecord> list_orders(const std::string& strategy = "") = 0;
  // A broker's report on an order, in one transaction: the fills not recorded yet (by fill id;
  // each moves the position and the cash as apply_fill does), then the order's status, reason
  // (empty keeps it), broker order id (empty keeps it) and filled quantity. Returns the fills
  // applied. Error::NotFound when the order is not in the ledger.
  virtual int apply_order_update(const std::string& account, const std::string& client_order_id,
                                 OrderStatus status, const std::string& reason,
                                 const std::string& broker_order_id, const std::vector<FillRecord>& fills) = 0;
  // Records the fill and applies it to the account's position and cash in one transaction; a
  // fill_id seen before changes nothing and returns false.
  virtual bool apply_fill(const std::string& account, const FillRecord& fill) = 0;
  virtual std::vector<FillRecord> list_fills(const std::string& client_order_id = "") = 0;
  virtual std::optional<PositionRecord> get_position(const std::string& account,
                                                     const std::string& symbol) = 0;
  virtual std::vector<PositionRecord> list_positions(const std::string& account = "") = 0;
  // Cash of an account: initial (the first call names it) + the flows of its fills.
  virtual Micros account_cash(const std::string& account, Micros initial_cash) = 0;
  // The account's trading state; nullopt before anything set it (ACTIVE).
  virtual std::optional<TradingStateRecord> get_trading_state(const std::string& account) = 0;
  virtual void put_trading_state(const TradingStateRecord& state) = 0;
  virtual void record_denial(const RiskDenialRecord& denial) = 0;
  // Oldest first; "" = every account.
  virtual std::vector<RiskDenialRecord> list_denials(const std::string& account = "") = 0;
  // Applies a split (the position's quantity x ratio, whole shares, the fraction paid in cash at
  // fraction_price; the average price / ratio) or a dividend (position x cash_per_share to cash;
  // a short pays it) in one transaction, once per action_id: false when it was applied before.
  virtual bool apply_adjustment(const LedgerAdjustment& adjustment) = 0;

  // ---- universe ----
  // Adds or replaces an instrument (a replaced one becomes "active" again). True when new.
  virtual bool upsert_universe(const UniverseEntry& entry) = 0;
  // True when it was there.
  virtual bool remove_universe(const std::string& symbol, const std::string& vendor,
                               const std::string& dataset, const std::string& timeframe) = 0;
  virtual std::vector<UniverseEntry> list_universe(const std::string& vendor = "") = 0;
  virtual void set_universe_status(const std::string& symbol, const std::string& vendor,
                                   const std::string& dataset, const std::string& timeframe,
                                   const std::string& status, const std::string& reason) = 0;

  // ---- corporate actions ----
  // Records what sources reported, in one transaction. A record is stored as a new version of
  // its (symbol, kind, ex_date, source) unless the version in force at its knowledge_ts_ns (the
  // newest not after it) says the same, so a payload applied twice, or a daily fetch repeating
  // the whole history, adds nothing. Throws Error::InvalidInput naming the record when it is not
  // a valid action (no symbol or source, a split ratio not positive, a negative dividend, a
  // symbol change without its new symbol). Returns how many versions were added.
  virtual int64_t record_actions(const std::vector<ActionRecord>& records) = 0;
  // The version of each action in force at as_of_ns (the newest with knowledge_ts_ns <= as_of_ns;
  // retracted ones left out), of `symbol` (as the action's symbol or a symbol change's new
  // symbol; "" = every symbol). Sorted by symbol, ex_date, kind, source.
  virtual std::vector<ActionRecord> list_actions(const std::string& symbol = "",
                                                 int64_t as_of_ns = INT64_MAX) = 0;

  // ---- vendor budgets (wall-clock ns, shared across machines) ----
  virtual BudgetReservation reserve_vendor_request(const std::string& vendor, const BudgetRule& rule,
                                                   int64_t now_ns) = 0;
  // Nobody sends to `vendor` before `until_ns` (never moves an existing pause earlier).
  virtual void pause_vendor(const std::string& vendor, int64_t until_ns) = 0;
  virtual std::optional<BudgetState> vendor_budget_state(const std::string& vendor) = 0;

  // ---- the model registry ----
  // Registers a model; false (and nothing changes) when its id is registered already: a model
  // id names one config trained on one dataset by one code version, so a rerun is a no-op.
  virtual bool record_model(const ModelRecord& model) = 0;
  virtual std::optional<ModelRecord> get_model(const std::string& id) = 0;
  // Newest first.
  virtual std::vector<ModelRecord> list_models() = 0;
};

// Opens (creating if missing) a SQLite catalog and migrates it. WAL mode, busy timeout 30 s.
std::unique_ptr<Catalog> open_sqlite_catalog(const std::filesystem::path& path,
                                             CatalogOptions options = {});
// Opens a PostgreSQL catalog (libpq URL or key=value string; password from PGPASSWORD or
// ~/.pgpass, never from trib.toml) and migrates it. One object per thread.
std::unique_ptr<Catalog> open_postgres_catalog(const std::string& url, CatalogOptions options = {});

// Average-cost accounting, exactly as apply_fill applies a fill to a position: buying into a
// long (or selling into a short) moves the average price; a fill against the position realises
// (price - avg_price) per unit closed (sign-adjusted for shorts); a fill that crosses zero closes
// the position and opens the remainder at the fill price. Commissions are not part of
// realized_pnl (they go to cash). side: +1 buy, -1 sell; qty > 0.
PositionRecord apply_fill_to_position(PositionRecord position, Side side, Micros qty,
                                      Micros price);

// The hot cache after taking `incoming` (one partition's rows, ascending) into `cached`
// (ascending): rows with the same ts are replaced, then only the newest `sessions` rows are
// kept. Both implementations apply exactly this.
std::vector<HotBar> merge_hot_rows(std::vector<HotBar> cached, const std::vector<HotBar>& incoming,
                                   int sessions);

}  // namespace trib::catalog

// catalog: the platform's metadata and state. One interface, a SQLite implementation (embedded
// default; PostgreSQL later), and versioned schema migrations. It owns: instruments, the
// partition manifest (the commit point of every curated file), raw-object records, ingestion
// runs and watermarks, data-quality results, and the order / fill / position ledger.
// It knows nothing of Parquet, vendors or strategies.
//
// Thread safety: a Catalog object may be used from one thread at a time; open one per thread or
// process (SQLite handles cross-process locking; busy waits are bounded by a 30 s timeout and
// then throw Error::Retryable).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace trib::catalog {

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
  std::string object_key;      // lake key of the live file
  int64_t row_count = 0;
  std::string content_sha256;  // of the file bytes
  int64_t min_ts_ns = 0, max_ts_ns = 0;
  int64_t version = 0;         // 1 for the first commit, +1 per content change
  std::string code_version;
  int64_t committed_at_ns = 0;  // wall clock of the commit (catalog only, never in files)
};

enum class CommitOutcome { kCreated, kReplaced, kUnchanged };

struct RawObjectRecord {
  std::string object_key;
  std::string vendor, dataset, symbol;  // symbol "" for multi-symbol payloads
  std::string sha256;
  int64_t size = 0;
  std::string fetched_date;  // YYYY-MM-DD
  std::string request_json;  // the sidecar
};

// A data-quality count for one run, dataset, symbol and rule.
struct DqResult {
  std::string run_id;
  std::string dataset, symbol, rule;
  int64_t rows = 0;
};

struct RunRecord {
  std::string run_id;
  std::string kind;         // "ingest", "backfill", "etl", "trade", ...
  std::string params_json;
  std::string status;       // "running", "ok", "failed"
  std::string stats_json;
  int64_t started_at_ns = 0, finished_at_ns = 0;
};

// ---- ledger ----
struct OrderRecord {
  std::string client_order_id;  // deterministic: the idempotency key
  std::string strategy, symbol;
  std::string side;             // "buy" | "sell"
  double qty = 0;
  std::string order_type = "market";
  std::optional<double> limit_price;
  std::string session_date;     // YYYY-MM-DD the decision was made for
  std::string status;           // "new", "accepted", "filled", "denied", "rejected", "cancelled"
  std::string reason;           // denial / rejection reason
  std::string broker;           // "paper"
  std::string broker_order_id;
  int64_t created_at_ns = 0;
};

struct FillRecord {
  std::string fill_id;          // unique per broker
  std::string client_order_id;
  std::string symbol, side;
  double qty = 0, price = 0, commission = 0;
  int64_t ts_ns = 0;
};

struct PositionRecord {
  std::string account, symbol;  // account "paper"
  double qty = 0;
  double avg_price = 0;
  double realized_pnl = 0;
  int64_t updated_at_ns = 0;
};

class Catalog {
 public:
  virtual ~Catalog() = default;

  // Brings the schema to the latest version; idempotent; safe to race from several processes.
  virtual void migrate() = 0;
  virtual int schema_version() = 0;

  // ---- instruments ----
  virtual void upsert_instrument(const std::string& symbol, const std::string& vendor,
                                 const std::string& calendar) = 0;
  virtual std::vector<std::string> list_instruments() = 0;

  // ---- partitions: the manifest ----
  virtual std::optional<PartitionRecord> get_partition(const PartitionKey& key) = 0;
  // Empty symbol / timeframe = any. Sorted by symbol, partition.
  virtual std::vector<PartitionRecord> list_partitions(const std::string& dataset,
                                                       const std::string& timeframe = "",
                                                       const std::string& symbol = "") = 0;
  // The commit point of a partition. Under the catalog's write lock (held across processes):
  //   1. reads the current row for record.key;
  //   2. if it exists with the same content_sha256 and row_count: returns kUnchanged, does not
  //      call publish and changes nothing;
  //   3. otherwise calls publish(previous) (which writes the file into place; it may throw, and
  //      then nothing is recorded), then inserts or updates the row with version = previous+1
  //      (or 1) and returns kCreated / kReplaced.
  // The lock serialises committers of the same partition, so the file in place and the row
  // always agree once a commit returns.
  virtual CommitOutcome commit_partition(
      const PartitionRecord& record,
      const std::function<void(const std::optional<PartitionRecord>& previous)>& publish) = 0;

  // Replaced versions of a partition (rows of partition_versions), oldest first; the live one is
  // get_partition(). For --as-of reads. Not pure so that decorators need not forward it.
  virtual std::vector<PartitionRecord> partition_history(const PartitionKey& key);

  // ---- raw objects ----
  // Inserts if absent (keyed by object_key); returns true if inserted.
  virtual bool record_raw_object(const RawObjectRecord& record) = 0;
  virtual std::vector<RawObjectRecord> list_raw_objects(const std::string& vendor = "",
                                                        const std::string& symbol = "") = 0;

  // ---- runs, watermarks, data quality ----
  virtual void start_run(const RunRecord& run) = 0;
  virtual void finish_run(const std::string& run_id, const std::string& status,
                          const std::string& stats_json) = 0;
  virtual std::optional<RunRecord> get_run(const std::string& run_id) = 0;
  // Last date fully ingested for (vendor, dataset, symbol); advancing only (an older value is
  // ignored).
  virtual std::optional<std::string> get_watermark(const std::string& vendor,
                                                   const std::string& dataset,
                                                   const std::string& symbol) = 0;
  virtual void advance_watermark(const std::string& vendor, const std::string& dataset,
                                 const std::string& symbol, const std::string& date) = 0;
  // Adds `rows` to the count of (run, dataset, symbol, rule).
  virtual void record_dq(const DqResult& result) = 0;
  // Totals per rule over all runs (run_id empty) or one run.
  virtual std::vector<DqResult> dq_summary(const std::string& run_id = "") = 0;

  // ---- ledger ----
  // Inserts if no order has this client_order_id; returns true if inserted. This is what makes
  // a repeated trading cycle place no second order.
  virtual bool insert_order_if_absent(const OrderRecord& order) = 0;
  virtual std::optional<OrderRecord> get_order(const std::string& client_order_id) = 0;
  virtual void update_order(const std::string& client_order_id, const std::string& status,
                            const std::string& reason, const std::string& broker_order_id) = 0;
  virtual std::vector<OrderRecord> list_orders(const std::string& strategy = "") = 0;
  // Records the fill and applies it to the account's position in one transaction; a fill_id
  // seen before changes nothing and returns false.
  virtual bool apply_fill(const std::string& account, const FillRecord& fill) = 0;
  virtual std::vector<FillRecord> list_fills(const std::string& client_order_id = "") = 0;
  virtual std::optional<PositionRecord> get_position(const std::string& account,
                                                     const std::string& symbol) = 0;
  virtual std::vector<PositionRecord> list_positions(const std::string& account = "") = 0;
  // Cash of an account: initial (first call creates it) + realised flows of its fills.
  virtual double account_cash(const std::string& account, double initial_cash) = 0;
};

// Opens (creating if missing) a SQLite catalog and migrates it. WAL mode, busy timeout 30 s.
std::unique_ptr<Catalog> open_sqlite_catalog(const std::filesystem::path& path);

// Average-cost accounting, exactly as apply_fill applies a fill to a position: buying into a
// long (or selling into a short) moves the average price; a fill against the position realises
// (price - avg_price) per unit closed (sign-adjusted for shorts); a fill that crosses zero closes
// the position and opens the remainder at the fill price. Commissions are not part of
// realized_pnl (they go to cash). side: +1 buy, -1 sell; qty > 0.
PositionRecord apply_fill_to_position(PositionRecord position, int side, double qty,
                                      double price);

}  // namespace trib::catalog

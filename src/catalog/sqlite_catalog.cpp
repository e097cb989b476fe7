// The embedded catalog: one SQLite file in the workspace, versioned migrations, and the
// partition commit protocol under the database's write lock.
#include <cmath>

#include <fmt/format.h>

#include "trib/catalog/catalog.hpp"
#include "trib/catalog/sqlite.hpp"
#include "trib/core/error.hpp"
#include "trib/core/time.hpp"

namespace trib::catalog {
namespace {

// Migrations, applied in order, each in one transaction. Persistent: never edit a shipped
// migration; add a new one.
constexpr const char* kMigrations[] = {
    // 1: the manifest, raw objects, runs, watermarks, data quality, ledger.
    R"sql(
CREATE TABLE instruments (
  symbol TEXT PRIMARY KEY, vendor TEXT NOT NULL, calendar TEXT NOT NULL
);
CREATE TABLE partitions (
  dataset TEXT NOT NULL, timeframe TEXT NOT NULL, symbol TEXT NOT NULL, partition TEXT NOT NULL,
  object_key TEXT NOT NULL, row_count INTEGER NOT NULL, content_sha256 TEXT NOT NULL,
  min_ts_ns INTEGER NOT NULL, max_ts_ns INTEGER NOT NULL, version INTEGER NOT NULL,
  code_version TEXT NOT NULL, committed_at_ns INTEGER NOT NULL,
  PRIMARY KEY (dataset, timeframe, symbol, partition)
);
CREATE TABLE partition_versions (
  dataset TEXT NOT NULL, timeframe TEXT NOT NULL, symbol TEXT NOT NULL, partition TEXT NOT NULL,
  version INTEGER NOT NULL, object_key TEXT NOT NULL, row_count INTEGER NOT NULL,
  content_sha256 TEXT NOT NULL, committed_at_ns INTEGER NOT NULL, replaced_at_ns INTEGER NOT NULL,
  PRIMARY KEY (dataset, timeframe, symbol, partition, version)
);
CREATE TABLE raw_objects (
  object_key TEXT PRIMARY KEY, vendor TEXT NOT NULL, dataset TEXT NOT NULL, symbol TEXT NOT NULL,
  sha256 TEXT NOT NULL, size INTEGER NOT NULL, fetched_date TEXT NOT NULL,
  request_json TEXT NOT NULL, recorded_at_ns INTEGER NOT NULL
);
CREATE INDEX raw_objects_by_symbol ON raw_objects (vendor, symbol);
CREATE TABLE runs (
  run_id TEXT PRIMARY KEY, kind TEXT NOT NULL, params_json TEXT NOT NULL, status TEXT NOT NULL,
  stats_json TEXT NOT NULL DEFAULT '', started_at_ns INTEGER NOT NULL, finished_at_ns INTEGER
);
CREATE TABLE watermarks (
  vendor TEXT NOT NULL, dataset TEXT NOT NULL, symbol TEXT NOT NULL, date TEXT NOT NULL,
  PRIMARY KEY (vendor, dataset, symbol)
);
CREATE TABLE dq_results (
  run_id TEXT NOT NULL, dataset TEXT NOT NULL, symbol TEXT NOT NULL, rule TEXT NOT NULL,
  rows INTEGER NOT NULL, PRIMARY KEY (run_id, dataset, symbol, rule)
);
CREATE TABLE orders (
  client_order_id TEXT PRIMARY KEY, strategy TEXT NOT NULL, symbol TEXT NOT NULL,
  side TEXT NOT NULL CHECK (side IN ('buy', 'sell')), qty REAL NOT NULL,
  order_type TEXT NOT NULL, limit_price REAL, session_date TEXT NOT NULL, status TEXT NOT NULL,
  reason TEXT NOT NULL DEFAULT '', broker TEXT NOT NULL, broker_order_id TEXT NOT NULL DEFAULT '',
  created_at_ns INTEGER NOT NULL
);
CREATE TABLE fills (
  fill_id TEXT PRIMARY KEY, client_order_id TEXT NOT NULL REFERENCES orders (client_order_id),
  account TEXT NOT NULL, symbol TEXT NOT NULL, side TEXT NOT NULL, qty REAL NOT NULL,
  price REAL NOT NULL, commission REAL NOT NULL, ts_ns INTEGER NOT NULL
);
CREATE TABLE accounts (
  account TEXT PRIMARY KEY, initial_cash REAL NOT NULL, cash REAL NOT NULL
);
CREATE TABLE positions (
  account TEXT NOT NULL, symbol TEXT NOT NULL, qty REAL NOT NULL, avg_price REAL NOT NULL,
  realized_pnl REAL NOT NULL, updated_at_ns INTEGER NOT NULL, PRIMARY KEY (account, symbol)
);
)sql",
};
constexpr int kSchemaVersion = static_cast<int>(std::size(kMigrations));

class SqliteCatalog final : public Catalog {
 public:
  explicit SqliteCatalog(const std::filesystem::path& path) : db_(path) { migrate(); }

  void migrate() override {
    db_.transaction([&] {
      db_.exec("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at_ns INTEGER NOT NULL)");
      int current = current_version();
      if (current > kSchemaVersion) {
        throw Error::Permanent(fmt::format(
            "catalog {} has schema version {}, newer than this build ({}); upgrade trib",
            db_.path().string(), current, kSchemaVersion));
      }
      for (int v = current + 1; v <= kSchemaVersion; ++v) {
        db_.exec(kMigrations[v - 1]);
        db_.prepare("INSERT INTO schema_migrations (version, applied_at_ns) VALUES (?, ?)")
            .bind(1, v).bind(2, now_ts_ns()).run();
      }
    });
  }

  int schema_version() override { return current_version(); }

  void upsert_instrument(const std::string& symbol, const std::string& vendor,
                         const std::string& calendar) override {
    db_.prepare("INSERT INTO instruments (symbol, vendor, calendar) VALUES (?, ?, ?) "
                "ON CONFLICT (symbol) DO UPDATE SET vendor = excluded.vendor, calendar = excluded.calendar "
                "WHERE vendor <> excluded.vendor OR calendar <> excluded.calendar")
        .bind(1, symbol).bind(2, vendor).bind(3, calendar).run();
  }

  std::vector<std::string> list_instruments() override {
    std::vector<std::string> out;
    auto& s = db_.prepare("SELECT symbol FROM instruments ORDER BY symbol");
    while (s.step()) out.push_back(s.text(0));
    s.reset();
    return out;
  }

  std::optional<PartitionRecord> get_partition(const PartitionKey& key) override {
    auto& s = db_.prepare(std::string(kPartitionSelect) +
                          " WHERE dataset = ? AND timeframe = ? AND symbol = ? AND partition = ?");
    s.bind(1, key.dataset).bind(2, key.timeframe).bind(3, key.symbol).bind(4, key.partition);
    std::optional<PartitionRecord> out;
    if (s.step()) out = read_partition(s);
    s.reset();
    return out;
  }

  std::vector<PartitionRecord> list_partitions(const std::string& dataset,
                                               const std::string& timeframe,
                                               const std::string& symbol) override {
    auto& s = db_.prepare(std::string(kPartitionSelect) +
                          " WHERE dataset = ? AND (? = '' OR timeframe = ?) AND (? = '' OR symbol = ?)"
                          " ORDER BY symbol, timeframe, partition");
    s.bind(1, dataset).bind(2, timeframe).bind(3, timeframe).bind(4, symbol).bind(5, symbol);
    std::vector<PartitionRecord> out;
    while (s.step()) out.push_back(read_partition(s));
    s.reset();
    return out;
  }

  CommitOutcome commit_partition(
      const PartitionRecord& record,
      const std::function<void(const std::optional<PartitionRecord>&)>& publish) override {
    CommitOutcome outcome = CommitOutcome::kUnchanged;
    db_.transaction([&] {
      std::optional<PartitionRecord> previous = get_partition(record.key);
      if (previous && previous->content_sha256 == record.content_sha256 &&
          previous->row_count == record.row_count) {
        outcome = CommitOutcome::kUnchanged;
        return;
      }
      publish(previous);
      const int64_t now = now_ts_ns();
      if (previous) {
        db_.prepare("INSERT OR REPLACE INTO partition_versions (dataset, timeframe, symbol, partition, "
                    "version, object_key, row_count, content_sha256, committed_at_ns, replaced_at_ns) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
            .bind(1, previous->key.dataset).bind(2, previous->key.timeframe)
            .bind(3, previous->key.symbol).bind(4, previous->key.partition)
            .bind(5, previous->version).bind(6, previous->object_key).bind(7, previous->row_count)
            .bind(8, previous->content_sha256).bind(9, previous->committed_at_ns).bind(10, now)
            .run();
      }
      db_.prepare("INSERT OR REPLACE INTO partitions (dataset, timeframe, symbol, partition, object_key, "
                  "row_count, content_sha256, min_ts_ns, max_ts_ns, version, code_version, committed_at_ns) "
                  "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
          .bind(1, record.key.dataset).bind(2, record.key.timeframe).bind(3, record.key.symbol)
          .bind(4, record.key.partition).bind(5, record.object_key).bind(6, record.row_count)
          .bind(7, record.content_sha256).bind(8, record.min_ts_ns).bind(9, record.max_ts_ns)
          .bind(10, previous ? previous->version + 1 : int64_t{1}).bind(11, record.code_version)
          .bind(12, now)
          .run();
      outcome = previous ? CommitOutcome::kReplaced : CommitOutcome::kCreated;
    });
    return outcome;
  }

  bool record_raw_object(const RawObjectRecord& r) override {
    db_.prepare("INSERT OR IGNORE INTO raw_objects (object_key, vendor, dataset, symbol, sha256, size, "
                "fetched_date, request_json, recorded_at_ns) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
        .bind(1, r.object_key).bind(2, r.vendor).bind(3, r.dataset).bind(4, r.symbol)
        .bind(5, r.sha256).bind(6, r.size).bind(7, r.fetched_date).bind(8, r.request_json)
        .bind(9, now_ts_ns())
        .run();
    return db_.changes() > 0;
  }

  std::vector<RawObjectRecord> list_raw_objects(const std::string& vendor,
                                                const std::string& symbol) override {
    auto& s = db_.prepare(
        "SELECT object_key, vendor, dataset, symbol, sha256, size, fetched_date, request_json "
        "FROM raw_objects WHERE (? = '' OR vendor = ?) AND (? = '' OR symbol = ?) "
        "ORDER BY recorded_at_ns, object_key");
    s.bind(1, vendor).bind(2, vendor).bind(3, symbol).bind(4, symbol);
    std::vector<RawObjectRecord> out;
    while (s.step()) {
      out.push_back({s.text(0), s.text(1), s.text(2), s.text(3), s.text(4), s.int64(5), s.text(6), s.text(7)});
    }
    s.reset();
    return out;
  }

  void start_run(const RunRecord& run) override {
    db_.prepare("INSERT INTO runs (run_id, kind, params_json, status, stats_json, started_at_ns) "
                "VALUES (?, ?, ?, ?, ?, ?)")
        .bind(1, run.run_id).bind(2, run.kind).bind(3, run.params_json)
        .bind(4, run.status.empty() ? std::string("running") : run.status).bind(5, run.stats_json)
        .bind(6, run.started_at_ns ? run.started_at_ns : now_ts_ns())
        .run();
  }

  void finish_run(const std::string& run_id, const std::string& status,
                  const std::string& stats_json) override {
    db_.prepare("UPDATE runs SET status = ?, stats_json = ?, finished_at_ns = ? WHERE run_id = ?")
        .bind(1, status).bind(2, stats_json).bind(3, now_ts_ns()).bind(4, run_id).run();
    if (db_.changes() == 0) throw Error::NotFound("run " + run_id + " does not exist");
  }

  std::optional<RunRecord> get_run(const std::string& run_id) override {
    auto& s = db_.prepare("SELECT run_id, kind, params_json, status, stats_json, started_at_ns, "
                          "coalesce(finished_at_ns, 0) FROM runs WHERE run_id = ?");
    s.bind(1, run_id);
    std::optional<RunRecord> out;
    if (s.step()) out = RunRecord{s.text(0), s.text(1), s.text(2), s.text(3), s.text(4), s.int64(5), s.int64(6)};
    s.reset();
    return out;
  }

  std::optional<std::string> get_watermark(const std::string& vendor, const std::string& dataset,
                                           const std::string& symbol) override {
    auto& s = db_.prepare("SELECT date FROM watermarks WHERE vendor = ? AND dataset = ? AND symbol = ?");
    s.bind(1, vendor).bind(2, dataset).bind(3, symbol);
    std::optional<std::string> out;
    if (s.step()) out = s.text(0);
    s.reset();
    return out;
  }

  void advance_watermark(const std::string& vendor, const std::string& dataset,
                         const std::string& symbol, const std::string& date) override {
    db_.prepare("INSERT INTO watermarks (vendor, dataset, symbol, date) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (vendor, dataset, symbol) DO UPDATE SET date = excluded.date "
                "WHERE excluded.date > watermarks.date")
        .bind(1, vendor).bind(2, dataset).bind(3, symbol).bind(4, date).run();
  }

  void record_dq(const DqResult& r) override {
    db_.prepare("INSERT INTO dq_results (run_id, dataset, symbol, rule, rows) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (run_id, dataset, symbol, rule) DO UPDATE SET rows = rows + excluded.rows")
        .bind(1, r.run_id).bind(2, r.dataset).bind(3, r.symbol).bind(4, r.rule).bind(5, r.rows).run();
  }

  std::vector<DqResult> dq_summary(const std::string& run_id) override {
    auto& s = db_.prepare("SELECT dataset, rule, sum(rows) FROM dq_results WHERE (? = '' OR run_id = ?) "
                          "GROUP BY dataset, rule ORDER BY dataset, rule");
    s.bind(1, run_id).bind(2, run_id);
    std::vector<DqResult> out;
    while (s.step()) out.push_back({run_id, s.text(0), "", s.text(1), s.int64(2)});
    s.reset();
    return out;
  }

  bool insert_order_if_absent(const OrderRecord& o) override {
    db_.prepare("INSERT OR IGNORE INTO orders (client_order_id, strategy, symbol, side, qty, order_type, "
                "limit_price, session_date, status, reason, broker, broker_order_id, created_at_ns) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
        .bind(1, o.client_order_id).bind(2, o.strategy).bind(3, o.symbol).bind(4, o.side)
        .bind(5, o.qty).bind(6, o.order_type).bind(7, o.limit_price).bind(8, o.session_date)
        .bind(9, o.status).bind(10, o.reason).bind(11, o.broker).bind(12, o.broker_order_id)
        .bind(13, o.created_at_ns ? o.created_at_ns : now_ts_ns())
        .run();
    return db_.changes() > 0;
  }

  std::optional<OrderRecord> get_order(const std::string& client_order_id) override {
    auto& s = db_.prepare(std::string(kOrderSelect) + " WHERE client_order_id = ?");
    s.bind(1, client_order_id);
    std::optional<OrderRecord> out;
    if (s.step()) out = read_order(s);
    s.reset();
    return out;
  }

  void update_order(const std::string& client_order_id, const std::string& status,
                    const std::string& reason, const std::string& broker_order_id) override {
    db_.prepare("UPDATE orders SET status = ?, reason = ?, broker_order_id = ? WHERE client_order_id = ?")
        .bind(1, status).bind(2, reason).bind(3, broker_order_id).bind(4, client_order_id).run();
    if (db_.changes() == 0) throw Error::NotFound("order " + client_order_id + " does not exist");
  }

  std::vector<OrderRecord> list_orders(const std::string& strategy) override {
    auto& s = db_.prepare(std::string(kOrderSelect) +
                          " WHERE (? = '' OR strategy = ?) ORDER BY created_at_ns, client_order_id");
    s.bind(1, strategy).bind(2, strategy);
    std::vector<OrderRecord> out;
    while (s.step()) out.push_back(read_order(s));
    s.reset();
    return out;
  }

  bool apply_fill(const std::string& account, const FillRecord& fill) override {
    if (fill.side != "buy" && fill.side != "sell") {
      throw Error::InvalidInput("fill " + fill.fill_id + ": side must be buy or sell");
    }
    if (!(fill.qty > 0) || !(fill.price > 0)) {
      throw Error::InvalidInput("fill " + fill.fill_id + ": qty and price must be positive");
    }
    bool applied = false;
    db_.transaction([&] {
      db_.prepare("INSERT OR IGNORE INTO fills (fill_id, client_order_id, account, symbol, side, qty, price, "
                  "commission, ts_ns) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
          .bind(1, fill.fill_id).bind(2, fill.client_order_id).bind(3, account).bind(4, fill.symbol)
          .bind(5, fill.side).bind(6, fill.qty).bind(7, fill.price).bind(8, fill.commission)
          .bind(9, fill.ts_ns)
          .run();
      if (db_.changes() == 0) return;  // seen before: nothing changes
      applied = true;
      const double signed_qty = fill.side == "buy" ? fill.qty : -fill.qty;
      auto pos = get_position(account, fill.symbol).value_or(PositionRecord{account, fill.symbol});
      // Average-cost accounting: adding to a position moves the average; reducing realises
      // (price - avg) per unit closed; crossing zero opens the remainder at the fill price.
      double qty = pos.qty, avg = pos.avg_price, realized = pos.realized_pnl;
      if (qty == 0 || (qty > 0) == (signed_qty > 0)) {
        avg = (qty * avg + signed_qty * fill.price) / (qty + signed_qty);
        qty += signed_qty;
      } else {
        const double closing = std::min(std::fabs(signed_qty), std::fabs(qty));
        realized += closing * (fill.price - avg) * (qty > 0 ? 1 : -1);
        const double remaining = qty + signed_qty;
        if (remaining == 0) {
          avg = 0;
        } else if ((remaining > 0) != (qty > 0)) {
          avg = fill.price;  // flipped through zero
        }
        qty = remaining;
      }
      db_.prepare("INSERT OR REPLACE INTO positions (account, symbol, qty, avg_price, realized_pnl, updated_at_ns) "
                  "VALUES (?, ?, ?, ?, ?, ?)")
          .bind(1, account).bind(2, fill.symbol).bind(3, qty).bind(4, avg).bind(5, realized)
          .bind(6, fill.ts_ns)
          .run();
      db_.prepare("UPDATE accounts SET cash = cash - ? WHERE account = ?")
          .bind(1, signed_qty * fill.price + fill.commission).bind(2, account).run();
      if (db_.changes() == 0) {
        throw Error::InvalidInput("account '" + account + "' does not exist; open it with account_cash first");
      }
    });
    return applied;
  }

  std::vector<FillRecord> list_fills(const std::string& client_order_id) override {
    auto& s = db_.prepare("SELECT fill_id, client_order_id, symbol, side, qty, price, commission, ts_ns "
                          "FROM fills WHERE (? = '' OR client_order_id = ?) ORDER BY ts_ns, fill_id");
    s.bind(1, client_order_id).bind(2, client_order_id);
    std::vector<FillRecord> out;
    while (s.step()) {
      out.push_back({s.text(0), s.text(1), s.text(2), s.text(3), s.real(4), s.real(5), s.real(6), s.int64(7)});
    }
    s.reset();
    return out;
  }

  std::optional<PositionRecord> get_position(const std::string& account,
                                             const std::string& symbol) override {
    auto& s = db_.prepare("SELECT account, symbol, qty, avg_price, realized_pnl, updated_at_ns "
                          "FROM positions WHERE account = ? AND symbol = ?");
    s.bind(1, account).bind(2, symbol);
    std::optional<PositionRecord> out;
    if (s.step()) out = PositionRecord{s.text(0), s.text(1), s.real(2), s.real(3), s.real(4), s.int64(5)};
    s.reset();
    return out;
  }

  std::vector<PositionRecord> list_positions(const std::string& account) override {
    auto& s = db_.prepare("SELECT account, symbol, qty, avg_price, realized_pnl, updated_at_ns "
                          "FROM positions WHERE (? = '' OR account = ?) ORDER BY account, symbol");
    s.bind(1, account).bind(2, account);
    std::vector<PositionRecord> out;
    while (s.step()) out.push_back({s.text(0), s.text(1), s.real(2), s.real(3), s.real(4), s.int64(5)});
    s.reset();
    return out;
  }

  double account_cash(const std::string& account, double initial_cash) override {
    db_.prepare("INSERT OR IGNORE INTO accounts (account, initial_cash, cash) VALUES (?, ?, ?)")
        .bind(1, account).bind(2, initial_cash).bind(3, initial_cash).run();
    auto& s = db_.prepare("SELECT cash FROM accounts WHERE account = ?");
    s.bind(1, account);
    s.step();
    double cash = s.real(0);
    s.reset();
    return cash;
  }

 private:
  static constexpr const char* kPartitionSelect =
      "SELECT dataset, timeframe, symbol, partition, object_key, row_count, content_sha256, "
      "min_ts_ns, max_ts_ns, version, code_version, committed_at_ns FROM partitions";
  static constexpr const char* kOrderSelect =
      "SELECT client_order_id, strategy, symbol, side, qty, order_type, limit_price, session_date, "
      "status, reason, broker, broker_order_id, created_at_ns FROM orders";

  static PartitionRecord read_partition(SqliteStmt& s) {
    PartitionRecord r;
    r.key = {s.text(0), s.text(1), s.text(2), s.text(3)};
    r.object_key = s.text(4);
    r.row_count = s.int64(5);
    r.content_sha256 = s.text(6);
    r.min_ts_ns = s.int64(7);
    r.max_ts_ns = s.int64(8);
    r.version = s.int64(9);
    r.code_version = s.text(10);
    r.committed_at_ns = s.int64(11);
    return r;
  }

  static OrderRecord read_order(SqliteStmt& s) {
    OrderRecord o;
    o.client_order_id = s.text(0);
    o.strategy = s.text(1);
    o.symbol = s.text(2);
    o.side = s.text(3);
    o.qty = s.real(4);
    o.order_type = s.text(5);
    if (!s.is_null(6)) o.limit_price = s.real(6);
    o.session_date = s.text(7);
    o.status = s.text(8);
    o.reason = s.text(9);
    o.broker = s.text(10);
    o.broker_order_id = s.text(11);
    o.created_at_ns = s.int64(12);
    return o;
  }

  int current_version() {
    auto& s = db_.prepare("SELECT coalesce(max(version), 0) FROM schema_migrations");
    s.step();
    int v = static_cast<int>(s.int64(0));
    s.reset();
    return v;
  }

  SqliteDb db_;
};

}  // namespace

std::unique_ptr<Catalog> open_sqlite_catalog(const std::filesystem::path& path) {
  return std::make_unique<SqliteCatalog>(path);
}

}  // namespace trib::catalog

// The embedded catalog: one SQLite file in the workspace, versioned migrations (schema.cpp), and
// the partition commit protocol under the database's write lock.
#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "schema.hpp"
#include "trib/catalog/catalog.hpp"
#include "trib/core/error.hpp"
#include "trib/core/time.hpp"

namespace trib::catalog {
namespace {

// Below this a quantity is zero: fills of fractional shares leave float dust.
constexpr double kQtyEpsilon = 1e-9;

std::string describe(const PartitionKey& key) {
  return fmt::format("partition {}/{}/{}/{}", key.dataset, key.timeframe, key.symbol,
                     key.partition);
}

int side_sign(const std::string& side, std::string_view what) {
  if (side == "buy") return 1;
  if (side == "sell") return -1;
  throw Error::InvalidInput(fmt::format("{}: side must be 'buy' or 'sell', not '{}'", what, side));
}

constexpr const char* kPartitionColumns =
    "dataset, timeframe, symbol, partition, object_key, row_count, content_sha256, min_ts_ns, "
    "max_ts_ns, version, code_version, committed_at_ns";

constexpr const char* kOrderColumns =
    "client_order_id, strategy, symbol, side, qty, order_type, limit_price, session_date, status, "
    "reason, broker, broker_order_id, created_at_ns";

constexpr const char* kPositionColumns =
    "account, symbol, qty, avg_price, realized_pnl, updated_at_ns";

PartitionRecord read_partition(const SqliteStmt& s) {
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

OrderRecord read_order(const SqliteStmt& s) {
  OrderRecord o;
  o.client_order_id = s.text(0);
  o.strategy = s.text(1);
  o.symbol = s.text(2);
  o.side = s.text(3);
  o.qty = s.real(4);
  o.order_type = s.text(5);
  o.limit_price = s.optional_real(6);
  o.session_date = s.text(7);
  o.status = s.text(8);
  o.reason = s.text(9);
  o.broker = s.text(10);
  o.broker_order_id = s.text(11);
  o.created_at_ns = s.int64(12);
  return o;
}

PositionRecord read_position(const SqliteStmt& s) {
  return PositionRecord{s.text(0), s.text(1), s.real(2), s.real(3), s.real(4), s.int64(5)};
}

class SqliteCatalog final : public Catalog {
 public:
  explicit SqliteCatalog(const std::filesystem::path& path) : db_(path) { migrate(); }

  void migrate() override { db_.migrate(kCatalogComponent, catalog_migrations()); }

  int schema_version() override { return db_.schema_version(kCatalogComponent); }

  // ---- instruments ----

  void upsert_instrument(const std::string& symbol, const std::string& vendor,
                         const std::string& calendar) override {
    if (symbol.empty()) throw Error::InvalidInput("upsert_instrument: empty symbol");
    // Skips the write (and the write lock) when nothing changed: ETL calls this per payload.
    {
      auto current = db_.query("SELECT vendor, calendar FROM instruments WHERE symbol = ?", symbol);
      if (current.step() && current.text(0) == vendor && current.text(1) == calendar) return;
    }  // the read statement must be reset before BEGIN IMMEDIATE
    guarded("instrument " + symbol, [&] {
      db_.transaction([&] {
        db_.execute(
            "INSERT INTO instruments (symbol, vendor, calendar, updated_at_ns) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (symbol) DO UPDATE SET vendor = excluded.vendor, "
            "calendar = excluded.calendar, updated_at_ns = excluded.updated_at_ns",
            symbol, vendor, calendar, now_ts_ns());
      });
    });
  }

  std::vector<std::string> list_instruments() override {
    std::vector<std::string> out;
    auto s = db_.prepare("SELECT symbol FROM instruments ORDER BY symbol");
    while (s.step()) out.push_back(s.text(0));
    return out;
  }

  // ---- partitions ----

  std::optional<PartitionRecord> get_partition(const PartitionKey& key) override {
    auto s = db_.query(fmt::format("SELECT {} FROM partitions WHERE dataset = ? AND "
                                   "timeframe = ? AND symbol = ? AND partition = ?",
                                   kPartitionColumns),
                       key.dataset, key.timeframe, key.symbol, key.partition);
    if (!s.step()) return std::nullopt;
    return read_partition(s);
  }

  std::vector<PartitionRecord> list_partitions(const std::string& dataset,
                                               const std::string& timeframe,
                                               const std::string& symbol) override {
    auto s = db_.query(fmt::format("SELECT {} FROM partitions WHERE dataset = ?1 "
                                   "AND (?2 = '' OR timeframe = ?2) AND (?3 = '' OR symbol = ?3) "
                                   "ORDER BY symbol, partition, timeframe",
                                   kPartitionColumns),
                       dataset, timeframe, symbol);
    std::vector<PartitionRecord> out;
    while (s.step()) out.push_back(read_partition(s));
    return out;
  }

  CommitOutcome commit_partition(
      const PartitionRecord& record,
      const std::function<void(const std::optional<PartitionRecord>& previous)>& publish) override {
    const std::string what = describe(record.key);
    if (record.key.dataset.empty() || record.key.partition.empty() || record.object_key.empty() ||
        record.content_sha256.empty()) {
      throw Error::InvalidInput(
          what + ": commit needs a dataset, a partition, an object key and a content hash");
    }
    CommitOutcome outcome = CommitOutcome::kUnchanged;
    bool publishing = false;
    try {
      db_.transaction([&] {
        const std::optional<PartitionRecord> previous = get_partition(record.key);
        if (previous && previous->content_sha256 == record.content_sha256 &&
            previous->row_count == record.row_count) {
          return;  // nothing written: the empty transaction commits as a no-op
        }
        // Under the write lock: no other committer of any partition runs until we finish, so
        // the file publish puts in place and the row we write agree.
        publishing = true;
        publish(previous);
        publishing = false;
        const int64_t now = now_ts_ns();
        if (previous) {
          db_.execute(
              "INSERT OR REPLACE INTO partition_versions (dataset, timeframe, symbol, partition, "
              "version, object_key, row_count, content_sha256, min_ts_ns, max_ts_ns, "
              "code_version, committed_at_ns, replaced_at_ns) "
              "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
              previous->key.dataset, previous->key.timeframe, previous->key.symbol,
              previous->key.partition, previous->version, previous->object_key,
              previous->row_count, previous->content_sha256, previous->min_ts_ns,
              previous->max_ts_ns, previous->code_version, previous->committed_at_ns, now);
        }
        db_.execute(
            "INSERT INTO partitions (dataset, timeframe, symbol, partition, object_key, "
            "row_count, content_sha256, min_ts_ns, max_ts_ns, version, code_version, "
            "committed_at_ns) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (dataset, timeframe, symbol, partition) DO UPDATE SET "
            "object_key = excluded.object_key, row_count = excluded.row_count, "
            "content_sha256 = excluded.content_sha256, min_ts_ns = excluded.min_ts_ns, "
            "max_ts_ns = excluded.max_ts_ns, version = excluded.version, "
            "code_version = excluded.code_version, committed_at_ns = excluded.committed_at_ns",
            record.key.dataset, record.key.timeframe, record.key.symbol, record.key.partition,
            record.object_key, record.row_count, record.content_sha256, record.min_ts_ns,
            record.max_ts_ns, previous ? previous->version + 1 : int64_t{1},
            record.code_version, now);
        outcome = previous ? CommitOutcome::kReplaced : CommitOutcome::kCreated;
      });
    } catch (const Error& e) {
      if (publishing) throw;  // publish's own error, unchanged (the caller switches on it)
      throw with_context(e, what);
    }
    return outcome;
  }

  std::vector<PartitionRecord> partition_history(const PartitionKey& key) override {
    auto s = db_.query(fmt::format("SELECT {} FROM partition_versions WHERE dataset = ? AND "
                                   "timeframe = ? AND symbol = ? AND partition = ? "
                                   "ORDER BY version",
                                   kPartitionColumns),
                       key.dataset, key.timeframe, key.symbol, key.partition);
    std::vector<PartitionRecord> out;
    while (s.step()) out.push_back(read_partition(s));
    return out;
  }

  // ---- raw objects ----

  bool record_raw_object(const RawObjectRecord& r) override {
    if (r.object_key.empty()) throw Error::InvalidInput("record_raw_object: empty object key");
    bool inserted = false;
    guarded("raw object " + r.object_key, [&] {
      db_.transaction([&] {
        inserted = db_.execute(
                       "INSERT INTO raw_objects (object_key, vendor, dataset, symbol, sha256, "
                       "size, fetched_date, request_json, recorded_at_ns) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (object_key) DO NOTHING",
                       r.object_key, r.vendor, r.dataset, r.symbol, r.sha256, r.size,
                       r.fetched_date, r.request_json, now_ts_ns()) > 0;
      });
    });
    return inserted;
  }

  std::vector<RawObjectRecord> list_raw_objects(const std::string& vendor,
                                                const std::string& symbol) override {
    auto s = db_.query(
        "SELECT object_key, vendor, dataset, symbol, sha256, size, fetched_date, request_json "
        "FROM raw_objects WHERE (?1 = '' OR vendor = ?1) AND (?2 = '' OR symbol = ?2) "
        "ORDER BY object_key",
        vendor, symbol);
    std::vector<RawObjectRecord> out;
    while (s.step()) {
      out.push_back({s.text(0), s.text(1), s.text(2), s.text(3), s.text(4), s.int64(5),
                     s.text(6), s.text(7)});
    }
    return out;
  }

  // ---- runs, watermarks, data quality ----

  void start_run(const RunRecord& run) override {
    if (run.run_id.empty()) throw Error::InvalidInput("start_run: empty run id");
    guarded("run " + run.run_id, [&] {
      db_.transaction([&] {
        if (db_.scalar("SELECT 1 FROM runs WHERE run_id = ?", run.run_id)) {
          throw Error::Conflict("run " + run.run_id + " already exists");
        }
        db_.execute(
            "INSERT INTO runs (run_id, kind, params_json, status, stats_json, started_at_ns, "
            "finished_at_ns) VALUES (?, ?, ?, ?, ?, ?, ?)",
            run.run_id, run.kind, run.params_json,
            run.status.empty() ? std::string("running") : run.status, run.stats_json,
            run.started_at_ns != 0 ? run.started_at_ns : now_ts_ns(), run.finished_at_ns);
      });
    });
  }

  void finish_run(const std::string& run_id, const std::string& status,
                  const std::string& stats_json) override {
    int64_t changed = 0;
    guarded("run " + run_id, [&] {
      db_.transaction([&] {
        changed = db_.execute(
            "UPDATE runs SET status = ?, stats_json = ?, finished_at_ns = ? WHERE run_id = ?",
            status, stats_json, now_ts_ns(), run_id);
      });
    });
    if (changed == 0) throw Error::NotFound("run " + run_id + " does not exist");
  }

  std::optional<RunRecord> get_run(const std::string& run_id) override {
    auto s = db_.query(
        "SELECT run_id, kind, params_json, status, stats_json, started_at_ns, finished_at_ns "
        "FROM runs WHERE run_id = ?",
        run_id);
    if (!s.step()) return std::nullopt;
    return RunRecord{s.text(0), s.text(1), s.text(2), s.text(3), s.text(4), s.int64(5),
                     s.int64(6)};
  }

  std::optional<std::string> get_watermark(const std::string& vendor, const std::string& dataset,
                                           const std::string& symbol) override {
    auto s = db_.query(
        "SELECT date FROM watermarks WHERE vendor = ? AND dataset = ? AND symbol = ?", vendor,
        dataset, symbol);
    if (!s.step()) return std::nullopt;
    return s.text(0);
  }

  void advance_watermark(const std::string& vendor, const std::string& dataset,
                         const std::string& symbol, const std::string& date) override {
    const std::string what = fmt::format("watermark {}/{}/{}", vendor, dataset, symbol);
    // Canonical YYYY-MM-DD only, so that text order is date order.
    const auto parsed = Date::try_parse(date);
    if (!parsed || parsed->to_string() != date) {
      throw Error::InvalidInput(fmt::format("{}: '{}' is not a YYYY-MM-DD date", what, date));
    }
    guarded(what, [&] {
      db_.transaction([&] {
        db_.execute(
            "INSERT INTO watermarks (vendor, dataset, symbol, date, updated_at_ns) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (vendor, dataset, symbol) DO UPDATE SET "
            "date = excluded.date, updated_at_ns = excluded.updated_at_ns "
            "WHERE excluded.date > watermarks.date",
            vendor, dataset, symbol, date, now_ts_ns());
      });
    });
  }

  void record_dq(const DqResult& r) override {
    if (r.rule.empty()) throw Error::InvalidInput("record_dq: empty rule");
    guarded(fmt::format("dq {}/{}/{}/{}", r.run_id, r.dataset, r.symbol, r.rule), [&] {
      db_.transaction([&] {
        db_.execute(
            "INSERT INTO dq_results (run_id, dataset, symbol, rule, rows) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (run_id, dataset, symbol, rule) DO UPDATE SET "
            "rows = dq_results.rows + excluded.rows",
            r.run_id, r.dataset, r.symbol, r.rule, r.rows);
      });
    });
  }

  std::vector<DqResult> dq_summary(const std::string& run_id) override {
    auto s = db_.query(
        "SELECT dataset, rule, sum(rows) FROM dq_results WHERE (?1 = '' OR run_id = ?1) "
        "GROUP BY dataset, rule ORDER BY dataset, rule",
        run_id);
    std::vector<DqResult> out;
    while (s.step()) out.push_back({run_id, s.text(0), "", s.text(1), s.int64(2)});
    return out;
  }

  // ---- ledger ----

  bool insert_order_if_absent(const OrderRecord& o) override {
    const std::string what = "order " + o.client_order_id;
    if (o.client_order_id.empty()) throw Error::InvalidInput("insert_order: empty client order id");
    side_sign(o.side, what);
    if (!(o.qty > 0) || !std::isfinite(o.qty)) {
      throw Error::InvalidInput(fmt::format("{}: qty must be positive, not {}", what, o.qty));
    }
    bool inserted = false;
    guarded(what, [&] {
      db_.transaction([&] {
        const int64_t now = now_ts_ns();
        inserted =
            db_.execute(
                "INSERT INTO orders (client_order_id, strategy, symbol, side, qty, order_type, "
                "limit_price, session_date, status, reason, broker, broker_order_id, "
                "created_at_ns, updated_at_ns) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (client_order_id) DO NOTHING",
                o.client_order_id, o.strategy, o.symbol, o.side, o.qty, o.order_type,
                o.limit_price, o.session_date, o.status.empty() ? std::string("new") : o.status,
                o.reason, o.broker, o.broker_order_id,
                o.created_at_ns != 0 ? o.created_at_ns : now, now) > 0;
      });
    });
    return inserted;
  }

  std::optional<OrderRecord> get_order(const std::string& client_order_id) override {
    auto s = db_.query(
        fmt::format("SELECT {} FROM orders WHERE client_order_id = ?", kOrderColumns),
        client_order_id);
    if (!s.step()) return std::nullopt;
    return read_order(s);
  }

  void update_order(const std::string& client_order_id, const std::string& status,
                    const std::string& reason, const std::string& broker_order_id) override {
    int64_t changed = 0;
    guarded("order " + client_order_id, [&] {
      db_.transaction([&] {
        // An empty broker_order_id keeps the one recorded (a denial has none to report).
        changed = db_.execute(
            "UPDATE orders SET status = ?, reason = ?, "
            "broker_order_id = coalesce(nullif(?, ''), broker_order_id), updated_at_ns = ? "
            "WHERE client_order_id = ?",
            status, reason, broker_order_id, now_ts_ns(), client_order_id);
      });
    });
    if (changed == 0) throw Error::NotFound("order " + client_order_id + " does not exist");
  }

  std::vector<OrderRecord> list_orders(const std::string& strategy) override {
    auto s = db_.query(fmt::format("SELECT {} FROM orders WHERE (?1 = '' OR strategy = ?1) "
                                   "ORDER BY created_at_ns, client_order_id",
                                   kOrderColumns),
                       strategy);
    std::vector<OrderRecord> out;
    while (s.step()) out.push_back(read_order(s));
    return out;
  }

  bool apply_fill(const std::string& account, const FillRecord& fill) override {
    const std::string what = fmt::format("fill {} (account {})", fill.fill_id, account);
    if (fill.fill_id.empty() || account.empty()) {
      throw Error::InvalidInput("apply_fill: empty fill id or account");
    }
    const int side = side_sign(fill.side, what);
    if (!(fill.qty > 0) || !std::isfinite(fill.qty) || !(fill.price >= 0) ||
        !std::isfinite(fill.price) || !std::isfinite(fill.commission)) {
      throw Error::InvalidInput(fmt::format("{}: needs qty > 0 and a finite price and commission "
                                            "(qty {}, price {}, commission {})",
                                            what, fill.qty, fill.price, fill.commission));
    }
    bool applied = false;
    guarded(what, [&] {
      db_.transaction([&] {
        if (db_.scalar("SELECT 1 FROM fills WHERE fill_id = ?", fill.fill_id)) return;
        const int64_t now = now_ts_ns();
        ensure_account(account, now);
        db_.execute(
            "INSERT INTO fills (fill_id, account, client_order_id, symbol, side, qty, price, "
            "commission, ts_ns, recorded_at_ns) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            fill.fill_id, account, fill.client_order_id, fill.symbol, fill.side, fill.qty,
            fill.price, fill.commission, fill.ts_ns, now);
        PositionRecord position =
            get_position(account, fill.symbol).value_or(PositionRecord{account, fill.symbol});
        position = apply_fill_to_position(position, side, fill.qty, fill.price);
        position.updated_at_ns = fill.ts_ns;
        db_.execute(
            "INSERT INTO positions (account, symbol, qty, avg_price, realized_pnl, "
            "updated_at_ns) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (account, symbol) DO UPDATE "
            "SET qty = excluded.qty, avg_price = excluded.avg_price, "
            "realized_pnl = excluded.realized_pnl, updated_at_ns = excluded.updated_at_ns",
            account, fill.symbol, position.qty, position.avg_price, position.realized_pnl,
            position.updated_at_ns);
        db_.execute("UPDATE accounts SET net_flow = net_flow + ? WHERE account = ?",
                    -side * fill.qty * fill.price - fill.commission, account);
        applied = true;
      });
    });
    return applied;
  }

  std::vector<FillRecord> list_fills(const std::string& client_order_id) override {
    auto s = db_.query(
        "SELECT fill_id, client_order_id, symbol, side, qty, price, commission, ts_ns FROM fills "
        "WHERE (?1 = '' OR client_order_id = ?1) ORDER BY ts_ns, fill_id",
        client_order_id);
    std::vector<FillRecord> out;
    while (s.step()) {
      out.push_back({s.text(0), s.text(1), s.text(2), s.text(3), s.real(4), s.real(5), s.real(6),
                     s.int64(7)});
    }
    return out;
  }

  std::optional<PositionRecord> get_position(const std::string& account,
                                             const std::string& symbol) override {
    auto s = db_.query(
        fmt::format("SELECT {} FROM positions WHERE account = ? AND symbol = ?", kPositionColumns),
        account, symbol);
    if (!s.step()) return std::nullopt;
    return read_position(s);
  }

  std::vector<PositionRecord> list_positions(const std::string& account) override {
    auto s = db_.query(fmt::format("SELECT {} FROM positions WHERE (?1 = '' OR account = ?1) "
                                   "ORDER BY account, symbol",
                                   kPositionColumns),
                       account);
    std::vector<PositionRecord> out;
    while (s.step()) out.push_back(read_position(s));
    return out;
  }

  double account_cash(const std::string& account, double initial_cash) override {
    if (account.empty()) throw Error::InvalidInput("account_cash: empty account");
    if (auto cash = read_cash(account)) return *cash;
    guarded("account " + account, [&] {
      db_.transaction([&] {
        ensure_account(account, now_ts_ns());
        // The first caller names the initial cash; later values are ignored.
        db_.execute(
            "UPDATE accounts SET initial_cash = ? WHERE account = ? AND initial_cash IS NULL",
            initial_cash, account);
      });
    });
    return read_cash(account).value_or(initial_cash);
  }

 private:
  // Runs `op`; a trib::Error from it gets `what` (the key involved) in front of its message.
  template <typename F>
  void guarded(const std::string& what, F&& op) {
    try {
      op();
    } catch (const Error& e) {
      throw with_context(e, what);
    }
  }

  void ensure_account(const std::string& account, int64_t now) {
    db_.execute(
        "INSERT INTO accounts (account, initial_cash, net_flow, created_at_ns) "
        "VALUES (?, NULL, 0, ?) ON CONFLICT (account) DO NOTHING",
        account, now);
  }

  // The cash of an account whose initial cash is known.
  std::optional<double> read_cash(const std::string& account) {
    auto s = db_.query(
        "SELECT initial_cash + net_flow FROM accounts WHERE account = ? "
        "AND initial_cash IS NOT NULL",
        account);
    if (!s.step()) return std::nullopt;
    return s.real(0);
  }

  SqliteDb db_;
};

}  // namespace

std::vector<PartitionRecord> Catalog::partition_history(const PartitionKey& key) {
  throw Error::Permanent(describe(key) + ": this catalog keeps no partition history");
}

PositionRecord apply_fill_to_position(PositionRecord position, int side, double qty,
                                      double price) {
  const double held = std::fabs(position.qty);
  const bool flat = held <= kQtyEpsilon;
  if (flat || (position.qty > 0) == (side > 0)) {
    // Opening or adding: the average is the cost-weighted mean of old and new units.
    const double old_units = flat ? 0.0 : held;
    const double old_avg = flat ? 0.0 : position.avg_price;
    position.avg_price = (old_units * old_avg + qty * price) / (old_units + qty);
    position.qty = side * (old_units + qty);
    return position;
  }
  // Reducing: each closed unit realises its gain against the average (inverted for shorts).
  const double direction = position.qty > 0 ? 1.0 : -1.0;
  const double closed = std::min(qty, held);
  position.realized_pnl += closed * (price - position.avg_price) * direction;
  const double opened = qty - closed;
  if (opened > kQtyEpsilon) {  // through zero: the rest opens the other way at this price
    position.qty = side * opened;
    position.avg_price = price;
  } else if (held - closed <= kQtyEpsilon) {  // exactly closed
    position.qty = 0;
    position.avg_price = 0;
  } else {  // partly closed: the average of what is left does not move
    position.qty = direction * (held - closed);
  }
  return position;
}

std::unique_ptr<Catalog> open_sqlite_catalog(const std::filesystem::path& path) {
  return std::make_unique<SqliteCatalog>(path);
}

}  // namespace trib::catalog

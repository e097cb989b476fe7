// The embedded catalog: one SQLite file in the workspace, versioned migrations (schema.cpp), and
// the partition commit point as one short write transaction (no object I/O inside it).

#include <algorithm>
#include <iterator>
#include <map>
#include <set>

#include <fmt/format.h>

#include "catalog_common.hpp"
#include "schema.hpp"
#include "trib/catalog/catalog.hpp"
#include "trib/core/error.hpp"
#include "trib/core/time.hpp"

namespace trib::catalog {
namespace {

using internal::check_commits;
using internal::check_date;
using internal::kOrderColumns;
using internal::kPartitionColumns;
using internal::kPositionColumns;
using internal::kRawColumns;
using internal::micros;
using internal::kDenialColumns;
using internal::kTradingStateColumns;
using internal::parse_trading_state_name;
using internal::read_denial;
using internal::read_order;
using internal::read_trading_state;
using internal::read_partition;
using internal::read_position;
using internal::read_raw;


class SqliteCatalog final : public Catalog {
 public:
  SqliteCatalog(const std::filesystem::path& path, CatalogOptions options)
      : options_(options), db_(path) {
    if (!options.read_only) {
      migrate();
      return;
    }
    db_.exec("PRAGMA query_only = ON");
    internal::check_read_only_schema(schema_version(), catalog_migrations().back().version, describe());
  }

  void migrate() override { db_.migrate(kCatalogComponent, catalog_migrations()); }

  int schema_version() override { return db_.schema_version(kCatalogComponent); }

  std::string describe() const override { return "sqlite:" + db_.path().string(); }

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

  std::optional<InstrumentRecord> get_instrument(const std::string& symbol) override {
    auto s = db_.query("SELECT symbol, vendor, calendar FROM instruments WHERE symbol = ?", symbol);
    if (!s.step()) return std::nullopt;
    return InstrumentRecord{s.text(0), s.text(1), s.text(2)};
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
    // Only the filters given are in the SQL, so (dataset, timeframe, symbol) is an index range.
    auto s = db_.query(fmt::format("SELECT {} FROM partitions WHERE dataset = ?1 AND {} AND {} "
                                   "ORDER BY symbol, partition, timeframe",
                                   kPartitionColumns,
                                   timeframe.empty() ? "?2 = ''" : "timeframe = ?2",
                                   symbol.empty() ? "?3 = ''" : "symbol = ?3"),
                       dataset, timeframe, symbol);
    std::vector<PartitionRecord> out;
    while (s.step()) out.push_back(read_partition(s));
    return out;
  }

  CommitResult commit_partition(const PartitionCommit& commit) override {
    return commit_partitions({commit}).front();
  }

  std::vector<CommitResult> commit_partitions(const std::vector<PartitionCommit>& commits) override {
    check_commits(commits);
    std::vector<CommitResult> results;
    const std::string what = internal::describe(commits);
    guarded(what, [&] {
      db_.transaction([&] {
        results.clear();
        // Hot-cache rows per (symbol, timeframe), applied once at the end of the transaction.
        std::map<std::pair<std::string, std::string>, std::vector<const std::vector<HotBar>*>> hot;
        for (const auto& c : commits) {
          CommitResult result = commit_one(c);
          if (result.outcome != CommitOutcome::kUnchanged && !c.hot_rows.empty()) {
            hot[{c.record.key.symbol, c.record.key.timeframe}].push_back(&c.hot_rows);
          }
          if (!c.session_days.empty()) {
            write_partition_sessions(c.record.key, c.session_days,
                                     result.outcome != CommitOutcome::kUnchanged);
          }
          for (const auto& w : c.watermarks) write_watermark(w);
          results.push_back(result);
        }
        for (const auto& [key, batches] : hot) {
          std::vector<HotBar> merged = read_hot_cache(key.first, key.second);
          for (const auto* rows : batches) {
            merged = merge_hot_rows(std::move(merged), *rows, options_.hot_cache_sessions);
          }
          write_hot_cache(key.first, key.second, merged);
        }
      });
    });
    return results;
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

  void restore_partition(const PartitionRecord& r) override {
    guarded(internal::describe(r.key), [&] {
      db_.transaction([&] { upsert_partition_row(r, r.version, r.committed_at_ns); });
    });
  }

  void replace_partition_sessions(const PartitionKey& key,
                                  const std::vector<int32_t>& session_days) override {
    guarded(internal::describe(key) + " sessions", [&] {
      db_.transaction([&] {
        if (session_days.empty()) {
          db_.execute("DELETE FROM partition_sessions WHERE dataset = ? AND timeframe = ? AND "
                      "symbol = ? AND partition = ?",
                      key.dataset, key.timeframe, key.symbol, key.partition);
          return;
        }
        write_partition_sessions(key, session_days, true);
      });
    });
  }

  // ---- coverage ----

  void ensure_calendar_sessions(const std::string& calendar, int32_t from_day, int32_t to_day,
                                const std::vector<int32_t>& sessions) override {
    internal::check_calendar_sessions(calendar, from_day, to_day, sessions);
    if (stored_sessions(calendar, from_day, to_day) == sessions) return;  // no write lock
    guarded("calendar " + calendar, [&] {
      db_.transaction([&] {
        const std::vector<int32_t> stored = stored_sessions(calendar, from_day, to_day);
        std::vector<int32_t> stale, missing;
        std::set_difference(stored.begin(), stored.end(), sessions.begin(), sessions.end(),
                            std::back_inserter(stale));
        std::set_difference(sessions.begin(), sessions.end(), stored.begin(), stored.end(),
                            std::back_inserter(missing));
        for (int32_t day : stale) {
          db_.execute("DELETE FROM calendar_sessions WHERE calendar = ? AND session_day = ?",
                      calendar, day);
        }
        for (int32_t day : missing) {
          db_.execute("INSERT INTO calendar_sessions (calendar, session_day, session_date) "
                      "VALUES (?, ?, ?) ON CONFLICT (calendar, session_day) DO NOTHING",
                      calendar, day, Date(day).to_string());
        }
      });
    });
  }

  std::vector<CoverageYear> session_coverage(const std::string& dataset,
                                             const std::string& timeframe,
                                             const std::string& symbol,
                                             const std::string& calendar, int32_t from_day,
                                             int32_t to_day) override {
    static const std::string sql = internal::sqlite_placeholders(internal::kSessionCoverageSql);
    std::vector<CoverageYear> years;
    auto s = db_.query(sql, dataset, timeframe, symbol, calendar, from_day, to_day);
    while (s.step()) internal::add_coverage_row(years, s);
    return years;
  }

  // ---- hot cache ----

  std::vector<HotBar> hot_bars(const std::string& symbol, const std::string& timeframe,
                               int64_t from_ts_ns, int64_t to_ts_ns) override {
    std::vector<HotBar> rows = read_hot_cache(symbol, timeframe);
    std::erase_if(rows, [&](const HotBar& h) { return h.ts_ns < from_ts_ns || h.ts_ns > to_ts_ns; });
    return rows;
  }

  void replace_hot_bars(const std::string& symbol, const std::string& timeframe,
                        const std::vector<HotBar>& rows) override {
    guarded("hot cache of " + symbol, [&] {
      db_.transaction([&] {
        write_hot_cache(symbol, timeframe, merge_hot_rows({}, rows, options_.hot_cache_sessions));
      });
    });
  }

  int hot_cache_sessions() const override { return options_.hot_cache_sessions; }

  // ---- raw objects ----

  bool record_raw_object(const RawObjectRecord& r) override {
    if (r.object_key.empty()) throw Error::InvalidInput("record_raw_object: empty object key");
    bool inserted = false;
    guarded("raw object " + r.object_key, [&] {
      db_.transaction([&] {
        inserted = db_.execute(
                       "INSERT INTO raw_objects (object_key, vendor, dataset, symbol, sha256, "
                       "size, fetched_date, request_json, recorded_at_ns, fetched_at_ns, task_id, "
                       "window_from, window_to) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                       "ON CONFLICT (object_key) DO NOTHING",
                       r.object_key, r.vendor, r.dataset, r.symbol, r.sha256, r.size,
                       r.fetched_date, r.request_json, now_ts_ns(), r.fetched_at_ns, r.task_id,
                       r.window_from, r.window_to) > 0;
      });
    });
    return inserted;
  }

  std::optional<RawObjectRecord> get_raw_object(const std::string& object_key) override {
    auto s = db_.query(fmt::format("SELECT {} FROM raw_objects WHERE object_key = ?", kRawColumns),
                       object_key);
    if (!s.step()) return std::nullopt;
    return read_raw(s);
  }

  std::vector<RawObjectRecord> raw_objects_of_task(const std::string& task_id) override {
    std::vector<RawObjectRecord> out;
    if (task_id.empty()) return out;
    auto s = db_.query(
        fmt::format("SELECT {} FROM raw_objects WHERE task_id = ? ORDER BY object_key", kRawColumns),
        task_id);
    while (s.step()) out.push_back(read_raw(s));
    return out;
  }

  std::vector<RawObjectRecord> list_raw_objects(const std::string& vendor,
                                                const std::string& symbol) override {
    auto s = db_.query(fmt::format("SELECT {} FROM raw_objects WHERE (?1 = '' OR vendor = ?1) "
                                   "AND (?2 = '' OR symbol = ?2) ORDER BY fetched_at_ns, object_key",
                                   kRawColumns),
                       vendor, symbol);
    std::vector<RawObjectRecord> out;
    while (s.step()) out.push_back(read_raw(s));
    return out;
  }

  // ---- runs, tasks, watermarks, data quality ----

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
            run.run_id, run.kind, run.params_json, to_string(run.status), run.stats_json,
            run.started_at_ns != 0 ? run.started_at_ns : now_ts_ns(), run.finished_at_ns);
      });
    });
  }

  void finish_run(const std::string& run_id, RunStatus status,
                  const std::string& stats_json) override {
    int64_t changed = 0;
    guarded("run " + run_id, [&] {
      db_.transaction([&] {
        changed = db_.execute(
            "UPDATE runs SET status = ?, stats_json = ?, finished_at_ns = ? WHERE run_id = ?",
            to_string(status), stats_json, now_ts_ns(), run_id);
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
    return RunRecord{s.text(0), s.text(1), s.text(2), parse_run_status(s.text(3)), s.text(4),
                     s.int64(5), s.int64(6)};
  }

  std::vector<RunRecord> list_runs(const std::string& kind, int64_t limit) override {
    std::vector<RunRecord> out;
    auto s = db_.query(
        "SELECT run_id, kind, params_json, status, stats_json, started_at_ns, finished_at_ns FROM runs "
        "WHERE (? = '' OR kind = ?) ORDER BY started_at_ns DESC, run_id LIMIT ?",
        kind, kind, limit);
    while (s.step()) {
      out.push_back({s.text(0), s.text(1), s.text(2), parse_run_status(s.text(3)), s.text(4), s.int64(5), s.int64(6)});
    }
    return out;
  }

  bool mark_task_done(const std::string& task_id, const std::string& run_id) override {
    if (task_id.empty()) throw Error::InvalidInput("mark_task_done: empty task id");
    bool inserted = false;
    guarded("task " + task_id, [&] {
      db_.transaction([&] {
        inserted = db_.execute("INSERT INTO tasks_done (task_id, run_id, done_at_ns) "
                               "VALUES (?, ?, ?) ON CONFLICT (task_id) DO NOTHING",
                               task_id, run_id, now_ts_ns()) > 0;
      });
    });
    return inserted;
  }

  bool is_task_done(const std::string& task_id) override {
    return db_.scalar("SELECT 1 FROM tasks_done WHERE task_id = ?", task_id).has_value();
  }

  int64_t count_tasks_done(const std::string& run_id) override {
    return db_.scalar("SELECT count(*) FROM tasks_done WHERE run_id = ?", run_id).value_or(0);
  }

  TaskThroughput task_throughput(int64_t since_ns, int64_t bucket_ns) override {
    if (bucket_ns <= 0) throw Error::InvalidInput("task_throughput: the bucket must be positive");
    TaskThroughput out;
    out.total = db_.scalar("SELECT count(*) FROM tasks_done").value_or(0);
    auto s = db_.query("SELECT (done_at_ns / ?) * ? AS b, count(*) FROM tasks_done WHERE done_at_ns >= ? "
                       "GROUP BY b ORDER BY b",
                       bucket_ns, bucket_ns, since_ns);
    while (s.step()) out.buckets.emplace_back(s.int64(0), s.int64(1));
    return out;
  }

  std::optional<std::string> get_watermark(const std::string& vendor, const std::string& dataset,
                                           const std::string& symbol) override {
    auto s = db_.query(
        "SELECT date FROM watermarks WHERE vendor = ? AND dataset = ? AND symbol = ?", vendor,
        dataset, symbol);
    if (!s.step()) return std::nullopt;
    return s.text(0);
  }

  void advance_watermark(const Watermark& w) override {
    const std::string what = fmt::format("watermark {}/{}/{}", w.vendor, w.dataset, w.symbol);
    check_date(w.date, what);
    guarded(what, [&] { db_.transaction([&] { write_watermark(w); }); });
  }

  void replace_dq(const std::string& raw_object, const std::string& dataset,
                  const std::map<std::string, std::map<std::string, int64_t>>& rows_by_symbol_rule,
                  const std::string& run_id) override {
    internal::check_dq(raw_object, rows_by_symbol_rule);
    guarded(fmt::format("dq {}/{}", raw_object, dataset), [&] {
      db_.transaction([&] {
        db_.execute("DELETE FROM dq_counts WHERE raw_object = ? AND dataset = ?", raw_object,
                    dataset);
        for (const auto& [symbol, by_rule] : rows_by_symbol_rule) {
          for (const auto& [rule, rows] : by_rule) {
            if (rows == 0) continue;
            db_.execute("INSERT INTO dq_counts (raw_object, dataset, symbol, rule, rows, run_id) "
                        "VALUES (?, ?, ?, ?, ?, ?)",
                        raw_object, dataset, symbol, rule, rows, run_id);
          }
        }
      });
    });
  }

  std::vector<DqResult> dq_summary(const std::string& run_id) override {
    auto s = db_.query(
        "SELECT dataset, rule, sum(rows) FROM dq_counts WHERE (?1 = '' OR run_id = ?1) "
        "GROUP BY dataset, rule ORDER BY dataset, rule",
        run_id);
    std::vector<DqResult> out;
    while (s.step()) out.push_back({run_id, s.text(0), "", s.text(1), s.int64(2), ""});
    return out;
  }

  // ---- ledger ----

  bool insert_order_if_absent(const OrderRecord& o) override {
    internal::check_order(o);
    const std::string what = "order " + o.client_order_id;
    bool inserted = false;
    guarded(what, [&] {
      db_.transaction([&] {
        const int64_t now = now_ts_ns();
        std::optional<int64_t> limit, stop;
        if (o.limit_price) limit = o.limit_price->raw();
        if (o.stop_price) stop = o.stop_price->raw();
        inserted =
            db_.execute(
                "INSERT INTO ledger_orders (client_order_id, strategy, symbol, side, qty_micros, "
                "order_type, limit_price_micros, session_date, status, reason, broker, "
                "broker_order_id, created_at_ns, updated_at_ns, account, stop_price_micros, filled_qty_micros) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (client_order_id) DO NOTHING",
                o.client_order_id, o.strategy, o.symbol, to_string(o.side), o.qty.raw(),
                o.order_type, limit, o.session_date, to_string(o.status), o.reason, o.broker,
                o.broker_order_id, o.created_at_ns != 0 ? o.created_at_ns : now, now, o.account, stop,
                o.filled_qty.raw()) > 0;
      });
    });
    return inserted;
  }

  std::optional<OrderRecord> get_order(const std::string& client_order_id) override {
    auto s = db_.query(
        fmt::format("SELECT {} FROM ledger_orders WHERE client_order_id = ?", kOrderColumns),
        client_order_id);
    if (!s.step()) return std::nullopt;
    return read_order(s);
  }

  void update_order(const std::string& client_order_id, OrderStatus status,
                    const std::string& reason, const std::string& broker_order_id) override {
    int64_t changed = 0;
    guarded("order " + client_order_id, [&] {
      db_.transaction([&] {
        // An empty broker_order_id keeps the one recorded (a denial has none to report).
        changed = db_.execute(
            "UPDATE ledger_orders SET status = ?, reason = ?, "
            "broker_order_id = coalesce(nullif(?, ''), broker_order_id), updated_at_ns = ? "
            "WHERE client_order_id = ?",
            to_string(status), reason, broker_order_id, now_ts_ns(), client_order_id);
      });
    });
    if (changed == 0) throw Error::NotFound("order " + client_order_id + " does not exist");
  }

  std::vector<OrderRecord> list_orders(const std::string& strategy) override {
    auto s = db_.query(fmt::format("SELECT {} FROM ledger_orders WHERE (?1 = '' OR strategy = ?1) "
                                   "ORDER BY created_at_ns, client_order_id",
                                   kOrderColumns),
                       strategy);
    std::vector<OrderRecord> out;
    while (s.step()) out.push_back(read_order(s));
    return out;
  }

  bool apply_fill(const std::string& account, const FillRecord& fill) override {
    internal::check_fill(account, fill);
    const std::string what = fmt::format("fill {} (account {})", fill.fill_id, account);
    bool applied = false;
    guarded(what, [&] { db_.transaction([&] { applied = apply_fill_in_transaction(account, fill); }); });
    return applied;
  }

  int apply_order_update(const std::string& account, const std::string& client_order_id, OrderStatus status,
                         const std::string& reason, const std::string& broker_order_id,
                         const std::vector<FillRecord>& fills) override {
    for (const auto& f : fills) internal::check_fill(account, f);
    int applied = 0;
    bool found = false;
    guarded("order " + client_order_id, [&] {
      db_.transaction([&] {
        applied = 0;
        found = db_.scalar("SELECT 1 FROM ledger_orders WHERE client_order_id = ?", client_order_id).has_value();
        if (!found) return;
        for (const auto& f : fills) applied += apply_fill_in_transaction(account, f) ? 1 : 0;
        db_.execute(
            "UPDATE ledger_orders SET status = ?, reason = coalesce(nullif(?, ''), reason), "
            "broker_order_id = coalesce(nullif(?, ''), broker_order_id), updated_at_ns = ?, "
            "filled_qty_micros = (SELECT coalesce(sum(qty_micros), 0) FROM ledger_fills WHERE client_order_id = ?) "
            "WHERE client_order_id = ?",
            to_string(status), reason, broker_order_id, now_ts_ns(), client_order_id, client_order_id);
      });
    });
    if (!found) throw Error::NotFound("order " + client_order_id + " is not in the ledger");
    return applied;
  }

  std::vector<FillRecord> list_fills(const std::string& client_order_id) override {
    auto s = db_.query(
        "SELECT fill_id, client_order_id, symbol, side, qty_micros, price_micros, "
        "commission_micros, ts_ns FROM ledger_fills WHERE (?1 = '' OR client_order_id = ?1) "
        "ORDER BY ts_ns, fill_id",
        client_order_id);
    std::vector<FillRecord> out;
    while (s.step()) {
      out.push_back({s.text(0), s.text(1), s.text(2), parse_side(s.text(3)), micros(s, 4),
                     micros(s, 5), micros(s, 6), s.int64(7)});
    }
    return out;
  }

  std::optional<PositionRecord> get_position(const std::string& account,
                                             const std::string& symbol) override {
    auto s = db_.query(fmt::format("SELECT {} FROM ledger_positions WHERE account = ? AND symbol = ?",
                                   kPositionColumns),
                       account, symbol);
    if (!s.step()) return std::nullopt;
    return read_position(s);
  }

  std::vector<PositionRecord> list_positions(const std::string& account) override {
    auto s = db_.query(fmt::format("SELECT {} FROM ledger_positions WHERE (?1 = '' OR account = ?1) "
                                   "ORDER BY account, symbol",
                                   kPositionColumns),
                       account);
    std::vector<PositionRecord> out;
    while (s.step()) out.push_back(read_position(s));
    return out;
  }

  Micros account_cash(const std::string& account, Micros initial_cash) override {
    if (account.empty()) throw Error::InvalidInput("account_cash: empty account");
    if (auto cash = read_cash(account)) return *cash;
    guarded("account " + account, [&] {
      db_.transaction([&] {
        ensure_account(account, now_ts_ns());
        // The first caller names the initial cash; later values are ignored.
        db_.execute(
            "UPDATE ledger_accounts SET initial_cash_micros = ? WHERE account = ? "
            "AND initial_cash_micros IS NULL",
            initial_cash.raw(), account);
      });
    });
    return read_cash(account).value_or(initial_cash);
  }

  std::optional<TradingStateRecord> get_trading_state(const std::string& account) override {
    auto s = db_.query(fmt::format("SELECT {} FROM trading_state WHERE account = ?", kTradingStateColumns), account);
    if (!s.step()) return std::nullopt;
    return read_trading_state(s);
  }

  void put_trading_state(const TradingStateRecord& t) override {
    if (t.account.empty()) throw Error::InvalidInput("put_trading_state: empty account");
    (void)parse_trading_state_name(t.state);
    guarded("trading state of " + t.account, [&] {
      db_.transaction([&] {
        db_.execute(
            "INSERT INTO trading_state (account, state, reason, peak_equity_micros, last_equity_micros, "
            "last_session, updated_at_ns, strategy_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (account) DO UPDATE SET state = excluded.state, reason = excluded.reason, "
            "peak_equity_micros = excluded.peak_equity_micros, last_equity_micros = excluded.last_equity_micros, "
            "last_session = excluded.last_session, updated_at_ns = excluded.updated_at_ns, "
            "strategy_json = excluded.strategy_json",
            t.account, t.state, t.reason, t.peak_equity.raw(), t.last_equity.raw(), t.last_session,
            t.updated_at_ns != 0 ? t.updated_at_ns : now_ts_ns(), t.strategy_json);
      });
    });
  }

  void record_denial(const RiskDenialRecord& d) override {
    guarded("denial of " + d.client_order_id, [&] {
      db_.transaction([&] {
        db_.execute(
            "INSERT INTO risk_denials (account, client_order_id, strategy, symbol, side, qty_micros, rule, reason, "
            "session_date, created_at_ns) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            d.account, d.client_order_id, d.strategy, d.symbol, to_string(d.side), d.qty.raw(), d.rule, d.reason,
            d.session_date, d.created_at_ns != 0 ? d.created_at_ns : now_ts_ns());
      });
    });
  }

  std::vector<RiskDenialRecord> list_denials(const std::string& account) override {
    auto s = db_.query(
        fmt::format("SELECT {} FROM risk_denials WHERE (?1 = '' OR account = ?1) ORDER BY id", kDenialColumns), account);
    std::vector<RiskDenialRecord> out;
    while (s.step()) out.push_back(read_denial(s));
    return out;
  }

  bool apply_adjustment(const LedgerAdjustment& a) override {
    if (a.action_id.empty() || a.account.empty() || a.symbol.empty()) {
      throw Error::InvalidInput("apply_adjustment: empty action id, account or symbol");
    }
    bool applied = false;
    guarded("adjustment " + a.action_id, [&] {
      db_.transaction([&] {
        applied = false;
        if (db_.scalar("SELECT 1 FROM ledger_adjustments WHERE account = ? AND action_id = ?", a.account, a.action_id)) return;
        const int64_t now = now_ts_ns();
        ensure_account(a.account, now);
        const PositionRecord before = get_position(a.account, a.symbol).value_or(PositionRecord{a.account, a.symbol});
        const auto effect = internal::adjustment_effect(before, a);
        db_.execute(
            "INSERT INTO ledger_positions (account, symbol, qty_micros, avg_price_micros, realized_pnl_micros, "
            "updated_at_ns) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (account, symbol) DO UPDATE SET "
            "qty_micros = excluded.qty_micros, avg_price_micros = excluded.avg_price_micros, "
            "updated_at_ns = excluded.updated_at_ns",
            a.account, a.symbol, effect.position.qty.raw(), effect.position.avg_price.raw(),
            effect.position.realized_pnl.raw(), now);
        db_.execute("UPDATE ledger_accounts SET net_flow_micros = net_flow_micros + ? WHERE account = ?",
                    effect.cash.raw(), a.account);
        db_.execute(
            "INSERT INTO ledger_adjustments (action_id, account, symbol, kind, qty_before, qty_after, cash_micros, "
            "ex_date, applied_at_ns) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            a.action_id, a.account, a.symbol, a.kind, before.qty.raw(), effect.position.qty.raw(), effect.cash.raw(),
            a.ex_date, now);
        applied = true;
      });
    });
    return applied;
  }

  // ---- universe ----

  bool upsert_universe(const UniverseEntry& e) override {
    internal::check_universe(e);
    bool created = false;
    guarded("universe " + e.symbol, [&] {
      db_.transaction([&] {
        created = !db_.scalar("SELECT 1 FROM universe WHERE symbol = ? AND vendor = ? AND dataset = ? "
                              "AND timeframe = ?", e.symbol, e.vendor, e.dataset, e.timeframe).has_value();
        const int64_t now = now_ts_ns();
        db_.execute(
            "INSERT INTO universe (symbol, vendor, dataset, timeframe, calendar, asset_class, currency, "
            "start_date, status, status_reason, status_at_ns, added_at_ns) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'active', '', ?, ?) "
            "ON CONFLICT (symbol, vendor, dataset, timeframe) DO UPDATE SET calendar = excluded.calendar, "
            "asset_class = excluded.asset_class, currency = excluded.currency, start_date = excluded.start_date, "
            "status = 'active', status_reason = '', status_at_ns = excluded.status_at_ns",
            e.symbol, e.vendor, e.dataset, e.timeframe, e.calendar, e.asset_class, e.currency, e.start_date,
            now, now);
      });
    });
    return created;
  }

  bool remove_universe(const std::string& symbol, const std::string& vendor, const std::string& dataset,
                       const std::string& timeframe) override {
    int64_t removed = 0;
    guarded("universe " + symbol, [&] {
      db_.transaction([&] {
        removed = db_.execute("DELETE FROM universe WHERE symbol = ? AND vendor = ? AND dataset = ? AND "
                              "timeframe = ?", symbol, vendor, dataset, timeframe);
      });
    });
    return removed > 0;
  }

  std::vector<UniverseEntry> list_universe(const std::string& vendor) override {
    auto s = db_.query(
        "SELECT symbol, vendor, dataset, timeframe, calendar, asset_class, currency, start_date, status, "
        "status_reason, status_at_ns, added_at_ns FROM universe WHERE (?1 = '' OR vendor = ?1) "
        "ORDER BY symbol, vendor, dataset, timeframe", vendor);
    std::vector<UniverseEntry> out;
    while (s.step()) {
      out.push_back({s.text(0), s.text(1), s.text(2), s.text(3), s.text(4), s.text(5), s.text(6), s.text(7),
                     s.text(8), s.text(9), s.int64(10), s.int64(11)});
    }
    return out;
  }

  void set_universe_status(const std::string& symbol, const std::string& vendor, const std::string& dataset,
                           const std::string& timeframe, const std::string& status,
                           const std::string& reason) override {
    internal::check_universe_status(status);
    guarded("universe " + symbol, [&] {
      db_.transaction([&] {
        db_.execute("UPDATE universe SET status = ?, status_reason = ?, status_at_ns = ? WHERE symbol = ? AND "
                    "vendor = ? AND dataset = ? AND timeframe = ?",
                    status, reason, now_ts_ns(), symbol, vendor, dataset, timeframe);
      });
    });
  }

  // ---- corporate actions ----

  int64_t record_actions(const std::vector<ActionRecord>& records) override {
    for (const auto& r : records) internal::check_action(r);
    if (records.empty()) return 0;
    int64_t added = 0;
    guarded("corporate actions", [&] {
      db_.transaction([&] {
        std::set<std::string> symbols;
        for (const auto& r : records) symbols.insert(r.action.symbol.str());
        std::vector<ActionRecord> existing;
        for (const auto& symbol : symbols) {
          auto s = db_.query(fmt::format("SELECT {} FROM corporate_actions WHERE symbol = ?",
                                         internal::kActionColumns), symbol);
          while (s.step()) existing.push_back(internal::action_of_row(s));
        }
        const int64_t now = now_ts_ns();
        for (const ActionRecord* r : internal::actions_to_insert(existing, records)) {
          const CorporateAction& a = r->action;
          added += db_.execute(
              fmt::format("INSERT INTO corporate_actions ({}, recorded_at_ns) VALUES "
                          "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                          internal::kActionColumns),
              a.symbol.str(), std::string(to_string(a.kind)), a.ex_date.to_string(), r->source,
              r->knowledge_ts_ns, a.split_ratio, a.cash_amount, a.currency,
              internal::optional_date_text(a.pay_date), internal::optional_date_text(a.record_date),
              internal::optional_date_text(a.declared_date), a.new_symbol,
              int64_t{r->retracted ? 1 : 0}, r->origin, a.reference_price, now);
        }
      });
    });
    return added;
  }

  std::vector<ActionRecord> list_actions(const std::string& symbol, int64_t as_of_ns) override {
    auto s = db_.query(std::string(internal::kListActionsSql), symbol, as_of_ns);
    std::vector<ActionRecord> out;
    while (s.step()) out.push_back(internal::action_of_row(s));
    return out;
  }

  // ---- vendor budgets ----

  BudgetReservation reserve_vendor_request(const std::string& vendor, const BudgetRule& rule,
                                           int64_t now_ns) override {
    BudgetReservation out;
    guarded("budget " + vendor, [&] {
      db_.transaction([&] {
        BudgetState state = read_budget(vendor).value_or(BudgetState{});
        out = reserve_in_budget(state, rule, now_ns);
        if (out.reserved) write_budget(vendor, state);
      });
    });
    return out;
  }

  void pause_vendor(const std::string& vendor, int64_t until_ns) override {
    guarded("budget " + vendor, [&] {
      db_.transaction([&] {
        BudgetState state = read_budget(vendor).value_or(BudgetState{});
        if (until_ns <= state.paused_until_ns) return;
        state.paused_until_ns = until_ns;
        write_budget(vendor, state);
      });
    });
  }

  std::optional<BudgetState> vendor_budget_state(const std::string& vendor) override {
    return read_budget(vendor);
  }

  bool record_model(const ModelRecord& m) override {
    if (m.id.empty()) throw Error::InvalidInput("record_model: empty model id");
    bool inserted = false;
    guarded("model " + m.id, [&] {
      db_.transaction([&] {
        inserted = db_.execute(fmt::format("INSERT INTO models ({}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                                           "ON CONFLICT (id) DO NOTHING",
                                           internal::kModelColumns),
                               m.id, m.name, m.kind, m.feature_set, m.feature_set_hash, m.label, m.dataset_hash,
                               m.config_toml, m.code_version, m.artefacts, m.metrics_json, m.importance_json,
                               static_cast<int64_t>(m.from_day), static_cast<int64_t>(m.to_day),
                               static_cast<int64_t>(m.splits), m.created_at_ns != 0 ? m.created_at_ns : now_ts_ns()) > 0;
      });
    });
    return inserted;
  }

  std::optional<ModelRecord> get_model(const std::string& id) override {
    auto s = db_.query(fmt::format("SELECT {} FROM models WHERE id = ?", internal::kModelColumns), id);
    if (!s.step()) return std::nullopt;
    return internal::model_of_row(s);
  }

  std::vector<ModelRecord> list_models() override {
    auto s = db_.query(fmt::format("SELECT {} FROM models ORDER BY created_at_ns DESC, id", internal::kModelColumns));
    std::vector<ModelRecord> out;
    while (s.step()) out.push_back(internal::model_of_row(s));
    return out;
  }

 private:
  std::optional<BudgetState> read_budget(const std::string& vendor) {
    auto s = db_.query("SELECT tat_ns, paused_until_ns, hour_start_ns, hour_count, day_start_ns, day_count "
                       "FROM vendor_budgets WHERE vendor = ?", vendor);
    if (!s.step()) return std::nullopt;
    return BudgetState{s.int64(0), s.int64(1), s.int64(2), s.int64(3), s.int64(4), s.int64(5)};
  }

  void write_budget(const std::string& vendor, const BudgetState& b) {
    db_.execute("INSERT OR REPLACE INTO vendor_budgets (vendor, tat_ns, paused_until_ns, hour_start_ns, "
                "hour_count, day_start_ns, day_count) VALUES (?, ?, ?, ?, ?, ?, ?)",
                vendor, b.tat_ns, b.paused_until_ns, b.hour_start_ns, b.hour_count, b.day_start_ns,
                b.day_count);
  }

  // Runs `op`; a trib::Error from it gets `what` (the key involved) in front of its message.
  template <typename F>
  void guarded(const std::string& what, F&& op) {
    try {
      op();
    } catch (const Error& e) {
      throw with_context(e, what);
    }
  }

  // One partition's commit inside the caller's transaction.
  CommitResult commit_one(const PartitionCommit& c) {
    const PartitionRecord& r = c.record;
    const std::optional<PartitionRecord> current = get_partition(r.key);
    const int64_t current_version = current ? current->version : 0;
    if (current && current->content_sha256 == r.content_sha256 &&
        current->row_count == r.row_count) {
      return {CommitOutcome::kUnchanged, current_version};
    }
    if (current_version != c.expected_version) {
      throw Error::Conflict(fmt::format(
          "{} moved from version {} to {} while this writer merged; retry on top of it",
          internal::describe(r.key), c.expected_version, current_version));
    }
    const int64_t now = now_ts_ns();
    if (current) {
      db_.execute(
          fmt::format("INSERT OR REPLACE INTO partition_versions ({}, replaced_at_ns) "
                      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                      kPartitionColumns),
          current->key.dataset, current->key.timeframe, current->key.symbol,
          current->key.partition, current->object_key, current->version_key, current->row_count,
          current->content_sha256, current->min_ts_ns, current->max_ts_ns, current->version,
          current->code_version, current->committed_at_ns, now);
    }
    upsert_partition_row(r, current_version + 1, now);
    return {current ? CommitOutcome::kReplaced : CommitOutcome::kCreated, current_version + 1};
  }

  void upsert_partition_row(const PartitionRecord& r, int64_t version, int64_t committed_at_ns) {
    db_.execute(
        fmt::format("INSERT INTO partitions ({}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (dataset, timeframe, symbol, partition) DO UPDATE SET "
                    "object_key = excluded.object_key, version_key = excluded.version_key, "
                    "row_count = excluded.row_count, content_sha256 = excluded.content_sha256, "
                    "min_ts_ns = excluded.min_ts_ns, max_ts_ns = excluded.max_ts_ns, "
                    "version = excluded.version, code_version = excluded.code_version, "
                    "committed_at_ns = excluded.committed_at_ns",
                    kPartitionColumns),
        r.key.dataset, r.key.timeframe, r.key.symbol, r.key.partition, r.object_key,
        r.version_key, r.row_count, r.content_sha256, r.min_ts_ns, r.max_ts_ns, version,
        r.code_version, committed_at_ns);
  }

  // Replaces (or, when !replace, inserts only if absent) the partition's session bitmap.
  void write_partition_sessions(const PartitionKey& key, const std::vector<int32_t>& session_days,
                                bool replace) {
    const internal::SessionBitmap bitmap = internal::session_bitmap(key, session_days);
    db_.execute(fmt::format("INSERT INTO partition_sessions (dataset, timeframe, symbol, "
                            "partition, first_day, days) VALUES (?, ?, ?, ?, ?, ?) "
                            "ON CONFLICT (dataset, timeframe, symbol, partition) DO {}",
                            replace ? "UPDATE SET first_day = excluded.first_day, "
                                      "days = excluded.days"
                                    : "NOTHING"),
                key.dataset, key.timeframe, key.symbol, key.partition, bitmap.first_day,
                bitmap.days);
  }

  std::vector<int32_t> stored_sessions(const std::string& calendar, int32_t from_day,
                                       int32_t to_day) {
    std::vector<int32_t> out;
    auto s = db_.query("SELECT session_day FROM calendar_sessions WHERE calendar = ? AND "
                       "session_day >= ? AND session_day <= ? ORDER BY session_day",
                       calendar, from_day, to_day);
    while (s.step()) out.push_back(static_cast<int32_t>(s.int64(0)));
    return out;
  }

  void write_watermark(const Watermark& w) {
    db_.execute(
        "INSERT INTO watermarks (vendor, dataset, symbol, date, updated_at_ns) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (vendor, dataset, symbol) DO UPDATE SET "
        "date = excluded.date, updated_at_ns = excluded.updated_at_ns "
        "WHERE excluded.date > watermarks.date",
        w.vendor, w.dataset, w.symbol, w.date, now_ts_ns());
  }

  // Writes only what differs between the cached rows and the wanted ones.
  std::vector<HotBar> read_hot_cache(const std::string& symbol, const std::string& timeframe) {
    auto s = db_.query("SELECT rows FROM hot_cache WHERE symbol = ? AND timeframe = ?", symbol,
                       timeframe);
    if (!s.step()) return {};
    return internal::decode_hot_rows(s.blob(0));
  }

  void write_hot_cache(const std::string& symbol, const std::string& timeframe,
                       const std::vector<HotBar>& rows) {
    if (rows.empty()) {
      db_.execute("DELETE FROM hot_cache WHERE symbol = ? AND timeframe = ?", symbol, timeframe);
      return;
    }
    const std::string bytes = internal::encode_hot_rows(rows);
    auto stmt = db_.prepare(
        "INSERT OR REPLACE INTO hot_cache (symbol, timeframe, row_count, first_ts_ns, "
        "last_ts_ns, rows) VALUES (?, ?, ?, ?, ?, ?)");
    stmt.bind_all(symbol, timeframe, static_cast<int64_t>(rows.size()), rows.front().ts_ns,
                  rows.back().ts_ns);
    stmt.bind_blob(6, bytes);
    stmt.run();
  }

  // Records a fill (unless its id is known) and moves the position and the cash; the caller holds
  // the transaction.
  bool apply_fill_in_transaction(const std::string& account, const FillRecord& fill) {
    if (db_.scalar("SELECT 1 FROM ledger_fills WHERE fill_id = ?", fill.fill_id)) return false;
    const int64_t now = now_ts_ns();
    ensure_account(account, now);
    db_.execute(
        "INSERT INTO ledger_fills (fill_id, account, client_order_id, symbol, side, "
        "qty_micros, price_micros, commission_micros, ts_ns, recorded_at_ns) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        fill.fill_id, account, fill.client_order_id, fill.symbol, to_string(fill.side),
        fill.qty.raw(), fill.price.raw(), fill.commission.raw(), fill.ts_ns, now);
    PositionRecord position =
        get_position(account, fill.symbol).value_or(PositionRecord{account, fill.symbol});
    position = apply_fill_to_position(position, fill.side, fill.qty, fill.price);
    position.updated_at_ns = fill.ts_ns;
    db_.execute(
        "INSERT INTO ledger_positions (account, symbol, qty_micros, avg_price_micros, "
        "realized_pnl_micros, updated_at_ns) VALUES (?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (account, symbol) DO UPDATE SET qty_micros = excluded.qty_micros, "
        "avg_price_micros = excluded.avg_price_micros, "
        "realized_pnl_micros = excluded.realized_pnl_micros, "
        "updated_at_ns = excluded.updated_at_ns",
        account, fill.symbol, position.qty.raw(), position.avg_price.raw(),
        position.realized_pnl.raw(), position.updated_at_ns);
    db_.execute("UPDATE ledger_accounts SET net_flow_micros = net_flow_micros + ? WHERE account = ?",
                internal::cash_flow_of(fill).raw(), account);
    // An order's filled quantity follows its fills.
    db_.execute(
        "UPDATE ledger_orders SET filled_qty_micros = filled_qty_micros + ? WHERE client_order_id = ?",
        fill.qty.raw(), fill.client_order_id);
    return true;
  }

  void ensure_account(const std::string& account, int64_t now) {
    db_.execute(
        "INSERT INTO ledger_accounts (account, initial_cash_micros, net_flow_micros, "
        "created_at_ns) VALUES (?, NULL, 0, ?) ON CONFLICT (account) DO NOTHING",
        account, now);
  }

  // The cash of an account whose initial cash is known.
  std::optional<Micros> read_cash(const std::string& account) {
    auto s = db_.query(
        "SELECT initial_cash_micros + net_flow_micros FROM ledger_accounts WHERE account = ? "
        "AND initial_cash_micros IS NOT NULL",
        account);
    if (!s.step()) return std::nullopt;
    return micros(s, 0);
  }

  CatalogOptions options_;
  SqliteDb db_;
};

}  // namespace

std::unique_ptr<Catalog> open_sqlite_catalog(const std::filesystem::path& path,
                                             CatalogOptions options) {
  if (options.hot_cache_sessions < 0) {
    throw Error::InvalidInput("hot cache sessions must not be negative");
  }
  return std::make_unique<SqliteCatalog>(path, options);
}

}  // namespace trib::catalog

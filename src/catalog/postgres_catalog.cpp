// The scaled-out catalog: the same tables and semantics as the SQLite one (sqlite_catalog.cpp),
// on PostgreSQL (postgres_schema.cpp), for many writers on many machines.
//
// SQLite serialises every writer with one database lock; here writers run concurrently under
// READ COMMITTED and each write path takes the locks that make it exact:
//  - a partition commit locks the partition's row (SELECT ... FOR UPDATE) and judges the version
//    under that lock; the conditional UPDATE ... WHERE version = expected is the commit point. A
//    partition without a row is created with INSERT ... ON CONFLICT DO NOTHING: of two writers
//    creating version 1, the second waits for the first's transaction, inserts nothing, and then
//    judges the first's row like any other (unchanged if the same bytes, else Conflict). A group
//    takes its partition rows in key order, then its watermark rows in key order, then its hot
//    cache locks in key order, so two group commits never wait on each other in a cycle;
//  - the hot cache of a (symbol, timeframe) and the dq counts of a (raw object, dataset) are
//    read-merge-written under a transaction-scoped advisory lock on that key (hashed, within the
//    connection's schema), so concurrent writers apply one after the other;
//  - a fill locks its account's row, so fills of an account apply one at a time to fresh
//    position and cash values; the fill's INSERT ... ON CONFLICT DO NOTHING makes a fill id count
//    once however many connections offer it;
//  - single-row upserts (instruments, raw objects, tasks, orders, watermarks, the initial cash)
//    are single statements whose ON CONFLICT / WHERE clauses PostgreSQL re-checks under the row
//    lock.
// Deadlocks and serialization failures are retried by the db layer (the transaction bodies keep
// no state outside the database except what they reset on entry).
#include <algorithm>
#include <iterator>
#include <map>
#include <set>
#include <numeric>
#include <tuple>

#include <fmt/format.h>

#include "catalog_common.hpp"
#include "schema.hpp"
#include "trib/catalog/catalog.hpp"
#include "trib/core/error.hpp"
#include "trib/core/time.hpp"
#include "trib/db/postgres.hpp"

namespace trib::catalog {
namespace {

using db::PgConnection;
using db::PgExecutor;
using db::PgParam;
using db::PgRow;
using db::PgTx;
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



// A bigint[] literal: {1,-2,3}.
std::string bigint_array(const std::vector<int64_t>& values) {
  std::string out = "{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i != 0) out += ',';
    out += std::to_string(values[i]);
  }
  return out + "}";
}

auto key_tuple(const PartitionKey& k) {
  return std::tie(k.dataset, k.timeframe, k.symbol, k.partition);
}

// Waits for the transaction-scoped advisory lock named (`space`, parts...) in this connection's
// schema (so test schemas and deployments sharing a server do not block each other). A hash
// collision only makes two unrelated keys take turns.
void lock_name(PgTx& tx, std::string_view space, const std::string& a, const std::string& b) {
  tx.exec(
      "SELECT pg_advisory_xact_lock(hashtextextended("
      "'trib.catalog.' || current_schema() || '.' || $1::text || '.' || length($2::text) || "
      "':' || $2::text || '.' || $3::text, 0))",
      space, a, b);
}

class PostgresCatalog final : public Catalog {
 public:
  PostgresCatalog(const std::string& url, CatalogOptions options)
      : options_(options), db_(options.read_only ? read_only_url(url) : url) {
    if (!options.read_only) {
      migrate();
      return;
    }
    internal::check_read_only_schema(schema_version(), postgres_catalog_migrations().back().version, describe());
  }

  // The server makes every transaction of the session read-only: libpq passes `options` as
  // command-line switches of the backend, so a reconnect keeps them.
  static std::string read_only_url(const std::string& url) {
    if (url.rfind("postgres://", 0) == 0 || url.rfind("postgresql://", 0) == 0) {
      // One `options` parameter (a second would replace the first, e.g. a search_path).
      const size_t query = url.find('?');
      if (query != std::string::npos) {
        for (size_t at = query + 1; at < url.size();) {
          const size_t end = std::min(url.find('&', at), url.size());
          if (url.compare(at, 8, "options=") == 0) {
            return url.substr(0, end) + "%20-c%20default_transaction_read_only%3Don" + url.substr(end);
          }
          at = end + 1;
        }
      }
      return url + (query == std::string::npos ? "?" : "&") + "options=-c%20default_transaction_read_only%3Don";
    }
    if (url.find("options=") != std::string::npos) {
      throw Error::InvalidInput(
          "a read-only catalog session cannot add to `options=` in a key=value connection string; give [catalog] url "
          "as a postgresql:// URL");
    }
    return url + " options='-c default_transaction_read_only=on'";
  }

  void migrate() override { db_.migrate(kCatalogComponent, postgres_catalog_migrations()); }

  int schema_version() override { return db_.schema_version(kCatalogComponent); }

  std::string describe() const override { return "postgres:" + db_.display_url(); }

  // ---- instruments ----

  void upsert_instrument(const std::string& symbol, const std::string& vendor,
                         const std::string& calendar) override {
    if (symbol.empty()) throw Error::InvalidInput("upsert_instrument: empty symbol");
    // Unchanged values write nothing (updated_at_ns stays), as in SQLite.
    guarded("instrument " + symbol, [&] {
      db_.exec(
          "INSERT INTO instruments (symbol, vendor, calendar, updated_at_ns) "
          "VALUES ($1, $2, $3, $4) ON CONFLICT (symbol) DO UPDATE SET vendor = excluded.vendor, "
          "calendar = excluded.calendar, updated_at_ns = excluded.updated_at_ns "
          "WHERE instruments.vendor <> excluded.vendor "
          "OR instruments.calendar <> excluded.calendar",
          symbol, vendor, calendar, now_ts_ns());
    });
  }

  std::vector<std::string> list_instruments() override {
    std::vector<std::string> out;
    for (const PgRow row : db_.exec("SELECT symbol FROM instruments ORDER BY symbol")) {
      out.push_back(row.text(0));
    }
    return out;
  }

  std::optional<InstrumentRecord> get_instrument(const std::string& symbol) override {
    auto row = db_.row("SELECT symbol, vendor, calendar FROM instruments WHERE symbol = $1", symbol);
    if (!row) return std::nullopt;
    return InstrumentRecord{row->text(0), row->text(1), row->text(2)};
  }

  // ---- partitions ----

  std::optional<PartitionRecord> get_partition(const PartitionKey& key) override {
    return select_partition(db_, key, false);
  }

  std::vector<PartitionRecord> list_partitions(const std::string& dataset,
                                               const std::string& timeframe,
                                               const std::string& symbol) override {
    std::vector<PartitionRecord> out;
    for (const PgRow row :
         db_.exec(fmt::format("SELECT {} FROM partitions WHERE dataset = $1 AND {} AND {} "
                              "ORDER BY symbol, partition, timeframe",
                              kPartitionColumns,
                              timeframe.empty() ? "$2 = ''" : "timeframe = $2",
                              symbol.empty() ? "$3 = ''" : "symbol = $3"),
                  dataset, timeframe, symbol)) {
      out.push_back(read_partition(row));
    }
    return out;
  }

  CommitResult commit_partition(const PartitionCommit& commit) override {
    return commit_partitions({commit}).front();
  }

  std::vector<CommitResult> commit_partitions(
      const std::vector<PartitionCommit>& commits) override {
    check_commits(commits);
    if (commits.empty()) return {};
    // Rows are locked in key order (stable: a partition named twice is applied in the caller's
    // order), so two groups over the same partitions never deadlock.
    std::vector<size_t> order(commits.size());
    std::iota(order.begin(), order.end(), size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      return key_tuple(commits[a].record.key) < key_tuple(commits[b].record.key);
    });
    std::vector<const Watermark*> marks;
    for (const auto& c : commits) {
      for (const auto& w : c.watermarks) marks.push_back(&w);
    }
    std::stable_sort(marks.begin(), marks.end(), [](const Watermark* a, const Watermark* b) {
      return std::tie(a->vendor, a->dataset, a->symbol) <
             std::tie(b->vendor, b->dataset, b->symbol);
    });

    std::vector<CommitResult> results;
    guarded(internal::describe(commits), [&] {
      db_.transaction([&](PgTx& tx) {
        results.assign(commits.size(), CommitResult{});
        for (size_t index : order) {
          const PartitionCommit& c = commits[index];
          results[index] = commit_one(tx, c);
          // Under the partition row's lock, so the sessions follow the partition's order.
          if (!c.session_days.empty()) {
            write_partition_sessions(tx, c.record.key, c.session_days,
                                     results[index].outcome != CommitOutcome::kUnchanged);
          }
        }
        for (const Watermark* w : marks) write_watermark(tx, *w);
        // Hot-cache rows per (symbol, timeframe), in the caller's order, applied last.
        std::map<std::pair<std::string, std::string>, std::vector<const std::vector<HotBar>*>> hot;
        for (size_t i = 0; i < commits.size(); ++i) {
          const PartitionCommit& c = commits[i];
          if (results[i].outcome != CommitOutcome::kUnchanged && !c.hot_rows.empty()) {
            hot[{c.record.key.symbol, c.record.key.timeframe}].push_back(&c.hot_rows);
          }
        }
        for (const auto& [key, batches] : hot) {
          lock_name(tx, "hot_cache", key.first, key.second);
          std::vector<HotBar> merged = select_hot(tx, key.first, key.second);
          for (const auto* rows : batches) {
            merged = merge_hot_rows(std::move(merged), *rows, options_.hot_cache_sessions);
          }
          write_hot(tx, key.first, key.second, merged);
        }
      });
    });
    return results;
  }

  std::vector<PartitionRecord> partition_history(const PartitionKey& key) override {
    std::vector<PartitionRecord> out;
    for (const PgRow row :
         db_.exec(fmt::format("SELECT {} FROM partition_versions WHERE dataset = $1 AND "
                              "timeframe = $2 AND symbol = $3 AND partition = $4 ORDER BY version",
                              kPartitionColumns),
                  key.dataset, key.timeframe, key.symbol, key.partition)) {
      out.push_back(read_partition(row));
    }
    return out;
  }

  void restore_partition(const PartitionRecord& r) override {
    guarded(internal::describe(r.key), [&] {
      db_.exec(fmt::format("INSERT INTO partitions ({}) VALUES ({}) "
                           "ON CONFLICT (dataset, timeframe, symbol, partition) DO UPDATE SET {}",
                           kPartitionColumns, placeholders(1, 13), kPartitionUpdate),
               r.key.dataset, r.key.timeframe, r.key.symbol, r.key.partition, r.object_key,
               r.version_key, r.row_count, r.content_sha256, r.min_ts_ns, r.max_ts_ns, r.version,
               r.code_version, r.committed_at_ns);
    });
  }

  void replace_partition_sessions(const PartitionKey& key,
                                  const std::vector<int32_t>& session_days) override {
    guarded(internal::describe(key) + " sessions", [&] {
      db_.transaction([&](PgTx& tx) {
        if (session_days.empty()) {
          tx.exec("DELETE FROM partition_sessions WHERE dataset = $1 AND timeframe = $2 AND "
                  "symbol = $3 AND partition = $4",
                  key.dataset, key.timeframe, key.symbol, key.partition);
          return;
        }
        write_partition_sessions(tx, key, session_days, true);
      });
    });
  }

  // ---- coverage ----

  void ensure_calendar_sessions(const std::string& calendar, int32_t from_day, int32_t to_day,
                                const std::vector<int32_t>& sessions) override {
    internal::check_calendar_sessions(calendar, from_day, to_day, sessions);
    if (stored_sessions(db_, calendar, from_day, to_day) == sessions) return;
    guarded("calendar " + calendar, [&] {
      db_.transaction([&](PgTx& tx) {
        // Writers of one calendar take turns, so the read below sees what the last one wrote.
        lock_name(tx, "calendar_sessions", calendar, "");
        const std::vector<int32_t> stored = stored_sessions(tx, calendar, from_day, to_day);
        std::vector<int64_t> stale, missing;
        std::set_difference(stored.begin(), stored.end(), sessions.begin(), sessions.end(),
                            std::back_inserter(stale));
        std::set_difference(sessions.begin(), sessions.end(), stored.begin(), stored.end(),
                            std::back_inserter(missing));
        if (!stale.empty()) {
          tx.exec("DELETE FROM calendar_sessions WHERE calendar = $1 AND "
                  "session_day = ANY($2::bigint[])",
                  calendar, bigint_array(stale));
        }
        if (!missing.empty()) {
          std::vector<std::string> dates;
          for (int64_t day : missing) dates.push_back(Date(static_cast<int32_t>(day)).to_string());
          tx.exec("INSERT INTO calendar_sessions (calendar, session_day, session_date) "
                  "SELECT $1, d.sday, d.sdate FROM unnest($2::bigint[], $3::text[]) AS d(sday, sdate) "
                  "ON CONFLICT (calendar, session_day) DO NOTHING",
                  calendar, bigint_array(missing), dates);
        }
      });
    });
  }

  std::vector<CoverageYear> session_coverage(const std::string& dataset,
                                             const std::string& timeframe,
                                             const std::string& symbol,
                                             const std::string& calendar, int32_t from_day,
                                             int32_t to_day) override {
    std::vector<CoverageYear> years;
    for (const PgRow row : db_.exec(internal::kSessionCoverageSql, dataset, timeframe, symbol,
                                    calendar, from_day, to_day)) {
      internal::add_coverage_row(years, row);
    }
    return years;
  }

  // ---- hot cache ----

  std::vector<HotBar> hot_bars(const std::string& symbol, const std::string& timeframe,
                               int64_t from_ts_ns, int64_t to_ts_ns) override {
    std::vector<HotBar> rows = select_hot(db_, symbol, timeframe);
    std::erase_if(rows, [&](const HotBar& h) { return h.ts_ns < from_ts_ns || h.ts_ns > to_ts_ns; });
    return rows;
  }

  void replace_hot_bars(const std::string& symbol, const std::string& timeframe,
                        const std::vector<HotBar>& rows) override {
    guarded("hot cache of " + symbol, [&] {
      db_.transaction([&](PgTx& tx) {
        lock_name(tx, "hot_cache", symbol, timeframe);
        write_hot(tx, symbol, timeframe, merge_hot_rows({}, rows, options_.hot_cache_sessions));
      });
    });
  }

  int hot_cache_sessions() const override { return options_.hot_cache_sessions; }

  // ---- raw objects ----

  bool record_raw_object(const RawObjectRecord& r) override {
    if (r.object_key.empty()) throw Error::InvalidInput("record_raw_object: empty object key");
    bool inserted = false;
    guarded("raw object " + r.object_key, [&] {
      inserted = db_.exec(
                        "INSERT INTO raw_objects (object_key, vendor, dataset, symbol, sha256, "
                        "size, fetched_date, request_json, recorded_at_ns, fetched_at_ns, "
                        "task_id, window_from, window_to) "
                        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) "
                        "ON CONFLICT (object_key) DO NOTHING",
                        r.object_key, r.vendor, r.dataset, r.symbol, r.sha256, r.size,
                        r.fetched_date, r.request_json, now_ts_ns(), r.fetched_at_ns, r.task_id,
                        r.window_from, r.window_to)
                     .affected_rows() > 0;
    });
    return inserted;
  }

  std::optional<RawObjectRecord> get_raw_object(const std::string& object_key) override {
    auto row = db_.row(fmt::format("SELECT {} FROM raw_objects WHERE object_key = $1", kRawColumns),
                       object_key);
    if (!row) return std::nullopt;
    return read_raw(*row);
  }

  std::vector<RawObjectRecord> raw_objects_of_task(const std::string& task_id) override {
    std::vector<RawObjectRecord> out;
    if (task_id.empty()) return out;
    for (const PgRow row : db_.exec(fmt::format("SELECT {} FROM raw_objects WHERE task_id = $1 "
                                                "ORDER BY object_key",
                                                kRawColumns),
                                    task_id)) {
      out.push_back(read_raw(row));
    }
    return out;
  }

  std::vector<RawObjectRecord> list_raw_objects(const std::string& vendor,
                                                const std::string& symbol) override {
    std::vector<RawObjectRecord> out;
    for (const PgRow row :
         db_.exec(fmt::format("SELECT {} FROM raw_objects WHERE ($1 = '' OR vendor = $1) "
                              "AND ($2 = '' OR symbol = $2) ORDER BY fetched_at_ns, object_key",
                              kRawColumns),
                  vendor, symbol)) {
      out.push_back(read_raw(row));
    }
    return out;
  }

  // ---- runs, tasks, watermarks, data quality ----

  void start_run(const RunRecord& run) override {
    if (run.run_id.empty()) throw Error::InvalidInput("start_run: empty run id");
    bool inserted = false;
    guarded("run " + run.run_id, [&] {
      inserted =
          db_.exec(
                 "INSERT INTO runs (run_id, kind, params_json, status, stats_json, "
                 "started_at_ns, finished_at_ns) VALUES ($1, $2, $3, $4, $5, $6, $7) "
                 "ON CONFLICT (run_id) DO NOTHING",
                 run.run_id, run.kind, run.params_json, to_string(run.status), run.stats_json,
                 run.started_at_ns != 0 ? run.started_at_ns : now_ts_ns(), run.finished_at_ns)
              .affected_rows() > 0;
      if (!inserted) throw Error::Conflict("run " + run.run_id + " already exists");
    });
  }

  void finish_run(const std::string& run_id, RunStatus status,
                  const std::string& stats_json) override {
    int64_t changed = 0;
    guarded("run " + run_id, [&] {
      changed = db_.exec(
                       "UPDATE runs SET status = $1, stats_json = $2, finished_at_ns = $3 "
                       "WHERE run_id = $4",
                       to_string(status), stats_json, now_ts_ns(), run_id)
                    .affected_rows();
    });
    if (changed == 0) throw Error::NotFound("run " + run_id + " does not exist");
  }

  std::optional<RunRecord> get_run(const std::string& run_id) override {
    auto row = db_.row(
        "SELECT run_id, kind, params_json, status, stats_json, started_at_ns, finished_at_ns "
        "FROM runs WHERE run_id = $1",
        run_id);
    if (!row) return std::nullopt;
    return RunRecord{row->text(0), row->text(1),  row->text(2), parse_run_status(row->text(3)),
                     row->text(4), row->int64(5), row->int64(6)};
  }

  std::vector<RunRecord> list_runs(const std::string& kind, int64_t limit) override {
    std::vector<RunRecord> out;
    for (const PgRow row : db_.exec(
             "SELECT run_id, kind, params_json, status, stats_json, started_at_ns, finished_at_ns FROM runs "
             "WHERE ($1 = '' OR kind = $1) ORDER BY started_at_ns DESC, run_id LIMIT $2",
             kind, limit)) {
      out.push_back({row.text(0), row.text(1), row.text(2), parse_run_status(row.text(3)), row.text(4), row.int64(5),
                     row.int64(6)});
    }
    return out;
  }

  bool mark_task_done(const std::string& task_id, const std::string& run_id) override {
    if (task_id.empty()) throw Error::InvalidInput("mark_task_done: empty task id");
    bool inserted = false;
    guarded("task " + task_id, [&] {
      inserted = db_.exec(
                        "INSERT INTO tasks_done (task_id, run_id, done_at_ns) "
                        "VALUES ($1, $2, $3) ON CONFLICT (task_id) DO NOTHING",
                        task_id, run_id, now_ts_ns())
                     .affected_rows() > 0;
    });
    return inserted;
  }

  bool is_task_done(const std::string& task_id) override {
    return db_.scalar("SELECT 1 FROM tasks_done WHERE task_id = $1", task_id).has_value();
  }

  int64_t count_tasks_done(const std::string& run_id) override {
    return db_.scalar("SELECT count(*) FROM tasks_done WHERE run_id = $1", run_id).value_or(0);
  }

  TaskThroughput task_throughput(int64_t since_ns, int64_t bucket_ns) override {
    if (bucket_ns <= 0) throw Error::InvalidInput("task_throughput: the bucket must be positive");
    TaskThroughput out;
    out.total = db_.scalar("SELECT count(*) FROM tasks_done").value_or(0);
    for (const PgRow row : db_.exec("SELECT (done_at_ns / $1) * $1 AS b, count(*)::bigint FROM tasks_done "
                                    "WHERE done_at_ns >= $2 GROUP BY b ORDER BY b",
                                    bucket_ns, since_ns)) {
      out.buckets.emplace_back(row.int64(0), row.int64(1));
    }
    return out;
  }

  std::optional<std::string> get_watermark(const std::string& vendor, const std::string& dataset,
                                           const std::string& symbol) override {
    auto row =
        db_.row("SELECT date FROM watermarks WHERE vendor = $1 AND dataset = $2 AND symbol = $3",
                vendor, dataset, symbol);
    if (!row) return std::nullopt;
    return row->text(0);
  }

  void advance_watermark(const Watermark& w) override {
    const std::string what = fmt::format("watermark {}/{}/{}", w.vendor, w.dataset, w.symbol);
    check_date(w.date, what);
    guarded(what, [&] { write_watermark(db_, w); });
  }

  void replace_dq(const std::string& raw_object, const std::string& dataset,
                  const std::map<std::string, std::map<std::string, int64_t>>& rows_by_symbol_rule,
                  const std::string& run_id) override {
    internal::check_dq(raw_object, rows_by_symbol_rule);
    guarded(fmt::format("dq {}/{}", raw_object, dataset), [&] {
      db_.transaction([&](PgTx& tx) {
        // Replacers of one payload's counts take turns: the DELETE of the second sees (and
        // removes) what the first inserted.
        lock_name(tx, "dq_counts", raw_object, dataset);
        tx.exec("DELETE FROM dq_counts WHERE raw_object = $1 AND dataset = $2", raw_object,
                dataset);
        for (const auto& [symbol, by_rule] : rows_by_symbol_rule) {
          for (const auto& [rule, rows] : by_rule) {
            if (rows == 0) continue;
            tx.exec(
                "INSERT INTO dq_counts (raw_object, dataset, symbol, rule, rows, run_id) "
                "VALUES ($1, $2, $3, $4, $5, $6)",
                raw_object, dataset, symbol, rule, rows, run_id);
          }
        }
      });
    });
  }

  std::vector<DqResult> dq_summary(const std::string& run_id) override {
    std::vector<DqResult> out;
    for (const PgRow row :
         db_.exec("SELECT dataset, rule, sum(rows)::bigint FROM dq_counts "
                  "WHERE ($1 = '' OR run_id = $1) GROUP BY dataset, rule ORDER BY dataset, rule",
                  run_id)) {
      out.push_back({run_id, row.text(0), "", row.text(1), row.int64(2), ""});
    }
    return out;
  }

  // ---- ledger ----

  bool insert_order_if_absent(const OrderRecord& o) override {
    internal::check_order(o);
    bool inserted = false;
    guarded("order " + o.client_order_id, [&] {
      const int64_t now = now_ts_ns();
      std::optional<int64_t> limit, stop;
      if (o.limit_price) limit = o.limit_price->raw();
      if (o.stop_price) stop = o.stop_price->raw();
      inserted =
          db_.exec(
                 "INSERT INTO ledger_orders (client_order_id, strategy, symbol, side, "
                 "qty_micros, order_type, limit_price_micros, session_date, status, reason, "
                 "broker, broker_order_id, created_at_ns, updated_at_ns, account, stop_price_micros, "
                 "filled_qty_micros) "
                 "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) "
                 "ON CONFLICT (client_order_id) DO NOTHING",
                 o.client_order_id, o.strategy, o.symbol, to_string(o.side), o.qty.raw(),
                 o.order_type, limit, o.session_date, to_string(o.status), o.reason, o.broker,
                 o.broker_order_id, o.created_at_ns != 0 ? o.created_at_ns : now, now, o.account, stop,
                 o.filled_qty.raw())
              .affected_rows() > 0;
    });
    return inserted;
  }

  std::optional<OrderRecord> get_order(const std::string& client_order_id) override {
    auto row = db_.row(
        fmt::format("SELECT {} FROM ledger_orders WHERE client_order_id = $1", kOrderColumns),
        client_order_id);
    if (!row) return std::nullopt;
    return read_order(*row);
  }

  void update_order(const std::string& client_order_id, OrderStatus status,
                    const std::string& reason, const std::string& broker_order_id) override {
    int64_t changed = 0;
    guarded("order " + client_order_id, [&] {
      // An empty broker_order_id keeps the one recorded (a denial has none to report).
      changed = db_.exec(
                       "UPDATE ledger_orders SET status = $1, reason = $2, "
                       "broker_order_id = coalesce(nullif($3, ''), broker_order_id), "
                       "updated_at_ns = $4 WHERE client_order_id = $5",
                       to_string(status), reason, broker_order_id, now_ts_ns(), client_order_id)
                    .affected_rows();
    });
    if (changed == 0) throw Error::NotFound("order " + client_order_id + " does not exist");
  }

  std::vector<OrderRecord> list_orders(const std::string& strategy) override {
    std::vector<OrderRecord> out;
    for (const PgRow row :
         db_.exec(fmt::format("SELECT {} FROM ledger_orders WHERE ($1 = '' OR strategy = $1) "
                              "ORDER BY created_at_ns, client_order_id",
                              kOrderColumns),
                  strategy)) {
      out.push_back(read_order(row));
    }
    return out;
  }

  bool apply_fill(const std::string& account, const FillRecord& fill) override {
    internal::check_fill(account, fill);
    bool applied = false;
    guarded(fmt::format("fill {} (account {})", fill.fill_id, account), [&] {
      db_.transaction([&](PgTx& tx) { applied = apply_fill_in_transaction(tx, account, fill); });
    });
    return applied;
  }

  int apply_order_update(const std::string& account, const std::string& client_order_id, OrderStatus status,
                         const std::string& reason, const std::string& broker_order_id,
                         const std::vector<FillRecord>& fills) override {
    for (const auto& f : fills) internal::check_fill(account, f);
    int applied = 0;
    bool found = false;
    guarded("order " + client_order_id, [&] {
      db_.transaction([&](PgTx& tx) {
        applied = 0;
        // The order's row lock: two reports on one order apply one after the other.
        found = tx.scalar("SELECT 1 FROM ledger_orders WHERE client_order_id = $1 FOR UPDATE", client_order_id)
                    .has_value();
        if (!found) return;
        for (const auto& f : fills) applied += apply_fill_in_transaction(tx, account, f) ? 1 : 0;
        tx.exec(
            "UPDATE ledger_orders SET status = $1, reason = coalesce(nullif($2, ''), reason), "
            "broker_order_id = coalesce(nullif($3, ''), broker_order_id), updated_at_ns = $4, "
            "filled_qty_micros = (SELECT coalesce(sum(qty_micros), 0) FROM ledger_fills WHERE client_order_id = $5) "
            "WHERE client_order_id = $5",
            to_string(status), reason, broker_order_id, now_ts_ns(), client_order_id);
      });
    });
    if (!found) throw Error::NotFound("order " + client_order_id + " is not in the ledger");
    return applied;
  }

  std::vector<FillRecord> list_fills(const std::string& client_order_id) override {
    std::vector<FillRecord> out;
    for (const PgRow row :
         db_.exec("SELECT fill_id, client_order_id, symbol, side, qty_micros, price_micros, "
                  "commission_micros, ts_ns FROM ledger_fills "
                  "WHERE ($1 = '' OR client_order_id = $1) ORDER BY ts_ns, fill_id",
                  client_order_id)) {
      out.push_back({row.text(0), row.text(1), row.text(2), parse_side(row.text(3)), micros(row, 4),
                     micros(row, 5), micros(row, 6), row.int64(7)});
    }
    return out;
  }

  std::optional<PositionRecord> get_position(const std::string& account,
                                             const std::string& symbol) override {
    return select_position(db_, account, symbol);
  }

  std::vector<PositionRecord> list_positions(const std::string& account) override {
    std::vector<PositionRecord> out;
    for (const PgRow row :
         db_.exec(fmt::format("SELECT {} FROM ledger_positions WHERE ($1 = '' OR account = $1) "
                              "ORDER BY account, symbol",
                              kPositionColumns),
                  account)) {
      out.push_back(read_position(row));
    }
    return out;
  }

  Micros account_cash(const std::string& account, Micros initial_cash) override {
    if (account.empty()) throw Error::InvalidInput("account_cash: empty account");
    if (auto cash = read_cash(account)) return *cash;
    guarded("account " + account, [&] {
      db_.transaction([&](PgTx& tx) {
        ensure_account(tx, account, now_ts_ns());
        // The first caller names the initial cash; later values are ignored (a concurrent
        // caller's UPDATE waits for the first and then finds the value set).
        tx.exec(
            "UPDATE ledger_accounts SET initial_cash_micros = $1 WHERE account = $2 "
            "AND initial_cash_micros IS NULL",
            initial_cash.raw(), account);
      });
    });
    return read_cash(account).value_or(initial_cash);
  }

  std::optional<TradingStateRecord> get_trading_state(const std::string& account) override {
    auto row = db_.row(fmt::format("SELECT {} FROM trading_state WHERE account = $1", kTradingStateColumns), account);
    if (!row) return std::nullopt;
    return read_trading_state(*row);
  }

  void put_trading_state(const TradingStateRecord& t) override {
    if (t.account.empty()) throw Error::InvalidInput("put_trading_state: empty account");
    (void)parse_trading_state_name(t.state);
    guarded("trading state of " + t.account, [&] {
      db_.exec(
          "INSERT INTO trading_state (account, state, reason, peak_equity_micros, last_equity_micros, "
          "last_session, updated_at_ns, strategy_json) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
          "ON CONFLICT (account) DO UPDATE SET state = excluded.state, reason = excluded.reason, "
          "peak_equity_micros = excluded.peak_equity_micros, last_equity_micros = excluded.last_equity_micros, "
          "last_session = excluded.last_session, updated_at_ns = excluded.updated_at_ns, "
            "strategy_json = excluded.strategy_json",
          t.account, t.state, t.reason, t.peak_equity.raw(), t.last_equity.raw(), t.last_session,
          t.updated_at_ns != 0 ? t.updated_at_ns : now_ts_ns(), t.strategy_json);
    });
  }

  void record_denial(const RiskDenialRecord& d) override {
    guarded("denial of " + d.client_order_id, [&] {
      db_.exec(
          "INSERT INTO risk_denials (account, client_order_id, strategy, symbol, side, qty_micros, rule, reason, "
          "session_date, created_at_ns) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
          d.account, d.client_order_id, d.strategy, d.symbol, to_string(d.side), d.qty.raw(), d.rule, d.reason,
          d.session_date, d.created_at_ns != 0 ? d.created_at_ns : now_ts_ns());
    });
  }

  std::vector<RiskDenialRecord> list_denials(const std::string& account) override {
    std::vector<RiskDenialRecord> out;
    for (const PgRow row : db_.exec(
             fmt::format("SELECT {} FROM risk_denials WHERE ($1 = '' OR account = $1) ORDER BY id", kDenialColumns),
             account)) {
      out.push_back(read_denial(row));
    }
    return out;
  }

  bool apply_adjustment(const LedgerAdjustment& a) override {
    if (a.action_id.empty() || a.account.empty() || a.symbol.empty()) {
      throw Error::InvalidInput("apply_adjustment: empty action id, account or symbol");
    }
    bool applied = false;
    guarded("adjustment " + a.action_id, [&] {
      db_.transaction([&](PgTx& tx) {
        applied = false;
        const int64_t now = now_ts_ns();
        ensure_account(tx, a.account, now);
        // The account's row lock: adjustments and fills of one account apply one at a time.
        tx.exec("SELECT 1 FROM ledger_accounts WHERE account = $1 FOR UPDATE", a.account);
        if (tx.scalar("SELECT 1 FROM ledger_adjustments WHERE account = $1 AND action_id = $2", a.account, a.action_id)) {
          return;
        }
        const PositionRecord before =
            select_position(tx, a.account, a.symbol).value_or(PositionRecord{a.account, a.symbol, {}, {}, {}, 0});
        const auto effect = internal::adjustment_effect(before, a);
        tx.exec(
            "INSERT INTO ledger_positions (account, symbol, qty_micros, avg_price_micros, realized_pnl_micros, "
            "updated_at_ns) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (account, symbol) DO UPDATE SET "
            "qty_micros = excluded.qty_micros, avg_price_micros = excluded.avg_price_micros, "
            "updated_at_ns = excluded.updated_at_ns",
            a.account, a.symbol, effect.position.qty.raw(), effect.position.avg_price.raw(),
            effect.position.realized_pnl.raw(), now);
        tx.exec("UPDATE ledger_accounts SET net_flow_micros = net_flow_micros + $1 WHERE account = $2",
                effect.cash.raw(), a.account);
        tx.exec(
            "INSERT INTO ledger_adjustments (action_id, account, symbol, kind, qty_before, qty_after, cash_micros, "
            "ex_date, applied_at_ns) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
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
      db_.transaction([&](PgTx& tx) {
        const int64_t now = now_ts_ns();
        // xmax = 0 only on a row this statement inserted (not one it updated).
        auto result = tx.exec(
            "INSERT INTO universe (symbol, vendor, dataset, timeframe, calendar, asset_class, currency, "
            "start_date, status, status_reason, status_at_ns, added_at_ns) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'active', '', $9, $9) "
            "ON CONFLICT (symbol, vendor, dataset, timeframe) DO UPDATE SET calendar = excluded.calendar, "
            "asset_class = excluded.asset_class, currency = excluded.currency, start_date = excluded.start_date, "
            "status = 'active', status_reason = '', status_at_ns = excluded.status_at_ns "
            "RETURNING (xmax = 0)",
            e.symbol, e.vendor, e.dataset, e.timeframe, e.calendar, e.asset_class, e.currency, e.start_date, now);
        created = !result.empty() && result[0].boolean(0);
      });
    });
    return created;
  }

  bool remove_universe(const std::string& symbol, const std::string& vendor, const std::string& dataset,
                       const std::string& timeframe) override {
    int64_t removed = 0;
    guarded("universe " + symbol, [&] {
      removed = db_.exec("DELETE FROM universe WHERE symbol = $1 AND vendor = $2 AND dataset = $3 AND "
                         "timeframe = $4", symbol, vendor, dataset, timeframe).affected_rows();
    });
    return removed > 0;
  }

  std::vector<UniverseEntry> list_universe(const std::string& vendor) override {
    std::vector<UniverseEntry> out;
    for (const PgRow r : db_.exec(
             "SELECT symbol, vendor, dataset, timeframe, calendar, asset_class, currency, start_date, status, "
             "status_reason, status_at_ns, added_at_ns FROM universe WHERE ($1 = '' OR vendor = $1) "
             "ORDER BY symbol, vendor, dataset, timeframe", vendor)) {
      out.push_back({r.text(0), r.text(1), r.text(2), r.text(3), r.text(4), r.text(5), r.text(6), r.text(7),
                     r.text(8), r.text(9), r.int64(10), r.int64(11)});
    }
    return out;
  }

  void set_universe_status(const std::string& symbol, const std::string& vendor, const std::string& dataset,
                           const std::string& timeframe, const std::string& status,
                           const std::string& reason) override {
    internal::check_universe_status(status);
    guarded("universe " + symbol, [&] {
      db_.exec("UPDATE universe SET status = $1, status_reason = $2, status_at_ns = $3 WHERE symbol = $4 AND "
               "vendor = $5 AND dataset = $6 AND timeframe = $7",
               status, reason, now_ts_ns(), symbol, vendor, dataset, timeframe);
    });
  }

  // ---- corporate actions ----

  int64_t record_actions(const std::vector<ActionRecord>& records) override {
    for (const auto& r : records) internal::check_action(r);
    if (records.empty()) return 0;
    int64_t added = 0;
    guarded("corporate actions", [&] {
      db_.transaction([&](PgTx& tx) {
        added = 0;  // a retried transaction counts again from the start
        std::set<std::string> symbol_set;
        for (const auto& r : records) symbol_set.insert(r.action.symbol.str());
        const std::vector<std::string> symbols(symbol_set.begin(), symbol_set.end());
        std::vector<ActionRecord> existing;
        for (const PgRow row : tx.exec(fmt::format("SELECT {} FROM corporate_actions WHERE symbol = "
                                                   "ANY($1::text[])", internal::kActionColumns),
                                       symbols)) {
          existing.push_back(internal::action_of_row(row));
        }
        const int64_t now = now_ts_ns();
        for (const ActionRecord* r : internal::actions_to_insert(existing, records)) {
          const CorporateAction& a = r->action;
          added += tx.exec(
              fmt::format("INSERT INTO corporate_actions ({}, recorded_at_ns) VALUES ($1, $2, $3, $4, "
                          "$5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) ON CONFLICT DO NOTHING",
                          internal::kActionColumns),
              a.symbol.str(), std::string(to_string(a.kind)), a.ex_date.to_string(), r->source,
              r->knowledge_ts_ns, a.split_ratio, a.cash_amount, a.currency,
              internal::optional_date_text(a.pay_date), internal::optional_date_text(a.record_date),
              internal::optional_date_text(a.declared_date), a.new_symbol,
              int64_t{r->retracted ? 1 : 0}, r->origin, a.reference_price, now).affected_rows();
        }
      });
    });
    return added;
  }

  std::vector<ActionRecord> list_actions(const std::string& symbol, int64_t as_of_ns) override {
    std::string sql(internal::kListActionsSql);
    std::replace(sql.begin(), sql.end(), '?', '$');  // ?1 -> $1
    std::vector<ActionRecord> out;
    for (const PgRow row : db_.exec(sql, symbol, as_of_ns)) out.push_back(internal::action_of_row(row));
    return out;
  }

  // ---- vendor budgets: one row per vendor, locked FOR UPDATE while it is read and written ----

  BudgetReservation reserve_vendor_request(const std::string& vendor, const BudgetRule& rule,
                                           int64_t now_ns) override {
    BudgetReservation out;
    guarded("budget " + vendor, [&] {
      db_.transaction([&](PgTx& tx) {
        BudgetState state = lock_budget(tx, vendor);
        out = reserve_in_budget(state, rule, now_ns);
        if (out.reserved) write_budget(tx, vendor, state);
      });
    });
    return out;
  }

  void pause_vendor(const std::string& vendor, int64_t until_ns) override {
    guarded("budget " + vendor, [&] {
      db_.transaction([&](PgTx& tx) {
        BudgetState state = lock_budget(tx, vendor);
        if (until_ns <= state.paused_until_ns) return;
        state.paused_until_ns = until_ns;
        write_budget(tx, vendor, state);
      });
    });
  }

  std::optional<BudgetState> vendor_budget_state(const std::string& vendor) override {
    auto r = db_.row("SELECT tat_ns, paused_until_ns, hour_start_ns, hour_count, day_start_ns, day_count "
                     "FROM vendor_budgets WHERE vendor = $1", vendor);
    if (!r) return std::nullopt;
    return BudgetState{r->int64(0), r->int64(1), r->int64(2), r->int64(3), r->int64(4), r->int64(5)};
  }

  bool record_model(const ModelRecord& m) override {
    if (m.id.empty()) throw Error::InvalidInput("record_model: empty model id");
    bool inserted = false;
    guarded("model " + m.id, [&] {
      inserted = db_.exec(fmt::format("INSERT INTO models ({}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, "
                                      "$13, $14, $15, $16) ON CONFLICT (id) DO NOTHING",
                                      internal::kModelColumns),
                          m.id, m.name, m.kind, m.feature_set, m.feature_set_hash, m.label, m.dataset_hash,
                          m.config_toml, m.code_version, m.artefacts, m.metrics_json, m.importance_json,
                          static_cast<int64_t>(m.from_day), static_cast<int64_t>(m.to_day),
                          static_cast<int64_t>(m.splits), m.created_at_ns != 0 ? m.created_at_ns : now_ts_ns())
                     .affected_rows() > 0;
    });
    return inserted;
  }

  std::optional<ModelRecord> get_model(const std::string& id) override {
    auto r = db_.row(fmt::format("SELECT {} FROM models WHERE id = $1", internal::kModelColumns), id);
    if (!r) return std::nullopt;
    return internal::model_of_row(*r);
  }

  std::vector<ModelRecord> list_models() override {
    std::vector<ModelRecord> out;
    for (const PgRow r : db_.exec(fmt::format("SELECT {} FROM models ORDER BY created_at_ns DESC, id", internal::kModelColumns))) {
      out.push_back(internal::model_of_row(r));
    }
    return out;
  }

 private:
  static BudgetState lock_budget(PgTx& tx, const std::string& vendor) {
    tx.exec("INSERT INTO vendor_budgets (vendor, tat_ns, paused_until_ns, hour_start_ns, hour_count, "
            "day_start_ns, day_count) VALUES ($1, 0, 0, 0, 0, 0, 0) ON CONFLICT (vendor) DO NOTHING", vendor);
    auto r = tx.exec("SELECT tat_ns, paused_until_ns, hour_start_ns, hour_count, day_start_ns, day_count "
                     "FROM vendor_budgets WHERE vendor = $1 FOR UPDATE", vendor);
    return BudgetState{r[0].int64(0), r[0].int64(1), r[0].int64(2), r[0].int64(3), r[0].int64(4), r[0].int64(5)};
  }

  static void write_budget(PgTx& tx, const std::string& vendor, const BudgetState& b) {
    tx.exec("UPDATE vendor_budgets SET tat_ns = $2, paused_until_ns = $3, hour_start_ns = $4, hour_count = $5, "
            "day_start_ns = $6, day_count = $7 WHERE vendor = $1",
            vendor, b.tat_ns, b.paused_until_ns, b.hour_start_ns, b.hour_count, b.day_start_ns, b.day_count);
  }

  // Every column of a partition row but the key, from `excluded`.
  static constexpr const char* kPartitionUpdate =
      "object_key = excluded.object_key, version_key = excluded.version_key, "
      "row_count = excluded.row_count, content_sha256 = excluded.content_sha256, "
      "min_ts_ns = excluded.min_ts_ns, max_ts_ns = excluded.max_ts_ns, "
      "version = excluded.version, code_version = excluded.code_version, "
      "committed_at_ns = excluded.committed_at_ns";

  // "$first, ..., $(first+count-1)".
  static std::string placeholders(int first, int count) {
    std::string out;
    for (int i = 0; i < count; ++i) out += fmt::format("{}${}", i == 0 ? "" : ", ", first + i);
    return out;
  }

  // Runs `op`; a trib::Error from it gets `what` (the key involved) in front of its message
  // (a PgError keeps its SQLSTATE). Outside db_.transaction, so its retries see the raw error.
  template <typename F>
  void guarded(const std::string& what, F&& op) {
    try {
      op();
    } catch (const db::PgError& e) {
      throw db::with_context(e, what);
    } catch (const Error& e) {
      throw db::with_context(e, what);
    }
  }

  static std::optional<PartitionRecord> select_partition(PgExecutor& ex, const PartitionKey& key,
                                                         bool for_update) {
    auto row = ex.row(fmt::format("SELECT {} FROM partitions WHERE dataset = $1 AND "
                                  "timeframe = $2 AND symbol = $3 AND partition = $4{}",
                                  kPartitionColumns, for_update ? " FOR UPDATE" : ""),
                      key.dataset, key.timeframe, key.symbol, key.partition);
    if (!row) return std::nullopt;
    return read_partition(*row);
  }

  // One partition's commit inside the caller's transaction; see the file comment for the locks.
  CommitResult commit_one(PgTx& tx, const PartitionCommit& c) {
    const PartitionRecord& r = c.record;
    std::optional<PartitionRecord> current = select_partition(tx, r.key, true);
    const int64_t now = now_ts_ns();
    if (!current && c.expected_version == 0) {
      // Version 1. A concurrent creator's uncommitted row makes this wait for its transaction;
      // once that commits, nothing is inserted and its row is judged below, under our lock.
      const bool inserted =
          tx.exec(fmt::format("INSERT INTO partitions ({}) VALUES ({}) "
                              "ON CONFLICT (dataset, timeframe, symbol, partition) DO NOTHING",
                              kPartitionColumns, placeholders(1, 13)),
                  r.key.dataset, r.key.timeframe, r.key.symbol, r.key.partition, r.object_key,
                  r.version_key, r.row_count, r.content_sha256, r.min_ts_ns, r.max_ts_ns,
                  int64_t{1}, r.code_version, now)
              .affected_rows() > 0;
      if (inserted) return {CommitOutcome::kCreated, 1};
      current = select_partition(tx, r.key, true);
    }
    const int64_t current_version = current ? current->version : 0;
    if (current && current->content_sha256 == r.content_sha256 &&
        current->row_count == r.row_count) {
      return {CommitOutcome::kUnchanged, current_version};
    }
    if (!current || current_version != c.expected_version) {
      throw Error::Conflict(
          fmt::format("{} moved from version {} to {} while this writer merged; retry on top of it",
                      internal::describe(r.key), c.expected_version, current_version));
    }
    tx.exec(fmt::format("INSERT INTO partition_versions ({}, replaced_at_ns) VALUES ({}) "
                        "ON CONFLICT (dataset, timeframe, symbol, partition, version) "
                        "DO UPDATE SET {}, replaced_at_ns = excluded.replaced_at_ns",
                        kPartitionColumns, placeholders(1, 14), kPartitionUpdate),
            current->key.dataset, current->key.timeframe, current->key.symbol,
            current->key.partition, current->object_key, current->version_key, current->row_count,
            current->content_sha256, current->min_ts_ns, current->max_ts_ns, current->version,
            current->code_version, current->committed_at_ns, now);
    // The commit point: the conditional update on the version this writer merged onto.
    const int64_t changed =
        tx.exec(
              "UPDATE partitions SET object_key = $5, version_key = $6, row_count = $7, "
              "content_sha256 = $8, min_ts_ns = $9, max_ts_ns = $10, version = $11::bigint + 1, "
              "code_version = $12, committed_at_ns = $13 WHERE dataset = $1 AND "
              "timeframe = $2 AND symbol = $3 AND partition = $4 AND version = $11",
              r.key.dataset, r.key.timeframe, r.key.symbol, r.key.partition, r.object_key,
              r.version_key, r.row_count, r.content_sha256, r.min_ts_ns, r.max_ts_ns,
              c.expected_version, r.code_version, now)
            .affected_rows();
    if (changed != 1) {  // cannot happen under the row lock; never report a commit that was not
      throw Error::Conflict(fmt::format("{}: version {} is no longer current; retry",
                                        internal::describe(r.key), c.expected_version));
    }
    return {CommitOutcome::kReplaced, c.expected_version + 1};
  }

  // Replaces (or, when !replace, inserts only if absent) the partition's session bitmap.
  static void write_partition_sessions(PgTx& tx, const PartitionKey& key,
                                       const std::vector<int32_t>& session_days, bool replace) {
    const internal::SessionBitmap bitmap = internal::session_bitmap(key, session_days);
    tx.exec(fmt::format("INSERT INTO partition_sessions (dataset, timeframe, symbol, partition, "
                        "first_day, days) VALUES ($1, $2, $3, $4, $5, $6) "
                        "ON CONFLICT (dataset, timeframe, symbol, partition) DO {}",
                        replace ? "UPDATE SET first_day = excluded.first_day, days = excluded.days"
                                : "NOTHING"),
            key.dataset, key.timeframe, key.symbol, key.partition, bitmap.first_day, bitmap.days);
  }

  static std::vector<int32_t> stored_sessions(PgExecutor& ex, const std::string& calendar,
                                              int32_t from_day, int32_t to_day) {
    std::vector<int32_t> out;
    for (const PgRow row : ex.exec("SELECT session_day FROM calendar_sessions WHERE calendar = $1 "
                                   "AND session_day >= $2 AND session_day <= $3 "
                                   "ORDER BY session_day",
                                   calendar, from_day, to_day)) {
      out.push_back(static_cast<int32_t>(row.int64(0)));
    }
    return out;
  }

  static void write_watermark(PgExecutor& ex, const Watermark& w) {
    ex.exec(
        "INSERT INTO watermarks (vendor, dataset, symbol, date, updated_at_ns) "
        "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (vendor, dataset, symbol) DO UPDATE SET "
        "date = excluded.date, updated_at_ns = excluded.updated_at_ns "
        "WHERE excluded.date > watermarks.date",
        w.vendor, w.dataset, w.symbol, w.date, now_ts_ns());
  }

  // bytea travels as hex text (the db layer sends parameters as text).
  static std::vector<HotBar> select_hot(PgExecutor& ex, const std::string& symbol,
                                        const std::string& timeframe) {
    auto row = ex.row("SELECT encode(rows, 'hex') FROM hot_cache WHERE symbol = $1 AND "
                      "timeframe = $2",
                      symbol, timeframe);
    if (!row) return {};
    return internal::decode_hot_rows(from_hex(row->text(0)));
  }

  static void write_hot(PgTx& tx, const std::string& symbol, const std::string& timeframe,
                        const std::vector<HotBar>& rows) {
    if (rows.empty()) {
      tx.exec("DELETE FROM hot_cache WHERE symbol = $1 AND timeframe = $2", symbol, timeframe);
      return;
    }
    tx.exec(
        "INSERT INTO hot_cache (symbol, timeframe, row_count, first_ts_ns, last_ts_ns, rows) "
        "VALUES ($1, $2, $3, $4, $5, decode($6, 'hex')) ON CONFLICT (symbol, timeframe) DO "
        "UPDATE SET row_count = excluded.row_count, first_ts_ns = excluded.first_ts_ns, "
        "last_ts_ns = excluded.last_ts_ns, rows = excluded.rows",
        symbol, timeframe, static_cast<int64_t>(rows.size()), rows.front().ts_ns,
        rows.back().ts_ns, to_hex(internal::encode_hot_rows(rows)));
  }

  static std::string to_hex(std::string_view bytes) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out(bytes.size() * 2, '0');
    for (size_t i = 0; i < bytes.size(); ++i) {
      const auto b = static_cast<unsigned char>(bytes[i]);
      out[2 * i] = kDigits[b >> 4];
      out[2 * i + 1] = kDigits[b & 15];
    }
    return out;
  }

  static std::string from_hex(std::string_view hex) {
    auto nibble = [&](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      throw Error::DataLoss("hot cache entry is not hex from PostgreSQL");
    };
    if (hex.size() % 2 != 0) throw Error::DataLoss("hot cache entry has an odd hex length");
    std::string out(hex.size() / 2, '\0');
    for (size_t i = 0; i < out.size(); ++i) {
      out[i] = static_cast<char>(nibble(hex[2 * i]) << 4 | nibble(hex[2 * i + 1]));
    }
    return out;
  }

  static std::optional<PositionRecord> select_position(PgExecutor& ex, const std::string& account,
                                                       const std::string& symbol) {
    auto row = ex.row(fmt::format("SELECT {} FROM ledger_positions WHERE account = $1 AND "
                                  "symbol = $2",
                                  kPositionColumns),
                      account, symbol);
    if (!row) return std::nullopt;
    return read_position(*row);
  }

  // Records a fill (unless its id is known) and moves the position and the cash; the caller holds
  // the transaction.
  static bool apply_fill_in_transaction(PgTx& tx, const std::string& account, const FillRecord& fill) {
    if (tx.scalar("SELECT 1 FROM ledger_fills WHERE fill_id = $1", fill.fill_id)) return false;
    const int64_t now = now_ts_ns();
    ensure_account(tx, account, now);
    // The account's row lock: fills of one account apply one at a time.
    tx.exec("SELECT 1 FROM ledger_accounts WHERE account = $1 FOR UPDATE", account);
    const bool inserted =
        tx.exec(
              "INSERT INTO ledger_fills (fill_id, account, client_order_id, symbol, side, "
              "qty_micros, price_micros, commission_micros, ts_ns, recorded_at_ns) "
              "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) "
              "ON CONFLICT (fill_id) DO NOTHING",
              fill.fill_id, account, fill.client_order_id, fill.symbol, to_string(fill.side),
              fill.qty.raw(), fill.price.raw(), fill.commission.raw(), fill.ts_ns, now)
            .affected_rows() > 0;
    if (!inserted) return false;  // another connection applied this fill meanwhile
    PositionRecord position =
        select_position(tx, account, fill.symbol).value_or(PositionRecord{account, fill.symbol, {}, {}, {}, 0});
    position = apply_fill_to_position(position, fill.side, fill.qty, fill.price);
    position.updated_at_ns = fill.ts_ns;
    tx.exec(
        "INSERT INTO ledger_positions (account, symbol, qty_micros, avg_price_micros, "
        "realized_pnl_micros, updated_at_ns) VALUES ($1, $2, $3, $4, $5, $6) "
        "ON CONFLICT (account, symbol) DO UPDATE SET qty_micros = excluded.qty_micros, "
        "avg_price_micros = excluded.avg_price_micros, "
        "realized_pnl_micros = excluded.realized_pnl_micros, "
        "updated_at_ns = excluded.updated_at_ns",
        account, fill.symbol, position.qty.raw(), position.avg_price.raw(), position.realized_pnl.raw(),
        position.updated_at_ns);
    tx.exec("UPDATE ledger_accounts SET net_flow_micros = net_flow_micros + $1 WHERE account = $2",
            internal::cash_flow_of(fill).raw(), account);
    tx.exec("UPDATE ledger_orders SET filled_qty_micros = filled_qty_micros + $1 WHERE client_order_id = $2",
            fill.qty.raw(), fill.client_order_id);
    return true;
  }

  static void ensure_account(PgTx& tx, const std::string& account, int64_t now) {
    tx.exec(
        "INSERT INTO ledger_accounts (account, initial_cash_micros, net_flow_micros, "
        "created_at_ns) VALUES ($1, NULL, 0, $2) ON CONFLICT (account) DO NOTHING",
        account, now);
  }

  // The cash of an account whose initial cash is known.
  std::optional<Micros> read_cash(const std::string& account) {
    auto row = db_.row(
        "SELECT initial_cash_micros + net_flow_micros FROM ledger_accounts WHERE account = $1 "
        "AND initial_cash_micros IS NOT NULL",
        account);
    if (!row) return std::nullopt;
    return micros(*row, 0);
  }

  CatalogOptions options_;
  PgConnection db_;
};

}  // namespace

std::unique_ptr<Catalog> open_postgres_catalog(const std::string& url, CatalogOptions options) {
  if (options.hot_cache_sessions < 0) {
    throw Error::InvalidInput("hot cache sessions must not be negative");
  }
  return std::make_unique<PostgresCatalog>(url, options);
}

}  // namespace trib::catalog

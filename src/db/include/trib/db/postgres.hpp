// PostgreSQL: a small layer over libpqxx 6.4 for the PostgreSQL catalog and queue, with the same
// contract as the SQLite layer (sqlite.hpp): migrations per component recorded in
// schema_migrations, transactions that roll back when their body throws, and every failure
// thrown as a categorised trib::Error that names the database.
//
//   PgConnection db("postgresql://trib@db.example:5432/trib?options=-csearch_path%3Dprod");
//   db.migrate("catalog", kCatalogMigrations);
//   int64_t n = db.transaction([&](PgTx& tx) {
//     tx.exec("INSERT INTO t (k, v) VALUES ($1, $2)", key, 42);
//     return *tx.scalar("SELECT count(*) FROM t");
//   });
//
// Thread safety: none. One PgConnection per thread (a connection is one server session). Any
// number of threads and processes may use the same database; PostgreSQL's own locking (row
// locks, SKIP LOCKED, advisory locks, serializable isolation) coordinates them. Do not use a
// connection in a child after fork(); open a new one there.
//
// Connection URL: a libpq URL (postgresql://user@host:port/db?param=value) or key=value string.
// The schema is chosen with the standard libpq `options` parameter (`-csearch_path=<schema>`);
// tables and schema_migrations live in the first schema of the search path. Passwords belong in
// PGPASSWORD or ~/.pgpass; one in the URL works but is redacted ("***") from every message this
// layer composes (redact_pg_url).
//
// Parameters are sent in PostgreSQL's text format ($1, $2, ... in the SQL): integers, double
// (shortest exact form; NaN and +-Infinity), bool, strings, std::nullopt / empty std::optional
// for NULL, and std::vector<std::string> as a text[] literal (cast in SQL: `$1::text[]`). A
// string containing a NUL byte is refused with Error::InvalidInput (libpq would silently cut it
// there, and PostgreSQL text cannot hold one). bytea: pass hex text and decode($1, 'hex') in SQL.
//
// Errors (PgError, a trib::Error that also carries the SQLSTATE), by SQLSTATE class:
//   connection lost or refused, admin/crash shutdown, too many connections, out of resources,
//   lock timeout, query cancelled, and serialization failure / deadlock once the transaction's
//   retries are spent                                           -> Retryable
//   unique violation (23505)                                    -> Conflict
//   data exception (22xxx: a value the column cannot hold)      -> InvalidInput
//   data or index corruption (XX001, XX002)                     -> DataLoss
//   authentication failed, no such role or database, no privilege, read-only server
//                                                               -> Permanent
//   a connection URL that does not parse                        -> InvalidInput
//   anything else (syntax error, undefined table, other constraint) -> Internal (a bug)
// Messages read "postgres <redacted url>: <server message> (SQLSTATE xxxxx) in: <sql>". This
// layer never puts parameter values or a password in them (the server's own DETAIL may quote a
// key, as in "Key (id)=(42) already exists"); a password given in the URL is also scrubbed from
// the server's text.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "trib/core/error.hpp"
#include "trib/db/sqlite.hpp"  // Migration, with_context

namespace pqxx {
class dbtransaction;
}  // namespace pqxx

namespace trib::db {

// A trib::Error from PostgreSQL, with the server's SQLSTATE ("" when the failure happened on
// our side of the connection, e.g. a bad URL). Catch it as trib::Error unless the SQLSTATE
// matters.
class PgError : public Error {
 public:
  PgError(ErrorCategory category, std::string message, std::string sqlstate)
      : Error(category, std::move(message)), sqlstate_(std::move(sqlstate)) {}
  const std::string& sqlstate() const { return sqlstate_; }

 private:
  std::string sqlstate_;
};

// The same error with `context` in front of its message; category and SQLSTATE kept.
PgError with_context(const PgError& error, std::string_view context);

// SQLSTATEs callers commonly test for (PgError::sqlstate()).
inline constexpr std::string_view kPgUniqueViolation = "23505";
inline constexpr std::string_view kPgSerializationFailure = "40001";
inline constexpr std::string_view kPgDeadlockDetected = "40P01";
inline constexpr std::string_view kPgConnectionFailure = "08006";

// The category this layer gives a SQLSTATE (see the table above).
ErrorCategory pg_error_category(std::string_view sqlstate);

// `url` with the password (URI user info, a `password` query parameter or a password=...
// keyword) replaced by "***". Everything else is kept, so the message still says which server.
std::string redact_pg_url(std::string_view url);

// ---- parameters ---------------------------------------------------------------------------------

// One statement parameter in PostgreSQL's text format; nullopt is SQL NULL.
using PgParam = std::optional<std::string>;

std::string pg_format_double(double value);
// A text[] literal: {"a","b\"c"} (every element quoted, so "NULL" is the string NULL).
std::string pg_text_array(const std::vector<std::string>& values);

namespace detail {
template <typename T>
struct is_optional : std::false_type {};
template <typename T>
struct is_optional<std::optional<T>> : std::true_type {};
template <typename T>
inline constexpr bool kAlwaysFalse = false;
struct PgResultData;  // the libpqxx result, kept out of this header
}  // namespace detail

template <typename T>
PgParam to_pg_param(const T& value) {
  if constexpr (std::is_same_v<T, std::nullopt_t>) {
    return std::nullopt;
  } else if constexpr (std::is_same_v<T, bool>) {
    return std::string(value ? "true" : "false");
  } else if constexpr (std::is_integral_v<T>) {
    return std::to_string(value);
  } else if constexpr (std::is_floating_point_v<T>) {
    return pg_format_double(static_cast<double>(value));
  } else if constexpr (std::is_convertible_v<const T&, std::string_view>) {
    return std::string(std::string_view(value));
  } else if constexpr (detail::is_optional<T>::value) {
    return value ? to_pg_param(*value) : PgParam();
  } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
    return pg_text_array(value);
  } else {
    static_assert(detail::kAlwaysFalse<T>, "no PostgreSQL text form for this parameter type");
  }
}

// ---- results ------------------------------------------------------------------------------------

// One row of a PgResult (it keeps the result alive). Columns are 0-based. The typed getters
// throw Error::Internal for NULL or a value of another type (a bug in the SQL, not bad input);
// the optional_* getters answer nullopt for NULL.
class PgRow {
 public:
  int columns() const;
  bool is_null(int column) const;
  std::string text(int column) const;  // "" for NULL
  int64_t int64(int column) const;
  int integer(int column) const;
  double real(int column) const;
  bool boolean(int column) const;
  std::optional<std::string> optional_text(int column) const;
  std::optional<int64_t> optional_int64(int column) const;
  std::optional<double> optional_real(int column) const;

 private:
  friend class PgResult;
  PgRow(std::shared_ptr<const detail::PgResultData> data, size_t row)
      : data_(std::move(data)), row_(row) {}
  const char* cell(int column, size_t* size) const;  // nullptr for NULL
  std::shared_ptr<const detail::PgResultData> data_;
  size_t row_;
};

// The rows a statement returned (held in memory), and how many it changed.
class PgResult {
 public:
  PgResult();
  size_t size() const;
  bool empty() const { return size() == 0; }
  PgRow operator[](size_t row) const;
  // Rows changed by INSERT / UPDATE / DELETE (0 for other statements).
  int64_t affected_rows() const;

  class iterator {
   public:
    PgRow operator*() const { return (*result_)[row_]; }
    iterator& operator++() {
      ++row_;
      return *this;
    }
    bool operator==(const iterator& other) const { return row_ == other.row_; }

   private:
    friend class PgResult;
    iterator(const PgResult* result, size_t row) : result_(result), row_(row) {}
    const PgResult* result_;
    size_t row_;
  };
  iterator begin() const { return iterator(this, 0); }
  iterator end() const { return iterator(this, size()); }

 private:
  friend struct detail::PgResultData;
  explicit PgResult(std::shared_ptr<const detail::PgResultData> data) : data_(std::move(data)) {}
  std::shared_ptr<const detail::PgResultData> data_;
};

// ---- statements ---------------------------------------------------------------------------------

// What PgConnection (each statement its own transaction) and PgTx (inside a transaction) share.
class PgExecutor {
 public:
  virtual ~PgExecutor() = default;

  // Runs one statement with parameters $1..$N bound to `args`.
  template <typename... Args>
  PgResult exec(std::string_view sql, const Args&... args) {
    return exec_params(sql, std::vector<PgParam>{to_pg_param(args)...});
  }
  virtual PgResult exec_params(std::string_view sql, std::vector<PgParam> params) = 0;
  // The first column of the first row as an integer; nullopt when there is no row or it is NULL.
  template <typename... Args>
  std::optional<int64_t> scalar(std::string_view sql, const Args&... args) {
    PgResult result = exec(sql, args...);
    if (result.empty()) return std::nullopt;
    return result[0].optional_int64(0);
  }
  // The first row, if any.
  template <typename... Args>
  std::optional<PgRow> row(std::string_view sql, const Args&... args) {
    PgResult result = exec(sql, args...);
    if (result.empty()) return std::nullopt;
    return result[0];
  }
  // Runs one or more statements separated by ';' (no parameters): DDL, migrations.
  virtual void exec_script(std::string_view sql) = 0;
};

class PgConnection;

// The statements of one transaction, handed to PgConnection::transaction's body. Valid only
// inside the body.
class PgTx final : public PgExecutor {
 public:
  PgResult exec_params(std::string_view sql, std::vector<PgParam> params) override;
  void exec_script(std::string_view sql) override;
  // Runs `body` (given this same PgTx) in a savepoint: when it throws, its statements are
  // undone, the exception goes on, and the transaction stays usable if the caller catches it.
  // Savepoints nest.
  void savepoint(const std::function<void(PgTx&)>& body);

 private:
  friend class PgConnection;
  PgTx(PgConnection& connection, pqxx::dbtransaction& txn) : connection_(connection), txn_(txn) {}
  PgConnection& connection_;
  pqxx::dbtransaction& txn_;
  int savepoint_depth_ = 0;
};

enum class PgIsolation { kReadCommitted, kRepeatableRead, kSerializable };

struct PgTxOptions {
  PgIsolation isolation = PgIsolation::kReadCommitted;
  bool read_only = false;
  // How many times the body runs when PostgreSQL aborts the transaction with a serialization
  // failure or a deadlock (SQLSTATE 40001 / 40P01). Between runs: a short randomized backoff
  // (about 2, 4, 8 ... ms, capped at 100 ms). The last failure is thrown as Retryable.
  int max_attempts = 5;
};

class PgConnection final : public PgExecutor {
 public:
  // Connects now, so a bad URL or an unreachable server fails here: Error::InvalidInput for a
  // URL that does not parse, Permanent for refused credentials / unknown role or database,
  // Retryable when the server cannot be reached.
  explicit PgConnection(std::string url);
  ~PgConnection() override;
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  // Autocommit: each statement is its own transaction.
  PgResult exec_params(std::string_view sql, std::vector<PgParam> params) override;
  void exec_script(std::string_view sql) override;

  // Runs `body` in BEGIN ... COMMIT and returns what it returns. Rolls back and rethrows when it
  // throws. When PostgreSQL aborts it with a serialization failure or deadlock (a PgError from
  // a statement in the body, or from COMMIT), the body runs again from the start, up to
  // options.max_attempts runs: keep side effects outside the database out of the body, and do
  // not rewrap a PgError inside it if you want the retry. A connection lost mid-transaction is
  // Retryable and not retried here (the next call reconnects). Not reentrant: inside the body
  // use the PgTx (and PgTx::savepoint), never this connection.
  template <typename F>
  auto transaction(F&& body, PgTxOptions options = {}) -> std::invoke_result_t<F&, PgTx&> {
    using R = std::invoke_result_t<F&, PgTx&>;
    if constexpr (std::is_void_v<R>) {
      run_transaction([&](PgTx& tx) { body(tx); }, options);
    } else {
      std::optional<R> out;
      run_transaction([&](PgTx& tx) { out.emplace(body(tx)); }, options);
      return std::move(*out);
    }
  }

  // Applies the migrations of `component` ("catalog", "queue") that schema_migrations (in the
  // first schema of the search path) does not list yet, each in its own transaction under an
  // advisory lock for that schema, so processes racing to migrate apply each step exactly
  // once. Returns the resulting version. Error::Internal when the list is not numbered 1..N or
  // a step fails (the step is rolled back as a whole); Error::Permanent when the database is
  // newer than `migrations` (written by a later build).
  int migrate(std::string_view component, std::span<const Migration> migrations);
  // 0 when nothing of `component` has been applied.
  int schema_version(std::string_view component);

  // The URL as given, password redacted: what messages show.
  const std::string& display_url() const { return display_url_; }
  // The server process serving this session (pg_backend_pid()).
  int backend_pid();
  // True while the session is up. After a lost connection the next call reconnects.
  bool connected() const;

  // Throws the categorised PgError for the exception being handled (call from a catch block);
  // `sql` is the statement it came from.
  [[noreturn]] void fail(std::string_view sql);

 private:
  friend class PgTx;
  struct Session;  // the libpqxx connection and its notice handler
  Session& session();  // connects first when there is no live session
  void connect();
  void run_transaction(const std::function<void(PgTx&)>& body, const PgTxOptions& options);
  [[noreturn]] void throw_error(ErrorCategory category, std::string_view detail,
                                std::string_view sqlstate, std::string_view sql) const;
  std::string scrub(std::string text) const;

  std::string url_;
  std::string display_url_;
  std::vector<std::string> secrets_;  // passwords found in the URL, scrubbed from all messages
  std::unique_ptr<Session> session_;
  bool broken_ = false;  // the session was lost: the next call reconnects
};

}  // namespace trib::db

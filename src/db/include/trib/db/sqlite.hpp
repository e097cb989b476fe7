// db: database plumbing shared by the catalog and the queue, so neither depends on the other.
// A thin RAII layer over the SQLite C API, shared by the SQLite catalog and the embedded queue
// (which keeps its tables in the same file but opens its own connection).
//
// One SqliteDb per thread; any number of processes may share the file. Connection setup: WAL,
// synchronous=NORMAL, foreign keys on, busy timeout 30 s. Statements are prepared once per
// connection and cached by their SQL text.
//
// Errors (trib::Error), each naming the database file and the statement:
//   SQLITE_BUSY / SQLITE_LOCKED still failing after the busy timeout, I/O, full disk -> Retryable;
//   SQLITE_CORRUPT / SQLITE_NOTADB -> DataLoss; a read-only or unopenable file -> Permanent;
//   anything else (a constraint we did not expect, a SQL typo) -> Internal.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

#include "trib/core/error.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace trib::db {

inline constexpr int kSqliteBusyTimeoutMs = 30'000;

// One step of a component's schema. Persistent: never edit, renumber or remove a migration that
// has shipped; add a new one.
struct Migration {
  int version;       // 1, 2, ... in order
  const char* name;  // short description, recorded in schema_migrations
  const char* sql;   // one or more statements, applied in a single transaction
};

class SqliteDb;

// A prepared statement borrowed from the connection's cache. Resets itself when it goes out of
// scope, so a half-read SELECT never keeps a read snapshot open.
class SqliteStmt {
 public:
  SqliteStmt(SqliteStmt&& other) noexcept;
  SqliteStmt& operator=(SqliteStmt&&) = delete;
  SqliteStmt(const SqliteStmt&) = delete;
  SqliteStmt& operator=(const SqliteStmt&) = delete;
  ~SqliteStmt();

  // Binds by 1-based index; returns *this for chaining.
  SqliteStmt& bind(int index, int64_t value);
  SqliteStmt& bind(int index, int value) { return bind(index, static_cast<int64_t>(value)); }
  SqliteStmt& bind(int index, double value);
  SqliteStmt& bind(int index, std::string_view value);
  SqliteStmt& bind(int index, const char* value) { return bind(index, std::string_view(value)); }
  SqliteStmt& bind(int index, const std::string& value) {
    return bind(index, std::string_view(value));
  }
  SqliteStmt& bind(int index, std::nullopt_t) { return bind_null(index); }
  // Binds bytes as a BLOB (the string overloads bind TEXT).
  SqliteStmt& bind_blob(int index, std::string_view bytes);
  SqliteStmt& bind_null(int index);
  template <typename T>
  SqliteStmt& bind(int index, const std::optional<T>& value) {
    return value ? bind(index, *value) : bind_null(index);
  }
  // Binds the arguments to parameters 1..N.
  template <typename... Args>
  SqliteStmt& bind_all(const Args&... args) {
    int index = 0;
    (bind(++index, args), ...);
    return *this;
  }

  // Steps once: true when a row is available.
  bool step();
  // Runs to completion and returns the number of rows changed.
  int64_t run();

  int64_t int64(int column) const;
  int integer(int column) const { return static_cast<int>(int64(column)); }
  double real(int column) const;
  std::string text(int column) const;
  std::string blob(int column) const;
  bool is_null(int column) const;
  std::optional<double> optional_real(int column) const;

 private:
  friend class SqliteDb;
  SqliteStmt(SqliteDb* db, sqlite3_stmt* stmt, bool* in_use);

  SqliteDb* db_;
  sqlite3_stmt* stmt_;
  bool* in_use_;  // the cache slot's flag; nullptr for an uncached (owned) statement
};

class SqliteDb {
 public:
  // Opens (creating the file and its folder) and configures the connection.
  explicit SqliteDb(const std::filesystem::path& path);
  ~SqliteDb();
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;

  // Runs one or more statements without results.
  void exec(std::string_view sql);
  // A reset statement ready for binding (cached; a fresh one when the cached one is in use).
  SqliteStmt prepare(std::string_view sql);
  template <typename... Args>
  SqliteStmt query(std::string_view sql, const Args&... args) {
    SqliteStmt stmt = prepare(sql);
    stmt.bind_all(args...);
    return stmt;
  }
  // Runs a statement without rows; returns the number of rows changed.
  template <typename... Args>
  int64_t execute(std::string_view sql, const Args&... args) {
    return query(sql, args...).run();
  }
  // The first column of the first row, if any.
  template <typename... Args>
  std::optional<int64_t> scalar(std::string_view sql, const Args&... args) {
    SqliteStmt stmt = query(sql, args...);
    if (!stmt.step() || stmt.is_null(0)) return std::nullopt;
    return stmt.int64(0);
  }

  // Runs `body` inside BEGIN IMMEDIATE ... COMMIT: the database's write lock, which serialises
  // writers across threads and processes. Rolls back and rethrows when `body` throws. Nested
  // calls become savepoints of the outer transaction.
  void transaction(const std::function<void()>& body);
  bool in_transaction() const;

  // Applies the migrations of `component` ("catalog", "queue") that schema_migrations does not
  // list yet, each in its own write transaction; idempotent and safe when processes race.
  // Returns the resulting version. Throws Error::Permanent when the file is newer than
  // `migrations` (written by a later build).
  int migrate(std::string_view component, std::span<const Migration> migrations);
  // 0 when nothing of `component` has been applied.
  int schema_version(std::string_view component);

  const std::filesystem::path& path() const { return path_; }
  sqlite3* handle() { return db_; }

  // Throws the categorised trib::Error for a SQLite result code.
  [[noreturn]] void fail(int rc, std::string_view what) const;

 private:
  sqlite3* db_ = nullptr;
  std::filesystem::path path_;
  struct CachedStmt {
    sqlite3_stmt* stmt = nullptr;
    bool in_use = false;
  };
  std::map<std::string, CachedStmt, std::less<>> cache_;
  int savepoint_depth_ = 0;
};

// The same error with `context` (the table, queue or key involved) in front of its message.
Error with_context(const Error& error, std::string_view context);

}  // namespace trib::db

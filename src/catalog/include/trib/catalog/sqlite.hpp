// A thin RAII layer over the SQLite C API, shared by the SQLite catalog and the embedded queue.
// One SqliteDb per thread. Statements are prepared once and cached by their SQL text.
// Errors: SQLITE_BUSY / SQLITE_LOCKED after the busy timeout and I/O errors throw
// Error::Retryable; constraint violations Error::Conflict; everything else Error::Internal —
// each naming the database file and the statement.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace trib::catalog {

class SqliteDb;

class SqliteStmt {
 public:
  SqliteStmt(SqliteDb& db, sqlite3_stmt* stmt, std::string sql) : db_(db), stmt_(stmt), sql_(std::move(sql)) {}
  ~SqliteStmt();
  SqliteStmt(const SqliteStmt&) = delete;
  SqliteStmt& operator=(const SqliteStmt&) = delete;

  // Binds by 1-based index; returns *this for chaining.
  SqliteStmt& bind(int index, int64_t value);
  SqliteStmt& bind(int index, int value) { return bind(index, static_cast<int64_t>(value)); }
  SqliteStmt& bind(int index, double value);
  SqliteStmt& bind(int index, std::string_view value);
  SqliteStmt& bind(int index, const char* value) { return bind(index, std::string_view(value)); }
  SqliteStmt& bind(int index, const std::string& value) { return bind(index, std::string_view(value)); }
  SqliteStmt& bind_null(int index);
  template <typename T>
  SqliteStmt& bind(int index, const std::optional<T>& value) {
    return value ? bind(index, *value) : bind_null(index);
  }

  // Steps once: true when a row is available.
  bool step();
  // Runs to completion (for statements without rows).
  void run();
  // Resets and clears bindings (done automatically by SqliteDb::prepare).
  void reset();

  int64_t int64(int column) const;
  double real(int column) const;
  std::string text(int column) const;
  bool is_null(int column) const;

 private:
  SqliteDb& db_;
  sqlite3_stmt* stmt_;
  std::string sql_;
};

class SqliteDb {
 public:
  // Opens (creating) the file; WAL, synchronous=NORMAL, foreign keys, busy timeout 30 s.
  explicit SqliteDb(const std::filesystem::path& path);
  ~SqliteDb();
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;

  void exec(const std::string& sql);
  // A cached, reset statement ready for binding.
  SqliteStmt& prepare(const std::string& sql);
  // Runs `body` in BEGIN IMMEDIATE ... COMMIT (the database write lock, across processes);
  // rolls back and rethrows if `body` throws. Not reentrant.
  void transaction(const std::function<void()>& body);
  int64_t changes() const;
  const std::filesystem::path& path() const { return path_; }

  // Throws the categorised error for a SQLite result code.
  [[noreturn]] void fail(int rc, std::string_view what) const;

 private:
  sqlite3* db_ = nullptr;
  std::filesystem::path path_;
  std::map<std::string, std::unique_ptr<SqliteStmt>, std::less<>> cache_;
};

}  // namespace trib::catalog

#include "trib/catalog/sqlite.hpp"

#include <sqlite3.h>

#include <fmt/format.h>

#include "trib/core/error.hpp"

namespace trib::catalog {

SqliteStmt::~SqliteStmt() { sqlite3_finalize(stmt_); }

SqliteStmt& SqliteStmt::bind(int index, int64_t value) {
  int rc = sqlite3_bind_int64(stmt_, index, value);
  if (rc != SQLITE_OK) db_.fail(rc, sql_);
  return *this;
}

SqliteStmt& SqliteStmt::bind(int index, double value) {
  int rc = sqlite3_bind_double(stmt_, index, value);
  if (rc != SQLITE_OK) db_.fail(rc, sql_);
  return *this;
}

SqliteStmt& SqliteStmt::bind(int index, std::string_view value) {
  int rc = sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  if (rc != SQLITE_OK) db_.fail(rc, sql_);
  return *this;
}

SqliteStmt& SqliteStmt::bind_null(int index) {
  int rc = sqlite3_bind_null(stmt_, index);
  if (rc != SQLITE_OK) db_.fail(rc, sql_);
  return *this;
}

bool SqliteStmt::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  sqlite3_reset(stmt_);
  db_.fail(rc, sql_);
}

void SqliteStmt::run() {
  while (step()) {
  }
  sqlite3_reset(stmt_);
}

void SqliteStmt::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

int64_t SqliteStmt::int64(int column) const { return sqlite3_column_int64(stmt_, column); }
double SqliteStmt::real(int column) const { return sqlite3_column_double(stmt_, column); }
bool SqliteStmt::is_null(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }
std::string SqliteStmt::text(int column) const {
  const auto* p = sqlite3_column_text(stmt_, column);
  if (p == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(sqlite3_column_bytes(stmt_, column)));
}

SqliteDb::SqliteDb(const std::filesystem::path& path) : path_(path) {
  std::error_code ec;
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path(), ec);
  int rc = sqlite3_open_v2(path.c_str(), &db_,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw Error::Retryable(fmt::format("catalog {}: cannot open: {}", path.string(), msg));
  }
  sqlite3_busy_timeout(db_, 30'000);
  sqlite3_extended_result_codes(db_, 1);
  exec("PRAGMA journal_mode = WAL");
  exec("PRAGMA synchronous = NORMAL");
  exec("PRAGMA foreign_keys = ON");
}

SqliteDb::~SqliteDb() {
  cache_.clear();
  sqlite3_close(db_);
}

void SqliteDb::fail(int rc, std::string_view what) const {
  const int primary = rc & 0xff;
  std::string msg = fmt::format("catalog {}: {} ({}) in: {}", path_.string(),
                                db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc), sqlite3_errstr(rc),
                                what.substr(0, 200));
  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED || primary == SQLITE_IOERR ||
      primary == SQLITE_FULL || primary == SQLITE_CANTOPEN || primary == SQLITE_PROTOCOL) {
    throw Error::Retryable(std::move(msg));
  }
  if (primary == SQLITE_CONSTRAINT) throw Error::Conflict(std::move(msg));
  if (primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB) throw Error::DataLoss(std::move(msg));
  throw Error::Internal(std::move(msg));
}

void SqliteDb::exec(const std::string& sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
  if (err != nullptr) sqlite3_free(err);
  if (rc != SQLITE_OK) fail(rc, sql);
}

SqliteStmt& SqliteDb::prepare(const std::string& sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()),
                                SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) fail(rc, sql);
    it = cache_.emplace(sql, std::make_unique<SqliteStmt>(*this, stmt, sql)).first;
  }
  it->second->reset();
  return *it->second;
}

void SqliteDb::transaction(const std::function<void()>& body) {
  exec("BEGIN IMMEDIATE");
  try {
    body();
    exec("COMMIT");
  } catch (...) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

int64_t SqliteDb::changes() const { return sqlite3_changes64(db_); }

}  // namespace trib::catalog

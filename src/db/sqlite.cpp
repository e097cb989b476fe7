#include "trib/db/sqlite.hpp"

#include <chrono>
#include <thread>

#include <sqlite3.h>

#include <fmt/format.h>

#include "trib/core/error.hpp"
#include "trib/core/time.hpp"

namespace trib::db {
namespace {

std::string_view shorten(std::string_view sql) {
  constexpr size_t kMax = 160;
  return sql.size() <= kMax ? sql : sql.substr(0, kMax);
}

}  // namespace

Error with_context(const Error& error, std::string_view context) {
  return Error(error.category(), fmt::format("{}: {}", context, error.what()));
}

// ---- SqliteStmt --------------------------------------------------------------------------------

SqliteStmt::SqliteStmt(SqliteDb* db, sqlite3_stmt* stmt, bool* in_use)
    : db_(db), stmt_(stmt), in_use_(in_use) {}

SqliteStmt::SqliteStmt(SqliteStmt&& other) noexcept
    : db_(other.db_), stmt_(other.stmt_), in_use_(other.in_use_) {
  other.stmt_ = nullptr;
  other.in_use_ = nullptr;
}

SqliteStmt::~SqliteStmt() {
  if (stmt_ == nullptr) return;
  if (in_use_ != nullptr) {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
    *in_use_ = false;
  } else {
    sqlite3_finalize(stmt_);
  }
}

SqliteStmt& SqliteStmt::bind(int index, int64_t value) {
  const int rc = sqlite3_bind_int64(stmt_, index, value);
  if (rc != SQLITE_OK) db_->fail(rc, sqlite3_sql(stmt_));
  return *this;
}

SqliteStmt& SqliteStmt::bind(int index, double value) {
  const int rc = sqlite3_bind_double(stmt_, index, value);
  if (rc != SQLITE_OK) db_->fail(rc, sqlite3_sql(stmt_));
  return *this;
}

SqliteStmt& SqliteStmt::bind(int index, std::string_view value) {
  // A non-null pointer even for "" so the value binds as '' rather than NULL.
  const char* data = value.data() != nullptr ? value.data() : "";
  const int rc = sqlite3_bind_text64(stmt_, index, data, value.size(), SQLITE_TRANSIENT,
                                     SQLITE_UTF8);
  if (rc != SQLITE_OK) db_->fail(rc, sqlite3_sql(stmt_));
  return *this;
}

SqliteStmt& SqliteStmt::bind_null(int index) {
  const int rc = sqlite3_bind_null(stmt_, index);
  if (rc != SQLITE_OK) db_->fail(rc, sqlite3_sql(stmt_));
  return *this;
}

bool SqliteStmt::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  db_->fail(rc, sqlite3_sql(stmt_));
}

int64_t SqliteStmt::run() {
  while (step()) {
  }
  return sqlite3_changes64(db_->handle());
}

int64_t SqliteStmt::int64(int column) const { return sqlite3_column_int64(stmt_, column); }
double SqliteStmt::real(int column) const { return sqlite3_column_double(stmt_, column); }
bool SqliteStmt::is_null(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}
std::optional<double> SqliteStmt::optional_real(int column) const {
  if (is_null(column)) return std::nullopt;
  return real(column);
}
SqliteStmt& SqliteStmt::bind_blob(int index, std::string_view bytes) {
  const char* data = bytes.data() != nullptr ? bytes.data() : "";
  const int rc = sqlite3_bind_blob64(stmt_, index, data, bytes.size(), SQLITE_TRANSIENT);
  if (rc != SQLITE_OK) db_->fail(rc, sqlite3_sql(stmt_));
  return *this;
}

std::string SqliteStmt::blob(int column) const {
  const void* p = sqlite3_column_blob(stmt_, column);
  if (p == nullptr) return {};
  return std::string(static_cast<const char*>(p),
                     static_cast<size_t>(sqlite3_column_bytes(stmt_, column)));
}

std::string SqliteStmt::text(int column) const {
  const auto* p = sqlite3_column_text(stmt_, column);
  if (p == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(p),
                     static_cast<size_t>(sqlite3_column_bytes(stmt_, column)));
}

// ---- SqliteDb ----------------------------------------------------------------------------------

SqliteDb::SqliteDb(const std::filesystem::path& path) : path_(path) {
  std::error_code ec;
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path(), ec);
  // NOMUTEX: one connection per thread, so SQLite's per-connection mutex buys nothing.
  const int rc = sqlite3_open_v2(path.c_str(), &db_,
                                 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                                 nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close(db_);
    db_ = nullptr;
    throw Error::Permanent(fmt::format("sqlite {}: cannot open: {}", path.string(), msg));
  }
  try {
    sqlite3_extended_result_codes(db_, 1);
    // Before anything else: switching to WAL needs a lock that a racing opener may hold, and
    // SQLite answers SQLITE_BUSY at once, without its busy handler (waiting could deadlock), to
    // a connection that must upgrade its lock for the switch while another holds one. Processes
    // racing to create the file would all but one fail here: retry with a short backoff until
    // the switch sticks or the busy timeout passes.
    sqlite3_busy_timeout(db_, kSqliteBusyTimeoutMs);
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(kSqliteBusyTimeoutMs);
    for (int attempt = 0;; ++attempt) {
      const int wal = sqlite3_exec(db_, "PRAGMA journal_mode = WAL", nullptr, nullptr, nullptr);
      const int primary = wal & 0xff;
      if (wal == SQLITE_OK) break;
      if ((primary != SQLITE_BUSY && primary != SQLITE_LOCKED) ||
          std::chrono::steady_clock::now() > deadline) {
        fail(wal, "PRAGMA journal_mode = WAL");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(std::min(1 << std::min(attempt, 6), 50)));
    }
    exec("PRAGMA synchronous = NORMAL");
    exec("PRAGMA foreign_keys = ON");
  } catch (...) {
    sqlite3_close(db_);
    db_ = nullptr;
    throw;
  }
}

SqliteDb::~SqliteDb() {
  for (auto& [sql, cached] : cache_) sqlite3_finalize(cached.stmt);
  sqlite3_close(db_);
}

void SqliteDb::fail(int rc, std::string_view what) const {
  const int primary = rc & 0xff;
  const char* detail = db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
  std::string msg = fmt::format("sqlite {}: {} (code {}) in: {}", path_.string(), detail, rc,
                                shorten(what));
  switch (primary) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      // Either the lock stayed taken past the busy timeout, or a read snapshot went stale
      // under a writer (SQLite then refuses at once); both clear up on a retry.
      throw Error::Retryable(fmt::format("{} [database busy; busy timeout {} ms]", msg,
                                         kSqliteBusyTimeoutMs));
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_PROTOCOL:
    case SQLITE_NOMEM:
      throw Error::Retryable(std::move(msg));
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      throw Error::DataLoss(std::move(msg));
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
      throw Error::Permanent(std::move(msg));
    default:
      throw Error::Internal(std::move(msg));
  }
}

void SqliteDb::exec(std::string_view sql) {
  const std::string text(sql);
  char* err = nullptr;
  const int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &err);
  if (err != nullptr) sqlite3_free(err);
  if (rc != SQLITE_OK) fail(rc, sql);
}

SqliteStmt SqliteDb::prepare(std::string_view sql) {
  auto it = cache_.find(sql);
  if (it != cache_.end() && !it->second.in_use) {
    it->second.in_use = true;
    return SqliteStmt(this, it->second.stmt, &it->second.in_use);
  }
  sqlite3_stmt* stmt = nullptr;
  const bool cache = it == cache_.end();
  const int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                    cache ? SQLITE_PREPARE_PERSISTENT : 0, &stmt, nullptr);
  if (rc != SQLITE_OK) fail(rc, sql);
  if (stmt == nullptr) fail(SQLITE_MISUSE, sql);  // empty statement: a bug in the caller
  if (!cache) return SqliteStmt(this, stmt, nullptr);  // re-entrant use of the same SQL
  auto& slot = cache_.emplace(std::string(sql), CachedStmt{stmt, true}).first->second;
  return SqliteStmt(this, stmt, &slot.in_use);
}

bool SqliteDb::in_transaction() const { return sqlite3_get_autocommit(db_) == 0; }

void SqliteDb::transaction(const std::function<void()>& body) {
  if (in_transaction()) {
    const std::string name = fmt::format("sp{}", ++savepoint_depth_);
    exec("SAVEPOINT " + name);
    try {
      body();
      exec("RELEASE " + name);
    } catch (...) {
      const std::string undo = "ROLLBACK TO " + name + "; RELEASE " + name;
      sqlite3_exec(db_, undo.c_str(), nullptr, nullptr, nullptr);
      --savepoint_depth_;
      throw;
    }
    --savepoint_depth_;
    return;
  }
  exec("BEGIN IMMEDIATE");
  try {
    body();
    exec("COMMIT");
  } catch (...) {
    // A failed COMMIT may already have ended the transaction; ROLLBACK then is a harmless no-op.
    if (in_transaction()) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

int SqliteDb::schema_version(std::string_view component) {
  if (!scalar("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'")) {
    return 0;
  }
  return static_cast<int>(
      scalar("SELECT coalesce(max(version), 0) FROM schema_migrations WHERE component = ?",
             component)
          .value_or(0));
}

int SqliteDb::migrate(std::string_view component, std::span<const Migration> migrations) {
  for (size_t i = 0; i < migrations.size(); ++i) {
    if (migrations[i].version != static_cast<int>(i) + 1) {
      throw Error::Internal(fmt::format("{} migration #{} is numbered {}; expected {}", component,
                                        i + 1, migrations[i].version, i + 1));
    }
  }
  const int latest = static_cast<int>(migrations.size());
  int current = schema_version(component);  // read-only fast path: already up to date
  if (current > latest) {
    throw Error::Permanent(fmt::format(
        "sqlite {}: {} schema version {} is newer than this build knows ({}); upgrade trib",
        path_.string(), component, current, latest));
  }
  if (current == latest) return current;

  transaction([&] {
    exec(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " component TEXT NOT NULL, version INTEGER NOT NULL, name TEXT NOT NULL,"
        " applied_at_ns INTEGER NOT NULL, PRIMARY KEY (component, version))");
  });
  for (const Migration& m : migrations) {
    if (m.version <= current) continue;
    transaction([&] {
      // Another process may have applied it since we looked: the write lock makes this exact.
      if (scalar("SELECT 1 FROM schema_migrations WHERE component = ? AND version = ?", component,
                 m.version)) {
        return;
      }
      try {
        exec(m.sql);
      } catch (const Error& e) {
        throw with_context(e, fmt::format("{} migration {} ({})", component, m.version, m.name));
      }
      execute("INSERT INTO schema_migrations (component, version, name, applied_at_ns) "
              "VALUES (?, ?, ?, ?)",
              component, m.version, m.name, now_ts_ns());
    });
  }
  current = schema_version(component);
  return current;
}

}  // namespace trib::db

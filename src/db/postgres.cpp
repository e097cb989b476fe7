#include "trib/db/postgres.hpp"

#include <libpq-fe.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <random>
#include <thread>

#include <fmt/format.h>
#include <pqxx/pqxx>

#include "trib/core/log.hpp"

namespace trib::db {

struct detail::PgResultData {
  static PgResult wrap(pqxx::result result);
  pqxx::result result;
};

namespace {

std::string_view shorten(std::string_view sql) {
  constexpr size_t kMax = 160;
  return sql.size() <= kMax ? sql : sql.substr(0, kMax);
}

// libpq and server messages span lines ("ERROR:  ...\nDETAIL:  ..."): one line, single spaces.
std::string one_line(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool space = false;
  for (char c : text) {
    if (c == '\n' || c == '\r' || c == '\t' || c == ' ') {
      space = !out.empty();
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

bool is_rollback(std::string_view sqlstate) {
  return sqlstate == kPgSerializationFailure || sqlstate == kPgDeadlockDetected;
}

bool contains_any(std::string_view text, std::initializer_list<std::string_view> needles) {
  return std::any_of(needles.begin(), needles.end(),
                     [&](std::string_view n) { return text.find(n) != std::string_view::npos; });
}

// A failed connection attempt has no SQLSTATE in libpq's API: its message decides.
ErrorCategory connect_failure_category(std::string_view message) {
  if (contains_any(message, {"invalid integer value", "invalid port number",
                             "invalid connection option", "invalid value for parameter",
                             "invalid sslmode value", "invalid target_session_attrs value",
                             "invalid URI", "missing \"=\""})) {
    return ErrorCategory::kInvalidInput;
  }
  if (contains_any(message, {"authentication failed", "no password supplied",
                             "no pg_hba.conf entry", "pg_hba.conf rejects", "does not exist",
                             "permission denied", "SSL was required",
                             "server does not support SSL"})) {
    return ErrorCategory::kPermanent;
  }
  // Refused, timed out, unknown host, server starting up or full: may work later.
  return ErrorCategory::kRetryable;
}

// Finds the password in a URI's user info or `password` query parameter, or in a keyword/value
// string's password=...; replaces it with *** in `out` and reports the raw value in `found`.
std::string redact_impl(std::string_view url, std::vector<std::string>* found) {
  std::string out(url);
  const auto note = [&](std::string_view secret) {
    if (found != nullptr && !secret.empty()) found->emplace_back(secret);
  };
  const bool uri = url.starts_with("postgresql://") || url.starts_with("postgres://");
  if (uri) {
    const size_t start = out.find("://") + 3;
    size_t end = out.find_first_of("/?", start);
    if (end == std::string::npos) end = out.size();
    const std::string_view authority = std::string_view(out).substr(start, end - start);
    const size_t at = authority.rfind('@');
    if (at != std::string_view::npos) {
      const size_t colon = authority.find(':');
      if (colon != std::string_view::npos && colon < at) {
        note(authority.substr(colon + 1, at - colon - 1));
        out.replace(start + colon + 1, at - colon - 1, "***");
      }
    }
    const size_t query = out.find('?', start);
    if (query != std::string::npos) {
      size_t pos = query + 1;
      while (pos < out.size()) {
        size_t amp = out.find('&', pos);
        if (amp == std::string::npos) amp = out.size();
        const std::string_view param = std::string_view(out).substr(pos, amp - pos);
        if (param.starts_with("password=")) {
          note(param.substr(9));
          out.replace(pos + 9, amp - pos - 9, "***");
          amp = pos + 9 + 3;
        }
        pos = amp + 1;
      }
    }
    return out;
  }
  // keyword = value pairs; a value may be single-quoted with backslash escapes.
  size_t pos = 0;
  while ((pos = out.find("password", pos)) != std::string::npos) {
    const bool word_start = pos == 0 || std::isspace(static_cast<unsigned char>(out[pos - 1]));
    size_t cursor = pos + 8;
    while (cursor < out.size() && out[cursor] == ' ') ++cursor;
    if (!word_start || cursor >= out.size() || out[cursor] != '=') {
      pos += 8;
      continue;
    }
    ++cursor;
    while (cursor < out.size() && out[cursor] == ' ') ++cursor;
    size_t value_end = cursor;
    if (cursor < out.size() && out[cursor] == '\'') {
      value_end = cursor + 1;
      while (value_end < out.size() && out[value_end] != '\'') {
        value_end += out[value_end] == '\\' ? 2 : 1;
      }
      value_end = std::min(value_end + 1, out.size());
    } else {
      while (value_end < out.size() && !std::isspace(static_cast<unsigned char>(out[value_end]))) {
        ++value_end;
      }
    }
    note(std::string_view(out).substr(cursor, value_end - cursor));
    out.replace(cursor, value_end - cursor, "***");
    pos = cursor + 3;
  }
  return out;
}

// Parameters as libpq wants them: NUL-terminated strings, nullptr for NULL.
std::vector<const char*> param_pointers(const std::vector<PgParam>& params) {
  std::vector<const char*> out;
  out.reserve(params.size());
  for (const PgParam& p : params) out.push_back(p ? p->c_str() : nullptr);
  return out;
}

}  // namespace

// ---- free functions ----------------------------------------------------------------------------

ErrorCategory pg_error_category(std::string_view sqlstate) {
  if (sqlstate.size() != 5) return ErrorCategory::kInternal;
  const std::string_view klass = sqlstate.substr(0, 2);
  if (sqlstate == kPgUniqueViolation) return ErrorCategory::kConflict;
  if (sqlstate == "XX001" || sqlstate == "XX002") return ErrorCategory::kDataLoss;
  if (sqlstate == "55P03" || sqlstate == "55006") return ErrorCategory::kRetryable;
  if (sqlstate == "42501" || sqlstate == "25006" || sqlstate == "3D000") {
    return ErrorCategory::kPermanent;
  }
  // 08 connection, 40 transaction rollback, 53 insufficient resources, 57 operator
  // intervention (cancel, admin or crash shutdown), 58 system / I/O error.
  if (klass == "08" || klass == "40" || klass == "53" || klass == "57" || klass == "58") {
    return ErrorCategory::kRetryable;
  }
  if (klass == "28") return ErrorCategory::kPermanent;  // invalid authorization
  if (klass == "22") return ErrorCategory::kInvalidInput;
  return ErrorCategory::kInternal;
}

std::string redact_pg_url(std::string_view url) { return redact_impl(url, nullptr); }

PgError with_context(const PgError& error, std::string_view context) {
  return PgError(error.category(), fmt::format("{}: {}", context, error.what()), error.sqlstate());
}

std::string pg_format_double(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "Infinity" : "-Infinity";
  return fmt::format("{}", value);  // the shortest form that reads back exactly
}

std::string pg_text_array(const std::vector<std::string>& values) {
  std::string out = "{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out.push_back(',');
    out.push_back('"');
    for (char c : values[i]) {
      if (c == '"' || c == '\\') out.push_back('\\');
      out.push_back(c);
    }
    out.push_back('"');
  }
  out.push_back('}');
  return out;
}

// ---- results -----------------------------------------------------------------------------------

PgResult detail::PgResultData::wrap(pqxx::result result) {
  auto data = std::make_shared<PgResultData>();
  data->result = std::move(result);
  return PgResult(std::move(data));
}

PgResult::PgResult() = default;

size_t PgResult::size() const { return data_ ? data_->result.size() : 0; }

int64_t PgResult::affected_rows() const {
  return data_ ? static_cast<int64_t>(data_->result.affected_rows()) : 0;
}

PgRow PgResult::operator[](size_t row) const {
  if (row >= size()) {
    throw Error::Internal(fmt::format("postgres result: row {} of {}", row, size()));
  }
  return PgRow(data_, row);
}

int PgRow::columns() const { return static_cast<int>(data_->result.columns()); }

const char* PgRow::cell(int column, size_t* size) const {
  if (column < 0 || column >= columns()) {
    throw Error::Internal(fmt::format("postgres result: column {} of {}", column, columns()));
  }
  const pqxx::field field = data_->result[static_cast<pqxx::result::size_type>(row_)]
                                        [static_cast<pqxx::row::size_type>(column)];
  if (field.is_null()) return nullptr;
  *size = field.size();
  return field.c_str();
}

bool PgRow::is_null(int column) const {
  size_t size = 0;
  return cell(column, &size) == nullptr;
}

std::optional<std::string> PgRow::optional_text(int column) const {
  size_t size = 0;
  const char* p = cell(column, &size);
  if (p == nullptr) return std::nullopt;
  return std::string(p, size);
}

std::string PgRow::text(int column) const { return optional_text(column).value_or(""); }

std::optional<int64_t> PgRow::optional_int64(int column) const {
  size_t size = 0;
  const char* p = cell(column, &size);
  if (p == nullptr) return std::nullopt;
  int64_t value = 0;
  const auto [end, ec] = std::from_chars(p, p + size, value);
  if (ec != std::errc() || end != p + size) {
    throw Error::Internal(fmt::format("postgres result: column {} is not an integer: '{}'",
                                      column, std::string_view(p, std::min<size_t>(size, 40))));
  }
  return value;
}

std::optional<double> PgRow::optional_real(int column) const {
  size_t size = 0;
  const char* p = cell(column, &size);
  if (p == nullptr) return std::nullopt;
  char* end = nullptr;
  const double value = std::strtod(p, &end);  // also reads NaN, Infinity, -Infinity
  if (end != p + size || size == 0) {
    throw Error::Internal(fmt::format("postgres result: column {} is not a number: '{}'", column,
                                      std::string_view(p, std::min<size_t>(size, 40))));
  }
  return value;
}

int64_t PgRow::int64(int column) const {
  auto value = optional_int64(column);
  if (!value) throw Error::Internal(fmt::format("postgres result: column {} is NULL", column));
  return *value;
}

int PgRow::integer(int column) const { return static_cast<int>(int64(column)); }

double PgRow::real(int column) const {
  auto value = optional_real(column);
  if (!value) throw Error::Internal(fmt::format("postgres result: column {} is NULL", column));
  return *value;
}

bool PgRow::boolean(int column) const {
  const std::string value = text(column);
  if (value == "t") return true;
  if (value == "f") return false;
  throw Error::Internal(fmt::format("postgres result: column {} is not a boolean: '{}'", column,
                                    value.substr(0, 40)));
}

// ---- the session -------------------------------------------------------------------------------

namespace {

// Server notices (NOTICE: relation exists, skipping) go to the debug log, warnings to the warn
// log, instead of libpq's default of stderr.
class NoticeHandler final : public pqxx::errorhandler {
 public:
  NoticeHandler(pqxx::connection_base& conn, const std::string& display_url)
      : pqxx::errorhandler(conn), display_url_(display_url) {}
  bool operator()(const char message[]) noexcept override {
    try {
      const std::string text = one_line(message);
      if (text.starts_with("WARNING")) {
        log::warn("postgres {}: {}", display_url_, text);
      } else {
        log::debug("postgres {}: {}", display_url_, text);
      }
    } catch (...) {
    }
    return false;  // handled: do not pass it on to libpqxx's default (stderr)
  }

 private:
  std::string display_url_;
};

}  // namespace

struct PgConnection::Session {
  Session(const std::string& url, const std::string& display_url)
      : conn(url), notices(conn, display_url) {}
  pqxx::connection conn;
  NoticeHandler notices;  // after conn: unregisters before the connection closes
};

PgConnection::PgConnection(std::string url) : url_(std::move(url)) {
  display_url_ = redact_impl(url_, &secrets_);
  char* parse_error = nullptr;
  PQconninfoOption* options = PQconninfoParse(url_.c_str(), &parse_error);
  if (options == nullptr) {
    const std::string detail = parse_error != nullptr ? parse_error : "out of memory";
    if (parse_error != nullptr) PQfreemem(parse_error);
    throw PgError(ErrorCategory::kInvalidInput,
                  scrub(fmt::format("postgres {}: invalid connection URL: {}", display_url_,
                                    one_line(detail))),
                  "");
  }
  for (PQconninfoOption* option = options; option->keyword != nullptr; ++option) {
    if (std::strcmp(option->keyword, "password") == 0 && option->val != nullptr &&
        option->val[0] != '\0') {
      secrets_.emplace_back(option->val);  // decoded (a URL may percent-encode it)
    }
  }
  PQconninfoFree(options);
  connect();
}

PgConnection::~PgConnection() = default;

std::string PgConnection::scrub(std::string text) const {
  for (const std::string& secret : secrets_) {
    if (secret.size() < 4) continue;  // "***" in the URL already; too short to find safely
    for (size_t pos = text.find(secret); pos != std::string::npos; pos = text.find(secret, pos)) {
      text.replace(pos, secret.size(), "***");
    }
  }
  return text;
}

void PgConnection::throw_error(ErrorCategory category, std::string_view detail,
                               std::string_view sqlstate, std::string_view sql) const {
  std::string message = fmt::format("postgres {}: {}", display_url_, one_line(detail));
  if (!sqlstate.empty()) message += fmt::format(" (SQLSTATE {})", sqlstate);
  if (!sql.empty()) message += fmt::format(" in: {}", one_line(shorten(sql)));
  throw PgError(category, scrub(std::move(message)), std::string(sqlstate));
}

void PgConnection::connect() {
  session_.reset();
  try {
    session_ = std::make_unique<Session>(url_, display_url_);
  } catch (const pqxx::broken_connection& e) {
    const std::string detail = one_line(e.what());
    throw_error(connect_failure_category(detail), "cannot connect: " + detail, "", "");
  } catch (const pqxx::pqxx_exception& e) {
    const std::string detail = one_line(e.base().what());
    throw_error(connect_failure_category(detail), "cannot connect: " + detail, "", "");
  }
  broken_ = false;
}

PgConnection::Session& PgConnection::session() {
  if (!connected()) connect();
  return *session_;
}

bool PgConnection::connected() const {
  return session_ != nullptr && !broken_ && session_->conn.is_open();
}

void PgConnection::fail(std::string_view sql) {
  try {
    throw;
  } catch (const Error&) {
    throw;
  } catch (const pqxx::in_doubt_error& e) {
    broken_ = true;
    throw_error(ErrorCategory::kRetryable,
                fmt::format("the connection was lost during COMMIT; whether the transaction "
                            "committed is unknown: {}",
                            e.what()),
                "08007", sql);
  } catch (const pqxx::broken_connection& e) {
    broken_ = true;
    throw_error(ErrorCategory::kRetryable, fmt::format("connection lost: {}", e.what()),
                kPgConnectionFailure, sql);
  } catch (const pqxx::serialization_failure& e) {
    // libpqxx 6 throws these four without their SQLSTATE: restore it from the type.
    throw_error(ErrorCategory::kRetryable, e.what(), kPgSerializationFailure, sql);
  } catch (const pqxx::deadlock_detected& e) {
    throw_error(ErrorCategory::kRetryable, e.what(), kPgDeadlockDetected, sql);
  } catch (const pqxx::statement_completion_unknown& e) {
    throw_error(ErrorCategory::kRetryable, e.what(), "40003", sql);
  } catch (const pqxx::transaction_rollback& e) {
    throw_error(ErrorCategory::kRetryable, e.what(), "40000", sql);
  } catch (const pqxx::sql_error& e) {
    const std::string& sqlstate = e.sqlstate();
    if (!session_ || !session_->conn.is_open()) broken_ = true;
    ErrorCategory category = pg_error_category(sqlstate);
    if (broken_ && sqlstate.empty()) category = ErrorCategory::kRetryable;
    throw_error(category, e.what(), sqlstate, sql);
  } catch (const pqxx::failure& e) {
    if (!session_ || !session_->conn.is_open()) {
      broken_ = true;
      throw_error(ErrorCategory::kRetryable, fmt::format("connection lost: {}", e.what()),
                  kPgConnectionFailure, sql);
    }
    throw_error(ErrorCategory::kInternal, e.what(), "", sql);
  } catch (const pqxx::pqxx_exception& e) {
    // usage, argument, conversion or range errors: a bug on our side.
    throw_error(ErrorCategory::kInternal, e.base().what(), "", sql);
  }
}

namespace {
// PostgreSQL text cannot hold NUL, and libpq would silently cut the value there.
void check_params(const std::vector<PgParam>& params, const std::function<void(size_t)>& bad) {
  for (size_t i = 0; i < params.size(); ++i) {
    if (params[i] && params[i]->find('\0') != std::string::npos) bad(i + 1);
  }
}
}  // namespace

PgResult PgConnection::exec_params(std::string_view sql, std::vector<PgParam> params) {
  check_params(params, [&](size_t index) {
    throw_error(ErrorCategory::kInvalidInput,
                fmt::format("parameter ${} contains a NUL byte, which PostgreSQL text cannot hold",
                            index),
                "", sql);
  });
  Session& s = session();
  try {
    pqxx::nontransaction txn(s.conn);
    const std::vector<const char*> pointers = param_pointers(params);
    pqxx::result result =
        txn.exec_params(std::string(sql), pqxx::prepare::make_dynamic_params(pointers));
    txn.commit();
    return detail::PgResultData::wrap(std::move(result));
  } catch (...) {
    fail(sql);
  }
}

void PgConnection::exec_script(std::string_view sql) {
  Session& s = session();
  try {
    pqxx::nontransaction txn(s.conn);
    txn.exec(std::string(sql));
    txn.commit();
  } catch (...) {
    fail(sql);
  }
}

int PgConnection::backend_pid() { return static_cast<int>(scalar("SELECT pg_backend_pid()").value()); }

void PgConnection::run_transaction(const std::function<void(PgTx&)>& body,
                                   const PgTxOptions& options) {
  std::string begin = "SET TRANSACTION ISOLATION LEVEL ";
  switch (options.isolation) {
    case PgIsolation::kReadCommitted: begin += "READ COMMITTED"; break;
    case PgIsolation::kRepeatableRead: begin += "REPEATABLE READ"; break;
    case PgIsolation::kSerializable: begin += "SERIALIZABLE"; break;
  }
  if (options.read_only) begin += ", READ ONLY";
  const bool set_characteristics =
      options.isolation != PgIsolation::kReadCommitted || options.read_only;
  const int attempts = std::max(1, options.max_attempts);

  for (int attempt = 1;; ++attempt) {
    Session& s = session();
    std::string_view stage = "BEGIN";
    try {
      try {
        pqxx::work txn(s.conn);
        if (set_characteristics) {
          stage = begin;
          txn.exec(begin);
        }
        stage = "";
        PgTx tx(*this, txn);
        body(tx);
        stage = "COMMIT";
        txn.commit();
        return;
      } catch (const Error&) {
        throw;
      } catch (...) {
        // BEGIN, SET TRANSACTION or COMMIT failed (statements in the body map their own errors);
        // anything that is not libpqxx's goes on unchanged.
        fail(stage);
      }
    } catch (const PgError& e) {
      if (!is_rollback(e.sqlstate()) || attempt >= attempts) throw;
    }
    // Serialization failure or deadlock: back off a little (randomized, so the transactions that
    // collided do not collide again) and run the body again.
    thread_local std::minstd_rand rng(std::random_device{}());
    const int cap_ms = std::min(100, 1 << std::min(attempt, 7));
    std::uniform_int_distribution<int> jitter(cap_ms / 2, cap_ms);
    std::this_thread::sleep_for(std::chrono::milliseconds(jitter(rng)));
  }
}

// ---- PgTx --------------------------------------------------------------------------------------

PgResult PgTx::exec_params(std::string_view sql, std::vector<PgParam> params) {
  check_params(params, [&](size_t index) {
    connection_.throw_error(
        ErrorCategory::kInvalidInput,
        fmt::format("parameter ${} contains a NUL byte, which PostgreSQL text cannot hold", index),
        "", sql);
  });
  try {
    const std::vector<const char*> pointers = param_pointers(params);
    return detail::PgResultData::wrap(txn_.exec_params(std::string(sql), pqxx::prepare::make_dynamic_params(pointers)));
  } catch (...) {
    connection_.fail(sql);
  }
}

void PgTx::exec_script(std::string_view sql) {
  try {
    txn_.exec(std::string(sql));
  } catch (...) {
    connection_.fail(sql);
  }
}

void PgTx::savepoint(const std::function<void(PgTx&)>& body) {
  const std::string name = fmt::format("trib_savepoint_{}", ++savepoint_depth_);
  exec_script("SAVEPOINT " + name);
  try {
    body(*this);
  } catch (...) {
    try {
      txn_.exec("ROLLBACK TO SAVEPOINT " + name + "; RELEASE SAVEPOINT " + name);
    } catch (...) {
      // The session is gone or the transaction is beyond saving: the body's error says why.
    }
    --savepoint_depth_;
    throw;
  }
  --savepoint_depth_;
  exec_script("RELEASE SAVEPOINT " + name);
}

// ---- migrations --------------------------------------------------------------------------------

int PgConnection::schema_version(std::string_view component) {
  // schema_migrations of the current schema (the first of the search path), not of a later one.
  const bool exists = row("SELECT to_regclass(quote_ident(current_schema()) || "
                          "'.schema_migrations') IS NOT NULL")
                          ->boolean(0);
  if (!exists) return 0;
  return static_cast<int>(
      scalar("SELECT coalesce(max(version), 0) FROM schema_migrations WHERE component = $1",
             component)
          .value_or(0));
}

int PgConnection::migrate(std::string_view component, std::span<const Migration> migrations) {
  for (size_t i = 0; i < migrations.size(); ++i) {
    if (migrations[i].version != static_cast<int>(i) + 1) {
      throw Error::Internal(fmt::format("{} migration #{} is numbered {}; expected {}", component,
                                        i + 1, migrations[i].version, i + 1));
    }
  }
  const int latest = static_cast<int>(migrations.size());
  const auto check_not_newer = [&](int current) {
    if (current > latest) {
      throw Error::Permanent(fmt::format(
          "postgres {}: {} schema version {} is newer than this build knows ({}); upgrade trib",
          display_url_, component, current, latest));
    }
  };
  int current = schema_version(component);  // fast path: already up to date
  check_not_newer(current);
  if (current == latest) return current;

  for (const Migration& m : migrations) {
    if (m.version <= current) continue;
    transaction([&](PgTx& tx) {
      // One migrator per schema at a time (any component: they share schema_migrations, and
      // CREATE TABLE IF NOT EXISTS is not safe against a concurrent create). Released at COMMIT.
      tx.exec(
          "SELECT pg_advisory_xact_lock(hashtextextended('trib.schema_migrations.' || "
          "current_schema(), 0))");
      tx.exec_script(
          "CREATE TABLE IF NOT EXISTS schema_migrations ("
          " component text NOT NULL, version integer NOT NULL, name text NOT NULL,"
          " applied_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (component, version))");
      // Another process may have migrated since we looked: under the lock this is exact.
      const int applied = static_cast<int>(
          tx.scalar("SELECT coalesce(max(version), 0) FROM schema_migrations "
                    "WHERE component = $1",
                    component)
              .value_or(0));
      check_not_newer(applied);
      if (applied >= m.version) return;
      try {
        tx.exec_script(m.sql);
      } catch (const PgError& e) {
        throw with_context(e, fmt::format("{} migration {} ({})", component, m.version, m.name));
      }
      tx.exec("INSERT INTO schema_migrations (component, version, name) VALUES ($1, $2, $3)",
              component, m.version, std::string_view(m.name));
    });
  }
  return schema_version(component);
}

}  // namespace trib::db

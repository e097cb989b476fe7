// The PostgreSQL queue: the embedded queue's semantics on two tables in a PostgreSQL database
// (queue_messages, queue_poison in the first schema of the connection's search path, created
// by migrations under component "queue"). Each operation is one statement, so it is atomic on
// its own and no transaction stays open between calls:
//  - receive() locks the oldest visible message with FOR UPDATE SKIP LOCKED, so concurrent
//    consumers (threads, processes, machines) never wait on each other and never get the same
//    message while its lease runs; in the same statement it moves to poison the visible messages
//    that have used up max_attempts;
//  - remove / update_visibility / release / dead_letter match on (queue, id, pop_receipt), so a
//    stale receipt changes nothing and is reported as Error::Conflict.
//
// Clock: every time is the database server's (now(), the start of the statement's transaction),
// never the caller's: workers on machines whose clocks disagree still agree on when a lease
// ends. inserted_at_ns and visible_at_ns are server times (microsecond precision).
#include <algorithm>
#include <cstdint>
#include <limits>

#include <fmt/format.h>

#include "queue_common.hpp"
#include "trib/core/error.hpp"
#include "trib/db/postgres.hpp"
#include "trib/queue/task_queue.hpp"

namespace trib::queue {
namespace {

using db::PgConnection;
using db::PgRow;
using std::chrono::seconds;

// Persistent schema: never edit a shipped migration or rename a column; add a migration.
// seq is the insertion order across sessions: receive() is FIFO on it. The partial unique index
// holds a dedupe key while its message is queued; poison rows keep the key for redrive().
constexpr const char* kQueueSchema = R"sql(
CREATE TABLE queue_messages (
  seq           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  queue         text NOT NULL,
  id            text NOT NULL UNIQUE,
  body          text NOT NULL,
  dequeue_count integer NOT NULL DEFAULT 0,
  visible_at    timestamptz NOT NULL,
  pop_receipt   text NOT NULL DEFAULT '',
  inserted_at   timestamptz NOT NULL,
  last_error    text NOT NULL DEFAULT '',
  dedupe_key    text
);
CREATE INDEX queue_messages_by_queue ON queue_messages (queue, seq);
CREATE INDEX queue_messages_by_visibility ON queue_messages (queue, visible_at);
CREATE UNIQUE INDEX queue_messages_dedupe ON queue_messages (queue, dedupe_key)
  WHERE dedupe_key IS NOT NULL;
CREATE TABLE queue_poison (
  queue         text NOT NULL,
  id            text NOT NULL,
  body          text NOT NULL,
  dequeue_count integer NOT NULL,
  last_error    text NOT NULL,
  dedupe_key    text,
  inserted_at   timestamptz NOT NULL,
  moved_at      timestamptz NOT NULL,
  PRIMARY KEY (queue, id)
);
)sql";

constexpr db::Migration kQueueMigrations[] = {
    {1, "queue_messages, queue_poison", kQueueSchema},
};

// A timestamptz as integer nanoseconds since the epoch (exact: extract() is numeric).
#define TRIB_NS(column) "(extract(epoch FROM " column ") * 1000000)::bigint * 1000"

// Moves the rows a CTE named `dead` returned into queue_poison. A poison row with the same id
// (a message that was redriven and poisoned again) is replaced, as the embedded queue does.
constexpr const char* kInsertDeadIntoPoison =
    "INSERT INTO queue_poison (queue, id, body, dequeue_count, last_error, dedupe_key, "
    "inserted_at, moved_at) "
    "SELECT queue, id, body, dequeue_count, last_error, dedupe_key, inserted_at, now() FROM dead "
    "ON CONFLICT (queue, id) DO UPDATE SET body = EXCLUDED.body, "
    "dequeue_count = EXCLUDED.dequeue_count, last_error = EXCLUDED.last_error, "
    "dedupe_key = EXCLUDED.dedupe_key, inserted_at = EXCLUDED.inserted_at, "
    "moved_at = EXCLUDED.moved_at";

class PostgresQueue final : public TaskQueue {
 public:
  PostgresQueue(const std::string& url, std::string name, QueueOptions options)
      : name_(checked_name(std::move(name), options)), options_(options), db_(url) {
    guarded("", [&] { db_.migrate("queue", kQueueMigrations); });
  }

  const std::string& name() const override { return name_; }

  std::string enqueue(const std::string& body, seconds delay) override {
    detail::check_body(name_, body);
    const int64_t delay_s = detail::checked_seconds(delay, "delay", name_);
    std::string id = detail::random_hex128();
    guarded(id, [&] {
      db_.exec(
          "INSERT INTO queue_messages (queue, id, body, visible_at, inserted_at) "
          "VALUES ($1, $2, $3, now() + $4::bigint * interval '1 second', now())",
          name_, id, body, delay_s);
    });
    return id;
  }

  std::optional<std::string> enqueue_unique(const std::string& body, const std::string& dedupe_key,
                                            seconds delay) override {
    detail::check_body(name_, body);
    detail::check_dedupe_key(name_, dedupe_key);
    const int64_t delay_s = detail::checked_seconds(delay, "delay", name_);
    std::string id = detail::random_hex128();
    bool added = false;
    guarded(id, [&] {
      // A concurrent enqueue of the same key waits for the other to commit, then does nothing.
      added = db_.exec(
                     "INSERT INTO queue_messages (queue, id, body, visible_at, inserted_at, "
                     "dedupe_key) "
                     "VALUES ($1, $2, $3, now() + $4::bigint * interval '1 second', now(), $5) "
                     "ON CONFLICT (queue, dedupe_key) WHERE dedupe_key IS NOT NULL DO NOTHING",
                     name_, id, body, delay_s, dedupe_key)
                  .affected_rows() == 1;
    });
    if (!added) return std::nullopt;
    return id;
  }

  std::optional<Message> receive(seconds visibility_timeout) override {
    const int64_t lease_s = detail::checked_seconds(visibility_timeout, "visibility timeout", name_);
    std::string receipt = detail::random_hex128();
    std::optional<Message> out;
    guarded("", [&] {
      // `expired`: visible again after max_attempts deliveries (the last lease ran out, or the
      // message was released on its last attempt): moved to poison, never delivered again.
      // `picked`: the oldest visible message with attempts left, locked (skipping messages
      // another session is taking right now) and leased.
      auto rows = db_.exec(fmt::format(
          "WITH expired AS MATERIALIZED ("
          "  SELECT seq FROM queue_messages"
          "  WHERE queue = $1 AND visible_at <= now() AND dequeue_count >= $2"
          "  ORDER BY seq LIMIT 100 FOR UPDATE SKIP LOCKED),"
          " dead AS ("
          "  DELETE FROM queue_messages m USING expired WHERE m.seq = expired.seq"
          "  RETURNING m.queue, m.id, m.body, m.dequeue_count,"
          "    CASE WHEN m.last_error = '' THEN 'lease expired after ' || m.dequeue_count ||"
          "      ' deliveries' ELSE m.last_error END AS last_error,"
          "    m.dedupe_key, m.inserted_at),"
          " poisoned AS ({}),"
          " picked AS MATERIALIZED ("
          "  SELECT seq FROM queue_messages"
          "  WHERE queue = $1 AND visible_at <= now() AND dequeue_count < $2"
          "  ORDER BY seq LIMIT 1 FOR UPDATE SKIP LOCKED)"
          " UPDATE queue_messages m SET dequeue_count = m.dequeue_count + 1, pop_receipt = $3,"
          "  visible_at = now() + $4::bigint * interval '1 second'"
          " FROM picked WHERE m.seq = picked.seq"
          " RETURNING m.id, m.body, m.dequeue_count, " TRIB_NS("m.inserted_at") ","
          "  coalesce(m.dedupe_key, '')",
          kInsertDeadIntoPoison),
          name_, options_.max_attempts, receipt, lease_s);
      if (rows.empty()) return;
      const PgRow row = rows[0];
      out = Message{row.text(0), receipt, row.integer(2), row.text(1), row.int64(3),
                    row.text(4)};
    });
    return out;
  }

  void remove(const Message& message) override {
    guarded(message.id, [&] {
      const int64_t n = db_.exec("DELETE FROM queue_messages WHERE queue = $1 AND id = $2 "
                                 "AND pop_receipt = $3 AND pop_receipt <> ''",
                                 name_, message.id, message.pop_receipt)
                            .affected_rows();
      if (n == 0) throw_receipt_conflict(message);
    });
  }

  void update_visibility(Message& message, seconds visibility_timeout) override {
    const int64_t lease_s = detail::checked_seconds(visibility_timeout, "visibility timeout", name_);
    std::string receipt = detail::random_hex128();
    guarded(message.id, [&] {
      const int64_t n =
          db_.exec("UPDATE queue_messages SET pop_receipt = $4, "
                   "visible_at = now() + $5::bigint * interval '1 second' "
                   "WHERE queue = $1 AND id = $2 AND pop_receipt = $3 AND pop_receipt <> ''",
                   name_, message.id, message.pop_receipt, receipt, lease_s)
              .affected_rows();
      if (n == 0) throw_receipt_conflict(message);
    });
    message.pop_receipt = std::move(receipt);
  }

  void release(const Message& message, const std::string& error, seconds retry_after) override {
    const int64_t delay_s = detail::checked_seconds(retry_after, "retry delay", name_);
    guarded(message.id, [&] {
      // Attempts left: record the error, end the lease (clearing the receipt, so a late
      // remove() by this worker is a Conflict) and make it visible after the delay.
      int64_t n = db_.exec("UPDATE queue_messages SET last_error = $4, pop_receipt = '', "
                           "visible_at = now() + $5::bigint * interval '1 second' "
                           "WHERE queue = $1 AND id = $2 AND pop_receipt = $3 "
                           "AND pop_receipt <> '' AND dequeue_count < $6",
                           name_, message.id, message.pop_receipt, error, delay_s,
                           options_.max_attempts)
                      .affected_rows();
      // That was its last attempt: to poison now.
      if (n == 0) n = move_to_poison(message, error, /*only_if_exhausted=*/true);
      if (n == 0) throw_receipt_conflict(message);
    });
  }

  void defer(const Message& message, const std::string& error, seconds retry_after) override {
    const int64_t delay_s = detail::checked_seconds(retry_after, "retry delay", name_);
    guarded(message.id, [&] {
      // The delivery did not count: the next one has this one's count again.
      const int64_t n = db_.exec("UPDATE queue_messages SET last_error = $4, pop_receipt = '', "
                                 "visible_at = now() + $5::bigint * interval '1 second', "
                                 "dequeue_count = greatest(dequeue_count - 1, 0) "
                                 "WHERE queue = $1 AND id = $2 AND pop_receipt = $3 AND pop_receipt <> ''",
                                 name_, message.id, message.pop_receipt, error, delay_s)
                            .affected_rows();
      if (n == 0) throw_receipt_conflict(message);
    });
  }

  void dead_letter(const Message& message, const std::string& error) override {
    guarded(message.id, [&] {
      if (move_to_poison(message, error, /*only_if_exhausted=*/false) == 0) {
        throw_receipt_conflict(message);
      }
    });
  }

  int64_t count() override {
    int64_t n = 0;
    guarded("", [&] {
      n = db_.scalar("SELECT count(*) FROM queue_messages WHERE queue = $1", name_).value_or(0);
    });
    return n;
  }

  int64_t visible_count() override {
    int64_t n = 0;
    guarded("", [&] {
      n = db_.scalar("SELECT count(*) FROM queue_messages WHERE queue = $1 AND visible_at <= now()",
                     name_)
              .value_or(0);
    });
    return n;
  }

  std::vector<QueuedMessage> list(size_t limit) override {
    std::vector<QueuedMessage> out;
    guarded("", [&] {
      const auto rows = db_.exec(
          "SELECT id, body, dequeue_count, " TRIB_NS("inserted_at") ", " TRIB_NS("visible_at")
          ", last_error, coalesce(dedupe_key, '') FROM queue_messages WHERE queue = $1 "
          "ORDER BY seq LIMIT $2",
          name_, static_cast<int64_t>(std::min<size_t>(limit, std::numeric_limits<int64_t>::max())));
      for (const PgRow row : rows) {
        out.push_back({row.text(0), row.text(1), row.integer(2), row.int64(3), row.int64(4),
                       row.text(5), row.text(6)});
      }
    });
    return out;
  }

  std::vector<PoisonMessage> list_poison() override {
    std::vector<PoisonMessage> out;
    guarded("", [&] {
      const auto rows = db_.exec(
          "SELECT id, body, dequeue_count, last_error FROM queue_poison WHERE queue = $1 "
          "ORDER BY moved_at, id",
          name_);
      for (const PgRow row : rows) {
        out.push_back({row.text(0), row.text(1), row.integer(2), row.text(3)});
      }
    });
    return out;
  }

  int64_t poison_count() override {
    int64_t n = 0;
    guarded("", [&] {
      n = db_.scalar("SELECT count(*) FROM queue_poison WHERE queue = $1", name_).value_or(0);
    });
    return n;
  }

  int64_t redrive(const std::vector<std::string>& ids) override {
    int64_t moved = 0;
    guarded("", [&] {
      // Back at the tail of the queue, visible now, count 0, last error and dedupe key kept.
      // ON CONFLICT DO NOTHING leaves in poison a message whose dedupe key is queued again
      // meanwhile (the work is queued already); only what was inserted leaves the poison table.
      moved = db_.exec(
                     "WITH candidates AS MATERIALIZED ("
                     "  SELECT queue, id, body, last_error, dedupe_key, inserted_at, moved_at"
                     "  FROM queue_poison"
                     "  WHERE queue = $1 AND (cardinality($2::text[]) = 0 OR id = ANY($2::text[]))"
                     "  ORDER BY moved_at, id FOR UPDATE),"
                     " moved AS ("
                     "  INSERT INTO queue_messages (queue, id, body, dequeue_count, visible_at,"
                     "    inserted_at, last_error, dedupe_key)"
                     "  SELECT queue, id, body, 0, now(), inserted_at, last_error, dedupe_key"
                     "  FROM candidates ORDER BY moved_at, id"
                     "  ON CONFLICT DO NOTHING RETURNING id)"
                     " DELETE FROM queue_poison p USING moved WHERE p.queue = $1 AND p.id = moved.id",
                     name_, ids)
                  .affected_rows();
    });
    return moved;
  }

  int64_t purge_poison() override {
    int64_t purged = 0;
    guarded("", [&] {
      purged = db_.exec("DELETE FROM queue_poison WHERE queue = $1", name_).affected_rows();
    });
    return purged;
  }

  void clear() override {
    guarded("", [&] {
      db_.transaction([&](db::PgTx& tx) {
        tx.exec("DELETE FROM queue_messages WHERE queue = $1", name_);
        tx.exec("DELETE FROM queue_poison WHERE queue = $1", name_);
      });
    });
  }

 private:
  static std::string checked_name(std::string name, const QueueOptions& options) {
    detail::check_queue_name(name);
    detail::check_options(name, options);
    return name;
  }

  template <typename F>
  void guarded(const std::string& message_id, F&& op) {
    detail::with_queue_context(name_, message_id, std::forward<F>(op));
  }

  // Moves a leased message (matching its pop receipt) to poison with `error`; with
  // `only_if_exhausted`, only when it has had its max_attempts deliveries. Returns 0 or 1.
  int64_t move_to_poison(const Message& message, const std::string& error,
                         bool only_if_exhausted) {
    return db_
        .exec(fmt::format("WITH dead AS ("
                          "  DELETE FROM queue_messages WHERE queue = $1 AND id = $2"
                          "  AND pop_receipt = $3 AND pop_receipt <> '' AND dequeue_count >= $5"
                          "  RETURNING queue, id, body, dequeue_count, $4::text AS last_error,"
                          "    dedupe_key, inserted_at)"
                          " {}",
                          kInsertDeadIntoPoison),
              name_, message.id, message.pop_receipt, error,
              only_if_exhausted ? options_.max_attempts : 0)
        .affected_rows();
  }

  // Why a statement keyed on (queue, id, pop receipt) matched nothing: Error::Conflict.
  [[noreturn]] void throw_receipt_conflict(const Message& message) {
    const bool present =
        db_.row("SELECT 1 FROM queue_messages WHERE queue = $1 AND id = $2", name_, message.id)
            .has_value();
    if (!present) throw Error::Conflict(detail::gone_message(name_, message.id));
    throw Error::Conflict(detail::stale_receipt_message(name_, message.id));
  }

  std::string name_;
  QueueOptions options_;
  PgConnection db_;
};

#undef TRIB_NS

}  // namespace

std::unique_ptr<TaskQueue> open_postgres_queue(const std::string& connection_url,
                                               const std::string& name, QueueOptions options) {
  return std::make_unique<PostgresQueue>(connection_url, name, options);
}

}  // namespace trib::queue

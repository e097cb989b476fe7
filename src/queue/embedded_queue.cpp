// The embedded queue: two tables in the workspace's SQLite file (its own connection, its own
// migrations under component "queue"). Every state change runs in one BEGIN IMMEDIATE
// transaction, so receive / remove / release are atomic across threads and processes.
// Times (visible_at_ns, inserted_at_ns) come from this machine's clock: every process sharing the
// file runs on it.
#include <algorithm>
#include <cstdint>
#include <limits>

#include <fmt/format.h>

#include "queue_common.hpp"
#include "trib/core/error.hpp"
#include "trib/core/time.hpp"
#include "trib/db/sqlite.hpp"
#include "trib/queue/task_queue.hpp"

namespace trib::queue {
namespace {

using db::SqliteDb;
using std::chrono::seconds;

// Persistent schema: never edit a shipped migration or rename a column; add a migration.
// seq (the rowid) is the insertion order across processes: receive() is FIFO on it.
constexpr const char* kQueueSchema = R"sql(
CREATE TABLE queue_messages (
  seq            INTEGER PRIMARY KEY,
  queue          TEXT NOT NULL,
  id             TEXT NOT NULL UNIQUE,
  body           TEXT NOT NULL,
  dequeue_count  INTEGER NOT NULL DEFAULT 0,
  visible_at_ns  INTEGER NOT NULL,
  pop_receipt    TEXT NOT NULL DEFAULT '',
  inserted_at_ns INTEGER NOT NULL,
  last_error     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX queue_messages_by_queue ON queue_messages (queue, seq);
CREATE INDEX queue_messages_by_visibility ON queue_messages (queue, visible_at_ns);
CREATE TABLE queue_poison (
  queue         TEXT NOT NULL,
  id            TEXT NOT NULL,
  body          TEXT NOT NULL,
  dequeue_count INTEGER NOT NULL,
  last_error    TEXT NOT NULL,
  moved_at_ns   INTEGER NOT NULL,
  PRIMARY KEY (queue, id)
);
)sql";

// Dedupe keys: a key is taken while its message is in queue_messages; the partial unique index
// makes a second enqueue_unique with it a no-op. Poisoned messages keep their key (and their
// insertion time) so redrive() can put both back.
constexpr const char* kDedupeSchema = R"sql(
ALTER TABLE queue_messages ADD COLUMN dedupe_key TEXT;
CREATE UNIQUE INDEX queue_messages_dedupe ON queue_messages (queue, dedupe_key)
  WHERE dedupe_key IS NOT NULL;
ALTER TABLE queue_poison ADD COLUMN dedupe_key TEXT;
ALTER TABLE queue_poison ADD COLUMN inserted_at_ns INTEGER;
)sql";

constexpr db::Migration kQueueMigrations[] = {
    {1, "queue_messages, queue_poison", kQueueSchema},
    {2, "dedupe keys; poison keeps key and insertion time", kDedupeSchema},
};

using detail::checked_seconds;
using detail::random_hex128;

int64_t to_ns(seconds s, std::string_view what, const std::string& queue) {
  return checked_seconds(s, what, queue) * kNanosPerSecond;
}

class EmbeddedQueue final : public TaskQueue {
 public:
  EmbeddedQueue(const std::filesystem::path& path, std::string name, QueueOptions options)
      : name_(std::move(name)), options_(options), db_(checked_path(path, name_, options_)) {
    guarded("", [&] { db_.migrate("queue", kQueueMigrations); });
  }

  const std::string& name() const override { return name_; }

  std::string enqueue(const std::string& body, seconds delay) override {
    detail::check_body(name_, body);
    const int64_t delay_ns = to_ns(delay, "delay", name_);
    std::string id = random_hex128();
    guarded(id, [&] {
      db_.transaction([&] {
        const int64_t now = now_ts_ns();
        db_.execute(
            "INSERT INTO queue_messages (queue, id, body, visible_at_ns, inserted_at_ns) "
            "VALUES (?, ?, ?, ?, ?)",
            name_, id, body, now + delay_ns, now);
      });
    });
    return id;
  }

  std::optional<std::string> enqueue_unique(const std::string& body, const std::string& dedupe_key,
                                            seconds delay) override {
    detail::check_body(name_, body);
    detail::check_dedupe_key(name_, dedupe_key);
    const int64_t delay_ns = to_ns(delay, "delay", name_);
    std::string id = random_hex128();
    bool added = false;
    guarded(id, [&] {
      db_.transaction([&] {
        const int64_t now = now_ts_ns();
        added = db_.execute(
                    "INSERT INTO queue_messages (queue, id, body, visible_at_ns, inserted_at_ns, "
                    "dedupe_key) VALUES (?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (queue, dedupe_key) WHERE dedupe_key IS NOT NULL DO NOTHING",
                    name_, id, body, now + delay_ns, now, dedupe_key) == 1;
      });
    });
    if (!added) return std::nullopt;
    return id;
  }

  std::optional<Message> receive(seconds visibility_timeout) override {
    const int64_t lease_ns = to_ns(visibility_timeout, "visibility timeout", name_);
    std::optional<Message> out;
    guarded("", [&] {
      db_.transaction([&] {
        const int64_t now = now_ts_ns();
        while (true) {
          Message m;
          std::string last_error;
          {
            auto pick = db_.query(
                "SELECT id, body, dequeue_count, inserted_at_ns, last_error, "
                "coalesce(dedupe_key, '') FROM queue_messages "
                "WHERE queue = ? AND visible_at_ns <= ? ORDER BY seq LIMIT 1",
                name_, now);
            if (!pick.step()) return;
            m.id = pick.text(0);
            m.body = pick.text(1);
            m.dequeue_count = pick.integer(2);
            m.inserted_at_ns = pick.int64(3);
            last_error = pick.text(4);
            m.dedupe_key = pick.text(5);
          }
          if (m.dequeue_count >= options_.max_attempts) {
            // Delivered max_attempts times and visible again: its last lease expired (the
            // worker died) or it was released; either way it is not delivered again.
            move_to_poison(m.id, last_error.empty() ? detail::lease_expired_error(m.dequeue_count)
                                                    : last_error);
            continue;
          }
          m.dequeue_count += 1;
          m.pop_receipt = random_hex128();
          db_.execute(
              "UPDATE queue_messages SET dequeue_count = ?, pop_receipt = ?, visible_at_ns = ? "
              "WHERE id = ?",
              m.dequeue_count, m.pop_receipt, now + lease_ns, m.id);
          out = std::move(m);
          return;
        }
      });
    });
    return out;
  }

  void remove(const Message& message) override {
    guarded(message.id, [&] {
      db_.transaction([&] {
        check_receipt(message);
        db_.execute("DELETE FROM queue_messages WHERE id = ?", message.id);
      });
    });
  }

  void update_visibility(Message& message, seconds visibility_timeout) override {
    const int64_t lease_ns = to_ns(visibility_timeout, "visibility timeout", name_);
    std::string receipt = random_hex128();
    guarded(message.id, [&] {
      db_.transaction([&] {
        check_receipt(message);
        db_.execute("UPDATE queue_messages SET pop_receipt = ?, visible_at_ns = ? WHERE id = ?",
                    receipt, now_ts_ns() + lease_ns, message.id);
      });
    });
    message.pop_receipt = std::move(receipt);
  }

  void release(const Message& message, const std::string& error, seconds retry_after) override {
    const int64_t delay_ns = to_ns(retry_after, "retry delay", name_);
    guarded(message.id, [&] {
      db_.transaction([&] {
        const int dequeue_count = check_receipt(message);
        if (dequeue_count >= options_.max_attempts) {
          move_to_poison(message.id, error);
          return;
        }
        // Clearing the receipt ends the lease: a late remove() by this worker is a Conflict.
        db_.execute(
            "UPDATE queue_messages SET last_error = ?, pop_receipt = '', visible_at_ns = ? "
            "WHERE id = ?",
            error, now_ts_ns() + delay_ns, message.id);
      });
    });
  }

  void defer(const Message& message, const std::string& error, seconds retry_after) override {
    const int64_t delay_ns = to_ns(retry_after, "retry delay", name_);
    guarded(message.id, [&] {
      db_.transaction([&] {
        check_receipt(message);
        // The delivery did not count: the next one has this one's count again.
        db_.execute(
            "UPDATE queue_messages SET last_error = ?, pop_receipt = '', visible_at_ns = ?, "
            "dequeue_count = max(dequeue_count - 1, 0) WHERE id = ?",
            error, now_ts_ns() + delay_ns, message.id);
      });
    });
  }

  void dead_letter(const Message& message, const std::string& error) override {
    guarded(message.id, [&] {
      db_.transaction([&] {
        check_receipt(message);
        move_to_poison(message.id, error);
      });
    });
  }

  int64_t count() override {
    return db_.scalar("SELECT count(*) FROM queue_messages WHERE queue = ?", name_).value_or(0);
  }

  int64_t visible_count() override {
    return db_
        .scalar("SELECT count(*) FROM queue_messages WHERE queue = ? AND visible_at_ns <= ?",
                name_, now_ts_ns())
        .value_or(0);
  }

  std::vector<QueuedMessage> list(size_t limit) override {
    std::vector<QueuedMessage> out;
    guarded("", [&] {
      auto s = db_.query(
          "SELECT id, body, dequeue_count, inserted_at_ns, visible_at_ns, last_error, "
          "coalesce(dedupe_key, '') FROM queue_messages WHERE queue = ? ORDER BY seq LIMIT ?",
          name_, static_cast<int64_t>(std::min<size_t>(limit, std::numeric_limits<int64_t>::max())));
      while (s.step()) {
        out.push_back({s.text(0), s.text(1), s.integer(2), s.int64(3), s.int64(4), s.text(5),
                       s.text(6)});
      }
    });
    return out;
  }

  std::vector<PoisonMessage> list_poison() override {
    std::vector<PoisonMessage> out;
    guarded("", [&] {
      auto s = db_.query(
          "SELECT id, body, dequeue_count, last_error FROM queue_poison WHERE queue = ? "
          "ORDER BY moved_at_ns, id",
          name_);
      while (s.step()) out.push_back({s.text(0), s.text(1), s.integer(2), s.text(3)});
    });
    return out;
  }

  int64_t poison_count() override {
    return db_.scalar("SELECT count(*) FROM queue_poison WHERE queue = ?", name_).value_or(0);
  }

  int64_t redrive(const std::vector<std::string>& ids) override {
    int64_t moved = 0;
    guarded("", [&] {
      db_.transaction([&] {
        std::vector<std::string> candidates;
        if (ids.empty()) {
          auto s = db_.query("SELECT id FROM queue_poison WHERE queue = ? ORDER BY moved_at_ns, id",
                             name_);
          while (s.step()) candidates.push_back(s.text(0));
        } else {
          candidates = ids;
        }
        const int64_t now = now_ts_ns();
        for (const std::string& id : candidates) {
          // Skipped (left in poison) when its dedupe key is queued again meanwhile: the work is
          // queued already.
          const int64_t inserted = db_.execute(
              "INSERT INTO queue_messages (queue, id, body, dequeue_count, visible_at_ns, "
              "inserted_at_ns, last_error, dedupe_key) "
              "SELECT queue, id, body, 0, ?, coalesce(inserted_at_ns, moved_at_ns), last_error, "
              "dedupe_key FROM queue_poison WHERE queue = ? AND id = ? "
              "ON CONFLICT DO NOTHING",
              now, name_, id);
          if (inserted == 0) continue;
          db_.execute("DELETE FROM queue_poison WHERE queue = ? AND id = ?", name_, id);
          ++moved;
        }
      });
    });
    return moved;
  }

  int64_t purge_poison() override {
    int64_t purged = 0;
    guarded("", [&] {
      db_.transaction(
          [&] { purged = db_.execute("DELETE FROM queue_poison WHERE queue = ?", name_); });
    });
    return purged;
  }

  void clear() override {
    guarded("", [&] {
      db_.transaction([&] {
        db_.execute("DELETE FROM queue_messages WHERE queue = ?", name_);
        db_.execute("DELETE FROM queue_poison WHERE queue = ?", name_);
      });
    });
  }

 private:
  // Validates before the database is opened (it is a member initialised from this).
  static const std::filesystem::path& checked_path(const std::filesystem::path& path,
                                                   const std::string& name,
                                                   const QueueOptions& options) {
    detail::check_queue_name(name);
    detail::check_options(name, options);
    return path;
  }

  template <typename F>
  void guarded(const std::string& message_id, F&& op) {
    detail::with_queue_context(name_, message_id, std::forward<F>(op));
  }

  // The message's dequeue count; Error::Conflict when the pop receipt is stale or it is gone.
  int check_receipt(const Message& message) {
    auto s = db_.query(
        "SELECT pop_receipt, dequeue_count FROM queue_messages WHERE id = ? AND queue = ?",
        message.id, name_);
    if (!s.step()) throw Error::Conflict(detail::gone_message(name_, message.id));
    if (message.pop_receipt.empty() || s.text(0) != message.pop_receipt) {
      throw Error::Conflict(detail::stale_receipt_message(name_, message.id));
    }
    return s.integer(1);
  }

  void move_to_poison(const std::string& id, const std::string& error) {
    db_.execute(
        "INSERT OR REPLACE INTO queue_poison (queue, id, body, dequeue_count, last_error, "
        "moved_at_ns, dedupe_key, inserted_at_ns) "
        "SELECT queue, id, body, dequeue_count, ?, ?, dedupe_key, inserted_at_ns "
        "FROM queue_messages WHERE id = ?",
        error, now_ts_ns(), id);
    db_.execute("DELETE FROM queue_messages WHERE id = ?", id);
  }

  std::string name_;
  QueueOptions options_;
  SqliteDb db_;
};

}  // namespace

std::unique_ptr<TaskQueue> open_embedded_queue(const std::filesystem::path& db_path,
                                               const std::string& name, QueueOptions options) {
  return std::make_unique<EmbeddedQueue>(db_path, name, options);
}

}  // namespace trib::queue

// The embedded queue: two tables in the workspace's SQLite file (its own connection, its own
// migrations under component "queue"). Every state change runs in one BEGIN IMMEDIATE
// transaction, so receive / remove / release are atomic across threads and processes.
#include <sys/random.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "trib/db/sqlite.hpp"
#include "trib/core/error.hpp"
#include "trib/core/time.hpp"
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

constexpr db::Migration kQueueMigrations[] = {
    {1, "queue_messages, queue_poison", kQueueSchema},
};

// 128 random bits as 32 hex digits. From the kernel on every call: a user-space generator would
// be copied into forked workers and hand out the same ids and pop receipts twice.
std::string random_hex128() {
  unsigned char bytes[16];
  size_t got = 0;
  while (got < sizeof bytes) {
    const ssize_t n = ::getrandom(bytes + got, sizeof bytes - got, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw Error::Internal(fmt::format("getrandom failed: {}", std::strerror(errno)));
    }
    got += static_cast<size_t>(n);
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(32, '0');
  for (size_t i = 0; i < sizeof bytes; ++i) {
    out[2 * i] = kHex[bytes[i] >> 4];
    out[2 * i + 1] = kHex[bytes[i] & 0xf];
  }
  return out;
}

// Azure Storage queue names: 3-63 of [a-z0-9-], starting and ending with a letter or digit, no
// "--". Enforced here too so a name that works embedded also works on Azure.
void check_queue_name(const std::string& name) {
  bool ok = name.size() >= 3 && name.size() <= 63 && name.front() != '-' && name.back() != '-' &&
            name.find("--") == std::string::npos;
  for (char c : name) ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-');
  if (!ok) {
    throw Error::InvalidInput(fmt::format(
        "queue name '{}' is invalid: use 3-63 lowercase letters, digits and single hyphens",
        name));
  }
}

int64_t to_ns(seconds s, std::string_view what, const std::string& queue) {
  if (s.count() < 0) {
    throw Error::InvalidInput(
        fmt::format("queue '{}': {} must not be negative ({} s)", queue, what, s.count()));
  }
  return s.count() * kNanosPerSecond;
}

class EmbeddedQueue final : public TaskQueue {
 public:
  EmbeddedQueue(const std::filesystem::path& path, std::string name, QueueOptions options)
      : name_(std::move(name)), options_(options), db_(checked_path(path, name_, options_)) {
    guarded("", [&] { db_.migrate("queue", kQueueMigrations); });
  }

  const std::string& name() const override { return name_; }

  std::string enqueue(const std::string& body, seconds delay) override {
    if (body.size() > kMaxBodyBytes) {
      throw Error::InvalidInput(fmt::format(
          "queue '{}': message body of {} bytes exceeds the {} byte limit", name_, body.size(),
          kMaxBodyBytes));
    }
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
                "SELECT id, body, dequeue_count, inserted_at_ns, last_error FROM queue_messages "
                "WHERE queue = ? AND visible_at_ns <= ? ORDER BY seq LIMIT 1",
                name_, now);
            if (!pick.step()) return;
            m.id = pick.text(0);
            m.body = pick.text(1);
            m.dequeue_count = pick.integer(2);
            m.inserted_at_ns = pick.int64(3);
            last_error = pick.text(4);
          }
          if (m.dequeue_count >= options_.max_attempts) {
            // Delivered max_attempts times and visible again: its last lease expired (the
            // worker died) or it was released; either way it is not delivered again.
            move_to_poison(m.id, last_error.empty()
                                     ? fmt::format("lease expired after {} deliveries",
                                                   m.dequeue_count)
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

  int64_t count() override {
    return db_.scalar("SELECT count(*) FROM queue_messages WHERE queue = ?", name_).value_or(0);
  }

  int64_t visible_count() override {
    return db_
        .scalar("SELECT count(*) FROM queue_messages WHERE queue = ? AND visible_at_ns <= ?",
                name_, now_ts_ns())
        .value_or(0);
  }

  std::vector<PoisonMessage> list_poison() override {
    auto s = db_.query(
        "SELECT id, body, dequeue_count, last_error FROM queue_poison WHERE queue = ? "
        "ORDER BY moved_at_ns, id",
        name_);
    std::vector<PoisonMessage> out;
    while (s.step()) out.push_back({s.text(0), s.text(1), s.integer(2), s.text(3)});
    return out;
  }

  int64_t poison_count() override {
    return db_.scalar("SELECT count(*) FROM queue_poison WHERE queue = ?", name_).value_or(0);
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
    check_queue_name(name);
    if (options.max_attempts < 1) {
      throw Error::InvalidInput(fmt::format("queue '{}': max_attempts must be at least 1 ({})",
                                            name, options.max_attempts));
    }
    return path;
  }

  // Runs `op`, putting the queue (and message) in front of a trib::Error's message, except for
  // the errors this class composes itself, which already name both.
  template <typename F>
  void guarded(const std::string& message_id, F&& op) {
    try {
      op();
    } catch (const Error& e) {
      if (std::string_view(e.what()).starts_with("queue '")) throw;
      throw db::with_context(
          e, message_id.empty() ? fmt::format("queue '{}'", name_)
                                : fmt::format("queue '{}' message {}", name_, message_id));
    }
  }

  // The message's dequeue count; Error::Conflict when the pop receipt is stale or it is gone.
  int check_receipt(const Message& message) {
    auto s = db_.query(
        "SELECT pop_receipt, dequeue_count FROM queue_messages WHERE id = ? AND queue = ?",
        message.id, name_);
    if (!s.step()) {
      throw Error::Conflict(fmt::format(
          "queue '{}': message {} is gone (removed, poisoned or never here)", name_, message.id));
    }
    if (message.pop_receipt.empty() || s.text(0) != message.pop_receipt) {
      throw Error::Conflict(fmt::format(
          "queue '{}': pop receipt for message {} is stale (its lease ended and it was "
          "released or received again)",
          name_, message.id));
    }
    return s.integer(1);
  }

  void move_to_poison(const std::string& id, const std::string& error) {
    db_.execute(
        "INSERT OR REPLACE INTO queue_poison (queue, id, body, dequeue_count, last_error, "
        "moved_at_ns) SELECT queue, id, body, dequeue_count, ?, ? FROM queue_messages "
        "WHERE id = ?",
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

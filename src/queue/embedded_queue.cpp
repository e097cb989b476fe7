// The embedded queue: two tables in the workspace's SQLite file. Every state change runs in one
// BEGIN IMMEDIATE transaction, so receive/remove/release are atomic across threads and processes.
#include <algorithm>
#include <random>

#include <fmt/format.h>

#include "trib/catalog/sqlite.hpp"
#include "trib/core/error.hpp"
#include "trib/core/time.hpp"
#include "trib/queue/task_queue.hpp"

namespace trib::queue {
namespace {

using catalog::SqliteDb;

std::string random_hex128() {
  thread_local std::mt19937_64 rng{std::random_device{}() ^
                                   static_cast<uint64_t>(now_ts_ns())};
  return fmt::format("{:016x}{:016x}", rng(), rng());
}

// Persistent schema (shared by every queue in the file): do not rename columns.
constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS queue_messages (
  seq            INTEGER PRIMARY KEY AUTOINCREMENT,
  queue          TEXT NOT NULL,
  id             TEXT NOT NULL UNIQUE,
  body           TEXT NOT NULL,
  dequeue_count  INTEGER NOT NULL DEFAULT 0,
  visible_at_ns  INTEGER NOT NULL,
  pop_receipt    TEXT,
  inserted_at_ns INTEGER NOT NULL,
  last_error     TEXT
);
CREATE INDEX IF NOT EXISTS queue_messages_visible ON queue_messages (queue, visible_at_ns, seq);
CREATE TABLE IF NOT EXISTS queue_poison (
  queue         TEXT NOT NULL,
  id            TEXT NOT NULL PRIMARY KEY,
  body          TEXT NOT NULL,
  dequeue_count INTEGER NOT NULL,
  last_error    TEXT NOT NULL,
  moved_at_ns   INTEGER NOT NULL
);
)sql";

class EmbeddedQueue final : public TaskQueue {
 public:
  EmbeddedQueue(const std::filesystem::path& path, std::string name, QueueOptions options)
      : db_(path), name_(std::move(name)), options_(options) {
    if (name_.size() < 3 || name_.size() > 63) {
      throw Error::InvalidInput(fmt::format("queue name '{}' must have 3 to 63 characters", name_));
    }
    if (options_.max_attempts < 1) throw Error::InvalidInput("queue max_attempts must be at least 1");
    db_.transaction([&] { db_.exec(kSchema); });
  }

  const std::string& name() const override { return name_; }

  std::string enqueue(const std::string& body, std::chrono::seconds delay) override {
    if (body.size() > kMaxBodyBytes) {
      throw Error::InvalidInput(fmt::format("queue '{}': message of {} bytes exceeds the {} byte limit",
                                            name_, body.size(), kMaxBodyBytes));
    }
    std::string id = random_hex128();
    const int64_t now = now_ts_ns();
    db_.prepare("INSERT INTO queue_messages (queue, id, body, visible_at_ns, inserted_at_ns) "
                "VALUES (?, ?, ?, ?, ?)")
        .bind(1, name_).bind(2, id).bind(3, body)
        .bind(4, now + delay.count() * kNanosPerSecond).bind(5, now)
        .run();
    return id;
  }

  std::optional<Message> receive(std::chrono::seconds visibility_timeout) override {
    std::optional<Message> out;
    db_.transaction([&] {
      while (true) {
        const int64_t now = now_ts_ns();
        auto& pick = db_.prepare(
            "SELECT id, body, dequeue_count, inserted_at_ns, last_error FROM queue_messages "
            "WHERE queue = ? AND visible_at_ns <= ? ORDER BY seq LIMIT 1");
        pick.bind(1, name_).bind(2, now);
        if (!pick.step()) return;
        Message m;
        m.id = pick.text(0);
        m.body = pick.text(1);
        m.dequeue_count = static_cast<int>(pick.int64(2));
        m.inserted_at_ns = pick.int64(3);
        std::string last_error = pick.text(4);
        pick.reset();
        if (m.dequeue_count >= options_.max_attempts) {
          // Delivered max_attempts times and back again: its last lease expired (a crash) or it
          // was released after failing. It goes to poison instead of another delivery.
          move_to_poison(m.id, last_error.empty()
                                   ? fmt::format("lease expired after {} deliveries", m.dequeue_count)
                                   : last_error);
          continue;
        }
        m.dequeue_count += 1;
        m.pop_receipt = random_hex128();
        db_.prepare("UPDATE queue_messages SET dequeue_count = ?, pop_receipt = ?, visible_at_ns = ? "
                    "WHERE id = ?")
            .bind(1, m.dequeue_count).bind(2, m.pop_receipt)
            .bind(3, now + visibility_timeout.count() * kNanosPerSecond).bind(4, m.id)
            .run();
        out = std::move(m);
        return;
      }
    });
    return out;
  }

  void remove(const Message& message) override {
    db_.transaction([&] {
      check_receipt(message);
      db_.prepare("DELETE FROM queue_messages WHERE id = ?").bind(1, message.id).run();
    });
  }

  void update_visibility(Message& message, std::chrono::seconds visibility_timeout) override {
    std::string receipt = random_hex128();
    db_.transaction([&] {
      check_receipt(message);
      db_.prepare("UPDATE queue_messages SET pop_receipt = ?, visible_at_ns = ? WHERE id = ?")
          .bind(1, receipt).bind(2, now_ts_ns() + visibility_timeout.count() * kNanosPerSecond)
          .bind(3, message.id)
          .run();
    });
    message.pop_receipt = receipt;
  }

  void release(const Message& message, const std::string& error,
               std::chrono::seconds retry_after) override {
    db_.transaction([&] {
      int dequeue_count = check_receipt(message);
      if (dequeue_count >= options_.max_attempts) {
        db_.prepare("UPDATE queue_messages SET last_error = ? WHERE id = ?")
            .bind(1, error).bind(2, message.id).run();
        move_to_poison(message.id, error);
        return;
      }
      db_.prepare("UPDATE queue_messages SET last_error = ?, pop_receipt = NULL, visible_at_ns = ? "
                  "WHERE id = ?")
          .bind(1, error).bind(2, now_ts_ns() + retry_after.count() * kNanosPerSecond)
          .bind(3, message.id)
          .run();
    });
  }

  int64_t count() override { return scalar("SELECT count(*) FROM queue_messages WHERE queue = ?"); }

  int64_t visible_count() override {
    auto& s = db_.prepare("SELECT count(*) FROM queue_messages WHERE queue = ? AND visible_at_ns <= ?");
    s.bind(1, name_).bind(2, now_ts_ns());
    s.step();
    int64_t n = s.int64(0);
    s.reset();
    return n;
  }

  std::vector<PoisonMessage> list_poison() override {
    std::vector<PoisonMessage> out;
    auto& s = db_.prepare("SELECT id, body, dequeue_count, last_error FROM queue_poison "
                          "WHERE queue = ? ORDER BY moved_at_ns, id");
    s.bind(1, name_ + "-poison");
    while (s.step()) {
      out.push_back({s.text(0), s.text(1), static_cast<int>(s.int64(2)), s.text(3)});
    }
    s.reset();
    return out;
  }

  int64_t poison_count() override {
    auto& s = db_.prepare("SELECT count(*) FROM queue_poison WHERE queue = ?");
    s.bind(1, name_ + "-poison");
    s.step();
    int64_t n = s.int64(0);
    s.reset();
    return n;
  }

  void clear() override {
    db_.transaction([&] {
      db_.prepare("DELETE FROM queue_messages WHERE queue = ?").bind(1, name_).run();
      db_.prepare("DELETE FROM queue_poison WHERE queue = ?").bind(1, name_ + "-poison").run();
    });
  }

 private:
  int64_t scalar(const std::string& sql) {
    auto& s = db_.prepare(sql);
    s.bind(1, name_);
    s.step();
    int64_t n = s.int64(0);
    s.reset();
    return n;
  }

  // Returns the message's dequeue count; Error::Conflict when the receipt is stale or it is gone.
  int check_receipt(const Message& message) {
    auto& s = db_.prepare("SELECT pop_receipt, dequeue_count FROM queue_messages WHERE id = ? AND queue = ?");
    s.bind(1, message.id).bind(2, name_);
    if (!s.step()) {
      s.reset();
      throw Error::Conflict(fmt::format("queue '{}': message {} is gone (removed or poisoned)", name_, message.id));
    }
    std::string receipt = s.text(0);
    int dequeue_count = static_cast<int>(s.int64(1));
    s.reset();
    if (receipt != message.pop_receipt) {
      throw Error::Conflict(fmt::format(
          "queue '{}': pop receipt of message {} is stale (its lease expired and it was received again)",
          name_, message.id));
    }
    return dequeue_count;
  }

  void move_to_poison(const std::string& id, const std::string& error) {
    db_.prepare("INSERT OR REPLACE INTO queue_poison (queue, id, body, dequeue_count, last_error, moved_at_ns) "
                "SELECT ?, id, body, dequeue_count, ?, ? FROM queue_messages WHERE id = ?")
        .bind(1, name_ + "-poison").bind(2, error).bind(3, now_ts_ns()).bind(4, id)
        .run();
    db_.prepare("DELETE FROM queue_messages WHERE id = ?").bind(1, id).run();
  }

  SqliteDb db_;
  std::string name_;
  QueueOptions options_;
};

}  // namespace

std::unique_ptr<TaskQueue> open_embedded_queue(const std::filesystem::path& db_path,
                                               const std::string& name, QueueOptions options) {
  return std::make_unique<EmbeddedQueue>(db_path, name, options);
}

}  // namespace trib::queue

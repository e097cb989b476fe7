// queue: at-least-once task queue with Azure Storage Queue semantics, so the embedded default
// and the Azure backend are interchangeable:
//  - receive() leases a message for a visibility timeout and returns it with a pop receipt and
//    its dequeue count (1 on first delivery);
//  - remove() with the current pop receipt deletes it after the effect is committed;
//  - a worker that crashes never calls remove(): the message becomes visible again when the
//    lease expires and is delivered with dequeue count + 1;
//  - a message that has been delivered max_attempts times and comes back once more is moved to
//    "<name>-poison" together with its last error instead of being delivered again;
//  - bodies are text (JSON by convention), at most 64 KiB.
// Embedded implementation: a table in the workspace's SQLite database (the catalog file).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace trib::queue {

inline constexpr size_t kMaxBodyBytes = 64 * 1024;

struct Message {
  std::string id;
  std::string pop_receipt;  // changes on every receive / update_visibility
  int dequeue_count = 0;
  std::string body;
  int64_t inserted_at_ns = 0;
};

struct PoisonMessage {
  std::string id;
  std::string body;
  int dequeue_count = 0;
  std::string last_error;
};

struct QueueOptions {
  int max_attempts = 5;
};

class TaskQueue {
 public:
  virtual ~TaskQueue() = default;
  virtual const std::string& name() const = 0;

  // Adds a message; visible after `delay`. Throws Error::InvalidInput when the body exceeds
  // kMaxBodyBytes. Returns the message id.
  virtual std::string enqueue(const std::string& body,
                              std::chrono::seconds delay = std::chrono::seconds(0)) = 0;
  // Leases the oldest visible message for `visibility_timeout`, or returns nullopt when none is
  // visible. Messages past max_attempts are moved to the poison queue here, never returned.
  virtual std::optional<Message> receive(std::chrono::seconds visibility_timeout) = 0;
  // Deletes a leased message. Throws Error::Conflict when the pop receipt is stale (the lease
  // expired and someone else holds the message now).
  virtual void remove(const Message& message) = 0;
  // Extends (or shortens) a lease; updates message.pop_receipt. Error::Conflict when stale.
  virtual void update_visibility(Message& message, std::chrono::seconds visibility_timeout) = 0;
  // Gives a message back after a failed attempt: records `error` as its last error and makes it
  // visible after `retry_after`. When it has already been delivered max_attempts times it goes
  // to the poison queue at once. Error::Conflict when the pop receipt is stale.
  virtual void release(const Message& message, const std::string& error,
                       std::chrono::seconds retry_after) = 0;

  // Messages not yet removed (visible or leased), and those visible now.
  virtual int64_t count() = 0;
  virtual int64_t visible_count() = 0;
  virtual std::vector<PoisonMessage> list_poison() = 0;
  virtual int64_t poison_count() = 0;
  // Deletes every message and poison message of this queue (tests, `trib worker --purge`).
  virtual void clear() = 0;
};

// Opens (creating tables if missing) the queue `name` inside the SQLite database at `db_path`.
// One object per thread; any number of processes may share the file.
std::unique_ptr<TaskQueue> open_embedded_queue(const std::filesystem::path& db_path,
                                               const std::string& name, QueueOptions options = {});

}  // namespace trib::queue

// queue: at-least-once task queue with Azure Storage Queue semantics, so the embedded default
// and the Azure backend are interchangeable:
//  - receive() leases a message for a visibility timeout and returns it with a pop receipt and
//    its dequeue count (1 on first delivery);
//  - remove() with the current pop receipt deletes it after the effect is committed;
//  - a worker that crashes never calls remove(): the message becomes visible again when the
//    lease expires and is delivered with dequeue count + 1;
//  - a message that has been delivered max_attempts times and comes back once more is moved to
//    "<name>-poison" together with its last error instead of being delivered again;
//  - dead_letter() moves a leased message to the poison queue at once (a permanent error:
//    retrying cannot help), and redrive() moves poison messages back with a fresh count;
//  - an enqueue may carry a dedupe key: while a message with that key is in the queue (visible
//    or leased, not poisoned or removed) a second enqueue with the key adds nothing, so
//    re-planning the same work does not queue it twice;
//  - bodies are UTF-8 text without NUL bytes (JSON by convention), at most kMaxBodyBytes (32 KiB);
//    anything else is Error::InvalidInput on every backend. 32 KiB, not Azure's 64 KiB: Azure
//    counts the Base64 text (4/3 of the bytes) plus our envelope header, so 32 KiB is what fits
//    there with room to spare, and every backend refuses the same bodies;
//  - queue names are Azure's: 3-63 of [a-z0-9-], no leading, trailing or double hyphen, and at
//    most 56 characters so that "<name>-poison" is a valid name too.
// Implementations: embedded (tables in the workspace's SQLite file), PostgreSQL (tables in the
// catalog database, leases taken with FOR UPDATE SKIP LOCKED) and Azure Storage Queue. One
// value-parameterized test suite (tests/queue, Backends/QueueTest.*/<backend>) runs over every
// implementation.
//
// What Azure cannot do exactly (the shared suite marks these lines per backend, with the reason;
// everything else holds on Azure too):
//  - ids are the service's (GUIDs, not 32 hex digits) and pop receipts its own strings; a
//    redriven message is a new Azure message with a new id (list_poison() and redrive(ids) use
//    the id the message had before it was poisoned);
//  - delivery order is best effort (Azure promises no order; Azurite delivers by the time a
//    message became visible, so a released message goes behind older ones);
//  - count() and poison_count() are Azure's approximate message counts (exact on Azurite);
//  - list(), visible_count() and list_poison() peek: at most 32 messages, visible ones only
//    (leased and delayed messages cannot be seen without receiving them);
//  - durations: a lease is at least 1 second and no duration may exceed 7 days (InvalidInput);
//  - moves between queues (poisoning, redrive) are two requests, put then delete: a crash in
//    between, or another worker taking the message meanwhile, can leave a copy in both.
//
// Clocks: the embedded queue times leases with the local clock (every process sharing the file
// runs on this machine); the PostgreSQL queue with the database server's clock only, so workers
// on machines whose clocks disagree still agree on when a lease ends; Azure with the service's.
// Timestamps reported (inserted_at_ns, visible_at_ns) come from that clock.
//
// Errors other than those documented below come from the storage (trib::Error categories of
// db/sqlite.hpp, db/postgres.hpp and net/azure_storage.hpp: Retryable for a busy database, a lost
// connection or a 5xx answer, ...), with the queue (and message) named in front.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace trib::net::azure {
struct StorageAccount;
}

namespace trib::queue {

inline constexpr size_t kMaxBodyBytes = 32 * 1024;

struct Message {
  std::string id;
  std::string pop_receipt;  // changes on every receive / update_visibility
  int dequeue_count = 0;
  std::string body;
  int64_t inserted_at_ns = 0;
  // The key it was enqueued with, "" for none. remove / release / dead_letter need it back as
  // received (the Azure queue frees the key's marker and keeps the key across a release).
  std::string dedupe_key;
  // Azure only: how many of the service's deliveries were deferrals (defer()), carried in the
  // message's envelope; dequeue_count above already has them subtracted.
  int deferrals = 0;
};

// A message as listed (peeked): nothing about it changes by looking.
struct QueuedMessage {
  std::string id;
  std::string body;
  int dequeue_count = 0;
  int64_t inserted_at_ns = 0;
  int64_t visible_at_ns = 0;  // in the future while leased or delayed
  std::string last_error;
  std::string dedupe_key;
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
  // Adds a message unless one with `dedupe_key` (1-1024 bytes of text) is in the queue already
  // (visible, delayed or leased); returns the new id, or nullopt when it was already queued
  // (nothing added). Atomic against concurrent enqueues of the same key. Once its message is
  // removed or poisoned, the key is free again.
  virtual std::optional<std::string> enqueue_unique(const std::string& body,
                                                    const std::string& dedupe_key,
                                                    std::chrono::seconds delay =
                                                        std::chrono::seconds(0)) = 0;
  // Leases the oldest visible message for `visibility_timeout`, or returns nullopt when none is
  // visible. Messages past max_attempts are moved to the poison queue here, never returned.
  // (Azure: some visible message, at least 1 s; see the header comment.)
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
  // Gives a message back without counting its delivery: the work was not attempted (a vendor's
  // request budget is used up until `retry_after`), so deferring it any number of times never
  // moves it to poison. Records `error` and makes it visible after `retry_after`; its next
  // delivery carries the same dequeue count as this one. Error::Conflict when the pop receipt is
  // stale. (Azure keeps its own DequeueCount: the deferrals travel in the message's envelope and
  // are subtracted.)
  virtual void defer(const Message& message, const std::string& error,
                     std::chrono::seconds retry_after) = 0;
  // Moves a leased message to the poison queue now, with `error` (a permanent failure: invalid
  // input, not found). Error::Conflict when the pop receipt is stale.
  virtual void dead_letter(const Message& message, const std::string& error) = 0;

  // Messages not yet removed (visible or leased), and those visible now.
  virtual int64_t count() = 0;
  virtual int64_t visible_count() = 0;
  // Up to `limit` messages in delivery order (oldest first), leased ones included. (Azure: at
  // most 32, visible ones only; see the header comment.)
  virtual std::vector<QueuedMessage> list(size_t limit = 1000) = 0;
  virtual std::vector<PoisonMessage> list_poison() = 0;
  virtual int64_t poison_count() = 0;
  // Moves poison messages back to the queue (all when `ids` is empty, else those ids; unknown ids
  // are ignored), same id, at the back of the queue, visible now with dequeue count 0 and their
  // last error and dedupe key kept; returns how many moved. A poison message whose dedupe key
  // is queued again meanwhile stays in poison (redriving it would queue the same work twice).
  virtual int64_t redrive(const std::vector<std::string>& ids = {}) = 0;
  // Deletes the poison messages; returns how many.
  virtual int64_t purge_poison() = 0;
  // Deletes every message and poison message of this queue (tests, `trib queue purge --all`).
  virtual void clear() = 0;
};

// Opens (creating tables if missing) the queue `name` inside the SQLite database at `db_path`.
// One object per thread; any number of processes may share the file.
std::unique_ptr<TaskQueue> open_embedded_queue(const std::filesystem::path& db_path,
                                               const std::string& name, QueueOptions options = {});

// Opens (creating tables if missing) the queue `name` in the PostgreSQL database at
// `connection_url` (libpq URL or key=value string; the password comes from the environment:
// PGPASSWORD or ~/.pgpass, never from trib.toml). Tables queue_messages and queue_poison live
// in the first schema of the search path (choose one with options=-csearch_path=<schema>).
// One object per thread (one connection each); a lost connection is Error::Retryable and the
// next call reconnects. Connecting fails with InvalidInput (bad URL), Permanent (credentials,
// unknown role or database) or Retryable (server unreachable), never naming the password.
std::unique_ptr<TaskQueue> open_postgres_queue(const std::string& connection_url,
                                               const std::string& name, QueueOptions options = {});

// Opens the Azure Storage queue `name` of `account` (net/azure_storage.hpp: a connection string
// or the environment), with "<name>-poison" beside it. With `create` (trib init, tests) the two
// queues and the blob container "trib-queue-keys" (dedupe-key markers) are created when missing;
// without it a missing queue is Error::NotFound saying to run `trib init`. A bad name is
// Error::InvalidInput before any request; a refused credential is Error::Permanent saying which
// setting to check (never showing the key or the SAS token).
//
// How it maps the contract (docs/architecture.md, "Azure Storage Queue"):
//  - a message's text is Base64 of the UTF-8 body, as Azure Functions' queue trigger expects; a
//    message that needs more (a dedupe key, a last error, a body starting "trib-envelope/1 ")
//    travels as Base64 of "trib-envelope/1 <one-line JSON header>\n<body>". Messages never
//    expire (messagettl=-1);
//  - receive() gets one message; one delivered more than max_attempts times goes to poison
//    (put there first, then deleted), as does one whose text does not decode (copied verbatim);
//  - dedupe keys are marker blobs "<name>/<sha256 of key>" in container trib-queue-keys, created
//    with If-None-Match: *; the marker is deleted before its message, so a crash in between can
//    at worst queue the work twice, never lose it. A consumer that deletes messages without us
//    (the Functions host) leaves markers behind: clear() deletes them;
//  - poison messages are envelopes carrying the last error, the dequeue count, the original id
//    and the dedupe key; one without an envelope (the Functions host copies the plain body) is
//    listed with last_error "" and redriven as a plain body.
// Leases are timed by the service's clock. One object per thread (one HTTP connection); no
// state is shared between objects, and an object may be created after fork().
std::unique_ptr<TaskQueue> open_azure_queue(const net::azure::StorageAccount& account,
                                            const std::string& name, QueueOptions options = {},
                                            bool create = true);

// A message as Azure Functions' queue trigger hands it to a custom handler: the host has already
// Base64-decoded the text, so `decoded` is a plain body or one of our envelopes. Returns the
// Message (body and dedupe key from the envelope; id, pop receipt and dequeue count from the
// invocation's metadata), so the handler can remove() or dead_letter() it through
// open_azure_queue like any worker. Error::InvalidInput (naming `id`) when it is not text or its
// envelope is malformed.
Message azure_trigger_message(std::string_view decoded, const std::string& id, const std::string& pop_receipt,
                              int dequeue_count);

}  // namespace trib::queue

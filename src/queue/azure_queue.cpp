// The Azure Storage Queue implementation of TaskQueue: queue "<name>" and "<name>-poison" of one
// storage account, over the REST API (net::azure::StorageClient signs, retries and maps errors),
// plus dedupe-key markers in the account's Blob service. What it cannot do exactly is listed in
// task_queue.hpp; the design is in docs/architecture.md ("Azure Storage Queue").
//
// Requests per operation: enqueue 1; receive 1 (plus 3 per message it poisons); remove 1, or 4
// with a dedupe key (check the receipt, read and delete the marker, delete); update_visibility,
// release 1; dead_letter 3 (+2 with a key); enqueue_unique 4 (marker, put held back, marker gets
// the id, release the hold).
//
// Moving a message between queues is put-then-delete, never the reverse: a crash in between
// leaves two copies (at least once), never none. A move starts from a lease we hold and have
// just checked (Update Message with our receipt), so a stale receipt moves nothing.
#include "azure_queue.hpp"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "azure_envelope.hpp"
#include "azure_queue_xml.hpp"
#include "queue_common.hpp"
#include "trib/core/error.hpp"
#include "trib/core/hash.hpp"
#include "trib/core/log.hpp"
#include "trib/core/time.hpp"
#include "trib/net/http_date.hpp"
#include "trib/net/url.hpp"

namespace trib::queue::azure {
namespace {

using net::HttpRequest;
using net::HttpResponse;
using net::azure::Service;
using net::azure::StorageClient;
using nlohmann::json;
using std::chrono::seconds;

// Azure's bounds on visibility timeouts and delays (Put, Get, Update Message): 7 days; a Get
// lease is at least 1 second.
constexpr int64_t kMaxSeconds = 7 * 24 * 3600;
// The lease a move (poisoning, dead-lettering, redrive) takes while it works: long enough for its
// few requests, short enough that a crash costs little.
constexpr int64_t kMoveLeaseSeconds = 60;
// The lease a remove of a keyed message takes when it checks that it still holds the message,
// before it frees the key and deletes the message (two or three requests). Short: when that
// check's answer is lost, the new pop receipt is unknown, and the message, its work done, stays
// hidden until this lease ends and is delivered (and done) again. Should the lease end before
// the remove does, another consumer gets the message and does the work again: at least once.
constexpr int64_t kRemoveLeaseSeconds = 10;
// A keyed message is put hidden for this long, until its marker names it; then made visible.
constexpr int64_t kPutHoldSeconds = 60;
constexpr int kPeekMax = 32;

enum class Outcome { kDone, kGone, kStale };

int64_t azure_seconds(seconds s, std::string_view what, const std::string& queue) {
  const int64_t n = detail::checked_seconds(s, what, queue);
  if (n > kMaxSeconds) {
    throw Error::InvalidInput(fmt::format(
        "queue '{}': {} of {} s is over Azure's limit of 7 days ({} s)", queue, what, n,
        kMaxSeconds));
  }
  return n;
}

// An envelope with the body, the key and the last error (the main queue's fields).
Envelope envelope_of(std::string body, std::string dedupe_key = {}, std::string last_error = {}) {
  Envelope e;
  e.body = std::move(body);
  e.dedupe_key = std::move(dedupe_key);
  e.last_error = std::move(last_error);
  return e;
}

int64_t to_ns(std::optional<int64_t> unix_seconds) {
  return unix_seconds ? *unix_seconds * kNanosPerSecond : 0;
}

struct Marker {
  std::string etag;
  std::string key;
  std::string message_id;
  int64_t queued_at_ns = 0;
  int64_t age_s = 0;     // by the service's clock: Date - Last-Modified
  bool damaged = false;  // its body is not a marker we wrote (the fields above but etag, age unset)
};

// A marker we hold: its ETag and the queued_at_ns we wrote (which identifies our write).
struct HeldMarker {
  std::string blob;
  std::string etag;
  int64_t queued_at_ns = 0;
};

std::string marker_json(const std::string& key, int64_t queued_at_ns, const std::string& id) {
  return json{{"key", key}, {"queued_at_ns", queued_at_ns}, {"message_id", id}}.dump();
}

class AzureQueue final : public TaskQueue {
 public:
  AzureQueue(const net::azure::StorageAccount& account, std::string name, QueueOptions options,
             bool create, Tuning tuning)
      : name_(checked_name(std::move(name), options)),
        poison_(name_ + std::string(detail::kPoisonSuffix)),
        options_(options),
        tuning_(tuning),
        client_(account, tuning.client) {
    guarded("", [&] {
      if (create) {
        create_queue(name_);
        create_queue(poison_);
        create_container();
      } else {
        check_queue(name_);
        check_queue(poison_);
      }
    });
  }

  const std::string& name() const override { return name_; }

  std::string enqueue(const std::string& body, seconds delay) override {
    detail::check_body(name_, body);
    const int64_t delay_s = azure_seconds(delay, "delay", name_);
    std::string id;
    guarded("", [&] { id = put_message(name_, encode_message_text(envelope_of(body)), delay_s).id; });
    return id;
  }

  std::optional<std::string> enqueue_unique(const std::string& body, const std::string& dedupe_key,
                                            seconds delay) override {
    detail::check_body(name_, body);
    detail::check_dedupe_key(name_, dedupe_key);
    const int64_t delay_s = azure_seconds(delay, "delay", name_);
    std::optional<std::string> id;
    guarded("", [&] {
      std::optional<HeldMarker> marker = acquire_marker(dedupe_key);
      if (!marker) return;  // queued already
      try {
        id = put_keyed(encode_message_text(envelope_of(body, dedupe_key)), delay_s,
                       *marker, dedupe_key);
      } catch (...) {
        // Nothing was queued (or we cannot tell): give the key back rather than hold it for a
        // message that may not exist. Worst case a later enqueue queues the work twice.
        drop_marker(marker->blob, marker->etag);
        throw;
      }
    });
    return id;
  }

  std::optional<Message> receive(seconds visibility_timeout) override {
    // Azure's shortest lease is 1 s; 0 (give it back at once) is not expressible on Get.
    const int64_t lease_s =
        std::max<int64_t>(1, azure_seconds(visibility_timeout, "visibility timeout", name_));
    std::optional<Message> out;
    guarded("", [&] {
      while (true) {
        std::vector<XmlQueueMessage> got = get_messages(name_, 1, lease_s);
        if (got.empty()) return;
        XmlQueueMessage& raw = got.front();
        Envelope envelope;
        try {
          envelope = decode_message_text(*raw.message_text, raw.message_id);
        } catch (const Error& e) {
          if (e.category() != ErrorCategory::kInvalidInput) throw;
          // It will never decode: to poison now, its text copied verbatim (nothing is lost),
          // instead of failing every receive until its attempts run out.
          log::warn("queue '{}': {}; moved to '{}' as it is", name_, e.what(), poison_);
          move_out(raw.message_id, raw.pop_receipt, *raw.message_text, "");
          continue;
        }
        // Deliveries given back by defer() do not count.
        const int dequeue_count = std::max(1, *raw.dequeue_count - envelope.deferrals);
        if (dequeue_count > options_.max_attempts) {
          // Delivered max_attempts times and visible again: the last lease expired (the worker
          // died) or it was released on its last attempt; it is not delivered again.
          const int deliveries = dequeue_count - 1;
          poison(raw.message_id, raw.pop_receipt, envelope,
                 envelope.last_error.empty() ? detail::lease_expired_error(deliveries)
                                             : envelope.last_error,
                 deliveries, *raw.message_text);
          continue;
        }
        out = Message{raw.message_id,     raw.pop_receipt,
                      dequeue_count, std::move(envelope.body),
                      to_ns(raw.insertion_time_s), std::move(envelope.dedupe_key),
                      envelope.deferrals};
        return;
      }
    });
    return out;
  }

  void remove(const Message& message) override {
    guarded(message.id, [&] {
      std::string receipt = message.pop_receipt;
      if (!message.dedupe_key.empty()) {
        // The marker goes first, but only once we know the message is still ours: a stale
        // receipt must not free the key of a message someone else is working on.
        receipt = check_lease(message, kRemoveLeaseSeconds);
        release_marker(message.dedupe_key, message.id);
      }
      conflict_unless_done(delete_message(name_, message.id, receipt), message.id);
    });
  }

  void update_visibility(Message& message, seconds visibility_timeout) override {
    const int64_t lease_s = azure_seconds(visibility_timeout, "visibility timeout", name_);
    guarded(message.id, [&] {
      auto [outcome, receipt] =
          update_message(name_, message.id, message.pop_receipt, lease_s, std::nullopt);
      conflict_unless_done(outcome, message.id);
      message.pop_receipt = std::move(receipt);
    });
  }

  void release(const Message& message, const std::string& error, seconds retry_after) override {
    const int64_t delay_s = azure_seconds(retry_after, "retry delay", name_);
    guarded(message.id, [&] {
      if (message.dequeue_count >= options_.max_attempts) {
        dead_letter_leased(message, error);
        return;
      }
      // The error travels in the message's text: Update Message replaces it with an envelope
      // carrying the body, the key and the error, and hides it for the retry delay.
      Envelope envelope = envelope_of(message.body, message.dedupe_key, truncate_error(error));
      envelope.deferrals = message.deferrals;
      std::string text = encode_message_text(envelope);
      if (text.size() > kMaxMessageTextBytes) {  // only a foreign body this large: keep it whole
        envelope.last_error.clear();
        text = encode_message_text(envelope);
      }
      conflict_unless_done(update_message(name_, message.id, message.pop_receipt, delay_s, text).first,
                           message.id);
    });
  }

  void defer(const Message& message, const std::string& error, seconds retry_after) override {
    const int64_t delay_s = azure_seconds(retry_after, "retry delay", name_);
    guarded(message.id, [&] {
      // Azure counts every Get; the envelope counts the deferrals, which receive() subtracts.
      Envelope envelope = envelope_of(message.body, message.dedupe_key, truncate_error(error));
      envelope.deferrals = message.deferrals + 1;
      std::string text = encode_message_text(envelope);
      if (text.size() > kMaxMessageTextBytes) {
        envelope.last_error.clear();
        text = encode_message_text(envelope);
      }
      conflict_unless_done(update_message(name_, message.id, message.pop_receipt, delay_s, text).first,
                           message.id);
    });
  }

  void dead_letter(const Message& message, const std::string& error) override {
    guarded(message.id, [&] { dead_letter_leased(message, error); });
  }

  int64_t count() override {
    int64_t n = 0;
    guarded("", [&] { n = approximate_count(name_); });
    return n;
  }

  int64_t visible_count() override {
    int64_t n = 0;
    guarded("", [&] { n = static_cast<int64_t>(peek(name_, kPeekMax).messages.size()); });
    return n;
  }

  std::vector<QueuedMessage> list(size_t limit) override {
    std::vector<QueuedMessage> out;
    if (limit == 0) return out;
    guarded("", [&] {
      Peeked peeked = peek(name_, static_cast<int>(std::min<size_t>(limit, kPeekMax)));
      for (XmlQueueMessage& raw : peeked.messages) {
        QueuedMessage m;
        m.id = raw.message_id;
        m.dequeue_count = raw.dequeue_count.value_or(0);
        m.inserted_at_ns = to_ns(raw.insertion_time_s);
        // (A peek does not count as a delivery; deferrals are subtracted below.)
        // Peeked messages are visible: now, by the service's clock.
        m.visible_at_ns = raw.time_next_visible_s ? to_ns(raw.time_next_visible_s) : peeked.now_ns;
        try {
          Envelope envelope = decode_message_text(*raw.message_text, raw.message_id);
          m.body = std::move(envelope.body);
          m.last_error = std::move(envelope.last_error);
          m.dedupe_key = std::move(envelope.dedupe_key);
          m.dequeue_count = std::max(0, m.dequeue_count - envelope.deferrals);
        } catch (const Error& e) {
          if (e.category() != ErrorCategory::kInvalidInput) throw;
          m.body = *raw.message_text;  // shown as it is; receive() will poison it
          m.last_error = e.what();
        }
        out.push_back(std::move(m));
      }
    });
    return out;
  }

  std::vector<PoisonMessage> list_poison() override {
    std::vector<PoisonMessage> out;
    guarded("", [&] {
      for (XmlQueueMessage& raw : peek(poison_, kPeekMax).messages) {
        const PoisonEntry entry = poison_entry(raw);
        out.push_back({entry.reported_id, entry.envelope ? entry.envelope->body : *raw.message_text,
                       entry.envelope ? entry.envelope->dequeue_count.value_or(0) : 0,
                       entry.envelope ? entry.envelope->last_error : entry.decode_error});
      }
    });
    return out;
  }

  int64_t poison_count() override {
    int64_t n = 0;
    guarded("", [&] { n = approximate_count(poison_); });
    return n;
  }

  int64_t redrive(const std::vector<std::string>& ids) override {
    int64_t moved = 0;
    guarded("", [&] {
      const std::set<std::string> wanted(ids.begin(), ids.end());
      // Azure cannot look messages up: lease every poison message (32 at a time; leased ones
      // are hidden, so the next batch is new ones), move those asked for, give the rest back.
      std::vector<XmlQueueMessage> give_back;
      try {
        while (true) {
          std::vector<XmlQueueMessage> batch = get_messages(poison_, kPeekMax, kMoveLeaseSeconds);
          if (batch.empty()) break;
          for (XmlQueueMessage& raw : batch) {
            const PoisonEntry entry = poison_entry(raw);
            if (!wanted.empty() && !wanted.contains(entry.reported_id) &&
                !wanted.contains(raw.message_id)) {
              give_back.push_back(std::move(raw));
              continue;
            }
            if (redrive_one(raw, entry)) {
              ++moved;
            } else {
              give_back.push_back(std::move(raw));
            }
          }
        }
      } catch (...) {
        give_back_all(give_back);
        throw;
      }
      give_back_all(give_back);
    });
    return moved;
  }

  int64_t purge_poison() override {
    int64_t purged = 0;
    guarded("", [&] {
      purged = approximate_count(poison_);
      clear_messages(poison_);
    });
    return purged;
  }

  void clear() override {
    guarded("", [&] {
      // Markers first (as everywhere): a crash in between leaves messages without markers.
      delete_markers();
      clear_messages(name_);
      clear_messages(poison_);
    });
  }

 private:
  // A poison message as we show it: the id it had in the main queue when its envelope says so
  // (else its own), and its envelope, or why its text does not decode.
  struct PoisonEntry {
    std::string reported_id;
    std::optional<Envelope> envelope;
    std::string decode_error;
  };

  struct Peeked {
    std::vector<XmlQueueMessage> messages;
    int64_t now_ns = 0;  // the service's Date
  };

  struct Put {
    std::string id;
    std::string pop_receipt;
  };

  static std::string checked_name(std::string name, const QueueOptions& options) {
    detail::check_queue_name(name);
    detail::check_options(name, options);
    return name;
  }

  template <typename F>
  void guarded(const std::string& message_id, F&& op) {
    detail::with_queue_context(name_, message_id, std::forward<F>(op));
  }

  // "queue 'q': what" — starts like the errors with_queue_context leaves alone.
  static std::string what(const std::string& queue, std::string_view op) {
    return fmt::format("queue '{}': {}", queue, op);
  }

  void conflict_unless_done(Outcome outcome, const std::string& id) {
    if (outcome == Outcome::kGone) throw Error::Conflict(detail::gone_message(name_, id));
    if (outcome == Outcome::kStale) throw Error::Conflict(detail::stale_receipt_message(name_, id));
  }

  HttpResponse send(std::string method, Service service, const std::string& path,
                    const std::string& query, std::string body = {},
                    net::HeaderList headers = {}, int* attempts = nullptr) {
    HttpRequest request;
    request.method = std::move(method);
    request.url = client_.url(service, path, query);
    request.body = std::move(body);
    request.headers = std::move(headers);
    return client_.send(std::move(request), attempts);
  }

  static std::string error_code(const HttpResponse& response) {
    return net::azure::parse_service_error(response).code;
  }

  // ---- queues ----------------------------------------------------------------------------------

  void create_queue(const std::string& queue) {
    const HttpResponse r = send("PUT", Service::kQueue, "/" + queue, "");
    if (r.status == 201 || r.status == 204) return;
    if (r.status == 409 && error_code(r) == "QueueAlreadyExists") return;  // other metadata
    throw net::azure::to_error(r, what(queue, "create queue"));
  }

  void check_queue(const std::string& queue) { approximate_count(queue); }

  int64_t approximate_count(const std::string& queue) {
    const HttpResponse r = send("GET", Service::kQueue, "/" + queue, "comp=metadata");
    if (r.status != 200) throw net::azure::to_error(r, what(queue, "get queue metadata"));
    const auto header = r.header("x-ms-approximate-messages-count");
    int64_t n = -1;
    if (header) {
      const std::string text(*header);
      if (!text.empty() && text.size() <= 18 &&
          text.find_first_not_of("0123456789") == std::string::npos) {
        n = std::stoll(text);
      }
    }
    if (n < 0) {
      throw Error::Retryable(what(queue, "get queue metadata: the answer has no valid "
                                         "x-ms-approximate-messages-count"));
    }
    return n;
  }

  void clear_messages(const std::string& queue) {
    const HttpResponse r = send("DELETE", Service::kQueue, "/" + queue + "/messages", "");
    if (r.status != 204) throw net::azure::to_error(r, what(queue, "clear messages"));
  }

  // ---- messages --------------------------------------------------------------------------------

  static std::string message_path(const std::string& queue, const std::string& id) {
    return fmt::format("/{}/messages/{}", queue, net::percent_encode(id));
  }

  Put put_message(const std::string& queue, const std::string& text, int64_t delay_s) {
    // messagettl=-1: never expires (the default would silently drop a message after 7 days).
    std::string query = "messagettl=-1";
    if (delay_s > 0) query += fmt::format("&visibilitytimeout={}", delay_s);
    const HttpResponse r = send("POST", Service::kQueue, "/" + queue + "/messages", query,
                                queue_message_xml(text), {{"Content-Type", "application/xml"}});
    if (r.status != 201) throw net::azure::to_error(r, what(queue, "put message"));
    std::vector<XmlQueueMessage> list = parse_messages_list(r.body);
    if (list.size() != 1 || list[0].pop_receipt.empty()) {
      throw Error::Retryable(what(queue, "put message: the answer does not describe one message"));
    }
    return {std::move(list[0].message_id), std::move(list[0].pop_receipt)};
  }

  std::vector<XmlQueueMessage> get_messages(const std::string& queue, int n, int64_t lease_s) {
    const HttpResponse r =
        send("GET", Service::kQueue, "/" + queue + "/messages",
             fmt::format("numofmessages={}&visibilitytimeout={}", n, lease_s));
    if (r.status != 200) throw net::azure::to_error(r, what(queue, "get messages"));
    std::vector<XmlQueueMessage> list = parse_messages_list(r.body);
    for (const XmlQueueMessage& m : list) {
      if (m.pop_receipt.empty() || !m.dequeue_count || !m.message_text || *m.dequeue_count < 1) {
        throw Error::Retryable(what(
            queue, fmt::format("get messages: the answer for message {} lacks its pop receipt, "
                               "dequeue count or text",
                               m.message_id)));
      }
    }
    if (list.size() > static_cast<size_t>(n)) {
      throw Error::Retryable(what(queue, "get messages: more messages than asked for"));
    }
    return list;
  }

  Peeked peek(const std::string& queue, int n) {
    const HttpResponse r = send("GET", Service::kQueue, "/" + queue + "/messages",
                                fmt::format("peekonly=true&numofmessages={}", n));
    if (r.status != 200) throw net::azure::to_error(r, what(queue, "peek messages"));
    Peeked out;
    out.messages = parse_messages_list(r.body);
    for (const XmlQueueMessage& m : out.messages) {
      if (!m.message_text) {
        throw Error::Retryable(what(
            queue, fmt::format("peek messages: the answer for message {} has no text", m.message_id)));
      }
    }
    const auto date = r.header("Date");
    const std::optional<int64_t> now_s = date ? net::parse_http_date(*date) : std::nullopt;
    out.now_ns = now_s ? *now_s * kNanosPerSecond : now_ts_ns();
    return out;
  }

  // 404 MessageNotFound: gone; 400 PopReceiptMismatch: someone else holds it. A 404 after a
  // retried attempt means an earlier attempt whose answer was lost deleted it: done.
  Outcome delete_message(const std::string& queue, const std::string& id,
                         const std::string& receipt) {
    int attempts = 0;
    const HttpResponse r = send("DELETE", Service::kQueue, message_path(queue, id),
                                "popreceipt=" + net::percent_encode(receipt), {}, {}, &attempts);
    if (r.status == 204 || r.status == 200) return Outcome::kDone;
    const std::string code = error_code(r);
    if (r.status == 404 && code == "MessageNotFound") {
      return attempts > 1 ? Outcome::kDone : Outcome::kGone;
    }
    if (r.status == 400 && code == "PopReceiptMismatch") return Outcome::kStale;
    throw net::azure::to_error(r, what(queue, fmt::format("delete message {}", id)));
  }

  // Update Message: new visibility, and new text when given. Returns the new pop receipt.
  std::pair<Outcome, std::string> update_message(const std::string& queue, const std::string& id,
                                                 const std::string& receipt, int64_t visibility_s,
                                                 const std::optional<std::string>& text) {
    net::HeaderList headers;
    std::string body;
    if (text) {
      body = queue_message_xml(*text);
      headers.emplace_back("Content-Type", "application/xml");
    }
    const HttpResponse r = send(
        "PUT", Service::kQueue, message_path(queue, id),
        fmt::format("popreceipt={}&visibilitytimeout={}", net::percent_encode(receipt), visibility_s),
        std::move(body), std::move(headers));
    if (r.status == 204 || r.status == 200) {
      const auto new_receipt = r.header("x-ms-popreceipt");
      if (!new_receipt || new_receipt->empty()) {
        throw Error::Retryable(
            what(queue, fmt::format("update message {}: the answer has no x-ms-popreceipt", id)));
      }
      return {Outcome::kDone, std::string(*new_receipt)};
    }
    const std::string code = error_code(r);
    if (r.status == 404 && code == "MessageNotFound") return {Outcome::kGone, ""};
    if (r.status == 400 && code == "PopReceiptMismatch") return {Outcome::kStale, ""};
    throw net::azure::to_error(r, what(queue, fmt::format("update message {}", id)));
  }

  // Checks that we still hold `message` (its receipt is current) and takes `lease_s` to finish
  // with it; returns the new receipt. Error::Conflict when the lease is gone or stale.
  std::string check_lease(const Message& message, int64_t lease_s = kMoveLeaseSeconds) {
    auto [outcome, receipt] =
        update_message(name_, message.id, message.pop_receipt, lease_s, std::nullopt);
    conflict_unless_done(outcome, message.id);
    return receipt;
  }

  // Puts a keyed message held back until its marker names it, then makes it visible after
  // `delay_s`: no worker can receive (and remove) it while the marker still has no message id,
  // which would leave the marker behind with the key taken for good.
  std::string put_keyed(const std::string& text, int64_t delay_s, const HeldMarker& marker,
                        const std::string& key) {
    const Put put = put_message(name_, text, std::min(kMaxSeconds, delay_s + kPutHoldSeconds));
    name_marker(marker, key, put.id);
    try {
      update_message(name_, put.id, put.pop_receipt, delay_s, std::nullopt);
    } catch (const Error& e) {
      log::warn("queue '{}': message {} is queued but stays hidden up to {} s longer: {}", name_,
                put.id, kPutHoldSeconds, e.what());
    }
    return put.id;
  }

  void dead_letter_leased(const Message& message, const std::string& error) {
    const std::string receipt = check_lease(message);
    poison(message.id, receipt, envelope_of(message.body, message.dedupe_key), error,
           message.dequeue_count, encode_message_text(envelope_of(message.body)));
  }

  // Moves a message we hold (`receipt` current) to the poison queue with its error. `fallback`
  // is the text to copy when the envelope would not fit (a foreign body near Azure's limit).
  void poison(const std::string& id, const std::string& receipt, const Envelope& from,
              const std::string& error, int deliveries, const std::string& fallback) {
    Envelope to = envelope_of(from.body, from.dedupe_key, truncate_error(error));
    to.id = id;
    to.dequeue_count = deliveries;
    std::string text = encode_message_text(to);
    if (text.size() > kMaxMessageTextBytes) text = fallback;
    move_out(id, receipt, text, from.dedupe_key);
  }

  // Put `text` on the poison queue, free the key, delete the original: in that order.
  void move_out(const std::string& id, const std::string& receipt, const std::string& text,
                const std::string& key) {
    put_message(poison_, text, 0);
    if (!key.empty()) release_marker(key, id);
    const Outcome outcome = delete_message(name_, id, receipt);
    if (outcome != Outcome::kDone) {
      // Someone else took it over meanwhile (our lease ran out): they will handle it, and the
      // poison copy may be a duplicate of work that still gets done.
      log::warn("queue '{}': message {} was copied to '{}' but another consumer holds it now; "
                "the poison copy may be a duplicate",
                name_, id, poison_);
    }
  }

  PoisonEntry poison_entry(const XmlQueueMessage& raw) {
    PoisonEntry entry;
    entry.reported_id = raw.message_id;
    try {
      entry.envelope = decode_message_text(*raw.message_text, raw.message_id);
      if (!entry.envelope->id.empty()) entry.reported_id = entry.envelope->id;
    } catch (const Error& e) {
      if (e.category() != ErrorCategory::kInvalidInput) throw;
      entry.decode_error = e.what();
    }
    return entry;
  }

  // Moves one leased poison message back to the queue; false (left in poison) when its dedupe
  // key is queued again meanwhile.
  bool redrive_one(const XmlQueueMessage& raw, const PoisonEntry& entry) {
    if (!entry.envelope) {
      // Never decoded: back as it is (the next receive poisons it again, saying why).
      put_message(name_, *raw.message_text, 0);
    } else {
      const Envelope& from = *entry.envelope;
      // Fresh count (a new Azure message), last error and key kept; a plain poison message
      // (the Functions host's copy) goes back as a plain body.
      const std::string text =
          encode_message_text(envelope_of(from.body, from.dedupe_key, from.last_error));
      if (from.dedupe_key.empty()) {
        put_message(name_, text, 0);
      } else {
        std::optional<HeldMarker> marker = acquire_marker(from.dedupe_key);
        if (!marker) return false;
        try {
          put_keyed(text, 0, *marker, from.dedupe_key);
        } catch (...) {
          drop_marker(marker->blob, marker->etag);
          throw;
        }
      }
    }
    if (delete_message(poison_, raw.message_id, raw.pop_receipt) != Outcome::kDone) {
      log::warn("queue '{}': poison message {} was redriven but another caller holds it now; "
                "it may be redriven twice",
                name_, raw.message_id);
    }
    return true;
  }

  void give_back_all(const std::vector<XmlQueueMessage>& leased) {
    for (const XmlQueueMessage& raw : leased) {
      try {
        update_message(poison_, raw.message_id, raw.pop_receipt, 0, std::nullopt);
      } catch (const Error& e) {
        log::warn("queue '{}': poison message {} stays hidden up to {} s: {}", name_,
                  raw.message_id, kMoveLeaseSeconds, e.what());
      }
    }
  }

  // ---- dedupe-key markers ----------------------------------------------------------------------

  void create_container() {
    const HttpResponse r =
        send("PUT", Service::kBlob, "/" + std::string(kMarkerContainer), "restype=container");
    if (r.status == 201) return;
    if (r.status == 409 && error_code(r) == "ContainerAlreadyExists") return;
    throw net::azure::to_error(r, what(name_, fmt::format("create blob container {}", kMarkerContainer)));
  }

  std::string marker_blob(const std::string& key) const { return name_ + "/" + sha256_hex(key); }

  static std::string blob_path(const std::string& blob) {
    return fmt::format("/{}/{}", kMarkerContainer, net::percent_encode(blob, /*keep_slash=*/true));
  }

  // PUT the marker with a condition; its new ETag, or nullopt when the condition failed (409 for
  // If-None-Match: *, 412 for If-Match).
  std::optional<std::string> put_marker(const std::string& blob, const std::string& body,
                                        std::pair<std::string, std::string> condition,
                                        int* attempts = nullptr) {
    const HttpResponse r = send("PUT", Service::kBlob, blob_path(blob), "", body,
                                {{"x-ms-blob-type", "BlockBlob"},
                                 {"Content-Type", "application/json"},
                                 std::move(condition)},
                                attempts);
    if (r.status == 201) {
      const auto etag = r.header("ETag");
      if (!etag) throw Error::Retryable(what(name_, "dedupe marker: the answer has no ETag"));
      return std::string(*etag);
    }
    if (r.status == 409 || r.status == 412) return std::nullopt;
    throw net::azure::to_error(r, what(name_, fmt::format("put dedupe marker {}", blob)));
  }

  std::optional<Marker> get_marker(const std::string& blob) {
    const HttpResponse r = send("GET", Service::kBlob, blob_path(blob), "");
    if (r.status == 404 && error_code(r) == "BlobNotFound") return std::nullopt;
    if (r.status != 200) {
      throw net::azure::to_error(r, what(name_, fmt::format("get dedupe marker {}", blob)));
    }
    Marker m;
    const auto etag = r.header("ETag");
    if (!etag || etag->empty()) {
      throw Error::Retryable(what(name_, fmt::format("get dedupe marker {}: no ETag", blob)));
    }
    m.etag = std::string(*etag);
    const json body = json::parse(r.body, nullptr, /*allow_exceptions=*/false);
    if (body.is_object() && body.contains("key") && body["key"].is_string() &&
        body.contains("message_id") && body["message_id"].is_string() &&
        body.contains("queued_at_ns") && body["queued_at_ns"].is_number_integer()) {
      m.key = body["key"].get<std::string>();
      m.message_id = body["message_id"].get<std::string>();
      m.queued_at_ns = body["queued_at_ns"].get<int64_t>();
    } else {
      m.damaged = true;
    }
    const auto modified = r.header("Last-Modified");
    const auto date = r.header("Date");
    const auto modified_s = modified ? net::parse_http_date(*modified) : std::nullopt;
    const auto date_s = date ? net::parse_http_date(*date) : std::nullopt;
    if (modified_s && date_s) m.age_s = *date_s - *modified_s;
    return m;
  }

  // Deletes a marker if it is still the version `etag` (or any version with etag ""); false when
  // it was gone or had changed.
  bool delete_marker(const std::string& blob, const std::string& etag) {
    net::HeaderList headers;
    if (!etag.empty()) headers.emplace_back("If-Match", etag);
    const HttpResponse r =
        send("DELETE", Service::kBlob, blob_path(blob), "", {}, std::move(headers));
    if (r.status == 202 || r.status == 200) return true;
    if (r.status == 404 || r.status == 412) return false;
    throw net::azure::to_error(r, what(name_, fmt::format("delete dedupe marker {}", blob)));
  }

  // Takes the key: creates its marker (no message id yet), or takes over a stale one. nullopt
  // when a message with the key is queued (or being queued) already.
  std::optional<HeldMarker> acquire_marker(const std::string& key) {
    const std::string blob = marker_blob(key);
    for (int round = 0; round < 5; ++round) {
      // queued_at_ns identifies this write: a retried PUT whose first answer was lost finds it.
      const int64_t queued_at = now_ts_ns();
      int attempts = 0;
      if (auto etag = put_taking_back_on_failure(blob, key, queued_at, {"If-None-Match", "*"}, &attempts)) {
        return HeldMarker{blob, *etag, queued_at};
      }
      const std::optional<Marker> existing = get_marker(blob);
      if (!existing) continue;  // deleted meanwhile: try again
      if (existing->damaged) {
        log::warn("queue '{}': dedupe key marker {} is not a marker we wrote; it holds the key "
                  "until it is {} s old",
                  name_, blob, tuning_.stale_marker_after.count());
      }
      if ((existing->message_id.empty() && existing->key == key) || existing->damaged) {
        if (attempts > 1 && existing->queued_at_ns == queued_at) {
          return HeldMarker{blob, existing->etag, queued_at};  // ours, answer lost
        }
        if (existing->age_s >= tuning_.stale_marker_after.count()) {
          // Its enqueuer died between the marker and the message: the work may never have been
          // queued. Take it over (If-Match: only one taker wins).
          log::warn("queue '{}': dedupe key marker {} is {} s old without a message{}; taking "
                    "it over",
                    name_, blob, existing->age_s, existing->damaged ? " (and damaged)" : "");
          const int64_t now = now_ts_ns();
          int takeover_attempts = 0;
          if (auto etag = put_taking_back_on_failure(blob, key, now, {"If-Match", existing->etag},
                                                     &takeover_attempts)) {
            return HeldMarker{blob, *etag, now};
          }
          if (takeover_attempts > 1) {  // 412 after a lost answer: perhaps our own write
            if (auto ours = marker_if_ours(blob, key, now, "")) return HeldMarker{blob, *ours, now};
          }
          continue;  // someone else changed it: look again
        }
      }
      return std::nullopt;
    }
    throw Error::Conflict(
        what(name_, fmt::format("dedupe marker {} kept changing; try again", blob)));
  }

  // put_marker of a marker without a message id (queued_at_ns identifies the write). When the
  // PUT fails past the client's retries, an earlier transmission may still have written it (its
  // answer lost): such a marker would hold the key for a message never queued, and a rerun would
  // take the work as queued already until the marker went stale. So look, and take ours back
  // before passing the error on; only when that fails too does the marker wait to go stale.
  std::optional<std::string> put_taking_back_on_failure(const std::string& blob, const std::string& key,
                                                        int64_t queued_at_ns,
                                                        std::pair<std::string, std::string> condition,
                                                        int* attempts) {
    try {
      return put_marker(blob, marker_json(key, queued_at_ns, ""), std::move(condition), attempts);
    } catch (const Error& e) {
      try {
        if (auto ours = marker_if_ours(blob, key, queued_at_ns, "")) delete_marker(blob, *ours);
      } catch (const Error& cleanup) {
        log::warn("queue '{}': dedupe marker {} may hold its key for a message that was not "
                  "queued (until it is {} s old): {}",
                  name_, blob, tuning_.stale_marker_after.count(), cleanup.what());
      }
      throw;
    }
  }

  // The ETag of `blob` if it is the marker we wrote (key, queued_at_ns and message id), else
  // nullopt: a conditional PUT of ours that answers 412 after a lost answer (a retry, or the HTTP
  // client's own resend) finds out whether it was applied after all.
  std::optional<std::string> marker_if_ours(const std::string& blob, const std::string& key,
                                            int64_t queued_at_ns, const std::string& id) {
    const std::optional<Marker> m = get_marker(blob);
    if (m && !m->damaged && m->key == key && m->queued_at_ns == queued_at_ns && m->message_id == id) {
      return m->etag;
    }
    return std::nullopt;
  }

  // Records the message id in a marker we hold. A failure leaves the marker without an id (it
  // becomes stale and is taken over later): logged, not thrown, as the message is queued.
  void name_marker(const HeldMarker& marker, const std::string& key, const std::string& id) {
    try {
      int attempts = 0;
      if (put_marker(marker.blob, marker_json(key, marker.queued_at_ns, id),
                     {"If-Match", marker.etag}, &attempts)) {
        return;
      }
      // 412 after a lost answer: when the marker names the message, it was the earlier
      // transmission that wrote it, and all is well.
      if (attempts > 1 && marker_if_ours(marker.blob, key, marker.queued_at_ns, id)) return;
      log::warn("queue '{}': dedupe marker {} changed before it could name message {}", name_,
                marker.blob, id);
    } catch (const Error& e) {
      log::warn("queue '{}': dedupe marker {} could not name message {}: {}", name_, marker.blob,
                id, e.what());
    }
  }

  // Best effort: gives back a marker taken for a message that was not queued.
  void drop_marker(const std::string& blob, const std::string& etag) {
    try {
      delete_marker(blob, etag);
    } catch (const Error& e) {
      log::warn("queue '{}': dedupe marker {} could not be deleted: {}", name_, blob, e.what());
    }
  }

  // Frees `key` if its marker names message `id` (it may name another message by now, after a
  // crash left this one without a marker; that one keeps it).
  void release_marker(const std::string& key, const std::string& id) {
    const std::string blob = marker_blob(key);
    const std::optional<Marker> marker = get_marker(blob);
    if (marker && !marker->damaged && marker->message_id == id) delete_marker(blob, marker->etag);
  }

  void delete_markers() {
    const std::string prefix = name_ + "/";
    std::string next;
    do {
      std::string query = fmt::format("restype=container&comp=list&prefix={}",
                                      net::percent_encode(prefix));
      if (!next.empty()) query += "&marker=" + net::percent_encode(next);
      const HttpResponse r = send("GET", Service::kBlob, "/" + std::string(kMarkerContainer), query);
      if (r.status == 404 && error_code(r) == "ContainerNotFound") return;
      if (r.status != 200) throw net::azure::to_error(r, what(name_, "list dedupe markers"));
      BlobListPage page = parse_blob_list(r.body);
      for (const std::string& blob : page.names) {
        if (blob.starts_with(prefix)) delete_marker(blob, "");
      }
      if (page.next_marker == next) break;  // a service that repeats itself must not loop us
      next = std::move(page.next_marker);
    } while (!next.empty());
  }

  std::string name_;
  std::string poison_;
  QueueOptions options_;
  Tuning tuning_;
  StorageClient client_;
};

}  // namespace

std::unique_ptr<TaskQueue> open_queue(const net::azure::StorageAccount& account,
                                      const std::string& name, QueueOptions options, bool create,
                                      Tuning tuning) {
  return std::make_unique<AzureQueue>(account, name, options, create, std::move(tuning));
}

}  // namespace trib::queue::azure

namespace trib::queue {

std::unique_ptr<TaskQueue> open_azure_queue(const net::azure::StorageAccount& account,
                                            const std::string& name, QueueOptions options,
                                            bool create) {
  return azure::open_queue(account, name, options, create, {});
}

}  // namespace trib::queue

// What the queue implementations share: names, ids and pop receipts, argument checks, so that a
// call refused by one backend is refused by every other one with the same category and words.
// Private to the queue module (not under include/).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "trib/core/error.hpp"
#include "trib/db/sqlite.hpp"  // with_context
#include "trib/queue/task_queue.hpp"

namespace trib::queue::detail {

// 128 random bits as 32 hex digits, from the kernel on every call: a user-space generator would
// be copied into forked workers and hand out the same ids and pop receipts twice.
std::string random_hex128();

// The poison queue of queue "x" is "x-poison".
inline constexpr std::string_view kPoisonSuffix = "-poison";
inline constexpr size_t kMaxQueueNameBytes = 63 - kPoisonSuffix.size();  // 56

// Azure Storage queue names: 3-63 of [a-z0-9-], starting and ending with a letter or digit, no
// "--"; at most 56 so that "<name>-poison" is one too. Enforced everywhere so a name that works
// embedded also works on Azure. Error::InvalidInput otherwise, naming the rule.
void check_queue_name(const std::string& name);

// The offset of the first byte that does not belong to well-formed UTF-8 (no overlong forms,
// no surrogates, nothing above U+10FFFF) or is NUL; npos when there is none.
size_t first_bad_text_byte(std::string_view text);

// Error::InvalidInput when max_attempts < 1.
void check_options(const std::string& name, const QueueOptions& options);

// Error::InvalidInput unless the body is at most kMaxBodyBytes of UTF-8 text without NUL bytes
// (what PostgreSQL text and an Azure queue message can hold; JSON always is).
void check_body(const std::string& queue, const std::string& body);

// Error::InvalidInput for an empty dedupe key or one over 1 KiB, or one that is not UTF-8 text.
void check_dedupe_key(const std::string& queue, const std::string& key);

// Error::InvalidInput for a negative duration; `what` names it ("delay", "visibility timeout").
int64_t checked_seconds(std::chrono::seconds s, std::string_view what, const std::string& queue);

// The last error recorded for a message whose lease expired after its last allowed delivery.
std::string lease_expired_error(int dequeue_count);

// Error::Conflict messages for a pop receipt that no longer matches.
std::string gone_message(const std::string& queue, const std::string& id);
std::string stale_receipt_message(const std::string& queue, const std::string& id);

// Runs `op`, putting the queue (and message) in front of a trib::Error's message, except for
// the errors the queue classes compose themselves, which already name both.
template <typename F>
void with_queue_context(const std::string& queue, const std::string& message_id, F&& op) {
  try {
    op();
  } catch (const Error& e) {
    if (std::string_view(e.what()).starts_with("queue '")) throw;
    throw db::with_context(e, message_id.empty()
                                  ? fmt::format("queue '{}'", queue)
                                  : fmt::format("queue '{}' message {}", queue, message_id));
  }
}

}  // namespace trib::queue::detail

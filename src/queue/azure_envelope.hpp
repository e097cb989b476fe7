// What an Azure queue message's text holds (private to the queue module; used by
// azure_queue.cpp, tested by tests/queue/azure_queue_test.cpp, fuzzed with the XML parser).
//
// Persistent format (messages outlive the code that wrote them): do not change the prefix or the
// meaning of a header field; add fields instead (a reader ignores fields it does not know).
//
// A message's text is always Base64 (standard alphabet, padded) of UTF-8 bytes, which is what
// Azure Functions' queue trigger decodes by default. The decoded bytes are either
//  - a plain body: anything that does not start with kEnvelopePrefix; or
//  - an envelope: kEnvelopePrefix, a one-line JSON object, '\n', then the body bytes, e.g.
//      trib-envelope/1 {"dedupe_key":"AAPL/2020","last_error":"retryable: HTTP 503"}\n{"symbol":..}
//    with optional string fields "dedupe_key", "last_error", "id" (in the poison queue: the id
//    the message had in the main queue) and the integer "dequeue_count" (in the poison queue:
//    the deliveries it had).
// A message is written plain when there is nothing but the body to carry and the body does not
// itself start with the prefix, so a plain producer (the Functions host, the Azure SDKs, the
// portal) and a plain consumer see exactly the body, and what we write decodes unambiguously.
// The one ambiguity left is a foreign producer's text that happens to start with the prefix: it
// is read as an envelope (and goes to poison, with the reason, if its header is not one).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace trib::queue::azure {

inline constexpr std::string_view kEnvelopePrefix = "trib-envelope/1 ";
// Azure's limit on a message's text (the Base64 we send), in bytes.
inline constexpr size_t kMaxMessageTextBytes = 64 * 1024;
// Errors recorded in an envelope are cut to this many bytes (on a UTF-8 boundary).
inline constexpr size_t kMaxErrorBytes = 1024;

struct Envelope {
  std::string body;
  std::string dedupe_key;
  std::string last_error;
  std::string id;                    // poison: the message's id in the main queue
  std::optional<int> dequeue_count;  // poison: how many deliveries it had
  int deferrals = 0;                 // deliveries given back by defer(): not counted
  bool enveloped = false;            // decode: whether the text was an envelope
};

// The message text for `envelope` (its `enveloped` flag is ignored): Base64 of the plain body
// when only the body is set and it does not start with kEnvelopePrefix, else Base64 of the
// envelope. Text that is not UTF-8 in the error is replaced (U+FFFD), never refused.
std::string encode_message_text(const Envelope& envelope);

// Decodes a message's text. Throws Error::InvalidInput naming `message_id` when the text is not
// Base64, the bytes are not UTF-8 text without NUL, or an envelope's header is not a one-line
// JSON object with fields of the right types. Never echoes the text itself.
Envelope decode_message_text(std::string_view text, std::string_view message_id);

// `error` cut to at most kMaxErrorBytes, on a UTF-8 character boundary.
std::string truncate_error(std::string_view error);

}  // namespace trib::queue::azure

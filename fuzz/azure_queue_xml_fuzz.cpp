// libFuzzer target for what the Azure queue (src/queue/azure_queue.cpp) reads from the network:
// the QueueMessagesList of Get / Peek / Put Messages and the List Blobs page of its dedupe markers
// (src/queue/azure_queue_xml.cpp), and each message's text (src/queue/azure_envelope.cpp). Any
// bytes a server, a proxy or another producer sends must parse or throw trib::Error of the
// documented category (Retryable for an answer, InvalidInput for a message's text), never read
// out of bounds, overflow or crash. What parses keeps our invariants: every message has an id of
// at most 1 KiB; a text that decodes re-encodes to a text that decodes to the same fields.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "../src/queue/azure_envelope.hpp"
#include "../src/queue/azure_queue_xml.hpp"
#include "trib/core/error.hpp"

namespace {

namespace azure = trib::queue::azure;

void check_text(std::string_view text, std::string_view id) {
  azure::Envelope decoded;
  try {
    decoded = azure::decode_message_text(text, id);
  } catch (const trib::Error& e) {
    if (e.category() != trib::ErrorCategory::kInvalidInput) __builtin_trap();
    return;
  }
  const azure::Envelope again =
      azure::decode_message_text(azure::encode_message_text(decoded), "again");
  if (again.body != decoded.body || again.dedupe_key != decoded.dedupe_key ||
      again.last_error != decoded.last_error || again.id != decoded.id ||
      again.dequeue_count != decoded.dequeue_count) {
    __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  try {
    for (const azure::XmlQueueMessage& m : azure::parse_messages_list(bytes)) {
      if (m.message_id.empty() || m.message_id.size() > 1024 || m.pop_receipt.size() > 1024) {
        __builtin_trap();
      }
      if (m.dequeue_count && *m.dequeue_count < 0) __builtin_trap();
      if (m.message_text) check_text(*m.message_text, m.message_id);
    }
  } catch (const trib::Error& e) {
    if (e.category() != trib::ErrorCategory::kRetryable) __builtin_trap();
  }
  try {
    for (const std::string& name : azure::parse_blob_list(bytes).names) {
      if (name.empty()) __builtin_trap();
    }
  } catch (const trib::Error& e) {
    if (e.category() != trib::ErrorCategory::kRetryable) __builtin_trap();
  }
  // The bytes as a message's text themselves (Base64 and envelope decoding without the XML).
  check_text(bytes, "raw");
  return 0;
}

// queue::azure_trigger_message: what the Functions host hands our custom handler, back into a
// Message of our Azure queue.
#include "azure_envelope.hpp"
#include "trib/net/base64.hpp"
#include "trib/queue/task_queue.hpp"

namespace trib::queue {

Message azure_trigger_message(std::string_view decoded, const std::string& id, const std::string& pop_receipt,
                              int dequeue_count) {
  // The host decoded the Base64; decode_message_text checks the same rules on the text we sent.
  azure::Envelope envelope = azure::decode_message_text(net::base64_encode(decoded), id);
  Message m;
  m.id = id;
  m.pop_receipt = pop_receipt;
  m.dequeue_count = dequeue_count;
  m.body = std::move(envelope.body);
  m.dedupe_key = std::move(envelope.dedupe_key);
  return m;
}

}  // namespace trib::queue

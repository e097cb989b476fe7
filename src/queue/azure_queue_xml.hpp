// The XML the Azure Queue and Blob services answer with, as far as the Azure queue
// (azure_queue.cpp) needs it: the QueueMessagesList of Put / Get / Peek Messages and the
// EnumerationResults of List Blobs (dedupe-key markers). Private to the queue module.
//
// These parse bytes from the network, so they must hold up against anything: every answer that
// is not what the service documents is a trib::Error (Retryable: a truncated or garbled answer
// is most likely a proxy or connection problem, and the operation can be tried again), never a
// crash, an unbounded allocation or an exception of another type. A libFuzzer target
// (fuzz/azure_queue_xml_fuzz.cpp, scripts/fuzz-azure-queue-xml) holds them to it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace trib::queue::azure {

// One <QueueMessage>. Which elements are present depends on the operation: Put Message answers
// MessageId, InsertionTime, ExpirationTime, PopReceipt, TimeNextVisible; Get Messages adds
// DequeueCount and MessageText; Peek Messages has no PopReceipt nor TimeNextVisible.
struct XmlQueueMessage {
  std::string message_id;                     // never empty
  std::string pop_receipt;                    // "" when absent
  std::optional<int64_t> insertion_time_s;    // Unix seconds (RFC 1123 dates have no fraction)
  std::optional<int64_t> time_next_visible_s;
  std::optional<int> dequeue_count;
  std::optional<std::string> message_text;    // as sent (our Base64), XML entities decoded
};

// Parses <QueueMessagesList> (an empty list is fine). Elements it does not know are ignored (a
// newer service version may add some); a known one with a bad value is an error. Throws
// Error::Retryable naming what is wrong (never echoing the input).
std::vector<XmlQueueMessage> parse_messages_list(std::string_view xml);

// One page of List Blobs: the names and the continuation marker ("" on the last page).
struct BlobListPage {
  std::vector<std::string> names;
  std::string next_marker;
};

// Parses <EnumerationResults> of List Blobs. Throws Error::Retryable like parse_messages_list.
BlobListPage parse_blob_list(std::string_view xml);

// The body of Put Message / Update Message for `message_text` (our Base64: nothing to escape,
// but it is escaped anyway so any text is safe).
std::string queue_message_xml(std::string_view message_text);

}  // namespace trib::queue::azure

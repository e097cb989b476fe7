#include "azure_queue_xml.hpp"

#include <cstring>

#include <fmt/format.h>
#include <pugixml.hpp>

#include "trib/core/error.hpp"
#include "trib/net/http_date.hpp"

namespace trib::queue::azure {
namespace {

// Ids and receipts Azure issues are a few dozen characters; anything far longer is not an answer
// of the service (and would end up in a URL).
constexpr size_t kMaxIdBytes = 1024;

[[noreturn]] void bad_answer(std::string_view what, std::string_view why) {
  throw Error::Retryable(
      fmt::format("Azure storage answer is not a valid {}: {}", what, why));
}

pugi::xml_node load_root(pugi::xml_document& doc, std::string_view xml, const char* root_name) {
  // parse_default: no DOCTYPE processing, only the five predefined entities and character
  // references are expanded, nothing is fetched.
  const pugi::xml_parse_result result =
      doc.load_buffer(xml.data(), xml.size(), pugi::parse_default, pugi::encoding_utf8);
  if (!result) {
    bad_answer(root_name, fmt::format("XML error at byte {}: {}", result.offset,
                                      result.description()));
  }
  const pugi::xml_node root = doc.document_element();
  if (!root || std::strcmp(root.name(), root_name) != 0) {
    bad_answer(root_name, fmt::format("the root element is <{}>", root ? root.name() : ""));
  }
  return root;
}

// The text of an element that must hold text only (character data and CDATA sections).
std::string text_of(pugi::xml_node element, std::string_view what) {
  std::string out;
  for (pugi::xml_node child : element.children()) {
    const pugi::xml_node_type type = child.type();
    if (type == pugi::node_pcdata || type == pugi::node_cdata) {
      out += child.value();
    } else if (type != pugi::node_comment && type != pugi::node_pi) {
      bad_answer(what, fmt::format("<{}> holds an element", element.name()));
    }
  }
  return out;
}

int64_t date_of(pugi::xml_node element) {
  const std::string text = text_of(element, "QueueMessagesList");
  const std::optional<int64_t> seconds = net::parse_http_date(text);
  if (!seconds) bad_answer("QueueMessagesList", fmt::format("<{}> is not an RFC 1123 date", element.name()));
  return *seconds;
}

int count_of(pugi::xml_node element) {
  const std::string text = text_of(element, "QueueMessagesList");
  if (text.empty() || text.size() > 9 || text.find_first_not_of("0123456789") != std::string::npos) {
    bad_answer("QueueMessagesList", fmt::format("<{}> is not a count", element.name()));
  }
  return std::stoi(text);
}

// Each known child element may appear once.
void once(bool& seen, pugi::xml_node element, std::string_view what) {
  if (seen) bad_answer(what, fmt::format("<{}> appears twice in one entry", element.name()));
  seen = true;
}

}  // namespace

std::vector<XmlQueueMessage> parse_messages_list(std::string_view xml) {
  constexpr std::string_view kWhat = "QueueMessagesList";
  pugi::xml_document doc;
  const pugi::xml_node root = load_root(doc, xml, "QueueMessagesList");
  std::vector<XmlQueueMessage> out;
  for (pugi::xml_node item : root.children("QueueMessage")) {
    XmlQueueMessage m;
    bool id = false, receipt = false, inserted = false, next_visible = false, count = false,
         text = false, expires = false;
    for (pugi::xml_node field : item.children()) {
      if (field.type() != pugi::node_element) continue;
      const std::string_view name = field.name();
      if (name == "MessageId") {
        once(id, field, kWhat);
        m.message_id = text_of(field, kWhat);
      } else if (name == "PopReceipt") {
        once(receipt, field, kWhat);
        m.pop_receipt = text_of(field, kWhat);
      } else if (name == "InsertionTime") {
        once(inserted, field, kWhat);
        m.insertion_time_s = date_of(field);
      } else if (name == "TimeNextVisible") {
        once(next_visible, field, kWhat);
        m.time_next_visible_s = date_of(field);
      } else if (name == "DequeueCount") {
        once(count, field, kWhat);
        m.dequeue_count = count_of(field);
      } else if (name == "MessageText") {
        once(text, field, kWhat);
        m.message_text = text_of(field, kWhat);
      } else if (name == "ExpirationTime") {
        once(expires, field, kWhat);  // not used: our messages never expire
      }
    }
    if (m.message_id.empty()) bad_answer(kWhat, "a <QueueMessage> has no <MessageId>");
    if (m.message_id.size() > kMaxIdBytes || m.pop_receipt.size() > kMaxIdBytes) {
      bad_answer(kWhat, "a message id or pop receipt is over 1 KiB");
    }
    out.push_back(std::move(m));
  }
  return out;
}

BlobListPage parse_blob_list(std::string_view xml) {
  constexpr std::string_view kWhat = "EnumerationResults";
  pugi::xml_document doc;
  const pugi::xml_node root = load_root(doc, xml, "EnumerationResults");
  BlobListPage page;
  for (pugi::xml_node blobs : root.children("Blobs")) {
    for (pugi::xml_node blob : blobs.children("Blob")) {
      const pugi::xml_node name = blob.child("Name");
      std::string text = name ? text_of(name, kWhat) : std::string();
      if (text.empty()) bad_answer(kWhat, "a <Blob> has no <Name>");
      page.names.push_back(std::move(text));
    }
  }
  if (const pugi::xml_node marker = root.child("NextMarker")) {
    page.next_marker = text_of(marker, kWhat);
  }
  return page;
}

std::string queue_message_xml(std::string_view message_text) {
  std::string out = "<?xml version=\"1.0\" encoding=\"utf-8\"?><QueueMessage><MessageText>";
  out.reserve(out.size() + message_text.size() + 48);
  for (char c : message_text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      default: out += c;
    }
  }
  out += "</MessageText></QueueMessage>";
  return out;
}

}  // namespace trib::queue::azure

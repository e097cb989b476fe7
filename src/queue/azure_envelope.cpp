#include "azure_envelope.hpp"

#include <climits>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "queue_common.hpp"
#include "trib/core/error.hpp"
#include "trib/net/base64.hpp"

namespace trib::queue::azure {
namespace {

using nlohmann::json;

[[noreturn]] void undecodable(std::string_view message_id, std::string_view why) {
  throw Error::InvalidInput(fmt::format(
      "queue message {}: {} (a producer must send Base64 of UTF-8 text, as Azure Functions and "
      "the Azure SDKs' Base64 encoders do)",
      message_id, why));
}

std::string header_string(const json& header, const char* field, std::string_view message_id) {
  const auto it = header.find(field);
  if (it == header.end()) return {};
  if (!it->is_string()) {
    undecodable(message_id, fmt::format("envelope field \"{}\" is not a string", field));
  }
  return it->get<std::string>();
}

}  // namespace

std::string truncate_error(std::string_view error) {
  if (error.size() <= kMaxErrorBytes) return std::string(error);
  size_t cut = kMaxErrorBytes;
  // Back off over continuation bytes (10xxxxxx) so a multi-byte character is not split.
  while (cut > 0 && (static_cast<unsigned char>(error[cut]) & 0xc0) == 0x80) --cut;
  return std::string(error.substr(0, cut));
}

std::string encode_message_text(const Envelope& envelope) {
  const bool plain = envelope.dedupe_key.empty() && envelope.last_error.empty() &&
                     envelope.id.empty() && !envelope.dequeue_count.has_value() &&
                     envelope.deferrals == 0 &&
                     !std::string_view(envelope.body).starts_with(kEnvelopePrefix);
  if (plain) return net::base64_encode(envelope.body);
  json header = json::object();
  if (!envelope.dedupe_key.empty()) header["dedupe_key"] = envelope.dedupe_key;
  if (!envelope.last_error.empty()) header["last_error"] = envelope.last_error;
  if (!envelope.id.empty()) header["id"] = envelope.id;
  if (envelope.dequeue_count) header["dequeue_count"] = *envelope.dequeue_count;
  if (envelope.deferrals > 0) header["deferrals"] = envelope.deferrals;
  // One line: dump() without indentation escapes every control character, '\n' included.
  std::string bytes(kEnvelopePrefix);
  bytes += header.dump(-1, ' ', false, json::error_handler_t::replace);
  bytes += '\n';
  bytes += envelope.body;
  return net::base64_encode(bytes);
}

Envelope decode_message_text(std::string_view text, std::string_view message_id) {
  std::string bytes;
  try {
    bytes = net::base64_decode(text, "its text");
  } catch (const Error& e) {
    undecodable(message_id, e.what());
  }
  if (const size_t bad = detail::first_bad_text_byte(bytes); bad != std::string::npos) {
    undecodable(message_id, fmt::format("its Base64 decodes to bytes that are not UTF-8 text "
                                        "without NUL (byte {} of {})",
                                        bad, bytes.size()));
  }
  Envelope out;
  if (!std::string_view(bytes).starts_with(kEnvelopePrefix)) {
    out.body = std::move(bytes);
    return out;
  }
  out.enveloped = true;
  const size_t newline = bytes.find('\n', kEnvelopePrefix.size());
  if (newline == std::string::npos) undecodable(message_id, "its envelope has no end of header");
  const json header = json::parse(
      std::string_view(bytes).substr(kEnvelopePrefix.size(), newline - kEnvelopePrefix.size()),
      nullptr, /*allow_exceptions=*/false);
  if (!header.is_object()) undecodable(message_id, "its envelope header is not a JSON object");
  out.dedupe_key = header_string(header, "dedupe_key", message_id);
  out.last_error = header_string(header, "last_error", message_id);
  out.id = header_string(header, "id", message_id);
  if (const auto it = header.find("dequeue_count"); it != header.end()) {
    if (!it->is_number_integer() || it->get<int64_t>() < 0 || it->get<int64_t>() > INT_MAX) {
      undecodable(message_id, "envelope field \"dequeue_count\" is not a count");
    }
    out.dequeue_count = static_cast<int>(it->get<int64_t>());
  }
  if (const auto it = header.find("deferrals"); it != header.end()) {
    if (!it->is_number_integer() || it->get<int64_t>() < 0 || it->get<int64_t>() > INT_MAX) {
      undecodable(message_id, "envelope field \"deferrals\" is not a count");
    }
    out.deferrals = static_cast<int>(it->get<int64_t>());
  }
  out.body = bytes.substr(newline + 1);
  return out;
}

}  // namespace trib::queue::azure

// Base64 (RFC 4648, standard alphabet, padded), as Azure uses it for keys, signatures, block ids,
// Content-MD5 and queue message bodies.
#pragma once

#include <string>
#include <string_view>

namespace trib::net {

std::string base64_encode(std::string_view bytes);
// Strict: the length is a multiple of 4, only the alphabet and trailing '=' padding. Throws
// Error::InvalidInput naming `what` ("Azure account key", "queue message") otherwise; the text
// itself is never put in the message (it may be a secret).
std::string base64_decode(std::string_view text, std::string_view what = "base64 text");

}  // namespace trib::net

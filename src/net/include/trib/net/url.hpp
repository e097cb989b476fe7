// Small, dependency-free URL helpers for the net module: splitting an absolute URL into the parts
// that request signing (azure_shared_key.hpp) and per-host rate limiting (rate_limiter.hpp) need,
// and percent-encoding. Not a general RFC 3986 parser: no userinfo, no IPv6 zone ids.
#pragma once

#include <string>
#include <string_view>

namespace trib::net {

struct UrlParts {
  std::string scheme;  // lower-case, e.g. "https"
  std::string host;    // lower-case; IPv6 literals keep their brackets
  int port = 0;        // explicit port, or the scheme's default (80/443), or 0 when unknown
  std::string path;    // still percent-encoded; "/" when the URL has none
  std::string query;   // without the '?', still percent-encoded; fragment dropped
};

// Throws Error::InvalidInput on text that is not an absolute scheme://host URL.
UrlParts parse_url(std::string_view url);

// The host (lower-case, without port) of an absolute URL, for per-host bookkeeping.
std::string host_of(std::string_view url);

// Decodes %XX escapes; a '+' stays a '+' (this is URL decoding, not form decoding). Throws
// Error::InvalidInput on a truncated or non-hex escape.
std::string percent_decode(std::string_view text);

// Encodes every byte outside RFC 3986 "unreserved" (A-Z a-z 0-9 - . _ ~) as %XX, upper-case hex.
// With keep_slash, '/' is left as is (for paths).
std::string percent_encode(std::string_view text, bool keep_slash = false);

}  // namespace trib::net

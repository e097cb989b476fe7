#include "trib/net/url.hpp"

#include <fmt/format.h>

#include <cctype>

#include "trib/core/error.hpp"
#include "trib/core/log.hpp"

namespace trib::net {
namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Error bad_url(std::string_view url, std::string_view why) {
  return Error::InvalidInput(fmt::format("bad URL '{}': {}", log::redact(url), why));
}

}  // namespace

UrlParts parse_url(std::string_view url) {
  UrlParts parts;
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos || scheme_end == 0) {
    throw bad_url(url, "expected scheme://host");
  }
  parts.scheme = lower(url.substr(0, scheme_end));
  std::string_view rest = url.substr(scheme_end + 3);

  // The fragment never goes on the wire.
  if (size_t hash = rest.find('#'); hash != std::string_view::npos) rest = rest.substr(0, hash);
  const size_t authority_end = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, authority_end);
  std::string_view path_query =
      authority_end == std::string_view::npos ? std::string_view{} : rest.substr(authority_end);
  if (authority.find('@') != std::string_view::npos)
    throw bad_url(url, "userinfo is not supported");

  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) throw bad_url(url, "unterminated IPv6 literal");
    parts.host = lower(authority.substr(0, close + 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') throw bad_url(url, "junk after IPv6 literal");
      port_text = after.substr(1);
    }
  } else {
    const size_t colon = authority.rfind(':');
    parts.host = lower(authority.substr(0, colon));
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
  }
  if (parts.host.empty()) throw bad_url(url, "no host");

  if (!port_text.empty()) {
    int port = 0;
    for (char c : port_text) {
      if (c < '0' || c > '9' || port > 65535) throw bad_url(url, "bad port");
      port = port * 10 + (c - '0');
    }
    if (port == 0 || port > 65535) throw bad_url(url, "bad port");
    parts.port = port;
  } else if (parts.scheme == "http") {
    parts.port = 80;
  } else if (parts.scheme == "https") {
    parts.port = 443;
  }

  const size_t question = path_query.find('?');
  parts.path = std::string(path_query.substr(0, question));
  if (parts.path.empty()) parts.path = "/";
  if (question != std::string_view::npos)
    parts.query = std::string(path_query.substr(question + 1));
  return parts;
}

std::string host_of(std::string_view url) { return parse_url(url).host; }

std::string percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out.push_back(text[i]);
      continue;
    }
    const int hi = i + 2 < text.size() ? hex_value(text[i + 1]) : -1;
    const int lo = hi >= 0 ? hex_value(text[i + 2]) : -1;
    if (lo < 0) {
      throw Error::InvalidInput(fmt::format("bad percent-escape in '{}'", log::redact(text)));
    }
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

std::string percent_encode(std::string_view text, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '-' || c == '.' || c == '_' || c == '~' ||
        (keep_slash && c == '/')) {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 0xF]);
    }
  }
  return out;
}

}  // namespace trib::net

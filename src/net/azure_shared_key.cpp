#include "trib/net/azure_shared_key.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <map>
#include <vector>

#include "trib/core/error.hpp"
#include "trib/core/log.hpp"
#include "trib/net/base64.hpp"
#include "trib/net/http_date.hpp"
#include "trib/net/url.hpp"

namespace trib::net::azure {
namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// Trimmed, with every run of whitespace folded to one space (the spec's "unfolding").
std::string fold_whitespace(std::string_view value) {
  std::string out;
  bool pending_space = false;
  for (char c : value) {
    if (is_space(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.push_back(c);
  }
  return out;
}

std::string header_or_empty(const HttpRequest& request, std::string_view name) {
  const auto value = request.header(name);
  return value ? std::string(*value) : std::string();
}

}  // namespace

SharedKeyCredential::SharedKeyCredential(std::string account, std::string_view account_key_base64)
    : account_(std::move(account)) {
  if (account_.empty()) throw Error::InvalidInput("Azure storage account name is empty");
  // Registered before decoding so even a malformed key never shows up in a log line.
  log::register_secret(std::string(account_key_base64));
  if (account_key_base64.empty()) throw Error::InvalidInput("Azure account key is empty");
  key_ = base64_decode(account_key_base64, "Azure account key");
}

std::string SharedKeyCredential::sign(std::string_view string_to_sign) const {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_len = 0;
  if (HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()),
           reinterpret_cast<const unsigned char*>(string_to_sign.data()), string_to_sign.size(),
           digest, &digest_len) == nullptr) {
    throw Error::Internal("HMAC-SHA256 failed");
  }
  return base64_encode(std::string_view(reinterpret_cast<const char*>(digest), digest_len));
}

std::string canonicalized_headers(const HttpRequest& request) {
  // std::map sorts by the lower-cased name, which is the required order.
  std::map<std::string, std::string> headers;
  for (const auto& [name, value] : request.headers) {
    std::string key = lower(fold_whitespace(name));
    if (!key.starts_with("x-ms-")) continue;
    auto [it, inserted] = headers.try_emplace(std::move(key), fold_whitespace(value));
    if (!inserted) it->second += "," + fold_whitespace(value);
  }
  std::string out;
  for (const auto& [name, value] : headers) out += fmt::format("{}:{}\n", name, value);
  return out;
}

std::string canonicalized_resource(std::string_view account, std::string_view url) {
  const UrlParts parts = parse_url(url);
  std::string out = fmt::format("/{}{}", account, parts.path);

  std::map<std::string, std::vector<std::string>> params;
  std::string_view query = parts.query;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    const std::string name = lower(percent_decode(pair.substr(0, eq)));
    const std::string value =
        eq == std::string_view::npos ? std::string() : percent_decode(pair.substr(eq + 1));
    params[name].push_back(value);
  }
  for (auto& [name, values] : params) {
    std::sort(values.begin(), values.end());
    out += fmt::format("\n{}:{}", name, fmt::join(values, ","));
  }
  return out;
}

std::string string_to_sign(const HttpRequest& request, std::string_view account) {
  std::string content_length = header_or_empty(request, "Content-Length");
  if (content_length.empty() && !request.body.empty()) {
    content_length = std::to_string(request.body.size());
  }
  if (content_length == "0") content_length.clear();  // service version 2015-02-21 and later

  std::string out;
  out += request.method + "\n";
  out += header_or_empty(request, "Content-Encoding") + "\n";
  out += header_or_empty(request, "Content-Language") + "\n";
  out += content_length + "\n";
  out += header_or_empty(request, "Content-MD5") + "\n";
  out += header_or_empty(request, "Content-Type") + "\n";
  out += header_or_empty(request, "Date") + "\n";
  out += header_or_empty(request, "If-Modified-Since") + "\n";
  out += header_or_empty(request, "If-Match") + "\n";
  out += header_or_empty(request, "If-None-Match") + "\n";
  out += header_or_empty(request, "If-Unmodified-Since") + "\n";
  out += header_or_empty(request, "Range") + "\n";
  out += canonicalized_headers(request);
  out += canonicalized_resource(account, request.url);
  return out;
}

std::string authorization_header(const HttpRequest& request, const SharedKeyCredential& cred) {
  return fmt::format("SharedKey {}:{}", cred.account(),
                     cred.sign(string_to_sign(request, cred.account())));
}

void sign_request(HttpRequest& request, const SharedKeyCredential& cred) {
  if (!request.header("x-ms-date") && !request.header("Date")) {
    const auto now = std::chrono::system_clock::now().time_since_epoch();
    request.set_header(
        "x-ms-date",
        format_http_date(std::chrono::duration_cast<std::chrono::seconds>(now).count()));
  }
  request.set_header("Authorization", authorization_header(request, cred));
}

}  // namespace trib::net::azure

// net: the HTTP seam every REST vendor adapter, the Azure clients and the broker go through.
// This header owns the request/response value types, the HttpClient interface (so callers can be
// tested with a scripted fake) and the libcurl implementation behind make_curl_client().
//
// Error policy: a response is a value whatever its status (404 and 503 included); classifying a
// status is retry.hpp's job. Only a transport failure (no response at all) throws: timeouts,
// refused or reset connections and DNS failures throw Error::Retryable, a malformed URL throws
// Error::InvalidInput, TLS verification failures throw Error::Permanent. Messages name the URL
// with secrets redacted (trib::log::redact), never the raw query string.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace trib::net {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// First value of header `name` (ASCII case-insensitive), or nullopt.
std::optional<std::string_view> find_header(const HeaderList& headers, std::string_view name);

struct HttpRequest {
  std::string method = "GET";  // any token; GET, HEAD, POST, PUT, PATCH and DELETE are usual
  std::string url;             // absolute http:// or https:// URL, already percent-encoded
  HeaderList headers;          // sent in order; a header may repeat
  std::string body;
  // Whole-transfer limit; 0 means the client's default (CurlOptions::timeout_ms).
  int64_t timeout_ms = 0;
  // Optional: called with each piece of the response body as it arrives (status: the response's),
  // for streamed answers such as server-sent events. The body is still collected in
  // HttpResponse::body. An exception thrown here aborts the transfer and leaves send() unchanged.
  std::function<void(int status, std::string_view piece)> on_body;

  std::optional<std::string_view> header(std::string_view name) const {
    return find_header(headers, name);
  }
  // Replaces every header named `name` (case-insensitive) with one `name: value`.
  void set_header(std::string_view name, std::string_view value);
};

struct HttpResponse {
  int status = 0;
  HeaderList headers;  // as received, names in the server's case, of the final response only
  std::string body;    // decoded when the server compressed it
  int64_t elapsed_ms = 0;
  // How many times the request went out for this response. More than 1 when libcurl resent it by
  // itself: a connection it reused closed without an answer, which it takes for a connection the
  // server had dropped while idle, so it sends the request again on a new one (POSTs too). The
  // server may have applied every copy: a caller that reads a conditional write's 409/412 or a
  // delete's 404 as "someone else did it" must know.
  int transmissions = 1;

  std::optional<std::string_view> header(std::string_view name) const {
    return find_header(headers, name);
  }
  bool ok() const { return status >= 200 && status < 300; }
};

class HttpClient {
 public:
  virtual ~HttpClient() = default;
  // Performs one exchange. Returns the response for any HTTP status; throws trib::Error only when
  // no response was received (see the header comment for the categories).
  virtual HttpResponse send(const HttpRequest& request) = 0;
};

struct CurlOptions {
  int64_t connect_timeout_ms = 10'000;
  int64_t timeout_ms = 60'000;  // default whole-transfer limit when a request gives none
  std::string user_agent = "tributary/0.1";
  // REST APIs answer redirects rarely and usually by mistake; following one would resend our
  // credentials to another host, so it is off unless a caller opts in.
  bool follow_redirects = false;
  // A response body larger than this aborts the transfer with Error::Permanent, so a runaway
  // endpoint cannot exhaust memory.
  int64_t max_response_bytes = int64_t{512} << 20;
  bool verify_tls = true;
  std::string ca_bundle;  // empty: the system store
};

// A client on one libcurl easy handle, reused across send() calls so connections and TLS
// sessions are kept alive. NOT thread-safe: one client per thread (they are cheap); libcurl's
// process-wide initialisation is done once, thread-safely, on first construction.
std::unique_ptr<HttpClient> make_curl_client(const CurlOptions& options = {});

}  // namespace trib::net

// The HTTP side every REST adapter shares: the base URL (the vendor's, or the mock vendor server's
// in tests), the API key from the environment (registered as a secret so no log line, error or
// sidecar can carry it), the request budget (RequestGate) asked before every request, and one
// policy for what a response means:
//   2xx                      -> the response, body untouched
//   429                      -> wait the server's Retry-After (default 60 s) in this process,
//                               telling the gate so every worker pauses, then ask again — a 429
//                               does not cost the task an attempt; after max_rate_limit_waits
//                               waits, Error::RateLimited
//   5xx, 408, timeouts, resets, a body cut short -> Error::Retryable (the worker retries the task)
//   401 / 403                -> Error::Permanent naming the key variable to check
//   404                      -> Error::NotFound (adapters that use 404 for "no such symbol" say so)
//   other 4xx                -> Error::InvalidInput
// Error messages carry the redacted URL, the status and a printable excerpt of the body (never
// binary bytes, never the key).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "trib/net/http_client.hpp"
#include "trib/providers/provider.hpp"

namespace trib::providers {

struct VendorHttpOptions {
  std::string vendor;          // for the gate, messages and the User-Agent
  std::string base_url;        // scheme://host[:port][/prefix], no trailing slash needed
  std::shared_ptr<RequestGate> gate;  // may be null: no budget
  int max_rate_limit_waits = 5;
  int64_t default_retry_after_ms = 60'000;  // a 429 without Retry-After
  int64_t max_retry_after_ms = 300'000;     // longer asks become Error::RateLimited at once
  int64_t timeout_ms = 60'000;
  // Tests shorten waits; production sleeps for real.
  std::function<void(int64_t ms)> sleep_ms;
  std::function<int64_t()> now_unix_ms;
};

class VendorHttp {
 public:
  explicit VendorHttp(VendorHttpOptions options,
                      std::unique_ptr<net::HttpClient> client = nullptr);

  // GET base_url + path_and_query (already percent-encoded; build it with query_string()).
  // Returns the 2xx response; throws per the policy above. `pass` lists non-2xx statuses the
  // adapter wants back as values (e.g. 404 for an unknown symbol it reports in its own words).
  net::HttpResponse get(const std::string& path_and_query, const net::HeaderList& headers = {},
                        const std::vector<int>& pass = {});
  // Same for an absolute URL the vendor handed us (Polygon's next_url). It must be on the same
  // host as base_url: a key is never sent to another host.
  net::HttpResponse get_absolute(const std::string& url, const net::HeaderList& headers = {},
                                 const std::vector<int>& pass = {});

  // How many 429s this object waited out, and requests it sent (tests and stats).
  int rate_limit_waits() const { return rate_limit_waits_; }
  int requests_sent() const { return requests_sent_; }
  const std::string& base_url() const { return options_.base_url; }

 private:
  net::HttpResponse send(const std::string& url, const net::HeaderList& headers,
                         const std::vector<int>& pass);

  VendorHttpOptions options_;
  std::unique_ptr<net::HttpClient> client_;
  int rate_limit_waits_ = 0;
  int requests_sent_ = 0;
};

// "?a=1&b=x%20y" from pairs (values percent-encoded; empty values kept); "" for no pairs.
std::string query_string(const std::vector<std::pair<std::string, std::string>>& params);

// The value of environment variable `name`, registered as a secret. Throws Error::Permanent
// "POLYGON_API_KEY is not set: export your polygon API key ..." when unset or empty.
std::string api_key_from_env(std::string_view name, std::string_view vendor);

// `options["base_url"]` if set, else the vendor's default; a trailing '/' removed.
std::string base_url_from(const ProviderOptions& options, const VendorInfo& info);

// A printable, redacted excerpt of a body for error messages: at most `max` bytes, control and
// non-UTF-8 bytes shown as '?', "(binary, N bytes)" when mostly unprintable.
std::string body_excerpt(std::string_view body, size_t max = 200);

// True when the body looks like an HTML page (a proxy's or CDN's error page served as 200).
bool looks_like_html(std::string_view body);

// Paged payloads are stored as the pages back to back: parse_util.hpp's split_json_pages.

}  // namespace trib::providers

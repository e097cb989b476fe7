#include "trib/providers/vendor_http.hpp"

#include <chrono>
#include <cstdlib>
#include <thread>

#include <fmt/format.h>

#include "trib/core/error.hpp"
#include "trib/core/log.hpp"
#include "trib/net/retry.hpp"
#include "trib/net/url.hpp"

namespace trib::providers {
namespace {

bool contains(const std::vector<int>& v, int x) {
  for (int y : v) {
    if (y == x) return true;
  }
  return false;
}

int64_t system_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

VendorHttp::VendorHttp(VendorHttpOptions options, std::unique_ptr<net::HttpClient> client)
    : options_(std::move(options)), client_(std::move(client)) {
  while (!options_.base_url.empty() && options_.base_url.back() == '/') options_.base_url.pop_back();
  if (!client_) {
    net::CurlOptions curl;
    curl.timeout_ms = options_.timeout_ms;
    curl.user_agent = "tributary/0.1 (" + options_.vendor + ")";
    client_ = net::make_curl_client(curl);
  }
  if (!options_.sleep_ms) {
    options_.sleep_ms = [](int64_t ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); };
  }
  if (!options_.now_unix_ms) options_.now_unix_ms = system_now_ms;
}

net::HttpResponse VendorHttp::get(const std::string& path_and_query, const net::HeaderList& headers,
                                  const std::vector<int>& pass) {
  std::string url = options_.base_url;
  if (!path_and_query.empty() && path_and_query.front() != '/') url += '/';
  url += path_and_query;
  return send(url, headers, pass);
}

net::HttpResponse VendorHttp::get_absolute(const std::string& url, const net::HeaderList& headers,
                                           const std::vector<int>& pass) {
  const auto ours = net::parse_url(options_.base_url);
  const auto theirs = net::parse_url(url);
  if (theirs.host != ours.host || theirs.port != ours.port || theirs.scheme != ours.scheme) {
    throw Error::Permanent(fmt::format(
        "{} handed us a link to another host ({}://{}:{}); not following it with our credentials",
        options_.vendor, theirs.scheme, theirs.host, theirs.port));
  }
  return send(url, headers, pass);
}

net::HttpResponse VendorHttp::send(const std::string& url, const net::HeaderList& headers,
                                   const std::vector<int>& pass) {
  net::HttpRequest request;
  request.method = "GET";
  request.url = url;
  request.headers = headers;
  request.timeout_ms = options_.timeout_ms;
  for (int waits = 0;; ++waits) {
    if (options_.gate) options_.gate->acquire(options_.vendor);
    ++requests_sent_;
    net::HttpResponse response;
    try {
      response = client_->send(request);
    } catch (const Error& e) {
      // No answer at all (timeout, reset, a body cut short): the task is retried later.
      throw Error(e.category() == ErrorCategory::kPermanent ? ErrorCategory::kPermanent
                                                             : ErrorCategory::kRetryable,
                  fmt::format("{}: {}", options_.vendor, e.what()));
    }
    if (response.ok() || contains(pass, response.status)) return response;
    const std::string where = log::redact(url);
    if (response.status == 429) {
      int64_t wait_ms = net::retry_after_ms(response, options_.now_unix_ms())
                            .value_or(options_.default_retry_after_ms);
      if (options_.gate) options_.gate->pause(options_.vendor, options_.now_unix_ms() + wait_ms);
      if (wait_ms > options_.max_retry_after_ms) {
        // Longer than a fetch should hold a worker: the task waits it out in the queue.
        throw BudgetExhausted(fmt::format(
            "{} answered 429 Too Many Requests to GET {} and asks us to wait {} ms; requests to {} "
            "pause until then and the task waits without spending an attempt",
            options_.vendor, where, wait_ms, options_.vendor), wait_ms);
      }
      if (waits >= options_.max_rate_limit_waits) {
        throw Error::RateLimited(fmt::format(
            "{} answered 429 Too Many Requests to GET {} ({} waits so far; it asks for {} ms more); "
            "the task is retried later. Lower [vendors.{}] requests_per_minute if this repeats",
            options_.vendor, where, waits, wait_ms, options_.vendor));
      }
      log::info("{}: 429 Too Many Requests, waiting {} ms as asked (Retry-After)", options_.vendor,
                wait_ms);
      ++rate_limit_waits_;
      options_.sleep_ms(wait_ms);
      continue;
    }
    const std::string excerpt = body_excerpt(response.body);
    const auto category = net::classify(response).value_or(ErrorCategory::kPermanent);
    if (response.status == 401 || response.status == 403) {
      throw Error::Permanent(fmt::format(
          "{} refused our credentials (HTTP {}) for GET {}: {}; check the API key in the "
          "environment (see `trib vendors`)",
          options_.vendor, response.status, where, excerpt));
    }
    if (category == ErrorCategory::kRetryable) {
      throw Error::Retryable(fmt::format("{} answered HTTP {} to GET {}: {}", options_.vendor,
                                         response.status, where, excerpt));
    }
    if (response.status == 404) {
      throw Error::NotFound(fmt::format("{} answered 404 Not Found to GET {}: {}", options_.vendor,
                                        where, excerpt));
    }
    if (response.status >= 400 && response.status < 500) {
      throw Error::InvalidInput(fmt::format("{} rejected GET {} (HTTP {}): {}", options_.vendor,
                                            where, response.status, excerpt));
    }
    throw Error::Permanent(fmt::format("{} answered HTTP {} to GET {}: {}", options_.vendor,
                                       response.status, where, excerpt));
  }
}

std::string query_string(const std::vector<std::pair<std::string, std::string>>& params) {
  std::string out;
  for (const auto& [k, v] : params) {
    out += out.empty() ? '?' : '&';
    out += net::percent_encode(k);
    out += '=';
    out += net::percent_encode(v);
  }
  return out;
}

std::string api_key_from_env(std::string_view name, std::string_view vendor) {
  const std::string var(name);
  const char* value = std::getenv(var.c_str());
  if (value == nullptr || *value == '\0') {
    throw Error::Permanent(fmt::format(
        "{} is not set: export your {} API key as {} (in the environment of every worker; it is "
        "never written to trib.toml, logs or the raw zone)",
        var, vendor, var));
  }
  log::register_secret(value);
  return value;
}

std::string base_url_from(const ProviderOptions& options, const VendorInfo& info) {
  std::string url = info.default_base_url;
  if (auto it = options.find("base_url"); it != options.end() && !it->second.empty()) url = it->second;
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

std::string body_excerpt(std::string_view body, size_t max) {
  if (body.empty()) return "(empty body)";
  size_t unprintable = 0;
  const size_t n = std::min(body.size(), max);
  std::string out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    const unsigned char c = static_cast<unsigned char>(body[i]);
    if (c == '\n' || c == '\r' || c == '\t') {
      out += ' ';
    } else if (c < 0x20 || c == 0x7f || c >= 0x80) {
      // Non-ASCII is shown as '?': a message must stay one printable line whatever arrived.
      out += '?';
      if (c < 0x20 || c == 0x7f) ++unprintable;
    } else {
      out += static_cast<char>(c);
    }
  }
  if (unprintable * 10 > n) return fmt::format("(binary, {} bytes)", body.size());
  if (body.size() > max) out += fmt::format("... ({} bytes)", body.size());
  return log::redact(out);
}

bool looks_like_html(std::string_view body) {
  size_t i = 0;
  while (i < body.size() && (body[i] == ' ' || body[i] == '\n' || body[i] == '\r' || body[i] == '\t')) ++i;
  auto starts = [&](std::string_view prefix) {
    if (body.size() - i < prefix.size()) return false;
    for (size_t k = 0; k < prefix.size(); ++k) {
      char c = body[i + k];
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      if (c != prefix[k]) return false;
    }
    return true;
  };
  return starts("<!doctype html") || starts("<html") || starts("<head") || starts("<body");
}


}  // namespace trib::providers

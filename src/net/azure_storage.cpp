#include "trib/net/azure_storage.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <map>
#include <random>

#include <fmt/format.h>

#include "trib/core/log.hpp"
#include "trib/net/base64.hpp"
#include "trib/net/http_date.hpp"
#include "trib/net/url.hpp"

namespace trib::net::azure {
namespace {

// Azurite's published development account (a test credential, not a secret).
constexpr std::string_view kDevAccount = "devstoreaccount1";
constexpr std::string_view kDevKey =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string trim_slash(std::string text) {
  while (!text.empty() && text.back() == '/') text.pop_back();
  return text;
}

std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::string() : std::string(value);
}

// A SAS token as given ("?sv=..." or "sv=..."), registered as a secret; its signature is what
// matters, but the whole token is redacted.
std::string normalize_sas(std::string sas) {
  if (!sas.empty() && sas.front() == '?') sas.erase(0, 1);
  if (!sas.empty()) log::register_secret(sas);
  return sas;
}

}  // namespace

std::string StorageAccount::describe() const {
  return fmt::format("account {} ({}, {})", name, blob_endpoint.empty() ? queue_endpoint : blob_endpoint,
                     key ? "SharedKey" : (sas.empty() ? "no credential" : "SAS token"));
}

StorageAccount parse_connection_string(std::string_view text) {
  std::map<std::string, std::string> parts;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find(';', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view item = text.substr(start, end - start);
    start = end + 1;
    if (item.find_first_not_of(" \t\r\n") == std::string_view::npos) continue;
    const size_t eq = item.find('=');
    if (eq == std::string_view::npos || eq == 0) {
      throw Error::InvalidInput(
          "Azure storage connection string: every part must be Key=Value separated by ';' (check "
          "AZURE_STORAGE_CONNECTION_STRING)");
    }
    std::string key(item.substr(0, eq));
    key.erase(0, key.find_first_not_of(" \t"));
    // Values may contain '=' (base64 keys, SAS tokens): split at the first one only.
    parts[lower(key)] = std::string(item.substr(eq + 1));
  }
  for (const auto& [k, v] : parts) {
    if (k == "accountkey" || k == "sharedaccesssignature") log::register_secret(v);
  }
  StorageAccount account;
  auto get = [&](const char* k) {
    auto it = parts.find(k);
    return it == parts.end() ? std::string() : it->second;
  };
  if (lower(get("usedevelopmentstorage")) == "true") {
    std::string proxy = trim_slash(get("developmentstorageproxyuri"));
    const std::string host = proxy.empty() ? "http://127.0.0.1" : proxy;
    account.name = std::string(kDevAccount);
    account.blob_endpoint = fmt::format("{}:10000/{}", host, kDevAccount);
    account.queue_endpoint = fmt::format("{}:10001/{}", host, kDevAccount);
    account.key.emplace(account.name, kDevKey);
    return account;
  }
  account.name = get("accountname");
  account.blob_endpoint = trim_slash(get("blobendpoint"));
  account.queue_endpoint = trim_slash(get("queueendpoint"));
  const std::string protocol = get("defaultendpointsprotocol").empty() ? "https" : lower(get("defaultendpointsprotocol"));
  if (protocol != "https" && protocol != "http") {
    throw Error::InvalidInput("Azure storage connection string: DefaultEndpointsProtocol must be https or http");
  }
  const std::string suffix = get("endpointsuffix").empty() ? "core.windows.net" : get("endpointsuffix");
  if (account.name.empty() && (account.blob_endpoint.empty() && account.queue_endpoint.empty())) {
    throw Error::InvalidInput(
        "Azure storage connection string names no account: add AccountName=... (or BlobEndpoint= "
        "and QueueEndpoint=)");
  }
  if (account.name.empty()) {
    // A SAS connection string may give only endpoints: the account is the host's first label.
    const std::string endpoint = account.blob_endpoint.empty() ? account.queue_endpoint : account.blob_endpoint;
    const std::string host = host_of(endpoint);
    account.name = host.substr(0, host.find('.'));
  }
  if (account.blob_endpoint.empty()) account.blob_endpoint = fmt::format("{}://{}.blob.{}", protocol, account.name, suffix);
  if (account.queue_endpoint.empty()) account.queue_endpoint = fmt::format("{}://{}.queue.{}", protocol, account.name, suffix);
  parse_url(account.blob_endpoint);  // throws InvalidInput on a malformed endpoint
  parse_url(account.queue_endpoint);
  const std::string key = get("accountkey");
  account.sas = normalize_sas(get("sharedaccesssignature"));
  if (!key.empty()) {
    account.key.emplace(account.name, key);
  } else if (account.sas.empty()) {
    throw Error::InvalidInput(
        "Azure storage connection string has no credential: add AccountKey=... or "
        "SharedAccessSignature=...");
  }
  return account;
}

StorageAccount account_from_environment(const AccountSettings& settings) {
  StorageAccount account;
  if (const std::string conn = env("AZURE_STORAGE_CONNECTION_STRING"); !conn.empty()) {
    account = parse_connection_string(conn);
    if (!settings.account.empty() && settings.account != account.name) {
      throw Error::InvalidInput(fmt::format(
          "trib.toml names Azure storage account '{}' but AZURE_STORAGE_CONNECTION_STRING is for "
          "'{}': make them agree (or drop `account` from trib.toml)",
          settings.account, account.name));
    }
  } else {
    if (settings.account.empty()) {
      throw Error::InvalidInput(
          "no Azure storage account: set `account` in trib.toml with AZURE_STORAGE_KEY or "
          "AZURE_STORAGE_SAS_TOKEN in the environment, or set AZURE_STORAGE_CONNECTION_STRING");
    }
    account.name = settings.account;
    account.blob_endpoint = fmt::format("https://{}.blob.core.windows.net", settings.account);
    account.queue_endpoint = fmt::format("https://{}.queue.core.windows.net", settings.account);
    if (const std::string key = env("AZURE_STORAGE_KEY"); !key.empty()) {
      account.key.emplace(account.name, key);
    } else if (const std::string sas = env("AZURE_STORAGE_SAS_TOKEN"); !sas.empty()) {
      account.sas = normalize_sas(sas);
    } else {
      throw Error::InvalidInput(fmt::format(
          "no credential for Azure storage account '{}': set AZURE_STORAGE_KEY (the account key), "
          "AZURE_STORAGE_SAS_TOKEN or AZURE_STORAGE_CONNECTION_STRING in the environment (never in "
          "trib.toml)",
          settings.account));
    }
  }
  if (!settings.blob_endpoint.empty()) account.blob_endpoint = trim_slash(settings.blob_endpoint);
  if (!settings.queue_endpoint.empty()) account.queue_endpoint = trim_slash(settings.queue_endpoint);
  return account;
}

Error to_error(const HttpResponse& response, std::string_view what) {
  const ServiceError e = parse_service_error(response);
  const std::string detail = log::redact(fmt::format("{}: HTTP {}{}{}", what, e.status, e.code.empty() ? "" : " " + e.code,
                                                     e.message.empty() ? "" : ": " + e.message));
  switch (e.status) {
    case 401:
    case 403:
      return Error::Permanent(detail +
                              " — Azure refused the credential: check AZURE_STORAGE_KEY / the account "
                              "key in AZURE_STORAGE_CONNECTION_STRING, or that the SAS token has not "
                              "expired and grants this operation");
    case 404:
      if (e.code == "ContainerNotFound") {
        return Error::NotFound(detail + " — the container does not exist: run `trib init` (it creates it) or create it in the portal");
      }
      if (e.code == "QueueNotFound") {
        return Error::NotFound(detail + " — the queue does not exist: run `trib init` (it creates it)");
      }
      return Error::NotFound(detail);
    case 409:
    case 412:
      return Error::Conflict(detail);
    case 400:
      return Error::InvalidInput(detail);
    case 429:
      return Error::RateLimited(detail);
    default:
      break;
  }
  if (e.status == 408 || (e.status >= 500 && e.status != 501 && e.status != 505)) return Error::Retryable(detail);
  return Error::Permanent(detail);
}

StorageClient::StorageClient(StorageAccount account, ClientOptions options, std::shared_ptr<ClientStats> stats,
                             std::unique_ptr<HttpClient> http, std::unique_ptr<Sleeper> sleeper)
    : account_(std::move(account)),
      options_(std::move(options)),
      stats_(stats ? std::move(stats) : std::make_shared<ClientStats>()),
      http_(http ? std::move(http) : make_curl_client(options_.http)),
      sleeper_(sleeper ? std::move(sleeper) : std::make_unique<RealSleeper>()),
      rng_(options_.retry.jitter_seed ? *options_.retry.jitter_seed : std::random_device{}()) {}

std::string StorageAccount::url(Service service, std::string_view path, std::string_view query) const {
  std::string out = (service == Service::kBlob ? blob_endpoint : queue_endpoint);
  out += path;
  std::string q(query);
  if (!sas.empty()) q = q.empty() ? sas : q + "&" + sas;
  if (!q.empty()) out += "?" + q;
  return out;
}

namespace {

// The delay the service asks for, in ms: x-ms-retry-after-ms / retry-after-ms, else Retry-After.
std::optional<int64_t> service_delay_ms(const HttpResponse& response, int64_t now_ms) {
  for (const char* name : {"x-ms-retry-after-ms", "retry-after-ms"}) {
    if (auto v = response.header(name)) {
      char* end = nullptr;
      const std::string s(*v);
      const long long ms = std::strtoll(s.c_str(), &end, 10);
      if (end != s.c_str() && ms >= 0) return ms;
    }
  }
  return retry_after_ms(response, now_ms);
}

bool retryable_status(int status) {
  return status == 408 || status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

}  // namespace

HttpResponse StorageClient::send(HttpRequest request, int* attempts) {
  const int max_attempts = std::max(1, options_.retry.max_attempts);
  request.set_header("x-ms-version", kApiVersion);
  std::optional<Error> last_transport;
  int sent = 0;  // times the request may have reached the service, the HTTP client's resends included
  for (int attempt = 1;; ++attempt) {
    HttpRequest signed_request = request;
    if (account_.key) {
      const auto now = std::chrono::system_clock::now().time_since_epoch();
      signed_request.set_header("x-ms-date", format_http_date(std::chrono::duration_cast<std::chrono::seconds>(now).count()));
      sign_request(signed_request, *account_.key);
    }
    ++stats_->requests;
    stats_->bytes_sent += static_cast<int64_t>(signed_request.body.size());
    std::optional<HttpResponse> response;
    try {
      response = http_->send(signed_request);
    } catch (const Error& e) {
      if (attempts != nullptr) *attempts = sent + 1;
      if (e.category() != ErrorCategory::kRetryable && e.category() != ErrorCategory::kRateLimited) throw;
      last_transport = e;
    }
    sent += response ? std::max(1, response->transmissions) : 1;
    if (attempts != nullptr) *attempts = sent;
    if (response) {
      stats_->bytes_received += static_cast<int64_t>(response->body.size());
      if (!retryable_status(response->status) || attempt >= max_attempts) return std::move(*response);
    } else if (attempt >= max_attempts) {
      throw Error(last_transport->category(),
                  fmt::format("{} (gave up after {} attempts)", last_transport->what(), attempt));
    }
    int64_t delay = backoff_delay_ms(options_.retry, attempt, rng_);
    if (response) {
      if (auto asked = service_delay_ms(*response, sleeper_->now_unix_ms())) {
        delay = std::min(*asked, options_.retry.max_delay_ms);
      }
    }
    ++stats_->retries;
    log::debug("azure: {} {} attempt {} failed ({}); retrying in {} ms", request.method,
                           log::redact(request.url.substr(0, request.url.find('?'))), attempt,
                           response ? fmt::format("HTTP {}", response->status) : std::string(last_transport->what()),
                           delay);
    sleeper_->sleep_ms(delay);
  }
}

std::string content_md5(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest, &len, EVP_md5(), nullptr) != 1) {
    throw Error::Internal("MD5 failed");
  }
  return base64_encode(std::string_view(reinterpret_cast<const char*>(digest), len));
}

}  // namespace trib::net::azure

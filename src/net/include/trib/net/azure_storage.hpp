// Azure Storage accounts over REST: where an account's Blob and Queue endpoints are, how requests
// are authorised (SharedKey or a SAS token), and one client that sends a request with retries and
// maps Azure's error answers to our error categories. The Blob object store (lake) and the Storage
// Queue (queue) are built on this; it knows nothing of blobs or messages.
//
// Credentials come from the environment, never from trib.toml, and never reach a log line: the
// account key and the SAS token are registered with trib::log::register_secret when read.
//   AZURE_STORAGE_CONNECTION_STRING  a connection string (AccountName/AccountKey, or
//                                    SharedAccessSignature, BlobEndpoint/QueueEndpoint, ...)
//   AZURE_STORAGE_KEY                the account key (with the account named in trib.toml)
//   AZURE_STORAGE_SAS_TOKEN          a SAS token (with the account named in trib.toml)
// (the names the Azure CLI and SDKs use).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "trib/core/error.hpp"
#include "trib/net/azure_shared_key.hpp"
#include "trib/net/http_client.hpp"
#include "trib/net/retry.hpp"

namespace trib::net::azure {

// The x-ms-version we speak (Azurite accepts it with --skipApiVersionCheck; Azure since 2021).
inline constexpr std::string_view kApiVersion = "2021-08-06";

enum class Service { kBlob, kQueue };

struct StorageAccount {
  std::string name;
  std::string blob_endpoint;   // no trailing '/': "https://<name>.blob.core.windows.net" or
                               // path-style "http://127.0.0.1:10000/devstoreaccount1"
  std::string queue_endpoint;  // likewise
  std::optional<SharedKeyCredential> key;  // SharedKey, or
  std::string sas;                         // a SAS token (query string, no leading '?')

  // "<name> (<blob endpoint>)" and which credential: for messages (never the secret).
  std::string describe() const;
  // The URL of `path` (already percent-encoded, starting with '/') on the service, with `query`
  // (already encoded, no '?') and the SAS token when the account uses one.
  std::string url(Service service, std::string_view path, std::string_view query = {}) const;
};

// Parses an Azure Storage connection string ("Key=Value;..."): AccountName, AccountKey,
// SharedAccessSignature, DefaultEndpointsProtocol, EndpointSuffix, BlobEndpoint, QueueEndpoint,
// and UseDevelopmentStorage=true (Azurite on 127.0.0.1:10000/10001). Throws Error::InvalidInput
// naming the missing or malformed part (never its value).
StorageAccount parse_connection_string(std::string_view text);

// Where an account's settings come from: trib.toml names the account and, optionally, endpoints
// (Azurite, a sovereign cloud, a private endpoint); the credential comes from the environment.
struct AccountSettings {
  std::string account;         // may be empty when a connection string names it
  std::string blob_endpoint;   // optional override
  std::string queue_endpoint;  // optional override
};

// The account from the environment (see the header comment), completed by `settings`: a
// connection string wins; else the account name from `settings` with AZURE_STORAGE_KEY or
// AZURE_STORAGE_SAS_TOKEN. Throws Error::InvalidInput saying which variable to set when there is
// no credential, and when trib.toml and the connection string name different accounts.
StorageAccount account_from_environment(const AccountSettings& settings);

// An error answer from the service: the HTTP status, Azure's error code (x-ms-error-code or the
// XML body's <Code>) and its message.
struct ServiceError {
  int status = 0;
  std::string code;
  std::string message;
};

// Reads an error response: the x-ms-error-code header and the <Error><Code/><Message/></Error>
// body when it is XML (the body may be empty, as for HEAD, or not XML, e.g. from a proxy).
ServiceError parse_service_error(const HttpResponse& response);

// The trib::Error for an unexpected answer to `what` ("PUT blob curated/x in container c"):
// 401/403 -> Permanent (credentials, SAS expired or lacking a permission: the message says which
// setting to check), 404 -> NotFound, 409/412 -> Conflict, 400 -> InvalidInput, 429 ->
// RateLimited, 5xx/408 -> Retryable. The message has the status, the code and Azure's message.
Error to_error(const HttpResponse& response, std::string_view what);

// Options of a StorageClient.
struct ClientOptions {
  RetryPolicy retry;  // attempts for 408, 429, 5xx and transport failures
  CurlOptions http;
};

// What a client did, for tests and reports: requests sent (attempts, retries included), retries,
// and bytes of response bodies received.
struct ClientStats {
  std::atomic<int64_t> requests{0};
  std::atomic<int64_t> retries{0};
  std::atomic<int64_t> bytes_received{0};
  std::atomic<int64_t> bytes_sent{0};
};

// Sends requests to one account. Not thread-safe (one libcurl handle): one client per thread.
class StorageClient {
 public:
  explicit StorageClient(StorageAccount account, ClientOptions options = {},
                         std::shared_ptr<ClientStats> stats = nullptr,
                         std::unique_ptr<HttpClient> http = nullptr, std::unique_ptr<Sleeper> sleeper = nullptr);

  const StorageAccount& account() const { return account_; }
  ClientStats& stats() { return *stats_; }

  // account().url(...)
  std::string url(Service service, std::string_view path, std::string_view query = {}) const {
    return account_.url(service, path, query);
  }

  // Sends `request` (its URL from url()), with x-ms-version and x-ms-date set and SharedKey-signed
  // afresh for every attempt. Retries transport failures, 408, 429, 500, 502, 503 and 504 with
  // capped backoff and jitter, waiting what the service asks (Retry-After, x-ms-retry-after-ms,
  // retry-after-ms) when it says. Returns the final response whatever its status (the caller
  // knows which 404, 409 or 412 it expects; to_error() for the rest); throws when every attempt
  // failed in transport or retryable statuses ran out. `attempts` (optional) receives how many
  // times the request may have reached the service — our attempts, each counted as often as the
  // HTTP client sent it (HttpResponse::transmissions) — so a caller can tell that a conditional
  // request may have been applied by an earlier transmission whose answer was lost.
  HttpResponse send(HttpRequest request, int* attempts = nullptr);

 private:
  StorageAccount account_;
  ClientOptions options_;
  std::shared_ptr<ClientStats> stats_;
  std::unique_ptr<HttpClient> http_;
  std::unique_ptr<Sleeper> sleeper_;
  std::mt19937_64 rng_;
};

// Base64 of the MD5 of `bytes`: the Content-MD5 Azure stores and checks.
std::string content_md5(std::string_view bytes);

}  // namespace trib::net::azure

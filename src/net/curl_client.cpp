// HttpClient on one libcurl easy handle. The handle is reset (not recreated) per request, which
// clears every option but keeps live connections, TLS sessions and the DNS cache.
#include <curl/curl.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <exception>
#include <mutex>

#include "trib/core/error.hpp"
#include "trib/core/log.hpp"
#include "trib/net/http_client.hpp"

namespace trib::net {
namespace {

void global_init_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    // Never cleaned up: other threads' clients may still run during static destruction, and the
    // process exit reclaims everything anyway.
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
      throw Error::Internal("curl_global_init failed");
    }
  });
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r' ||
                           text.back() == '\n')) {
    text.remove_suffix(1);
  }
  return text;
}

bool has_line_break(std::string_view text) {
  return text.find_first_of("\r\n") != std::string_view::npos;
}

// An HTTP token: what a method or header name may be. Refusing anything else also refuses CR/LF,
// so no caller-supplied string can inject a header.
bool is_token(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 32 || u >= 127 ||
        std::string_view("\"(),/:;<=>?@[\\]{}").find(c) != std::string_view::npos) {
      return false;
    }
  }
  return true;
}

struct Transfer {
  HttpResponse response;
  int64_t max_bytes = 0;
  bool too_large = false;
  int sends = 0;  // times libcurl was about to send the request (its own resends included)
  CURL* handle = nullptr;
  const std::function<void(int, std::string_view)>* on_piece = nullptr;
  std::exception_ptr piece_error;  // thrown by on_piece: rethrown once libcurl has returned
};

// CURLOPT_PREREQFUNCTION: called each time a connection is ready and the request is about to go
// out on it, so once more for every resend libcurl does by itself.
int on_prereq(void* user, char*, char*, int, int) {
  ++static_cast<Transfer*>(user)->sends;
  return CURL_PREREQFUNC_OK;
}

size_t on_body(char* data, size_t size, size_t count, void* user) {
  auto& transfer = *static_cast<Transfer*>(user);
  const size_t bytes = size * count;
  if (static_cast<int64_t>(transfer.response.body.size() + bytes) > transfer.max_bytes) {
    transfer.too_large = true;
    return 0;  // anything but `bytes` makes libcurl abort with CURLE_WRITE_ERROR
  }
  transfer.response.body.append(data, bytes);
  if (transfer.on_piece != nullptr && *transfer.on_piece) {
    long status = 0;
    curl_easy_getinfo(transfer.handle, CURLINFO_RESPONSE_CODE, &status);
    try {
      (*transfer.on_piece)(static_cast<int>(status), std::string_view(data, bytes));
    } catch (...) {
      // Never unwind through libcurl's C frames: stop the transfer, rethrow after it returned.
      transfer.piece_error = std::current_exception();
      return 0;
    }
  }
  return bytes;
}

// Called once per complete header line, status lines included.
size_t on_header(char* data, size_t size, size_t count, void* user) {
  auto& response = static_cast<Transfer*>(user)->response;
  const size_t bytes = size * count;
  const std::string_view line(data, bytes);
  if (line.starts_with("HTTP/")) {
    // A new response begins (after a 100 Continue or a followed redirect): keep only the last.
    response.headers.clear();
    return bytes;
  }
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) return bytes;  // blank line or junk
  response.headers.emplace_back(std::string(trim(line.substr(0, colon))),
                                std::string(trim(line.substr(colon + 1))));
  return bytes;
}

ErrorCategory category_of(CURLcode code) {
  switch (code) {
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_BAD_FUNCTION_ARGUMENT:
      return ErrorCategory::kInvalidInput;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_TOO_MANY_REDIRECTS:
    case CURLE_FILESIZE_EXCEEDED:
    case CURLE_NOT_BUILT_IN:
      return ErrorCategory::kPermanent;
    case CURLE_BAD_CONTENT_ENCODING:
      return ErrorCategory::kDataLoss;
    case CURLE_OUT_OF_MEMORY:
      return ErrorCategory::kInternal;
    default:
      // Timeouts, refused/reset connections, DNS failures, TLS handshakes cut short, partial
      // bodies, HTTP/2 stream errors: the network, which may be better next time.
      return ErrorCategory::kRetryable;
  }
}

class CurlClient final : public HttpClient {
 public:
  explicit CurlClient(CurlOptions options) : options_(std::move(options)) {
    global_init_once();
    handle_ = curl_easy_init();
    if (handle_ == nullptr) throw Error::Internal("curl_easy_init failed");
  }
  ~CurlClient() override { curl_easy_cleanup(handle_); }
  CurlClient(const CurlClient&) = delete;
  CurlClient& operator=(const CurlClient&) = delete;

  HttpResponse send(const HttpRequest& request) override {
    const std::string where = fmt::format("{} {}", request.method, log::redact(request.url));
    if (!is_token(request.method)) {
      throw Error::InvalidInput(fmt::format("HTTP method '{}' is not a token", request.method));
    }

    curl_easy_reset(handle_);
    char error_text[CURL_ERROR_SIZE] = {0};
    Transfer transfer;
    transfer.max_bytes = options_.max_response_bytes;
    transfer.handle = handle_;
    transfer.on_piece = &request.on_body;

    HeaderGuard headers;
    for (const auto& [name, value] : request.headers) {
      if (!is_token(name) || has_line_break(value)) {
        throw Error::InvalidInput(
            fmt::format("{}: header '{}' has a bad name or a line break", where, name));
      }
      // libcurl reads "Name:" as "remove this header"; "Name;" is how an empty value is sent.
      append(headers,
             value.empty() ? fmt::format("{};", name) : fmt::format("{}: {}", name, value));
    }
    const bool sends_body = !request.body.empty() || request.method == "POST" ||
                            request.method == "PUT" || request.method == "PATCH";
    // libcurl would otherwise add "Content-Type: application/x-www-form-urlencoded" to a body and
    // "Expect: 100-continue" to a large one; both change what was signed (Azure) or cost a round
    // trip, so only what the caller set goes out.
    if (sends_body && !request.header("Content-Type")) append(headers, "Content-Type:");
    if (!request.header("Expect")) append(headers, "Expect:");

    set(CURLOPT_ERRORBUFFER, error_text);
    set(CURLOPT_URL, request.url.c_str());
    set(CURLOPT_PROTOCOLS_STR, "http,https");
    set(CURLOPT_NOSIGNAL, 1L);  // no SIGALRM for DNS timeouts: we run in threads
    set(CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout_ms));
    set(CURLOPT_TIMEOUT_MS,
        static_cast<long>(request.timeout_ms > 0 ? request.timeout_ms : options_.timeout_ms));
    set(CURLOPT_USERAGENT, options_.user_agent.c_str());
    set(CURLOPT_ACCEPT_ENCODING, "");  // offer every decoding libcurl has; bodies arrive decoded
    set(CURLOPT_FOLLOWLOCATION, options_.follow_redirects ? 1L : 0L);
    if (options_.follow_redirects) {
      set(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
      set(CURLOPT_MAXREDIRS, 5L);
    }
    set(CURLOPT_SSL_VERIFYPEER, options_.verify_tls ? 1L : 0L);
    set(CURLOPT_SSL_VERIFYHOST, options_.verify_tls ? 2L : 0L);
    if (!options_.ca_bundle.empty()) set(CURLOPT_CAINFO, options_.ca_bundle.c_str());
    set(CURLOPT_HTTPHEADER, headers.list);
    set(CURLOPT_WRITEFUNCTION, &on_body);
    set(CURLOPT_WRITEDATA, &transfer);
    set(CURLOPT_HEADERFUNCTION, &on_header);
    set(CURLOPT_HEADERDATA, &transfer);
    set(CURLOPT_PREREQFUNCTION, &on_prereq);
    set(CURLOPT_PREREQDATA, &transfer);

    if (request.method == "GET" && request.body.empty()) {
      set(CURLOPT_HTTPGET, 1L);
    } else if (request.method == "HEAD") {
      set(CURLOPT_NOBODY, 1L);
    } else {
      if (request.method != "POST") set(CURLOPT_CUSTOMREQUEST, request.method.c_str());
      if (sends_body) {
        // POSTFIELDS does not copy: request.body outlives curl_easy_perform below.
        set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
        set(CURLOPT_POSTFIELDS, request.body.data());
      }
    }

    const auto start = std::chrono::steady_clock::now();
    const CURLcode code = curl_easy_perform(handle_);
    transfer.response.elapsed_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                       std::chrono::steady_clock::now() - start)
                                       .count();
    if (transfer.piece_error) std::rethrow_exception(transfer.piece_error);
    if (transfer.too_large) {
      throw Error::Permanent(
          fmt::format("{}: response body exceeds {} bytes", where, options_.max_response_bytes));
    }
    if (code != CURLE_OK) {
      const std::string detail = error_text[0] != '\0' ? error_text : curl_easy_strerror(code);
      throw Error(category_of(code),
                  log::redact(fmt::format("{}: {} (curl {}) after {} ms", where, detail,
                                          static_cast<int>(code), transfer.response.elapsed_ms)));
    }
    long status = 0;
    curl_easy_getinfo(handle_, CURLINFO_RESPONSE_CODE, &status);
    transfer.response.status = static_cast<int>(status);
    transfer.response.transmissions = std::max(1, transfer.sends);
    return std::move(transfer.response);
  }

 private:
  // Owns the header list for one request.
  struct HeaderGuard {
    curl_slist* list = nullptr;
    ~HeaderGuard() { curl_slist_free_all(list); }
  };

  static void append(HeaderGuard& headers, const std::string& line) {
    curl_slist* next = curl_slist_append(headers.list, line.c_str());
    if (next == nullptr) throw Error::Internal("curl_slist_append failed");
    headers.list = next;
  }

  template <typename T>
  void set(CURLoption option, T value) {
    const CURLcode code = curl_easy_setopt(handle_, option, value);
    if (code != CURLE_OK) {
      throw Error::Internal(fmt::format("curl_easy_setopt({}) failed: {}", static_cast<int>(option),
                                        curl_easy_strerror(code)));
    }
  }

  CurlOptions options_;
  CURL* handle_ = nullptr;
};

}  // namespace

std::unique_ptr<HttpClient> make_curl_client(const CurlOptions& options) {
  return std::make_unique<CurlClient>(options);
}

}  // namespace trib::net

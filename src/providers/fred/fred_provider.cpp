// The fred adapter: FRED's series observations (St. Louis Fed), dataset "rates": one economic
// series per task, in the series' own calendar. fetch returns FRED's pages exactly (back to back,
// '\n' between them); parse is fred_parse.cpp.
//
// Request (FRED API docs, fred/series_observations):
//   GET /fred/series/observations?series_id=DFF&observation_start=YYYY-MM-DD
//       &observation_end=YYYY-MM-DD&file_type=json&limit=100000&offset=N&api_key=KEY
// The key travels in the query (api_key); FRED has no header auth. A page holds at most `limit`
// (1..100000) observations and says how many there are in all (count): the next page starts at
// offset + the observations received while that is short of count.
// The series id is FetchRequest::symbol (FRED ids such as DFF or HQMCB10YR are valid symbols), or
// params["series_id"] when given.
// FRED's errors are JSON {"error_code":400,"error_message":"Bad Request.  The series does not
// exist."} with the HTTP status in error_code: an unknown series -> NotFound; a key FRED does not
// know ("The value for variable api_key is not registered") or none -> Permanent; 429 -> waited
// out (VendorHttp); other 400s -> InvalidInput.
#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "fred_parse.hpp"
#include "trib/core/error.hpp"
#include "trib/providers/vendor_http.hpp"

namespace trib::providers {
namespace {

using nlohmann::json;

constexpr int kMaxLimit = 100'000;
constexpr int kMaxPages = 10'000;

int64_t positive_option(const ProviderOptions& options, const std::string& name, int64_t fallback,
                        int64_t max) {
  auto it = options.find(name);
  if (it == options.end() || it->second.empty()) return fallback;
  try {
    size_t used = 0;
    const long long v = std::stoll(it->second, &used);
    if (used == it->second.size() && v > 0 && v <= max) return v;
  } catch (const std::exception&) {
  }
  throw Error::InvalidInput(fmt::format("fred: option {} '{}' is not a number in 1..{}", name, it->second, max));
}

bool contains(std::string_view text, std::string_view part) { return text.find(part) != std::string_view::npos; }

class FredProvider final : public Provider {
 public:
  FredProvider(const ProviderOptions& options, std::shared_ptr<RequestGate> gate)
      : info_(vendor_info("fred")),
        gate_(gate),
        limit_(static_cast<int>(positive_option(options, "page_limit", kMaxLimit, kMaxLimit))),
        http_([&] {
          VendorHttpOptions o;
          o.vendor = "fred";
          o.base_url = base_url_from(options, vendor_info("fred"));
          o.gate = std::move(gate);
          o.timeout_ms = positive_option(options, "timeout_ms", o.timeout_ms, int64_t{1} << 40);
          return o;
        }()) {}

  std::string_view name() const override { return "fred"; }

  FetchResult fetch(const FetchRequest& request) override {
    if (request.dataset != "rates") {
      throw Error::InvalidInput(fmt::format(
          "fred serves dataset 'rates' (economic series such as DFF), not '{}'", request.dataset));
    }
    std::string series = request.symbol.str();
    if (auto it = request.params.find("series_id"); it != request.params.end() && !it->second.empty()) {
      series = it->second;
    }
    if (series.empty()) throw Error::InvalidInput("fred needs a series id (the symbol, e.g. DFF)");
    for (char c : series) {
      const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
      if (!ok || series.size() > 64) {
        throw Error::InvalidInput("fred: a series id is letters, digits and '_' (e.g. DFF, HQMCB10YR)");
      }
    }
    if (request.to < request.from) {
      throw Error::InvalidInput(fmt::format("fred: --from {} is after --to {}", request.from.to_string(),
                                            request.to.to_string()));
    }
    // Read at fetch time: a worker started before the key was exported fails with its name.
    const std::string key = api_key_from_env(info_.key_env, "fred");
    const std::string path = "/fred/series/observations";
    const std::vector<std::pair<std::string, std::string>> asked = {
        {"series_id", series},
        {"observation_start", request.from.to_string()},
        {"observation_end", request.to.to_string()},
        {"file_type", "json"},
        {"limit", std::to_string(limit_)},
    };

    FetchResult result;
    json pages = json::array();
    int64_t offset = 0;
    for (int page = 0;; ++page) {
      if (page >= kMaxPages) {
        throw Error::Permanent(fmt::format("fred: series {} did not end after {} pages", series, kMaxPages));
      }
      auto params = asked;
      params.emplace_back("offset", std::to_string(offset));
      params.emplace_back("api_key", key);
      net::HttpResponse response = http_.get(path + query_string(params), {{"Accept", "application/json"}}, {400});
      const json doc = check_page(response, series, path, offset);
      const auto& observations = doc.at("observations");
      const int64_t received = static_cast<int64_t>(observations.size());
      int64_t count = received;
      if (doc.contains("count") && doc["count"].is_number_integer()) count = doc["count"].get<int64_t>();
      pages.push_back({{"offset", offset}, {"observations", received}, {"status", response.status}});
      if (!result.bytes.empty()) result.bytes += '\n';
      result.bytes += response.body;
      if (received == 0 || offset + received >= count) break;
      offset += received;
    }
    result.ext = "json";
    result.content_type = "application/json";
    result.status = 200;
    json described = json::object();
    for (const auto& [k, v] : asked) described[k] = v;
    result.request = {{"vendor", "fred"},
                      {"path", path},
                      {"params", described},
                      {"series_id", series},
                      {"from", request.from.to_string()},
                      {"to", request.to.to_string()},
                      {"pages", pages}};
    return result;
  }

  ParseResult parse(std::string_view bytes, const ParseContext& context) const override {
    return parse_fred_observations(bytes, context);
  }

 private:
  // The page must be FRED's observations JSON; anything else becomes the error its cause deserves.
  json check_page(const net::HttpResponse& response, const std::string& series, const std::string& path,
                  int64_t offset) {
    const std::string where = fmt::format("GET {} (series {}, offset {})", path, series, offset);
    if (response.body.empty()) {
      throw Error::Retryable(fmt::format("fred answered HTTP {} with an empty body to {}", response.status, where));
    }
    if (looks_like_html(response.body)) {
      throw Error::Retryable(fmt::format("fred answered an HTML page instead of JSON (HTTP {}) to {}: {}",
                                         response.status, where, body_excerpt(response.body, 80)));
    }
    json doc = json::parse(response.body, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded()) {
      throw Error::Retryable(fmt::format(
          "fred answered HTTP {} to {} with a body that is not complete JSON ({} bytes, cut short?): {}",
          response.status, where, response.body.size(), body_excerpt(response.body, 80)));
    }
    if (doc.is_object() && (doc.contains("error_code") || doc.contains("error_message"))) {
      throw_vendor_error(doc, response, series, where);
    }
    if (response.status == 400) {
      throw Error::InvalidInput(fmt::format("fred rejected {} (HTTP 400): {}", where, body_excerpt(response.body)));
    }
    if (!doc.is_object() || !doc.contains("observations") || !doc["observations"].is_array()) {
      throw Error::Retryable(fmt::format("fred answered {} with JSON that holds no observations: {}", where,
                                         body_excerpt(response.body)));
    }
    return doc;
  }

  [[noreturn]] void throw_vendor_error(const json& doc, const net::HttpResponse& response,
                                       const std::string& series, const std::string& where) {
    std::string message;
    if (doc.contains("error_message") && doc["error_message"].is_string()) {
      message = doc["error_message"].get<std::string>();
    }
    int64_t code = response.status;
    if (doc.contains("error_code") && doc["error_code"].is_number_integer()) code = doc["error_code"].get<int64_t>();
    const std::string excerpt = body_excerpt(response.body);
    if (contains(message, "series does not exist")) {
      throw Error::NotFound(fmt::format("fred does not know symbol {} (series {}): {}", series, series, excerpt));
    }
    if (contains(message, "api_key")) {
      throw Error::Permanent(fmt::format(
          "fred refused the API key (HTTP {}): {}; check {} in the environment (see `trib vendors`)",
          response.status, excerpt, info_.key_env));
    }
    if (code == 429 || contains(message, "Too Many Requests") || contains(message, "Rate Limit")) {
      if (gate_) gate_->pause("fred", now_ms() + 60'000);
      throw Error::RateLimited(fmt::format("fred says too many requests (HTTP {} to {}): {}", response.status,
                                           where, excerpt));
    }
    if (code >= 500 || response.status >= 500) {
      throw Error::Retryable(fmt::format("fred failed {} (HTTP {}): {}", where, response.status, excerpt));
    }
    throw Error::InvalidInput(fmt::format("fred rejected {} (HTTP {}): {}", where, response.status, excerpt));
  }

  static int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }

  const VendorInfo& info_;
  std::shared_ptr<RequestGate> gate_;
  int limit_;
  VendorHttp http_;
};

}  // namespace

std::unique_ptr<Provider> make_fred_provider(const ProviderOptions& options, std::shared_ptr<RequestGate> gate) {
  return std::make_unique<FredProvider>(options, std::move(gate));
}

}  // namespace trib::providers

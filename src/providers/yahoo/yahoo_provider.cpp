// The yahoo adapter: Yahoo Finance's chart API (GET /v8/finance/chart/{symbol}), daily and
// intraday bars with split and dividend events, no API key. fetch returns Yahoo's bytes exactly;
// parse is yahoo_parse.cpp.
//
// Request (the shape Yahoo's own pages and public clients send):
//   /v8/finance/chart/{symbol}?period1=EPOCH_S&period2=EPOCH_S&interval=1d|1h|1m
//     &events=div|split&includeAdjustedClose=true[&includePrePost=false]
// period1 is `from` at 00:00 UTC and period2 (exclusive) `to + 1 day` at 00:00 UTC. Intraday asks
// for the regular session only (includePrePost=false).
// Yahoo's errors: {"chart":{"result":null,"error":{"code":"Not Found","description":"No data
// found, symbol may be delisted"}}} with HTTP 404 for a symbol it does not know, code "Bad
// Request" with HTTP 400 for a request it refuses.
// Yahoo publishes no rate limit; the budget in registry.cpp is ours.
#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "trib/core/error.hpp"
#include "trib/net/url.hpp"
#include "trib/providers/vendor_http.hpp"
#include "yahoo_parse.hpp"

namespace trib::providers {
namespace {

using nlohmann::json;

constexpr int64_t kDaySeconds = 86'400;

int64_t timeout_option(const ProviderOptions& options, int64_t fallback) {
  auto it = options.find("timeout_ms");
  if (it == options.end() || it->second.empty()) return fallback;
  try {
    size_t used = 0;
    const long long v = std::stoll(it->second, &used);
    if (used == it->second.size() && v > 0) return v;
  } catch (const std::exception&) {
  }
  throw Error::InvalidInput(fmt::format("yahoo: option timeout_ms '{}' is not a positive number of "
                                        "milliseconds", it->second));
}

std::string_view interval_of(Timeframe tf) {
  switch (tf) {
    case Timeframe::kDay1: return "1d";
    case Timeframe::kHour1: return "1h";
    case Timeframe::kMinute1: return "1m";
  }
  return "1d";
}

class YahooProvider final : public Provider {
 public:
  YahooProvider(const ProviderOptions& options, std::shared_ptr<RequestGate> gate)
      : gate_(gate),
        http_([&] {
          VendorHttpOptions o;
          o.vendor = "yahoo";
          o.base_url = base_url_from(options, vendor_info("yahoo"));
          o.gate = std::move(gate);
          o.timeout_ms = timeout_option(options, o.timeout_ms);
          return o;
        }()) {}

  std::string_view name() const override { return "yahoo"; }

  FetchResult fetch(const FetchRequest& request) override {
    if (request.dataset != "bars") {
      throw Error::InvalidInput(
          fmt::format("yahoo serves dataset 'bars', not '{}'", request.dataset));
    }
    if (request.symbol.empty()) throw Error::InvalidInput("yahoo needs a symbol to fetch");
    if (request.to < request.from) {
      throw Error::InvalidInput(fmt::format("yahoo: --from {} is after --to {}",
                                            request.from.to_string(), request.to.to_string()));
    }
    const std::string interval(interval_of(request.timeframe));
    const int64_t period1 = int64_t{request.from.days_since_epoch()} * kDaySeconds;
    const int64_t period2 = int64_t{(request.to + 1).days_since_epoch()} * kDaySeconds;
    const std::string path = "/v8/finance/chart/" + net::percent_encode(request.symbol.str());
    std::vector<std::pair<std::string, std::string>> params = {
        {"period1", std::to_string(period1)},
        {"period2", std::to_string(period2)},
        {"interval", interval},
        {"events", "div|split"},
        {"includeAdjustedClose", "true"},
    };
    if (request.timeframe != Timeframe::kDay1) params.emplace_back("includePrePost", "false");

    // 400, 404 and 422 come back as values: Yahoo says in its own body what went wrong.
    net::HttpResponse response =
        http_.get(path + query_string(params), {{"Accept", "application/json"}}, {400, 404, 422});
    check_chart(response, request.symbol, path);

    FetchResult result;
    result.bytes = std::move(response.body);
    result.ext = "json";
    result.content_type = "application/json";
    result.status = response.status;
    json described = json::object();
    for (const auto& [k, v] : params) described[k] = v;
    result.request = {{"vendor", "yahoo"},
                      {"path", path},
                      {"params", described},
                      {"symbol", request.symbol.str()},
                      {"from", request.from.to_string()},
                      {"to", request.to.to_string()},
                      {"pages", 1},
                      // Yahoo's chart OHLC are split-adjusted as of the fetch (not dividend-
                      // adjusted): the corporate-actions layer must not apply splits again.
                      {"adjusted", "split"}};
    return result;
  }

  ParseResult parse(std::string_view bytes, const ParseContext& context) const override {
    return parse_yahoo_chart(bytes, context);
  }

 private:
  // The body must be Yahoo's chart JSON; anything else becomes the error its cause deserves.
  void check_chart(const net::HttpResponse& response, const Symbol& symbol, const std::string& path) {
    const std::string where = fmt::format("GET {}", path);
    if (response.body.empty()) {
      throw Error::Retryable(fmt::format("yahoo answered HTTP {} with an empty body to {}",
                                         response.status, where));
    }
    if (looks_like_html(response.body)) {
      throw Error::Retryable(fmt::format("yahoo answered an HTML page instead of chart JSON (HTTP {}) to {}: {}",
                                         response.status, where, body_excerpt(response.body, 80)));
    }
    const json doc = json::parse(response.body, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded()) {
      throw Error::Retryable(fmt::format(
          "yahoo answered HTTP {} to {} with a body that is not complete JSON ({} bytes, cut short?): {}",
          response.status, where, response.body.size(), body_excerpt(response.body, 80)));
    }
    // {"chart":{"error":{...}}}, or {"finance":{"error":{...}}} from Yahoo's front end.
    const json* error = nullptr;
    for (const char* top : {"chart", "finance"}) {
      if (doc.is_object() && doc.contains(top) && doc[top].is_object() && doc[top].contains("error") &&
          !doc[top]["error"].is_null()) {
        error = &doc[top]["error"];
        break;
      }
    }
    if (error != nullptr) throw_vendor_error(*error, response, symbol, where);
    if (response.status == 404) {
      throw Error::NotFound(fmt::format("yahoo does not know symbol {} (HTTP 404 to {}): {}", symbol.str(),
                                        where, body_excerpt(response.body)));
    }
    if (response.status == 400) {
      throw Error::InvalidInput(fmt::format("yahoo rejected {} (HTTP 400): {}", where,
                                            body_excerpt(response.body)));
    }
    const bool chart = doc.is_object() && doc.contains("chart") && doc["chart"].is_object() &&
                       doc["chart"].contains("result") && doc["chart"]["result"].is_array() &&
                       !doc["chart"]["result"].empty();
    if (!chart) {
      throw Error::Retryable(fmt::format("yahoo answered {} with JSON that is not a chart result: {}",
                                         where, body_excerpt(response.body)));
    }
  }

  [[noreturn]] void throw_vendor_error(const json& error, const net::HttpResponse& response,
                                       const Symbol& symbol, const std::string& where) {
    std::string code;
    if (error.is_object() && error.contains("code") && error["code"].is_string()) {
      code = error["code"].get<std::string>();
    }
    const std::string excerpt = body_excerpt(response.body);
    if (code == "Not Found") {
      throw Error::NotFound(fmt::format("yahoo does not know symbol {} (HTTP {} to {}): {}", symbol.str(),
                                        response.status, where, excerpt));
    }
    if (code == "Bad Request" || code == "Unprocessable Entity") {
      throw Error::InvalidInput(fmt::format("yahoo rejected {} (HTTP {}, {}): {}", where, response.status,
                                            code, excerpt));
    }
    if (code == "Too Many Requests") {
      if (gate_) gate_->pause("yahoo", now_ms() + 60'000);
      throw Error::RateLimited(fmt::format("yahoo says too many requests (HTTP {} to {}): {}",
                                           response.status, where, excerpt));
    }
    if (code == "Unauthorized" || code == "Forbidden") {
      throw Error::Permanent(fmt::format("yahoo refused {} (HTTP {}, {}): {}", where, response.status, code,
                                         excerpt));
    }
    if (response.status >= 500 || code == "Internal Server Error" || code == "Service Unavailable" ||
        code == "Gateway Timeout") {
      throw Error::Retryable(fmt::format("yahoo failed {} (HTTP {}): {}", where, response.status, excerpt));
    }
    throw Error::Permanent(fmt::format("yahoo answered {} with its error (HTTP {}): {}", where,
                                       response.status, excerpt));
  }

  static int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }

  std::shared_ptr<RequestGate> gate_;
  VendorHttp http_;
};

}  // namespace

std::unique_ptr<Provider> make_yahoo_provider(const ProviderOptions& options, std::shared_ptr<RequestGate> gate) {
  return std::make_unique<YahooProvider>(options, std::move(gate));
}

}  // namespace trib::providers

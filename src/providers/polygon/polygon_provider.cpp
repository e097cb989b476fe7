// The polygon adapter (Polygon.io REST, https://polygon.io/docs/stocks):
//   dataset "bars":    GET /v2/aggs/ticker/{T}/range/1/{day|hour|minute}/{from}/{to}
//                          ?adjusted=false&sort=asc&limit=50000
//                      (option "adjusted", default "false": we store bars as traded and apply
//                      corporate actions ourselves). With option "actions"="true" the splits and
//                      dividends pages below are fetched too and stored after the bar pages.
//   dataset "actions": GET /v3/reference/splits?ticker=T&execution_date.gte=F&execution_date.lte=T
//                      then GET /v3/reference/dividends?ticker=T&ex_dividend_date.gte=F&...lte=T
//                      (limit=1000 each); the payload is the splits page(s), then the dividends
//                      page(s).
// Options: "adjusted", "actions", "limit" (rows per page, default and most 50000; the reference
// endpoints take at most 1000), "timeout_ms" (HTTP timeout, default 60000), "base_url".
// Auth: "Authorization: Bearer KEY" (Polygon also takes ?apiKey=; a header keeps the key out of
// every URL we log or store). Paging: each page's "next_url" (an absolute URL on the same host)
// is followed with the same header until a page has none; pages are stored back to back, '\n'
// between them.
//
// Unknown symbols: the aggregates endpoint answers 200 with no "results" both for a ticker it does
// not know and for a window without sessions. So when a window that holds NYSE sessions comes back
// with 0 bars, we ask GET /v3/reference/tickers/{T}?date={to} once: 404 ({"status":"NOT_FOUND"})
// -> Error::NotFound "polygon does not know symbol T"; 200 -> the empty aggregates page is a valid
// payload (no trading in the window, e.g. a halted or not yet listed ticker).
//
// Errors in Polygon's own words ({"status":"ERROR","request_id":..,"error":".."}, whatever the
// HTTP status that carried it): "exceeded the maximum requests" -> RateLimited (and every worker
// sharing the budget pauses a minute), a key/plan refusal -> Permanent, NOT_FOUND -> NotFound, a
// request it could not parse -> InvalidInput, anything else -> Retryable.
#include <algorithm>
#include <charconv>
#include <chrono>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "polygon_parse.hpp"
#include "trib/core/error.hpp"
#include "trib/core/log.hpp"
#include "trib/net/url.hpp"
#include "trib/providers/parse_util.hpp"
#include "trib/providers/vendor_http.hpp"

namespace trib::providers {
namespace {

using nlohmann::json;

constexpr const char* kVendor = "polygon";
constexpr int kMaxPages = 10'000;
constexpr int64_t kRateLimitPauseMs = 60'000;  // Polygon's limits are per minute

int64_t now_unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string lower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

bool contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

// A URL as we record it in the request description: never a key (we send it as a header, but a
// next_url could in principle carry one back), redacted like every log line.
std::string recordable(const std::string& url) {
  std::string out = url;
  for (const char* name : {"apiKey=", "apikey=", "APIKEY="}) {
    size_t pos = 0;
    while ((pos = out.find(name, pos)) != std::string::npos) {
      const size_t start = pos + std::string_view(name).size();
      const size_t end = out.find('&', start);
      out.replace(start, end == std::string::npos ? std::string::npos : end - start, "REDACTED");
      pos = start;
    }
  }
  return log::redact(out);
}

class PolygonProvider final : public Provider {
 public:
  PolygonProvider(const ProviderOptions& options, std::shared_ptr<RequestGate> gate)
      : options_(options), gate_(std::move(gate)) {}

  std::string_view name() const override { return kVendor; }

  FetchResult fetch(const FetchRequest& request) override {
    if (request.dataset != "bars" && request.dataset != "actions") {
      throw Error::InvalidInput(fmt::format(
          "polygon serves datasets 'bars' and 'actions', not '{}'", request.dataset));
    }
    if (request.symbol.empty()) throw Error::InvalidInput("polygon needs a symbol (ticker)");
    if (request.to < request.from) {
      throw Error::InvalidInput(fmt::format("polygon: from {} is after to {}",
                                            request.from.to_string(), request.to.to_string()));
    }
    const std::string adjusted = request_option(request, options_, "adjusted", "false");
    if (adjusted != "false" && adjusted != "true") {
      throw Error::InvalidInput(
          fmt::format("polygon option adjusted='{}' must be true or false", adjusted));
    }
    const std::string with_actions = request_option(request, options_, "actions", "false");
    const int64_t limit = positive_request_option(request, options_, "polygon", "limit", 50'000);
    if (limit > 50'000) throw Error::InvalidInput("polygon option limit must be at most 50000");
    const std::string reference_limit = std::to_string(std::min<int64_t>(limit, 1000));
    const VendorInfo& info = vendor_info(kVendor);
    // Read at fetch time: a worker started before the key was exported fails this task only.
    const std::string key = api_key_from_env(info.key_env, kVendor);
    VendorHttpOptions http_options;
    http_options.vendor = kVendor;
    http_options.base_url = base_url_from(options_, info);
    http_options.gate = gate_;
    http_options.timeout_ms = positive_request_option(request, options_, "polygon", "timeout_ms", 60'000);
    VendorHttp http(std::move(http_options));
    const net::HeaderList headers = {{"Authorization", "Bearer " + key}};

    FetchResult result;
    result.ext = "json";
    result.content_type = "application/json";
    result.status = 200;
    json pages = json::array();
    const std::string ticker = net::percent_encode(request.symbol.str());
    const std::string from = request.from.to_string();
    const std::string to = request.to.to_string();
    json described = {{"vendor", kVendor},
                      {"dataset", request.dataset},
                      {"symbol", request.symbol.str()},
                      {"timeframe", std::string(to_string(request.timeframe))},
                      {"from", from},
                      {"to", to},
                      {"auth", "Authorization: Bearer header (key not recorded)"}};

    auto fetch_actions = [&] {
      fetch_paged(http, "/v3/reference/splits",
                  {{"ticker", request.symbol.str()},
                   {"execution_date.gte", from},
                   {"execution_date.lte", to},
                   {"limit", reference_limit}},
                  headers, request.symbol, result.bytes, pages);
      fetch_paged(http, "/v3/reference/dividends",
                  {{"ticker", request.symbol.str()},
                   {"ex_dividend_date.gte", from},
                   {"ex_dividend_date.lte", to},
                   {"limit", reference_limit}},
                  headers, request.symbol, result.bytes, pages);
    };

    if (request.dataset == "bars") {
      const char* span = request.timeframe == Timeframe::kDay1    ? "day"
                         : request.timeframe == Timeframe::kHour1 ? "hour"
                                                                  : "minute";
      const std::string path =
          fmt::format("/v2/aggs/ticker/{}/range/1/{}/{}/{}", ticker, span, from, to);
      const std::vector<std::pair<std::string, std::string>> params = {
          {"adjusted", adjusted}, {"sort", "asc"}, {"limit", std::to_string(limit)}};
      described["path"] = path;
      described["params"] = json::object();
      for (const auto& [k, v] : params) described["params"][k] = v;
      const int64_t bars =
          fetch_paged(http, path, params, headers, request.symbol, result.bytes, pages);
      described["results"] = bars;
      if (bars == 0 &&
          !TradingCalendar::nyse().sessions(request.from, request.to).empty()) {
        described["ticker_check"] = check_ticker(http, headers, request.symbol, to);
      }
      if (with_actions == "true") fetch_actions();
    } else {
      fetch_actions();
    }
    described["pages"] = pages;
    result.request = std::move(described);
    return result;
  }

  ParseResult parse(std::string_view bytes, const ParseContext& context) const override {
    return parse_polygon(bytes, context);
  }

 private:
  // GETs `path` and every page its next_url chain leads to; appends each page's bytes to `bytes`
  // ('\n' between pages) and a description of it to `pages`. Returns the rows in "results".
  int64_t fetch_paged(VendorHttp& http, const std::string& path,
                      const std::vector<std::pair<std::string, std::string>>& params,
                      const net::HeaderList& headers, const Symbol& symbol, std::string& bytes,
                      json& pages) {
    int64_t rows = 0;
    std::set<std::string> seen;
    std::string url;  // empty for the first page (relative to base_url)
    for (int page = 1;; ++page) {
      net::HttpResponse response = url.empty() ? http.get(path + query_string(params), headers)
                                               : http.get_absolute(url, headers);
      const std::string what = page == 1 ? fmt::format("GET {}", path)
                                         : fmt::format("page {} of GET {}", page, path);
      const json doc = check_page(response, what, symbol);
      int64_t page_rows = 0;
      if (auto r = doc.find("results"); r != doc.end() && r->is_array()) {
        page_rows = static_cast<int64_t>(r->size());
      }
      rows += page_rows;
      if (!bytes.empty()) bytes += '\n';
      bytes += response.body;
      json described = {{"url", url.empty() ? path + query_string(params) : recordable(url)},
                        {"status", response.status},
                        {"results", page_rows}};
      pages.push_back(std::move(described));
      auto next = doc.find("next_url");
      if (next == doc.end() || !next->is_string() || next->get_ref<const std::string&>().empty()) {
        return rows;
      }
      url = next->get<std::string>();
      if (!seen.insert(url).second || page >= kMaxPages) {
        throw Error::Retryable(fmt::format(
            "polygon's next_url chain for GET {} does not end ({} pages; a link repeats or the "
            "chain exceeds {} pages)",
            path, page, kMaxPages));
      }
    }
  }

  // The page as JSON when it is Polygon's data; otherwise the error it stands for.
  json check_page(const net::HttpResponse& response, const std::string& what, const Symbol& symbol) {
    const std::string& body = response.body;
    if (body.find_first_not_of(" \t\r\n") == std::string::npos) {
      throw Error::Retryable(fmt::format(
          "polygon sent an empty body (HTTP {}) to {}; the task is retried", response.status, what));
    }
    if (looks_like_html(body)) {
      throw Error::Retryable(fmt::format(
          "polygon sent an HTML page instead of JSON (HTTP {}) to {}: {}", response.status, what,
          body_excerpt(body, 120)));
    }
    json doc = json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded() || !doc.is_object()) {
      throw Error::Retryable(fmt::format(
          "polygon's answer to {} is not a complete JSON object (cut short?), {} bytes: {}", what,
          body.size(), body_excerpt(body, 120)));
    }
    if (auto s = doc.find("status"); s != doc.end() && s->is_string()) {
      const std::string status = s->get<std::string>();
      if (status != "OK" && status != "DELAYED") vendor_error(doc, status, body, what, symbol);
    }
    return doc;
  }

  [[noreturn]] void vendor_error(const json& doc, const std::string& status, const std::string& body,
                                 const std::string& what, const Symbol& symbol) {
    std::string text;
    for (const char* k : {"error", "message"}) {
      if (auto e = doc.find(k); e != doc.end() && e->is_string()) text += e->get<std::string>() + " ";
    }
    const std::string why = lower(text);
    const std::string excerpt = body_excerpt(body);
    if (contains(why, "exceeded the maximum requests") || contains(why, "rate limit") ||
        contains(why, "too many requests")) {
      if (gate_) gate_->pause(kVendor, now_unix_ms() + kRateLimitPauseMs);
      throw Error::RateLimited(fmt::format(
          "polygon says we are over its request rate ({}): {}; every worker pauses {} s and the "
          "task is retried later",
          what, excerpt, kRateLimitPauseMs / 1000));
    }
    if (status == "NOT_AUTHORIZED" || contains(why, "api key") || contains(why, "not authorized") ||
        contains(why, "not entitled")) {
      throw Error::Permanent(fmt::format(
          "polygon refused our key or plan for {}: {}; check {} (see `trib vendors`)", what,
          excerpt, vendor_info(kVendor).key_env));
    }
    if (status == "NOT_FOUND") {
      throw Error::NotFound(fmt::format("polygon does not know symbol {} ({}): {}", symbol.str(),
                                        what, excerpt));
    }
    if (contains(why, "could not parse") || contains(why, "invalid") || contains(why, "bad request")) {
      throw Error::InvalidInput(fmt::format("polygon rejected {}: {}", what, excerpt));
    }
    throw Error::Retryable(fmt::format("polygon answered {} with an error (status {}): {}", what,
                                       status, excerpt));
  }

  // Tells "unknown ticker" from "no sessions in the window" after an empty aggregates answer.
  json check_ticker(VendorHttp& http, const net::HeaderList& headers, const Symbol& symbol,
                    const std::string& date) {
    const std::string path = "/v3/reference/tickers/" + net::percent_encode(symbol.str());
    const std::string query = query_string({{"date", date}});
    net::HttpResponse response = http.get(path + query, headers, {404});
    if (response.status == 404) {
      throw Error::NotFound(fmt::format(
          "polygon does not know symbol {}: its aggregates were empty and GET {} answered 404: {}",
          symbol.str(), path, body_excerpt(response.body)));
    }
    check_page(response, fmt::format("GET {}", path), symbol);
    return {{"url", path + query}, {"status", response.status}};
  }

  ProviderOptions options_;
  std::shared_ptr<RequestGate> gate_;
};

}  // namespace

std::unique_ptr<Provider> make_polygon_provider(const ProviderOptions& options,
                                                std::shared_ptr<RequestGate> gate) {
  return std::make_unique<PolygonProvider>(options, std::move(gate));
}

}  // namespace trib::providers

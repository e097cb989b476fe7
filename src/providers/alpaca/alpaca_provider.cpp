// The alpaca adapter (Alpaca Market Data API v2, https://docs.alpaca.markets/reference/stockbars):
//   GET /v2/stocks/bars?symbols=AAPL[,MSFT...]&timeframe=1Day|1Hour|1Min&start=RFC3339&end=RFC3339
//       &limit=10000&adjustment=raw&feed=iex|sip[&page_token=...]
// with headers APCA-API-KEY-ID and APCA-API-SECRET-KEY (APCA_API_KEY_ID / APCA_API_SECRET_KEY in
// the environment, read at fetch time). start is 00:00 New York of `from` and end the last second
// of `to` in New York (both inclusive at Alpaca), written in UTC. Pages: while a page's
// "next_page_token" is a non-empty string, the same request again with page_token=it; pages are
// stored back to back, '\n' between them.
//
// Several symbols at once: FetchRequest.params "symbols" = "AAPL,MSFT" asks for all of them in one
// request (FetchResult.multi_symbol is then true); otherwise FetchRequest.symbol alone.
// Options: "feed" (iex, the default and what a free account may read, or sip), "limit" (bars a
// page, default and most 10000), "timeout_ms" (HTTP timeout), "base_url", "actions" ("true": the
// corporate actions below are fetched after the bar pages and stored with them).
//
// Dataset "actions" (or option actions=true): GET /v1/corporate-actions?symbols=..&types=
//   forward_split,reverse_split,cash_dividend,name_change&start=YYYY-MM-DD&end=YYYY-MM-DD&limit=1000
//   [&page_token=] on the same host and headers, paged the same way; the ETL records the splits,
//   dividends and renames as alpaca's (known from the fetch).
//
// Unknown symbols: Alpaca answers 200 and leaves a symbol it has no bars for out of "bars"; no
// endpoint on the data host tells "unknown" from "no trading in the window" (/v2/assets is on the
// trading host, with other credentials' scope). So a single symbol with no bars is a valid empty
// payload, and Error::NotFound ("alpaca does not know symbol X") is reported only when Alpaca
// rejects the symbol itself: 422 {"code":42210000,"message":"invalid symbol: X"}.
//
// Errors in Alpaca's words ({"message": ...} or {"code":..,"message":..}): 401/403 "forbidden." or
// "unauthorized." -> Permanent naming both key variables; 403 "subscription does not permit ..."
// -> Permanent naming the feed; 429 "too many requests." -> waited out by VendorHttp (Retry-After,
// else a minute); the same words in a 200 -> RateLimited and the shared budget pauses a minute;
// other 4xx -> InvalidInput.
#include <algorithm>
#include <charconv>
#include <chrono>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "alpaca_parse.hpp"
#include "trib/core/error.hpp"
#include "trib/providers/parse_util.hpp"
#include "trib/providers/vendor_http.hpp"

namespace trib::providers {
namespace {

using nlohmann::json;

constexpr const char* kVendor = "alpaca";
constexpr const char* kPath = "/v2/stocks/bars";
constexpr const char* kActionsPath = "/v1/corporate-actions";
constexpr const char* kActionTypes = "forward_split,reverse_split,cash_dividend,name_change";
constexpr int kMaxPages = 100'000;
constexpr int64_t kRateLimitPauseMs = 60'000;  // Alpaca's limit is per minute

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

// 00:00 America/New_York of `d` as UTC nanoseconds. The offset in force at midnight is the one of
// the day before (the switches happen at 02:00 local).
int64_t new_york_midnight_ns(Date d) {
  return to_ts_ns(d) - int64_t{new_york_utc_offset_hours(d - 1)} * 3600 * kNanosPerSecond;
}

// "message" of an Alpaca error body, or "".
std::string message_of(const std::string& body) {
  json doc = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_object()) {
    if (auto m = doc.find("message"); m != doc.end() && m->is_string()) return m->get<std::string>();
  }
  return "";
}

class AlpacaProvider final : public Provider {
 public:
  AlpacaProvider(const ProviderOptions& options, std::shared_ptr<RequestGate> gate)
      : options_(options), gate_(std::move(gate)) {}

  std::string_view name() const override { return kVendor; }

  FetchResult fetch(const FetchRequest& request) override {
    if (request.dataset != "bars" && request.dataset != "actions") {
      throw Error::InvalidInput(
          fmt::format("alpaca serves datasets 'bars' and 'actions', not '{}'", request.dataset));
    }
    const bool want_bars = request.dataset == "bars";
    const bool want_actions = request.dataset == "actions" || request_option(request, options_, "actions", "false") == "true";
    if (request.to < request.from) {
      throw Error::InvalidInput(fmt::format("alpaca: from {} is after to {}",
                                            request.from.to_string(), request.to.to_string()));
    }
    const std::vector<std::string> symbols = symbols_of(request);
    const bool multi = request.params.count("symbols") && !request.params.at("symbols").empty();
    const std::string feed = request_option(request, options_, "feed", "iex");
    if (feed != "iex" && feed != "sip") {
      throw Error::InvalidInput(fmt::format("alpaca option feed='{}' must be iex or sip", feed));
    }
    const int64_t limit = positive_request_option(request, options_, "alpaca", "limit", 10'000);
    if (limit > 10'000) throw Error::InvalidInput("alpaca option limit must be at most 10000");
    const char* timeframe = request.timeframe == Timeframe::kDay1    ? "1Day"
                            : request.timeframe == Timeframe::kHour1 ? "1Hour"
                                                                     : "1Min";
    std::string joined;
    for (const auto& s : symbols) joined += (joined.empty() ? "" : ",") + s;
    const std::string start = format_ts_ns(new_york_midnight_ns(request.from));
    const std::string end = format_ts_ns(new_york_midnight_ns(request.to + 1) - kNanosPerSecond);

    const VendorInfo& info = vendor_info(kVendor);
    // Both read at fetch time; both registered as secrets.
    const std::string key_id = api_key_from_env(info.key_env, kVendor);
    const std::string secret = api_key_from_env(info.secret_env, kVendor);
    VendorHttpOptions http_options;
    http_options.vendor = kVendor;
    http_options.base_url = base_url_from(options_, info);
    http_options.gate = gate_;
    http_options.timeout_ms = positive_request_option(request, options_, "alpaca", "timeout_ms", 60'000);
    VendorHttp http(std::move(http_options));
    const net::HeaderList headers = {{"APCA-API-KEY-ID", key_id}, {"APCA-API-SECRET-KEY", secret}};

    const std::vector<std::pair<std::string, std::string>> params = {
        {"symbols", joined},         {"timeframe", timeframe}, {"start", start},
        {"end", end},                {"limit", std::to_string(limit)},
        {"adjustment", "raw"},       {"feed", feed}};
    json described = {{"vendor", kVendor},
                      {"dataset", request.dataset},
                      {"symbols", symbols},
                      {"timeframe", std::string(to_string(request.timeframe))},
                      {"from", request.from.to_string()},
                      {"to", request.to.to_string()},
                      {"path", kPath},
                      {"params", json::object()},
                      {"auth", "APCA-API-KEY-ID / APCA-API-SECRET-KEY headers (keys not recorded)"}};
    for (const auto& [k, v] : params) described["params"][k] = v;

    FetchResult result;
    result.ext = "json";
    result.content_type = "application/json";
    result.status = 200;
    result.multi_symbol = multi;
    json pages = json::array();
    // One paged GET: while a page's next_page_token is a non-empty string, the same request with
    // page_token=it; every page stored, '\n' between them. A page's rows are the lists in its
    // `expect` object (bars by symbol, actions by type).
    const auto count = [](const json& doc, const char* expect) {
      int64_t n = 0;
      if (auto groups = doc.find(expect); groups != doc.end() && groups->is_object()) {
        for (const auto& [_, rows] : groups->items()) {
          if (rows.is_array()) n += static_cast<int64_t>(rows.size());
        }
      }
      return n;
    };
    const auto paged = [&](const char* path, const std::vector<std::pair<std::string, std::string>>& base,
                           const char* expect) {
      std::set<std::string> seen_tokens;
      std::string token;
      int64_t total = 0;
      for (int page = 1;; ++page) {
        auto page_params = base;
        if (!token.empty()) page_params.emplace_back("page_token", token);
        net::HttpResponse response = http.get(path + query_string(page_params), headers, {403, 422});
        const std::string what = page == 1 ? fmt::format("GET {} for {}", path, joined)
                                           : fmt::format("page {} of GET {} for {}", page, path, joined);
        if (response.status == 403) refused(response, what, feed);
        if (response.status == 422) rejected(response, what, symbols);
        const json doc = check_page(response, what, symbols, expect);
        const int64_t in_page = count(doc, expect);
        total += in_page;
        if (!result.bytes.empty()) result.bytes += '\n';
        result.bytes += response.body;
        json one = {{"status", response.status}, {"path", path}, {expect, in_page}};
        if (!token.empty()) one["page_token"] = token;
        pages.push_back(std::move(one));
        auto next = doc.find("next_page_token");
        if (next == doc.end() || !next->is_string() || next->get_ref<const std::string&>().empty()) break;
        token = next->get<std::string>();
        if (!seen_tokens.insert(token).second || page >= kMaxPages) {
          throw Error::Retryable(fmt::format(
              "alpaca's next_page_token chain for {} does not end ({} pages; a token repeats or the "
              "chain exceeds {} pages)",
              what, page, kMaxPages));
        }
      }
      return total;
    };
    if (want_bars) {
      described["bars"] = paged(kPath, params, "bars");
    }
    if (want_actions) {
      // Splits, cash dividends and renames processed in the window (Alpaca's dates: YYYY-MM-DD).
      const std::vector<std::pair<std::string, std::string>> action_params = {
          {"symbols", joined}, {"types", kActionTypes}, {"start", request.from.to_string()},
          {"end", request.to.to_string()}, {"limit", "1000"}};
      described["action_params"] = json::object();
      for (const auto& [k, v] : action_params) described["action_params"][k] = v;
      described["corporate_actions"] = paged(kActionsPath, action_params, "corporate_actions");
    }
    described["pages"] = std::move(pages);
    result.request = std::move(described);
    return result;
  }

  ParseResult parse(std::string_view bytes, const ParseContext& context) const override {
    return parse_alpaca(bytes, context);
  }

 private:
  static std::vector<std::string> symbols_of(const FetchRequest& request) {
    std::vector<std::string> out;
    auto it = request.params.find("symbols");
    if (it == request.params.end() || it->second.empty()) {
      if (request.symbol.empty()) throw Error::InvalidInput("alpaca needs a symbol (or params symbols=A,B)");
      out.push_back(request.symbol.str());
      return out;
    }
    const std::string& list = it->second;
    size_t start = 0;
    while (start <= list.size()) {
      size_t comma = list.find(',', start);
      if (comma == std::string::npos) comma = list.size();
      std::string_view item(list.data() + start, comma - start);
      while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
      while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
      if (!item.empty()) {
        const std::string symbol = Symbol::parse(item).str();  // InvalidInput naming the rule
        if (std::find(out.begin(), out.end(), symbol) == out.end()) out.push_back(symbol);
      }
      start = comma + 1;
    }
    if (out.empty()) throw Error::InvalidInput("alpaca: params symbols names no symbol");
    return out;
  }

  [[noreturn]] void refused(const net::HttpResponse& response, const std::string& what,
                            const std::string& feed) const {
    const std::string why = lower(message_of(response.body));
    const VendorInfo& info = vendor_info(kVendor);
    if (contains(why, "subscription does not permit")) {
      throw Error::Permanent(fmt::format(
          "alpaca: the account's subscription does not permit this data (feed={}) for {}: {}; use "
          "feed=iex or a later window",
          feed, what, body_excerpt(response.body)));
    }
    throw Error::Permanent(fmt::format(
        "alpaca refused our credentials (HTTP {}) for {}: {}; check {} and {} (see `trib vendors`)",
        response.status, what, body_excerpt(response.body), info.key_env, info.secret_env));
  }

  [[noreturn]] void rejected(const net::HttpResponse& response, const std::string& what,
                             const std::vector<std::string>& symbols) const {
    const std::string message = message_of(response.body);
    const std::string why = lower(message);
    if (contains(why, "invalid symbol")) {
      std::string named;
      for (const auto& s : symbols) {
        if (contains(message, s)) named += (named.empty() ? "" : ", ") + s;
      }
      if (named.empty()) {
        for (const auto& s : symbols) named += (named.empty() ? "" : ", ") + s;
      }
      throw Error::NotFound(fmt::format("alpaca does not know symbol {} ({} answered 422: {})", named,
                                        what, body_excerpt(response.body)));
    }
    throw Error::InvalidInput(fmt::format("alpaca rejected {} (HTTP 422): {}", what,
                                          body_excerpt(response.body)));
  }

  // The page as JSON when it is what was asked (`expect`: "bars" or "corporate_actions");
  // otherwise the error it stands for.
  json check_page(const net::HttpResponse& response, const std::string& what,
                  const std::vector<std::string>& symbols, const char* expect) const {
    const std::string& body = response.body;
    if (body.find_first_not_of(" \t\r\n") == std::string::npos) {
      throw Error::Retryable(fmt::format(
          "alpaca sent an empty body (HTTP {}) to {}; the task is retried", response.status, what));
    }
    if (looks_like_html(body)) {
      throw Error::Retryable(fmt::format("alpaca sent an HTML page instead of JSON (HTTP {}) to {}: {}",
                                         response.status, what, body_excerpt(body, 120)));
    }
    json doc = json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded() || !doc.is_object()) {
      throw Error::Retryable(fmt::format(
          "alpaca's answer to {} is not a complete JSON object (cut short?), {} bytes: {}", what,
          body.size(), body_excerpt(body, 120)));
    }
    if (doc.contains(expect)) return doc;
    // Not what was asked: Alpaca's error body in a 2xx.
    const std::string why = lower(message_of(body));
    const std::string excerpt = body_excerpt(body);
    if (contains(why, "too many requests") || contains(why, "rate limit")) {
      if (gate_) gate_->pause(kVendor, now_unix_ms() + kRateLimitPauseMs);
      throw Error::RateLimited(fmt::format(
          "alpaca says we are over its request rate ({}): {}; every worker pauses {} s and the "
          "task is retried later",
          what, excerpt, kRateLimitPauseMs / 1000));
    }
    if (contains(why, "forbidden") || contains(why, "unauthorized") || contains(why, "not authorized") ||
        contains(why, "subscription")) {
      const VendorInfo& info = vendor_info(kVendor);
      throw Error::Permanent(fmt::format("alpaca refused {}: {}; check {} and {}", what, excerpt,
                                         info.key_env, info.secret_env));
    }
    if (contains(why, "invalid symbol")) {
      std::string named;
      for (const auto& s : symbols) named += (named.empty() ? "" : ", ") + s;
      throw Error::NotFound(fmt::format("alpaca does not know symbol {} ({}): {}", named, what, excerpt));
    }
    throw Error::Retryable(fmt::format("alpaca's answer to {} holds no \"{}\": {}", what, expect, excerpt));
  }

  ProviderOptions options_;
  std::shared_ptr<RequestGate> gate_;
};

}  // namespace

std::unique_ptr<Provider> make_alpaca_provider(const ProviderOptions& options,
                                               std::shared_ptr<RequestGate> gate) {
  return std::make_unique<AlpacaProvider>(options, std::move(gate));
}

}  // namespace trib::providers

// The Stooq adapter: daily bars from Stooq's CSV download.
//
// Request: GET /q/d/l/?s=<stooq symbol>&i=d&d1=YYYYMMDD&d2=YYYYMMDD (both ends inclusive). No key
//   (apikey=STOOQ_API_KEY is added when that variable is set; see fetch()).
//   Symbols: a US ticker is lower-cased with ".us" appended (AAPL -> aapl.us, BRK.B -> brk-b.us),
//   an index keeps its caret (^SPX -> ^spx), a currency pair loses its slash (EUR/USD -> eurusd);
//   option "stooq_symbol" gives Stooq's own symbol with its suffix (vod.uk) and wins.
// Answer: CSV Date,Open,High,Low,Close,Volume, ascending. Stooq's prices are split- and
//   dividend-adjusted back-series (SPY 2018-02-26 closes at 247.373 where it traded ~277), so
//   FetchResult.request says {"adjusted": true} for the corporate-actions layer.
// Stooq's own non-answers come with HTTP 200 as plain text:
//   "No data"                         -> NotFound: it has no such symbol. The same text answers a
//                                        window in which a listed symbol has no rows; the planner
//                                        only asks windows that hold sessions.
//   "Exceeded the daily hits limit"   -> RateLimited; the gate pauses stooq until 00:00 UTC.
#include <cctype>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <utility>

#include <fmt/format.h>

#include "stooq_parse.hpp"
#include "trib/core/error.hpp"
#include "trib/core/log.hpp"
#include "trib/providers/parse_util.hpp"
#include "trib/providers/vendor_http.hpp"

namespace trib::providers {
namespace {

constexpr std::string_view kVendor = "stooq";

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string compact_date(Date d) { return fmt::format("{:04d}{:02d}{:02d}", d.year(), d.month(), d.day()); }

int64_t now_unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class StooqProvider final : public Provider {
 public:
  StooqProvider(ProviderOptions options, std::shared_ptr<RequestGate> gate)
      : options_(std::move(options)), gate_(std::move(gate)) {}

  std::string_view name() const override { return kVendor; }

  FetchResult fetch(const FetchRequest& request) override {
    const VendorInfo& info = vendor_info(kVendor);
    if (request.dataset != "bars") {
      throw Error::InvalidInput(fmt::format("stooq serves dataset 'bars', not '{}'", request.dataset));
    }
    if (request.timeframe != Timeframe::kDay1) {
      throw Error::InvalidInput(fmt::format("stooq serves daily bars only, not {}", to_string(request.timeframe)));
    }
    if (request.symbol.empty()) throw Error::InvalidInput("stooq needs a symbol");
    if (request.to < request.from) {
      throw Error::InvalidInput(fmt::format("stooq: window {}..{} ends before it starts", request.from.to_string(),
                                            request.to.to_string()));
    }
    const std::string s = stooq_symbol(request);
    const std::vector<std::pair<std::string, std::string>> params{
        {"s", s}, {"i", "d"}, {"d1", compact_date(request.from)}, {"d2", compact_date(request.to)}};
    const std::string path = "/q/d/l/";
    const std::string where = "GET " + path + query_string(params);

    VendorHttpOptions http_options;
    http_options.vendor = std::string(kVendor);
    http_options.base_url = base_url_from(options_, info);
    http_options.gate = gate_;
    if (auto t = request_option(request, options_, "timeout_ms"); !t.empty()) {
      int64_t ms = 0;
      auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), ms);
      if (ec != std::errc() || end != t.data() + t.size() || ms <= 0) {
        throw Error::InvalidInput(fmt::format("stooq option timeout_ms='{}' is not a positive number", t));
      }
      http_options.timeout_ms = ms;
    }
    VendorHttp http(std::move(http_options));
    // Optional key: third-party API catalogues (apis.io) report that stooq.com asks downloads for
    // an apikey since early 2026; when STOOQ_API_KEY is set it is sent (and never recorded).
    auto sent = params;
    bool keyed = false;
    if (const char* key = std::getenv("STOOQ_API_KEY"); key != nullptr && *key != '\0') {
      log::register_secret(key);
      sent.emplace_back("apikey", key);
      keyed = true;
    }
    // gzip, as browsers and pandas-datareader ask (libcurl would also offer brotli, which the mock
    // vendor server then compresses at its slowest setting).
    net::HttpResponse response = http.get(path + query_string(sent), {{"Accept-Encoding", "gzip"}});
    check_body(response.body, request.symbol.str(), where);

    FetchResult result;
    result.bytes = std::move(response.body);
    result.ext = "csv";
    if (auto ct = response.header("Content-Type")) result.content_type = std::string(*ct);
    if (result.content_type.empty()) result.content_type = "text/csv";
    result.status = response.status;
    nlohmann::json asked = nlohmann::json::object();
    for (const auto& [k, v] : params) asked[k] = v;
    result.request = {{"vendor", std::string(kVendor)},
                      {"method", "GET"},
                      {"path", path},
                      {"params", asked},
                      {"pages", 1},
                      {"auth", keyed ? "apikey query parameter from STOOQ_API_KEY (not recorded)" : "none"},
                      {"adjusted", true},  // split- and dividend-adjusted back-series
                      {"from", request.from.to_string()},
                      {"to", request.to.to_string()}};
    return result;
  }

  ParseResult parse(std::string_view bytes, const ParseContext& context) const override {
    return stooq::parse(bytes, context);
  }

 private:
  std::string stooq_symbol(const FetchRequest& request) const {
    if (auto explicit_symbol = request_option(request, options_, "stooq_symbol"); !explicit_symbol.empty()) {
      return lower(explicit_symbol);
    }
    std::string s = request.symbol.str();
    if (s.front() == '^') return lower(s);
    if (auto slash = s.find('/'); slash != std::string::npos) return lower(s.erase(slash, 1));
    for (char& c : s) {
      if (c == '.') c = '-';
    }
    return lower(s) + ".us";
  }

  void check_body(const std::string& body, const std::string& symbol, const std::string& where) const {
    size_t i = 0;
    while (i < body.size() && std::isspace(static_cast<unsigned char>(body[i]))) ++i;
    if (i == body.size()) {
      throw Error::Retryable(fmt::format("stooq sent an empty body to {}; the task is retried", where));
    }
    if (looks_like_html(body)) {
      throw Error::Retryable(
          fmt::format("stooq sent an HTML page instead of its CSV to {}: {}", where, body_excerpt(body, 120)));
    }
    if (stooq::is_no_data(body)) {
      throw Error::NotFound(fmt::format("stooq does not know symbol {} (it answered 'No data' to {})", symbol, where));
    }
    if (stooq::is_hits_limit(body)) {
      const int64_t now = now_unix_ms();
      const int64_t until = (now / 86'400'000 + 1) * 86'400'000;  // next 00:00 UTC
      if (gate_) gate_->pause(kVendor, until);
      throw BudgetExhausted(fmt::format("stooq refused {} ({}); no requests to stooq until 00:00 UTC, when "
                                        "the task is tried again",
                                        where, body_excerpt(body, 120)),
                            until - now);
    }
    std::string head = lower(body.substr(i, 40));
    if (head.size() >= 3 && static_cast<unsigned char>(head[0]) == 0xEF) head.erase(0, 3);
    if (!head.starts_with("date,open,high,low,close")) {
      throw Error::Retryable(
          fmt::format("stooq sent a body that is not its CSV to {}: {}", where, body_excerpt(body, 120)));
    }
  }

  ProviderOptions options_;
  std::shared_ptr<RequestGate> gate_;
};

}  // namespace

std::unique_ptr<Provider> make_stooq_provider(const ProviderOptions& options, std::shared_ptr<RequestGate> gate) {
  return std::make_unique<StooqProvider>(options, std::move(gate));
}

}  // namespace trib::providers

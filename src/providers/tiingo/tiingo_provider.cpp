// The Tiingo adapter (https://www.tiingo.com/documentation/end-of-day, /documentation/iex).
//
// Request (1d): GET /tiingo/daily/<ticker>/prices?startDate=YYYY-MM-DD&endDate=YYYY-MM-DD
//               &format=json|csv&resampleFreq=daily
//         (1m, 1h): GET /iex/<ticker>/prices?startDate=..&endDate=..&format=..&resampleFreq=1min|1hour
//               &columns=open,high,low,close,volume (IEX bars; volume only when asked for)
// Auth: the header "Authorization: Token KEY" (TIINGO_API_KEY), as Tiingo's documentation and its
//   official Python client send it; never in the URL, never in FetchResult.request.
// Ticker: BRK.B -> BRK-B (Tiingo writes share classes with '-'); option "tiingo_symbol" wins.
// Option "format": json (default) or csv — the same bars (tests check both parse alike).
// Answers that are not data:
//   404 {"detail":"Error: Ticker 'XYZ' not found"} -> NotFound "tiingo does not know symbol XYZ"
//   401 {"detail":"Invalid token."}               -> Permanent naming TIINGO_API_KEY (VendorHttp)
//   200 "You have run over your ..." (plain text, its usage-limit answer; see
//       hydrosquall/tiingo-python#45)            -> RateLimited; an hourly allocation pauses the
//       gate for an hour, a daily one until 00:00 UTC; the monthly new-symbol allowance pauses
//       nothing (symbols already looked up this month still answer)
#include <cctype>
#include <charconv>
#include <chrono>
#include <utility>

#include <fmt/format.h>

#include "tiingo_parse.hpp"
#include "trib/core/error.hpp"
#include "trib/providers/parse_util.hpp"
#include "trib/providers/vendor_http.hpp"

namespace trib::providers {
namespace {

constexpr std::string_view kVendor = "tiingo";

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

int64_t now_unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class TiingoProvider final : public Provider {
 public:
  TiingoProvider(ProviderOptions options, std::shared_ptr<RequestGate> gate)
      : options_(std::move(options)), gate_(std::move(gate)) {}

  std::string_view name() const override { return kVendor; }

  FetchResult fetch(const FetchRequest& request) override {
    const VendorInfo& info = vendor_info(kVendor);
    if (request.dataset != "bars") {
      throw Error::InvalidInput(fmt::format("tiingo serves dataset 'bars', not '{}'", request.dataset));
    }
    if (request.symbol.empty()) throw Error::InvalidInput("tiingo needs a symbol");
    if (request.to < request.from) {
      throw Error::InvalidInput(fmt::format("tiingo: window {}..{} ends before it starts", request.from.to_string(),
                                            request.to.to_string()));
    }
    const std::string format = lower(request_option(request, options_, "format", "json"));
    if (format != "json" && format != "csv") {
      throw Error::InvalidInput(fmt::format("tiingo option format='{}' is not json or csv", format));
    }
    const std::string ticker = ticker_for(request);
    const bool daily = request.timeframe == Timeframe::kDay1;
    const std::string path = daily ? "/tiingo/daily/" + ticker + "/prices" : "/iex/" + ticker + "/prices";
    std::vector<std::pair<std::string, std::string>> params{{"startDate", request.from.to_string()},
                                                            {"endDate", request.to.to_string()},
                                                            {"format", format}};
    if (daily) {
      params.emplace_back("resampleFreq", "daily");
    } else {
      params.emplace_back("resampleFreq", request.timeframe == Timeframe::kHour1 ? "1hour" : "1min");
      params.emplace_back("columns", "open,high,low,close,volume");
    }
    const std::string where = "GET " + path + query_string(params);

    VendorHttpOptions http_options;
    http_options.vendor = std::string(kVendor);
    http_options.base_url = base_url_from(options_, info);
    http_options.gate = gate_;
    if (auto t = request_option(request, options_, "timeout_ms", ""); !t.empty()) {
      int64_t ms = 0;
      auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), ms);
      if (ec != std::errc() || end != t.data() + t.size() || ms <= 0) {
        throw Error::InvalidInput(fmt::format("tiingo option timeout_ms='{}' is not a positive number", t));
      }
      http_options.timeout_ms = ms;
    }
    VendorHttp http(std::move(http_options));
    const std::string key = api_key_from_env(info.key_env, kVendor);
    // gzip, as Tiingo's Python client asks (libcurl would also offer brotli, which the mock vendor
    // server then compresses at its slowest setting).
    const net::HeaderList headers{
        {"Authorization", "Token " + key}, {"Content-Type", "application/json"}, {"Accept-Encoding", "gzip"}};
    net::HttpResponse response = http.get(path + query_string(params), headers, {404});
    check_body(response, format == "csv", request.symbol.str(), where);

    FetchResult result;
    result.bytes = std::move(response.body);
    result.ext = format;
    if (auto ct = response.header("Content-Type")) result.content_type = std::string(*ct);
    if (result.content_type.empty()) result.content_type = format == "csv" ? "text/csv" : "application/json";
    result.status = response.status;
    nlohmann::json asked = nlohmann::json::object();
    for (const auto& [k, v] : params) asked[k] = v;
    result.request = {{"vendor", std::string(kVendor)},
                      {"method", "GET"},
                      {"path", path},
                      {"params", asked},
                      {"pages", 1},
                      {"auth", "Authorization: Token header (not recorded)"},
                      {"from", request.from.to_string()},
                      {"to", request.to.to_string()}};
    return result;
  }

  ParseResult parse(std::string_view bytes, const ParseContext& context) const override {
    return tiingo::parse(bytes, context);
  }

 private:
  std::string ticker_for(const FetchRequest& request) const {
    std::string t = request_option(request, options_, "tiingo_symbol", request.symbol.str());
    for (char& c : t) {
      if (c == '.') c = '-';
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '^') {
        throw Error::InvalidInput(fmt::format("tiingo has no ticker like '{}'", t));
      }
    }
    return t;
  }

  void check_body(const net::HttpResponse& response, bool csv, const std::string& symbol,
                  const std::string& where) const {
    const std::string& body = response.body;
    const auto detail = tiingo::error_detail(body);
    if (response.status == 404) {
      throw Error::NotFound(fmt::format("tiingo does not know symbol {} (404 to {}: {})", symbol, where,
                                        detail ? body_excerpt(*detail) : body_excerpt(body)));
    }
    size_t i = 0;
    while (i < body.size() && std::isspace(static_cast<unsigned char>(body[i]))) ++i;
    if (i == body.size()) {
      throw Error::Retryable(fmt::format("tiingo sent an empty body to {}; the task is retried", where));
    }
    if (looks_like_html(body)) {
      throw Error::Retryable(
          fmt::format("tiingo sent an HTML page instead of data to {}: {}", where, body_excerpt(body, 120)));
    }
    if (detail) {
      const std::string d = lower(*detail);
      if (d.find("not found") != std::string::npos) {
        throw Error::NotFound(fmt::format("tiingo does not know symbol {} ({})", symbol, body_excerpt(*detail)));
      }
      if (d.find("token") != std::string::npos || d.find("credentials") != std::string::npos) {
        throw Error::Permanent(fmt::format("tiingo refused the API key ({}); check TIINGO_API_KEY in the environment",
                                           body_excerpt(*detail)));
      }
      throw Error::InvalidInput(fmt::format("tiingo refused {}: {}", where, body_excerpt(*detail)));
    }
    const std::string head = lower(std::string_view(body).substr(i, 200));
    if (head.starts_with("you have run over") || head.find("request allocation") != std::string::npos ||
        head.find("upgrade at https://api.tiingo.com/pricing") != std::string::npos) {
      raise_usage_limit(body, head, where);
    }
    if (body[i] == '[' || body[i] == '{') {
      const auto doc = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
      if (doc.is_discarded()) {
        throw Error::Retryable(fmt::format("tiingo sent JSON that does not parse ({} bytes, cut short?) to {}: {}",
                                           body.size(), where, body_excerpt(body, 120)));
      }
      if (!doc.is_array()) {
        throw Error::Permanent(
            fmt::format("tiingo answered {} with an object instead of prices: {}", where, body_excerpt(body)));
      }
      return;
    }
    if (!csv || !head.starts_with("date,")) {
      throw Error::Retryable(fmt::format("tiingo sent a body that is not its {} to {}: {}", csv ? "CSV" : "JSON",
                                         where, body_excerpt(body, 120)));
    }
  }

  [[noreturn]] void raise_usage_limit(const std::string& body, const std::string& head,
                                      const std::string& where) const {
    const int64_t now = now_unix_ms();
    int64_t until = 0;
    std::string pause;
    if (head.find("hour") != std::string::npos) {
      until = now + 3'600'000;
      pause = "requests to tiingo pause for an hour";
    } else if (head.find("daily") != std::string::npos || head.find("per day") != std::string::npos) {
      until = (now / 86'400'000 + 1) * 86'400'000;
      pause = "no requests to tiingo until 00:00 UTC";
    }
    if (until > 0) {
      if (gate_) gate_->pause(kVendor, until);
      throw BudgetExhausted(fmt::format("tiingo's usage limit answered {} ({}); {}, when the task is tried again",
                                        where, body_excerpt(body, 200), pause),
                            until - now);
    }
    // The monthly limit on distinct symbols: symbols already asked this month still answer.
    throw Error::RateLimited(fmt::format(
        "tiingo's usage limit answered {} ({}); symbols already asked for this month still answer, so "
        "requests go on; the task is retried later",
        where, body_excerpt(body, 200)));
  }

  ProviderOptions options_;
  std::shared_ptr<RequestGate> gate_;
};

}  // namespace

std::unique_ptr<Provider> make_tiingo_provider(const ProviderOptions& options, std::shared_ptr<RequestGate> gate) {
  return std::make_unique<TiingoProvider>(options, std::move(gate));
}

}  // namespace trib::providers

// The Alpha Vantage adapter (https://www.alphavantage.co/documentation/).
//
// Request: GET /query?function=F&symbol=S&outputsize=full|compact[&interval=1min|60min&month=YYYY-MM]
//          [&datatype=csv]&apikey=KEY — the key travels in the query (apikey), the only way Alpha
//          Vantage takes it; it never reaches FetchResult.request, and messages show URLs redacted.
//   function (option "function"): TIME_SERIES_DAILY_ADJUSTED by default for 1d (as-traded OHLCV
//     plus dividend amount and split coefficient per day), TIME_SERIES_INTRADAY for 1m (1min) and
//     1h (60min), TIME_SERIES_DAILY, FX_DAILY (symbol EUR/USD -> from_symbol=EUR&to_symbol=USD).
//   outputsize: compact (the latest 100 rows) when the window starts within the last 95
//     sessions, full (20+ years) otherwise; option "outputsize" overrides.
//   intraday: one request per calendar month of the window (month=YYYY-MM, outputsize=full: the
//     whole month), the pages' bodies stored back to back separated by '\n'.
// Alpha Vantage answers its errors with HTTP 200 and a one-key JSON body, read by notice_of():
//   {"Note"} per-minute throttle        -> RateLimited, the gate pauses the vendor for 60 s
//   {"Information"} "... per day"       -> RateLimited, the gate pauses it until 00:00 UTC
//   {"Information"} premium endpoint    -> Permanent (choose function=TIME_SERIES_DAILY)
//   {"Error Message"} "Invalid API call" -> NotFound: Alpha Vantage's answer for an unknown symbol
//   {"Error Message"} about the apikey  -> Permanent naming ALPHAVANTAGE_API_KEY
#include <charconv>
#include <chrono>
#include <cctype>
#include <optional>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "alphavantage_parse.hpp"
#include "trib/core/error.hpp"
#include "trib/providers/parse_util.hpp"
#include "trib/providers/vendor_http.hpp"

namespace trib::providers {
namespace {

constexpr std::string_view kVendor = "alphavantage";
constexpr int64_t kMinutePauseMs = 60'000;
// gzip, as the vendors' reference clients ask (libcurl would also offer brotli, which the mock
// vendor server then compresses at its slowest setting: seconds per megabyte).
const net::HeaderList kHeaders{{"Accept-Encoding", "gzip"}};

int64_t now_unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

bool is_intraday_function(const std::string& f) { return f == "TIME_SERIES_INTRADAY"; }

class AlphaVantageProvider final : public Provider {
 public:
  AlphaVantageProvider(ProviderOptions options, std::shared_ptr<RequestGate> gate)
      : options_(std::move(options)), gate_(std::move(gate)) {}

  std::string_view name() const override { return kVendor; }

  FetchResult fetch(const FetchRequest& request) override {
    const VendorInfo& info = vendor_info(kVendor);
    if (request.dataset != "bars") {
      throw Error::InvalidInput(fmt::format("alphavantage serves dataset 'bars', not '{}'", request.dataset));
    }
    if (request.symbol.empty()) throw Error::InvalidInput("alphavantage needs a symbol");
    if (request.to < request.from) {
      throw Error::InvalidInput(fmt::format("alphavantage: window {}..{} ends before it starts",
                                            request.from.to_string(), request.to.to_string()));
    }
    const std::string function = function_for(request);
    const bool csv = upper(request_option(request, options_, "datatype", "json")) == "CSV";

    std::vector<std::pair<std::string, std::string>> params{{"function", function}};
    if (function == "FX_DAILY") {
      const std::string& s = request.symbol.str();
      const size_t slash = s.find('/');
      if (slash == std::string::npos || slash == 0 || slash + 1 == s.size()) {
        throw Error::InvalidInput(fmt::format(
            "alphavantage FX_DAILY needs a currency pair like EUR/USD, not '{}'", s));
      }
      params.emplace_back("from_symbol", s.substr(0, slash));
      params.emplace_back("to_symbol", s.substr(slash + 1));
    } else {
      params.emplace_back("symbol", request.symbol.str());
    }
    std::vector<std::string> months;  // intraday: one page per month
    if (is_intraday_function(function)) {
      params.emplace_back("interval", request.timeframe == Timeframe::kHour1 ? "60min" : "1min");
      params.emplace_back("outputsize", "full");
      for (int y = request.from.year(), m = request.from.month();
           y < request.to.year() || (y == request.to.year() && m <= request.to.month());) {
        months.push_back(fmt::format("{:04d}-{:02d}", y, m));
        if (++m == 13) {
          m = 1;
          ++y;
        }
        if (months.size() > 360) {
          throw Error::InvalidInput("alphavantage intraday: the window spans more than 30 years of months");
        }
      }
    } else {
      params.emplace_back("outputsize", outputsize_for(request));
    }
    if (csv) params.emplace_back("datatype", "csv");

    VendorHttpOptions http_options;
    http_options.vendor = std::string(kVendor);
    http_options.base_url = base_url_from(options_, info);
    http_options.gate = gate_;
    if (auto t = request_option(request, options_, "timeout_ms", ""); !t.empty()) {
      int64_t ms = 0;
      auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), ms);
      if (ec != std::errc() || end != t.data() + t.size() || ms <= 0) {
        throw Error::InvalidInput(fmt::format("alphavantage option timeout_ms='{}' is not a positive number", t));
      }
      http_options.timeout_ms = ms;
    }
    VendorHttp http(std::move(http_options));
    const std::string key = api_key_from_env(info.key_env, kVendor);

    std::vector<std::vector<std::pair<std::string, std::string>>> pages;
    if (months.empty()) {
      pages.push_back(params);
    } else {
      for (const auto& month : months) {
        auto p = params;
        p.emplace_back("month", month);
        pages.push_back(std::move(p));
      }
    }
    FetchResult result;
    std::string content_type;
    for (const auto& page : pages) {
      auto with_key = page;
      with_key.emplace_back("apikey", key);
      const std::string where = "GET /query" + query_string(page);  // no key
      net::HttpResponse response = http.get("/query" + query_string(with_key), kHeaders);
      check_body(response.body, csv, request.symbol.str(), function, where);
      if (!result.bytes.empty()) result.bytes += '\n';
      result.bytes += response.body;
      if (auto ct = response.header("Content-Type")) content_type = std::string(*ct);
    }
    result.ext = csv ? "csv" : "json";
    result.content_type = !content_type.empty() ? content_type : csv ? "text/csv" : "application/json";
    result.status = 200;
    nlohmann::json asked = nlohmann::json::object();
    for (const auto& [k, v] : params) asked[k] = v;
    result.request = {{"vendor", std::string(kVendor)},
                      {"method", "GET"},
                      {"path", "/query"},
                      {"params", asked},
                      {"pages", static_cast<int>(pages.size())},
                      {"auth", "apikey query parameter (not recorded)"},
                      {"from", request.from.to_string()},
                      {"to", request.to.to_string()}};
    if (!months.empty()) result.request["months"] = months;  // one page per month, in this order
    return result;
  }

  ParseResult parse(std::string_view bytes, const ParseContext& context) const override {
    return alphavantage::parse(bytes, context);
  }

 private:
  std::string function_for(const FetchRequest& request) const {
    const bool intraday = request.timeframe != Timeframe::kDay1;
    std::string function = upper(request_option(request, options_, "function", ""));
    if (function.empty()) function = intraday ? "TIME_SERIES_INTRADAY" : "TIME_SERIES_DAILY_ADJUSTED";
    if (function != "TIME_SERIES_DAILY" && function != "TIME_SERIES_DAILY_ADJUSTED" &&
        function != "TIME_SERIES_INTRADAY" && function != "FX_DAILY") {
      throw Error::InvalidInput(fmt::format(
          "alphavantage option function='{}' is not one of TIME_SERIES_DAILY, TIME_SERIES_DAILY_ADJUSTED, "
          "TIME_SERIES_INTRADAY, FX_DAILY",
          function));
    }
    if (is_intraday_function(function) != intraday) {
      throw Error::InvalidInput(fmt::format("alphavantage function {} does not serve {} bars", function,
                                            to_string(request.timeframe)));
    }
    return function;
  }

  std::string outputsize_for(const FetchRequest& request) const {
    std::string size = request_option(request, options_, "outputsize", "");
    if (!size.empty()) {
      if (size != "full" && size != "compact") {
        throw Error::InvalidInput(fmt::format("alphavantage option outputsize='{}' is not full or compact", size));
      }
      return size;
    }
    // compact holds the latest 100 rows; a margin for sessions not yet published.
    const Date today = Date::today_utc();
    if (request.from > today) return "compact";
    return TradingCalendar::nyse().sessions(request.from, today).size() <= 95 ? "compact" : "full";
  }

  // The body must be Alpha Vantage's data; its error bodies become the right category.
  void check_body(const std::string& body, bool csv, const std::string& symbol, const std::string& function,
                  const std::string& where) const {
    size_t i = 0;
    while (i < body.size() && std::isspace(static_cast<unsigned char>(body[i]))) ++i;
    if (i == body.size()) {
      throw Error::Retryable(fmt::format("alphavantage sent an empty body to {}; the task is retried", where));
    }
    if (looks_like_html(body)) {
      throw Error::Retryable(fmt::format("alphavantage sent an HTML page instead of data to {}: {}", where,
                                         body_excerpt(body, 120)));
    }
    if (body[i] == '{' || body[i] == '[') {
      const nlohmann::json doc = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
      if (doc.is_discarded()) {
        throw Error::Retryable(fmt::format(
            "alphavantage sent JSON that does not parse ({} bytes, cut short?) to {}: {}", body.size(), where,
            body_excerpt(body, 120)));
      }
      raise_notice(alphavantage::notice_of(doc), symbol, function, where);
      bool has_series = false;
      if (doc.is_object()) {
        for (const auto& [k, _] : doc.items()) has_series = has_series || alphavantage::is_series_key(k);
      }
      if (!has_series) {
        throw Error::Permanent(
            fmt::format("alphavantage answered {} without a time series: {}", where, body_excerpt(body)));
      }
      return;
    }
    if (!csv) {
      throw Error::Retryable(fmt::format("alphavantage sent something that is not JSON to {}: {}", where,
                                         body_excerpt(body, 120)));
    }
    const std::string head = body.substr(i, 10);
    if (!head.starts_with("timestamp,") && !head.starts_with("time,")) {
      throw Error::Retryable(fmt::format("alphavantage sent a body that is not its CSV to {}: {}", where,
                                         body_excerpt(body, 120)));
    }
  }

  void raise_notice(const alphavantage::Notice& notice, const std::string& symbol, const std::string& function,
                    const std::string& where) const {
    using K = alphavantage::Notice::Kind;
    const std::string said = notice.key + ": " + body_excerpt(notice.text, 240);
    switch (notice.kind) {
      case K::kNone:
        return;
      case K::kMinuteLimit: {
        const int64_t until = now_unix_ms() + kMinutePauseMs;
        if (gate_) gate_->pause(kVendor, until);
        throw Error::RateLimited(fmt::format(
            "alphavantage throttled {} ({}); requests to alphavantage pause for 60 s and the task is retried",
            where, said));
      }
      case K::kDailyLimit: {
        const int64_t now = now_unix_ms();
        const int64_t until = (now / 86'400'000 + 1) * 86'400'000;  // next 00:00 UTC
        if (gate_) gate_->pause(kVendor, until);
        throw BudgetExhausted(fmt::format("alphavantage's daily request limit is used up ({}); no requests "
                                          "to alphavantage until 00:00 UTC, when the task is tried again",
                                          said),
                              until - now);
      }
      case K::kPremium:
        throw Error::Permanent(fmt::format(
            "alphavantage serves {} to premium plans only ({}); set the vendor option function=TIME_SERIES_DAILY "
            "for the free daily series",
            function, said));
      case K::kInvalidCall:
        throw Error::NotFound(
            fmt::format("alphavantage does not know symbol {} (Invalid API call to {}): {}", symbol, where, said));
      case K::kBadKey:
        throw Error::Permanent(fmt::format(
            "alphavantage refused the API key ({}); check ALPHAVANTAGE_API_KEY in the environment", said));
      case K::kOther:
        throw Error::Permanent(fmt::format("alphavantage refused {}: {}", where, said));
    }
  }

  ProviderOptions options_;
  std::shared_ptr<RequestGate> gate_;
};

}  // namespace

std::unique_ptr<Provider> make_alphavantage_provider(const ProviderOptions& options, std::shared_ptr<RequestGate> gate) {
  return std::make_unique<AlphaVantageProvider>(options, std::move(gate));
}

}  // namespace trib::providers

// The yahoo mock: Yahoo Finance's chart API, GET /v8/finance/chart/{symbol}?period1=&period2=
// &interval=&events=&includeAdjustedClose=&includePrePost= (no key, no pagination).
//
// A request whose symbol, interval, period1 and period2 equal a recording under
// vendor-samples/yahoo/chart is answered with that recording's payload, unwrapped from the
// yahoo-finance2 fixture wrapper (response.bodyJson, or the string response.body) and with its
// status. Any other request gets synthetic_daily_bars() in Yahoo's shape: America/New_York meta,
// epoch-second timestamps at the 09:30 open (intraday: every interval from the open to the
// close), float32-looking prices, integer volumes, adjclose equal to close; a window without
// sessions gets meta and an empty quote, like Yahoo's weekend answers.
//
// Errors in Yahoo's words (its chart answers, as public clients such as yahoo-finance2 record
// them): an unknown symbol is HTTP 404 {"chart":{"result":null,"error":{"code":"Not Found",
// "description":"No data found, symbol may be delisted"}}}; a request it refuses is HTTP 400 with
// code "Bad Request".
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mock_vendor.hpp"

namespace trib::testing {
namespace {

using ordered_json = nlohmann::ordered_json;

constexpr int64_t kDay = 86'400;

int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

struct Recording {
  std::string symbol, interval;
  int64_t period1 = 0, period2 = 0;
  int status = 200;
  std::string payload;
};

std::string query_param(const std::string& url, const std::string& name) {
  const size_t q = url.find('?');
  if (q == std::string::npos) return "";
  size_t pos = q + 1;
  while (pos < url.size()) {
    size_t amp = url.find('&', pos);
    if (amp == std::string::npos) amp = url.size();
    const std::string pair = url.substr(pos, amp - pos);
    const size_t eq = pair.find('=');
    if (pair.substr(0, eq) == name) return eq == std::string::npos ? "" : pair.substr(eq + 1);
    pos = amp + 1;
  }
  return "";
}

std::vector<Recording> load_recordings() {
  std::vector<Recording> out;
  const std::filesystem::path dir = vendor_sample_path("yahoo/chart");
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return out;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.path().extension() != ".json") continue;
    try {
      const auto wrapper = ordered_json::parse(read_vendor_sample("yahoo/chart/" + entry.path().filename().string()));
      const std::string url = wrapper.at("request").at("url").get<std::string>();
      const size_t at = url.find("/v8/finance/chart/");
      if (at == std::string::npos) continue;
      std::string symbol = url.substr(at + 18, url.find('?') - at - 18);
      // Recorded URLs spell '=' as %3D; our requests arrive decoded.
      for (size_t p; (p = symbol.find("%3D")) != std::string::npos;) symbol.replace(p, 3, "=");
      const auto& response = wrapper.at("response");
      Recording r;
      r.symbol = symbol;
      r.interval = query_param(url, "interval");
      r.period1 = std::stoll(query_param(url, "period1"));
      r.period2 = std::stoll(query_param(url, "period2"));
      r.status = response.value("status", 200);
      if (response.contains("bodyJson")) {
        r.payload = response.at("bodyJson").dump();
      } else if (response.contains("body") && response.at("body").is_string()) {
        r.payload = response.at("body").get<std::string>();
      } else {
        continue;
      }
      out.push_back(std::move(r));
    } catch (const std::exception&) {
      // Not a fixture wrapper: not a recording.
    }
  }
  return out;
}

// Yahoo's prices are float32 values widened to double (129.0399932861328).
double yahoo_price(double x) { return static_cast<double>(static_cast<float>(x)); }

MockAnswer chart_error(int status, const std::string& code, const std::string& description) {
  ordered_json body = {{"chart", {{"result", nullptr}, {"error", {{"code", code}, {"description", description}}}}}};
  return {status, "application/json;charset=utf-8", body.dump(), {}};
}

int interval_minutes(const std::string& interval) {
  static const std::map<std::string, int> kMinutes = {{"1m", 1},   {"2m", 2},   {"5m", 5},  {"15m", 15},
                                                      {"30m", 30}, {"60m", 60}, {"90m", 90}, {"1h", 60}};
  auto it = kMinutes.find(interval);
  return it == kMinutes.end() ? 0 : it->second;
}

class Routes final : public VendorRoutes {
 public:
  Routes() : recordings_(load_recordings()) {}

  std::string name() const override { return "yahoo"; }

  // The chart API takes no key.
  std::optional<MockAnswer> check_auth(const MockRequest&) const override { return std::nullopt; }

  std::optional<MockAnswer> handle(const MockRequest& r) const override {
    const std::string symbol = symbol_of(r);
    if (symbol.empty()) return std::nullopt;
    const std::string interval = r.param("interval", "1d");
    const bool daily = interval == "1d";
    if (!daily && interval_minutes(interval) == 0) {
      return chart_error(400, "Bad Request",
                         "Invalid input - interval=" + interval +
                             " is not supported. Valid intervals: [1m, 2m, 5m, 15m, 30m, 60m, 90m, 1h, 1d]");
    }
    int64_t period1 = 0, period2 = 0;
    try {
      period1 = std::stoll(r.param("period1"));
      period2 = std::stoll(r.param("period2"));
    } catch (const std::exception&) {
      return chart_error(400, "Bad Request", "Invalid input - period1 and period2 must be epoch seconds");
    }
    if (period1 >= period2) {
      return chart_error(400, "Bad Request",
                         "Invalid input - start date cannot be after end date. startDate = " +
                             std::to_string(period1) + ", endDate = " + std::to_string(period2));
    }
    for (const Recording& rec : recordings_) {
      if (rec.symbol == symbol && rec.interval == interval && rec.period1 == period1 && rec.period2 == period2) {
        return MockAnswer{rec.status, "application/json;charset=utf-8", rec.payload, {}};
      }
    }
    if (interval == "1m" && period2 - period1 > 8 * kDay) {
      return chart_error(422, "Unprocessable Entity",
                         "Only 8 days worth of 1m granularity data are allowed to be fetched per request.");
    }
    return synthetic(symbol, interval, period1, period2, r.param("includeAdjustedClose") == "true");
  }

  MockAnswer vendor_error(const MockRequest& r) const override {
    return chart_error(400, "Bad Request",
                       "Invalid input - start date cannot be after end date. startDate = " +
                           r.param("period2", "0") + ", endDate = " + r.param("period1", "0"));
  }

  MockAnswer unknown_symbol(const MockRequest&) const override {
    return chart_error(404, "Not Found", "No data found, symbol may be delisted");
  }

  std::string symbol_of(const MockRequest& r) const override {
    static const std::string kPrefix = "/v8/finance/chart/";
    if (r.path.rfind(kPrefix, 0) != 0) return "";
    const std::string symbol = r.path.substr(kPrefix.size());
    return symbol.find('/') == std::string::npos ? symbol : "";
  }

 private:
  static MockAnswer synthetic(const std::string& symbol, const std::string& interval, int64_t period1,
                              int64_t period2, bool adjclose) {
    const Date first(static_cast<int32_t>(floor_div(period1, kDay)));
    const Date last(static_cast<int32_t>(floor_div(period2 - 1, kDay)));
    const auto days = first <= last ? synthetic_daily_bars(symbol, first, last) : std::vector<SynthBar>{};
    const int offset_h = new_york_utc_offset_hours(last);
    const auto& cal = TradingCalendar::nyse();
    ordered_json meta = {{"currency", "USD"},
                         {"symbol", symbol},
                         {"exchangeName", "NMS"},
                         {"fullExchangeName", "NasdaqGS"},
                         {"instrumentType", "EQUITY"},
                         {"gmtoffset", offset_h * 3600},
                         {"timezone", offset_h == -4 ? "EDT" : "EST"},
                         {"exchangeTimezoneName", "America/New_York"},
                         {"dataGranularity", interval},
                         {"range", ""}};
    ordered_json ts = ordered_json::array(), open = ordered_json::array(), high = ordered_json::array(),
                 low = ordered_json::array(), close = ordered_json::array(), volume = ordered_json::array();
    auto push = [&](int64_t t, double o, double h, double l, double c, double v) {
      ts.push_back(t);
      open.push_back(yahoo_price(o));
      high.push_back(yahoo_price(h));
      low.push_back(yahoo_price(l));
      close.push_back(yahoo_price(c));
      volume.push_back(static_cast<int64_t>(v));
    };
    const int step_min = interval == "1d" ? 0 : interval_minutes(interval);
    for (const SynthBar& b : days) {
      const int64_t open_s = cal.session_open_ts_ns(b.date) / 1'000'000'000;
      if (step_min == 0) {
        push(open_s, b.open, b.high, b.low, b.close, b.volume);
        continue;
      }
      // From the open to the close: a straight walk from the day's open to its close.
      const int n = (390 + step_min - 1) / step_min;
      for (int k = 0; k < n; ++k) {
        const double o = b.open + (b.close - b.open) * k / n;
        const double c = b.open + (b.close - b.open) * (k + 1) / n;
        const double h = std::min(b.high, std::max(o, c) + 0.01);
        const double l = std::max(b.low, std::min(o, c) - 0.01);
        push(open_s + int64_t{k} * step_min * 60, std::round(o * 100) / 100, std::round(h * 100) / 100,
             std::round(l * 100) / 100, std::round(c * 100) / 100, std::floor(b.volume / n));
      }
    }
    ordered_json result = {{"meta", meta}};
    ordered_json indicators;
    if (ts.empty()) {
      indicators["quote"] = ordered_json::array({ordered_json::object()});
    } else {
      result["timestamp"] = ts;
      indicators["quote"] = ordered_json::array(
          {{{"open", open}, {"high", high}, {"low", low}, {"close", close}, {"volume", volume}}});
      if (adjclose && step_min == 0) indicators["adjclose"] = ordered_json::array({{{"adjclose", close}}});
    }
    result["indicators"] = indicators;
    ordered_json body = {{"chart", {{"result", ordered_json::array({result})}, {"error", nullptr}}}};
    return {200, "application/json;charset=utf-8", body.dump(), {}};
  }

  std::vector<Recording> recordings_;
};

}  // namespace

std::unique_ptr<VendorRoutes> make_yahoo_routes() { return std::make_unique<Routes>(); }

}  // namespace trib::testing

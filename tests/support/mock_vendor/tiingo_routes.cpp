// The Tiingo mock (https://www.tiingo.com/documentation/end-of-day, /documentation/iex):
//   GET /tiingo/daily/<ticker>/prices?startDate=&endDate=&format=json|csv&resampleFreq=daily
//   GET /iex/<ticker>/prices?startDate=&endDate=&resampleFreq=1min|5min|30min|1hour&columns=..
// Auth: "Authorization: Token KEY" (also ?token=KEY, which Tiingo accepts too). Missing: 401
// {"detail":"Authentication credentials were not provided."}; wrong: 401 {"detail":"Invalid
// token."} (Tiingo is a Django REST framework service: error objects are {"detail": ...}).
// Recorded bodies (vendor-samples/tiingo/bodies, from the official Python client's cassettes)
// answer the exact requests they were recorded for; anything else gets synthetic_daily_bars() in
// Tiingo's format (JSON numbers, dates "YYYY-MM-DDT00:00:00.000Z", divCash 0.0, splitFactor 1.0;
// CSV with the recorded header). Without startDate Tiingo answers the latest bar only.
//   unknown_symbol(): 404 {"detail":"Error: Ticker 'XYZ' not found"}, Tiingo's answer for a
//     ticker it does not cover.
//   vendor_error(): HTTP 200 with the plain text "You have run over your 500 symbol look up for
//     this month. ..." — Tiingo's usage-limit answer as quoted in hydrosquall/tiingo-python#45.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "mock_vendor.hpp"

namespace trib::testing {
namespace {

MockAnswer detail(int status, const std::string& text) {
  return {status, "application/json", nlohmann::json{{"detail", text}}.dump(), {}};
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// "/tiingo/daily/GOOGL/prices" -> GOOGL; "/iex/GOOGL/prices" -> GOOGL; "" for other paths.
std::string ticker_of(const std::string& path, bool* iex) {
  std::string rest;
  if (path.starts_with("/tiingo/daily/")) {
    rest = path.substr(14);
    *iex = false;
  } else if (path.starts_with("/iex/")) {
    rest = path.substr(5);
    *iex = true;
  } else {
    return "";
  }
  const auto slash = rest.find('/');
  if (slash == std::string::npos || rest.substr(slash) != "/prices" || slash == 0) return "";
  return rest.substr(0, slash);
}

std::string iso(int64_t ts_ns) {
  std::string s = format_ts_ns(ts_ns);  // 2018-01-02T14:30:00Z
  return s.substr(0, 19) + ".000Z";
}

class Routes final : public VendorRoutes {
 public:
  std::string name() const override { return "tiingo"; }

  std::optional<MockAnswer> check_auth(const MockRequest& r) const override {
    std::string token;
    const std::string header = r.header("authorization");
    if (header.starts_with("Token ")) token = header.substr(6);
    if (token.empty()) token = r.param("token");
    if (token.empty()) return detail(401, "Authentication credentials were not provided.");
    if (token != MockVendorServer::kApiKey) return detail(401, "Invalid token.");
    return std::nullopt;
  }

  std::optional<MockAnswer> handle(const MockRequest& r) const override {
    bool iex = false;
    const std::string ticker = ticker_of(r.path, &iex);
    if (ticker.empty()) return std::nullopt;
    const std::string format = lower(r.param("format", "json"));
    const bool csv = format == "csv";
    const std::string start = r.param("startDate"), end = r.param("endDate");
    if (auto recorded = recording(r, iex, ticker, start, end, format)) {
      return MockAnswer{200, csv ? "text/csv" : "application/json", read_vendor_sample(*recorded), {}};
    }
    const Date today = Date::today_utc();
    std::optional<Date> from = start.empty() ? std::optional<Date>() : Date::try_parse(start);
    std::optional<Date> to = end.empty() ? std::optional<Date>(today) : Date::try_parse(end);
    if ((!start.empty() && !from) || !to) return detail(400, "Error: startDate and endDate must be YYYY-MM-DD");
    // Synthetic bars are seeded by the platform's symbol (BRK.B for BRK-B), like every vendor's.
    const std::string symbol = symbol_of(r);
    if (iex) return synthetic_iex(symbol, from.value_or(*to - 7), std::min(*to, today), r, csv);
    auto bars = synthetic_daily_bars(symbol, from.value_or(*to - 10), std::min(*to, today));
    if (!from && bars.size() > 1) bars.erase(bars.begin(), bars.end() - 1);  // the latest bar
    if (csv) {
      std::string out = "date,close,high,low,open,volume,adjClose,adjHigh,adjLow,adjOpen,adjVolume,divCash,splitFactor\n";
      for (const SynthBar& b : bars) {
        out += fmt::format("{},{},{},{},{},{:.0f},{},{},{},{},{:.0f},0.0,1.0\n", b.date.to_string(), b.close, b.high,
                           b.low, b.open, b.volume, b.close, b.high, b.low, b.open, b.volume);
      }
      return MockAnswer{200, "text/csv", out, {}};
    }
    nlohmann::ordered_json rows = nlohmann::ordered_json::array();
    for (const SynthBar& b : bars) {
      const auto volume = static_cast<int64_t>(b.volume);
      rows.push_back({{"date", b.date.to_string() + "T00:00:00.000Z"},
                      {"close", b.close},
                      {"high", b.high},
                      {"low", b.low},
                      {"open", b.open},
                      {"volume", volume},
                      {"adjClose", b.close},
                      {"adjHigh", b.high},
                      {"adjLow", b.low},
                      {"adjOpen", b.open},
                      {"adjVolume", volume},
                      {"divCash", 0.0},
                      {"splitFactor", 1.0}});
    }
    return MockAnswer{200, "application/json", rows.dump(), {}};
  }

  MockAnswer vendor_error(const MockRequest&) const override {
    return {200, "text/html; charset=utf-8",
            "You have run over your 500 symbol look up for this month. Please upgrade at "
            "https://api.tiingo.com/pricing to have your limits increased.",
            {}};
  }

  MockAnswer unknown_symbol(const MockRequest& r) const override {
    return detail(404, "Error: Ticker '" + symbol_of(r) + "' not found");
  }

  // BRK-B -> BRK.B: the platform's spelling of Tiingo's share-class tickers.
  std::string symbol_of(const MockRequest& r) const override {
    bool iex = false;
    std::string t = ticker_of(r.path, &iex);
    std::transform(t.begin(), t.end(), t.begin(), [](unsigned char c) { return std::toupper(c); });
    std::replace(t.begin(), t.end(), '-', '.');
    return t;
  }

 private:
  static std::optional<std::string> recording(const MockRequest& r, bool iex, const std::string& ticker,
                                              const std::string& start, const std::string& end,
                                              const std::string& format) {
    const std::string freq = lower(r.param("resampleFreq", iex ? "" : "daily"));
    const std::string t = lower(ticker);
    if (iex) {
      if (t == "googl" && start == "2018-01-02" && end == "2018-01-02" && freq == "30min" && format == "json") {
        return "tiingo/bodies/intraday_price__1.json";
      }
      return std::nullopt;
    }
    if (t == "googl" && freq == "daily" && start == "2015-01-01" && end == "2015-01-05") {
      return format == "csv" ? "tiingo/bodies/ticker_price_with_date_csv__1.csv"
                             : "tiingo/bodies/ticker_price_with_date__1.json";
    }
    if (t == "googl" && freq == "daily" && start == "2018-01-05" && end == "2018-01-19") {
      return format == "csv" ? "tiingo/bodies/ticker_price_pandas_daily_equivalent_requesting_json_or_csv__2.csv"
                             : "tiingo/bodies/ticker_price_pandas_daily_equivalent_requesting_json_or_csv__1.json";
    }
    if (freq == "weekly" && start == "2018-01-05" && end == "2018-01-19" && format == "json") {
      if (t == "googl") return "tiingo/bodies/ticker_price_weekly__1.json";
      if (t == "aapl") return "tiingo/bodies/ticker_price_pandas_weekly_multiple_tickers__2.json";
    }
    if (t == "googl" && freq == "daily" && start.empty() && end.empty() && format == "json") {
      return "tiingo/bodies/ticker_price__1.json";
    }
    return std::nullopt;
  }

  // IEX bars dated by their open (UTC), regular hours, from the synthetic daily bars.
  static MockAnswer synthetic_iex(const std::string& ticker, Date from, Date to, const MockRequest& r, bool csv) {
    const std::string freq = lower(r.param("resampleFreq", "5min"));
    int minutes = 0;
    if (freq.ends_with("min")) minutes = std::atoi(freq.c_str());
    if (freq.ends_with("hour")) minutes = 60 * std::max(1, std::atoi(freq.c_str()));
    if (minutes <= 0 || minutes > 390) return detail(400, "Error: resampleFreq must be like 1min or 1hour");
    const bool volume = r.param("columns").find("volume") != std::string::npos;
    const auto& cal = TradingCalendar::nyse();
    nlohmann::ordered_json rows = nlohmann::ordered_json::array();
    std::string out = volume ? "date,open,high,low,close,volume\n" : "date,open,high,low,close\n";
    for (const SynthBar& day : synthetic_daily_bars(ticker, from, to)) {
      const int n = (390 + minutes - 1) / minutes;
      for (int k = 0; k < n; ++k) {
        const int64_t ts = cal.session_open_ts_ns(day.date) + int64_t{k} * minutes * 60 * kNanosPerSecond;
        const double t0 = static_cast<double>(k) / n, t1 = static_cast<double>(k + 1) / n;
        const double o = std::round((day.open + (day.close - day.open) * t0) * 1000.0) / 1000.0;
        const double c = std::round((day.open + (day.close - day.open) * t1) * 1000.0) / 1000.0;
        const double h = std::max(o, c) + 0.01, l = std::min(o, c) - 0.01;
        const double v = std::floor(day.volume / n);
        if (csv) {
          out += fmt::format("{},{},{},{},{}", iso(ts), o, h, l, c);
          out += volume ? fmt::format(",{:.0f}\n", v) : "\n";
          continue;
        }
        nlohmann::ordered_json row = {{"date", iso(ts)}, {"open", o}, {"high", h}, {"low", l}, {"close", c}};
        if (volume) row["volume"] = static_cast<int64_t>(v);
        rows.push_back(std::move(row));
      }
    }
    if (csv) return MockAnswer{200, "text/csv", out, {}};
    return MockAnswer{200, "application/json", rows.dump(), {}};
  }
};

}  // namespace

std::unique_ptr<VendorRoutes> make_tiingo_routes() { return std::make_unique<Routes>(); }

}  // namespace trib::testing

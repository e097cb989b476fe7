// The Alpha Vantage mock: GET /query?function=F&symbol=S[&interval=..&month=YYYY-MM]
// [&outputsize=compact|full][&datatype=csv]&apikey=KEY, as documented at
// https://www.alphavantage.co/documentation/.
//
// Like the vendor it answers every problem with HTTP 200 and a one-key JSON body:
//   - a missing or wrong apikey: {"Error Message": "the parameter apikey is invalid or missing. ..."}
//   - an unknown symbol, function or interval: {"Error Message": "Invalid API call. ... for F."}
//     (vendor-samples/alphavantage/errors/error_message_invalid_api_call_time_series_daily.json,
//     the function's name substituted), which is also unknown_symbol();
//   - vendor_error(): the recorded per-minute throttle {"Note": ...}
//     (errors/note_rate_limit_5_per_minute_legacy.json).
// Recorded payloads answer the requests they were recorded for (function + symbol [+ interval,
// month]); anything else gets synthetic_daily_bars() in Alpha Vantage's format: 4-decimal strings,
// newest first, intraday rows labelled by the bar's end in US/Eastern (regular hours here),
// compact = the latest 100 rows, full = 20 years of days or the whole month asked for.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "mock_vendor.hpp"

namespace trib::testing {
namespace {

constexpr const char* kBadKeyBody =
    "{\n    \"Error Message\": \"the parameter apikey is invalid or missing. Please claim your free API key on "
    "(https://www.alphavantage.co/support/#api-key). It should take less than 20 seconds.\"\n}";

MockAnswer json_answer(std::string body) { return {200, "application/json", std::move(body), {}}; }

std::string invalid_call_body(const std::string& function) {
  std::string body = read_vendor_sample("alphavantage/errors/error_message_invalid_api_call_time_series_daily.json");
  const std::string recorded = "TIME_SERIES_DAILY.";
  if (auto at = body.find(recorded); at != std::string::npos && !function.empty()) {
    body.replace(at, recorded.size(), function + ".");
  }
  return body;
}

struct Minute {
  int64_t label_local_s;  // seconds since the session date's local midnight (bar end)
  double open, high, low, close, volume;
};

// A session's regular-hours bars of `interval` minutes, derived from its synthetic daily bar.
std::vector<Minute> intraday_of(const SynthBar& day, int interval) {
  std::vector<Minute> out;
  const int n = 390 / interval;
  auto price_at = [&](int k) {
    const double t = static_cast<double>(k) / n;
    const double wiggle = 0.002 * day.close * std::sin(static_cast<double>(k) * 0.7 + day.date.days_since_epoch());
    const double p = day.open + (day.close - day.open) * t + (k == 0 || k == n ? 0.0 : wiggle);
    return std::round(p * 10000.0) / 10000.0;
  };
  for (int k = 0; k < n; ++k) {
    Minute m;
    m.label_local_s = (9 * 60 + 30 + (k + 1) * interval) * 60;
    m.open = price_at(k);
    m.close = price_at(k + 1);
    m.high = std::round((std::max(m.open, m.close) + 0.0005 * day.close) * 10000.0) / 10000.0;
    m.low = std::round((std::min(m.open, m.close) - 0.0005 * day.close) * 10000.0) / 10000.0;
    m.volume = std::floor(day.volume / n);
    out.push_back(m);
  }
  return out;
}

std::string clock(int64_t s) { return fmt::format("{:02d}:{:02d}:00", s / 3600, (s / 60) % 60); }

class Routes final : public VendorRoutes {
 public:
  std::string name() const override { return "alphavantage"; }

  std::optional<MockAnswer> check_auth(const MockRequest& r) const override {
    if (r.param("apikey") == MockVendorServer::kApiKey) return std::nullopt;
    return json_answer(kBadKeyBody);
  }

  std::optional<MockAnswer> handle(const MockRequest& r) const override {
    if (r.path != "/query") return std::nullopt;
    const std::string function = r.param("function");
    const bool csv = r.param("datatype") == "csv";
    const std::string interval = r.param("interval");
    const std::string month = r.param("month");
    const std::string symbol = symbol_of(r);
    const bool intraday = function == "TIME_SERIES_INTRADAY";
    const bool known = function == "TIME_SERIES_DAILY" || function == "TIME_SERIES_DAILY_ADJUSTED" || intraday ||
                       function == "FX_DAILY";
    int minutes = 0;
    if (intraday) {
      for (int m : {1, 5, 15, 30, 60}) {
        if (interval == fmt::format("{}min", m)) minutes = m;
      }
    }
    if (!known || symbol.empty() || (intraday && minutes == 0)) return json_answer(invalid_call_body(function));

    if (auto recorded = recording(function, symbol, interval, month, csv)) {
      return MockAnswer{200, csv ? "text/csv" : "application/json", read_vendor_sample(*recorded), {}};
    }
    const bool compact = r.param("outputsize", "compact") == "compact";
    if (intraday) return synthetic_intraday(symbol, minutes, month, compact, csv);
    return synthetic_daily(function, symbol, compact, csv);
  }

  MockAnswer vendor_error(const MockRequest&) const override {
    return json_answer(read_vendor_sample("alphavantage/errors/note_rate_limit_5_per_minute_legacy.json"));
  }

  MockAnswer unknown_symbol(const MockRequest& r) const override {
    return json_answer(invalid_call_body(r.param("function")));
  }

  std::string symbol_of(const MockRequest& r) const override {
    if (r.param("function") == "FX_DAILY") {
      const std::string from = r.param("from_symbol"), to = r.param("to_symbol");
      return from.empty() || to.empty() ? "" : from + "/" + to;
    }
    return r.param("symbol");
  }

 private:
  // The recorded payload for this request, relative to vendor-samples/, if there is one.
  static std::optional<std::string> recording(const std::string& function, const std::string& symbol,
                                              const std::string& interval, const std::string& month, bool csv) {
    if (csv) {
      if (function == "TIME_SERIES_INTRADAY" && symbol == "MSFT" && interval == "1min" &&
          (month == "2020-11" || month == "2020-12")) {
        return "alphavantage/romeltorres/mock_time_series_extended.csv";
      }
      return std::nullopt;
    }
    if (function == "TIME_SERIES_DAILY" && symbol == "IBM") return "alphavantage/crazzyghost/daily.json";
    if (function == "TIME_SERIES_DAILY_ADJUSTED" && symbol == "IBM") return "alphavantage/crazzyghost/dailyadjusted.json";
    if (function == "TIME_SERIES_DAILY" && symbol == "MSFT") return "alphavantage/kirlut/daily-not-adjusted.json";
    if (function == "TIME_SERIES_DAILY_ADJUSTED" && symbol == "MSFT") return "alphavantage/kirlut/daily-adjusted.json";
    if (function == "FX_DAILY" && symbol == "EUR/USD") return "alphavantage/crazzyghost/fx_daily.json";
    if (function == "TIME_SERIES_INTRADAY" && symbol == "IBM" && interval == "5min" && (month.empty() || month == "2020-05")) {
      return "alphavantage/crazzyghost/intraday.json";
    }
    if (function == "TIME_SERIES_INTRADAY" && symbol == "MSFT" && interval == "1min") {
      if (month == "2018-05") return "alphavantage/kirlut/intraday.json";
      if (month.empty() || month == "2017-12") return "alphavantage/romeltorres/mock_time_series.json";
    }
    return std::nullopt;
  }

  static std::string meta_json(const std::vector<std::pair<std::string, std::string>>& fields) {
    std::string out = "{\n    \"Meta Data\": {\n";
    for (size_t i = 0; i < fields.size(); ++i) {
      out += fmt::format("        \"{}. {}\": \"{}\"{}\n", i + 1, fields[i].first, fields[i].second,
                         i + 1 < fields.size() ? "," : "");
    }
    out += "    },\n";
    return out;
  }

  static MockAnswer synthetic_daily(const std::string& function, const std::string& symbol, bool compact, bool csv) {
    const Date today = Date::today_utc();
    std::vector<SynthBar> bars = synthetic_daily_bars(symbol, today - 7305, today);
    if (compact && bars.size() > 100) bars.erase(bars.begin(), bars.end() - 100);
    const bool adjusted = function == "TIME_SERIES_DAILY_ADJUSTED";
    const bool fx = function == "FX_DAILY";
    const double scale = fx ? 0.01 : 1.0;
    if (csv) {
      std::string out = fx         ? "timestamp,open,high,low,close\r\n"
                        : adjusted ? "timestamp,open,high,low,close,adjusted_close,volume,dividend_amount,split_coefficient\r\n"
                                   : "timestamp,open,high,low,close,volume\r\n";
      for (auto it = bars.rbegin(); it != bars.rend(); ++it) {
        out += fmt::format("{},{},{},{},{}", it->date.to_string(), it->open * scale, it->high * scale,
                           it->low * scale, it->close * scale);
        if (adjusted) {
          out += fmt::format(",{},{},0.0000,1.0", it->close, it->volume);
        } else if (!fx) {
          out += fmt::format(",{}", it->volume);
        }
        out += "\r\n";
      }
      return {200, "text/csv", out, {}};
    }
    const std::string last = bars.empty() ? today.to_string() : bars.back().date.to_string();
    std::string out;
    if (fx) {
      const auto slash = symbol.find('/');
      out = meta_json({{"Information", "Forex Daily Prices (open, high, low, close)"},
                       {"From Symbol", symbol.substr(0, slash)},
                       {"To Symbol", symbol.substr(slash + 1)},
                       {"Output Size", compact ? "Compact" : "Full size"},
                       {"Last Refreshed", last + " 21:55:00"},
                       {"Time Zone", "UTC"}});
      out += "    \"Time Series FX (Daily)\": {\n";
    } else {
      out = meta_json({{"Information", adjusted ? "Daily Time Series with Splits and Dividend Events"
                                                : "Daily Prices (open, high, low, close) and Volumes"},
                       {"Symbol", symbol},
                       {"Last Refreshed", last},
                       {"Output Size", compact ? "Compact" : "Full size"},
                       {"Time Zone", "US/Eastern"}});
      out += "    \"Time Series (Daily)\": {\n";
    }
    for (auto it = bars.rbegin(); it != bars.rend(); ++it) {
      out += fmt::format(
          "        \"{}\": {{\n            \"1. open\": \"{:.4f}\",\n            \"2. high\": \"{:.4f}\",\n"
          "            \"3. low\": \"{:.4f}\",\n            \"4. close\": \"{:.4f}\"",
          it->date.to_string(), it->open * scale, it->high * scale, it->low * scale, it->close * scale);
      if (adjusted) {
        out += fmt::format(
            ",\n            \"5. adjusted close\": \"{:.4f}\",\n            \"6. volume\": \"{:.0f}\",\n"
            "            \"7. dividend amount\": \"0.0000\",\n            \"8. split coefficient\": \"1.0\"",
            it->close, it->volume);
      } else if (!fx) {
        out += fmt::format(",\n            \"5. volume\": \"{:.0f}\"", it->volume);
      }
      out += std::next(it) == bars.rend() ? "\n        }\n" : "\n        },\n";
    }
    out += "    }\n}";
    return {200, "application/json", out, {}};
  }

  static MockAnswer synthetic_intraday(const std::string& symbol, int interval, const std::string& month,
                                       bool compact, bool csv) {
    const Date today = Date::today_utc();
    Date from = today - 30, to = today;
    if (!month.empty()) {
      const auto first = Date::try_parse(month + "-01");
      if (!first) return json_answer(invalid_call_body("TIME_SERIES_INTRADAY"));
      from = *first;
      to = Date::from_ymd(from.year() + (from.month() == 12 ? 1 : 0), from.month() == 12 ? 1 : from.month() + 1, 1) - 1;
      if (to > today) to = today;
      compact = false;  // a month is answered whole with outputsize=full; compact keeps its latest 100
    }
    struct Row {
      std::string ts;
      Minute m;
    };
    std::vector<Row> rows;  // ascending
    for (const SynthBar& day : synthetic_daily_bars(symbol, from, to)) {
      for (const Minute& m : intraday_of(day, interval)) rows.push_back({day.date.to_string() + " " + clock(m.label_local_s), m});
    }
    if (compact && rows.size() > 100) rows.erase(rows.begin(), rows.end() - 100);
    if (csv) {
      std::string out = "timestamp,open,high,low,close,volume\r\n";
      for (auto it = rows.rbegin(); it != rows.rend(); ++it) {
        out += fmt::format("{},{},{},{},{},{}\r\n", it->ts, it->m.open, it->m.high, it->m.low, it->m.close, it->m.volume);
      }
      return {200, "text/csv", out, {}};
    }
    const std::string iv = fmt::format("{}min", interval);
    std::string out = meta_json({{"Information", "Intraday (" + iv + ") open, high, low, close prices and volume"},
                                 {"Symbol", symbol},
                                 {"Last Refreshed", rows.empty() ? to.to_string() : rows.back().ts},
                                 {"Interval", iv},
                                 {"Output Size", compact ? "Compact" : "Full size"},
                                 {"Time Zone", "US/Eastern"}});
    out += "    \"Time Series (" + iv + ")\": {\n";
    for (auto it = rows.rbegin(); it != rows.rend(); ++it) {
      out += fmt::format(
          "        \"{}\": {{\n            \"1. open\": \"{:.4f}\",\n            \"2. high\": \"{:.4f}\",\n"
          "            \"3. low\": \"{:.4f}\",\n            \"4. close\": \"{:.4f}\",\n"
          "            \"5. volume\": \"{:.0f}\"\n        }}{}\n",
          it->ts, it->m.open, it->m.high, it->m.low, it->m.close, it->m.volume, std::next(it) == rows.rend() ? "" : ",");
    }
    out += "    }\n}";
    return {200, "application/json", out, {}};
  }
};

}  // namespace

std::unique_ptr<VendorRoutes> make_alphavantage_routes() { return std::make_unique<Routes>(); }

}  // namespace trib::testing

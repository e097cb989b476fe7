// The polygon mock: Polygon.io's REST protocol as its docs and its official Python client's
// recorded fixtures (../shared/data/vendor-samples/polygon, SOURCE.md) show it.
//   auth     "Authorization: Bearer KEY" or ?apiKey=KEY; missing -> 401 {"status":"ERROR",
//            "error":"API Key was not provided"}, wrong -> 401 {"status":"ERROR","error":
//            "Unknown API Key"} (Polygon's answers to an absent / unknown key)
//   GET /v2/aggs/ticker/{T}/range/{m}/{day|hour|minute}/{from}/{to}?adjusted=&sort=&limit=
//            from/to as YYYY-MM-DD or epoch ms; limit 1..50000 (default 5000); an empty window or
//            an unknown ticker is a 200 without "results" (queryCount 0)
//   GET /v2/aggs/ticker/{T}/prev
//   GET /v3/reference/splits?ticker=&execution_date.gte=&execution_date.lte=&limit= (default 10,
//            max 1000), GET /v3/reference/dividends?ticker=&ex_dividend_date.gte=&...lte=&limit=
//   GET /v3/reference/tickers/{T}[?date=] -> 404 {"status":"NOT_FOUND",...} for an unknown ticker
//   paging   a page that leaves rows over carries "next_url": an absolute URL on this host with a
//            single opaque "cursor" parameter (base64url of the remaining request), the shape of
//            next_url in the recorded v3/quotes/AAPL.json
// Recorded payloads answer the requests they were recorded for (AAPL daily 2005-04-01..04 and
// 2005-04-02..04, AAPL prev, the reference splits / dividends rows, AAPL ticker details); any other
// symbol or window gets synthetic_daily_bars() in Polygon's number style.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>

#include <nlohmann/json.hpp>

#include "mock_vendor.hpp"

namespace trib::testing {
namespace {

using json = nlohmann::ordered_json;

const char* kB64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string b64url_encode(const std::string& in) {
  std::string out;
  int val = 0, bits = -6;
  for (unsigned char c : in) {
    val = (val << 8) + c;
    bits += 8;
    while (bits >= 0) {
      out += kB64[(val >> bits) & 0x3F];
      bits -= 6;
    }
  }
  if (bits > -6) out += kB64[((val << 8) >> (bits + 8)) & 0x3F];
  return out;
}

std::string b64url_decode(const std::string& in) {
  std::string out;
  int val = 0, bits = -8;
  for (char c : in) {
    const char* p = std::strchr(kB64, c);
    if (c == '\0' || p == nullptr) break;
    val = (val << 6) + static_cast<int>(p - kB64);
    bits += 6;
    if (bits >= 0) {
      out += static_cast<char>((val >> bits) & 0xFF);
      bits -= 8;
    }
  }
  return out;
}

std::string request_id(const MockRequest& r) {
  uint64_t h = 1469598103934665603ULL;
  auto feed = [&](const std::string& s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 1099511628211ULL;
    }
  };
  feed(r.path);
  for (const auto& [k, v] : r.params) feed(k + "=" + v);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(h),
                static_cast<unsigned long long>(h * 0x9E3779B97F4A7C15ULL));
  return buf;
}

MockAnswer json_answer(int status, const json& body) { return {status, "application/json", body.dump(4), {}}; }

MockAnswer error_answer(const MockRequest& r, int status, const std::string& message) {
  return json_answer(status, {{"status", "ERROR"}, {"request_id", request_id(r)}, {"error", message}});
}

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> parts;
  std::string cur;
  for (size_t i = 1; i <= path.size(); ++i) {
    if (i == path.size() || path[i] == '/') {
      parts.push_back(cur);
      cur.clear();
    } else {
      cur += path[i];
    }
  }
  return parts;
}

// The request's parameters, with a cursor unpacked into the parameters it stands for.
std::map<std::string, std::string> effective_params(const MockRequest& r) {
  std::map<std::string, std::string> out;
  if (r.has_param("cursor")) {
    json state = json::parse(b64url_decode(r.param("cursor")), nullptr, false);
    if (state.is_object()) {
      for (auto& [k, v] : state.items()) {
        if (v.is_string()) out[k] = v.get<std::string>();
      }
    }
    return out;
  }
  for (const auto& [k, v] : r.params) out.emplace(k, v);
  return out;
}

// 00:00 America/New_York of `d` in UTC milliseconds: the offset at midnight is the previous day's
// (switches happen at 02:00).
int64_t ny_midnight_ms(Date d) {
  return (int64_t{d.days_since_epoch()} * 86400 - new_york_utc_offset_hours(d - 1) * 3600) * 1000;
}

std::optional<Date> ny_date_of_ms(int64_t ms) {
  for (int k = -1; k <= 1; ++k) {
    const Date d(static_cast<int32_t>(ms / 86'400'000) + k);
    if (ms >= ny_midnight_ms(d) && ms < ny_midnight_ms(d + 1)) return d;
  }
  return std::nullopt;
}

std::optional<Date> parse_bound(const std::string& text) {
  if (auto d = Date::try_parse(text)) return d;
  if (text.empty() || text.size() > 15 || text.find_first_not_of("0123456789") != std::string::npos) {
    return std::nullopt;
  }
  return ny_date_of_ms(std::stoll(text));
}

std::optional<int> parse_limit(const std::map<std::string, std::string>& p, int fallback, int max) {
  auto it = p.find("limit");
  if (it == p.end()) return fallback;
  const std::string& t = it->second;
  if (t.empty() || t.size() > 9 || t.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  return std::clamp(std::stoi(t), 1, max);
}

size_t offset_of(const std::map<std::string, std::string>& p) {
  auto it = p.find("offset");
  return it == p.end() ? 0 : static_cast<size_t>(std::stoul(it->second));
}

double round_to(double x, double scale) { return std::round(x * scale) / scale; }

// Cuts `rows` to one page of `limit` from `offset`; adds next_url when rows remain.
void page_out(json& body, const json& rows, size_t offset, int limit, const MockRequest& r,
              std::map<std::string, std::string> params) {
  json page = json::array();
  for (size_t i = offset; i < rows.size() && page.size() < static_cast<size_t>(limit); ++i) {
    page.push_back(rows[i]);
  }
  const size_t next = offset + page.size();
  body["results"] = page;
  if (next < rows.size()) {
    params.erase("cursor");
    params["offset"] = std::to_string(next);
    const std::string host = r.header("host").empty() ? "127.0.0.1" : r.header("host");
    body["next_url"] = "http://" + host + "/polygon" + r.path + "?cursor=" + b64url_encode(json(params).dump());
  }
}

class Routes final : public VendorRoutes {
 public:
  std::string name() const override { return "polygon"; }

  std::optional<MockAnswer> check_auth(const MockRequest& r) const override {
    std::string key = r.param("apiKey");
    const std::string auth = r.header("authorization");
    if (auth.rfind("Bearer ", 0) == 0) key = auth.substr(7);
    if (key.empty()) return error_answer(r, 401, "API Key was not provided");
    if (key != MockVendorServer::kApiKey) return error_answer(r, 401, "Unknown API Key");
    return std::nullopt;
  }

  std::optional<MockAnswer> handle(const MockRequest& r) const override {
    const auto parts = split_path(r.path);
    // v2 aggs ticker T range m span from to (9 parts)
    if (parts.size() == 9 && parts[0] == "v2" && parts[1] == "aggs" && parts[2] == "ticker" &&
        parts[4] == "range") {
      return aggregates(r, parts[3], parts[5], parts[6], parts[7], parts[8]);
    }
    if (parts.size() == 5 && parts[0] == "v2" && parts[1] == "aggs" && parts[2] == "ticker" &&
        parts[4] == "prev") {
      if (parts[3] == "AAPL") return recorded("mocks/v2/aggs/ticker/AAPL/prev.json");
      return std::nullopt;
    }
    if (parts.size() == 3 && parts[0] == "v3" && parts[1] == "reference" &&
        (parts[2] == "splits" || parts[2] == "dividends")) {
      return reference(r, parts[2]);
    }
    if (parts.size() == 4 && parts[0] == "v3" && parts[1] == "reference" && parts[2] == "tickers") {
      if (parts[3] == "AAPL") return recorded("mocks/v3/reference/tickers/AAPL.json");
      return json_answer(200, {{"results",
                                {{"ticker", parts[3]},
                                 {"name", parts[3] + " Synthetic Inc."},
                                 {"market", "stocks"},
                                 {"locale", "us"},
                                 {"type", "CS"},
                                 {"active", true},
                                 {"currency_name", "usd"}}},
                               {"status", "OK"},
                               {"request_id", request_id(r)}});
    }
    return std::nullopt;
  }

  // Polygon's rate-limit error body (it comes with HTTP 429 from Polygon; here it arrives in a
  // 200, so the adapter must recognise it by its content, not by the status).
  MockAnswer vendor_error(const MockRequest& r) const override {
    return error_answer(r, 200,
                        "You've exceeded the maximum requests per minute, please wait or upgrade "
                        "your subscription to continue. https://polygon.io/pricing");
  }

  // What Polygon answers for a ticker it does not know: the aggregates endpoint a 200 without
  // results ("resultsCount":0, documented behaviour: no error for an unknown ticker), the ticker
  // details endpoint 404 {"status":"NOT_FOUND","message":"Ticker not found."}, the reference
  // lists an empty "results".
  MockAnswer unknown_symbol(const MockRequest& r) const override {
    const auto parts = split_path(r.path);
    const std::string symbol = symbol_of(r);
    if (parts.size() >= 3 && parts[0] == "v3" && parts[2] == "tickers") {
      return json_answer(404, {{"status", "NOT_FOUND"},
                               {"request_id", request_id(r)},
                               {"message", "Ticker not found."}});
    }
    if (parts.size() >= 2 && parts[0] == "v3") {
      return json_answer(200, {{"results", json::array()}, {"status", "OK"}, {"request_id", request_id(r)}});
    }
    return json_answer(200, {{"ticker", symbol},
                             {"queryCount", 0},
                             {"resultsCount", 0},
                             {"adjusted", r.param("adjusted", "true") == "true"},
                             {"status", "OK"},
                             {"request_id", request_id(r)},
                             {"count", 0}});
  }

  std::string symbol_of(const MockRequest& r) const override {
    const auto parts = split_path(r.path);
    if (parts.size() >= 4 && parts[0] == "v2" && parts[1] == "aggs" && parts[2] == "ticker") return parts[3];
    if (parts.size() == 4 && parts[0] == "v3" && parts[2] == "tickers") return parts[3];
    const auto p = effective_params(r);
    auto it = p.find("ticker");
    return it == p.end() ? "" : it->second;
  }

 private:
  static MockAnswer recorded(const std::string& relative) {
    return {200, "application/json", read_vendor_sample("polygon/" + relative), {}};
  }

  std::optional<MockAnswer> aggregates(const MockRequest& r, const std::string& ticker,
                                       const std::string& multiplier, const std::string& span,
                                       const std::string& from_text, const std::string& to_text) const {
    const auto params = effective_params(r);
    const auto from = parse_bound(from_text);
    const auto to = parse_bound(to_text);
    if (!from || !to) {
      return error_answer(r, 400, std::string("Could not parse the time parameter: '") +
                                      (!from ? "from" : "to") +
                                      "'. Use YYYY-MM-DD or Unix MS Timestamps");
    }
    if (span != "day" && span != "hour" && span != "minute") {
      return error_answer(r, 400, "Invalid timespan: " + span);
    }
    if (multiplier != "1") return error_answer(r, 400, "the mock serves multiplier 1 only");
    const auto limit = parse_limit(params, 5000, 50000);
    if (!limit) return error_answer(r, 400, "Invalid limit");
    const size_t offset = offset_of(params);
    const bool adjusted = params.count("adjusted") == 0 || params.at("adjusted") == "true";
    const bool desc = params.count("sort") && params.at("sort") == "desc";

    json rows = json::array();
    std::string recording;
    if (ticker == "AAPL" && span == "day" && to_text == "2005-04-04" &&
        (from_text == "2005-04-01" || from_text == "2005-04-02")) {
      recording = "mocks/v2/aggs/ticker/AAPL/range/1/day/" + from_text + "/2005-04-04.json";
      const std::string text = read_vendor_sample("polygon/" + recording);
      if (offset == 0 && !desc && static_cast<size_t>(*limit) >= 2) {
        return MockAnswer{200, "application/json", text, {}};
      }
      rows = json::parse(text)["results"];
    } else {
      for (const SynthBar& b : synthetic_daily_bars(ticker, *from, *to)) {
        if (span == "day") {
          rows.push_back(bar_json(b.open, b.high, b.low, b.close, b.volume, ny_midnight_ms(b.date)));
          continue;
        }
        // Intraday: the day's range spread over its regular session, one bar per hour/minute.
        const int step_min = span == "hour" ? 60 : 1;
        const int count = 390 / step_min + (390 % step_min ? 1 : 0);
        const int64_t open_ms = TradingCalendar::nyse().session_open_ts_ns(b.date) / 1'000'000;
        for (int k = 0; k < count; ++k) {
          const double f = static_cast<double>(k) / count;
          const double o = round_to(b.open + (b.close - b.open) * f, 100);
          const double c = round_to(b.open + (b.close - b.open) * (k + 1.0) / count, 100);
          rows.push_back(bar_json(o, std::max(o, c), std::min(o, c), c,
                                  std::floor(b.volume / count), open_ms + int64_t{k} * step_min * 60'000));
        }
      }
    }
    if (desc) std::reverse(rows.begin(), rows.end());
    json body = {{"ticker", ticker},
                 {"queryCount", rows.size()},
                 {"resultsCount", 0},
                 {"adjusted", adjusted}};
    if (!rows.empty()) {
      page_out(body, rows, offset, *limit, r, params);
      body["resultsCount"] = body["results"].size();
    }
    body["status"] = "OK";
    body["request_id"] = request_id(r);
    body["count"] = body["resultsCount"];
    if (body.contains("next_url")) {  // Polygon puts next_url last
      json next = body["next_url"];
      body.erase("next_url");
      body["next_url"] = next;
    }
    return json_answer(200, body);
  }

  static json bar_json(double o, double h, double l, double c, double v, int64_t t_ms) {
    return {{"v", v},
            {"vw", round_to((o + h + l + c) / 4, 10000)},
            {"o", o},
            {"c", c},
            {"h", h},
            {"l", l},
            {"t", t_ms},
            {"n", static_cast<int64_t>(v / 97)}};
  }

  // Splits and dividends: the recorded rows, filtered like Polygon filters them.
  std::optional<MockAnswer> reference(const MockRequest& r, const std::string& kind) const {
    const auto params = effective_params(r);
    const auto limit = parse_limit(params, 10, 1000);
    if (!limit) return error_answer(r, 400, "Invalid limit");
    const std::string relative = "mocks/v3/reference/" + kind + ".json";
    const std::string text = read_vendor_sample("polygon/" + relative);
    const std::string date_field = kind == "splits" ? "execution_date" : "ex_dividend_date";
    const bool filtered = params.count("ticker") || params.count(date_field + ".gte") ||
                          params.count(date_field + ".lte") || params.count("offset");
    if (!filtered && *limit >= 10) return MockAnswer{200, "application/json", text, {}};
    json rows = json::array();
    const json recorded_doc = json::parse(text);
    for (const json& row : recorded_doc.at("results")) {
      if (params.count("ticker") && row.value("ticker", "") != params.at("ticker")) continue;
      const std::string date = row.value(date_field, "");
      if (params.count(date_field + ".gte") && date < params.at(date_field + ".gte")) continue;
      if (params.count(date_field + ".lte") && date > params.at(date_field + ".lte")) continue;
      rows.push_back(row);
    }
    json body = json::object();
    page_out(body, rows, offset_of(params), *limit, r, params);
    body["status"] = "OK";
    body["request_id"] = request_id(r);
    if (body.contains("next_url")) {
      json next = body["next_url"];
      body.erase("next_url");
      body["next_url"] = next;
    }
    return json_answer(200, body);
  }
};

}  // namespace

std::unique_ptr<VendorRoutes> make_polygon_routes() { return std::make_unique<Routes>(); }

}  // namespace trib::testing

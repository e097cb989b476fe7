// The alpaca mock: Alpaca Market Data API v2 stock bars, as its docs and alpaca-py's recorded
// test fixtures (../shared/data/vendor-samples/alpaca, SOURCE.md) show it.
//   auth     headers APCA-API-KEY-ID and APCA-API-SECRET-KEY; either missing -> 401
//            {"message":"unauthorized."}, wrong -> 403 {"message":"forbidden."}
//   GET /v2/stocks/bars?symbols=A,B&timeframe=1Day|1Hour|1Min&start=&end=&limit=&adjustment=
//            &feed=&sort=asc|desc&page_token=
//            start/end RFC 3339 or YYYY-MM-DD, inclusive; limit 1..10000 (default 1000) counts bars
//            over all symbols; bars keyed by symbol in alphabetical order; a symbol without bars
//            is simply absent; a symbol Alpaca cannot accept -> 422 {"code":42210000,"message":
//            "invalid symbol: X"}
//   paging   "next_page_token": base64 of "SYMBOL|D|<RFC 3339 of the page's last bar>" (the shape
//            of the recorded token QUFQTHxEfDIwMjItMDItMDJUMDU6MDA6MDAuMDAwMDAwMDAwWg==), null on
//            the last page
//   GET /v1/corporate-actions  splits, cash dividends and renames (see corporate_actions()).
// Recorded payloads answer the requests they were recorded for (AAPL daily from 2022-02-01, TSLA
// daily sort=desc to 2023-09-27, AAPL+TSLA daily on 2022-03-09, the empty responses); any other
// request gets synthetic_daily_bars() in Alpaca's style (RFC 3339 t, integer v and n, vw to 6
// decimals).
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include <nlohmann/json.hpp>

#include "mock_vendor.hpp"

namespace trib::testing {
namespace {

using json = nlohmann::ordered_json;

const char* kB64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const char* kDir = "alpaca/alpaca-py-tests/";

std::string b64_encode(const std::string& in) {
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
  while (out.size() % 4) out += '=';
  return out;
}

std::string b64_decode(const std::string& in) {
  std::string out;
  int val = 0, bits = -8;
  for (char c : in) {
    if (c == '=') break;
    const char* p = c == '\0' ? nullptr : std::strchr(kB64, c);
    if (p == nullptr) return "";
    val = (val << 6) + static_cast<int>(p - kB64);
    bits += 6;
    if (bits >= 0) {
      out += static_cast<char>((val >> bits) & 0xFF);
      bits -= 8;
    }
  }
  return out;
}

MockAnswer json_answer(int status, const json& body) { return {status, "application/json", body.dump(), {}}; }

MockAnswer error_answer(int status, int code, const std::string& message) {
  return json_answer(status, {{"code", code}, {"message", message}});
}

MockAnswer recorded(const std::string& file) {
  return {200, "application/json", read_vendor_sample(std::string(kDir) + file), {}};
}

std::vector<std::string> split_symbols(const std::string& list) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    if (comma == std::string::npos) comma = list.size();
    if (comma > start) out.push_back(list.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

bool alpaca_symbol(const std::string& s) {
  if (s.empty() || s.size() > 21) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '/';
  });
}

int64_t ny_midnight_ns(Date d) {
  return to_ts_ns(d) - int64_t{new_york_utc_offset_hours(d - 1)} * 3600 * kNanosPerSecond;
}

Date ny_date_of(int64_t ts_ns) {
  Date d = utc_date_of(ts_ns);
  if (ts_ns < ny_midnight_ns(d)) d = d - 1;
  if (ts_ns >= ny_midnight_ns(d + 1)) d = d + 1;
  return d;
}

std::optional<int64_t> parse_time(const std::string& text) {
  try {
    return parse_ts_ns(text);
  } catch (...) {
    return std::nullopt;
  }
}

double round_to(double x, double scale) { return std::round(x * scale) / scale; }

struct Item {
  std::string symbol;
  int64_t t_ns;
  json bar;
};

class Routes final : public VendorRoutes {
 public:
  std::string name() const override { return "alpaca"; }

  std::optional<MockAnswer> check_auth(const MockRequest& r) const override {
    const std::string id = r.header("apca-api-key-id");
    const std::string secret = r.header("apca-api-secret-key");
    if (id.empty() || secret.empty()) return json_answer(401, {{"message", "unauthorized."}});
    if (id != MockVendorServer::kApiKey || secret != MockVendorServer::kApiSecret) {
      return json_answer(403, {{"message", "forbidden."}});
    }
    return std::nullopt;
  }

  std::optional<MockAnswer> handle(const MockRequest& r) const override {
    if (r.path == "/v1/corporate-actions") return corporate_actions(r);
    if (r.path != "/v2/stocks/bars") return std::nullopt;
    const auto symbols = split_symbols(r.param("symbols"));
    if (symbols.empty()) return error_answer(400, 40010001, "invalid symbols: ");
    for (const auto& s : symbols) {
      if (!alpaca_symbol(s)) return error_answer(422, 42210000, "invalid symbol: " + s);
    }
    const std::string tf = r.param("timeframe");
    int step_min = 0;
    if (tf == "1Day" || tf == "1D") {
      step_min = 0;
    } else if (tf == "1Hour" || tf == "1H") {
      step_min = 60;
    } else if (tf == "1Min" || tf == "1T") {
      step_min = 1;
    } else {
      return error_answer(422, 42210000, "invalid timeframe");
    }
    const std::string feed = r.param("feed", "sip");
    if (feed != "iex" && feed != "sip" && feed != "otc") return error_answer(422, 42210000, "invalid feed");
    const std::string sort = r.param("sort", "asc");
    if (sort != "asc" && sort != "desc") return error_answer(422, 42210000, "invalid sort");
    const std::string limit_text = r.param("limit", "1000");
    if (limit_text.empty() || limit_text.size() > 6 ||
        limit_text.find_first_not_of("0123456789") != std::string::npos) {
      return error_answer(422, 42210000, "invalid limit");
    }
    const int limit = std::stoi(limit_text);
    if (limit < 1 || limit > 10000) return error_answer(422, 42210000, "invalid limit: exceeds maximum 10000");
    const auto start = parse_time(r.param("start", Date::today_utc().to_string()));
    const auto end = r.has_param("end") ? parse_time(r.param("end")) : std::optional<int64_t>(now_ts_ns());
    if (!start) return error_answer(422, 42210000, "invalid start");
    if (!end) return error_answer(422, 42210000, "invalid end");
    const std::string token = r.param("page_token");
    const bool daily = step_min == 0;

    // Recorded pages, for the requests they answered.
    if (token.empty() && daily) {
      const Date from = ny_date_of(*start), to = ny_date_of(*end);
      if (symbols == std::vector<std::string>{"AAPL"} && sort == "asc" && from == Date::parse("2022-02-01") &&
          to >= Date::parse("2022-02-02") && limit >= 2) {
        return recorded("test_historical_stock_data__test_get_bars__1.json");
      }
      if (symbols == std::vector<std::string>{"TSLA"} && sort == "desc" && from <= Date::parse("2023-09-25") &&
          to == Date::parse("2023-09-27") && limit >= 3) {
        return recorded("test_historical_stock_data__test_get_bars_desc__1.json");
      }
      auto sorted = symbols;
      std::sort(sorted.begin(), sorted.end());
      if (sorted == std::vector<std::string>{"AAPL", "TSLA"} && sort == "asc" &&
          from == Date::parse("2022-03-09") && to == Date::parse("2022-03-09") && limit >= 2) {
        return recorded("test_historical_stock_data__test_multisymbol_get_bars__1.json");
      }
    }

    // Synthetic bars, ordered by symbol, then time.
    auto sorted = symbols;
    std::sort(sorted.begin(), sorted.end());
    sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
    std::vector<Item> items;
    if (*end >= *start) {
      const Date first = ny_date_of(*start), last = ny_date_of(*end);
      for (const auto& s : sorted) {
        std::vector<Item> mine;
        for (const SynthBar& b : synthetic_daily_bars(s, first, last)) {
          if (daily) {
            mine.push_back({s, ny_midnight_ns(b.date), bar_json(b.open, b.high, b.low, b.close, b.volume,
                                                                ny_midnight_ns(b.date))});
            continue;
          }
          const int count = 390 / step_min + (390 % step_min ? 1 : 0);
          const int64_t open_ns = TradingCalendar::nyse().session_open_ts_ns(b.date);
          for (int k = 0; k < count; ++k) {
            const double o = round_to(b.open + (b.close - b.open) * k / count, 100);
            const double c = round_to(b.open + (b.close - b.open) * (k + 1.0) / count, 100);
            const int64_t t = open_ns + int64_t{k} * step_min * 60 * kNanosPerSecond;
            mine.push_back({s, t, bar_json(o, std::max(o, c), std::min(o, c), c, std::floor(b.volume / count), t)});
          }
        }
        std::erase_if(mine, [&](const Item& it) { return it.t_ns < *start || it.t_ns > *end; });
        if (sort == "desc") std::reverse(mine.begin(), mine.end());
        for (auto& it : mine) items.push_back(std::move(it));
      }
    }
    // Resume after the token's bar.
    size_t offset = 0;
    if (!token.empty()) {
      const std::string decoded = b64_decode(token);
      const size_t bar1 = decoded.find('|');
      const size_t bar2 = bar1 == std::string::npos ? std::string::npos : decoded.find('|', bar1 + 1);
      const auto at = bar2 == std::string::npos ? std::nullopt : parse_time(decoded.substr(bar2 + 1));
      if (!at) {
        offset = items.size();  // a token we did not hand out (the recorded desc page's): no more
      } else {
        const std::string sym = decoded.substr(0, bar1);
        offset = items.size();
        for (size_t i = 0; i < items.size(); ++i) {
          if (items[i].symbol == sym && items[i].t_ns == *at) {
            offset = i + 1;
            break;
          }
        }
      }
    }
    const size_t stop = std::min(items.size(), offset + static_cast<size_t>(limit));
    if (offset >= stop) {
      return recorded(symbols.size() > 1 ? "test_historical_stock_data__test_get_bars_multi_empty_response__1.json"
                                         : "test_historical_stock_data__test_get_bars_single_empty_response__1.json");
    }
    json bars = json::object();
    for (size_t i = offset; i < stop; ++i) bars[items[i].symbol].push_back(items[i].bar);
    json body = {{"bars", bars}, {"next_page_token", nullptr}};
    if (stop < items.size()) {
      const Item& last = items[stop - 1];
      std::string when = format_ts_ns(last.t_ns);
      when.pop_back();  // 'Z'
      if (when.find('.') == std::string::npos) when += ".000000000";
      body["next_page_token"] = b64_encode(last.symbol + "|D|" + when + "Z");
    }
    return json_answer(200, body);
  }

  // A real Alpaca refusal: a free (IEX) account asking SIP data of the last 15 minutes gets 403
  // with this message.
  MockAnswer vendor_error(const MockRequest&) const override {
    return json_answer(403, {{"message", "subscription does not permit querying recent SIP data"}});
  }

  // Alpaca has no "unknown symbol" answer for a well-formed ticker: the symbol is simply absent
  // from "bars" (alpaca-py's recorded empty response, 200).
  MockAnswer unknown_symbol(const MockRequest& r) const override {
    const bool multi = split_symbols(r.param("symbols")).size() > 1;
    return recorded(multi ? "test_historical_stock_data__test_get_bars_multi_empty_response__1.json"
                          : "test_historical_stock_data__test_get_bars_single_empty_response__1.json");
  }

  std::string symbol_of(const MockRequest& r) const override { return r.param("symbols"); }

 private:
  // GET /v1/corporate-actions?symbols=&types=&start=&end=&limit=&page_token= in the shape
  // Alpaca's reference and alpaca-py's models give (no recorded answer is in vendor-samples):
  // groups forward_splits, reverse_splits, cash_dividends, name_changes; rows filtered by
  // process_date in [start, end] (YYYY-MM-DD, inclusive); limit rows a page over all groups,
  // next_page_token the base64 of the next row's index. The rows are real actions.
  MockAnswer corporate_actions(const MockRequest& r) const {
    struct Row { const char* group; json row; };
    static const std::vector<Row> kRows = {
        {"cash_dividends", {{"symbol", "AAPL"}, {"rate", 0.82}, {"special", false}, {"foreign", false},
                            {"process_date", "2020-05-14"}, {"ex_date", "2020-05-08"}, {"record_date", "2020-05-11"},
                            {"payable_date", "2020-05-14"}}},
        {"cash_dividends", {{"symbol", "AAPL"}, {"rate", 0.82}, {"special", false}, {"foreign", false},
                            {"process_date", "2020-08-13"}, {"ex_date", "2020-08-07"}, {"record_date", "2020-08-10"},
                            {"payable_date", "2020-08-13"}}},
        {"forward_splits", {{"symbol", "AAPL"}, {"new_rate", 4}, {"old_rate", 1}, {"process_date", "2020-08-31"},
                            {"ex_date", "2020-08-31"}, {"record_date", "2020-08-24"}, {"payable_date", "2020-08-28"}}},
        {"forward_splits", {{"symbol", "TSLA"}, {"new_rate", 5}, {"old_rate", 1}, {"process_date", "2020-08-31"},
                            {"ex_date", "2020-08-31"}, {"record_date", "2020-08-21"}, {"payable_date", "2020-08-28"}}},
        {"cash_dividends", {{"symbol", "AAPL"}, {"rate", 0.205}, {"special", false}, {"foreign", false},
                            {"process_date", "2020-11-12"}, {"ex_date", "2020-11-06"}, {"record_date", "2020-11-09"},
                            {"payable_date", "2020-11-12"}}},
        {"reverse_splits", {{"symbol", "GE"}, {"new_rate", 1}, {"old_rate", 8}, {"process_date", "2021-08-02"},
                            {"ex_date", "2021-08-02"}, {"record_date", "2021-07-30"}, {"payable_date", "2021-07-30"}}},
        {"name_changes", {{"old_symbol", "FB"}, {"new_symbol", "META"}, {"process_date", "2022-06-09"}}},
        {"forward_splits", {{"symbol", "TSLA"}, {"new_rate", 3}, {"old_rate", 1}, {"process_date", "2022-08-25"},
                            {"ex_date", "2022-08-25"}, {"record_date", "2022-08-17"}, {"payable_date", "2022-08-24"}}},
    };
    const auto symbols = split_symbols(r.param("symbols"));
    const std::string start = r.param("start", "0000-00-00"), end = r.param("end", "9999-99-99");
    const std::string types = r.param("types");
    const int limit = std::max(1, std::min(1000, std::atoi(r.param("limit", "100").c_str())));
    std::vector<const Row*> rows;
    for (const Row& row : kRows) {
      const std::string symbol = row.row.contains("symbol") ? row.row["symbol"].get<std::string>()
                                                            : row.row["old_symbol"].get<std::string>();
      const std::string when = row.row["process_date"].get<std::string>();
      std::string type = row.group;
      type.pop_back();  // "forward_splits" -> "forward_split"
      if (!symbols.empty() && std::find(symbols.begin(), symbols.end(), symbol) == symbols.end()) continue;
      if (!types.empty() && ("," + types + ",").find("," + type + ",") == std::string::npos) continue;
      if (when < start || when > end) continue;
      rows.push_back(&row);
    }
    size_t offset = 0;
    if (const std::string token = r.param("page_token"); !token.empty()) offset = std::strtoul(b64_decode(token).c_str(), nullptr, 10);
    const size_t stop = std::min(rows.size(), offset + static_cast<size_t>(limit));
    json groups = json::object();
    for (size_t i = offset; i < stop; ++i) groups[rows[i]->group].push_back(rows[i]->row);
    json body = {{"corporate_actions", groups}, {"next_page_token", nullptr}};
    if (stop < rows.size()) body["next_page_token"] = b64_encode(std::to_string(stop));
    return json_answer(200, body);
  }

  static json bar_json(double o, double h, double l, double c, double v, int64_t t_ns) {
    return {{"t", format_ts_ns(t_ns)},
            {"o", o},
            {"h", h},
            {"l", l},
            {"c", c},
            {"v", static_cast<int64_t>(v)},
            {"n", static_cast<int64_t>(v / 113)},
            {"vw", round_to((o + h + l + c) / 4, 1e6)}};
  }
};

}  // namespace

std::unique_ptr<VendorRoutes> make_alpaca_routes() { return std::make_unique<Routes>(); }

}  // namespace trib::testing

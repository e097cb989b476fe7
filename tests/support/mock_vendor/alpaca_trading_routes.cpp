// The alpaca-trading mock: Alpaca's Trading API v2 (paper and live speak the same protocol) over
// one in-memory brokerage account, for the broker client's tests. Bodies are alpaca-py's recorded
// ones (../shared/data/vendor-samples/alpaca/alpaca-py-tests, SOURCE.md) with our values put in:
// the same fields in the same order, decimals as JSON strings as Alpaca sends them.
//   auth     headers APCA-API-KEY-ID and APCA-API-SECRET-KEY; missing or wrong -> 401
//            {"code":40110000,"message":"request is not authorized"} (the trading API's answer;
//            the data API's differs, see alpaca_routes.cpp)
//   GET    /v2/account                  equity = cash + positions at their last price
//   GET    /v2/positions[/{symbol}]     one by symbol or asset_id, else 404 {"code":40410000,
//                                       "message":"position does not exist"}
//   POST   /v2/orders                   JSON body; 422 {"code":40010001,...} for a bad field, a
//                                       client_order_id used before, an unknown asset; 200 with
//                                       the order, status "accepted"
//   GET    /v2/orders?status=open|closed|all&limit=&after=&until=&direction=&symbols=&side=
//   GET    /v2/orders/{id}, /v2/orders:by_client_order_id?client_order_id=
//                                       404 {"code":40410000,"message":"order not found"}
//   DELETE /v2/orders/{id}              204; 422 {"code":42210000,...} once it is done
//   DELETE /v2/orders                   cancels every open order: 207 [{"id","status":200}, ...]
//   GET    /v2/account/activities/FILL  ?after=&until=&date=&direction=&page_size=&page_token=
//   GET    /v2/clock, /v2/calendar?start=&end=   from TradingCalendar::nyse()
// Test controls under the same prefix (no auth, any method), each answering the state JSON
// {"cash","orders","positions"}:
//   /_mock/reset?cash=100000   an empty account (the clock stays as set)
//   /_mock/now?ts=<RFC 3339>   the mock's clock; no ts: the real time again
//   /_mock/open    {"prices":{"AAPL":150.25},"fill_fraction":{"AAPL":0.5},"reject":["MSFT"]}
//   /_mock/script  {"post_order":"commit_then_hang"|"reject"|"500_after_commit","hang_ms":30000}
//                  for the next POST /v2/orders only
//   /_mock/state
#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <utility>

#include <nlohmann/json.hpp>

#include "mock_vendor.hpp"
#include "trib/core/text.hpp"

namespace trib::testing {
namespace {

using json = nlohmann::ordered_json;

const char* kDir = "alpaca/alpaca-py-tests/";
const char* kAccountId = "00000000-0000-4000-8000-000000000000";

MockAnswer json_answer(int status, const json& body) { return {status, "application/json", body.dump(), {}}; }

MockAnswer error_answer(int status, int code, const std::string& message) {
  return json_answer(status, {{"code", code}, {"message", message}});
}

MockAnswer invalid(const std::string& message) { return error_answer(422, 40010001, message); }
MockAnswer order_not_found() { return error_answer(404, 40410000, "order not found"); }
MockAnswer position_not_found() { return error_answer(404, 40410000, "position does not exist"); }
MockAnswer asset_not_found(const std::string& symbol) { return invalid("asset \"" + symbol + "\" not found"); }

// Controls answer in the server's own words, like MockVendorServer::control.
MockAnswer bad_control(const std::string& message) {
  return {400, "text/plain", "mock alpaca-trading: " + message, {}};
}

const std::string& body_of(const MockRequest& r) { return r.body; }

// Alpaca's decimals: strings with as many places as the value needs ("100000", "150.1").
std::string decimal(double x) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9f", x);
  std::string s = buf;
  s.erase(s.find_last_not_of('0') + 1);
  if (s.back() == '.') s.pop_back();
  return s == "-0" ? "0" : s;
}

// A qty or price as Alpaca takes it: a JSON number or a decimal string.
std::optional<double> number_of(const json& v) {
  if (v.is_number()) return v.get<double>();
  if (!v.is_string()) return std::nullopt;
  const std::string s = v.get<std::string>();
  char* end = nullptr;
  const double x = std::strtod(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size() || !std::isfinite(x)) return std::nullopt;
  return x;
}

std::string uuid(uint64_t n) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "00000000-0000-4000-8000-%012llx", static_cast<unsigned long long>(n));
  return buf;
}

uint64_t fnv1a(const std::string& s) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

// Alpaca gives each asset a fixed UUID; ours is a hash of the symbol, the same in every run.
std::string asset_id(const std::string& symbol) {
  const unsigned long long a = fnv1a(symbol), b = fnv1a(symbol + "#");
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08llx-%04llx-4%03llx-8%03llx-%012llx", a >> 32, (a >> 16) & 0xFFFF, a & 0xFFF,
                b >> 52, b & 0xFFFFFFFFFFFFULL);
  return buf;
}

bool plausible_symbol(const std::string& s) {
  return !s.empty() && s.size() <= 21 &&
         std::all_of(s.begin(), s.end(), [](char c) { return (c >= 'A' && c <= 'Z') || c == '.'; });
}

// RFC 3339 with any offset (or a bare date). parse_ts_ns reads UTC only, so the offset is applied
// here; a '+' sent unescaped in a query string arrives as a space.
std::optional<int64_t> parse_time(std::string text) {
  int64_t shift_ns = 0;
  const size_t zone = text.size() > 19 ? text.find_first_of("+- ", 19) : std::string::npos;
  if (zone != std::string::npos) {
    std::string off = text.substr(zone + 1);
    off.erase(std::remove(off.begin(), off.end(), ':'), off.end());
    if (off.size() != 4 || off.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
    const int minutes = std::stoi(off.substr(0, 2)) * 60 + std::stoi(off.substr(2));
    shift_ns = int64_t{minutes} * 60 * kNanosPerSecond * (text[zone] == '-' ? -1 : 1);
    text.resize(zone);
  }
  try {
    return parse_ts_ns(text) - shift_ns;
  } catch (...) {
    return std::nullopt;
  }
}

// New York's offset at an instant: DST switches at 02:00 local on a Sunday, with the market shut,
// so the offset of the New York date (taken at its noon) is close enough.
int ny_offset_hours(int64_t ts_ns) {
  return new_york_utc_offset_hours(utc_date_of(ts_ns - 5 * 3600 * kNanosPerSecond));
}

Date ny_date_of(int64_t ts_ns) {
  return utc_date_of(ts_ns + int64_t{ny_offset_hours(ts_ns)} * 3600 * kNanosPerSecond);
}

// The clock's format: New York time with its offset, 2022-04-28T14:07:04.451420928-04:00.
std::string ny_rfc3339(int64_t ts_ns) {
  const int off = ny_offset_hours(ts_ns);
  std::string s = format_ts_ns(ts_ns + int64_t{off} * 3600 * kNanosPerSecond);
  s.pop_back();  // 'Z'
  char zone[16];
  std::snprintf(zone, sizeof zone, "%c%02d:00", off < 0 ? '-' : '+', std::abs(off));
  return s + zone;
}

// Columbus Day and Veterans Day shut the banks but not the exchange: no settlement on them.
bool bank_holiday(Date d) {
  if (d.month() == 10 && d.weekday() == 1 && d.day() >= 8 && d.day() <= 14) return true;
  if (d.month() != 11) return false;
  return (d.day() == 11 && d.weekday() != 0 && d.weekday() != 6) || (d.day() == 12 && d.weekday() == 1);
}

// T+1 since the US moved to it on 2024-05-28, T+2 before (Alpaca's calendar gives T+2 for old
// dates too, 1970-01-02 settling 1970-01-06).
Date settlement_date(Date trade) {
  const auto& cal = TradingCalendar::nyse();
  int days = trade >= Date::from_ymd(2024, 5, 28) ? 1 : 2;
  Date d = trade;
  while (days > 0) {
    d = cal.next_session(d);
    if (!bank_holiday(d)) --days;
  }
  return d;
}

// Trade activity ids look like 20190524113406977::<uuid>: the UTC time to the millisecond first.
std::string activity_id(int64_t ts_ns, uint64_t n) {
  std::string digits;
  for (char c : format_ts_ns(ts_ns).substr(0, 19)) {
    if (c >= '0' && c <= '9') digits += c;
  }
  char ms[8];
  std::snprintf(ms, sizeof ms, "%03lld", static_cast<long long>(ts_ns % kNanosPerSecond / 1'000'000));
  return digits + ms + "::" + uuid(n);
}

struct Order {
  std::string id, client_order_id, symbol, side, type, time_in_force, position_intent;
  int64_t qty = 0, filled_qty = 0;
  double filled_value = 0;  // price * shares summed over the fills, for the average
  std::optional<double> limit_price, stop_price;
  bool extended_hours = false, stop_triggered = false;
  std::string status = "accepted";
  int64_t created_ns = 0, updated_ns = 0;
  std::optional<int64_t> filled_at_ns, canceled_at_ns, failed_at_ns;
};

// The statuses the mock's orders can be in that still may fill or be canceled.
bool is_open(const std::string& status) {
  return status == "accepted" || status == "new" || status == "partially_filled";
}

struct Position {
  int64_t qty = 0;  // negative: short
  double avg_entry = 0;
};

struct Fill {
  std::string id, order_id, symbol, side, type, order_status;
  int64_t ts_ns = 0, qty = 0, leaves_qty = 0, cum_qty = 0;
  double price = 0;
};

// Everything /_mock/reset clears.
struct Account {
  double cash = 100000, last_equity = 100000;  // Alpaca's paper accounts start with $100k
  int64_t created_ns = now_ts_ns();
  uint64_t next_id = 1;
  std::vector<Order> orders;  // in submission order
  std::map<std::string, Position> positions;
  std::map<std::string, double> prices, lastday;  // the last open's price and the one before
  std::vector<Fill> fills;
  std::string script;  // what the next POST /v2/orders does
  int hang_ms = 30000;
};

class Routes final : public VendorRoutes {
 public:
  std::string name() const override { return "alpaca-trading"; }

  std::optional<MockAnswer> check_auth(const MockRequest& r) const override {
    if (r.path.starts_with("/_mock/")) return std::nullopt;
    if (r.header("apca-api-key-id") != MockVendorServer::kApiKey ||
        r.header("apca-api-secret-key") != MockVendorServer::kApiSecret) {
      return error_answer(401, 40110000, "request is not authorized");
    }
    return std::nullopt;
  }

  std::optional<MockAnswer> handle(const MockRequest& r) const override {
    std::unique_lock lock(mutex_);
    const std::string& p = r.path;
    const bool get = r.method == "GET", post = r.method == "POST", del = r.method == "DELETE";
    if (p.starts_with("/_mock/")) return control(r);
    if (p == "/v2/account" && get) return json_answer(200, account_json());
    if (p == "/v2/positions" && get) {
      json list = json::array();
      for (const auto& [symbol, pos] : a_.positions) list.push_back(position_json(symbol, pos));
      return json_answer(200, list);
    }
    if (p.starts_with("/v2/positions/") && get) {
      const std::string key = p.substr(14);
      for (const auto& [symbol, pos] : a_.positions) {
        if (symbol == key || asset_id(symbol) == key) return json_answer(200, position_json(symbol, pos));
      }
      return position_not_found();
    }
    if (p == "/v2/orders") {
      if (get) return list_orders(r);
      if (post) return post_order(r, lock);
      if (del) return cancel_all();
    }
    if (p == "/v2/orders:by_client_order_id" && get) {
      const std::string wanted = r.param("client_order_id");
      for (const Order& o : a_.orders) {
        if (o.client_order_id == wanted) return json_answer(200, order_json(o));
      }
      return order_not_found();
    }
    if (p.starts_with("/v2/orders/") && (get || del)) {
      const std::string id = p.substr(11);
      auto it = std::find_if(a_.orders.begin(), a_.orders.end(), [&](const Order& o) { return o.id == id; });
      if (it == a_.orders.end()) return order_not_found();
      if (get) return json_answer(200, order_json(*it));
      if (!is_open(it->status)) return error_answer(422, 42210000, "order is not cancelable");
      cancel(*it);
      return MockAnswer{204, "application/json", "", {}};
    }
    if (p == "/v2/account/activities" && get) {
      const std::string types = r.param("activity_types");
      const bool fills = types.empty() || ("," + types + ",").find(",FILL,") != std::string::npos;
      return fills ? activities(r) : json_answer(200, json::array());
    }
    if (p.starts_with("/v2/account/activities/") && get) {
      // Only trades happen here: every other activity type (dividends, fees, ...) is empty.
      return p == "/v2/account/activities/FILL" ? activities(r) : json_answer(200, json::array());
    }
    if (p == "/v2/clock" && get) return clock();
    if (p == "/v2/calendar" && get) return calendar(r);
    return std::nullopt;
  }

  // Real Alpaca refusals: buying power for a new order, a cancel that came too late, and its 500
  // body for the rest.
  MockAnswer vendor_error(const MockRequest& r) const override {
    if (r.method == "POST" && r.path == "/v2/orders") return error_answer(403, 40310000, "insufficient buying power");
    if (r.method == "DELETE") return error_answer(422, 42210000, "order is not cancelable");
    return error_answer(500, 50010000, "internal server error occurred");
  }

  MockAnswer unknown_symbol(const MockRequest& r) const override {
    if (r.path.starts_with("/v2/positions/")) return position_not_found();
    if (r.path == "/v2/orders") return asset_not_found(symbol_of(r));
    return error_answer(404, 40410000, "asset not found");
  }

  std::string symbol_of(const MockRequest& r) const override {
    if (r.path.starts_with("/v2/positions/")) return r.path.substr(14);
    if (r.method == "POST" && r.path == "/v2/orders") {
      const json body = json::parse(body_of(r), nullptr, false);
      if (body.is_object() && body.contains("symbol") && body["symbol"].is_string()) return body["symbol"];
    }
    return "";
  }

 private:
  // The recorded bodies, parsed once: each answer is a copy with our values written over.
  const json& sample(const std::string& file) const {
    auto it = samples_.find(file);
    if (it == samples_.end()) it = samples_.emplace(file, json::parse(read_vendor_sample(kDir + file))).first;
    return it->second;
  }

  int64_t clock_ns() const { return now_ns_ ? *now_ns_ : now_ts_ns(); }

  MockAnswer control(const MockRequest& r) const {
    const std::string what = r.path.substr(7);
    if (what == "reset") {
      const auto cash = number_of(json(r.param("cash", "100000")));
      if (!cash) return bad_control("cash must be a number");
      a_ = Account{};
      a_.cash = a_.last_equity = *cash;
      a_.created_ns = clock_ns();
      // A request left hanging by commit_then_hang answers now rather than holding up the next test.
      ++wake_;
      wake_cv_.notify_all();
    } else if (what == "now") {
      if (!r.has_param("ts") || r.param("ts").empty()) {
        now_ns_.reset();
      } else if (auto ts = parse_time(r.param("ts"))) {
        now_ns_ = *ts;
      } else {
        return bad_control("ts must be RFC 3339");
      }
    } else if (what == "open") {
      if (auto refused = open_market(body_of(r))) return *refused;
    } else if (what == "script") {
      const json body = json::parse(body_of(r), nullptr, false);
      const std::string script = body.is_object() ? body.value("post_order", "") : "";
      if (script != "commit_then_hang" && script != "reject" && script != "500_after_commit" && script != "none") {
        return bad_control("script needs {\"post_order\": \"commit_then_hang\"|\"reject\"|\"500_after_commit\"|\"none\"}");
      }
      a_.script = script == "none" ? "" : script;
      a_.hang_ms = body.value("hang_ms", 30000);
    } else if (what != "state") {
      return bad_control("unknown control path " + r.path);
    }
    json orders = json::array(), positions = json::array();
    for (const Order& o : a_.orders) orders.push_back(order_json(o));
    for (const auto& [symbol, pos] : a_.positions) positions.push_back(position_json(symbol, pos));
    return json_answer(200, json{{"cash", decimal(a_.cash)}, {"orders", orders}, {"positions", positions}});
  }

  MockAnswer post_order(const MockRequest& r, std::unique_lock<std::mutex>& lock) const {
    const json body = json::parse(body_of(r), nullptr, false);
    if (!body.is_object()) return error_answer(400, 40010000, "request body format is invalid");
    auto text = [&](const char* key) {
      return body.contains(key) && body[key].is_string() ? body[key].get<std::string>() : std::string();
    };
    auto given = [&](const char* key) { return body.contains(key) && !body[key].is_null(); };
    Order o;
    o.symbol = text("symbol");
    if (o.symbol.empty()) return invalid("symbol is required");
    if (!plausible_symbol(o.symbol)) return asset_not_found(o.symbol);
    if (given("notional")) return invalid("notional orders are not supported by the mock");
    if (!given("qty")) return invalid("qty is required");
    const auto qty = number_of(body["qty"]);
    if (!qty) return invalid("invalid qty");
    if (*qty <= 0) return invalid("qty must be > 0");
    // Whole shares only: fills are counted in shares (see open_market).
    if (*qty != std::floor(*qty)) return invalid("fractional qty is not supported by the mock");
    o.qty = static_cast<int64_t>(*qty);
    o.side = text("side");
    if (o.side != "buy" && o.side != "sell") return invalid("invalid side");
    o.type = text("type");
    if (o.type != "market" && o.type != "limit" && o.type != "stop" && o.type != "stop_limit") {
      return invalid("invalid order type");
    }
    o.time_in_force = text("time_in_force");
    static const std::vector<std::string> kTif = {"day", "gtc", "opg", "cls", "ioc", "fok"};
    if (std::find(kTif.begin(), kTif.end(), o.time_in_force) == kTif.end()) return invalid("invalid time_in_force");
    if (o.type == "limit" || o.type == "stop_limit") {
      if (!given("limit_price")) return invalid("limit_price is required");
      o.limit_price = number_of(body["limit_price"]);
      if (!o.limit_price || *o.limit_price <= 0) return invalid("invalid limit_price");
    }
    if (o.type == "stop" || o.type == "stop_limit") {
      if (!given("stop_price")) return invalid("stop_price is required");
      o.stop_price = number_of(body["stop_price"]);
      if (!o.stop_price || *o.stop_price <= 0) return invalid("invalid stop_price");
    }
    if (given("extended_hours")) {
      if (!body["extended_hours"].is_boolean()) return invalid("invalid extended_hours");
      o.extended_hours = body["extended_hours"].get<bool>();
    }
    if (o.extended_hours && o.type != "limit") return invalid("only type=\"limit\" is allowed for extended hours orders");
    if (o.extended_hours && o.time_in_force != "day") {
      return invalid("only time_in_force=\"day\" is allowed for extended hours orders");
    }
    if (given("client_order_id") && !body["client_order_id"].is_string()) return invalid("invalid client_order_id");
    o.client_order_id = text("client_order_id");
    if (o.client_order_id.size() > 128) return invalid("client_order_id must be no more than 128 characters");
    if (!o.client_order_id.empty() &&
        std::any_of(a_.orders.begin(), a_.orders.end(),
                    [&](const Order& x) { return x.client_order_id == o.client_order_id; })) {
      return invalid("client_order_id must be unique");
    }

    const int64_t now = clock_ns();
    o.id = uuid(a_.next_id++);
    if (o.client_order_id.empty()) o.client_order_id = uuid(a_.next_id++);
    o.created_ns = o.updated_ns = now;
    const auto held = a_.positions.find(o.symbol);
    const int64_t held_qty = held == a_.positions.end() ? 0 : held->second.qty;
    if (o.side == "buy") {
      o.position_intent = held_qty < 0 ? "buy_to_close" : "buy_to_open";
    } else {
      o.position_intent = held_qty > 0 ? "sell_to_close" : "sell_to_open";
    }
    const std::string script = std::exchange(a_.script, "");
    if (script == "reject") {
      o.status = "rejected";
      o.failed_at_ns = now;
    }
    a_.orders.push_back(o);
    const MockAnswer answer = json_answer(200, order_json(o));
    if (script == "500_after_commit") return error_answer(500, 50010000, "internal server error occurred");
    if (script == "commit_then_hang") {
      // The order exists; the answer comes after the client has given up. The lock is released
      // while waiting, so the client's retry is served meanwhile.
      const uint64_t wake = wake_;
      wake_cv_.wait_for(lock, std::chrono::milliseconds(a_.hang_ms), [&] { return wake_ != wake; });
    }
    return answer;
  }

  MockAnswer list_orders(const MockRequest& r) const {
    const std::string status = r.param("status", "open");
    if (status != "open" && status != "closed" && status != "all") return invalid("invalid status");
    size_t limit = 50;
    if (r.has_param("limit")) {
      const std::string text = r.param("limit");
      if (text.empty() || text.size() > 6 || text.find_first_not_of("0123456789") != std::string::npos) {
        return invalid("invalid limit");
      }
      limit = std::clamp<size_t>(std::stoul(text), 1, 500);  // Alpaca's default and most
    }
    std::optional<int64_t> after, until;
    if (r.has_param("after") && !(after = parse_time(r.param("after")))) return invalid("invalid after");
    if (r.has_param("until") && !(until = parse_time(r.param("until")))) return invalid("invalid until");
    const std::string direction = r.param("direction", "desc");
    if (direction != "asc" && direction != "desc") return invalid("invalid direction");
    const auto symbols = split_list(r.param("symbols"));
    const std::string side = r.param("side");

    std::vector<const Order*> picked;
    for (const Order& o : a_.orders) {
      if (status != "all" && is_open(o.status) != (status == "open")) continue;
      // after and until both exclude the instant itself, as Alpaca documents.
      if ((after && o.created_ns <= *after) || (until && o.created_ns >= *until)) continue;
      if (!symbols.empty() && std::find(symbols.begin(), symbols.end(), o.symbol) == symbols.end()) continue;
      if (!side.empty() && o.side != side) continue;
      picked.push_back(&o);
    }
    // By submission time; the clock can be set back, and equal times keep submission order.
    std::stable_sort(picked.begin(), picked.end(),
                     [](const Order* x, const Order* y) { return x->created_ns < y->created_ns; });
    if (direction == "desc") std::reverse(picked.begin(), picked.end());
    if (picked.size() > limit) picked.resize(limit);
    json list = json::array();
    for (const Order* o : picked) list.push_back(order_json(*o));
    return json_answer(200, list);
  }

  void cancel(Order& o) const {
    o.status = "canceled";
    o.canceled_at_ns = o.updated_ns = clock_ns();
  }

  MockAnswer cancel_all() const {
    const json& shape = sample("test_order_routes__test_cancel_orders__1.json").at(0);
    json list = json::array();
    for (Order& o : a_.orders) {
      if (!is_open(o.status)) continue;
      cancel(o);
      json entry = shape;
      entry["id"] = o.id;
      entry["status"] = 200;
      list.push_back(entry);
    }
    return json_answer(207, list);
  }

  // The market opens at `prices`: open orders of those symbols fill as an exchange would at one
  // print, positions and cash move by each fill (no commission: Alpaca charges none on equities).
  std::optional<MockAnswer> open_market(const std::string& text) const {
    const json body = json::parse(text, nullptr, false);
    if (!body.is_object() || !body.contains("prices") || !body["prices"].is_object()) {
      return bad_control("open needs {\"prices\": {\"SYMBOL\": price, ...}}");
    }
    std::map<std::string, double> prices, fractions;
    for (const auto& [symbol, v] : body["prices"].items()) {
      const auto price = number_of(v);
      if (!price || *price <= 0) return bad_control("price of " + symbol + " must be a positive number");
      prices[symbol] = *price;
    }
    if (body.contains("fill_fraction")) {
      if (!body["fill_fraction"].is_object()) return bad_control("fill_fraction must be an object");
      for (const auto& [symbol, v] : body["fill_fraction"].items()) {
        const auto f = number_of(v);
        if (!f || *f < 0) return bad_control("fill_fraction of " + symbol + " must be a number >= 0");
        fractions[symbol] = std::min(*f, 1.0);
      }
    }
    std::vector<std::string> reject;
    if (body.contains("reject")) {
      if (!body["reject"].is_array()) return bad_control("reject must be an array of symbols");
      for (const auto& v : body["reject"]) {
        if (!v.is_string()) return bad_control("reject must be an array of symbols");
        reject.push_back(v.get<std::string>());
      }
    }

    const int64_t now = clock_ns();
    a_.last_equity = equity();  // the last close, as far as the mock knows
    for (const auto& [symbol, price] : prices) {
      a_.lastday[symbol] = a_.prices.count(symbol) ? a_.prices[symbol] : price;
      a_.prices[symbol] = price;
    }
    for (Order& o : a_.orders) {
      if (!is_open(o.status)) continue;
      if (std::find(reject.begin(), reject.end(), o.symbol) != reject.end()) {
        o.status = "rejected";
        o.failed_at_ns = o.updated_ns = now;
        continue;
      }
      const auto it = prices.find(o.symbol);
      if (it == prices.end()) continue;
      const double price = it->second;
      if (o.status == "accepted") {  // routed to the exchange at the open
        o.status = "new";
        o.updated_ns = now;
      }
      if (o.stop_price && !o.stop_triggered) {
        o.stop_triggered = o.side == "buy" ? price >= *o.stop_price : price <= *o.stop_price;
      }
      bool marketable = !o.stop_price || o.stop_triggered;
      if (marketable && o.limit_price) marketable = o.side == "buy" ? price <= *o.limit_price : price >= *o.limit_price;
      if (marketable) {
        const int64_t left = o.qty - o.filled_qty;
        const double f = fractions.count(o.symbol) ? fractions[o.symbol] : 1.0;
        // Whole shares, at least one for any fraction above zero; the epsilon keeps 0.29 * 100 at 29.
        int64_t shares = std::min(left, static_cast<int64_t>(std::floor(left * f + 1e-9)));
        if (f > 0 && shares < 1) shares = 1;
        if (o.time_in_force == "fok" && shares < left) shares = 0;  // all or nothing
        if (shares > 0) fill(o, shares, price, now);
      }
      // These live for the open (opg) or an instant (ioc, fok): what did not fill is canceled.
      const std::string& tif = o.time_in_force;
      if (is_open(o.status) && (tif == "opg" || tif == "ioc" || tif == "fok")) {
        o.status = "canceled";
        o.canceled_at_ns = o.updated_ns = now;
      }
    }
    return std::nullopt;
  }

  void fill(Order& o, int64_t shares, double price, int64_t now) const {
    o.filled_qty += shares;
    o.filled_value += price * static_cast<double>(shares);
    o.status = o.filled_qty == o.qty ? "filled" : "partially_filled";
    o.filled_at_ns = o.updated_ns = now;
    const int64_t signed_qty = o.side == "buy" ? shares : -shares;
    a_.cash -= price * static_cast<double>(signed_qty);
    Position& pos = a_.positions[o.symbol];
    const int64_t before = pos.qty, after = before + signed_qty;
    if (before == 0 || (before > 0) == (signed_qty > 0)) {
      pos.avg_entry = (pos.avg_entry * static_cast<double>(std::abs(before)) + price * static_cast<double>(shares)) /
                      static_cast<double>(std::abs(after));
    } else if (after != 0 && (after > 0) != (before > 0)) {
      pos.avg_entry = price;  // through flat: what is left is a new position at this price
    }
    pos.qty = after;
    if (after == 0) a_.positions.erase(o.symbol);
    Fill f;
    f.id = activity_id(now, a_.next_id++);
    f.order_id = o.id;
    f.symbol = o.symbol;
    f.side = o.side;
    f.type = o.status == "filled" ? "fill" : "partial_fill";
    f.order_status = o.status;
    f.ts_ns = now;
    f.qty = shares;
    f.leaves_qty = o.qty - o.filled_qty;
    f.cum_qty = o.filled_qty;
    f.price = price;
    a_.fills.push_back(f);
  }

  double equity() const {
    double value = a_.cash;
    for (const auto& [symbol, pos] : a_.positions) value += static_cast<double>(pos.qty) * a_.prices.at(symbol);
    return value;
  }

  json order_json(const Order& o) const {
    auto ts = [](const std::optional<int64_t>& t) { return t ? json(format_ts_ns(*t)) : json(nullptr); };
    auto price = [](const std::optional<double>& p) { return p ? json(decimal(*p)) : json(nullptr); };
    json j = sample("test_order_routes__test_market_order__1.json");
    j["id"] = o.id;
    j["client_order_id"] = o.client_order_id;
    j["created_at"] = format_ts_ns(o.created_ns);
    j["updated_at"] = format_ts_ns(o.updated_ns);
    j["submitted_at"] = format_ts_ns(o.created_ns);
    j["filled_at"] = ts(o.filled_at_ns);
    j["expired_at"] = nullptr;
    j["canceled_at"] = ts(o.canceled_at_ns);
    j["failed_at"] = ts(o.failed_at_ns);
    j["replaced_at"] = nullptr;
    j["replaced_by"] = nullptr;
    j["replaces"] = nullptr;
    j["asset_id"] = asset_id(o.symbol);
    j["symbol"] = o.symbol;
    j["asset_class"] = "us_equity";
    j["notional"] = nullptr;
    j["qty"] = std::to_string(o.qty);
    j["filled_qty"] = std::to_string(o.filled_qty);
    j["filled_avg_price"] =
        o.filled_qty > 0 ? json(decimal(o.filled_value / static_cast<double>(o.filled_qty))) : json(nullptr);
    j["order_class"] = "simple";
    j["order_type"] = o.type;
    j["type"] = o.type;
    j["side"] = o.side;
    j["time_in_force"] = o.time_in_force;
    j["limit_price"] = price(o.limit_price);
    j["stop_price"] = price(o.stop_price);
    j["status"] = o.status;
    j["extended_hours"] = o.extended_hours;
    j["legs"] = nullptr;
    j["trail_percent"] = nullptr;
    j["trail_price"] = nullptr;
    j["hwm"] = nullptr;
    j["position_intent"] = o.position_intent;
    j["commission"] = "0";
    return j;
  }

  // Priced at the last open's price, against the one before it for the day's change. "exchange"
  // keeps the recording's: the mock knows no listings.
  json position_json(const std::string& symbol, const Position& pos) const {
    json j = sample("test_position_routes__test_get_all_positions__1.json").at(0);
    const double q = static_cast<double>(pos.qty);
    const double price = a_.prices.at(symbol);
    const double before = a_.lastday.count(symbol) ? a_.lastday.at(symbol) : price;
    const double value = q * price, cost = q * pos.avg_entry, day_pl = q * (price - before);
    j["asset_id"] = asset_id(symbol);
    j["symbol"] = symbol;
    j["asset_class"] = "us_equity";
    j["qty"] = std::to_string(pos.qty);
    j["side"] = pos.qty > 0 ? "long" : "short";
    // Written both at the top and in "usd", as the recording carries them.
    const std::vector<std::pair<const char*, double>> money = {
        {"avg_entry_price", pos.avg_entry},
        {"market_value", value},
        {"cost_basis", cost},
        {"unrealized_pl", value - cost},
        {"unrealized_plpc", (value - cost) / std::abs(cost)},
        {"unrealized_intraday_pl", day_pl},
        {"unrealized_intraday_plpc", day_pl / std::abs(q * before)},
        {"current_price", price},
        {"lastday_price", before},
        {"change_today", (price - before) / before}};
    for (const auto& [key, x] : money) {
      j[key] = decimal(x);
      j["usd"][key] = decimal(x);
    }
    return j;
  }

  // A cash account in effect: no margin, buying power is the cash.
  json account_json() const {
    double long_value = 0, short_value = 0;
    for (const auto& [symbol, pos] : a_.positions) {
      (pos.qty > 0 ? long_value : short_value) += static_cast<double>(pos.qty) * a_.prices.at(symbol);
    }
    const std::string cash = decimal(a_.cash), equity = decimal(a_.cash + long_value + short_value);
    json j = sample("test_account_routes__test_get_account__1.json");
    j["account_blocked"] = false;
    j["accrued_fees"] = "0";
    j["account_number"] = "PA0000MOCK01";
    j["buying_power"] = cash;
    j["cash"] = cash;
    j["created_at"] = format_ts_ns(a_.created_ns);
    j["currency"] = "USD";
    j["daytrade_count"] = 0;
    j["daytrading_buying_power"] = "0";
    j["equity"] = equity;
    j["id"] = kAccountId;
    j["initial_margin"] = "0";
    j["last_equity"] = decimal(a_.last_equity);
    j["last_maintenance_margin"] = "0";
    j["non_marginable_buying_power"] = cash;
    j["long_market_value"] = decimal(long_value);
    j["maintenance_margin"] = "0";
    j["multiplier"] = "1";
    j["pattern_day_trader"] = false;
    j["portfolio_value"] = equity;
    j["regt_buying_power"] = cash;
    j["short_market_value"] = decimal(short_value);
    j["shorting_enabled"] = true;
    j["sma"] = "0";
    j["status"] = "ACTIVE";
    j["trade_suspended_by_user"] = false;
    j["trading_blocked"] = false;
    j["transfers_blocked"] = false;
    j["options_buying_power"] = cash;
    j["options_approved_level"] = "0";
    j["options_trading_level"] = "0";
    return j;
  }

  // No recorded activity is in vendor-samples: the fields are those of Alpaca's documented trade
  // activity, oldest or newest first by `direction` (Alpaca's default: desc).
  MockAnswer activities(const MockRequest& r) const {
    std::optional<int64_t> after, until;
    if (r.has_param("after") && !(after = parse_time(r.param("after")))) return invalid("invalid after");
    if (r.has_param("until") && !(until = parse_time(r.param("until")))) return invalid("invalid until");
    std::optional<Date> date;
    if (r.has_param("date") && !(date = Date::try_parse(r.param("date").substr(0, 10)))) return invalid("invalid date");
    const std::string direction = r.param("direction", "desc");
    if (direction != "asc" && direction != "desc") return invalid("invalid direction");
    const int page_size = std::clamp(std::atoi(r.param("page_size", "100").c_str()), 1, 100);

    std::vector<const Fill*> picked;
    for (const Fill& f : a_.fills) {
      if ((after && f.ts_ns <= *after) || (until && f.ts_ns >= *until)) continue;
      if (date && ny_date_of(f.ts_ns) != *date) continue;
      picked.push_back(&f);
    }
    std::stable_sort(picked.begin(), picked.end(), [](const Fill* x, const Fill* y) { return x->ts_ns < y->ts_ns; });
    if (direction == "desc") std::reverse(picked.begin(), picked.end());
    size_t start = 0;
    if (const std::string token = r.param("page_token"); !token.empty()) {
      auto it = std::find_if(picked.begin(), picked.end(), [&](const Fill* f) { return f->id == token; });
      if (it == picked.end()) return invalid("invalid page_token");
      start = static_cast<size_t>(it - picked.begin()) + 1;
    }
    json list = json::array();
    for (size_t i = start; i < picked.size() && i < start + static_cast<size_t>(page_size); ++i) {
      const Fill& f = *picked[i];
      list.push_back({{"id", f.id},
                      {"activity_type", "FILL"},
                      {"transaction_time", format_ts_ns(f.ts_ns)},
                      {"type", f.type},
                      {"price", decimal(f.price)},
                      {"qty", std::to_string(f.qty)},
                      {"side", f.side},
                      {"symbol", f.symbol},
                      {"leaves_qty", std::to_string(f.leaves_qty)},
                      {"order_id", f.order_id},
                      {"cum_qty", std::to_string(f.cum_qty)},
                      {"order_status", f.order_status}});
    }
    return json_answer(200, list);
  }

  // No recorded clock is in vendor-samples: the shape is Alpaca's documented one.
  MockAnswer clock() const {
    const auto& cal = TradingCalendar::nyse();
    const int64_t now = clock_ns();
    const Date today = ny_date_of(now);
    const bool session = cal.is_session(today);
    const bool before_open = session && now < cal.session_open_ts_ns(today);
    const bool before_close = session && now < cal.session_close_ts_ns(today);
    const Date next = cal.next_session(today);
    return json_answer(
        200, json{{"timestamp", ny_rfc3339(now)},
                  {"is_open", session && !before_open && before_close},
                  {"next_open", ny_rfc3339(cal.session_open_ts_ns(before_open ? today : next))},
                  {"next_close", ny_rfc3339(cal.session_close_ts_ns(before_close ? today : next))}});
  }

  // Without start/end Alpaca serves every market day from 1970 to 2029; the mock's calendar starts
  // where TradingCalendar's rules are known.
  MockAnswer calendar(const MockRequest& r) const {
    const auto& cal = TradingCalendar::nyse();
    auto day = [&](const char* key, Date fallback) -> std::optional<Date> {
      return r.has_param(key) ? Date::try_parse(r.param(key).substr(0, 10)) : std::optional<Date>(fallback);
    };
    auto start = day("start", Date::from_ymd(1970, 1, 1));
    auto end = day("end", Date::from_ymd(2029, 12, 31));
    if (!start) return invalid("invalid start");
    if (!end) return invalid("invalid end");
    start = std::max(*start, cal.first_date());
    end = std::min(*end, cal.last_date() - 10);  // room to find the settlement date
    json list = json::array();
    if (*start <= *end) {
      for (Date d : cal.sessions(*start, *end)) {
        list.push_back({{"date", d.to_string()},
                        {"open", "09:30"},
                        {"close", cal.is_early_close(d) ? "13:00" : "16:00"},
                        {"session_open", "0400"},
                        {"session_close", "2000"},
                        {"settlement_date", settlement_date(d).to_string()}});
      }
    }
    return json_answer(200, list);
  }

  mutable std::mutex mutex_;
  mutable std::condition_variable wake_cv_;
  mutable uint64_t wake_ = 0;  // bumped by /_mock/reset to end a commit_then_hang wait
  mutable std::map<std::string, json> samples_;
  mutable std::optional<int64_t> now_ns_;  // the mock's clock when set; else the real time
  mutable Account a_;
};

}  // namespace

std::unique_ptr<VendorRoutes> make_alpaca_trading_routes() { return std::make_unique<Routes>(); }

}  // namespace trib::testing

#include "trib/broker/alpaca_broker.hpp"

#include <cmath>
#include <cstdlib>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "trib/core/error.hpp"

namespace trib::broker {

using namespace trading;  // the engine's value types (orders, costs, risk) throughout
namespace {

using catalog::OrderStatus;
using nlohmann::json;

// Alpaca sends decimals as strings ("150.25"), sometimes as numbers.
double number(const json& j, const char* key) {
  if (!j.contains(key) || j[key].is_null()) return 0;
  if (j[key].is_number()) return j[key].get<double>();
  const std::string text = j[key].get<std::string>();
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (end == text.c_str()) throw Error::DataLoss(fmt::format("alpaca: {} is not a number: '{}'", key, text));
  return v;
}

std::string text(const json& j, const char* key) {
  return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : std::string();
}

// RFC 3339 with Z or an offset (the clock answers in New York time: 2024-03-01T09:30:00-05:00).
int64_t rfc3339_ns(const std::string& t) {
  if (t.empty()) return 0;
  size_t end = t.size();
  int64_t offset_ns = 0;
  if (t.back() != 'Z' && t.size() > 6 && (t[t.size() - 6] == '+' || t[t.size() - 6] == '-') && t[t.size() - 3] == ':') {
    const int sign = t[t.size() - 6] == '+' ? 1 : -1;
    const int hh = std::atoi(t.substr(t.size() - 5, 2).c_str()), mm = std::atoi(t.substr(t.size() - 2, 2).c_str());
    offset_ns = sign * (int64_t{hh} * 3600 + mm * 60) * 1'000'000'000;
    end = t.size() - 6;
  }
  return parse_ts_ns(std::string_view(t).substr(0, end), "alpaca timestamp") - offset_ns;
}

OrderStatus status_of(const std::string& s) {
  if (s == "filled") return OrderStatus::kFilled;
  if (s == "partially_filled") return OrderStatus::kPartiallyFilled;
  if (s == "canceled" || s == "pending_cancel" || s == "replaced" || s == "pending_replace") return OrderStatus::kCancelled;
  if (s == "expired" || s == "done_for_day") return OrderStatus::kExpired;
  if (s == "rejected" || s == "stopped" || s == "suspended") return OrderStatus::kRejected;
  return OrderStatus::kAccepted;  // new, accepted, pending_new, accepted_for_bidding, calculated, held
}

// Alpaca's error body {"code": ..., "message": "..."}: the message, else the status.
std::string message_of(const net::HttpResponse& r) {
  const json body = json::parse(r.body, nullptr, false);
  if (body.is_object() && body.contains("message") && body["message"].is_string()) return body["message"].get<std::string>();
  return fmt::format("HTTP {}", r.status);
}

std::string url_encode(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

class Alpaca final : public AlpacaBroker {
 public:
  Alpaca(AlpacaConfig config, std::unique_ptr<net::HttpClient> http, net::Sleeper* sleeper)
      : config_(std::move(config)), http_(std::move(http)), sleeper_(sleeper != nullptr ? sleeper : &real_sleeper_) {
    while (!config_.base_url.empty() && config_.base_url.back() == '/') config_.base_url.pop_back();
    if (config_.key_id.empty() || config_.secret_key.empty()) {
      throw Error::InvalidInput("alpaca: set APCA_API_KEY_ID and APCA_API_SECRET_KEY (the keys are never read from trib.toml)");
    }
    if (!http_) http_ = net::make_curl_client();
  }

  std::string name() const override { return "alpaca"; }

  BrokerAccount account() override {
    const json a = get("/v2/account");
    return {number(a, "cash"), number(a, "equity"), number(a, "buying_power")};
  }

  std::vector<BrokerPosition> positions() override {
    std::vector<BrokerPosition> out;
    for (const auto& p : get("/v2/positions")) out.push_back({text(p, "symbol"), number(p, "qty"), number(p, "avg_entry_price")});
    return out;
  }

  BrokerOrder submit(const BrokerOrderRequest& o) override {
    json body = {{"symbol", o.symbol},
                 {"qty", fmt::format("{}", o.qty)},
                 {"side", o.side > 0 ? "buy" : "sell"},
                 {"type", std::string(to_string(o.type))},
                 {"time_in_force", "day"},
                 {"client_order_id", o.client_order_id}};
    if (o.type == OrderType::kLimit) body["limit_price"] = fmt::format("{}", o.limit_price);
    if (o.type == OrderType::kStop) body["stop_price"] = fmt::format("{}", o.stop_price);
    net::HttpRequest request = make_request("POST", "/v2/orders");
    request.body = body.dump();
    request.set_header("Content-Type", "application/json");
    std::mt19937_64 rng(config_.retry.jitter_seed.value_or(std::random_device{}()));
    std::string last;
    for (int attempt = 1; attempt <= std::max(1, config_.retry.max_attempts); ++attempt) {
      std::optional<net::HttpResponse> response;
      try {
        response = http_->send(request);
      } catch (const Error& e) {
        if (e.category() != ErrorCategory::kRetryable && e.category() != ErrorCategory::kRateLimited) throw;
        last = e.what();
      }
      if (response && response->ok()) return order_of(json::parse(response->body));
      if (response) {
        const auto category = net::classify(*response);
        if (category != ErrorCategory::kRetryable && category != ErrorCategory::kRateLimited) {
          // A duplicate id means the first attempt got through: that order is the answer.
          if (message_of(*response).find("client_order_id must be unique") != std::string::npos) {
            if (auto first = order(o.client_order_id)) return *first;
          }
          if (response->status == 401) {
            throw Error::Permanent("alpaca: the keys were refused (401): check APCA_API_KEY_ID and APCA_API_SECRET_KEY");
          }
          if (response->status == 404) {
            throw Error::Permanent(fmt::format("alpaca: {} has no /v2/orders (404): check [broker] url", config_.base_url));
          }
          BrokerOrder rejected;
          rejected.client_order_id = o.client_order_id;
          rejected.symbol = o.symbol;
          rejected.side = o.side;
          rejected.qty = o.qty;
          rejected.status = OrderStatus::kRejected;
          rejected.reason = fmt::format("alpaca refused the order ({}): {}", response->status, message_of(*response));
          return rejected;
        }
        last = fmt::format("HTTP {}: {}", response->status, message_of(*response));
      }
      // The answer was lost or the broker was busy: did the order get there?
      if (auto first = order(o.client_order_id)) return *first;
      if (attempt < config_.retry.max_attempts) {
        int64_t wait = net::backoff_delay_ms(config_.retry, attempt, rng);
        if (response) {
          if (auto after = net::retry_after_ms(*response, sleeper_->now_unix_ms())) wait = std::min(*after, config_.retry.max_delay_ms);
        }
        sleeper_->sleep_ms(wait);
      }
    }
    throw Error::Retryable(fmt::format("alpaca: order {} not accepted after {} attempts ({}); it was not placed",
                                       o.client_order_id, config_.retry.max_attempts, last));
  }

  std::optional<BrokerOrder> order(const std::string& client_order_id) override {
    auto j = get_or_missing("/v2/orders:by_client_order_id?client_order_id=" + url_encode(client_order_id));
    if (!j) return std::nullopt;
    BrokerOrder o = order_of(*j);
    if (o.filled_qty > 0) o.fills = fills_of(text(*j, "id"), rfc3339_ns(text(*j, "submitted_at")));
    return o;
  }

  void cancel(const std::string& client_order_id) override {
    auto o = get_or_missing("/v2/orders:by_client_order_id?client_order_id=" + url_encode(client_order_id));
    if (!o) return;
    const auto r = http_->send(make_request("DELETE", "/v2/orders/" + text(*o, "id")));
    // 422: no longer cancelable (filled or done); 404: gone. Either way nothing rests there.
    if (!r.ok() && r.status != 404 && r.status != 422) {
      throw Error(net::classify(r).value_or(ErrorCategory::kPermanent),
                  fmt::format("alpaca: cancelling {} answered {}: {}", client_order_id, r.status, message_of(r)));
    }
  }

  AlpacaClock clock() override {
    const json c = get("/v2/clock");
    return {rfc3339_ns(text(c, "timestamp")), rfc3339_ns(text(c, "next_open")), rfc3339_ns(text(c, "next_close")),
            c.value("is_open", false)};
  }

  std::vector<Date> calendar(Date from, Date to) override {
    std::vector<Date> out;
    for (const auto& d : get(fmt::format("/v2/calendar?start={}&end={}", from.to_string(), to.to_string()))) {
      out.push_back(Date::parse(text(d, "date"), "alpaca calendar date"));
    }
    return out;
  }

 private:
  net::HttpRequest make_request(const std::string& method, const std::string& path) const {
    net::HttpRequest r;
    r.method = method;
    r.url = config_.base_url + path;
    r.timeout_ms = config_.timeout_ms;
    r.set_header("APCA-API-KEY-ID", config_.key_id);
    r.set_header("APCA-API-SECRET-KEY", config_.secret_key);
    r.set_header("Accept", "application/json");
    return r;
  }

  // An idempotent request, with retries.
  net::HttpResponse send(const net::HttpRequest& request) {
    try {
      return net::send_with_retry(*http_, request, config_.retry, *sleeper_);
    } catch (const Error& e) {
      throw Error(e.category(), "alpaca: " + std::string(e.what()));
    }
  }

  json get(const std::string& path) { return json::parse(send(make_request("GET", path)).body); }

  std::optional<json> get_or_missing(const std::string& path) {
    const net::HttpRequest request = make_request("GET", path);
    // 404 is an answer here (the order does not exist), not a failure to retry.
    for (int attempt = 1;; ++attempt) {
      net::HttpResponse r;
      try {
        r = http_->send(request);
      } catch (const Error& e) {
        if ((e.category() != ErrorCategory::kRetryable && e.category() != ErrorCategory::kRateLimited) ||
            attempt >= config_.retry.max_attempts) {
          throw Error(e.category(), "alpaca: " + std::string(e.what()));
        }
        sleeper_->sleep_ms(config_.retry.base_delay_ms << std::min(attempt - 1, 10));
        continue;
      }
      if (r.status == 404) return std::nullopt;
      if (r.ok()) return json::parse(r.body);
      const auto category = net::classify(r).value_or(ErrorCategory::kPermanent);
      if ((category != ErrorCategory::kRetryable && category != ErrorCategory::kRateLimited) ||
          attempt >= config_.retry.max_attempts) {
        throw Error(category, fmt::format("alpaca: GET {} answered {}: {}", path.substr(0, path.find('?')), r.status,
                                          message_of(r)));
      }
      int64_t wait = config_.retry.base_delay_ms << std::min(attempt - 1, 10);
      if (auto after = net::retry_after_ms(r, sleeper_->now_unix_ms())) wait = *after;
      sleeper_->sleep_ms(std::min(wait, config_.retry.max_delay_ms));
    }
  }

  BrokerOrder order_of(const json& j) const {
    BrokerOrder o;
    o.client_order_id = text(j, "client_order_id");
    o.broker_order_id = text(j, "id");
    o.symbol = text(j, "symbol");
    o.side = text(j, "side") == "sell" ? -1 : 1;
    o.qty = number(j, "qty");
    o.filled_qty = number(j, "filled_qty");
    o.status = status_of(text(j, "status"));
    if (o.status == OrderStatus::kRejected || o.status == OrderStatus::kCancelled || o.status == OrderStatus::kExpired) {
      o.reason = "alpaca: " + text(j, "status");
    }
    return o;
  }

  // The order's fills, oldest first, from the account's FILL activities since it was submitted
  // (paged; a second of slack for clocks that tick coarsely).
  std::vector<BrokerFill> fills_of(const std::string& broker_order_id, int64_t submitted_ns) {
    std::vector<BrokerFill> out;
    std::string token;
    const std::string after =
        submitted_ns > 1'000'000'000 ? "&after=" + url_encode(format_ts_ns(submitted_ns - 1'000'000'000)) : "";
    for (int page = 0; page < 1000; ++page) {
      std::string path = "/v2/account/activities/FILL?direction=asc&page_size=100" + after;
      if (!token.empty()) path += "&page_token=" + url_encode(token);
      const json activities = get(path);
      if (!activities.is_array() || activities.empty()) break;
      for (const auto& a : activities) {
        if (text(a, "order_id") != broker_order_id) continue;
        out.push_back({text(a, "id"), number(a, "qty"), number(a, "price"), 0.0, rfc3339_ns(text(a, "transaction_time"))});
      }
      if (activities.size() < 100) break;
      token = text(activities.back(), "id");
    }
    return out;
  }

  AlpacaConfig config_;
  std::unique_ptr<net::HttpClient> http_;
  net::RealSleeper real_sleeper_;
  net::Sleeper* sleeper_;
};

}  // namespace

AlpacaConfig AlpacaConfig::from_env(const std::string& base_url) {
  AlpacaConfig c;
  c.base_url = base_url;
  const char* key = std::getenv("APCA_API_KEY_ID");
  const char* secret = std::getenv("APCA_API_SECRET_KEY");
  if (key == nullptr || secret == nullptr || *key == '\0' || *secret == '\0') {
    throw Error::InvalidInput(
        "[broker] kind = 'alpaca' needs the environment variables APCA_API_KEY_ID and APCA_API_SECRET_KEY "
        "(your Alpaca keys; they are never read from trib.toml)");
  }
  c.key_id = key;
  c.secret_key = secret;
  return c;
}

std::unique_ptr<AlpacaBroker> make_alpaca_broker(AlpacaConfig config, std::unique_ptr<net::HttpClient> http,
                                                 net::Sleeper* sleeper) {
  return std::make_unique<Alpaca>(std::move(config), std::move(http), sleeper);
}

}  // namespace trib::broker

// Alpaca (Trading API v2, paper or live endpoint) behind the Broker interface.
//   auth       headers APCA-API-KEY-ID / APCA-API-SECRET-KEY, from the environment variables of the
//              same names (never from trib.toml, never in a log or an error message)
//   account    GET /v2/account; positions GET /v2/positions
//   submit     POST /v2/orders with our client_order_id (day orders). Idempotent: when the answer
//              is lost (a timeout, a 5xx, a 429) the order is looked up by its client id before
//              anything is sent again, and Alpaca's "client_order_id must be unique" answer is
//              resolved the same way, so a retry never doubles an order. An order Alpaca refuses
//              (422, 403: invalid, unknown asset, buying power) comes back "rejected" with its
//              message.
//   order      GET /v2/orders:by_client_order_id; its fills from GET /v2/account/activities/FILL
//              (the activity id is the fill id: a fill is recorded once)
//   cancel     DELETE /v2/orders/{id} (an order no longer cancelable is left as it is)
//   clock      GET /v2/clock; calendar GET /v2/calendar
// GETs retry on 429 (Retry-After) and 5xx with backoff; every request has a timeout.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "trib/core/time.hpp"
#include "trib/net/http_client.hpp"
#include "trib/net/retry.hpp"
#include "trib/broker/broker.hpp"

namespace trib::broker {

struct AlpacaConfig {
  std::string base_url = "https://paper-api.alpaca.markets";
  std::string key_id, secret_key;
  int64_t timeout_ms = 10'000;  // per request
  net::RetryPolicy retry;

  // The keys from APCA_API_KEY_ID and APCA_API_SECRET_KEY; Error::InvalidInput naming the
  // variables when either is unset.
  static AlpacaConfig from_env(const std::string& base_url);
};

struct AlpacaClock {
  int64_t timestamp_ns = 0, next_open_ns = 0, next_close_ns = 0;
  bool is_open = false;
};

class AlpacaBroker : public Broker {
 public:
  virtual AlpacaClock clock() = 0;
  // Trading days in [from, to] as Alpaca lists them.
  virtual std::vector<Date> calendar(Date from, Date to) = 0;
};

// `http` and `sleeper` default to libcurl and real sleeps (tests pass their own).
std::unique_ptr<AlpacaBroker> make_alpaca_broker(AlpacaConfig config, std::unique_ptr<net::HttpClient> http = nullptr,
                                                 net::Sleeper* sleeper = nullptr);

}  // namespace trib::broker

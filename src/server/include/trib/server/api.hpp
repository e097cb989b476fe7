// server: the HTTP API of `trib serve` (docs/openapi.json is its contract; tests validate every
// response against it).
//
// Read-only JSON under /api/v1 (instruments, coverage, bars, data quality, queue, backtests with
// their equity and trades, models, orders, fills, positions, trading state), /healthz, /readyz and
// /metrics (Prometheus text). Lists are paginated (`limit`, and the `next_cursor` a page returns as
// `cursor`); immutable resources (saved backtests, bars of committed partitions) carry ETags and
// answer 304 to If-None-Match; bodies are gzip-compressed when the client accepts it. Every error
// is JSON {"error": {"code", "message"}} with a 4xx/5xx status, and a bad request changes nothing.
//
// Mutating routes (POST /api/v1/update, /api/v1/trading/halt, /resume, /api/v1/queue/redrive) need
// `Authorization: Bearer <token>` with the token from the environment (TRIB_API_TOKEN); with no
// token set the server is read-only and refuses them (403).
//
// Each request takes a session (lake store + read-only catalog, and a writable catalog for the
// mutating routes) from a pool, as catalog connections belong to one thread at a time.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "trib/core/config.hpp"

namespace trib::server {

struct ApiRequest {
  std::string method = "GET";
  std::string path;                                 // decoded, without the query
  std::multimap<std::string, std::string> params;   // decoded query parameters
  std::map<std::string, std::string> headers;       // lower-case names
  std::string body;
  std::string param(const std::string& name, const std::string& fallback = "") const;
  std::string header(const std::string& name) const;
};

struct ApiResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string route;  // the route template that answered ("/api/v1/bars/{symbol}"), for metrics
};

struct ApiOptions {
  std::string token;           // bearer token for mutating routes; "" = read-only
  int max_page = 1000;         // the largest `limit` a list accepts
  int max_bar_page = 10000;    // bars per page
};

class Api {
 public:
  Api(Config config, ApiOptions options);
  ~Api();
  Api(const Api&) = delete;
  Api& operator=(const Api&) = delete;

  // Routes and answers one request. Never throws: errors become JSON error answers.
  ApiResponse handle(const ApiRequest& request);

  // What /metrics shows (also served through handle()).
  std::string metrics_text();
  // Counted by the HTTP layer (serve_api) after each answer.
  void observe(const std::string& method, const std::string& route, int status, double seconds);

  struct Session;  // one thread's backends (defined in api.cpp)

 private:
  std::unique_ptr<Session> borrow();
  void give_back(std::unique_ptr<Session> session);
  ApiResponse start_update(const ApiRequest& request);

  Config config_;
  ApiOptions options_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<Session>> idle_;
  // Metrics.
  std::map<std::tuple<std::string, std::string, int>, int64_t> requests_;  // method, route, status
  std::map<std::string, std::vector<int64_t>> latency_buckets_;           // route -> counts per bucket
  std::map<std::string, double> latency_sum_;
  std::map<std::string, int64_t> latency_count_;
  // The drain of an update started through the API (one at a time; it stops on shutdown).
  std::thread drain_;
  std::atomic<bool> draining_{false};
};

// Serves `api` on host:port (port 0: a free port) until `stop` is set, then finishes the requests
// in flight and returns (graceful shutdown). Access log: one JSON line per request on stderr
// (method, path, the query redacted, status, bytes, milliseconds; never the Authorization header).
void serve_api(Api& api, const std::string& host, int port, const std::atomic<bool>& stop,
               const std::function<void(int)>& on_listening = {});

}  // namespace trib::server

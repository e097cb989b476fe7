// The mock vendor server: one local HTTP server that speaks each REST vendor's real protocol
// (paths, query parameters, auth headers or query keys, pagination, content types) under a path
// prefix per vendor — http://127.0.0.1:PORT/<vendor>/<the vendor's own path> — so an adapter is
// tested by pointing its base_url at http://127.0.0.1:PORT/<vendor>.
//
// Each vendor's routes (tests/support/mock_vendor/<vendor>_routes.cpp) answer from the recorded
// payloads in ../shared/data/vendor-samples where the request matches a recording, and otherwise
// from a deterministic synthetic series (synthetic_daily_bars) in the vendor's own format, so a
// 500-symbol backfill has something to fetch.
//
// Faults are injected per vendor (inject): 429 with Retry-After, 500, 503, a slow answer, a body
// cut short (the connection closes before Content-Length bytes), an empty 200, an HTML error page,
// a 200 carrying the vendor's own error body, an unknown symbol in the vendor's words. A budget
// (enforce_budget) makes the server answer 429 like the vendor would when a client goes over its
// rate, and counts those requests. Every request is logged for assertions.
#pragma once

#include <httplib.h>

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "trib/core/calendar.hpp"
#include "trib/core/time.hpp"

namespace trib::testing {

enum class VendorFault {
  kNone,
  k429,            // 429 Too Many Requests with Retry-After: retry_after_s
  k500,
  k503,
  kSlow,           // answers correctly after delay_ms
  kTruncated,      // sends half the real body, then closes the connection
  kEmpty,          // 200 with an empty body
  kHtml,           // 200 text/html error page (a CDN's)
  kVendorError,    // 200 (or the vendor's status) with the vendor's own error body
  kUnknownSymbol,  // the vendor's answer for a symbol it does not know
};
VendorFault parse_vendor_fault(const std::string& text);  // "429", "500", "slow", ...

struct InjectedFault {
  VendorFault fault = VendorFault::kNone;
  int times = 1;          // how many requests it applies to (-1: all until cleared)
  int retry_after_s = 1;  // 429
  int delay_ms = 3000;    // slow
};

// A request as the mock saw it, the vendor prefix removed from the path.
struct MockRequest {
  std::string vendor;
  std::string method;
  std::string path;  // the vendor's own path, e.g. /v2/aggs/ticker/AAPL/range/1/day/...
  std::multimap<std::string, std::string> params;  // decoded query parameters
  std::multimap<std::string, std::string> headers; // names lower-case
  int64_t arrived_ns = 0;  // steady clock
  std::string body;        // a POST's JSON (the trading routes' orders and controls)

  std::string param(const std::string& name, const std::string& fallback = "") const;
  std::string header(const std::string& name) const;  // lower-case name
  bool has_param(const std::string& name) const { return params.count(name) > 0; }
};

// What a route answers.
struct MockAnswer {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

// One synthetic daily bar (deterministic in symbol and date).
struct SynthBar {
  Date date;
  double open, high, low, close, volume;
};
// NYSE sessions in [from, to] with a random walk seeded by the symbol: the same bars for the same
// (symbol, date) whatever the window asked.
std::vector<SynthBar> synthetic_daily_bars(const std::string& symbol, Date from, Date to);

// A vendor's routes. handle() returns nullopt for a path the vendor does not have (404).
class VendorRoutes {
 public:
  virtual ~VendorRoutes() = default;
  virtual std::string name() const = 0;
  // Auth check first: the vendor's own answer when the key is missing or wrong (expected key:
  // MockVendorServer::kApiKey, and kApiSecret for alpaca's second header).
  virtual std::optional<MockAnswer> check_auth(const MockRequest& request) const = 0;
  virtual std::optional<MockAnswer> handle(const MockRequest& request) const = 0;
  // The vendor's own error body (a 200 with {"Note": ...} for Alpha Vantage, its error JSON
  // with its usual status for the others).
  virtual MockAnswer vendor_error(const MockRequest& request) const = 0;
  // The vendor's answer for a symbol it does not know.
  virtual MockAnswer unknown_symbol(const MockRequest& request) const = 0;
  // The symbol a request is for ("" when none): unknown_symbol() is used for symbols in
  // MockVendorServer::unknown_symbols().
  virtual std::string symbol_of(const MockRequest& request) const = 0;
};

class MockVendorServer {
 public:
  static constexpr const char* kApiKey = "mock-key-7f3a9c2e51";
  static constexpr const char* kApiSecret = "mock-secret-0d4b8e6a";

  MockVendorServer();
  ~MockVendorServer();
  MockVendorServer(const MockVendorServer&) = delete;
  MockVendorServer& operator=(const MockVendorServer&) = delete;

  void start(int port = 0);  // 0: a free port
  void stop();
  int port() const { return port_; }
  // http://127.0.0.1:PORT/<vendor>: the base_url to give the adapter.
  std::string base_url(const std::string& vendor) const;

  void inject(const std::string& vendor, InjectedFault fault);
  void clear_faults();
  // Symbols every vendor answers as unknown (its own not-found answer).
  void add_unknown_symbol(const std::string& symbol);
  // Answer 429 (Retry-After: seconds until a token) when a vendor's requests exceed a token
  // bucket of `per_minute` with `burst` capacity; such requests are counted in over_budget().
  void enforce_budget(const std::string& vendor, double per_minute, int burst);

  std::vector<MockRequest> requests() const;  // copies of every request so far
  int request_count(const std::string& vendor = "") const;
  int over_budget() const { return over_budget_; }
  int faults_served() const { return faults_served_; }
  // The most requests of `vendor` that arrived within any `window_ms` (sliding).
  int max_requests_in_window(const std::string& vendor, int64_t window_ms) const;
  void reset_log();

  // Registers a vendor's routes (all known vendors are registered by the constructor).
  void add_routes(std::unique_ptr<VendorRoutes> routes);

 private:
  void handle(const httplib::Request& req, httplib::Response& res);
  // /_mock/inject?vendor=&fault=&times=&retry_after=&delay_ms=, /_mock/budget?vendor=&per_minute=
  // &burst=, /_mock/unknown?symbol=, /_mock/clear, /_mock/stats: for tests driving the server
  // as a process (tests/mock_vendor). Every control answer is the stats JSON.
  void control(const MockRequest& r, httplib::Response& res);
  std::optional<InjectedFault> take_fault(const std::string& vendor);
  bool over_budget_now(const std::string& vendor, int64_t now_ns, int* retry_after_s);

  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::map<std::string, std::unique_ptr<VendorRoutes>> routes_;
  mutable std::mutex mutex_;
  std::map<std::string, std::deque<InjectedFault>> faults_;
  std::vector<std::string> unknown_symbols_;
  struct Bucket {
    int64_t interval_ns = 0, tolerance_ns = 0, tat_ns = 0;
  };
  std::map<std::string, Bucket> budgets_;
  std::vector<MockRequest> log_;
  std::atomic<int> over_budget_{0};
  std::atomic<int> faults_served_{0};
};

// Path of a recorded payload: $TRIB_SHARED_DATA/vendor-samples/<relative> (TRIB_SHARED_DATA is
// set for test processes; the compiled-in default is the checkout's ../shared/data).
std::string vendor_sample_path(const std::string& relative);
std::string read_vendor_sample(const std::string& relative);

// Route factories, one per vendor file.
std::unique_ptr<VendorRoutes> make_alphavantage_routes();
std::unique_ptr<VendorRoutes> make_polygon_routes();
std::unique_ptr<VendorRoutes> make_yahoo_routes();
std::unique_ptr<VendorRoutes> make_stooq_routes();
std::unique_ptr<VendorRoutes> make_tiingo_routes();
std::unique_ptr<VendorRoutes> make_alpaca_routes();
std::unique_ptr<VendorRoutes> make_alpaca_trading_routes();
std::unique_ptr<VendorRoutes> make_fred_routes();

}  // namespace trib::testing

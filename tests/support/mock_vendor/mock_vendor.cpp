#include "mock_vendor.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace trib::testing {
namespace {

int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

uint64_t fnv1a(const std::string& s) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

// splitmix64 step: a well-mixed value per (symbol, day).
uint64_t mix(uint64_t z) {
  z += 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

double unit(uint64_t z) { return static_cast<double>(z >> 11) * 0x1.0p-53; }

const char* kHtmlPage =
    "<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>\n"
    "<body><h1>502 Bad Gateway</h1><p>The upstream server is temporarily unavailable.</p>"
    "<hr><center>cloudfront</center></body></html>\n";

}  // namespace

VendorFault parse_vendor_fault(const std::string& text) {
  if (text == "429") return VendorFault::k429;
  if (text == "500") return VendorFault::k500;
  if (text == "503") return VendorFault::k503;
  if (text == "slow") return VendorFault::kSlow;
  if (text == "truncated") return VendorFault::kTruncated;
  if (text == "empty") return VendorFault::kEmpty;
  if (text == "html") return VendorFault::kHtml;
  if (text == "vendor_error") return VendorFault::kVendorError;
  if (text == "unknown_symbol") return VendorFault::kUnknownSymbol;
  if (text == "none") return VendorFault::kNone;
  throw std::invalid_argument("unknown fault '" + text +
                              "' (429 500 503 slow truncated empty html vendor_error unknown_symbol)");
}

std::string MockRequest::param(const std::string& name, const std::string& fallback) const {
  auto it = params.find(name);
  return it == params.end() ? fallback : it->second;
}

std::string MockRequest::header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? std::string() : it->second;
}

std::vector<SynthBar> synthetic_daily_bars(const std::string& symbol, Date from, Date to) {
  std::vector<SynthBar> out;
  const auto& cal = TradingCalendar::nyse();
  const uint64_t seed = fnv1a(symbol);
  // A price level per symbol, then a bounded walk: each day's close is a pure function of
  // (symbol, date) — 20 + 180 * a slow sine plus noise — so any window gives the same bars.
  const double level = 20.0 + 180.0 * unit(mix(seed));
  for (Date d = from; d <= to; d = d + 1) {
    if (!cal.is_session(d)) continue;
    const int64_t day = d.days_since_epoch();
    const uint64_t r = mix(seed ^ static_cast<uint64_t>(day) * 0x2545F4914F6CDD1DULL);
    const double phase = static_cast<double>(day) / 90.0 + unit(mix(seed + 1)) * 6.28;
    const double close = std::round(level * (1.0 + 0.25 * std::sin(phase)) * (1.0 + 0.01 * (unit(r) - 0.5)) * 100.0) / 100.0;
    const double open = std::round(close * (1.0 + 0.006 * (unit(mix(r)) - 0.5)) * 100.0) / 100.0;
    const double high = std::max(open, close) + std::round(close * 0.004 * unit(mix(r + 1)) * 100.0) / 100.0;
    const double low = std::min(open, close) - std::round(close * 0.004 * unit(mix(r + 2)) * 100.0) / 100.0;
    const double volume = std::floor(100000.0 + 5000000.0 * unit(mix(r + 3)));
    out.push_back({d, open, high, low, close, volume});
  }
  return out;
}

std::string vendor_sample_path(const std::string& relative) {
  const char* env = std::getenv("TRIB_SHARED_DATA");
  std::string root = env != nullptr && *env != '\0' ? env : TRIB_MOCK_SHARED_DATA;
  return root + "/vendor-samples/" + relative;
}

std::string read_vendor_sample(const std::string& relative) {
  const std::string path = vendor_sample_path(relative);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("mock vendor: cannot read recorded payload " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

MockVendorServer::MockVendorServer() {
  add_routes(make_alphavantage_routes());
  add_routes(make_polygon_routes());
  add_routes(make_yahoo_routes());
  add_routes(make_stooq_routes());
  add_routes(make_tiingo_routes());
  add_routes(make_alpaca_routes());
  add_routes(make_alpaca_trading_routes());
  add_routes(make_fred_routes());
  server_.set_keep_alive_max_count(100000);
  server_.new_task_queue = [] { return new httplib::ThreadPool(16); };
  server_.Get(".*", [this](const httplib::Request& req, httplib::Response& res) { handle(req, res); });
  // The trading routes take orders (POST) and cancel them (DELETE).
  server_.Post(".*", [this](const httplib::Request& req, httplib::Response& res) { handle(req, res); });
  server_.Delete(".*", [this](const httplib::Request& req, httplib::Response& res) { handle(req, res); });
}

MockVendorServer::~MockVendorServer() { stop(); }

void MockVendorServer::add_routes(std::unique_ptr<VendorRoutes> routes) {
  if (!routes) return;
  const std::string name = routes->name();
  routes_[name] = std::move(routes);
}

void MockVendorServer::start(int port) {
  if (port == 0) {
    port_ = server_.bind_to_any_port("127.0.0.1");
  } else {
    if (!server_.bind_to_port("127.0.0.1", port)) throw std::runtime_error("mock vendor: port in use");
    port_ = port;
  }
  if (port_ <= 0) throw std::runtime_error("mock vendor: cannot bind");
  thread_ = std::thread([this] { server_.listen_after_bind(); });
  for (int i = 0; i < 500 && !server_.is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

void MockVendorServer::stop() {
  if (thread_.joinable()) {
    server_.stop();
    thread_.join();
  }
}

std::string MockVendorServer::base_url(const std::string& vendor) const {
  return "http://127.0.0.1:" + std::to_string(port_) + "/" + vendor;
}

void MockVendorServer::inject(const std::string& vendor, InjectedFault fault) {
  std::lock_guard lock(mutex_);
  faults_[vendor].push_back(fault);
}

void MockVendorServer::clear_faults() {
  std::lock_guard lock(mutex_);
  faults_.clear();
}

void MockVendorServer::add_unknown_symbol(const std::string& symbol) {
  std::lock_guard lock(mutex_);
  unknown_symbols_.push_back(symbol);
}

void MockVendorServer::enforce_budget(const std::string& vendor, double per_minute, int burst) {
  std::lock_guard lock(mutex_);
  Bucket b;
  b.interval_ns = static_cast<int64_t>(60e9 / per_minute);
  b.tolerance_ns = static_cast<int64_t>(std::max(0, burst - 1)) * b.interval_ns;
  b.tat_ns = 0;
  budgets_[vendor] = b;
}

std::vector<MockRequest> MockVendorServer::requests() const {
  std::lock_guard lock(mutex_);
  return log_;
}

int MockVendorServer::request_count(const std::string& vendor) const {
  std::lock_guard lock(mutex_);
  if (vendor.empty()) return static_cast<int>(log_.size());
  return static_cast<int>(std::count_if(log_.begin(), log_.end(),
                                        [&](const MockRequest& r) { return r.vendor == vendor; }));
}

int MockVendorServer::max_requests_in_window(const std::string& vendor, int64_t window_ms) const {
  std::vector<int64_t> times;
  {
    std::lock_guard lock(mutex_);
    for (const auto& r : log_) {
      if (r.vendor == vendor) times.push_back(r.arrived_ns);
    }
  }
  std::sort(times.begin(), times.end());
  int best = 0;
  size_t lo = 0;
  for (size_t hi = 0; hi < times.size(); ++hi) {
    while (times[hi] - times[lo] >= window_ms * 1'000'000) ++lo;
    best = std::max(best, static_cast<int>(hi - lo + 1));
  }
  return best;
}

void MockVendorServer::reset_log() {
  std::lock_guard lock(mutex_);
  log_.clear();
}

std::optional<InjectedFault> MockVendorServer::take_fault(const std::string& vendor) {
  std::lock_guard lock(mutex_);
  auto it = faults_.find(vendor);
  if (it == faults_.end() || it->second.empty()) return std::nullopt;
  InjectedFault f = it->second.front();
  if (f.times > 0 && --it->second.front().times == 0) it->second.pop_front();
  return f;
}

bool MockVendorServer::over_budget_now(const std::string& vendor, int64_t /*arrived_ns*/, int* retry_after_s) {
  std::lock_guard lock(mutex_);
  auto it = budgets_.find(vendor);
  if (it == budgets_.end()) return false;
  // The bucket's clock is read under the lock, so requests are metered in the order they are
  // metered: a handler thread descheduled between accepting a request and reaching this point
  // must not count as an earlier arrival after a later one took its token.
  const int64_t now_ns = steady_ns();
  Bucket& b = it->second;
  const int64_t tat = std::max(b.tat_ns, now_ns);
  if (tat - now_ns > b.tolerance_ns) {
    const int64_t wait_ns = tat - b.tolerance_ns - now_ns;
    *retry_after_s = static_cast<int>((wait_ns + 999'999'999) / 1'000'000'000);
    return true;
  }
  b.tat_ns = tat + b.interval_ns;
  return false;
}

void MockVendorServer::control(const MockRequest& r, httplib::Response& res) {
  try {
    if (r.path == "/inject") {
      InjectedFault f;
      f.fault = parse_vendor_fault(r.param("fault"));
      f.times = std::stoi(r.param("times", "1"));
      f.retry_after_s = std::stoi(r.param("retry_after", "1"));
      f.delay_ms = std::stoi(r.param("delay_ms", "3000"));
      inject(r.param("vendor"), f);
    } else if (r.path == "/budget") {
      enforce_budget(r.param("vendor"), std::stod(r.param("per_minute")), std::stoi(r.param("burst", "1")));
    } else if (r.path == "/unknown") {
      add_unknown_symbol(r.param("symbol"));
    } else if (r.path == "/clear") {
      clear_faults();
      reset_log();
    } else if (r.path != "/stats") {
      res.status = 404;
      res.set_content("unknown control path " + r.path, "text/plain");
      return;
    }
    std::string json = "{\"over_budget\":" + std::to_string(over_budget_.load()) +
                       ",\"faults_served\":" + std::to_string(faults_served_.load()) + ",\"vendors\":{";
    bool first = true;
    for (const auto& [name, _] : routes_) {
      json += (first ? "\"" : ",\"") + name + "\":{\"requests\":" + std::to_string(request_count(name)) +
              ",\"max_per_minute\":" + std::to_string(max_requests_in_window(name, 60'000)) + "}";
      first = false;
    }
    json += "}}";
    res.set_content(json, "application/json");
  } catch (const std::exception& e) {
    res.status = 400;
    res.set_content(std::string("mock control: ") + e.what(), "text/plain");
  }
}

void MockVendorServer::handle(const httplib::Request& req, httplib::Response& res) {
  MockRequest r;
  r.method = req.method;
  r.body = req.body;
  r.arrived_ns = steady_ns();
  // /<vendor>/<rest>
  const std::string& path = req.path;
  const size_t slash = path.find('/', 1);
  r.vendor = path.substr(1, slash == std::string::npos ? std::string::npos : slash - 1);
  r.path = slash == std::string::npos ? "/" : path.substr(slash);
  for (const auto& [k, v] : req.params) r.params.emplace(k, v);
  for (const auto& [k, v] : req.headers) {
    std::string name = k;
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    r.headers.emplace(name, v);
  }
  if (r.vendor == "_mock") {
    control(r, res);
    return;
  }
  {
    std::lock_guard lock(mutex_);
    log_.push_back(r);
  }
  auto routes_it = routes_.find(r.vendor);
  if (routes_it == routes_.end()) {
    res.status = 404;
    res.set_content("{\"error\":\"mock vendor: no vendor '" + r.vendor + "'\"}", "application/json");
    return;
  }
  const VendorRoutes& routes = *routes_it->second;
  int retry_after_s = 0;
  if (over_budget_now(r.vendor, r.arrived_ns, &retry_after_s)) {
    ++over_budget_;
    res.status = 429;
    res.set_header("Retry-After", std::to_string(retry_after_s));
    res.set_content("{\"message\":\"too many requests\"}", "application/json");
    return;
  }
  if (auto denied = routes.check_auth(r)) {
    res.status = denied->status;
    for (const auto& [k, v] : denied->headers) res.set_header(k, v);
    res.set_content(denied->body, denied->content_type);
    return;
  }
  std::optional<InjectedFault> fault = take_fault(r.vendor);
  if (fault && fault->fault != VendorFault::kNone) ++faults_served_;
  const VendorFault kind = fault ? fault->fault : VendorFault::kNone;
  // Bodies go out as a sized content provider: cpp-httplib then sends them as they are, instead of
  // compressing them with Brotli at its slowest setting (seconds for a 10-year series) whenever
  // the client accepts br, which would make the mock, not the client, the bottleneck.
  auto send = [&](const MockAnswer& a) {
    res.status = a.status;
    for (const auto& [k, v] : a.headers) res.set_header(k, v);
    if (a.body.empty()) {
      res.set_content(a.body, a.content_type);
      return;
    }
    auto body = std::make_shared<std::string>(a.body);
    res.set_content_provider(body->size(), a.content_type,
                             [body](size_t offset, size_t length, httplib::DataSink& sink) {
                               sink.write(body->data() + offset, std::min(length, body->size() - offset));
                               return true;
                             });
  };
  switch (kind) {
    case VendorFault::k429:
      res.status = 429;
      res.set_header("Retry-After", std::to_string(fault->retry_after_s));
      res.set_content("{\"message\":\"rate limit exceeded\"}", "application/json");
      return;
    case VendorFault::k500:
      res.status = 500;
      res.set_content("{\"message\":\"internal server error\"}", "application/json");
      return;
    case VendorFault::k503:
      res.status = 503;
      res.set_content("Service Unavailable", "text/plain");
      return;
    case VendorFault::kEmpty:
      res.status = 200;
      res.set_content("", routes.handle(r).value_or(MockAnswer{}).content_type);
      return;
    case VendorFault::kHtml:
      res.status = 200;
      res.set_content(kHtmlPage, "text/html; charset=utf-8");
      return;
    case VendorFault::kVendorError:
      send(routes.vendor_error(r));
      return;
    case VendorFault::kUnknownSymbol:
      send(routes.unknown_symbol(r));
      return;
    default:
      break;
  }
  {
    const std::string symbol = routes.symbol_of(r);
    std::lock_guard lock(mutex_);
    if (!symbol.empty() &&
        std::find(unknown_symbols_.begin(), unknown_symbols_.end(), symbol) != unknown_symbols_.end()) {
      send(routes.unknown_symbol(r));
      return;
    }
  }
  std::optional<MockAnswer> answer = routes.handle(r);
  if (!answer) {
    res.status = 404;
    res.set_content("{\"error\":\"mock " + r.vendor + ": no route for " + r.path + "\"}", "application/json");
    return;
  }
  if (kind == VendorFault::kSlow) std::this_thread::sleep_for(std::chrono::milliseconds(fault->delay_ms));
  if (kind == VendorFault::kTruncated) {
    auto body = std::make_shared<std::string>(answer->body);
    res.status = answer->status;
    res.set_content_provider(body->size(), answer->content_type,
                             [body](size_t offset, size_t, httplib::DataSink& sink) {
                               if (offset == 0) sink.write(body->data(), body->size() / 2);
                               return false;  // close the connection short of Content-Length
                             });
    return;
  }
  send(*answer);
}

}  // namespace trib::testing

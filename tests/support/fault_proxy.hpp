// A fault-injecting HTTP proxy for tests: forwards every request to a target server (Azurite)
// and makes a share of them fail the ways a cloud service and its network do:
//   - `fail_before`: answered 503, 500 or 429 (with Retry-After: 0) without being forwarded;
//   - `lose_answer`: forwarded (the service applies it) and then answered 500 instead of the
//     real answer, as when a connection drops after the request arrived: the client must not
//     count on knowing whether its request took effect.
// The decisions come from a seeded RNG, so a failing run can be replayed. Counters say what was
// injected. Register nothing: start(target_host, target_port), then point the client at url().
#pragma once

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>

namespace trib::testing {

class FaultProxy {
 public:
  struct Stats {
    std::atomic<int> forwarded{0}, failed_before{0}, lost_answers{0};
  };

  FaultProxy(double fail_before, double lose_answer, uint64_t seed = 1)
      : fail_before_(fail_before), lose_answer_(lose_answer), rng_(seed) {
    server_.set_keep_alive_timeout(1);
  }
  ~FaultProxy() { stop(); }
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  void start(const std::string& target_host, int target_port) {
    target_host_ = target_host;
    target_port_ = target_port;
    auto handler = [this](const httplib::Request& req, httplib::Response& res) { handle(req, res); };
    // GET handlers answer HEAD too (cpp-httplib).
    server_.Get(".*", handler);
    server_.Put(".*", handler);
    server_.Post(".*", handler);
    server_.Delete(".*", handler);
    server_.Options(".*", handler);
    server_.Patch(".*", handler);
    port_ = server_.bind_to_any_port("127.0.0.1");
    if (port_ <= 0) throw std::runtime_error("fault proxy: could not bind 127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    for (int i = 0; i < 500 && !server_.is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (!server_.is_running()) throw std::runtime_error("fault proxy did not start");
  }

  void stop() {
    if (thread_.joinable()) {
      server_.stop();
      thread_.join();
    }
  }

  // Change the fault rates while running (0 and 0: a clean pass-through).
  void set_rates(double fail_before, double lose_answer) {
    std::lock_guard lock(mu_);
    fail_before_ = fail_before;
    lose_answer_ = lose_answer;
  }

  int port() const { return port_; }
  const Stats& stats() const { return stats_; }

 private:
  enum class Fault { kNone, kBefore, kLose };

  Fault decide(int& status) {
    std::lock_guard lock(mu_);
    std::uniform_real_distribution<double> u(0, 1);
    const double x = u(rng_);
    static constexpr int kStatuses[] = {503, 500, 429};
    status = kStatuses[rng_() % 3];
    if (x < fail_before_) return Fault::kBefore;
    if (x < fail_before_ + lose_answer_) return Fault::kLose;
    return Fault::kNone;
  }

  void handle(const httplib::Request& req, httplib::Response& res) {
    int status = 503;
    const Fault fault = decide(status);
    if (fault == Fault::kBefore) {
      ++stats_.failed_before;
      res.status = status;
      res.set_header("Retry-After", "0");
      res.set_content("<?xml version=\"1.0\"?><Error><Code>ServerBusy</Code><Message>injected</Message></Error>",
                      "application/xml");
      return;
    }
    httplib::Client client(target_host_, target_port_);
    client.set_read_timeout(60, 0);
    httplib::Headers headers;
    for (const auto& [name, value] : req.headers) {
      if (name == "Host" || name == "Content-Length" || name == "REMOTE_ADDR" || name == "REMOTE_PORT" ||
          name == "LOCAL_ADDR" || name == "LOCAL_PORT" || name == "Connection") {
        continue;
      }
      headers.emplace(name, value);
    }
    std::string target = req.target;  // path and query exactly as the client sent them
    const std::string content_type = req.get_header_value("Content-Type");
    auto send = [&]() -> httplib::Result {
      if (req.method == "GET") return client.Get(target, headers);
      if (req.method == "HEAD") return client.Head(target, headers);
      if (req.method == "DELETE") return client.Delete(target, headers, req.body, content_type);
      if (req.method == "PUT") return client.Put(target, headers, req.body, content_type);
      if (req.method == "POST") return client.Post(target, headers, req.body, content_type);
      if (req.method == "OPTIONS") return client.Options(target, headers);
      return client.Patch(target, headers, req.body, content_type);
    };
    httplib::Result result = send();
    ++stats_.forwarded;
    if (!result) {
      res.status = 502;
      return;
    }
    if (fault == Fault::kLose) {
      ++stats_.lost_answers;
      res.status = 500;
      res.set_content("<?xml version=\"1.0\"?><Error><Code>InternalError</Code><Message>answer lost (injected)</Message></Error>",
                      "application/xml");
      return;
    }
    res.status = result->status;
    for (const auto& [name, value] : result->headers) {
      if (name == "Content-Length" || name == "Transfer-Encoding" || name == "Connection" || name == "Keep-Alive") continue;
      res.headers.emplace(name, value);
    }
    const std::string type = result->get_header_value("Content-Type");
    if (req.method == "HEAD") {
      // No body; keep the real Content-Length the service announced.
      if (result->has_header("Content-Length")) res.set_header("Content-Length", result->get_header_value("Content-Length"));
      return;
    }
    res.body = result->body;
    if (!type.empty()) res.set_header("Content-Type", type);
  }

  double fail_before_, lose_answer_;
  std::mt19937_64 rng_;
  std::mutex mu_;
  httplib::Server server_;
  std::string target_host_;
  int target_port_ = 0;
  int port_ = 0;
  std::thread thread_;
  Stats stats_;
};

}  // namespace trib::testing

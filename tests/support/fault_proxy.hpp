// A fault-injecting HTTP proxy for tests: forwards every request to a target server (Azurite)
// and makes a share of them fail the ways a cloud service and its network do:
//   - `fail_before`: answered 503, 500 or 429 (with Retry-After: 0) without being forwarded;
//   - `lose_answer`: forwarded (the service applies it) and then answered 500 instead of the
//     real answer, as when a connection drops after the request arrived: the client must not
//     count on knowing whether its request took effect;
//   - `drop`: the client's connection is closed without a byte of answer, half the time before
//     the request is forwarded (nothing happened) and half the time after (the service applied
//     it): the client sees a transport error ("empty reply"), not a status — or, on a
//     connection libcurl reused, does not see it: libcurl sends the request again by itself.
// The decisions come from a seeded RNG, so a failing run can be replayed; inject_once() fails one
// chosen request on purpose. Counters say what was injected. Register nothing:
// start(target_host, target_port), then point the client at http://127.0.0.1:<port()>.
// tests/support/fault_proxy_main.cpp runs one as a process of its own (tests/fault_proxy).
//
// Dropping closes the accepted socket itself (shutdown(2) of the descriptor whose peer is the
// requesting client; cpp-httplib does not hand handlers their socket): what cpp-httplib then
// writes fails with EPIPE, and SIGPIPE is blocked on the proxy's threads, never process-wide.
#pragma once

#include <dirent.h>
#include <httplib.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace trib::testing {

class FaultProxy {
 public:
  struct Stats {
    std::atomic<int> forwarded{0}, failed_before{0}, lost_answers{0};
    // Connections closed without an answer, before forwarding / after the service applied it.
    std::atomic<int> dropped_before{0}, dropped_after{0};
    // The target could not be reached or broke off its answer: answered 502 (not injected).
    std::atomic<int> upstream_errors{0};
    // Messages handed out by Get Messages answers that reached the client, and those of them
    // delivered before (DequeueCount > 1): what a queue consumer saw, whoever it was.
    std::atomic<int> deliveries{0}, redeliveries{0};
  };

  FaultProxy(double fail_before, double lose_answer, uint64_t seed = 1, double drop = 0)
      : fail_before_(fail_before), lose_answer_(lose_answer), drop_(drop), rng_(seed) {
    server_.set_keep_alive_timeout(1);
    server_.set_tcp_nodelay(true);  // else a small answer may wait for a delayed ACK (40 ms)
    // Clients keep connections open (each one holds a server thread while it waits); the default
    // pool of 8 would queue the requests of a few busy clients behind idle connections.
    server_.new_task_queue = [] { return new httplib::ThreadPool(64); };
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
    thread_ = std::thread([this] {
      // Writing to a connection we dropped raises SIGPIPE in the writing thread: block it here,
      // and the server's pool threads, started from this one, inherit the mask.
      sigset_t pipe;
      sigemptyset(&pipe);
      sigaddset(&pipe, SIGPIPE);
      pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
      server_.listen_after_bind();
    });
    for (int i = 0; i < 500 && !server_.is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (!server_.is_running()) throw std::runtime_error("fault proxy did not start");
  }

  void stop() {
    if (thread_.joinable()) {
      server_.stop();
      thread_.join();
    }
  }

  // Change the fault rates while running (0 and 0: a clean pass-through; drop defaults to 0).
  void set_rates(double fail_before, double lose_answer, double drop = 0) {
    std::lock_guard lock(mu_);
    fail_before_ = fail_before;
    lose_answer_ = lose_answer;
    drop_ = drop;
  }

  // One fault on purpose, for focused tests: the next request `matches` accepts gets `fault`
  // (kNone: none), whatever the rates say. Once; the rates decide for every other request.
  enum class Fault { kNone, kBefore, kLose, kDropBefore, kDropAfter };
  void inject_once(Fault fault, std::function<bool(const httplib::Request&)> matches) {
    std::lock_guard lock(mu_);
    injections_.push_back({fault, std::move(matches)});
  }

  int port() const { return port_; }
  const Stats& stats() const { return stats_; }

 private:
  Fault decide(const httplib::Request& req, int& status) {
    std::lock_guard lock(mu_);
    std::uniform_real_distribution<double> u(0, 1);
    const double x = u(rng_);
    static constexpr int kStatuses[] = {503, 500, 429};
    status = kStatuses[rng_() % 3];
    for (auto it = injections_.begin(); it != injections_.end(); ++it) {
      if (it->matches(req)) {
        const Fault fault = it->fault;
        injections_.erase(it);
        return fault;
      }
    }
    if (x < fail_before_) return Fault::kBefore;
    if (x < fail_before_ + lose_answer_) return Fault::kLose;
    if (x < fail_before_ + lose_answer_ + drop_) return (rng_() & 1) != 0 ? Fault::kDropBefore : Fault::kDropAfter;
    return Fault::kNone;
  }

  // Closes the connection `req` came on, without an answer: finds our accepted socket whose peer
  // is the client's port and shuts it down both ways (the client reads end-of-file at once),
  // counting it in `counter` first (so a client never sees a drop the counters do not show yet).
  // False if no such socket was found (then the caller answers with a status instead).
  bool drop_connection(const httplib::Request& req, std::atomic<int>& counter) const {
    DIR* dir = opendir("/proc/self/fd");
    if (dir == nullptr) return false;
    bool dropped = false;
    while (const dirent* entry = readdir(dir)) {
      char* end = nullptr;
      const long fd = std::strtol(entry->d_name, &end, 10);
      if (end == entry->d_name || *end != '\0' || fd == dirfd(dir)) continue;
      struct stat st{};
      if (fstat(static_cast<int>(fd), &st) != 0 || !S_ISSOCK(st.st_mode)) continue;
      sockaddr_storage local{}, peer{};
      socklen_t local_len = sizeof(local), peer_len = sizeof(peer);
      if (getsockname(static_cast<int>(fd), reinterpret_cast<sockaddr*>(&local), &local_len) != 0) continue;
      if (getpeername(static_cast<int>(fd), reinterpret_cast<sockaddr*>(&peer), &peer_len) != 0) continue;
      if (local.ss_family != AF_INET || peer.ss_family != AF_INET) continue;
      const auto* l = reinterpret_cast<const sockaddr_in*>(&local);
      const auto* p = reinterpret_cast<const sockaddr_in*>(&peer);
      if (ntohs(l->sin_port) != port_ || ntohs(p->sin_port) != req.remote_port) continue;
      ++counter;
      dropped = shutdown(static_cast<int>(fd), SHUT_RDWR) == 0;
      if (!dropped) --counter;
      break;
    }
    closedir(dir);
    return dropped;
  }

  // Keep-alive connections to the target, one per request in flight (a fresh connection per
  // request would leave tens of thousands in TIME_WAIT over a long test).
  std::unique_ptr<httplib::Client> take_client() {
    {
      std::lock_guard lock(clients_mu_);
      if (!clients_.empty()) {
        auto client = std::move(clients_.back());
        clients_.pop_back();
        return client;
      }
    }
    auto client = std::make_unique<httplib::Client>(target_host_, target_port_);
    client->set_keep_alive(true);
    client->set_tcp_nodelay(true);
    client->set_read_timeout(60, 0);
    return client;
  }
  void give_back(std::unique_ptr<httplib::Client> client) {
    std::lock_guard lock(clients_mu_);
    clients_.push_back(std::move(client));
  }

  // "http://host/a b=c?q" -> "http://host/a%20b%3Dc?q": the path encoded as trib encodes it
  // (RFC 3986 unreserved characters and '/' kept), the query left alone.
  static std::string reencode_url_path(const std::string& url) {
    const size_t scheme = url.find("://");
    const size_t path = scheme == std::string::npos ? std::string::npos : url.find('/', scheme + 3);
    if (path == std::string::npos) return url;
    const size_t query = url.find('?', path);
    std::string out = url.substr(0, path);
    static constexpr char kHex[] = "0123456789ABCDEF";
    for (size_t i = path; i < std::min(query, url.size()); ++i) {
      const auto c = static_cast<unsigned char>(url[i]);
      if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '/') {
        out.push_back(static_cast<char>(c));
      } else {
        out += {'%', kHex[c >> 4], kHex[c & 0xF]};
      }
    }
    if (query != std::string::npos) out += url.substr(query);
    return out;
  }

  void answer_lost(httplib::Response& res) {
    res.status = 500;
    res.set_content("<?xml version=\"1.0\"?><Error><Code>InternalError</Code><Message>answer lost (injected)</Message></Error>",
                    "application/xml");
  }

  void handle(const httplib::Request& req, httplib::Response& res) {
    int status = 503;
    Fault fault = decide(req, status);
    if (fault == Fault::kDropBefore) {
      if (drop_connection(req, stats_.dropped_before)) return;  // what cpp-httplib writes now goes nowhere
      fault = Fault::kBefore;  // no socket found: fail it the other way
    }
    if (fault == Fault::kBefore) {
      ++stats_.failed_before;
      res.status = status;
      res.set_header("Retry-After", "0");
      res.set_content("<?xml version=\"1.0\"?><Error><Code>ServerBusy</Code><Message>injected</Message></Error>",
                      "application/xml");
      return;
    }
    std::unique_ptr<httplib::Client> client = take_client();
    httplib::Headers headers;
    // Host as the client sent it (the proxy's address): the service then takes URLs naming the
    // proxy (x-ms-copy-source) for its own. Not Accept-Encoding: the target answers uncompressed,
    // and our server compresses (or not) for the client as the client asked.
    for (const auto& [name, value] : req.headers) {
      if (name == "Content-Length" || name == "REMOTE_ADDR" || name == "REMOTE_PORT" ||
          name == "LOCAL_ADDR" || name == "LOCAL_PORT" || name == "Connection" || name == "Accept-Encoding") {
        continue;
      }
      // cpp-httplib percent-decodes header values as it parses them; the one of ours that has
      // escapes, a copy source URL, is signed as sent, so it is encoded back as we encode paths.
      headers.emplace(name, strcasecmp(name.c_str(), "x-ms-copy-source") == 0 ? reencode_url_path(value) : value);
    }
    std::string target = req.target;  // path and query exactly as the client sent them
    const std::string content_type = req.get_header_value("Content-Type");
    auto send = [&]() -> httplib::Result {
      if (req.method == "GET") return client->Get(target, headers);
      if (req.method == "HEAD") return client->Head(target, headers);
      if (req.method == "DELETE") return client->Delete(target, headers, req.body, content_type);
      if (req.method == "PUT") return client->Put(target, headers, req.body, content_type);
      if (req.method == "POST") return client->Post(target, headers, req.body, content_type);
      if (req.method == "OPTIONS") return client->Options(target, headers);
      return client->Patch(target, headers, req.body, content_type);
    };
    httplib::Result result = send();
    ++stats_.forwarded;
    if (!result) {
      ++stats_.upstream_errors;  // the connection is broken: not given back
      res.status = 502;
      return;
    }
    give_back(std::move(client));
    if (fault == Fault::kDropAfter) {
      if (drop_connection(req, stats_.dropped_after)) return;
      fault = Fault::kLose;
    }
    if (fault == Fault::kLose) {
      ++stats_.lost_answers;
      answer_lost(res);
      return;
    }
    res.status = result->status;
    for (const auto& [name, value] : result->headers) {
      if (name == "Content-Length" || name == "Transfer-Encoding" || name == "Content-Encoding" || name == "Connection" ||
          name == "Keep-Alive") {
        continue;
      }
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
    if (req.method == "GET" && result->status == 200) count_deliveries(req, res.body);
  }

  // Get Messages (not Peek): /<account>/<queue>/messages?numofmessages=...&visibilitytimeout=...
  void count_deliveries(const httplib::Request& req, const std::string& body) {
    if (!req.path.ends_with("/messages") || req.has_param("peekonly")) return;
    static constexpr std::string_view kTag = "<DequeueCount>";
    for (size_t at = body.find(kTag); at != std::string::npos; at = body.find(kTag, at + 1)) {
      ++stats_.deliveries;
      if (std::strtol(body.c_str() + at + kTag.size(), nullptr, 10) > 1) ++stats_.redeliveries;
    }
  }

  struct Injection {
    Fault fault;
    std::function<bool(const httplib::Request&)> matches;
  };

  double fail_before_, lose_answer_, drop_;
  std::vector<Injection> injections_;
  std::mt19937_64 rng_;
  std::mutex mu_;
  httplib::Server server_;
  std::string target_host_;
  int target_port_ = 0;
  int port_ = 0;
  std::thread thread_;
  std::mutex clients_mu_;
  std::vector<std::unique_ptr<httplib::Client>> clients_;
  Stats stats_;
};

}  // namespace trib::testing

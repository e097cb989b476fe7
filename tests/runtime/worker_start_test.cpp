// A worker that starts while Azure Storage fails every request (a burst longer than the storage
// client's own retries) waits the burst out and then drains, as a polling worker does; a burst
// that never ends is still reported as the transient error it is, not a hang.
// Against Azurite (the ctest fixture, "Azure" in the names) behind tests/support/fault_proxy.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <regex>
#include <string>
#include <thread>

#include "trib/core/config.hpp"
#include "trib/core/error.hpp"
#include "trib/runtime/backends.hpp"
#include "trib/runtime/worker_pool.hpp"
#include "../support/azure_fixture.hpp"
#include "../support/fault_proxy.hpp"

namespace trib::runtime {
namespace {

namespace fs = std::filesystem;

// The connection string with its QueueEndpoint's port replaced by `port`.
std::string through_port(const std::string& connection, int port, int* queue_port) {
  static const std::regex endpoint("(QueueEndpoint=http://127\\.0\\.0\\.1:)([0-9]+)");
  std::smatch m;
  if (!std::regex_search(connection, m, endpoint)) return "";
  *queue_port = std::stoi(m[2].str());
  return connection.substr(0, m.position(2)) + std::to_string(port) +
         connection.substr(m.position(2) + m.length(2));
}

// Waits until the proxy has failed more requests than the storage client's five attempts of one
// open, or the worker has ended (it gave up: the test's checks then say so).
void await_failures(const trib::testing::FaultProxy& proxy, const std::future<PoolResult>& worker) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (proxy.stats().failed_before.load() < 12 && std::chrono::steady_clock::now() < deadline &&
         worker.wait_for(std::chrono::milliseconds(20)) != std::future_status::ready) {
  }
}

class AzureWorkerStart : public ::testing::Test {
 protected:
  void SetUp() override {
    TRIB_AZURE_TEST_OR_SKIP(connection);
    connection_ = connection;
    dir_ = fs::temp_directory_path() / testing::azure_unique_name("worker-start");
    fs::create_directories(dir_);
    config_ = Config::defaults(dir_);
    config_.queue.kind = "azure";
    config_.queue.name = testing::azure_unique_name("ws");
    config_.queue.visibility_timeout_s = 5;
    ::setenv("AZURE_STORAGE_CONNECTION_STRING", connection_.c_str(), 1);
    std::ofstream(dir_ / "trib.toml") << config_.to_toml();
    init_workspace(dir_);  // the catalog, the queue and its poison queue, talking to Azurite directly
    config_ = Config::load(dir_);
  }
  void TearDown() override {
    ::unsetenv("AZURE_STORAGE_CONNECTION_STRING");
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }

  // Points the backends at Azurite's queue service through `proxy`.
  void through(const trib::testing::FaultProxy& proxy) {
    int queue_port = 0;
    const std::string proxied = through_port(connection_, proxy.port(), &queue_port);
    ASSERT_FALSE(proxied.empty()) << "no 127.0.0.1 QueueEndpoint in " << connection_;
    ::setenv("AZURE_STORAGE_CONNECTION_STRING", proxied.c_str(), 1);
  }
  int queue_port() const {
    int port = 0;
    through_port(connection_, 0, &port);
    return port;
  }

  std::string connection_;
  fs::path dir_;
  Config config_;
};

TEST_F(AzureWorkerStart, WaitsOutABurstOfFailuresLongerThanTheClientsRetries) {
  trib::testing::FaultProxy proxy(1.0, 0);  // every request answered 503/500/429
  proxy.start("127.0.0.1", queue_port());
  through(proxy);
  PoolOptions options;
  options.visibility_timeout_s = 5;
  std::atomic<bool> stop{false};
  auto worker = std::async(std::launch::async, [&] { return run_worker(config_, options, &stop); });
  // Long enough for the storage client's five attempts to be spent at least once.
  await_failures(proxy, worker);
  proxy.set_rates(0, 0);
  ASSERT_EQ(worker.wait_for(std::chrono::seconds(60)), std::future_status::ready);
  const PoolResult result = worker.get();  // rethrows what the worker threw
  EXPECT_EQ(result.worker.processed, 0);
  EXPECT_FALSE(result.stopped);
  EXPECT_GT(proxy.stats().forwarded.load(), 0);
}

TEST_F(AzureWorkerStart, ABurstThatDoesNotEndIsReportedAsTransientWhenStopped) {
  trib::testing::FaultProxy proxy(1.0, 0);
  proxy.start("127.0.0.1", queue_port());
  through(proxy);
  PoolOptions options;
  std::atomic<bool> stop{false};
  auto worker = std::async(std::launch::async, [&] { return run_worker(config_, options, &stop); });
  await_failures(proxy, worker);
  stop = true;  // a stop while waiting gives up at the next failure
  ASSERT_EQ(worker.wait_for(std::chrono::seconds(60)), std::future_status::ready);
  try {
    worker.get();
    FAIL() << "the worker started although every request failed";
  } catch (const Error& e) {
    EXPECT_TRUE(e.category() == ErrorCategory::kRetryable || e.category() == ErrorCategory::kRateLimited)
        << to_string(e.category()) << ": " << e.what();
  }
}

}  // namespace
}  // namespace trib::runtime

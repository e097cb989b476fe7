// server: the Azure Functions custom handler. The Functions host runs `trib serve --functions`,
// sets FUNCTIONS_CUSTOMHANDLER_PORT, and POSTs every invocation to /<FunctionName> as JSON:
//   {"Data": {"<binding>": <trigger value>, ...}, "Metadata": {...}}
// and expects {"Outputs": {...}, "Logs": [...], "ReturnValue": ...} back, HTTP 200 for success;
// any other status fails the invocation (for a queue trigger the host then retries the message
// and, after maxDequeueCount, copies it to <queue>-poison). Functions (deploy/azure/functions/):
//   DailyUpdate (timer trigger, binding "timer"): queues the daily update of trib.toml's [update]
//     (runtime::queue_daily_update); Container Apps jobs or RunTask drain it.
//   RunTask (queue trigger on the task queue, binding "task"): runs one task as a worker does
//     (runtime::run_task). On success the message is removed through our queue (freeing its
//     dedupe key; the host's own delete then finds it gone, which it logs and ignores); a
//     permanent error dead-letters it with the reason at once (200, so the host does not retry
//     what cannot succeed); a transient one answers 500 so the host retries it later.
// The workspace is the one trib.toml names (TRIB_WORKSPACE or -w), opened per invocation.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "trib/core/config.hpp"

namespace trib::server {

// One invocation as the host sends it. Throws Error::InvalidInput naming what is wrong (not JSON,
// not an object, Data missing or not an object, Metadata not an object).
struct Invocation {
  nlohmann::json data = nlohmann::json::object();
  nlohmann::json metadata = nlohmann::json::object();
};
Invocation parse_invocation(std::string_view body);

struct InvocationResult {
  int status = 200;
  nlohmann::json body;  // {"Outputs": {}, "Logs": [...], "ReturnValue": ...}
};

class FunctionsHandler {
 public:
  // `clock` gives "now" in UTC nanoseconds (the daily update plans up to the last session closed
  // by then); tests and replays pin it.
  explicit FunctionsHandler(Config config, std::function<int64_t()> clock = {});

  // Runs function `name` for the invocation `body`. Never throws: errors become the answer.
  InvocationResult handle(std::string_view name, std::string_view body);

 private:
  InvocationResult daily_update(const Invocation& invocation);
  InvocationResult run_task(const Invocation& invocation);

  Config config_;
  std::function<int64_t()> clock_;
};

// Serves `handler` on host:port (port 0: any free port) until `stop` is set: POST /<name>
// invokes, GET /healthz answers "ok". `on_listening` gets the bound port. Blocks.
void serve_functions(FunctionsHandler& handler, const std::string& host, int port, const std::atomic<bool>& stop,
                     const std::function<void(int)>& on_listening = {});

}  // namespace trib::server

#include "trib/server/functions.hpp"

#include <httplib.h>

#include <chrono>
#include <mutex>
#include <optional>
#include <thread>

#include <fmt/format.h>

#include "trib/core/error.hpp"
#include "trib/core/log.hpp"
#include "trib/ingest/worker.hpp"
#include "trib/runtime/backends.hpp"
#include "trib/runtime/tasks.hpp"

namespace trib::server {
namespace {

using nlohmann::json;

int64_t wall_clock_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

InvocationResult answer(int status, std::vector<std::string> logs, json return_value = nullptr) {
  InvocationResult r;
  r.status = status;
  json redacted = json::array();
  for (auto& line : logs) redacted.push_back(log::redact(line));
  r.body = {{"Outputs", json::object()}, {"Logs", redacted}, {"ReturnValue", std::move(return_value)}};
  return r;
}

// Metadata values arrive as JSON strings or numbers depending on the trigger and host version.
std::string meta_string(const json& metadata, const char* key) {
  auto it = metadata.find(key);
  if (it == metadata.end() || it->is_null()) return "";
  if (it->is_string()) return it->get<std::string>();
  return it->dump();
}

int meta_int(const json& metadata, const char* key) {
  auto it = metadata.find(key);
  if (it == metadata.end()) return 0;
  if (it->is_number_integer()) return it->get<int>();
  if (it->is_string()) {
    try {
      return std::stoi(it->get<std::string>());
    } catch (const std::exception&) {
      return 0;
    }
  }
  return 0;
}

}  // namespace

FunctionsHandler::FunctionsHandler(Config config, std::function<int64_t()> clock)
    : config_(std::move(config)), clock_(clock ? std::move(clock) : wall_clock_ns) {}

InvocationResult FunctionsHandler::handle(std::string_view name, std::string_view body) {
  try {
    const Invocation invocation = parse_invocation(body);
    if (name == "DailyUpdate") return daily_update(invocation);
    if (name == "RunTask") return run_task(invocation);
    return answer(404, {fmt::format("no function named '{}' (DailyUpdate, RunTask)", name)});
  } catch (const Error& e) {
    const int status = e.category() == ErrorCategory::kInvalidInput ? 400 : 500;
    return answer(status, {fmt::format("{}: {}: {}", name, to_string(e.category()), e.what())});
  } catch (const std::exception& e) {
    return answer(500, {fmt::format("{}: internal: {}", name, e.what())});
  }
}

InvocationResult FunctionsHandler::daily_update(const Invocation& invocation) {
  runtime::Backends b = runtime::open_backends(config_);
  const int64_t now = clock_();
  const runtime::UpdateReport r = runtime::queue_daily_update(b, now);
  const bool past_due = invocation.data.contains("timer") && invocation.data["timer"].is_object() &&
                        invocation.data["timer"].value("IsPastDue", false);
  json value = {{"run_id", r.run_id},
                {"through", r.last_session.to_string()},
                {"symbols", r.symbols},
                {"planned", r.planned},
                {"queued", r.enqueued.queued},
                {"already_done", r.enqueued.already_done},
                {"already_queued", r.enqueued.already_queued}};
  std::vector<std::string> logs = {fmt::format(
      "update {} through {}: {} task(s) planned for {} symbol(s), {} queued, {} already done, {} already queued{}",
      r.run_id, r.last_session.to_string(), r.planned, r.symbols, r.enqueued.queued, r.enqueued.already_done,
      r.enqueued.already_queued, past_due ? " (the timer was past due)" : "")};
  return answer(200, std::move(logs), std::move(value));
}

InvocationResult FunctionsHandler::run_task(const Invocation& invocation) {
  auto it = invocation.data.find("task");
  if (it == invocation.data.end()) {
    throw Error::InvalidInput("RunTask: the invocation has no \"task\" binding in Data (see function.json)");
  }
  // The host passes the decoded message text as a JSON string (or, for JSON text, sometimes
  // already parsed).
  const std::string decoded = it->is_string() ? it->get<std::string>() : it->dump();
  const std::string id = meta_string(invocation.metadata, "Id");
  const std::string pop_receipt = meta_string(invocation.metadata, "PopReceipt");
  const int dequeue_count = meta_int(invocation.metadata, "DequeueCount");
  runtime::Backends b = runtime::open_backends(config_);
  // The message as our queue knows it, when the trigger is on our Azure queue (so removing it
  // frees its dedupe key, and a permanent failure goes to poison with its reason).
  std::unique_ptr<queue::TaskQueue> queue;
  std::optional<queue::Message> message;
  std::string body = decoded;
  if (config_.queue.kind == "azure" && !id.empty() && !pop_receipt.empty()) {
    try {
      message = queue::azure_trigger_message(decoded, id, pop_receipt, dequeue_count);
      body = message->body;
    } catch (const Error& e) {
      // Not text or a malformed envelope: a retry cannot fix it; the host poisons it.
      return answer(500, {fmt::format("RunTask {}: {}", id, e.what())});
    }
    queue = b.open_queue();
  }
  try {
    runtime::run_task(b, body);
  } catch (const Error& e) {
    const std::string error = fmt::format("{}: {}", to_string(e.category()), e.what());
    if (ingest::is_permanent(e.category()) && queue && message) {
      try {
        queue->dead_letter(*message, error);
        return answer(200, {fmt::format("RunTask {}: permanent error, moved to {}-poison: {}", id, queue->name(), error)},
                      json{{"poisoned", true}});
      } catch (const Error& dl) {
        return answer(500, {fmt::format("RunTask {}: {} (and dead-lettering failed: {})", id, error, dl.what())});
      }
    }
    // Transient (or no queue of ours to poison into): fail, so the host retries and, after its
    // maxDequeueCount, poisons.
    return answer(500, {fmt::format("RunTask {} (delivery {}): {}", id, dequeue_count, error)});
  }
  if (queue && message) {
    try {
      queue->remove(*message);
    } catch (const Error& e) {
      // The host deletes it anyway on success; a stale receipt only means its lease was renewed.
      log::info("RunTask {}: removing through our queue: {}", id, e.what());
    }
  }
  return answer(200, {fmt::format("RunTask {} done (delivery {})", id.empty() ? "-" : id, dequeue_count)},
                json{{"done", true}});
}

void serve_functions(FunctionsHandler& handler, const std::string& host, int port, const std::atomic<bool>& stop,
                     const std::function<void(int)>& on_listening) {
  httplib::Server server;
  server.set_keep_alive_timeout(5);
  // One invocation at a time per process: the host scales out by instances, and our backends
  // are opened per invocation.
  std::mutex one_at_a_time;
  server.Post(R"(/([A-Za-z][A-Za-z0-9_]{0,127}))", [&](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(one_at_a_time);
    const std::string name = req.matches[1];
    const auto started = std::chrono::steady_clock::now();
    InvocationResult r = handler.handle(name, req.body);
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
    log::info("functions: {} -> HTTP {} in {:.0f} ms", name, r.status, ms);
    res.status = r.status;
    res.set_content(r.body.dump(), "application/json");
  });
  server.Get("/healthz", [](const httplib::Request&, httplib::Response& res) { res.set_content("ok\n", "text/plain"); });
  const int bound = port == 0 ? server.bind_to_any_port(host) : (server.bind_to_port(host, port) ? port : -1);
  if (bound <= 0) {
    throw Error::Retryable(fmt::format("trib serve --functions: cannot listen on {}:{} (in use?)", host, port));
  }
  std::atomic<bool> done{false};
  std::thread watcher([&] {
    while (!stop.load() && !done.load()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    server.stop();
  });
  if (on_listening) on_listening(bound);
  server.listen_after_bind();
  done = true;
  watcher.join();
}

}  // namespace trib::server

// The Azure Functions custom handler: invocation parsing, the two functions on a local workspace,
// the HTTP protocol through a real socket, and (against Azurite) RunTask removing or poisoning the
// message through our Azure queue.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <httplib.h>

#include <atomic>
#include <thread>

#include "../core/test_util.hpp"
#include "../support/azure_fixture.hpp"
#include "trib/core/error.hpp"
#include "trib/ingest/task.hpp"
#include "trib/net/azure_storage.hpp"
#include "trib/queue/task_queue.hpp"
#include "trib/runtime/backends.hpp"
#include "trib/server/functions.hpp"

using namespace trib;
using ::testing::HasSubstr;
using nlohmann::json;
using trib::testing::category_of;
using trib::testing::TempDir;

namespace {

// "now" = an hour after the close of `date` (New York).
int64_t after_close(const char* date) {
  return TradingCalendar::nyse().session_close_ts_ns(Date::parse(date)) + int64_t{3600} * 1'000'000'000;
}

Config local_workspace(const TempDir& dir) {
  runtime::init_workspace(dir.path());
  Config c = Config::load(dir.path());
  c.update.vendor = "sim";
  c.update.symbols = "SIM0001,SIM0002";
  c.update.start = "2020-12-01";
  return c;
}

TEST(FunctionsInvocation, ParsesTheHostsJsonAndRefusesWhatIsNot) {
  auto inv = server::parse_invocation(R"({"Data":{"task":"x"},"Metadata":{"Id":"1","DequeueCount":2}})");
  EXPECT_EQ(inv.data["task"], "x");
  EXPECT_EQ(inv.metadata["DequeueCount"], 2);
  EXPECT_TRUE(server::parse_invocation("{}").data.empty());
  EXPECT_TRUE(server::parse_invocation(R"({"Data":null,"Metadata":null})").metadata.empty());
  for (const char* bad : {"", "not json", "[1,2]", "\"s\"", R"({"Data":[1]})", R"({"Data":{},"Metadata":"m"})"}) {
    EXPECT_EQ(category_of([&] { server::parse_invocation(bad); }), ErrorCategory::kInvalidInput) << bad;
  }
}

TEST(FunctionsHandler, DailyUpdateQueuesEachSymbolOnceThroughTheLastClosedSession) {
  TempDir dir;
  server::FunctionsHandler handler(local_workspace(dir), [] { return after_close("2020-12-31"); });
  const std::string timer = R"({"Data":{"timer":{"Schedule":{},"IsPastDue":true}},"Metadata":{}})";
  auto r = handler.handle("DailyUpdate", timer);
  ASSERT_EQ(r.status, 200) << r.body.dump();
  EXPECT_EQ(r.body["ReturnValue"]["through"], "2020-12-31");
  EXPECT_EQ(r.body["ReturnValue"]["planned"], 2);  // one 2020 partition per symbol
  EXPECT_EQ(r.body["ReturnValue"]["queued"], 2);
  EXPECT_THAT(r.body["Logs"][0].get<std::string>(), HasSubstr("past due"));
  EXPECT_TRUE(r.body["Outputs"].is_object());
  // Fired again (a retry of the timer): nothing is queued twice.
  r = handler.handle("DailyUpdate", timer);
  EXPECT_EQ(r.body["ReturnValue"]["queued"], 0);
  EXPECT_EQ(r.body["ReturnValue"]["already_queued"], 2);

  // RunTask with each queued body: done, and the next update finds everything current.
  runtime::Backends b = runtime::open_workspace(dir.path());
  auto queue = b.open_queue();
  for (const auto& m : queue->list()) {
    const json inv = {{"Data", {{"task", m.body}}}, {"Metadata", {{"Id", m.id}, {"DequeueCount", 1}}}};
    auto run = handler.handle("RunTask", inv.dump());
    EXPECT_EQ(run.status, 200) << run.body.dump();
    EXPECT_TRUE(b.catalog->is_task_done(ingest::Task::from_json(m.body).id()));
  }
  queue->clear();
  r = handler.handle("DailyUpdate", timer);
  EXPECT_EQ(r.body["ReturnValue"]["planned"], 0) << r.body.dump();
}

TEST(FunctionsHandler, ErrorsBecomeAnswersNeverCrashes) {
  TempDir dir;
  server::FunctionsHandler handler(local_workspace(dir), [] { return after_close("2020-12-31"); });
  EXPECT_EQ(handler.handle("NoSuchFunction", "{}").status, 404);
  EXPECT_EQ(handler.handle("DailyUpdate", "not json").status, 400);
  auto r = handler.handle("RunTask", R"({"Data":{}})");
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body["Logs"][0].get<std::string>(), HasSubstr("task"));
  // A body that is no task: failed (the host retries it and, after maxDequeueCount, poisons it).
  r = handler.handle("RunTask", R"({"Data":{"task":"{\"kind\":\"nonsense\"}"},"Metadata":{"Id":"m1"}})");
  EXPECT_EQ(r.status, 500);
  EXPECT_THAT(r.body["Logs"][0].get<std::string>(), HasSubstr("invalid-input"));
  Config no_symbols = local_workspace(dir);
  no_symbols.update.symbols = "";
  server::FunctionsHandler empty(no_symbols);
  r = empty.handle("DailyUpdate", "{}");
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body["Logs"][0].get<std::string>(), HasSubstr("[update] symbols"));
}

TEST(FunctionsHandler, SpeaksTheCustomHandlerProtocolOverHttp) {
  TempDir dir;
  server::FunctionsHandler handler(local_workspace(dir), [] { return after_close("2020-12-31"); });
  std::atomic<bool> stop{false};
  std::atomic<int> port{0};
  std::thread server([&] { server::serve_functions(handler, "127.0.0.1", 0, stop, [&](int p) { port = p; }); });
  for (int i = 0; i < 500 && port == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_GT(port.load(), 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  httplib::Client client("127.0.0.1", port);
  auto res = client.Post("/DailyUpdate", R"({"Data":{"timer":{}},"Metadata":{}})", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  const json body = json::parse(res->body);
  EXPECT_TRUE(body.contains("Outputs") && body.contains("Logs") && body.contains("ReturnValue"));
  EXPECT_EQ(body["ReturnValue"]["queued"], 2);
  res = client.Post("/Unknown", "{}", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
  res = client.Get("/healthz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  stop = true;
  server.join();
}

// RunTask on the Azure queue: success removes the message through our queue; a task that can
// never succeed goes to <queue>-poison at once with its reason (and the answer is 200, so the
// host does not retry it).
TEST(FunctionsHandlerAzure, RunTaskRemovesOrPoisonsThroughOurQueue) {
  TRIB_AZURE_TEST_OR_SKIP(conn);
  TempDir dir;
  Config c = local_workspace(dir);
  c.queue.kind = "azure";
  c.queue.name = trib::testing::azure_unique_name("fn");
  ::setenv("AZURE_STORAGE_CONNECTION_STRING", conn.c_str(), 1);
  auto account = net::azure::parse_connection_string(conn);
  auto queue = queue::open_azure_queue(account, c.queue.name, {}, /*create=*/true);
  server::FunctionsHandler handler(c, [] { return after_close("2020-12-31"); });

  ingest::Task task;
  task.vendor = "sim";
  task.symbol = Symbol::parse("SIM0003");
  task.from = Date::parse("2020-12-01");
  task.to = Date::parse("2020-12-31");
  task.options["seed"] = "42";
  ASSERT_TRUE(queue->enqueue_unique(task.to_json(), task.id()));
  queue->enqueue("{\"kind\":\"fetch\"}");  // no vendor: never a valid task

  for (int i = 0; i < 2; ++i) {
    auto m = queue->receive(std::chrono::seconds(60));
    ASSERT_TRUE(m.has_value());
    // What the host hands over: the decoded text (an envelope when the message carries a key).
    std::string decoded = m->body;
    if (!m->dedupe_key.empty()) {
      decoded = "trib-envelope/1 " + json{{"dedupe_key", m->dedupe_key}}.dump() + "\n" + m->body;
    }
    const json inv = {{"Data", {{"task", decoded}}},
                      {"Metadata", {{"Id", m->id}, {"PopReceipt", m->pop_receipt}, {"DequeueCount", m->dequeue_count}}}};
    auto r = handler.handle("RunTask", inv.dump());
    EXPECT_EQ(r.status, 200) << r.body.dump();
  }
  EXPECT_EQ(queue->count(), 0);
  const auto poison = queue->list_poison();
  ASSERT_EQ(poison.size(), 1u);
  EXPECT_THAT(poison[0].last_error, HasSubstr("invalid-input"));
  runtime::Backends b = runtime::open_backends(c);
  EXPECT_TRUE(b.catalog->is_task_done(task.id()));
  // The key was freed with the message: the same work can be queued again.
  EXPECT_TRUE(queue->enqueue_unique(task.to_json(), task.id()).has_value());
  queue->clear();
}

}  // namespace

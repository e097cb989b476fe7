#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <vector>
#include <filesystem>
#include <thread>

#include <unistd.h>

#include "trib/core/error.hpp"
#include "trib/catalog/catalog.hpp"
#include "trib/ingest/fetch_handler.hpp"
#include "trib/ingest/task.hpp"
#include "trib/lake/object_store.hpp"
#include "trib/ingest/worker.hpp"
#include "trib/providers/provider.hpp"
#include "trib/queue/task_queue.hpp"
#include "../core/test_util.hpp"

namespace fs = std::filesystem;
using namespace trib;

TEST(Plan, OneTaskPerSymbolAndYearClippedToTheRange) {
  ingest::BackfillPlan plan;
  plan.vendor = "sim";
  plan.symbols = {Symbol::parse("BBB"), Symbol::parse("AAA"), Symbol::parse("aaa")};
  plan.from = Date::parse("2019-06-15");
  plan.to = Date::parse("2021-02-01");
  auto tasks = ingest::plan_backfill(plan);
  ASSERT_EQ(tasks.size(), 6u) << "duplicates (aaa = AAA) are planned once";
  EXPECT_EQ(tasks[0].symbol.str(), "AAA");
  EXPECT_EQ(tasks[0].from.to_string(), "2019-06-15");
  EXPECT_EQ(tasks[0].to.to_string(), "2019-12-31");
  EXPECT_EQ(tasks[1].from.to_string(), "2020-01-01");
  EXPECT_EQ(tasks[2].to.to_string(), "2021-02-01");
  EXPECT_EQ(tasks[3].symbol.str(), "BBB");

  plan.to = Date::parse("2019-01-01");
  EXPECT_THROW(ingest::plan_backfill(plan), Error);
}

TEST(Task, JsonRoundTripAndStableId) {
  ingest::Task task;
  task.vendor = "sim";
  task.symbol = Symbol::parse("EUR/USD");
  task.from = Date::parse("2020-01-01");
  task.to = Date::parse("2020-12-31");
  task.options = {{"seed", "7"}};
  task.run_id = "r";
  auto back = ingest::Task::from_json(task.to_json());
  EXPECT_EQ(back.symbol, task.symbol);
  EXPECT_EQ(back.to_json(), task.to_json());
  EXPECT_EQ(back.id(), task.id());
  back.run_id = "another run";
  EXPECT_EQ(back.id(), task.id()) << "the id names the work, not the run that planned it";
  back.options["seed"] = "8";
  EXPECT_NE(back.id(), task.id());

  for (const char* body : {"", "[]", "{}", R"({"kind":"fetch"})",
                           R"({"kind":"fetch","vendor":"sim","dataset":"bars","timeframe":"1d","symbol":"../x","from":"2020-01-01","to":"2020-12-31"})",
                           R"({"kind":"delete-everything","vendor":"sim"})"}) {
    try {
      ingest::Task::from_json(body);
      ADD_FAILURE() << body;
    } catch (const Error& e) {
      EXPECT_EQ(e.category(), ErrorCategory::kInvalidInput) << body;
    }
  }
}

class WorkerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = fs::temp_directory_path() / ("trib-worker-" + std::to_string(::getpid()) + "-" +
                                       ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".db");
    fs::remove(db_);
    queue::QueueOptions options;
    options.max_attempts = 3;
    queue_ = queue::open_embedded_queue(db_, "tasks", options);
  }
  void TearDown() override {
    queue_.reset();
    for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(db_.string() + suffix);
  }
  std::string task_body(const char* symbol) {
    ingest::Task t;
    t.vendor = "sim";
    t.symbol = Symbol::parse(symbol);
    t.from = Date::parse("2020-01-01");
    t.to = Date::parse("2020-12-31");
    return t.to_json();
  }
  fs::path db_;
  std::unique_ptr<queue::TaskQueue> queue_;
};

TEST_F(WorkerTest, RetriesTransientFailuresAndPoisonsBadBodies) {
  queue_->enqueue(task_body("AAA"));
  queue_->enqueue("not json");
  queue_->enqueue(task_body("BBB"));
  std::map<std::string, int> attempts;
  std::vector<std::string> done;
  ingest::WorkerOptions options;
  options.visibility_timeout_s = 30;
  auto stats = ingest::drain_queue(
      *queue_,
      [&](const ingest::Task& task) {
        if (++attempts[task.symbol.str()] == 1 && task.symbol.str() == "BBB") {
          throw Error::Retryable("vendor timed out");
        }
        done.push_back(task.symbol.str());
      },
      options);
  EXPECT_EQ(done, (std::vector<std::string>{"AAA", "BBB"}));
  EXPECT_EQ(attempts["BBB"], 2);
  EXPECT_EQ(stats.processed, 2);
  EXPECT_EQ(queue_->count(), 0);
  auto poison = queue_->list_poison();
  ASSERT_EQ(poison.size(), 1u);
  EXPECT_EQ(poison[0].body, "not json");
  EXPECT_NE(poison[0].last_error.find("invalid-input"), std::string::npos) << poison[0].last_error;
}

TEST_F(WorkerTest, PermanentErrorsGoToPoisonAtOnce) {
  queue_->enqueue(task_body("AAA"));
  queue_->enqueue(task_body("BBB"));
  ingest::WorkerOptions options;
  options.visibility_timeout_s = 30;
  int calls = 0;
  auto stats = ingest::drain_queue(
      *queue_,
      [&](const ingest::Task& task) {
        ++calls;
        if (task.symbol.str() == "AAA") throw Error::NotFound("vendor has no symbol AAA");
      },
      options);
  EXPECT_EQ(calls, 2) << "a permanent failure is not retried";
  EXPECT_EQ(stats.processed, 1);
  EXPECT_EQ(stats.dead_lettered, 1);
  EXPECT_EQ(stats.failed, 0);
  auto poison = queue_->list_poison();
  ASSERT_EQ(poison.size(), 1u);
  EXPECT_EQ(poison[0].dequeue_count, 1);
  EXPECT_NE(poison[0].last_error.find("not-found"), std::string::npos) << poison[0].last_error;
  EXPECT_NE(poison[0].last_error.find("vendor has no symbol AAA"), std::string::npos);
}

TEST_F(WorkerTest, AUsedUpBudgetDefersWithoutSpendingAttemptsAndTheDrainEnds) {
  // max_attempts = 3; the vendor's budget refuses BBB five times in a row: a release per refusal
  // would have poisoned it. Deferred instead, and the drain ends rather than wait out the cap.
  queue_->enqueue(task_body("AAA"));
  queue_->enqueue(task_body("BBB"));
  ingest::WorkerOptions options;
  options.visibility_timeout_s = 30;
  int refusals = 0;
  std::vector<std::string> done;
  auto handler = [&](const ingest::Task& task) {
    if (task.symbol.str() == "BBB" && refusals < 5) {
      ++refusals;
      throw providers::BudgetExhausted("sim: the request budget is used up", refusals < 5 ? 0 : 3'600'000);
    }
    done.push_back(task.symbol.str());
  };
  const auto start = std::chrono::steady_clock::now();
  auto stats = ingest::drain_queue(*queue_, handler, options);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30)) << "waited for the cap";
  EXPECT_EQ(done, (std::vector<std::string>{"AAA"}));
  EXPECT_EQ(refusals, 5);
  EXPECT_EQ(stats.deferred, 5);
  EXPECT_EQ(stats.failed, 0);
  EXPECT_EQ(stats.left_deferred, 1);
  EXPECT_EQ(queue_->poison_count(), 0);
  auto listed = queue_->list();
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].dequeue_count, 0) << "no attempt spent";
  EXPECT_NE(listed[0].last_error.find("budget is used up"), std::string::npos);
  EXPECT_GT(listed[0].visible_at_ns, now_ts_ns() + int64_t{3000} * 1'000'000'000);

  // Another worker process (its own count of what it deferred: none) also ends at once.
  auto other = queue::open_embedded_queue(db_, "tasks");
  auto again = ingest::drain_queue(*other, handler, options);
  EXPECT_EQ(again.processed, 0);
  EXPECT_EQ(again.left_deferred, 1);
}

TEST_F(WorkerTest, ALeaseIsRenewedWhileALongTaskRunsSoItIsNotDeliveredTwice) {
  queue_->enqueue(task_body("AAA"));
  ingest::WorkerOptions options;
  options.visibility_timeout_s = 1;  // the task takes 2.5 leases
  options.open_lease_queue = [&] {
    queue::QueueOptions q;
    q.max_attempts = 3;
    return queue::open_embedded_queue(db_, "tasks", q);
  };
  auto other = queue::open_embedded_queue(db_, "tasks");
  std::atomic<int> stolen{0};
  auto stats = ingest::drain_queue(
      *queue_,
      [&](const ingest::Task&) {
        // Another worker polls all the while; the renewed lease keeps the message from it.
        for (int i = 0; i < 25; ++i) {
          if (other->receive(std::chrono::seconds(30))) ++stolen;
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
      },
      options);
  EXPECT_EQ(stolen.load(), 0);
  EXPECT_EQ(stats.processed, 1) << "removed with the renewed pop receipt";
  EXPECT_GE(stats.renewals, 3);
  EXPECT_EQ(queue_->count(), 0);
}

namespace {

// A queue whose polls (receive and count) fail with `poll_error` while `failing_polls` > 0, as a
// storage service does for a moment; everything else goes to the real queue.
class OutageQueue : public queue::TaskQueue {
 public:
  explicit OutageQueue(queue::TaskQueue& inner) : inner_(inner) {}
  int failing_polls = 0;
  ErrorCategory poll_error = ErrorCategory::kRetryable;
  int polls = 0;

  const std::string& name() const override { return inner_.name(); }
  std::string enqueue(const std::string& body, std::chrono::seconds delay) override {
    return inner_.enqueue(body, delay);
  }
  std::optional<std::string> enqueue_unique(const std::string& body, const std::string& key,
                                            std::chrono::seconds delay) override {
    return inner_.enqueue_unique(body, key, delay);
  }
  std::optional<queue::Message> receive(std::chrono::seconds visibility) override {
    poll();
    return inner_.receive(visibility);
  }
  void remove(const queue::Message& m) override { inner_.remove(m); }
  void update_visibility(queue::Message& m, std::chrono::seconds v) override { inner_.update_visibility(m, v); }
  void release(const queue::Message& m, const std::string& e, std::chrono::seconds r) override {
    inner_.release(m, e, r);
  }
  void defer(const queue::Message& m, const std::string& e, std::chrono::seconds r) override {
    inner_.defer(m, e, r);
  }
  void dead_letter(const queue::Message& m, const std::string& e) override { inner_.dead_letter(m, e); }
  int64_t count() override {
    poll();
    return inner_.count();
  }
  int64_t visible_count() override { return inner_.visible_count(); }
  std::vector<queue::QueuedMessage> list(size_t limit) override { return inner_.list(limit); }
  std::vector<queue::PoisonMessage> list_poison() override { return inner_.list_poison(); }
  int64_t poison_count() override { return inner_.poison_count(); }
  int64_t redrive(const std::vector<std::string>& ids) override { return inner_.redrive(ids); }
  int64_t purge_poison() override { return inner_.purge_poison(); }
  void clear() override { inner_.clear(); }

 private:
  void poll() {
    ++polls;
    if (failing_polls > 0) {
      --failing_polls;
      throw Error(poll_error, "get messages: HTTP 503 ServerBusy (gave up after 5 attempts)");
    }
  }
  queue::TaskQueue& inner_;
};

}  // namespace

// A transient failure to poll the queue does not end the worker: it polls again (with backoff)
// and drains the queue; a permanent one, or too many transient ones in a row, ends it.
TEST_F(WorkerTest, PollsAgainAfterATransientQueueFailure) {
  queue_->enqueue(task_body("AAA"));
  OutageQueue flaky(*queue_);
  flaky.failing_polls = 3;
  ingest::WorkerOptions options;
  options.visibility_timeout_s = 30;
  int handled = 0;
  auto stats = ingest::drain_queue(flaky, [&](const ingest::Task&) { ++handled; }, options);
  EXPECT_EQ(handled, 1);
  EXPECT_EQ(stats.processed, 1);
  EXPECT_EQ(queue_->count(), 0);
  EXPECT_GE(flaky.polls, 5);

  queue_->enqueue(task_body("BBB"));
  flaky.failing_polls = 1;
  flaky.poll_error = ErrorCategory::kPermanent;  // e.g. the credential was refused
  EXPECT_THROW(ingest::drain_queue(flaky, [&](const ingest::Task&) { ++handled; }, options), Error);
  flaky.failing_polls = 3;
  flaky.poll_error = ErrorCategory::kRateLimited;
  options.max_poll_failures = 2;
  try {
    ingest::drain_queue(flaky, [&](const ingest::Task&) { ++handled; }, options);
    ADD_FAILURE() << "a third failure in a row ends the drain";
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::kRateLimited);
  }
  EXPECT_EQ(handled, 1);
  EXPECT_EQ(queue_->count(), 1);
}

namespace {

// Counts what reaches the next stage; fails the first `failures` hand-overs.
class FlakyConsumer : public ingest::RawConsumer {
 public:
  int failures = 0;
  std::vector<std::string> seen;
  void consume(const ingest::FetchedRaw& fetched) override {
    seen.push_back(fetched.record.object_key);
    if (failures > 0) {
      --failures;
      throw Error::Retryable("ETL failed after the payload was stored");
    }
  }
};

}  // namespace

TEST(FetchHandler, StoresTheRawPayloadBeforeTheNextStageAndARetryNeverRefetches) {
  trib::testing::TempDir dir;
  auto store = lake::open_local_store(dir.path() / "lake");
  auto cat = catalog::open_sqlite_catalog(dir.path() / "catalog.db");
  const fs::path file = dir.path() / "abc.csv";
  trib::testing::spit(file, "Date,Open,High,Low,Close,Volume\n2020-01-02,1,2,0.5,1.5,100\n");
  ingest::Task task;
  task.vendor = "csv";
  task.symbol = Symbol::parse("ABC");
  task.from = Date::parse("2020-01-01");
  task.to = Date::parse("2020-12-31");
  task.run_id = "run-1";
  task.options = {{"file", file.string()}};
  FlakyConsumer consumer;
  consumer.failures = 1;
  ingest::FetchHandler handler(*store, *cat, &consumer);
  EXPECT_THROW(handler.handle(task), Error);
  // The payload is stored and recorded although the next stage failed.
  auto stored = cat->raw_objects_of_task(task.id());
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_EQ(stored[0].window_from, "2020-01-01");
  EXPECT_EQ(stored[0].window_to, "2020-12-31");
  EXPECT_GT(stored[0].fetched_at_ns, 0);
  EXPECT_TRUE(store->exists(stored[0].object_key));
  EXPECT_FALSE(cat->is_task_done(task.id()));
  // The vendor goes away; the redelivered task does not need it.
  fs::remove(file);
  handler.handle(task);
  EXPECT_EQ(consumer.seen, (std::vector<std::string>{stored[0].object_key, stored[0].object_key}));
  EXPECT_TRUE(cat->is_task_done(task.id()));
  EXPECT_EQ(cat->list_raw_objects().size(), 1u);
}

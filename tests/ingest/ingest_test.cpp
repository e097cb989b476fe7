#include <gtest/gtest.h>

#include <filesystem>

#include <unistd.h>

#include "trib/core/error.hpp"
#include "trib/ingest/task.hpp"
#include "trib/ingest/worker.hpp"
#include "trib/queue/task_queue.hpp"

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

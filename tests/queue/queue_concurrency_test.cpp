// The embedded queue under concurrency: threads and forked processes draining one queue (each
// with its own queue object), and consumers that die holding a lease.
//
// No SQLite connection may be open in the parent across fork() (SQLite's rule: the child would
// inherit its lock bookkeeping), so each test opens queues in a scope and closes them first.
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "trib/db/sqlite.hpp"
#include "trib/core/error.hpp"
#include "trib/queue/task_queue.hpp"
#include "../core/test_util.hpp"

namespace trib::queue {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr int kMessages = 240;

// Per-message counters shared with forked children.
struct Shared {
  std::atomic<int> completed[kMessages];    // successful remove() calls
  std::atomic<int> max_dequeue[kMessages];  // highest dequeue_count seen
  std::atomic<int> crashed_on{-1};          // the message a dying consumer held
};

pid_t spawn(const std::function<int()>& body) {
  const pid_t pid = ::fork();
  if (pid != 0) return pid;
  int rc = 1;
  try {
    rc = body();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "child %d: %s\n", ::getpid(), e.what());
  }
  ::_exit(rc);
}

using testing::exit_code_of;

class QueueConcurrencyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    void* mem = ::mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE,
                       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    ASSERT_NE(mem, MAP_FAILED);
    shared_ = new (mem) Shared();
    for (int i = 0; i < kMessages; ++i) {
      shared_->completed[i] = 0;
      shared_->max_dequeue[i] = 0;
    }
  }
  void TearDown() override {
    ::munmap(shared_, sizeof(Shared));
  }

  std::unique_ptr<TaskQueue> open() { return open_embedded_queue(db_, "tasks", {5}); }

  void fill(int n) {
    auto q = open();
    for (int i = 0; i < n; ++i) q->enqueue(std::to_string(i));
  }

  // A worker loop: lease, "process", remove; exits once the queue is empty. Returns the number
  // of messages it completed.
  int drain(TaskQueue& q, seconds lease) {
    int done = 0;
    while (true) {
      auto m = q.receive(lease);
      if (!m) {
        if (q.count() == 0) return done;
        std::this_thread::sleep_for(milliseconds(20));  // leased elsewhere; wait for it
        continue;
      }
      const int i = std::stoi(m->body);
      int seen = shared_->max_dequeue[i].load();
      while (seen < m->dequeue_count &&
             !shared_->max_dequeue[i].compare_exchange_weak(seen, m->dequeue_count)) {
      }
      q.remove(*m);  // throws Conflict if someone else held it meanwhile
      shared_->completed[i].fetch_add(1);
      ++done;
    }
  }

  void expect_each_completed_once(int n) {
    for (int i = 0; i < n; ++i) {
      EXPECT_EQ(shared_->completed[i].load(), 1) << "message " << i;
    }
    EXPECT_EQ(open()->count(), 0);
  }

  testing::TempDir tmp_;  // children _exit, so only the parent removes it
  const fs::path dir_ = tmp_.path(), db_ = dir_ / "catalog.db";
  Shared* shared_ = nullptr;
};

TEST_F(QueueConcurrencyTest, ThreadsDrainEveryMessageExactlyOnce) {
  fill(kMessages);
  constexpr int kThreads = 4;
  std::vector<std::thread> threads;
  std::vector<int> done(kThreads, 0);
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      try {
        auto q = open();  // one queue object per thread
        done[t] = drain(*q, seconds(30));
      } catch (const std::exception& e) {
        std::fprintf(stderr, "thread %d: %s\n", t, e.what());
        failures.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  int total = 0;
  for (int d : done) total += d;
  EXPECT_EQ(total, kMessages);
  expect_each_completed_once(kMessages);
  for (int i = 0; i < kMessages; ++i) EXPECT_EQ(shared_->max_dequeue[i].load(), 1) << i;
}

TEST_F(QueueConcurrencyTest, ProcessesDrainEveryMessageExactlyOnce) {
  fill(kMessages);
  constexpr int kProcesses = 3;
  std::vector<pid_t> children;
  for (int p = 0; p < kProcesses; ++p) {
    children.push_back(spawn([&] {
      auto q = open();
      drain(*q, seconds(30));
      return 0;
    }));
  }
  for (pid_t pid : children) EXPECT_EQ(exit_code_of(pid), 0);
  expect_each_completed_once(kMessages);
  for (int i = 0; i < kMessages; ++i) EXPECT_EQ(shared_->max_dequeue[i].load(), 1) << i;
}

TEST_F(QueueConcurrencyTest, LeaseOfAKilledConsumerExpiresAndAnotherGetsTheMessage) {
  fill(1);
  const pid_t victim = spawn([&] {
    auto q = open();
    auto m = q->receive(seconds(1));
    if (!m) return 2;
    ::kill(::getpid(), SIGKILL);  // dies holding the lease, without remove()
    return 3;
  });
  EXPECT_EQ(exit_code_of(victim), 128 + SIGKILL);
  {
    auto q = open();
    EXPECT_EQ(q->count(), 1);
    EXPECT_EQ(q->visible_count(), 0);  // still leased by the dead consumer
  }
  std::this_thread::sleep_for(milliseconds(1100));
  // Another consumer (another process) gets it, as its second delivery.
  const pid_t heir = spawn([&] {
    auto q = open();
    auto m = q->receive(seconds(30));
    if (!m) return 2;
    if (m->body != "0") return 3;
    q->remove(*m);
    return 10 + m->dequeue_count;
  });
  EXPECT_EQ(exit_code_of(heir), 10 + 2);
  EXPECT_EQ(open()->count(), 0);
}

TEST_F(QueueConcurrencyTest, ConsumerThatExitsWithoutRemovingLosesNothingWhileOthersDrain) {
  fill(60);
  // One consumer takes a message and _exit()s; three others drain the queue meanwhile and pick
  // the abandoned message up once its one-second lease expires.
  const pid_t quitter = spawn([&] {
    auto q = open();
    auto m = q->receive(seconds(1));
    if (!m) return 2;
    shared_->crashed_on = std::stoi(m->body);
    ::_exit(0);
  });
  EXPECT_EQ(exit_code_of(quitter), 0);
  std::vector<pid_t> children;
  for (int p = 0; p < 3; ++p) {
    children.push_back(spawn([&] {
      auto q = open();
      drain(*q, seconds(1));
      return 0;
    }));
  }
  for (pid_t pid : children) EXPECT_EQ(exit_code_of(pid), 0);
  const int abandoned = shared_->crashed_on.load();
  ASSERT_GE(abandoned, 0);
  expect_each_completed_once(60);
  EXPECT_EQ(shared_->max_dequeue[abandoned].load(), 2);  // redelivered once
}

TEST_F(QueueConcurrencyTest, WriterKilledInsideATransactionDoesNotWedgeTheQueue) {
  fill(2);
  // A process that dies between BEGIN IMMEDIATE and COMMIT: the kernel drops its locks and the
  // next connection rolls its half-written transaction back.
  const pid_t victim = spawn([&] {
    db::SqliteDb db(db_);
    db.exec("BEGIN IMMEDIATE");
    db.exec("DELETE FROM queue_messages");
    ::kill(::getpid(), SIGKILL);
    return 3;
  });
  EXPECT_EQ(exit_code_of(victim), 128 + SIGKILL);
  auto q = open();
  EXPECT_EQ(q->count(), 2);  // the delete never committed
  auto m = q->receive(seconds(30));
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->body, "0");
  q->remove(*m);
  EXPECT_EQ(q->count(), 1);
}

}  // namespace
}  // namespace trib::queue

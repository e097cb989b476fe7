// TaskQueue under concurrency, on every implementation (queue_fixture.hpp): threads and forked
// processes draining one queue (each with its own queue object), consumers that die holding a
// lease, and a writer killed inside a transaction. Every message is completed exactly once:
// nothing lost, and no message delivered to two live leases (the loser's remove() would be a
// Conflict and fail its worker).
//
// No connection may be open in the parent across fork(), so each test closes the fixture's
// queue first and opens queues in scopes.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "trib/core/error.hpp"
#include "trib/queue/task_queue.hpp"
#include "queue_fixture.hpp"

namespace trib::queue {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::exit_code_of;

constexpr int kMessages = kSharedMessages;

TEST_P(QueueTest, ConcurrentThreadsDrainEveryMessageExactlyOnce) {
  queue_.reset();
  fill(kMessages);
  constexpr int kThreads = 4;
  std::vector<std::thread> threads;
  std::vector<int> done(kThreads, 0);
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      try {
        auto q = open_worker();  // one queue object per thread
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

TEST_P(QueueTest, ConcurrentProcessesDrainEveryMessageExactlyOnce) {
  queue_.reset();
  fill(kMessages);
  constexpr int kProcesses = 3;
  std::vector<pid_t> children;
  for (int p = 0; p < kProcesses; ++p) {
    children.push_back(spawn([&] {
      auto q = open_worker();
      drain(*q, seconds(30));
      return 0;
    }));
  }
  for (pid_t pid : children) EXPECT_EQ(exit_code_of(pid), 0);
  expect_each_completed_once(kMessages);
  for (int i = 0; i < kMessages; ++i) EXPECT_EQ(shared_->max_dequeue[i].load(), 1) << i;
}

TEST_P(QueueTest, ConcurrentLeaseOfAKilledConsumerExpiresAndAnotherGetsTheMessage) {
  queue_.reset();
  fill(1);
  const pid_t victim = spawn([&] {
    auto q = open_worker();
    auto m = q->receive(seconds(1));
    if (!m) return 2;
    ::kill(::getpid(), SIGKILL);  // dies holding the lease, without remove()
    return 3;
  });
  EXPECT_EQ(exit_code_of(victim), 128 + SIGKILL);
  {
    auto q = open_worker();
    EXPECT_EQ(q->count(), 1);
    EXPECT_EQ(q->visible_count(), 0);  // still leased by the dead consumer
  }
  std::this_thread::sleep_for(milliseconds(1100));
  // Another consumer (another process) gets it, as its second delivery.
  const pid_t heir = spawn([&] {
    auto q = open_worker();
    auto m = q->receive(seconds(30));
    if (!m) return 2;
    if (m->body != "0") return 3;
    q->remove(*m);
    return 10 + m->dequeue_count;
  });
  EXPECT_EQ(exit_code_of(heir), 10 + 2);
  EXPECT_EQ(open_worker()->count(), 0);
}

TEST_P(QueueTest, ConcurrentConsumerThatExitsWithoutRemovingLosesNothingWhileOthersDrain) {
  queue_.reset();
  fill(60);
  // One consumer takes a message and _exit()s; three others drain the queue meanwhile and pick
  // the abandoned message up once its one-second lease expires.
  const pid_t quitter = spawn([&] {
    auto q = open_worker();
    auto m = q->receive(seconds(1));
    if (!m) return 2;
    shared_->crashed_on = std::stoi(m->body);
    ::_exit(0);
  });
  EXPECT_EQ(exit_code_of(quitter), 0);
  std::vector<pid_t> children;
  for (int p = 0; p < 3; ++p) {
    children.push_back(spawn([&] {
      auto q = open_worker();
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

TEST_P(QueueTest, ConcurrentWriterKilledInsideATransactionDoesNotWedgeTheQueue) {
  if (azure()) {
    GTEST_SKIP() << "Azure has no transactions to die in: every queue operation is one request "
                    "the service applies whole or not at all";
  }
  queue_.reset();
  fill(2);
  // A process that dies between BEGIN and COMMIT: its half-written transaction is rolled back
  // (SQLite: by the next connection; PostgreSQL: by the server when the session ends).
  kill_a_writer_mid_transaction();
  auto q = open_worker();
  EXPECT_EQ(q->count(), 2);  // the delete never committed
  auto m = q->receive(seconds(30));
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->body, "0");
  q->remove(*m);
  EXPECT_EQ(q->count(), 1);
}

TEST_P(QueueTest, ConcurrentEnqueueUniqueAddsEachKeyOnce) {
  queue_.reset();
  constexpr int kThreads = 4;
  constexpr int kKeys = 50;
  std::atomic<int> added{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      try {
        auto q = open_worker();
        for (int k = 0; k < kKeys; ++k) {
          const int key = (k * 7 + t * 13) % kKeys;  // each thread in its own order
          if (q->enqueue_unique(std::to_string(key), "key-" + std::to_string(key))) {
            added.fetch_add(1);
          }
        }
      } catch (const std::exception& e) {
        std::fprintf(stderr, "thread %d: %s\n", t, e.what());
        failures.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(added.load(), kKeys);
  auto q = open_worker();
  EXPECT_EQ(q->count(), kKeys);
  std::set<std::string> keys;
  if (lists_everything()) {
    for (const auto& m : q->list()) {
      EXPECT_EQ(m.dedupe_key, "key-" + m.body);
      keys.insert(m.dedupe_key);
    }
  } else {
    // Azure lists at most 32 messages: receive them all instead (each carries its key).
    while (auto m = q->receive(seconds(60))) {
      EXPECT_EQ(m->dedupe_key, "key-" + m->body);
      keys.insert(m->dedupe_key);
    }
  }
  EXPECT_EQ(keys.size(), static_cast<size_t>(kKeys));
}

TEST_P(QueueTest, ConcurrentDeadLettersAndRedriveLoseNothing) {
  queue_.reset();
  constexpr int kCount = 120;
  fill(kCount);
  // Workers dead-letter every seventh message on its first delivery (a "permanent" error),
  // complete the rest; then the poison is redriven and drained again.
  std::atomic<int> failures{0};
  auto work = [&](bool dead_letter_sevens) {
    std::vector<std::thread> threads;
    for (int t = 0; t < 3; ++t) {
      threads.emplace_back([&, t] {
        try {
          auto q = open_worker();
          while (auto m = q->receive(seconds(30))) {
            const int i = std::stoi(m->body);
            if (dead_letter_sevens && i % 7 == 0) {
              q->dead_letter(*m, "permanent: message " + m->body);
              continue;
            }
            q->remove(*m);
            shared_->completed[i].fetch_add(1);
          }
        } catch (const std::exception& e) {
          std::fprintf(stderr, "thread %d: %s\n", t, e.what());
          failures.fetch_add(1);
        }
      });
    }
    for (auto& t : threads) t.join();
  };
  work(true);
  auto q = open_worker();
  constexpr int kSevens = (kCount + 6) / 7;
  EXPECT_EQ(q->count(), 0);
  EXPECT_EQ(q->poison_count(), kSevens);
  for (const auto& p : q->list_poison()) EXPECT_EQ(p.last_error, "permanent: message " + p.body);
  EXPECT_EQ(q->redrive(), kSevens);
  q.reset();
  work(false);
  EXPECT_EQ(failures.load(), 0);
  expect_each_completed_once(kCount);
  EXPECT_EQ(open_worker()->poison_count(), 0);
}

}  // namespace
}  // namespace trib::queue

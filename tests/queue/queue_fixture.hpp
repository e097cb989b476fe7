// One test suite for every TaskQueue implementation: QueueTest is parameterized by the backend
// (embedded SQLite, PostgreSQL) and instantiated once in queue_test.cpp as
// Backends/QueueTest.<Test>/<backend>. The semantics tests (queue_test.cpp) and the concurrency
// tests (queue_concurrency_test.cpp) are both TEST_Ps of it, so every assertion runs on both.
//
// PostgreSQL runs need the test server (tests/support/postgres_fixture.hpp): each test gets a
// schema of its own; without a server configured they are skipped with the reason.
//
// fork(): no database connection may be open in the parent across fork() (SQLite's rule; a
// PostgreSQL session must not be shared either), so the concurrency tests close queue_ first and
// open queues in scopes.
#pragma once

#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "trib/core/error.hpp"
#include "trib/db/postgres.hpp"
#include "trib/db/sqlite.hpp"
#include "trib/queue/task_queue.hpp"
#include "../core/test_util.hpp"
#include "../support/postgres_fixture.hpp"

namespace trib::queue {

enum class Backend { kEmbedded, kPostgres };

inline std::string backend_name(const ::testing::TestParamInfo<Backend>& info) {
  return info.param == Backend::kEmbedded ? "embedded" : "postgres";
}

inline constexpr int kSharedMessages = 240;

// Per-message counters shared with forked children (an anonymous shared mapping).
struct SharedCounters {
  std::atomic<int> completed[kSharedMessages];    // successful remove() calls
  std::atomic<int> max_dequeue[kSharedMessages];  // highest dequeue_count seen
  std::atomic<int> crashed_on{-1};                // the message a dying consumer held
  std::atomic<int> victim_backend{0};             // PostgreSQL: the killed writer's server pid
};

using trib::testing::spawn;

template <typename F>
Error error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "expected a trib::Error";
  return Error::Internal("no error");
}

class QueueTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    void* mem = ::mmap(nullptr, sizeof(SharedCounters), PROT_READ | PROT_WRITE,
                       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    ASSERT_NE(mem, MAP_FAILED);
    shared_ = new (mem) SharedCounters();
    if (GetParam() == Backend::kPostgres) {
      TRIB_PG_TEST_URL_OR_SKIP(server_url);
      pg_ = std::make_unique<testing::PgTestSchema>(server_url);
    }
    queue_ = open(3);
  }
  void TearDown() override {
    queue_.reset();  // before tmp_ removes the folder and pg_ drops the schema
    pg_.reset();
    if (shared_ != nullptr) ::munmap(shared_, sizeof(SharedCounters));
  }

  bool postgres() const { return GetParam() == Backend::kPostgres; }

  std::unique_ptr<TaskQueue> open(int max_attempts, const std::string& name = "tasks") {
    QueueOptions options;
    options.max_attempts = max_attempts;
    if (postgres()) return open_postgres_queue(pg_->url(), name, options);
    return open_embedded_queue(db_, name, options);
  }

  // ---- concurrency helpers ----

  // Queue "tasks" with max_attempts 5, as the concurrency tests use it.
  std::unique_ptr<TaskQueue> open_worker() { return open(5); }

  void fill(int n) {
    auto q = open_worker();
    for (int i = 0; i < n; ++i) q->enqueue(std::to_string(i));
  }

  // A worker loop: lease, "process", remove; exits once the queue is empty. Returns the number
  // of messages it completed. remove() throws Conflict if someone else held the message
  // meanwhile, which fails the worker: no message may be delivered to two live leases.
  int drain(TaskQueue& q, std::chrono::seconds lease) {
    int done = 0;
    while (true) {
      auto m = q.receive(lease);
      if (!m) {
        if (q.count() == 0) return done;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));  // leased elsewhere
        continue;
      }
      const int i = std::stoi(m->body);
      int seen = shared_->max_dequeue[i].load();
      while (seen < m->dequeue_count &&
             !shared_->max_dequeue[i].compare_exchange_weak(seen, m->dequeue_count)) {
      }
      q.remove(*m);
      shared_->completed[i].fetch_add(1);
      ++done;
    }
  }

  void expect_each_completed_once(int n) {
    for (int i = 0; i < n; ++i) {
      EXPECT_EQ(shared_->completed[i].load(), 1) << "message " << i;
    }
    EXPECT_EQ(open_worker()->count(), 0);
  }

  // A process that deletes every message inside an open transaction and is SIGKILLed before it
  // commits. Returns once the database has undone it: at once for SQLite (the kernel drops the
  // dead process's locks; the next connection rolls its journal back), and for PostgreSQL once
  // the server has seen the socket close and ended that session (until then its row locks make
  // SKIP LOCKED pass over the messages, as they would for a live writer).
  void kill_a_writer_mid_transaction() {
    if (!postgres()) {
      const pid_t victim = spawn([&] {
        db::SqliteDb db(db_);
        db.exec("BEGIN IMMEDIATE");
        db.exec("DELETE FROM queue_messages");
        ::kill(::getpid(), SIGKILL);
        return 3;
      });
      EXPECT_EQ(testing::exit_code_of(victim), 128 + SIGKILL);
      return;
    }
    const std::string url = pg_->url();
    const pid_t victim = spawn([&] {
      db::PgConnection db(url);
      db.transaction([&](db::PgTx& tx) {
        shared_->victim_backend = static_cast<int>(*tx.scalar("SELECT pg_backend_pid()"));
        tx.exec("DELETE FROM queue_messages");
        ::kill(::getpid(), SIGKILL);
      });
      return 3;
    });
    EXPECT_EQ(testing::exit_code_of(victim), 128 + SIGKILL);
    ASSERT_NE(shared_->victim_backend.load(), 0);
    db::PgConnection admin(url);
    for (int waited_ms = 0; waited_ms < 10'000; waited_ms += 5) {
      if (admin.scalar("SELECT count(*) FROM pg_stat_activity WHERE pid = $1",
                       shared_->victim_backend.load()) == 0) {
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ADD_FAILURE() << "the killed writer's session is still open after 10 s";
  }

  testing::TempDir tmp_;  // children _exit, so only the parent removes it
  const std::filesystem::path dir_ = tmp_.path(), db_ = dir_ / "catalog.db";
  std::unique_ptr<testing::PgTestSchema> pg_;
  std::unique_ptr<TaskQueue> queue_;
  SharedCounters* shared_ = nullptr;
};

}  // namespace trib::queue

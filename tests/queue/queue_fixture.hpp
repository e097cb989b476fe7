// One test suite for every TaskQueue implementation: QueueTest is parameterized by the backend
// (embedded SQLite, PostgreSQL, Azure Storage Queue on Azurite) and instantiated once in
// queue_test.cpp as Backends/QueueTest.<Test>/<backend>. The semantics tests (queue_test.cpp)
// and the concurrency tests (queue_concurrency_test.cpp) are both TEST_Ps of it, so every
// assertion runs on every backend, except the few lines Azure cannot meet (task_queue.hpp): those
// ask fifo(), own_ids() or lists_everything() and say why.
//
// PostgreSQL runs need the test server (tests/support/postgres_fixture.hpp): each test gets a
// schema of its own. Azure runs need Azurite (tests/support/azure_fixture.hpp; ctest starts it
// for every test whose name contains "azure"): each test gets queues of its own, named
// "<logical name>-<pid>-<n>-<random>" (queue_name()), deleted with their markers at TearDown.
// Without a server configured they are skipped with the reason.
//
// fork(): no database connection may be open in the parent across fork() (SQLite's rule; a
// PostgreSQL session must not be shared either; an Azure queue object holds a libcurl handle),
// so the concurrency tests close queue_ first and open queues in scopes.
#pragma once

#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "trib/core/error.hpp"
#include "trib/db/postgres.hpp"
#include "trib/db/sqlite.hpp"
#include "trib/net/azure_storage.hpp"
#include "trib/queue/task_queue.hpp"
#include "../core/test_util.hpp"
#include "../support/azure_fixture.hpp"
#include "../support/postgres_fixture.hpp"

namespace trib::queue {

enum class Backend { kEmbedded, kPostgres, kAzure };

// "azure" makes ctest attach the Azurite fixture (tests/support/backend_tests.cmake.in).
inline std::string backend_name(const ::testing::TestParamInfo<Backend>& info) {
  switch (info.param) {
    case Backend::kEmbedded: return "embedded";
    case Backend::kPostgres: return "postgres";
    case Backend::kAzure: return "azure";
  }
  return "unknown";
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
    if (GetParam() == Backend::kAzure) {
      TRIB_AZURE_TEST_OR_SKIP(connection_string);
      account_ = net::azure::parse_connection_string(connection_string);
    }
    queue_ = open(3);
  }
  void TearDown() override {
    queue_.reset();  // before tmp_ removes the folder and pg_ drops the schema
    pg_.reset();
    if (account_) drop_azure_queues();
    if (shared_ != nullptr) ::munmap(shared_, sizeof(SharedCounters));
  }

  bool postgres() const { return GetParam() == Backend::kPostgres; }
  bool azure() const { return GetParam() == Backend::kAzure; }

  // What Azure cannot do exactly (task_queue.hpp), so the lines that need it are relaxed there
  // and only there:
  // Delivery in insertion order among visible messages. Azure promises no order (Azurite
  // delivers by the time a message became visible: a released message goes behind older ones).
  bool fifo() const { return !azure(); }
  // Ids are ours (32 hex digits, receipts 32 characters) and a redriven message keeps its id.
  // Azure assigns GUIDs and receipts of its own, and a redriven message is a new Azure message.
  bool own_ids() const { return !azure(); }
  // list() shows leased and delayed messages too, and up to `limit`; Azure peeks, which shows
  // at most 32 visible messages.
  bool lists_everything() const { return !azure(); }

  // The name the backend sees for the test's queue `logical`: the same for the databases (each
  // test has its own file or schema); a fresh name per test on Azure, where queues are
  // account-wide. Names Azure would refuse stay as they are, so they are refused the same way.
  std::string queue_name(const std::string& logical) {
    if (!azure() || !valid_queue_name(logical)) return logical;
    auto it = azure_names_.find(logical);
    if (it == azure_names_.end()) {
      it = azure_names_.emplace(logical, testing::azure_unique_name(logical)).first;
    }
    return it->second;
  }

  std::unique_ptr<TaskQueue> open(int max_attempts, const std::string& name = "tasks") {
    QueueOptions options;
    options.max_attempts = max_attempts;
    if (postgres()) return open_postgres_queue(pg_->url(), name, options);
    if (azure()) return open_azure_queue(*account_, queue_name(name), options);
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

  // Deletes the Azure queues this test used, with their poison queues and dedupe markers.
  void drop_azure_queues() {
    net::azure::StorageClient client(*account_);
    for (const auto& [logical, name] : azure_names_) {
      try {
        open_azure_queue(*account_, name, {}, /*create=*/false)->clear();  // the markers
      } catch (const Error&) {
        // never created (the test failed before), or already gone
      }
      for (const std::string& queue : {name, name + "-poison"}) {
        net::HttpRequest request;
        request.method = "DELETE";
        request.url = client.url(net::azure::Service::kQueue, "/" + queue);
        const net::HttpResponse response = client.send(request);
        EXPECT_TRUE(response.status == 204 || response.status == 404)
            << queue << ": HTTP " << response.status;
      }
    }
  }

  // The naming rule of task_queue.hpp, so a name every backend refuses is not made valid by
  // queue_name()'s suffix.
  static bool valid_queue_name(const std::string& name) {
    bool ok = name.size() >= 3 && name.size() <= 56 && name.front() != '-' &&
              name.back() != '-' && name.find("--") == std::string::npos;
    for (char c : name) ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-');
    return ok;
  }

  testing::TempDir tmp_;  // children _exit, so only the parent removes it
  const std::filesystem::path dir_ = tmp_.path(), db_ = dir_ / "catalog.db";
  std::unique_ptr<testing::PgTestSchema> pg_;
  std::optional<net::azure::StorageAccount> account_;
  std::map<std::string, std::string> azure_names_;  // logical -> Azure queue name
  std::unique_ptr<TaskQueue> queue_;
  SharedCounters* shared_ = nullptr;
};

}  // namespace trib::queue

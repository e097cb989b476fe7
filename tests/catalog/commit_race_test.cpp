// commit_partition under contention: forked processes and threads, each with its own catalog,
// hammer one partition key with the ETL's read-merge-commit loop. The write lock must serialise
// publish calls (no two overlap, across processes), every commit must land (no lost update) and
// the version must count exactly the content changes.
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "trib/catalog/catalog.hpp"
#include "trib/core/error.hpp"
#include "trib/core/fs.hpp"
#include "trib/core/hash.hpp"

namespace trib::catalog {
namespace {

namespace fs = std::filesystem;

// Counters shared by the forked processes (an anonymous shared mapping made before fork).
struct Shared {
  std::atomic<int> in_publish{0};   // > 1 at any moment = two publishes overlapped
  std::atomic<int> overlaps{0};
  std::atomic<int> publishes{0};    // publish calls that completed
  std::atomic<int> changed{0};      // kCreated + kReplaced outcomes
  std::atomic<int> unchanged{0};
  std::atomic<int> conflicts{0};    // publish refused: the version moved since our read
};
static_assert(std::atomic<int>::is_always_lock_free);

// One committer: appends `count` tokens to the partition's "file" (a line per token), each
// through the ETL protocol: read the row and the file, merge, commit; a version that moved
// between read and commit makes publish throw Conflict and the merge runs again. After each
// change it re-commits the same content once, which must be kUnchanged unless someone else
// committed in between.
void committer(const fs::path& db, const fs::path& file, const std::string& who, int count,
               Shared& shared) {
  auto catalog = open_sqlite_catalog(db);
  const PartitionKey key{"bars", "1d", "RACE", "2020"};
  for (int i = 0; i < count; ++i) {
    const std::string token = who + "-" + std::to_string(i) + "\n";
    // Bounded, so that a broken lock fails the test instead of spinning forever.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (true) {
      if (std::chrono::steady_clock::now() > deadline) {
        throw std::runtime_error(who + ": no successful commit within 20 s");
      }
      const auto current = catalog->get_partition(key);
      const std::string old = current ? read_file(file) : "";
      if (current && sha256_hex(old) != current->content_sha256) continue;  // mid-publish
      const std::string bytes = old + token;
      PartitionRecord record;
      record.key = key;
      record.object_key = file.string();
      record.content_sha256 = sha256_hex(bytes);
      record.row_count = current ? current->row_count + 1 : 1;
      record.code_version = "test";
      const int64_t read_version = current ? current->version : 0;
      auto publish = [&](const std::optional<PartitionRecord>& previous) {
        if (shared.in_publish.fetch_add(1) != 0) shared.overlaps.fetch_add(1);
        const int64_t now_version = previous ? previous->version : 0;
        if (now_version != read_version) {
          shared.in_publish.fetch_sub(1);
          shared.conflicts.fetch_add(1);
          throw Error::Conflict("moved");
        }
        write_file_atomic(file, bytes);
        std::this_thread::sleep_for(std::chrono::microseconds(300));  // widen the window
        shared.publishes.fetch_add(1);
        shared.in_publish.fetch_sub(1);
      };
      try {
        const CommitOutcome outcome = catalog->commit_partition(record, publish);
        if (outcome == CommitOutcome::kUnchanged) {
          throw std::runtime_error("a new token cannot leave the content unchanged");
        }
        shared.changed.fetch_add(1);
      } catch (const Error& e) {
        if (e.category() != ErrorCategory::kConflict) throw;
        continue;  // lost the race: merge again on top of the other commit
      }
      // The same content again: unchanged unless another committer got in first.
      try {
        const CommitOutcome again = catalog->commit_partition(record, [&](const auto&) {
          if (shared.in_publish.fetch_add(1) != 0) shared.overlaps.fetch_add(1);
          // Someone else committed since: republishing our older bytes would lose their
          // token, so refuse, as the ETL does.
          shared.in_publish.fetch_sub(1);
          shared.conflicts.fetch_add(1);
          throw Error::Conflict("moved");
        });
        if (again == CommitOutcome::kUnchanged) shared.unchanged.fetch_add(1);
      } catch (const Error& e) {
        if (e.category() != ErrorCategory::kConflict) throw;
      }
      break;
    }
  }
}

class CommitRaceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("trib-commit-race-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    void* mem = ::mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE,
                       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    ASSERT_NE(mem, MAP_FAILED);
    shared_ = new (mem) Shared();
  }
  void TearDown() override {
    ::munmap(shared_, sizeof(Shared));
    fs::remove_all(dir_);
  }
  fs::path dir_;
  Shared* shared_ = nullptr;
};

TEST_F(CommitRaceTest, ProcessesAndThreadsNeverLoseAnUpdateOrOverlapPublishes) {
  const fs::path db = dir_ / "catalog.db";
  const fs::path file = dir_ / "partition.txt";
  open_sqlite_catalog(db);  // create the schema; closed again before fork
  constexpr int kProcesses = 2, kThreads = 2, kPerCommitter = 40;

  // No SQLite connection may be open in this process across fork().
  std::vector<pid_t> children;
  for (int p = 0; p < kProcesses; ++p) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      int rc = 0;
      try {
        committer(db, file, "proc" + std::to_string(p), kPerCommitter, *shared_);
      } catch (const std::exception& e) {
        std::fprintf(stderr, "committer process %d: %s\n", p, e.what());
        rc = 1;
      }
      ::_exit(rc);
    }
    children.push_back(pid);
  }
  std::vector<std::thread> threads;
  std::atomic<int> thread_failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      try {
        committer(db, file, "thread" + std::to_string(t), kPerCommitter, *shared_);
      } catch (const std::exception& e) {
        std::fprintf(stderr, "committer thread %d: %s\n", t, e.what());
        thread_failures.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  for (pid_t pid : children) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
  }
  EXPECT_EQ(thread_failures.load(), 0);

  constexpr int kTotal = (kProcesses + kThreads) * kPerCommitter;
  auto catalog = open_sqlite_catalog(db);
  const auto row = catalog->get_partition({"bars", "1d", "RACE", "2020"});
  ASSERT_TRUE(row.has_value());
  EXPECT_EQ(shared_->overlaps.load(), 0) << "two publish calls ran at the same time";
  EXPECT_EQ(shared_->changed.load(), kTotal);
  EXPECT_EQ(shared_->publishes.load(), kTotal);  // no publish for unchanged content
  EXPECT_EQ(row->version, kTotal);               // one version per distinct content
  EXPECT_EQ(row->row_count, kTotal);

  // No lost update: every token of every committer is in the file the row vouches for.
  const std::string content = read_file(file);
  EXPECT_EQ(sha256_hex(content), row->content_sha256);
  std::set<std::string> tokens;
  std::istringstream lines(content);
  for (std::string line; std::getline(lines, line);) tokens.insert(line);
  EXPECT_EQ(tokens.size(), static_cast<size_t>(kTotal));
  for (const char* who : {"proc0", "proc1", "thread0", "thread1"}) {
    for (int i = 0; i < kPerCommitter; ++i) {
      EXPECT_TRUE(tokens.count(std::string(who) + "-" + std::to_string(i))) << who << " " << i;
    }
  }

  // History: versions 1 .. kTotal-1, each with its own content.
  const auto history = catalog->partition_history(row->key);
  ASSERT_EQ(history.size(), static_cast<size_t>(kTotal - 1));
  std::set<std::string> hashes{row->content_sha256};
  for (size_t i = 0; i < history.size(); ++i) {
    EXPECT_EQ(history[i].version, static_cast<int64_t>(i) + 1);
    EXPECT_EQ(history[i].row_count, static_cast<int64_t>(i) + 1);
    hashes.insert(history[i].content_sha256);
  }
  EXPECT_EQ(hashes.size(), static_cast<size_t>(kTotal));
  std::printf("commits %d, unchanged re-commits %d, conflicts retried %d\n", kTotal,
              shared_->unchanged.load(), shared_->conflicts.load());
}

}  // namespace
}  // namespace trib::catalog

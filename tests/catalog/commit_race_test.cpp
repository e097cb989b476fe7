// Concurrent writers on every backend, each with its own catalog object (its own connection):
// forked processes and threads run the ETL's read-merge-commit loop on one partition (no update
// may be lost, the version counts exactly the content changes), writers race to create version
// 1, group commits lock overlapping partitions in opposite orders, the hot cache and dq counts
// are rewritten by concurrent commits.
//
// The partition's "file" is a text of one token per line; each version is an immutable object
// named by its hash in a shared folder (the lake's _versions/), written before the commit that
// names it, as the ETL does.
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <latch>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "catalog_fixture.hpp"
#include "trib/catalog/catalog.hpp"
#include "trib/core/error.hpp"
#include "trib/core/hash.hpp"

namespace trib::catalog {
namespace {

using testing::exit_code_of;

// Counters shared by the forked processes (an anonymous shared mapping made before fork).
struct Shared {
  std::atomic<int> changed{0};    // kCreated + kReplaced outcomes
  std::atomic<int> unchanged{0};  // re-commits of the content just committed, still current
  std::atomic<int> conflicts{0};  // commits refused because the version moved: merged again
  std::atomic<int> late{0};       // re-commits refused because another writer got in first
};
static_assert(std::atomic<int>::is_always_lock_free);

// Immutable version objects named by their content hash (put-if-absent by rename).
class VersionStore {
 public:
  explicit VersionStore(fs::path dir) : dir_(std::move(dir)) { fs::create_directories(dir_); }

  std::string put(const std::string& bytes) const {
    const fs::path path = dir_ / (sha256_hex(bytes) + ".txt");
    if (!fs::exists(path)) {
      static std::atomic<int> counter{0};
      const fs::path temp = dir_ / fmt::format(".tmp-{}-{}", ::getpid(), counter.fetch_add(1));
      testing::spit(temp, bytes);
      fs::rename(temp, path);  // same bytes either way when two writers race
    }
    return path.string();
  }
  std::string get(const std::string& key) const { return testing::slurp(key); }

 private:
  fs::path dir_;
};

std::set<std::string> lines_of(const std::string& text) {
  std::set<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.insert(line);
  return out;
}

// The new version of `key` with `token` appended to what `current` holds.
PartitionRecord appended(const VersionStore& store, const PartitionKey& key,
                         const std::optional<PartitionRecord>& current, const std::string& token) {
  const std::string bytes = (current ? store.get(current->version_key) : "") + token + "\n";
  PartitionRecord r;
  r.key = key;
  r.object_key = "live/" + key.symbol + "/" + key.partition;
  r.version_key = store.put(bytes);
  r.content_sha256 = sha256_hex(bytes);
  r.row_count = current ? current->row_count + 1 : 1;
  r.code_version = "test";
  return r;
}

using Clock = std::chrono::steady_clock;

// Bounded, so that a broken lock fails the test instead of spinning forever.
void check_deadline(Clock::time_point deadline, const std::string& who) {
  if (Clock::now() > deadline) throw std::runtime_error(who + ": no successful commit within 60 s");
}

// One committer: appends `count` tokens to the partition through the ETL protocol: read the row
// and its version object, merge, write the new version object, commit on the version read; a
// Conflict (someone committed in between) merges again on top of the winner. After each change
// it re-commits the same content on the same expected version: kUnchanged (the content is
// current even though the version moved) unless another committer got in first (Conflict).
void committer(Catalog& catalog, const VersionStore& store, const std::string& who, int count,
               Shared& shared) {
  const PartitionKey key{"bars", "1d", "RACE", "2020"};
  for (int i = 0; i < count; ++i) {
    const std::string token = who + "-" + std::to_string(i);
    const auto deadline = Clock::now() + std::chrono::seconds(60);
    while (true) {
      check_deadline(deadline, who);
      const auto current = catalog.get_partition(key);
      PartitionCommit c;
      c.record = appended(store, key, current, token);
      c.expected_version = current ? current->version : 0;
      try {
        const CommitResult result = catalog.commit_partition(c);
        if (result.outcome == CommitOutcome::kUnchanged) {
          throw std::runtime_error("a new token cannot leave the content unchanged");
        }
        if (result.version != c.expected_version + 1) {
          throw std::runtime_error(
              fmt::format("committed version {} on top of {}", result.version, c.expected_version));
        }
        shared.changed.fetch_add(1);
      } catch (const Error& e) {
        if (e.category() != ErrorCategory::kConflict) throw;
        shared.conflicts.fetch_add(1);
        continue;  // lost the race: merge again on top of the other commit
      }
      try {
        if (catalog.commit_partition(c).outcome != CommitOutcome::kUnchanged) {
          throw std::runtime_error("re-committing committed content changed the partition");
        }
        shared.unchanged.fetch_add(1);
      } catch (const Error& e) {
        if (e.category() != ErrorCategory::kConflict) throw;
        shared.late.fetch_add(1);
      }
      break;
    }
  }
}

class CatalogConcurrencyTest : public CatalogTest {
 protected:
  void SetUp() override {
    CatalogTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    void* mem =
        ::mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    ASSERT_NE(mem, MAP_FAILED);
    shared_ = new (mem) Shared();
  }
  void TearDown() override {
    if (shared_ != nullptr) ::munmap(shared_, sizeof(Shared));
    CatalogTest::TearDown();
  }

  // Runs `body(index)` on `n` threads, each with its own catalog, started together. Returns the
  // number of threads that threw (each one's error is printed).
  int run_threads(int n, const std::function<void(int, Catalog&)>& body,
                  CatalogOptions options = {}) {
    std::vector<std::unique_ptr<Catalog>> catalogs;
    for (int i = 0; i < n; ++i) catalogs.push_back(open(options));
    std::latch start(n);
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < n; ++i) {
      threads.emplace_back([&, i] {
        start.arrive_and_wait();
        try {
          body(i, *catalogs[i]);
        } catch (const std::exception& e) {
          std::fprintf(stderr, "thread %d: %s\n", i, e.what());
          failures.fetch_add(1);
        }
      });
    }
    for (auto& t : threads) t.join();
    return failures.load();
  }

  Shared* shared_ = nullptr;
};

INSTANTIATE_TEST_SUITE_P(Backends, CatalogConcurrencyTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres), backend_name);

TEST_P(CatalogConcurrencyTest, ProcessesAndThreadsNeverLoseAnUpdate) {
  const VersionStore store(tmp_.path() / "versions");
  constexpr int kProcesses = 2, kThreads = 2, kPerCommitter = 40;
  catalog_.reset();  // no connection may be open in this process across fork()

  std::vector<pid_t> children;
  for (int p = 0; p < kProcesses; ++p) {
    children.push_back(spawn([&, p] {
      auto catalog = open();
      committer(*catalog, store, "proc" + std::to_string(p), kPerCommitter, *shared_);
      return 0;
    }));
  }
  const int thread_failures = run_threads(kThreads, [&](int t, Catalog& catalog) {
    committer(catalog, store, "thread" + std::to_string(t), kPerCommitter, *shared_);
  });
  for (pid_t pid : children) EXPECT_EQ(exit_code_of(pid), 0);
  EXPECT_EQ(thread_failures, 0);

  constexpr int kTotal = (kProcesses + kThreads) * kPerCommitter;
  auto catalog = open();
  const auto row = catalog->get_partition({"bars", "1d", "RACE", "2020"});
  ASSERT_TRUE(row.has_value());
  EXPECT_EQ(shared_->changed.load(), kTotal);
  EXPECT_EQ(row->version, kTotal);  // one version per distinct content
  EXPECT_EQ(row->row_count, kTotal);
  EXPECT_EQ(shared_->unchanged.load() + shared_->late.load(), kTotal);

  // No lost update: every token of every committer is in the version the row vouches for.
  const std::string content = store.get(row->version_key);
  EXPECT_EQ(sha256_hex(content), row->content_sha256);
  const std::set<std::string> tokens = lines_of(content);
  EXPECT_EQ(tokens.size(), static_cast<size_t>(kTotal));
  for (const char* who : {"proc0", "proc1", "thread0", "thread1"}) {
    for (int i = 0; i < kPerCommitter; ++i) {
      EXPECT_TRUE(tokens.count(std::string(who) + "-" + std::to_string(i))) << who << " " << i;
    }
  }

  // History: versions 1 .. kTotal-1, each with its own content, each a prefix of the next.
  const auto history = catalog->partition_history(row->key);
  ASSERT_EQ(history.size(), static_cast<size_t>(kTotal - 1));
  std::set<std::string> hashes{row->content_sha256};
  for (size_t i = 0; i < history.size(); ++i) {
    EXPECT_EQ(history[i].version, static_cast<int64_t>(i) + 1);
    EXPECT_EQ(history[i].row_count, static_cast<int64_t>(i) + 1);
    hashes.insert(history[i].content_sha256);
    const std::string next =
        i + 1 < history.size() ? store.get(history[i + 1].version_key) : content;
    EXPECT_TRUE(next.starts_with(store.get(history[i].version_key))) << "version " << i + 1;
  }
  EXPECT_EQ(hashes.size(), static_cast<size_t>(kTotal));
  std::printf("commits %d, unchanged re-commits %d, late re-commits %d, conflicts retried %d\n",
              kTotal, shared_->unchanged.load(), shared_->late.load(), shared_->conflicts.load());
}

// Many writers that all read "no row" commit version 1 at once: exactly one creates it; the
// others get Conflict (other content) or kUnchanged (the same bytes), never a second version 1
// and never an error of another kind.
TEST_P(CatalogConcurrencyTest, WritersRacingToCreateVersionOneCreateItOnce) {
  constexpr int kThreads = 8, kRounds = 8;
  std::vector<std::unique_ptr<Catalog>> catalogs;
  for (int t = 0; t < kThreads; ++t) catalogs.push_back(open());
  for (int round = 0; round < kRounds; ++round) {
    const bool same_content = round % 2 == 1;
    const std::string partition = std::to_string(2000 + round);
    std::vector<std::optional<CommitOutcome>> outcomes(kThreads);
    std::vector<std::string> errors(kThreads);
    std::latch start(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        const std::string sha = same_content ? "same" : "sha-" + std::to_string(t);
        start.arrive_and_wait();
        try {
          outcomes[t] =
              catalogs[t]->commit_partition(commit(record("NEW", partition, sha), 0)).outcome;
        } catch (const Error& e) {
          errors[t] = e.what();
          if (e.category() != ErrorCategory::kConflict)
            ADD_FAILURE() << "thread " << t << ": " << e.what();
        }
      });
    }
    for (auto& t : threads) t.join();
    int created = 0, unchanged = 0, conflicts = 0;
    for (int t = 0; t < kThreads; ++t) {
      if (!outcomes[t]) {
        ++conflicts;
      } else if (*outcomes[t] == CommitOutcome::kCreated) {
        ++created;
      } else if (*outcomes[t] == CommitOutcome::kUnchanged) {
        ++unchanged;
      } else {
        ADD_FAILURE() << "thread " << t << " replaced a partition it saw as absent";
      }
    }
    EXPECT_EQ(created, 1) << "round " << round;
    EXPECT_EQ(same_content ? unchanged : conflicts, kThreads - 1) << "round " << round;
    const auto row = catalog_->get_partition(key("NEW", partition));
    ASSERT_TRUE(row.has_value());
    EXPECT_EQ(row->version, 1);
    EXPECT_TRUE(catalog_->partition_history(row->key).empty());
  }
}

// Group commits over the same three partitions, each thread naming them in its own order: the
// backends order their locks, so no deadlock surfaces, and each group is all or nothing (every
// token lands in all three partitions).
TEST_P(CatalogConcurrencyTest, GroupCommitsOverOverlappingPartitionsLoseNothing) {
  const VersionStore store(tmp_.path() / "versions");
  constexpr int kThreads = 4, kGroups = 15;
  const std::vector<PartitionKey> keys{key("AAA", "2020"), key("BBB", "2020"), key("CCC", "2020")};
  const int failures = run_threads(kThreads, [&](int t, Catalog& catalog) {
    std::vector<PartitionKey> mine = keys;
    if (t % 2 == 1) std::reverse(mine.begin(), mine.end());
    std::rotate(mine.begin(), mine.begin() + t % 3, mine.end());
    for (int g = 0; g < kGroups; ++g) {
      const std::string token = fmt::format("t{}-g{}", t, g);
      const auto deadline = Clock::now() + std::chrono::seconds(60);
      while (true) {
        check_deadline(deadline, token);
        std::vector<PartitionCommit> group;
        for (const auto& k : mine) {
          const auto current = catalog.get_partition(k);
          PartitionCommit c;
          c.record = appended(store, k, current, token);
          c.expected_version = current ? current->version : 0;
          c.watermarks.push_back({"sim", "bars", k.symbol, fmt::format("2020-01-{:02}", g + 1)});
          group.push_back(std::move(c));
        }
        try {
          catalog.commit_partitions(group);
          break;
        } catch (const Error& e) {
          if (e.category() != ErrorCategory::kConflict) throw;
        }
      }
    }
  });
  EXPECT_EQ(failures, 0);
  for (const auto& k : keys) {
    const auto row = catalog_->get_partition(k);
    ASSERT_TRUE(row.has_value());
    EXPECT_EQ(row->version, kThreads * kGroups) << k.symbol;
    const auto tokens = lines_of(store.get(row->version_key));
    EXPECT_EQ(tokens.size(), static_cast<size_t>(kThreads * kGroups)) << k.symbol;
    EXPECT_EQ(catalog_->get_watermark("sim", "bars", k.symbol),
              fmt::format("2020-01-{:02}", kGroups));
  }
}

// Threads commit (and then replace, twice) different partitions of one symbol at once: the hot
// cache is read, merged and rewritten by each commit, one after the other, so an observer never
// sees more than N rows, and it ends as the newest N rows of everything committed.
TEST_P(CatalogConcurrencyTest, HotCacheIsTheNewestRowsAfterConcurrentCommits) {
  constexpr int kWriters = 6, kSessions = 7, kVersions = 3;
  CatalogOptions options;
  options.hot_cache_sessions = kSessions;
  // Writer t owns years 2t and 2t+1, five daily rows each; days interleave across writers so
  // that the newest rows come from several of them.
  auto rows_of = [](int year, int version) {
    std::vector<HotBar> rows;
    for (int d = 0; d < 5; ++d)
      rows.push_back(bar(d * 100 + year, d * 100 + year + version * 0.25));
    return rows;
  };
  std::atomic<int> writers_done{0};
  std::atomic<size_t> most_rows_seen{0};
  const int failures = run_threads(
      kWriters + 1,
      [&](int t, Catalog& catalog) {
        if (t == kWriters) {  // the observer
          while (writers_done.load() < kWriters) {
            const size_t rows = catalog.hot_bars("HOT", "1d").size();
            if (rows > most_rows_seen.load()) most_rows_seen.store(rows);
          }
          return;
        }
        struct Done {  // counted however the writer ends, so the observer always stops
          std::atomic<int>& done;
          ~Done() { done.fetch_add(1); }
        } done{writers_done};
        for (int version = 0; version < kVersions; ++version) {
          for (int year : {2 * t, 2 * t + 1}) {
            catalog.commit_partition(
                commit(record("HOT", std::to_string(year), "v" + std::to_string(version)), version,
                       rows_of(year, version)));
          }
        }
      },
      options);
  EXPECT_EQ(failures, 0);
  EXPECT_LE(most_rows_seen.load(), static_cast<size_t>(kSessions));
  std::vector<HotBar> all;
  for (int year = 0; year < 2 * kWriters; ++year) {
    for (const auto& h : rows_of(year, kVersions - 1)) all.push_back(h);
  }
  std::sort(all.begin(), all.end(),
            [](const HotBar& a, const HotBar& b) { return a.ts_ns < b.ts_ns; });
  const std::vector<HotBar> newest(all.end() - kSessions, all.end());
  EXPECT_EQ(catalog_->hot_bars("HOT", "1d"), newest);
}

// Redelivered copies of one payload recount its dq findings at the same time: the summary holds
// the payload's true count, never the sum of the attempts.
TEST_P(CatalogConcurrencyTest, ConcurrentDqReplacersGiveTheTrueCount) {
  constexpr int kThreads = 4, kRepeats = 25;
  const int failures = run_threads(kThreads, [&](int t, Catalog& catalog) {
    for (int i = 0; i < kRepeats; ++i) {
      catalog.replace_dq("raw/shared", "bars",
                         {{"AAPL", {{"high_below_low", 3}}}, {"MSFT", {{"negative_volume", 2}}}},
                         "run-" + std::to_string(t));
      catalog.replace_dq("raw/own-" + std::to_string(t), "bars",
                         {{"AAPL", {{"high_below_low", 1}}}}, "run-" + std::to_string(t));
    }
  });
  EXPECT_EQ(failures, 0);
  const auto all = catalog_->dq_summary();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].rule, "high_below_low");
  EXPECT_EQ(all[0].rows, 3 + kThreads);
  EXPECT_EQ(all[1].rule, "negative_volume");
  EXPECT_EQ(all[1].rows, 2);
}

// Tasks and raw objects recorded by many connections at once: each recorded exactly once.
TEST_P(CatalogConcurrencyTest, InsertIfAbsentRecordsOnceUnderConcurrency) {
  constexpr int kThreads = 4, kItems = 30;
  std::atomic<int> tasks{0}, raws{0}, orders{0};
  const int failures = run_threads(kThreads, [&](int t, Catalog& catalog) {
    for (int i = 0; i < kItems; ++i) {
      const int item = (i + t * 11) % kItems;
      if (catalog.mark_task_done(fmt::format("task-{}", item), "run-" + std::to_string(t))) {
        tasks.fetch_add(1);
      }
      if (catalog.record_raw_object({fmt::format("raw/{}", item), "sim", "bars", "AAPL", "sha", 1,
                                     "2024-01-02", "{}", item, "", "", ""})) {
        raws.fetch_add(1);
      }
      OrderRecord o;
      o.client_order_id = fmt::format("order-{}", item);
      o.symbol = "AAPL";
      o.qty = Micros::parse("1");
      if (catalog.insert_order_if_absent(o)) orders.fetch_add(1);
    }
  });
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(tasks.load(), kItems);
  EXPECT_EQ(raws.load(), kItems);
  EXPECT_EQ(orders.load(), kItems);
  int64_t done = 0;
  for (int t = 0; t < kThreads; ++t) done += catalog_->count_tasks_done("run-" + std::to_string(t));
  EXPECT_EQ(done, kItems);
  EXPECT_EQ(catalog_->list_raw_objects().size(), static_cast<size_t>(kItems));
}

}  // namespace
}  // namespace trib::catalog

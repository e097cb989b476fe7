// The ObjectStore contract, run against every store through a typed suite (ObjectStoreContract),
// then what only the local folder store promises (LocalStore) and the raw store on top.
//
// Adding a store: write a factory like LocalStoreFactory (a fresh, empty store per test from
// open(); every call to open() names the same store, as separate processes would) and add it to
// StoreFactories.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <barrier>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "../core/test_util.hpp"
#include "../support/azure_fixture.hpp"
#include "trib/core/error.hpp"
#include "trib/core/fs.hpp"
#include "trib/core/hash.hpp"
#include "trib/lake/layout.hpp"
#include "trib/lake/object_store.hpp"
#include "trib/lake/raw_store.hpp"

namespace fs = std::filesystem;
using namespace trib;
using lake::Durability;
using lake::ObjectStore;
using lake::WriteCondition;
using trib::testing::category_of;
using trib::testing::exit_code_of;
using trib::testing::TempDir;

namespace {

// A local folder store in a fresh temp folder.
struct LocalStoreFactory {
  static constexpr const char* kName = "Local";
  static constexpr int kRaceRounds = 500;
  TempDir dir;
  bool available() const { return true; }
  std::unique_ptr<ObjectStore> open() const { return lake::open_local_store(dir.path() / "lake"); }
};

// A fresh container (under a prefix, as a workspace in a shared container would be) on the
// Azurite of the test run; deleted with the factory. Unavailable without Azurite (skip, or
// fail under ctest: tests/support/azure_fixture.hpp).
struct AzureStoreFactory {
  static constexpr const char* kName = "Azure";
  // Every write is an HTTP round trip to Azurite: fewer rounds keep the race tests to seconds.
  static constexpr int kRaceRounds = 100;
  std::string connection = trib::testing::azure_test_connection_string();
  lake::AzureStoreOptions options = [] {
    lake::AzureStoreOptions o;
    o.container = trib::testing::azure_unique_name("store");
    o.prefix = "ws1";
    // Small blocks, so the block upload path runs in the suite too.
    o.single_put_max_bytes = 256 * 1024;
    o.block_bytes = 64 * 1024;
    o.create_container = true;
    return o;
  }();
  std::atomic<bool> created{false};  // open() runs on the test's threads too

  bool available() const { return !connection.empty(); }
  std::unique_ptr<ObjectStore> open() {
    auto store = lake::open_azure_store(net::azure::parse_connection_string(connection), options);
    created = true;
    return store;
  }
  ~AzureStoreFactory() {
    if (!created) return;
    try {
      net::azure::StorageClient client(net::azure::parse_connection_string(connection));
      net::HttpRequest req;
      req.method = "DELETE";
      req.url = client.url(net::azure::Service::kBlob, "/" + options.container, "restype=container");
      client.send(req);
    } catch (...) {
    }
  }
};

using StoreFactories = ::testing::Types<LocalStoreFactory, AzureStoreFactory>;

struct FactoryName {
  template <typename T>
  static std::string GetName(int) {
    return T::kName;
  }
};

template <typename Factory>
class ObjectStoreContract : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!factory_.available()) {
      TRIB_AZURE_TEST_OR_SKIP(connection);
    }
    store_ = factory_.open();
  }
  std::unique_ptr<ObjectStore> open() { return factory_.open(); }
  ObjectStore& store() { return *store_; }

  std::string etag(std::string_view key) {
    auto info = store_->head(key);
    EXPECT_TRUE(info.has_value()) << key;
    return info ? info->etag : std::string();
  }

  Factory factory_;
  std::unique_ptr<ObjectStore> store_;
};

TYPED_TEST_SUITE(ObjectStoreContract, StoreFactories, FactoryName);

// A child process: runs `body`, exits 0, or 1 when it threw (never returns to the test).
template <typename Body>
pid_t fork_child(Body&& body) {
  pid_t pid = ::fork();
  if (pid == 0) {
    int code = 0;
    try {
      body();
    } catch (...) {
      code = 1;
    }
    ::_exit(code);
  }
  return pid;
}

// True when every byte equals the first (a torn mix of two versions is not).
bool uniform(const std::string& s) {
  return s.empty() || s.find_first_not_of(s[0]) == std::string::npos;
}

}  // namespace

TYPED_TEST(ObjectStoreContract, RefusesKeysThatEscape) {
  ObjectStore& store = this->store();
  store.put("ok/a", "a");
  std::vector<std::string> hostile = {"../x", "a/../../x", "/etc/passwd", "a//b",
                                      "a/./b", "a\\b",     "",            ".."};
  hostile.push_back(std::string("a\0b", 3));
  for (const std::string& key : hostile) {
    SCOPED_TRACE(key);
    auto invalid = [&](auto&& f) { EXPECT_EQ(category_of(f), ErrorCategory::kInvalidInput); };
    invalid([&] { store.put(key, "x"); });
    invalid([&] { store.put(key, "x", Durability::kDeferred); });
    invalid([&] { store.put_if_absent(key, "x"); });
    invalid([&] { store.put_if(key, "x", WriteCondition::always()); });
    invalid([&] { store.put_if(key, "x", WriteCondition::absent()); });
    invalid([&] { store.put_if(key, "x", WriteCondition::match("e")); });
    invalid([&] { store.get(key); });
    invalid([&] { store.head(key); });
    invalid([&] { store.get_range(key, 0, 1); });
    invalid([&] { store.copy(key, "ok/b"); });
    invalid([&] { store.copy("ok/a", key); });
    invalid([&] { store.sync({"ok/a", key}); });
    invalid([&] { store.remove(key); });
    if (!key.empty()) {
      invalid([&] { store.list(key + "/"); });
      invalid([&] { store.list_info(key + "/"); });
    }
  }
  // Nothing was written anywhere by the refused calls.
  EXPECT_EQ(store.list(""), std::vector<std::string>{"ok/a"});
  EXPECT_EQ(store.get("ok/a"), "a");
  // A hostile symbol never reaches a key: it is refused when parsed.
  EXPECT_THROW(Symbol::parse("../x"), Error);
  // Encoded symbols stay one path segment.
  std::string key = lake::curated_bars_key(Timeframe::kDay1, Symbol::parse("EUR/USD"), "2020");
  EXPECT_EQ(key, "curated/bars/timeframe=1d/symbol=EUR%2FUSD/year=2020/data.parquet");
  EXPECT_NO_THROW(lake::validate_key(key));
}

TYPED_TEST(ObjectStoreContract, PutGetListRemove) {
  ObjectStore& store = this->store();
  store.put("a/b/c.txt", "hello");
  EXPECT_EQ(store.get("a/b/c.txt"), "hello");
  store.put("a/b/c.txt", "replaced");
  EXPECT_EQ(store.get("a/b/c.txt"), "replaced");
  EXPECT_EQ(store.size("a/b/c.txt"), 8u);
  EXPECT_TRUE(store.exists("a/b/c.txt"));
  store.put("a/d.txt", "d");
  EXPECT_EQ(store.list("a/"), (std::vector<std::string>{"a/b/c.txt", "a/d.txt"}));
  EXPECT_TRUE(store.remove("a/d.txt"));
  EXPECT_FALSE(store.remove("a/d.txt"));
  EXPECT_FALSE(store.exists("a/d.txt"));
  EXPECT_EQ(store.size("a/d.txt"), std::nullopt);
  EXPECT_EQ(category_of([&] { store.get("a/d.txt"); }), ErrorCategory::kNotFound);
}

TYPED_TEST(ObjectStoreContract, PutIfAbsentKeepsTheFirstWriterUnderRaces) {
  std::atomic<int> winners{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      auto local = this->open();  // one store object per writer
      if (local->put_if_absent("k/obj", std::string(100000, static_cast<char>('a' + t)))) ++winners;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(winners.load(), 1);
  std::string content = this->store().get("k/obj");
  EXPECT_EQ(content.size(), 100000u);
  EXPECT_TRUE(uniform(content)) << "torn object";
  EXPECT_EQ(this->store().list(""), std::vector<std::string>{"k/obj"});
}

TYPED_TEST(ObjectStoreContract, ConditionalPutSemantics) {
  ObjectStore& store = this->store();
  // kAbsent on an absent key writes and returns the ETag head() then reports.
  auto created = store.put_if("c/k", "one", WriteCondition::absent());
  ASSERT_TRUE(created.has_value());
  EXPECT_FALSE(created->empty());
  EXPECT_EQ(this->etag("c/k"), *created);
  EXPECT_EQ(store.get("c/k"), "one");

  // kAbsent on an existing key: nothing written.
  EXPECT_EQ(store.put_if("c/k", "two", WriteCondition::absent()), std::nullopt);
  EXPECT_EQ(store.get("c/k"), "one");
  EXPECT_EQ(this->etag("c/k"), *created);

  // kMatch with the current ETag replaces and returns a new ETag.
  auto matched = store.put_if("c/k", "three", WriteCondition::match(*created));
  ASSERT_TRUE(matched.has_value());
  EXPECT_NE(*matched, *created);
  EXPECT_EQ(this->etag("c/k"), *matched);
  EXPECT_EQ(store.get("c/k"), "three");

  // kMatch with a stale ETag (or a made-up one): nothing written.
  EXPECT_EQ(store.put_if("c/k", "four", WriteCondition::match(*created)), std::nullopt);
  EXPECT_EQ(store.put_if("c/k", "four", WriteCondition::match("not-an-etag")), std::nullopt);
  EXPECT_EQ(store.get("c/k"), "three");
  EXPECT_EQ(this->etag("c/k"), *matched);

  // kMatch on an absent key never holds (even with an ETag the key once had) and creates nothing.
  EXPECT_EQ(store.put_if("c/absent", "x", WriteCondition::match(*matched)), std::nullopt);
  EXPECT_FALSE(store.exists("c/absent"));
  ASSERT_TRUE(store.remove("c/k"));
  EXPECT_EQ(store.put_if("c/k", "x", WriteCondition::match(*matched)), std::nullopt);
  EXPECT_FALSE(store.exists("c/k"));

  // kMatch without an ETag is a caller's mistake.
  EXPECT_EQ(category_of([&] { store.put_if("c/k", "x", WriteCondition::match("")); }),
            ErrorCategory::kInvalidInput);

  // kAlways writes whatever is there; the default condition is kAlways.
  auto always = store.put_if("c/k", "five", WriteCondition::always());
  ASSERT_TRUE(always.has_value());
  EXPECT_EQ(store.get("c/k"), "five");
  auto again = store.put_if("c/k", "six", WriteCondition{});
  ASSERT_TRUE(again.has_value());
  EXPECT_NE(*again, *always);
  EXPECT_EQ(store.get("c/k"), "six");

  // Empty objects are objects.
  auto empty = store.put_if("c/empty", "", WriteCondition::absent());
  ASSERT_TRUE(empty.has_value());
  EXPECT_EQ(store.head("c/empty")->size, 0u);
  EXPECT_EQ(store.get("c/empty"), "");
  EXPECT_EQ(store.put_if("c/empty", "", WriteCondition::absent()), std::nullopt);

  // The WriteCondition helpers.
  EXPECT_EQ(WriteCondition::always().when, lake::WriteIf::kAlways);
  EXPECT_EQ(WriteCondition::absent().when, lake::WriteIf::kAbsent);
  EXPECT_EQ(WriteCondition::match("e").when, lake::WriteIf::kMatch);
  EXPECT_EQ(WriteCondition::match("e").etag, "e");
}

TYPED_TEST(ObjectStoreContract, EtagChangesOnEveryReplaceAndIsStableOtherwise) {
  ObjectStore& store = this->store();
  std::set<std::string> seen;
  auto fresh = [&](const std::string& etag, const char* what) {
    EXPECT_TRUE(seen.insert(etag).second) << what << ": ETag " << etag << " was seen before";
  };
  store.put("e/k", "same bytes");
  std::string current = this->etag("e/k");
  fresh(current, "put");

  // Reading, listing, head and being copied from leave the ETag alone.
  store.put("e/other", "other");
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(store.get("e/k"), "same bytes");
    EXPECT_EQ(store.get_range("e/k", 1, 3), "ame");
    for (const auto& info : store.list_info("e/")) {
      if (info.key == "e/k") {
        EXPECT_EQ(info.etag, current);
      }
    }
    store.copy("e/k", fmt::format("e/copy{}", i));
    EXPECT_EQ(store.put_if("e/k", "x", WriteCondition::absent()), std::nullopt);
    EXPECT_EQ(store.put_if("e/k", "x", WriteCondition::match("stale")), std::nullopt);
    store.put("e/other", fmt::format("other {}", i));  // another key
    EXPECT_EQ(this->etag("e/k"), current);
  }

  // Every replacement gives a new ETag, even with identical bytes, fast enough to share a clock
  // tick, and even after remove + re-create (a recycled file id must not bring an old ETag back).
  for (int i = 0; i < 20; ++i) {
    store.put("e/k", "same bytes");
    current = this->etag("e/k");
    fresh(current, "put");
    auto matched = store.put_if("e/k", "same bytes", WriteCondition::match(current));
    ASSERT_TRUE(matched.has_value());
    EXPECT_EQ(this->etag("e/k"), *matched);
    fresh(*matched, "put_if match");
    auto always = store.put_if("e/k", "same bytes", WriteCondition::always());
    ASSERT_TRUE(always.has_value());
    fresh(*always, "put_if always");
    ASSERT_TRUE(store.remove("e/k"));
    ASSERT_TRUE(store.put_if_absent("e/k", "same bytes"));
    fresh(this->etag("e/k"), "remove + put_if_absent");
    ASSERT_TRUE(store.remove("e/k"));
    auto absent = store.put_if("e/k", "same bytes", WriteCondition::absent());
    ASSERT_TRUE(absent.has_value());
    fresh(*absent, "remove + put_if absent");
    // Copying a different object over the key replaces it too.
    store.put("e/src", fmt::format("src {}", i));
    std::string copied = store.copy("e/src", "e/k");
    EXPECT_EQ(this->etag("e/k"), copied);
    EXPECT_NE(copied, *absent);
    fresh(copied, "copy");
  }
  // The same, as fast as the store goes (deferred durability: no fsync to wait for), so that
  // many replacements fall in one clock tick and freed file ids are handed out again at once.
  for (int i = 0; i < 300; ++i) {
    ASSERT_TRUE(store.remove("e/k"));
    ASSERT_TRUE(store.put_if_absent("e/k", "same bytes", Durability::kDeferred));
    fresh(this->etag("e/k"), "fast remove + put_if_absent");
    store.put("e/k", "same bytes", Durability::kDeferred);
    fresh(this->etag("e/k"), "fast put");
  }
}

// Exactly one of the racing conditional writers of a key wins each round, whether they share
// one store object or each has its own; over a chain of kMatch rounds nothing is lost.
TYPED_TEST(ObjectStoreContract, RacingConditionalWritersInThreadsOneWinsPerRound) {
  constexpr int kThreads = 6, kRounds = TypeParam::kRaceRounds;
  ObjectStore& shared = this->store();
  shared.put("race/match", "start");
  std::vector<std::unique_ptr<ObjectStore>> own;
  for (int t = 0; t < kThreads; ++t) own.push_back(t % 2 == 0 ? nullptr : this->open());
  auto store_of = [&](int t) -> ObjectStore& { return own[t] ? *own[t] : shared; };

  std::string round_etag = this->etag("race/match");
  std::vector<int> match_wins(kRounds, 0), absent_wins(kRounds, 0);
  std::vector<int> match_winner(kRounds, -1), absent_winner(kRounds, -1);
  std::mutex mu;
  // Between rounds (one thread, everyone parked): note the new ETag, clear the kAbsent key.
  std::barrier sync_point(kThreads, [&]() noexcept {
    round_etag = shared.head("race/match")->etag;
    shared.remove("race/absent");
  });
  std::barrier start(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      ObjectStore& store = store_of(t);
      for (int r = 0; r < kRounds; ++r) {
        start.arrive_and_wait();
        const std::string mine = fmt::format("thread {} round {}", t, r);
        const std::string expected = round_etag;  // read by all before anyone writes
        start.arrive_and_wait();
        auto m = store.put_if("race/match", mine + std::string(4096, 'm'),
                              WriteCondition::match(expected), Durability::kDeferred);
        auto a = store.put_if("race/absent", mine, WriteCondition::absent(), Durability::kDeferred);
        {
          std::lock_guard lock(mu);
          if (m) ++match_wins[r], match_winner[r] = t;
          if (a) ++absent_wins[r], absent_winner[r] = t;
        }
        if (m || a) {
          // The winner's bytes are what is there now (nobody else may have written).
          if (m) {
            const std::string now = store.get("race/match");
            EXPECT_TRUE(now == mine + std::string(4096, 'm'))
                << now.substr(0, 24) << " after " << mine;
          }
          if (a) {
            EXPECT_EQ(store.get("race/absent"), mine);
          }
        }
        sync_point.arrive_and_wait();
      }
    });
  }
  for (auto& t : threads) t.join();
  for (int r = 0; r < kRounds; ++r) {
    EXPECT_EQ(match_wins[r], 1) << "kMatch round " << r;
    EXPECT_EQ(absent_wins[r], 1) << "kAbsent round " << r;
  }
  const std::string last =
      fmt::format("thread {} round {}", match_winner[kRounds - 1], kRounds - 1);
  const std::string now = shared.get("race/match");
  EXPECT_TRUE(now == last + std::string(4096, 'm')) << now.substr(0, 24) << " after " << last;
}

// A read-modify-write counter under kMatch, incremented by forked processes (each with its own
// store object, started together): no increment is lost and none is counted twice, and each
// child's kAbsent claims of shared keys never overlap with another child's.
TYPED_TEST(ObjectStoreContract, RacingConditionalWritersInProcessesOneWinsPerRound) {
  constexpr int kChildren = 4, kIncrements = 60, kClaims = 100;
  ObjectStore& store = this->store();
  store.put("proc/counter", "0");
  int go[2];
  ASSERT_EQ(::pipe(go), 0);
  std::vector<pid_t> pids;
  for (int c = 0; c < kChildren; ++c) {
    pids.push_back(fork_child([&, c] {
      ::close(go[1]);
      char byte;
      if (::read(go[0], &byte, 1) != 0) throw std::runtime_error("start pipe");  // EOF = go
      auto mine = this->open();
      std::string claimed;
      int done = 0, claim = 0;
      while (done < kIncrements || claim < kClaims) {
        if (done < kIncrements) {
          auto info = mine->head("proc/counter");
          if (!info) throw std::runtime_error("counter vanished");
          int value = std::stoi(mine->get("proc/counter"));
          // The ETag read before the bytes: if both belong to one version, the write is sound;
          // if the counter moved in between, the kMatch fails and we retry.
          if (mine->put_if("proc/counter", std::to_string(value + 1),
                           WriteCondition::match(info->etag))) {
            ++done;
          }
        }
        if (claim < kClaims) {
          if (mine->put_if(fmt::format("proc/claim/{:03}", claim), std::to_string(c),
                           WriteCondition::absent())) {
            claimed += fmt::format("{:03}\n", claim);
          }
          ++claim;
        }
      }
      mine->put(fmt::format("proc/claimed-by/{}", c), claimed);
    }));
  }
  ::close(go[0]);
  ::close(go[1]);  // every child starts now
  for (pid_t pid : pids) EXPECT_EQ(exit_code_of(pid), 0);
  EXPECT_EQ(store.get("proc/counter"), std::to_string(kChildren * kIncrements));
  // Each claim key has exactly one winner, the one whose bytes are there.
  std::vector<int> owners(kClaims, 0);
  for (int c = 0; c < kChildren; ++c) {
    std::string claimed = store.get(fmt::format("proc/claimed-by/{}", c));
    for (size_t at = 0; at + 4 <= claimed.size(); at += 4) {
      int claim = std::stoi(claimed.substr(at, 3));
      ++owners[claim];
      EXPECT_EQ(store.get(fmt::format("proc/claim/{:03}", claim)), std::to_string(c));
    }
  }
  for (int k = 0; k < kClaims; ++k) EXPECT_EQ(owners[k], 1) << "claim " << k;
}

TYPED_TEST(ObjectStoreContract, GetRangeEdgeCases) {
  ObjectStore& store = this->store();
  std::string big;
  for (uint64_t i = 0; i < (1u << 20) + 7; ++i) big += static_cast<char>('a' + (i * 7919) % 26);
  store.put("r/big", big);
  store.put("r/empty", "");
  store.put("r/small", "0123456789");
  constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();

  EXPECT_EQ(store.get_range("r/small", 0, 10), "0123456789");
  EXPECT_EQ(store.get_range("r/small", 0, 0), "");
  EXPECT_EQ(store.get_range("r/small", 3, 4), "3456");
  EXPECT_EQ(store.get_range("r/small", 7, 100), "789");  // clipped at the end
  EXPECT_EQ(store.get_range("r/small", 9, 1), "9");
  EXPECT_EQ(store.get_range("r/small", 10, 5), "");  // offset == size
  EXPECT_EQ(store.get_range("r/small", 0, kMax), "0123456789");
  EXPECT_EQ(store.get_range("r/small", 5, kMax), "56789");  // offset + length overflows
  EXPECT_EQ(store.get_range("r/empty", 0, 0), "");
  EXPECT_EQ(store.get_range("r/empty", 0, 100), "");
  auto range_error = [&](const char* key, uint64_t offset, uint64_t length) {
    return category_of([&] { store.get_range(key, offset, length); });
  };
  EXPECT_EQ(range_error("r/small", 11, 1), ErrorCategory::kInvalidInput);
  EXPECT_EQ(range_error("r/small", kMax, 1), ErrorCategory::kInvalidInput);
  EXPECT_EQ(range_error("r/empty", 1, 0), ErrorCategory::kInvalidInput);
  EXPECT_EQ(range_error("r/absent", 0, 1), ErrorCategory::kNotFound);
  EXPECT_EQ(range_error("r/absent/deeper", 0, 1), ErrorCategory::kNotFound);
  EXPECT_EQ(range_error("r", 0, 1), ErrorCategory::kNotFound);  // a folder

  EXPECT_EQ(store.get_range("r/big", 0, kMax), big);
  for (uint64_t offset : {uint64_t{0}, uint64_t{1}, uint64_t{65535}, uint64_t{65536},
                          uint64_t{700001}, uint64_t{big.size() - 1}, uint64_t{big.size()}}) {
    for (uint64_t length : {uint64_t{0}, uint64_t{1}, uint64_t{4096}, uint64_t{1} << 20}) {
      EXPECT_EQ(store.get_range("r/big", offset, length), big.substr(offset, length))
          << offset << "+" << length;
    }
  }
}

TYPED_TEST(ObjectStoreContract, ListInfoMatchesListAndHead) {
  ObjectStore& store = this->store();
  EXPECT_TRUE(store.list_info("").empty());
  store.put("l/b/2", "22");
  store.put("l/a", "1");
  store.put_if("l/b/1", "", WriteCondition::absent());
  store.put("l/c/deep/x", "xxxx", Durability::kDeferred);
  store.copy("l/a", "l/b/3");
  store.put("m/other", "o");
  store.put("l-sibling", "not under l/");

  auto infos = store.list_info("l/");
  std::vector<std::string> keys;
  for (const auto& info : infos) {
    keys.push_back(info.key);
    auto head = store.head(info.key);
    ASSERT_TRUE(head.has_value());
    EXPECT_EQ(head->key, info.key);
    EXPECT_EQ(head->size, info.size);
    EXPECT_EQ(head->etag, info.etag);
    EXPECT_EQ(store.get(info.key).size(), info.size);
  }
  EXPECT_EQ(keys, (std::vector<std::string>{"l/a", "l/b/1", "l/b/2", "l/b/3", "l/c/deep/x"}));
  EXPECT_EQ(keys, store.list("l/"));
  EXPECT_EQ(infos[2].size, 2u);
  EXPECT_EQ(infos[1].size, 0u);
  // Prefix without the trailing slash, nested prefix, absent prefix, everything.
  EXPECT_EQ(store.list_info("l").size(), 5u);
  ASSERT_EQ(store.list_info("l/b/").size(), 3u);
  EXPECT_EQ(store.list_info("l/b/")[0].key, "l/b/1");
  EXPECT_TRUE(store.list_info("nothing/here/").empty());
  std::vector<std::string> all;
  for (const auto& info : store.list_info("")) all.push_back(info.key);
  EXPECT_EQ(all, store.list(""));
  EXPECT_EQ(all.size(), 7u);
  EXPECT_TRUE(std::is_sorted(all.begin(), all.end()));
  EXPECT_EQ(store.head("l/absent"), std::nullopt);
}

TYPED_TEST(ObjectStoreContract, CopyReplacesTheTargetAndLeavesTheSource) {
  ObjectStore& store = this->store();
  store.put("cp/src", "source bytes");
  const std::string source_etag = this->etag("cp/src");

  // To a new key, in a folder that does not exist yet.
  std::string etag = store.copy("cp/src", "cp/new/folder/dst");
  EXPECT_EQ(store.get("cp/new/folder/dst"), "source bytes");
  EXPECT_EQ(this->etag("cp/new/folder/dst"), etag);

  // Over an existing key: replaced, with a new ETag; a kMatch against the old one now fails.
  store.put("cp/dst", "old target, longer than the source");
  const std::string old_target = this->etag("cp/dst");
  etag = store.copy("cp/src", "cp/dst", Durability::kSync);
  EXPECT_NE(etag, old_target);
  EXPECT_EQ(this->etag("cp/dst"), etag);
  EXPECT_EQ(store.get("cp/dst"), "source bytes");
  EXPECT_EQ(store.head("cp/dst")->size, 12u);
  EXPECT_EQ(store.put_if("cp/dst", "x", WriteCondition::match(old_target)), std::nullopt);

  // The source is untouched, and the copies are independent of it from now on.
  EXPECT_EQ(store.get("cp/src"), "source bytes");
  EXPECT_EQ(this->etag("cp/src"), source_etag);
  store.put("cp/src", "source replaced");
  EXPECT_EQ(store.get("cp/dst"), "source bytes");
  EXPECT_EQ(this->etag("cp/dst"), etag);
  ASSERT_TRUE(store.remove("cp/src"));
  EXPECT_EQ(store.get("cp/dst"), "source bytes");
  auto next = store.put_if("cp/dst", "written over the copy", WriteCondition::match(etag));
  ASSERT_TRUE(next.has_value());
  store.put("cp/src", "source again");
  EXPECT_EQ(store.get("cp/dst"), "written over the copy");

  // An absent source: NotFound, and the target stays as it was.
  EXPECT_EQ(category_of([&] { store.copy("cp/absent", "cp/dst"); }), ErrorCategory::kNotFound);
  EXPECT_EQ(category_of([&] { store.copy("cp/absent", "cp/none"); }), ErrorCategory::kNotFound);
  EXPECT_EQ(category_of([&] { store.copy("cp", "cp/none"); }), ErrorCategory::kNotFound);  // folder
  EXPECT_EQ(store.get("cp/dst"), "written over the copy");
  EXPECT_FALSE(store.exists("cp/none"));

  // Onto itself, and again onto a key that holds a copy of the same object: the bytes stay.
  store.copy("cp/src", "cp/src");
  EXPECT_EQ(store.get("cp/src"), "source again");
  const std::string before = this->etag("cp/src");
  store.copy("cp/src", "cp/twice");
  store.copy("cp/src", "cp/twice");
  EXPECT_EQ(store.get("cp/twice"), "source again");
  EXPECT_EQ(this->etag("cp/src"), before);
  EXPECT_EQ(store.list("cp/"), (std::vector<std::string>{"cp/dst", "cp/new/folder/dst", "cp/src",
                                                         "cp/twice"}));
}

// Readers of a key that copies (and puts) keep replacing see one whole version or another.
TYPED_TEST(ObjectStoreContract, CopyReadersNeverSeeATornFile) {
  ObjectStore& store = this->store();
  constexpr size_t kSize = 1 << 20;
  store.put("torn/a", std::string(kSize, 'a'));
  store.put("torn/b", std::string(kSize / 2, 'b'));
  store.copy("torn/a", "torn/live");
  std::atomic<bool> stop{false};
  std::atomic<int> reads{0}, bad{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 2; ++t) {
    readers.emplace_back([&] {
      auto mine = this->open();
      while (!stop.load()) {
        std::string bytes = mine->get("torn/live");
        bool ok = (bytes.size() == kSize && bytes[0] == 'a') ||
                  (bytes.size() == kSize / 2 && bytes[0] == 'b') ||
                  (bytes.size() == kSize / 4 && bytes[0] == 'p');
        if (!ok || !uniform(bytes)) ++bad;
        ++reads;
      }
    });
  }
  for (int i = 0; i < 200; ++i) {
    store.copy(i % 2 == 0 ? "torn/b" : "torn/a", "torn/live", Durability::kDeferred);
    if (i % 10 == 0) store.put("torn/live", std::string(kSize / 4, 'p'), Durability::kDeferred);
  }
  while (reads.load() < 20) std::this_thread::yield();
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(store.get("torn/a"), std::string(kSize, 'a'));
  EXPECT_EQ(store.get("torn/b"), std::string(kSize / 2, 'b'));
}

TYPED_TEST(ObjectStoreContract, SyncAfterDeferredWrites) {
  ObjectStore& store = this->store();
  std::vector<std::string> keys;
  for (int i = 0; i < 20; ++i) {
    std::string key = fmt::format("d/folder{}/obj{}", i % 3, i);
    switch (i % 4) {
      case 0: store.put(key, key, Durability::kDeferred); break;
      case 1: ASSERT_TRUE(store.put_if_absent(key, key, Durability::kDeferred)); break;
      case 2:
        ASSERT_TRUE(store.put_if(key, key, WriteCondition::absent(), Durability::kDeferred));
        break;
      case 3: {
        store.put(key + ".src", key);
        store.copy(key + ".src", key, Durability::kDeferred);
        break;
      }
    }
    keys.push_back(key);
  }
  // A deferred kMatch and a deferred replace.
  auto etag = store.put_if(keys[0], keys[0], WriteCondition::match(this->etag(keys[0])),
                           Durability::kDeferred);
  ASSERT_TRUE(etag.has_value());
  keys.push_back(keys[0]);  // the same key twice is fine
  // Visible at once, before sync.
  for (int i = 0; i < 20; ++i) EXPECT_EQ(store.get(keys[i]), keys[i]);
  EXPECT_NO_THROW(store.sync(keys));
  EXPECT_NO_THROW(store.sync({}));
  // A key removed since its deferred write is skipped.
  ASSERT_TRUE(store.remove(keys[5]));
  EXPECT_NO_THROW(store.sync(keys));
  EXPECT_NO_THROW(store.sync({"d/never/written"}));
  // Syncing changes nothing a reader sees.
  EXPECT_EQ(this->etag(keys[0]), *etag);
  for (int i = 0; i < 20; ++i) {
    if (i != 5) {
      EXPECT_EQ(store.get(keys[i]), keys[i]);
    }
  }
}

// Conditional writes and their locks leave nothing that a listing returns.
TYPED_TEST(ObjectStoreContract, ListingsShowOnlyObjects) {
  ObjectStore& store = this->store();
  std::vector<std::string> expected;
  for (int i = 0; i < 10; ++i) {
    std::string key = fmt::format("x/{}/data.parquet", i);
    auto e = store.put_if(key, "v1", WriteCondition::absent());
    ASSERT_TRUE(e.has_value());
    ASSERT_TRUE(store.put_if(key, "v2", WriteCondition::match(*e)).has_value());
    store.put(key, "v3");
    store.copy(key, key + ".bak");
    ASSERT_TRUE(store.remove(key + ".bak"));
    expected.push_back(key);
  }
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(store.list(""), expected);
  EXPECT_EQ(store.list("x/"), expected);
  EXPECT_EQ(store.list_info("").size(), expected.size());
}

// --- The local folder store ------------------------------------------------------------------

TEST(LocalStore, CopyIsAHardLinkAndTheEtagComesFromTheFile) {
  TempDir dir;
  auto store = lake::open_local_store(dir.path());
  store->put("a/src", "bytes");
  std::string etag = store->copy("a/src", "b/dst");
  struct stat src {}, dst {};
  ASSERT_EQ(::stat(store->local_path("a/src")->c_str(), &src), 0);
  ASSERT_EQ(::stat(store->local_path("b/dst")->c_str(), &dst), 0);
  EXPECT_EQ(src.st_ino, dst.st_ino) << "copy must link, not copy bytes";
  EXPECT_EQ(src.st_nlink, 2u);
  // device-inode-size-mtime(ns), hex.
  const int64_t mtime = int64_t{dst.st_mtim.tv_sec} * 1'000'000'000 + dst.st_mtim.tv_nsec;
  EXPECT_EQ(etag, fmt::format("{:x}-{:x}-{:x}-{:x}", uint64_t(dst.st_dev), uint64_t(dst.st_ino),
                              uint64_t(dst.st_size), uint64_t(mtime)));
  // No temp names are left behind by copy, including copy onto itself.
  store->copy("a/src", "a/src");
  store->copy("a/src", "b/dst");
  for (const auto& e : fs::recursive_directory_iterator(dir.path())) {
    EXPECT_EQ(e.path().filename().string().find(".tmp-"), std::string::npos) << e.path();
  }
}

TEST(LocalStore, LockAndTempFilesAreNeverListedNorSwept) {
  TempDir dir;
  auto store = lake::open_local_store(dir.path());
  ASSERT_TRUE(store->put_if("p/data.parquet", "v1", WriteCondition::absent()));
  store->put("p/data.parquet", "v2");  // takes the key's lock
  ASSERT_TRUE(store->remove("p/data.parquet"));
  store->put("p/data.parquet", "v3");
  // The store's own files exist on disk...
  size_t locks = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir.path())) {
    locks += e.path().parent_path().filename() == ".locks";
  }
  EXPECT_GT(locks, 0u);
  // ...plus other dot names (a temp file of a live writer, a dot folder): none is listed.
  fs::create_directories(dir.path() / "p/.hidden");
  trib::testing::spit(dir.path() / "p/.hidden/x", "x");
  trib::testing::spit(dir.path() / "p/.dotfile", "x");
  trib::testing::spit(dir.path() / fmt::format("p/.data.parquet.tmp-{}-99", ::getpid()), "x");
  EXPECT_EQ(store->list(""), std::vector<std::string>{"p/data.parquet"});
  EXPECT_EQ(store->list("p/"), std::vector<std::string>{"p/data.parquet"});
  // Dot segments are the store's own: no key, prefix or listing can name them.
  EXPECT_THROW(store->list(".locks/"), Error);
  EXPECT_THROW(store->list_info(".locks/"), Error);
  EXPECT_THROW(store->list("p/.hidden/"), Error);
  EXPECT_THROW(store->put(".locks/000", "clobber"), Error);
  EXPECT_THROW(store->get("p/.dotfile"), Error);
  ASSERT_EQ(store->list_info("").size(), 1u);
  // A stale temp file (its writer is dead) is swept by the next write of its target; lock files
  // and other dot files are not.
  const fs::path stale = dir.path() / "p/.data.parquet.tmp-2147483000-1";
  trib::testing::spit(stale, "torn");
  ASSERT_TRUE(store->put_if("p/data.parquet", "v4", WriteCondition::always()));
  EXPECT_FALSE(fs::exists(stale));
  EXPECT_TRUE(fs::exists(dir.path() / "p/.dotfile"));
  EXPECT_TRUE(fs::exists(dir.path() / fmt::format("p/.data.parquet.tmp-{}-99", ::getpid())));
  size_t locks_after = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir.path())) {
    locks_after += e.path().parent_path().filename() == ".locks";
  }
  EXPECT_EQ(locks_after, locks);  // one key, one lock file; remove() does not delete it
}

// A forked process holding a key's lock (mid kMatch) blocks this process's replacement of that
// key until it exits, and the kernel releases a dead holder's lock.
TEST(LocalStore, KeyLockIsHeldAcrossProcessesAndReleasedWhenTheHolderDies) {
  TempDir dir;
  auto store = lake::open_local_store(dir.path());
  store->put("k", "v0");
  const std::string etag0 = store->head("k")->etag;
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  pid_t child = fork_child([&] {
    ::close(ready[0]);
    // Lock every lock file there is (the key's among them), as a writer mid-kMatch would.
    auto mine = lake::open_local_store(dir.path());
    mine->put("k", "v1");  // creates the lock file if needed
    int fd = -1;
    for (const auto& e : fs::directory_iterator(dir.path() / ".locks")) {
      fd = ::open(e.path().c_str(), O_RDONLY);
      ::flock(fd, LOCK_EX);
    }
    if (::write(ready[1], "x", 1) != 1) throw std::runtime_error("pipe");
    ::usleep(300'000);  // then exits without unlocking
  });
  ::close(ready[1]);
  char byte;
  ASSERT_EQ(::read(ready[0], &byte, 1), 1);
  // Blocked until the child's locks go with it; then the write goes through.
  auto t0 = std::chrono::steady_clock::now();
  store->put("k", "v3-by-parent");
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(200));
  EXPECT_EQ(exit_code_of(child), 0);
  EXPECT_EQ(store->get("k"), "v3-by-parent");
  EXPECT_EQ(store->put_if("k", "x", WriteCondition::match(etag0)), std::nullopt);
}

TEST(RawStore, ContentAddressedWriteOnceWithSidecar) {
  TempDir dir;
  auto store = lake::open_local_store(dir.path());
  lake::RawStore raw(*store);
  lake::RawPut put;  // field by field: RawPut is growing fields other tests do not care about
  put.vendor = "sim";
  put.dataset = "bars";
  put.symbol_component = "AAPL";
  put.fetched = Date::from_ymd(2020, 1, 2);
  put.ext = "csv";
  put.sidecar = {{"request", {{"symbol", "AAPL"}}}};
  auto first = raw.put(put, "payload");
  EXPECT_TRUE(first.newly_written);
  EXPECT_EQ(first.sha256, sha256_hex("payload"));
  EXPECT_EQ(first.key, "raw/vendor=sim/dataset=bars/symbol=AAPL/fetched=2020-01-02/" + first.sha256 + ".csv");
  auto second = raw.put(put, "payload");
  EXPECT_FALSE(second.newly_written);
  EXPECT_EQ(raw.get(first.key), "payload");
  std::string sidecar = store->get(lake::raw_sidecar_key(first.key));
  EXPECT_NE(sidecar.find("\"sha256\""), std::string::npos);
  // Tampering is detected on read.
  store->put(first.key, "tampered");
  EXPECT_EQ(category_of([&] { raw.get(first.key); }), ErrorCategory::kDataLoss);
}

#include <gtest/gtest.h>

#include <filesystem>
#include <atomic>
#include <thread>

#include <unistd.h>

#include "trib/core/error.hpp"
#include "trib/core/hash.hpp"
#include "trib/lake/layout.hpp"
#include "trib/lake/object_store.hpp"
#include "trib/lake/raw_store.hpp"

namespace fs = std::filesystem;
using namespace trib;

namespace {
fs::path fresh_dir(const std::string& name) {
  fs::path dir = fs::temp_directory_path() / ("trib-lake-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  return dir;
}
}  // namespace

TEST(ObjectStore, RefusesKeysThatEscape) {
  auto store = lake::open_local_store(fresh_dir("keys"));
  for (const char* key : {"../x", "a/../../x", "/etc/passwd", "a//b", "a/./b", "a\\b", ""}) {
    EXPECT_THROW(store->put(key, "x"), Error) << key;
  }
  std::string with_nul("a\0b", 3);
  EXPECT_THROW(store->put(with_nul, "x"), Error);
  // A hostile symbol never reaches a key: it is refused when parsed.
  EXPECT_THROW(Symbol::parse("../x"), Error);
  // Encoded symbols stay one path segment.
  std::string key = lake::curated_bars_key(Timeframe::kDay1, Symbol::parse("EUR/USD"), "2020");
  EXPECT_EQ(key, "curated/bars/timeframe=1d/symbol=EUR%2FUSD/year=2020/data.parquet");
  EXPECT_NO_THROW(lake::validate_key(key));
}

TEST(ObjectStore, PutGetListRemove) {
  auto store = lake::open_local_store(fresh_dir("basic"));
  store->put("a/b/c.txt", "hello");
  EXPECT_EQ(store->get("a/b/c.txt"), "hello");
  store->put("a/b/c.txt", "replaced");
  EXPECT_EQ(store->get("a/b/c.txt"), "replaced");
  EXPECT_EQ(store->size("a/b/c.txt"), 8u);
  store->put("a/d.txt", "d");
  EXPECT_EQ(store->list("a/"), (std::vector<std::string>{"a/b/c.txt", "a/d.txt"}));
  EXPECT_TRUE(store->remove("a/d.txt"));
  EXPECT_FALSE(store->remove("a/d.txt"));
  try {
    store->get("a/d.txt");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::kNotFound);
  }
}

TEST(ObjectStore, PutIfAbsentKeepsTheFirstWriterUnderRaces) {
  const fs::path root = fresh_dir("race");
  auto store = lake::open_local_store(root);
  std::atomic<int> winners{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      auto local = lake::open_local_store(root);  // one store object per writer
      if (local->put_if_absent("k/obj", std::string(100000, static_cast<char>('a' + t)))) ++winners;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(winners.load(), 1);
  std::string content = store->get("k/obj");
  EXPECT_EQ(content.size(), 100000u);
  EXPECT_EQ(content.find_first_not_of(content[0]), std::string::npos) << "torn object";
  // No temp files are left or listed.
  EXPECT_EQ(store->list(""), std::vector<std::string>{"k/obj"});
  int files = 0;
  for (auto& e : fs::recursive_directory_iterator(*store->local_path("k"))) files += e.is_regular_file();
  EXPECT_EQ(files, 1);
}

TEST(RawStore, ContentAddressedWriteOnceWithSidecar) {
  auto store = lake::open_local_store(fresh_dir("raw"));
  lake::RawStore raw(*store);
  lake::RawPut put{"sim", "bars", "AAPL", Date::from_ymd(2020, 1, 2), "csv",
                   {{"request", {{"symbol", "AAPL"}}}}};
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
  try {
    raw.get(first.key);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::kDataLoss);
  }
}

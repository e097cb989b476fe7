// Hashing, errors and file helpers.
#include <unistd.h>

#include <gmock/gmock.h>
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "test_util.hpp"
#include "trib/core/error.hpp"
#include "trib/core/fs.hpp"
#include "trib/core/hash.hpp"

namespace trib {
namespace {

using ::testing::HasSubstr;

TEST(Sha256, StandardTestVectors) {
  // FIPS 180-2 examples.
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256, IncrementalEqualsOneShot) {
  Sha256 h;
  h.update("ab");
  h.update("");
  h.update("c");
  EXPECT_EQ(h.hex_digest(), sha256_hex("abc"));
  const std::string million(1'000'000, 'a');
  EXPECT_EQ(sha256_hex(million),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Fnv1a64, KnownValuesAndSeeds) {
  // Reference values of 64-bit FNV-1a (offset basis 0xcbf29ce484222325). The header's default
  // seed is not that basis (a digit short), so the algorithm is checked with the basis passed in.
  constexpr uint64_t kBasis = 0xcbf29ce484222325ULL;
  EXPECT_EQ(fnv1a64("", kBasis), 0xcbf29ce484222325ULL);
  EXPECT_EQ(fnv1a64("a", kBasis), 0xaf63dc4c8601ec8cULL);
  EXPECT_EQ(fnv1a64("foobar", kBasis), 0x85944171f73967e8ULL);
  EXPECT_EQ(fnv1a64("AAPL"), fnv1a64("AAPL"));
  EXPECT_NE(fnv1a64("AAPL", 1), fnv1a64("AAPL", 2));
}

TEST(Error, CategoriesAndRetryability) {
  EXPECT_TRUE(Error::Retryable("x").retryable());
  EXPECT_TRUE(Error::RateLimited("x").retryable());
  EXPECT_TRUE(Error::Conflict("x").retryable());
  EXPECT_FALSE(Error::InvalidInput("x").retryable());
  EXPECT_FALSE(Error::Permanent("x").retryable());
  EXPECT_FALSE(Error::DataLoss("x").retryable());
  EXPECT_EQ(to_string(Error::NotFound("x").category()), "not-found");
  EXPECT_STREQ(Error::Internal("broken invariant").what(), "broken invariant");
  // Persistent numbering.
  EXPECT_EQ(static_cast<int>(ErrorCategory::kInvalidInput), 1);
  EXPECT_EQ(static_cast<int>(ErrorCategory::kInternal), 8);
}

TEST(Fs, AtomicWriteAndRead) {
  testing::TempDir dir;
  const auto path = dir.path() / "a/b/file.bin";
  const std::string bytes("x\0y\r\n", 5);
  write_file_atomic(path, bytes);
  EXPECT_EQ(read_file(path), bytes);
  write_file_atomic(path, "second");
  EXPECT_EQ(read_file(path), "second");
  // No temp files left behind.
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(path.parent_path())) {
    (void)entry;
    ++files;
  }
  EXPECT_EQ(files, 1);
  EXPECT_THAT(
      testing::expect_error([&] { read_file(dir.path() / "missing"); }, ErrorCategory::kNotFound),
      HasSubstr("missing"));
}

TEST(Fs, StaleTempFilesOfDeadWritersAreRemoved) {
  testing::TempDir dir;
  const auto target = dir.path() / "part/data.parquet";
  std::filesystem::create_directories(target.parent_path());
  // A pid no process has (above any pid_max), this process's pid and pid 1 (alive).
  const auto dead = target.parent_path() / ".data.parquet.tmp-2147483000-3";
  // (A counter no write of this process reaches: its own temp names count up from 0.)
  const auto mine = target.parent_path() / fmt::format(".data.parquet.tmp-{}-999999999", ::getpid());
  const auto init = target.parent_path() / ".data.parquet.tmp-1-0";
  const auto other = target.parent_path() / ".other.parquet.tmp-2147483000-1";  // another target
  const auto odd = target.parent_path() / ".data.parquet.tmp-notapid";
  for (const auto& p : {dead, mine, init, other, odd}) write_file_atomic(p, "partial");
  // (Writing those five already swept nothing: none of them is a temp of the others' names.)
  EXPECT_TRUE(std::filesystem::exists(dead));
  write_file_atomic(target, "committed");  // the retried write cleans up the dead writer's file
  EXPECT_FALSE(std::filesystem::exists(dead));
  EXPECT_TRUE(std::filesystem::exists(mine));
  EXPECT_TRUE(std::filesystem::exists(init));
  EXPECT_TRUE(std::filesystem::exists(other));
  EXPECT_TRUE(std::filesystem::exists(odd));
  EXPECT_EQ(read_file(target), "committed");
  EXPECT_EQ(remove_stale_temp_files(target), 0u);
  EXPECT_EQ(remove_stale_temp_files(dir.path() / "nowhere/x"), 0u);
}

}  // namespace
}  // namespace trib

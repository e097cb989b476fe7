// parquet::scan_parallel: every batch of every row group exactly once, in order within a row
// group, on 1, 2 and 4 threads; the failure of the lowest row group is the one rethrown.
#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <stdexcept>

#include "trib/core/error.hpp"
#include "trib/lake/parquet.hpp"
#include "trib/lake/parquet_scan.hpp"

namespace trib::parquet {
namespace {

std::string file_with_groups(int groups, int64_t rows_per_group) {
  Schema schema;
  schema.columns = {ColumnSchema::Int64("i"), ColumnSchema::Double("x", true)};
  WriterOptions options;
  options.row_group_rows = rows_per_group;
  StringSink sink;
  Writer writer(sink, schema, options);
  std::vector<int64_t> i;
  std::vector<double> x;
  std::vector<uint8_t> defined;
  for (int64_t r = 0; r < groups * rows_per_group; ++r) {
    i.push_back(r);
    x.push_back(static_cast<double>(r) / 3);
    defined.push_back(r % 7 != 0);
  }
  ColumnVector xs = ColumnVector::of_f64(x);
  xs.defined = defined;
  writer.write_batch({ColumnVector::of_i64(i), std::move(xs)});
  writer.close();
  return std::move(sink.buffer());
}

TEST(ScanParallel, EveryRowOnceInOrderWithinARowGroup) {
  const Reader reader(memory_source(file_with_groups(7, 10'000)));
  ASSERT_EQ(reader.num_row_groups(), 7);
  for (int threads : {1, 2, 4}) {
    std::mutex mutex;
    std::map<int, std::vector<int64_t>> seen;  // row group -> values in arrival order
    std::map<int, int> workers;
    int64_t nulls = 0;
    scan_parallel(
        reader, {0, 1}, threads,
        [&](int worker, int group, std::vector<ColumnVector>& batch) {
          std::lock_guard lock(mutex);
          auto& v = seen[group];
          v.insert(v.end(), batch[0].i64.begin(), batch[0].i64.end());
          for (size_t r = 0; r < batch[1].num_rows; ++r) nulls += batch[1].is_null(r) ? 1 : 0;
          ++workers[worker];
        },
        3'000);
    ASSERT_EQ(seen.size(), 7u) << threads;
    for (const auto& [group, values] : seen) {
      ASSERT_EQ(values.size(), 10'000u);
      for (size_t r = 0; r < values.size(); ++r) ASSERT_EQ(values[r], group * 10'000 + static_cast<int64_t>(r));
    }
    EXPECT_EQ(nulls, (70'000 + 6) / 7);
    EXPECT_LE(static_cast<int>(workers.size()), threads);
  }
}

TEST(ScanParallel, TheLowestRowGroupsFailureIsRethrown) {
  const Reader reader(memory_source(file_with_groups(6, 1'000)));
  for (int threads : {1, 3}) {
    try {
      scan_parallel(reader, {0}, threads, [](int, int group, std::vector<ColumnVector>&) {
        if (group == 2 || group == 4) throw std::runtime_error("group " + std::to_string(group));
      });
      FAIL();
    } catch (const std::runtime_error& e) {
      EXPECT_STREQ(e.what(), "group 2") << threads;
    }
  }
  EXPECT_THROW(scan_parallel(reader, {}, 2, [](int, int, std::vector<ColumnVector>&) {}), Error);
  EXPECT_THROW(scan_parallel(reader, {5}, 2, [](int, int, std::vector<ColumnVector>&) {}), Error);
  EXPECT_THROW(scan_parallel(reader, {0}, 0, [](int, int, std::vector<ColumnVector>&) {}), Error);
}

}  // namespace
}  // namespace trib::parquet

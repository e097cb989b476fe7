// libFuzzer target for the Parquet reader: any byte string must either parse and decode or throw
// trib::Error. Crashes, sanitizer reports, hangs and unbounded allocations are bugs.
// Build and run with scripts/fuzz-parquet SECONDS.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "trib/core/error.hpp"
#include "trib/lake/parquet.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace pq = trib::parquet;
  try {
    pq::Reader reader(pq::memory_source(std::string(reinterpret_cast<const char*>(data), size)),
                      "<fuzz>");
    const int columns = static_cast<int>(reader.metadata().schema.columns.size());
    std::vector<int> all;
    for (int c = 0; c < columns; ++c) all.push_back(c);
    for (int rg = 0; rg < reader.num_row_groups(); ++rg) {
      auto cols = reader.read_row_group(rg, all);
      // Touch the decoded values so layout bugs surface under ASan.
      for (const auto& col : cols) {
        if (!col.offsets.empty() && col.offsets.back() > col.data.size()) __builtin_trap();
      }
    }
    if (columns > 0) {
      (void)reader.row_groups_in_range(0, 0, 1000);
      // The same file again in small batches, into reused vectors: a batch boundary lands
      // inside pages and runs, and cursor state carries from one batch to the next.
      pq::BatchReader batches(reader, all, 5);
      std::vector<pq::ColumnVector> batch;
      while (batches.next(batch)) {
        for (const auto& col : batch) {
          if (col.num_rows > 5) __builtin_trap();
          if (!col.offsets.empty() && col.offsets.back() > col.data.size()) __builtin_trap();
        }
      }
    }
  } catch (const trib::Error&) {
    // Expected for corrupt input.
  }
  return 0;
}

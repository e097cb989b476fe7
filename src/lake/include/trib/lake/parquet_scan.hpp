// A parallel scan for consumers that can work on any thread (sums, filters, partial results per
// thread): each of `threads` threads (the caller is worker 0) takes the next row group not yet
// taken, streams it in batches into its own reused vectors, and hands each batch to `consume` on
// that thread. Nothing is queued or handed across threads, so memory is one batch per thread and
// two threads decode twice as fast, where BatchReader (which must return batches to one thread,
// in order) decodes ahead into queued batches.
//
// Within a row group, batches arrive in order; across row groups, in no defined order. `consume`
// is called concurrently from different workers (never concurrently for one worker). A failure
// (a corrupt page, or `consume` throwing) stops the workers on later row groups at their next
// batch; earlier row groups run on, and the failure of the lowest row group is rethrown, the one
// a one-thread scan meets first.
#pragma once

#include <cstddef>
#include <functional>
#include <vector>

#include "trib/lake/parquet.hpp"

namespace trib::parquet {

using ScanConsumer = std::function<void(int worker, int row_group, std::vector<ColumnVector>& batch)>;

// Throws Error::InvalidInput for no columns, an unknown column, batch_rows 0 or threads < 1.
void scan_parallel(const Reader& reader, const std::vector<int>& columns, int threads, const ScanConsumer& consume,
                   size_t batch_rows = BatchReader::kDefaultBatchRows);

}  // namespace trib::parquet

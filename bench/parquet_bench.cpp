// Times our Parquet writer and reader on a generated daily-bars table; bench/run-parquet.mjs runs
// it next to DuckDB on the same data and prints the ratios.
//
//   parquet_bench write OUT ROWS [ROW_GROUP_ROWS] [THREADS]
//                                                     -> {"seconds", "bytes", "peak_rss_mib"}
//   parquet_bench scan FILE [COLUMN,COLUMN...|*] [REPEATS] [THREADS]
//                                                     -> {"seconds", "rows", "checksum", "peak_rss_mib"}
//     (the best of REPEATS scans in one process; * = every column; TRIB_BENCH_BATCH_ROWS sets
//      the batch size; THREADS, default 1, is WriterOptions::threads, or for a scan: 1 reads
//      through a BatchReader, more through parquet::scan_parallel, each thread summing what it
//      decodes, as DuckDB's parallel aggregation does)
//
// Row i of the table (the same formulas are in run-parquet.mjs's SQL, all exact in IEEE double):
//   s = i / 10000, d = i % 10000
//   ts           = 946684800e9 + d * 86400e9 + 52200e9     TIMESTAMP(NANOS, UTC)
//   session_date = 10957 + d                               DATE
//   close        = 50 + s / 10 + ((d * 7919 + s * 104729) % 20011) / 100
//   open         = close + ((i * 40503) % 201 - 100) / 100
//   high         = max(open, close) + ((i * 7727) % 97) / 100
//   low          = min(open, close) - ((i * 5501) % 89) / 100
//   volume       = (i * 7727) % 1000000 + 1000             DOUBLE
//   symbol       = 'S' + 4-digit s                         STRING (dictionary)
// Only write_batch and close are timed on the write side; generation is not.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "trib/core/error.hpp"
#include "trib/lake/parquet.hpp"
#include "trib/lake/parquet_scan.hpp"

using namespace trib::parquet;
using Clock = std::chrono::steady_clock;

namespace {

// VmHWM of this process image. (getrusage's ru_maxrss survives execve, so it would report the
// memory of the Node process that spawned us.)
double peak_rss_mib() {
  FILE* f = std::fopen("/proc/self/status", "r");
  if (f == nullptr) return -1;
  char line[256];
  double kib = -1;
  while (std::fgets(line, sizeof line, f) != nullptr) {
    if (std::strncmp(line, "VmHWM:", 6) == 0) kib = std::atof(line + 6);
  }
  std::fclose(f);
  return kib / 1024.0;
}

Schema bars_schema() {
  Schema schema;
  schema.columns = {ColumnSchema::Timestamp("ts", TimeUnit::kNanos), ColumnSchema::Date("session_date"),
                    ColumnSchema::Double("open"),  ColumnSchema::Double("high"),
                    ColumnSchema::Double("low"),   ColumnSchema::Double("close"),
                    ColumnSchema::Double("volume"), ColumnSchema::String("symbol")};
  return schema;
}

void generate(int64_t start, int64_t end, std::vector<ColumnVector>& cols) {
  const Schema schema = bars_schema();
  cols.assign(schema.columns.size(), ColumnVector{});
  const size_t n = static_cast<size_t>(end - start);
  for (size_t c = 0; c < cols.size(); ++c) {
    cols[c].type = schema.columns[c].physical;
    cols[c].num_rows = n;
  }
  cols[0].i64.reserve(n);
  cols[1].i32.reserve(n);
  for (int c = 2; c <= 6; ++c) cols[c].f64.reserve(n);
  cols[7].offsets.reserve(n + 1);
  cols[7].offsets.push_back(0);
  cols[7].data.reserve(n * 5);
  char symbol[8];
  for (int64_t i = start; i < end; ++i) {
    const int64_t s = i / 10000, d = i % 10000;
    const double close = 50.0 + static_cast<double>(s) / 10.0 +
                         static_cast<double>((d * 7919 + s * 104729) % 20011) / 100.0;
    const double open = close + static_cast<double>((i * 40503) % 201 - 100) / 100.0;
    const double high = std::max(open, close) + static_cast<double>((i * 7727) % 97) / 100.0;
    const double low = std::min(open, close) - static_cast<double>((i * 5501) % 89) / 100.0;
    cols[0].i64.push_back(946684800LL * 1'000'000'000LL + d * 86400LL * 1'000'000'000LL +
                          52200LL * 1'000'000'000LL);
    cols[1].i32.push_back(static_cast<int32_t>(10957 + d));
    cols[2].f64.push_back(open);
    cols[3].f64.push_back(high);
    cols[4].f64.push_back(low);
    cols[5].f64.push_back(close);
    cols[6].f64.push_back(static_cast<double>((i * 7727) % 1000000 + 1000));
    std::snprintf(symbol, sizeof symbol, "S%04lld", static_cast<long long>(s));
    cols[7].append_string(symbol);
  }
}

int write_main(const char* out, int64_t rows, int64_t row_group_rows, int threads) {
  WriterOptions options;
  options.compression = Compression::kZstd;
  options.row_group_rows = row_group_rows;
  options.threads = threads;
  FileSink sink(out);
  Writer writer(sink, bars_schema(), options);
  std::vector<ColumnVector> cols;
  double timed = 0;
  const int64_t batch = 65'536;
  for (int64_t start = 0; start < rows; start += batch) {
    generate(start, std::min(rows, start + batch), cols);
    auto t0 = Clock::now();
    writer.write_batch(cols);
    timed += std::chrono::duration<double>(Clock::now() - t0).count();
  }
  auto t0 = Clock::now();
  writer.close();
  sink.finish();
  timed += std::chrono::duration<double>(Clock::now() - t0).count();
  fmt::print("{{\"seconds\": {:.4f}, \"bytes\": {}, \"peak_rss_mib\": {:.1f}}}\n", timed,
             sink.position(), peak_rss_mib());
  return 0;
}

struct ScanResult {
  double seconds = 0, checksum = 0;
  int64_t rows = 0;
};

// One timed scan: open, read every chosen column batch by batch, checksum every value.
ScanResult scan_once(const char* file, const std::string& column_list, size_t batch_rows, int threads) {
  auto t0 = Clock::now();
  Reader reader = Reader::open(file);
  const auto& meta = reader.metadata();
  std::vector<int> columns;
  if (column_list.empty()) {
    for (size_t c = 0; c < meta.schema.columns.size(); ++c) columns.push_back(static_cast<int>(c));
  } else {
    size_t start = 0;
    while (start <= column_list.size()) {
      size_t end = column_list.find(',', start);
      if (end == std::string::npos) end = column_list.size();
      std::string name = column_list.substr(start, end - start);
      int idx = meta.schema.find(name);
      if (idx < 0) throw trib::Error::InvalidInput("no column " + name);
      columns.push_back(idx);
      start = end + 1;
    }
  }
  // A checksum over every value read, so nothing can be skipped: wrapping sums of the values'
  // bits, exact and order-free, so an N-thread scan (row groups in any order) must match the
  // one-thread scan bit for bit. Four lanes, so the checksum's own add latency does not dominate.
  struct alignas(64) Sums {
    uint64_t lane[4] = {0, 0, 0, 0};
    uint64_t isum = 0;
    int64_t rows = 0;
  };
  auto add = [](Sums& s, const std::vector<ColumnVector>& cols) {
    s.rows += static_cast<int64_t>(cols[0].num_rows);
    for (const auto& col : cols) {
      const size_t n = col.f64.size();
      const uint64_t* bits = reinterpret_cast<const uint64_t*>(col.f64.data());
      size_t i = 0;
      for (; i + 4 <= n; i += 4) {
        for (int k = 0; k < 4; ++k) s.lane[k] += bits[i + static_cast<size_t>(k)];
      }
      for (; i < n; ++i) s.lane[0] += bits[i];
      for (int64_t v : col.i64) s.isum += static_cast<uint64_t>(v);
      for (int32_t v : col.i32) s.isum += static_cast<uint64_t>(v);
      if (!col.offsets.empty()) s.isum += col.offsets.back();
    }
  };
  std::vector<Sums> sums(static_cast<size_t>(std::max(threads, 1)));
  if (threads <= 1) {
    std::vector<ColumnVector> cols;  // reused from batch to batch, as a scan loop would
    BatchReader batches(reader, columns, batch_rows, 1);
    while (batches.next(cols)) add(sums[0], cols);
  } else {
    // Each thread sums the batches it decodes, as DuckDB's parallel aggregation does.
    scan_parallel(reader, columns, threads,
                  [&](int worker, int, std::vector<ColumnVector>& cols) { add(sums[static_cast<size_t>(worker)], cols); },
                  batch_rows);
  }
  uint64_t total = 0;
  int64_t rows = 0;
  for (const Sums& s : sums) {
    total += s.lane[0] + s.lane[1] + s.lane[2] + s.lane[3] + s.isum;
    rows += s.rows;
  }
  ScanResult out;
  out.checksum = static_cast<double>(total % 1000000007);
  out.rows = rows;
  out.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return out;
}

// The best of `repeats` scans in this process: like DuckDB answering repeated queries, every
// scan after the first finds the allocator and the code warm (the file is in the page cache
// for both sides either way).
int scan_main(const char* file, const std::string& column_list, size_t batch_rows, int repeats, int threads) {
  ScanResult best;
  for (int r = 0; r < std::max(1, repeats); ++r) {
    ScanResult one = scan_once(file, column_list, batch_rows, threads);
    if (r == 0 || one.seconds < best.seconds) best = one;
  }
  fmt::print("{{\"seconds\": {:.4f}, \"rows\": {}, \"checksum\": {:.6e}, \"peak_rss_mib\": {:.1f}}}\n",
             best.seconds, best.rows, best.checksum, peak_rss_mib());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    std::string mode = argc > 1 ? argv[1] : "";
    if (mode == "write" && argc >= 4) {
      return write_main(argv[2], std::atoll(argv[3]), argc > 4 ? std::atoll(argv[4]) : 1 << 20,
                        argc > 5 ? std::atoi(argv[5]) : 1);
    }
    if (mode == "scan" && argc >= 3) {
      const char* batch = std::getenv("TRIB_BENCH_BATCH_ROWS");
      const std::string columns = argc > 3 && std::string(argv[3]) != "*" ? argv[3] : "";
      return scan_main(argv[2], columns,
                       batch != nullptr ? static_cast<size_t>(std::atoll(batch)) : BatchReader::kDefaultBatchRows,
                       argc > 4 ? std::atoi(argv[4]) : 1, argc > 5 ? std::atoi(argv[5]) : 1);
    }
    std::fprintf(stderr,
                 "usage: parquet_bench write OUT ROWS [ROW_GROUP_ROWS] [THREADS] | scan FILE [COLUMNS|*] [REPEATS] "
                 "[THREADS]\n");
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "parquet_bench: %s\n", e.what());
    return 1;
  }
}

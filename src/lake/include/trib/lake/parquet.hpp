// Parquet: our own writer and reader of the Apache Parquet format (Arrow is not packaged for
// Debian 12). File metadata is Thrift compact protocol (libthrift, from our own IDL of the
// format's metadata structs); pages are compressed with zstd, snappy or gzip.
//
// Scope: flat schemas (REQUIRED / OPTIONAL leaf columns at the root). Nested schemas are refused
// with a clear Error::InvalidInput("... nested columns are not supported").
// Errors: a corrupt, truncated or hostile file throws Error::DataLoss naming the file part that
// was wrong; it never crashes, hangs or allocates without bound.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace trib::lake {
class ObjectStore;
}

namespace trib::parquet {

// Persistent (Parquet's own enum values are used in files; these are ours): do not renumber.
enum class PhysicalType { kBoolean, kInt32, kInt64, kInt96, kFloat, kDouble, kByteArray, kFixedLenByteArray };
enum class LogicalType { kNone, kString, kDate, kTimestamp, kDecimal, kInt, kJson, kEnum, kUuid, kTime };
enum class TimeUnit { kMillis, kMicros, kNanos };
// kLz4 is the legacy LZ4 codec (Hadoop framing, or a bare block): read only; writers use
// kLz4Raw.
enum class Compression { kUncompressed, kSnappy, kGzip, kZstd, kBrotli, kLz4Raw, kLz4 };

std::string_view to_string(PhysicalType type);
std::string_view to_string(Compression compression);
// "none"/"uncompressed", "snappy", "gzip", "zstd", "brotli", "lz4"/"lz4_raw" (both LZ4_RAW);
// throws Error::InvalidInput otherwise.
Compression parse_compression(std::string_view text);

struct ColumnSchema {
  std::string name;
  PhysicalType physical = PhysicalType::kInt64;
  bool optional = false;  // OPTIONAL (nullable) vs REQUIRED
  LogicalType logical = LogicalType::kNone;
  TimeUnit time_unit = TimeUnit::kNanos;  // kTimestamp / kTime
  bool utc = true;                        // kTimestamp: isAdjustedToUTC
  int precision = 0, scale = 0;           // kDecimal
  int int_bit_width = 0;                  // kInt: 8, 16, 32, 64
  bool int_signed = true;                 // kInt
  int type_length = 0;                    // kFixedLenByteArray

  // Convenience constructors for the common cases.
  static ColumnSchema Int32(std::string name, bool optional = false);
  static ColumnSchema Int64(std::string name, bool optional = false);
  static ColumnSchema Double(std::string name, bool optional = false);
  static ColumnSchema Float(std::string name, bool optional = false);
  static ColumnSchema Boolean(std::string name, bool optional = false);
  static ColumnSchema String(std::string name, bool optional = false);
  static ColumnSchema Date(std::string name, bool optional = false);
  static ColumnSchema Timestamp(std::string name, TimeUnit unit, bool optional = false);
};

struct Schema {
  std::vector<ColumnSchema> columns;
  // Index of the column called `name`, or -1.
  int find(std::string_view name) const;
};

// The values of one column for a run of rows, row-aligned: slot i is row i, also when null
// (null slots hold 0 / empty). Exactly one storage vector is used, chosen by physical type:
//   kBoolean -> b8 (0/1), kInt32 -> i32, kInt64 -> i64, kInt96 -> i64 (as nanoseconds since
//   epoch, Impala convention), kFloat -> f32, kDouble -> f64,
//   kByteArray / kFixedLenByteArray -> offsets + data (value i = data[offsets[i], offsets[i+1])).
struct ColumnVector {
  PhysicalType type = PhysicalType::kInt64;
  size_t num_rows = 0;
  std::vector<uint8_t> b8;
  std::vector<int32_t> i32;
  std::vector<int64_t> i64;
  std::vector<float> f32;
  std::vector<double> f64;
  std::vector<uint64_t> offsets;  // num_rows + 1 entries for byte arrays
  std::string data;
  std::vector<uint8_t> defined;   // empty: no nulls; else 1 = value, 0 = null, one per row

  bool is_null(size_t row) const { return !defined.empty() && defined[row] == 0; }
  std::string_view str(size_t row) const {
    return std::string_view(data).substr(offsets[row], offsets[row + 1] - offsets[row]);
  }
  // Builders used by writers of tables.
  static ColumnVector of_i32(std::vector<int32_t> v);
  static ColumnVector of_i64(std::vector<int64_t> v);
  static ColumnVector of_f64(std::vector<double> v);
  static ColumnVector of_strings(const std::vector<std::string>& v);
  void append_string(std::string_view s);  // for kByteArray; keeps offsets consistent
};

// A min or max statistic, typed by the column's physical type (byte arrays as raw bytes).
using StatValue = std::variant<std::monostate, bool, int32_t, int64_t, float, double, std::string>;

struct ColumnStatistics {
  StatValue min, max;  // monostate when absent
  std::optional<int64_t> null_count;
  std::optional<int64_t> distinct_count;
};

struct ColumnChunkInfo {
  std::string path;  // column name
  PhysicalType physical = PhysicalType::kInt64;
  Compression compression = Compression::kUncompressed;
  std::vector<std::string> encodings;  // "PLAIN", "RLE_DICTIONARY", ...
  int64_t num_values = 0;
  int64_t total_compressed_size = 0;
  int64_t total_uncompressed_size = 0;
  int64_t data_page_offset = 0;
  std::optional<int64_t> dictionary_page_offset;
  ColumnStatistics statistics;
};

struct RowGroupInfo {
  int64_t num_rows = 0;
  int64_t total_byte_size = 0;
  std::vector<ColumnChunkInfo> columns;
};

struct FileMetadata {
  Schema schema;
  int64_t num_rows = 0;
  int32_t version = 0;
  std::string created_by;
  std::vector<std::pair<std::string, std::string>> key_value;  // in file order
  std::vector<RowGroupInfo> row_groups;
  // Value of a key-value entry, if present.
  std::optional<std::string> kv(std::string_view key) const;
};

// ---- writing -------------------------------------------------------------------------------

// Where a writer's bytes go. Implementations: FileSink (buffered, fsync on finish) and
// StringSink (in memory).
class OutputSink {
 public:
  virtual ~OutputSink() = default;
  virtual void write(const void* data, size_t size) = 0;
  virtual uint64_t position() const = 0;
};

class StringSink final : public OutputSink {
 public:
  void write(const void* data, size_t size) override;
  uint64_t position() const override { return buffer_.size(); }
  std::string& buffer() { return buffer_; }

 private:
  std::string buffer_;
};

class FileSink final : public OutputSink {
 public:
  // Creates or truncates `path`. Throws Error::Retryable when it cannot.
  explicit FileSink(const std::filesystem::path& path);
  ~FileSink() override;
  void write(const void* data, size_t size) override;
  uint64_t position() const override { return position_; }
  // Flushes and fsyncs; must be called before the file is renamed into place.
  void finish();

 private:
  int fd_ = -1;
  uint64_t position_ = 0;
  std::string buffer_;
  std::filesystem::path path_;
};

struct WriterOptions {
  Compression compression = Compression::kZstd;
  int zstd_level = 3;
  int brotli_quality = 5;  // 0-11
  // Dictionary-encode each column chunk (RLE_DICTIONARY) while its dictionary stays under
  // dictionary_page_limit_bytes; past that the chunk falls back to PLAIN.
  bool dictionary = true;
  size_t dictionary_page_limit_bytes = 1 << 20;
  // Rows per row group; the writer holds at most one row group's encoded pages in memory.
  int64_t row_group_rows = 1 << 20;
  // Target uncompressed size of one data page.
  size_t data_page_bytes = 1 << 20;
  bool write_statistics = true;
  // Written in this order. Never put wall-clock times here: equal rows must give equal bytes.
  std::vector<std::pair<std::string, std::string>> key_value;
  std::string created_by = "tributary";
  // Threads that encode and compress (the caller's included): with more than 1, the columns of
  // each batch and row group are encoded and compressed in parallel, at most one thread per
  // column. The bytes written are the same for any value. Must be at least 1.
  int threads = 1;
};

// Streams rows to a Parquet file. Not thread-safe. Usage: construct, write_batch() any number
// of times with row-aligned columns in schema order, close(). A writer destroyed without
// close() leaves an invalid (footer-less) file: callers write to a temp path and rename.
class Writer {
 public:
  Writer(OutputSink& sink, Schema schema, WriterOptions options = {});
  ~Writer();
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  // Throws Error::InvalidInput when columns do not match the schema (count, type, row counts,
  // a null in a REQUIRED column).
  void write_batch(const std::vector<ColumnVector>& columns);
  // Flushes the last row group and writes the footer.
  void close();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// ---- reading -------------------------------------------------------------------------------

class InputSource {
 public:
  virtual ~InputSource() = default;
  virtual uint64_t size() const = 0;
  // Reads exactly `size` bytes at `offset`; throws Error::DataLoss if past the end.
  virtual void read_at(uint64_t offset, size_t size, char* out) const = 0;
};

std::unique_ptr<InputSource> open_file_source(const std::filesystem::path& path);
std::unique_ptr<InputSource> memory_source(std::string bytes);
// An object of a store, read with range reads: one head() at open, the last `tail_prefetch`
// bytes in one read (the footer, usually whole, so opening a file costs 2-3 requests), then each
// column chunk the reader asks for. On blob storage a reader of 2 columns transfers those
// columns' chunks and the footer, not the file. Read immutable objects this way (the version
// objects the catalog commits): a live file replaced while it is read could mix two versions
// (the reader's checks then fail with DataLoss). The store must outlive the source and be
// thread-safe when BatchReader threads share it (the local and Azure stores are).
std::unique_ptr<InputSource> object_source(const lake::ObjectStore& store, std::string key,
                                           uint64_t tail_prefetch = 64 * 1024);

// Reads a Parquet file. Metadata is parsed once at open; column chunks are read on demand.
// read_column / read_row_group decode whole row groups (memory grows with the row group);
// BatchReader below streams them in batches of bounded size.
// Thread-compatible: concurrent const reads on one Reader are safe, and so are BatchReaders on
// one Reader used from different threads.
class Reader {
 public:
  explicit Reader(std::unique_ptr<InputSource> source, std::string name = "<memory>");
  static Reader open(const std::filesystem::path& path);
  ~Reader();
  Reader(Reader&&) noexcept;
  Reader& operator=(Reader&&) noexcept;

  const FileMetadata& metadata() const;
  int num_row_groups() const;

  // One column of one row group, decoded.
  ColumnVector read_column(int row_group, int column) const;
  // The given columns (schema indexes, in the order given) of one row group. With threads > 1,
  // that many threads decode the columns in parallel (the same values; the error thrown, if
  // any, is the one of the first failing column in `columns`).
  std::vector<ColumnVector> read_row_group(int row_group, const std::vector<int>& columns, int threads = 1) const;
  // The same, decoding into `out` and reusing its buffers: a scan that passes the same vectors
  // for every row group allocates once instead of once per row group.
  void read_column(int row_group, int column, ColumnVector& out) const;
  void read_row_group(int row_group, const std::vector<int>& columns, std::vector<ColumnVector>& out,
                      int threads = 1) const;
  // Indexes of the row groups whose statistics for INT64/INT32 column `column` may hold values
  // in [min_value, max_value]; groups without statistics are always included.
  std::vector<int> row_groups_in_range(int column, int64_t min_value, int64_t max_value) const;

 private:
  friend class BatchReader;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Streams chosen columns of a file in batches of at most `batch_rows` rows, decoding page by page:
// memory stays bounded by the projected columns' compressed chunks of one row group, one page
// per column and one batch, however large the row groups are. A batch never spans row groups.
// The Reader must outlive the BatchReader. Not thread-safe (use one per thread). After next()
// throws (a corrupt page), the BatchReader is done: make a new one to read other row groups.
//
// threads > 1: the calling thread and threads - 1 workers share the column chunks (one column of
// one row group) out: next() decodes the chunks of the row group it is on that no worker has
// started, straight into `out`, while the workers decode chunks of the next 2 x (threads - 1)
// row groups ahead of it into queued batches. Batches, their order, row_group() and the error
// thrown (after the same batches) are those of threads = 1. Memory grows by the workers'
// compressed chunks and the batches they queue ahead: up to a few row groups' worth of the
// chosen columns, at most 16 Mi values past 4 batches per chunk. More threads than row groups
// are not used.
//
//   BatchReader batches(reader, {ts, close});
//   std::vector<ColumnVector> batch;
//   while (batches.next(batch)) { ... batch[0].i64, batch[1].f64, batch[0].num_rows ... }
class BatchReader {
 public:
  static constexpr size_t kDefaultBatchRows = 64 * 1024;
  // Throws Error::InvalidInput for no columns, an unknown column or row group, batch_rows 0 or
  // threads below 1.
  BatchReader(const Reader& reader, std::vector<int> columns, size_t batch_rows = kDefaultBatchRows, int threads = 1);
  // Only the given row groups, in the given order (e.g. from Reader::row_groups_in_range).
  BatchReader(const Reader& reader, std::vector<int> columns, std::vector<int> row_groups,
              size_t batch_rows = kDefaultBatchRows, int threads = 1);
  ~BatchReader();
  BatchReader(BatchReader&&) noexcept;
  BatchReader& operator=(BatchReader&&) noexcept;

  // Decodes the next batch into `out` (one ColumnVector per chosen column, buffers reused);
  // returns false, leaving `out` alone, when every row has been read.
  bool next(std::vector<ColumnVector>& out);
  // Row group of the batch last returned by next().
  int row_group() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace trib::parquet

// Hostile and corrupt inputs to the Parquet reader: each must throw trib::Error (or, for bit
// flips that keep the file well-formed, read), never crash, hang or allocate without bound.
// Files in tests/lake/corrupt/ (including every crash the fuzzer found) are regression cases.
#include <algorithm>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <sys/resource.h>

#include "trib/core/error.hpp"
#include "trib/core/fs.hpp"
#include "trib/lake/parquet.hpp"

namespace trib::parquet {
namespace {

// Opens `bytes` and reads every column of every row group.
void read_everything(const std::string& bytes) {
  Reader reader(memory_source(bytes));
  std::vector<int> all;
  for (size_t c = 0; c < reader.metadata().schema.columns.size(); ++c) {
    all.push_back(static_cast<int>(c));
  }
  for (int rg = 0; rg < reader.num_row_groups(); ++rg) (void)reader.read_row_group(rg, all);
}

// The same through a BatchReader of 5-row batches: batch boundaries inside pages and runs.
void read_in_batches(const std::string& bytes) {
  Reader reader(memory_source(bytes));
  std::vector<int> all;
  for (size_t c = 0; c < reader.metadata().schema.columns.size(); ++c) {
    all.push_back(static_cast<int>(c));
  }
  if (all.empty()) return;
  BatchReader batches(reader, all, 5);
  std::vector<ColumnVector> batch;
  while (batches.next(batch)) {
  }
}

enum class Outcome { kRead, kError, kOtherException };

Outcome try_read(const std::string& bytes, std::string* message = nullptr, bool batches = false) {
  try {
    if (batches) read_in_batches(bytes);
    else read_everything(bytes);
    return Outcome::kRead;
  } catch (const Error& e) {
    if (message) *message = e.what();
    return Outcome::kError;
  } catch (const std::exception& e) {
    if (message) *message = e.what();
    return Outcome::kOtherException;
  }
}

std::string small_file(Compression compression, bool dictionary, bool statistics = true) {
  Schema schema;
  schema.columns = {ColumnSchema::Int64("id"), ColumnSchema::String("s", true),
                    ColumnSchema::Double("x"), ColumnSchema::Boolean("b")};
  WriterOptions options;
  options.compression = compression;
  options.dictionary = dictionary;
  options.write_statistics = statistics;
  options.row_group_rows = 30;
  options.data_page_bytes = 128;
  options.key_value = {{"k", "v"}};
  StringSink sink;
  Writer writer(sink, schema, options);
  std::vector<int64_t> id;
  std::vector<double> x;
  std::vector<std::string> s;
  for (int i = 0; i < 50; ++i) {
    id.push_back(i * 1000);
    x.push_back(i * 0.5);
    s.push_back("v" + std::to_string(i % 7));
  }
  auto sc = ColumnVector::of_strings(s);
  sc.defined.assign(50, 1);
  sc.defined[3] = 0;
  ColumnVector b;
  b.type = PhysicalType::kBoolean;
  b.num_rows = 50;
  b.b8.assign(50, 1);
  writer.write_batch({ColumnVector::of_i64(id), sc, ColumnVector::of_f64(x), b});
  writer.close();
  return std::move(sink.buffer());
}

uint32_t footer_length(const std::string& f) {
  uint32_t len = 0;
  std::memcpy(&len, f.data() + f.size() - 8, 4);
  return len;
}

TEST(ParquetCorrupt, ValidFileReads) {
  for (auto c : {Compression::kUncompressed, Compression::kSnappy, Compression::kGzip,
                 Compression::kZstd, Compression::kBrotli, Compression::kLz4Raw}) {
    const std::string f = small_file(c, true);
    std::string msg;
    EXPECT_EQ(try_read(f, &msg), Outcome::kRead) << msg;
  }
}

TEST(ParquetCorrupt, EveryPrefixThrows) {
  for (bool dictionary : {false, true}) {
    const std::string f = small_file(Compression::kSnappy, dictionary);
    ASSERT_LT(f.size(), 20000u);
    for (size_t len = 0; len < f.size(); ++len) {
      std::string msg;
      const Outcome o = try_read(f.substr(0, len), &msg);
      ASSERT_EQ(o, Outcome::kError) << "prefix of " << len << " of " << f.size() << ": " << msg;
    }
  }
}

TEST(ParquetCorrupt, TruncatedTailAndGarbageAppended) {
  const std::string f = small_file(Compression::kZstd, true);
  // Dropping bytes from the middle (keeping the tail) moves every offset.
  for (size_t cut : {1u, 7u, 100u}) {
    std::string g = f.substr(0, 4) + f.substr(4 + cut);
    EXPECT_NE(try_read(g), Outcome::kOtherException) << cut;
  }
}

// Flips bits of every byte in [begin, end), one byte at a time: the result may read (the flip hit
// something harmless) or throw trib::Error, but nothing else.
void flip_each_byte(const std::string& f, size_t begin, size_t end, const char* what) {
  int errors = 0, reads = 0;
  for (size_t i = begin; i < end; ++i) {
    for (uint8_t mask : {uint8_t{0xff}, uint8_t{0x01}, uint8_t{0x80}}) {
      std::string g = f;
      g[i] = static_cast<char>(static_cast<uint8_t>(g[i]) ^ mask);
      std::string msg;
      const Outcome o = try_read(g, &msg);
      ASSERT_NE(o, Outcome::kOtherException) << what << " byte " << i << " mask " << int(mask)
                                             << ": non-trib exception: " << msg;
      (o == Outcome::kError ? errors : reads)++;
    }
  }
  EXPECT_GT(errors, 0) << what;
  ::testing::Test::RecordProperty(std::string(what) + "_reads", reads);
}

// The legacy LZ4 codec (5) is ambiguous: Hadoop-framed blocks or a bare block. A file whose
// chunks say LZ4 but hold bare blocks (what LZ4_RAW writes) must read like the LZ4_RAW file.
TEST(ParquetCorrupt, LegacyLz4CodecWithBareBlocksReads) {
  const std::string raw = small_file(Compression::kLz4Raw, true);
  std::string legacy = raw;
  // ColumnMetaData.codec is field 4 after field 3 (a list): compact header 0x15, then
  // zigzag(7) = 0x0e for LZ4_RAW; zigzag(5) = 0x0a is LZ4.
  const size_t footer_begin = legacy.size() - 8 - footer_length(legacy);
  int patched = 0;
  for (size_t i = footer_begin; i + 1 < legacy.size() - 8; ++i) {
    if (legacy[i] == '\x15' && legacy[i + 1] == '\x0e') {
      legacy[i + 1] = '\x0a';
      ++patched;
    }
  }
  ASSERT_EQ(patched, 8);  // 4 columns x 2 row groups
  Reader a(memory_source(raw)), b(memory_source(legacy));
  ASSERT_EQ(b.num_row_groups(), 2);
  for (int rg = 0; rg < 2; ++rg) {
    for (int c = 0; c < 4; ++c) {
      EXPECT_EQ(b.metadata().row_groups[static_cast<size_t>(rg)].columns[static_cast<size_t>(c)].compression,
                Compression::kLz4);
      const ColumnVector x = a.read_column(rg, c), y = b.read_column(rg, c);
      EXPECT_EQ(x.num_rows, y.num_rows);
      EXPECT_EQ(x.i64, y.i64);
      EXPECT_EQ(x.f64, y.f64);
      EXPECT_EQ(x.b8, y.b8);
      EXPECT_EQ(x.offsets, y.offsets);
      EXPECT_EQ(x.data, y.data);
      EXPECT_EQ(x.defined, y.defined);
    }
  }
}

TEST(ParquetCorrupt, FooterByteFlips) {
  for (bool dictionary : {false, true}) {
    const std::string f = small_file(Compression::kGzip, dictionary);
    const size_t len = footer_length(f);
    ASSERT_LT(len + 8, f.size());
    flip_each_byte(f, f.size() - 8 - len, f.size(), "footer");
  }
}

TEST(ParquetCorrupt, FirstPageHeaderByteFlips) {
  for (auto c : {Compression::kUncompressed, Compression::kSnappy, Compression::kZstd,
                 Compression::kBrotli, Compression::kLz4Raw}) {
    for (bool dictionary : {false, true}) {
      const std::string f = small_file(c, dictionary);
      // The first page header starts right after the magic; 64 bytes covers it and the start of
      // the page body.
      flip_each_byte(f, 4, std::min<size_t>(f.size(), 68), "page header");
    }
  }
}

TEST(ParquetCorrupt, HugeFooterLength) {
  const std::string f = small_file(Compression::kUncompressed, false);
  for (uint32_t len : {0x80000000u, 0xffffffffu, static_cast<uint32_t>(f.size()),
                       static_cast<uint32_t>(f.size() - 8), 0u, 1u}) {
    std::string g = f;
    std::memcpy(g.data() + g.size() - 8, &len, 4);
    std::string msg;
    EXPECT_EQ(try_read(g, &msg), Outcome::kError) << len << ": " << msg;
  }
}

// Appends a Thrift compact varint.
void put_varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

uint64_t zigzag(int64_t v) { return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63); }

// Skips a varint at `pos`, returning the position after it.
size_t skip_varint(const std::string& s, size_t pos) {
  while (pos < s.size() && (static_cast<uint8_t>(s[pos]) & 0x80)) ++pos;
  return pos + 1;
}

TEST(ParquetCorrupt, HugeUncompressedPageSize) {
  for (auto c : {Compression::kUncompressed, Compression::kZstd, Compression::kSnappy,
                 Compression::kGzip, Compression::kBrotli, Compression::kLz4Raw}) {
    const std::string f = small_file(c, false);
    // PageHeader: field 1 (type, i32) then field 2 (uncompressed_page_size, i32), each with a
    // one-byte compact field header 0x15.
    ASSERT_EQ(static_cast<uint8_t>(f[4]), 0x15);
    const size_t after_type = skip_varint(f, 5);
    ASSERT_EQ(static_cast<uint8_t>(f[after_type]), 0x15);
    const size_t size_begin = after_type + 1, size_end = skip_varint(f, size_begin);
    for (int64_t huge : {int64_t{0x7fffffff}, int64_t{-1}, int64_t{1} << 30}) {
      std::string header_size;
      put_varint(header_size, zigzag(huge));
      std::string g = f.substr(0, size_begin) + header_size + f.substr(size_end);
      std::string msg;
      EXPECT_EQ(try_read(g, &msg), Outcome::kError) << to_string(c) << " " << huge << ": " << msg;
    }
  }
}

TEST(ParquetCorrupt, NotParquet) {
  const std::vector<std::string> inputs = {
      "", "P", "PAR1", "PAR1PAR1", "hello, world; this is not a parquet file at all",
      std::string("PAR1") + std::string(4, '\0') + "PAR1",
      std::string("PAR1") + std::string(100, '\xff') + "PAR1",
      std::string(1000, '\0'), "PAR1" + std::string(64, 'x') + std::string("\x10\0\0\0PAR1", 8)};
  for (const auto& in : inputs) {
    std::string msg;
    EXPECT_EQ(try_read(in, &msg), Outcome::kError) << in.size() << " bytes: " << msg;
  }
}

// A tiny Thrift compact-protocol encoder, enough for a hand-made FileMetaData.
class Compact {
 public:
  void field(int id, int type) {
    const int delta = id - last_.back();
    if (delta > 0 && delta <= 15) {
      out_.push_back(static_cast<char>((delta << 4) | type));
    } else {
      out_.push_back(static_cast<char>(type));
      put_varint(out_, zigzag(id));
    }
    last_.back() = id;
  }
  void i32(int id, int32_t v) { field(id, 5); put_varint(out_, zigzag(v)); }
  void i64(int id, int64_t v) { field(id, 6); put_varint(out_, zigzag(v)); }
  void str(int id, const std::string& v) {
    field(id, 8);
    put_varint(out_, v.size());
    out_ += v;
  }
  void list_of_structs(int id, int size) {
    field(id, 9);
    out_.push_back(static_cast<char>((size << 4) | 12));
  }
  void begin_struct() { last_.push_back(0); }
  void end_struct() {
    out_.push_back('\0');
    last_.pop_back();
  }
  std::string& bytes() { return out_; }

 private:
  std::string out_;
  std::vector<int> last_{0};
};

std::string file_with_footer(std::string footer) {
  const uint32_t len = static_cast<uint32_t>(footer.size());
  std::string f = "PAR1" + footer;
  f.append(reinterpret_cast<const char*>(&len), 4);
  return f + "PAR1";
}

TEST(ParquetCorrupt, NestedSchemaIsRefused) {
  // schema: root { group g (OPTIONAL) { x INT64 REQUIRED } }
  Compact c;
  c.i32(1, 1);  // version
  c.list_of_structs(2, 3);
  c.begin_struct();  // root
  c.str(4, "schema");
  c.i32(5, 1);
  c.end_struct();
  c.begin_struct();  // g
  c.i32(3, 1);       // OPTIONAL
  c.str(4, "g");
  c.i32(5, 1);
  c.end_struct();
  c.begin_struct();  // x
  c.i32(1, 2);       // INT64
  c.i32(3, 0);       // REQUIRED
  c.str(4, "x");
  c.end_struct();
  c.i64(3, 0);  // num_rows
  c.list_of_structs(4, 0);
  c.bytes().push_back('\0');
  std::string msg;
  try {
    Reader reader(memory_source(file_with_footer(c.bytes())));
    FAIL() << "nested schema was accepted";
  } catch (const Error& e) {
    msg = e.what();
    EXPECT_EQ(e.category(), ErrorCategory::kInvalidInput) << msg;
  }
  EXPECT_NE(msg.find("nested columns are not supported"), std::string::npos) << msg;
}

TEST(ParquetCorrupt, HandMadeFooterWithBadCounts) {
  // A flat schema that claims more leaves than it has, and a negative num_children.
  for (int children : {5, -1, 1000000}) {
    Compact c;
    c.i32(1, 1);
    c.list_of_structs(2, 2);
    c.begin_struct();
    c.str(4, "schema");
    c.i32(5, children);
    c.end_struct();
    c.begin_struct();
    c.i32(1, 2);
    c.i32(3, 0);
    c.str(4, "x");
    c.end_struct();
    c.i64(3, 0);
    c.list_of_structs(4, 0);
    c.bytes().push_back('\0');
    std::string msg;
    EXPECT_EQ(try_read(file_with_footer(c.bytes()), &msg), Outcome::kError) << children << msg;
  }
}

TEST(ParquetCorrupt, RegressionFiles) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(TRIB_SOURCE_DIR) / "tests" / "lake" / "corrupt";
  ASSERT_TRUE(fs::is_directory(dir)) << dir;
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const long peak_before_kib = usage.ru_maxrss;
  int count = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (!entry.is_regular_file() || entry.path().extension() != ".parquet") continue;
    const std::string bytes = read_file(entry.path());
    std::string msg;
    EXPECT_EQ(try_read(bytes, &msg), Outcome::kError) << entry.path().filename() << ": " << msg;
    EXPECT_EQ(try_read(bytes, &msg, true), Outcome::kError) << entry.path().filename() << " in batches: " << msg;
    ++count;
  }
  EXPECT_GT(count, 0);
  // Small hostile files must not make the reader allocate what their headers claim (one claims a
  // 2 GiB page).
  getrusage(RUSAGE_SELF, &usage);
  EXPECT_LT(usage.ru_maxrss - peak_before_kib, 256L * 1024) << "peak RSS grew (KiB)";
}

// ---- hand-built hostile files (tests/lake/corrupt/), one test each --------------------------

std::string corrupt_file(const char* name) {
  return read_file(std::filesystem::path(TRIB_SOURCE_DIR) / "tests" / "lake" / "corrupt" / name);
}

// Reads `bytes` whole and in batches; both must throw trib::Error of `category` whose message
// holds `needle`.
void expect_refused(const std::string& bytes, ErrorCategory category, const std::string& needle) {
  for (bool batches : {false, true}) {
    try {
      if (batches) read_in_batches(bytes);
      else read_everything(bytes);
      ADD_FAILURE() << "read without an error" << (batches ? " (in batches)" : "");
    } catch (const Error& e) {
      EXPECT_EQ(e.category(), category) << e.what();
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  }
}

// One required INT96 column, one row, PLAIN, uncompressed: the value's 12 bytes start at byte 21.
constexpr size_t kInt96ValueAt = 21;

TEST(ParquetCorrupt, Int96JulianDayOverflowIsRefused) {
  // Julian day 0x7fffffff: (day - 2440588) * 86400e9 overflowed int64 (UB under UBSan).
  const std::string f = corrupt_file("int96-julian-day-overflow.parquet");
  ASSERT_EQ(f.size(), 100u);
  expect_refused(f, ErrorCategory::kInvalidInput, "does not fit in int64 nanoseconds");
  // Day 0 (4713 BC) and the last nanosecond a day can add past INT64_MAX are refused too.
  for (auto [julian, nanos] : {std::pair<int32_t, int64_t>{0, 0}, {INT32_MIN, 0}, {2440588 + 106751, INT64_MAX}}) {
    std::string g = f;
    std::memcpy(g.data() + kInt96ValueAt, &nanos, 8);
    std::memcpy(g.data() + kInt96ValueAt + 8, &julian, 4);
    expect_refused(g, ErrorCategory::kInvalidInput, "does not fit in int64 nanoseconds");
  }
}

TEST(ParquetCorrupt, Int96InRangeReads) {
  // The same file with sane values: the day after the epoch plus 5 ns, and the first day of 1678.
  std::string f = corrupt_file("int96-julian-day-overflow.parquet");
  for (auto [julian, nanos, expected] :
       {std::tuple<int32_t, int64_t, int64_t>{2440589, 5, int64_t{86400} * 1'000'000'000 + 5},
        {2440588 - 106740, 0, -int64_t{106740} * 86400 * 1'000'000'000},
        {2440588, -1, -1}}) {
    std::memcpy(f.data() + kInt96ValueAt, &nanos, 8);
    std::memcpy(f.data() + kInt96ValueAt + 8, &julian, 4);
    Reader reader(memory_source(f));
    const ColumnVector c = reader.read_column(0, 0);
    ASSERT_EQ(c.num_rows, 1u);
    EXPECT_EQ(c.i64, std::vector<int64_t>{expected}) << julian;
  }
}

TEST(ParquetCorrupt, RowGroupRowCountsThatOverflowAreRefused) {
  // Two row groups of INT64_MAX rows each: their sum overflowed int64 in the Reader constructor.
  const std::string f = corrupt_file("row-groups-int64-max-rows.parquet");
  try {
    Reader reader(memory_source(f));
    FAIL() << "opened";
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::kDataLoss) << e.what();
    EXPECT_NE(std::string(e.what()).find("add up to more than 2^63"), std::string::npos) << e.what();
  }
  // A negative row count in a row group or in the footer is refused as well.
  Compact c;
  c.i32(1, 1);
  c.list_of_structs(2, 2);
  c.begin_struct();
  c.str(4, "schema");
  c.i32(5, 1);
  c.end_struct();
  c.begin_struct();
  c.i32(1, 2);
  c.i32(3, 0);
  c.str(4, "x");
  c.end_struct();
  c.i64(3, -5);
  c.list_of_structs(4, 0);
  c.bytes().push_back('\0');
  std::string msg;
  EXPECT_EQ(try_read(file_with_footer(c.bytes()), &msg), Outcome::kError);
  EXPECT_NE(msg.find("claims -5 rows"), std::string::npos) << msg;
}

// Resets this process's peak resident memory (VmHWM) to its current RSS; false where the kernel
// does not allow it.
bool reset_peak_rss() {
  FILE* f = std::fopen("/proc/self/clear_refs", "w");
  if (f == nullptr) return false;
  const bool ok = std::fputs("5", f) >= 0;
  return std::fclose(f) == 0 && ok;
}

// A "VmRSS:"-style line of /proc/self/status, in KiB, or -1.
long status_kib(const char* key) {
  FILE* f = std::fopen("/proc/self/status", "r");
  if (f == nullptr) return -1;
  char line[256];
  long kib = -1;
  while (std::fgets(line, sizeof line, f) != nullptr) {
    if (std::strncmp(line, key, std::strlen(key)) == 0) kib = std::atol(line + std::strlen(key));
  }
  std::fclose(f);
  return kib;
}

TEST(ParquetCorrupt, RleRunClaimingMillionsOfRowsIsRefusedInSmallMemory) {
  // 134 bytes: a one-value dictionary and one data page whose single RLE run of index 0 claims
  // 300 million rows; read_column allocated 2.4 GB for them.
  const std::string f = corrupt_file("rle-run-300m-rows.parquet");
  ASSERT_EQ(f.size(), 134u);
  const bool measured = reset_peak_rss();
  const long rss_before = status_kib("VmRSS:");
  expect_refused(f, ErrorCategory::kInvalidInput, "too large to decode");
  if (!measured || rss_before < 0) GTEST_SKIP() << "cannot reset the peak RSS here";
  const long grew = status_kib("VmHWM:") - rss_before;
  EXPECT_LT(grew, 8 * 1024) << "peak RSS grew by " << grew << " KiB";
  ::testing::Test::RecordProperty("peak_rss_growth_kib", static_cast<int>(grew));
}

// A compact-protocol PageHeader of `type` (0 data, 2 dictionary) with both sizes `size`; `sub`
// writes the type's own header.
template <typename F>
std::string page_header(int type, int32_t uncompressed, int32_t compressed, F&& sub) {
  Compact h;
  h.i32(1, type);
  h.i32(2, uncompressed);
  h.i32(3, compressed);
  sub(h);
  h.bytes().push_back('\0');
  return h.bytes();
}

std::string data_page_header(int32_t uncompressed, int32_t compressed, int32_t values, int encoding) {
  return page_header(0, uncompressed, compressed, [&](Compact& h) {
    h.field(5, 12);  // data_page_header
    h.begin_struct();
    h.i32(1, values);
    h.i32(2, encoding);
    h.i32(3, 3);  // RLE levels
    h.i32(4, 3);
    h.end_struct();
  });
}

// A hand-built file of one REQUIRED INT64 column and one row group of `rows` rows whose chunk
// is `chunk` (pages with their headers) compressed with `codec`; its data pages start at byte
// `data_at` of the chunk (after the dictionary page, if any).
std::string one_column_file(const std::string& chunk, int64_t rows, int codec, size_t data_at) {
  Compact c;
  c.i32(1, 1);
  c.list_of_structs(2, 2);
  c.begin_struct();
  c.str(4, "schema");
  c.i32(5, 1);
  c.end_struct();
  c.begin_struct();
  c.i32(1, 2);  // INT64
  c.i32(3, 0);  // REQUIRED
  c.str(4, "c");
  c.end_struct();
  c.i64(3, rows);
  c.list_of_structs(4, 1);
  c.begin_struct();  // RowGroup
  c.list_of_structs(1, 1);
  c.begin_struct();  // ColumnChunk
  c.i64(2, 4);       // file_offset
  c.field(3, 12);    // meta_data
  c.begin_struct();
  c.i32(1, 2);    // INT64
  c.field(2, 9);  // encodings: [PLAIN, RLE_DICTIONARY]
  c.bytes().push_back(static_cast<char>((2 << 4) | 5));
  put_varint(c.bytes(), 0);
  put_varint(c.bytes(), zigzag(8));
  c.field(3, 9);  // path_in_schema: ["c"]
  c.bytes().push_back(static_cast<char>((1 << 4) | 8));
  put_varint(c.bytes(), 1);
  c.bytes().push_back('c');
  c.i32(4, codec);
  c.i64(5, rows);
  c.i64(6, static_cast<int64_t>(chunk.size()));
  c.i64(7, static_cast<int64_t>(chunk.size()));
  c.i64(9, static_cast<int64_t>(4 + data_at));  // data_page_offset
  if (data_at > 0) c.i64(11, 4);                // dictionary_page_offset
  c.end_struct();
  c.end_struct();
  c.i64(2, static_cast<int64_t>(chunk.size()));  // total_byte_size
  c.i64(3, rows);
  c.end_struct();
  c.bytes().push_back('\0');
  const std::string& footer = c.bytes();
  const uint32_t len = static_cast<uint32_t>(footer.size());
  std::string f = "PAR1" + chunk + footer;
  f.append(reinterpret_cast<const char*>(&len), 4);
  return f + "PAR1";
}

// A one-value dictionary page, then `pages` data pages each of `per_page` rows of dictionary
// index 0 as one RLE run, uncompressed: what a constant column looks like.
std::string run_pages_file(int pages, int32_t per_page) {
  std::string chunk = page_header(2, 8, 8, [](Compact& h) {
    h.field(7, 12);  // dictionary_page_header
    h.begin_struct();
    h.i32(1, 1);  // num_values
    h.i32(2, 0);  // PLAIN
    h.end_struct();
  });
  chunk.append(8, '\x01');  // the dictionary's one value
  const size_t data_at = chunk.size();
  std::string run;  // bit width 1, then a run of per_page zeros
  run.push_back('\x01');
  put_varint(run, static_cast<uint64_t>(per_page) << 1);
  run.push_back('\0');
  for (int p = 0; p < pages; ++p) {
    chunk += data_page_header(static_cast<int32_t>(run.size()), static_cast<int32_t>(run.size()), per_page, 8);
    chunk += run;
  }
  return one_column_file(chunk, int64_t{pages} * per_page, 0, data_at);
}

TEST(ParquetCorrupt, ConstantColumnOfAMillionRowsInOneTinyPageReads) {
  // What a legitimate constant column looks like: one run for the whole page. It must read.
  const std::string f = run_pages_file(1, 1'000'000);
  ASSERT_LT(f.size(), 200u);
  Reader reader(memory_source(f));
  const ColumnVector c = reader.read_column(0, 0);
  ASSERT_EQ(c.num_rows, 1'000'000u);
  EXPECT_EQ(c.i64, std::vector<int64_t>(1'000'000, 0x0101010101010101));
  std::string msg;
  EXPECT_EQ(try_read(f, &msg, true), Outcome::kRead) << msg;
  // So must 16 Mi rows in one page, and our own writer's constant column.
  EXPECT_EQ(Reader(memory_source(run_pages_file(1, 1 << 24))).read_column(0, 0).num_rows, size_t{1} << 24);
  Schema schema;
  schema.columns = {ColumnSchema::Int64("k")};
  WriterOptions options;
  options.row_group_rows = 3'000'000;
  options.write_statistics = false;
  StringSink sink;
  Writer writer(sink, schema, options);
  writer.write_batch({ColumnVector::of_i64(std::vector<int64_t>(3'000'000, 42))});
  writer.close();
  EXPECT_LT(sink.buffer().size(), 1000u);
  const ColumnVector k = Reader(memory_source(sink.buffer())).read_column(0, 0);
  EXPECT_EQ(k.i64, std::vector<int64_t>(3'000'000, 42));
}

TEST(ParquetCorrupt, PagesOfRunsPastTheChunkCapAreRefused) {
  // Under the per-page cap, but four such pages in a ~130-byte chunk claim far more rows than
  // the chunk's bytes allow: refused at the second page, before its rows are allocated.
  const std::string one_page_too_many = run_pages_file(1, (1 << 24) + 100);
  expect_refused(one_page_too_many, ErrorCategory::kInvalidInput, "too large to decode");
  const std::string f = run_pages_file(4, 1 << 24);
  ASSERT_LT(f.size(), 400u);
  expect_refused(f, ErrorCategory::kInvalidInput, "too large to decode");
}

TEST(ParquetCorrupt, ZstdFrameClaimingAGigabyteIsRefusedBeforeAllocating) {
  // A page header and the zstd frame inside agree on 1 GiB, but the frame is one 128 KiB RLE
  // block: no zstd frame of 16 bytes can hold 1 GiB (a block of at most 128 KiB costs at least
  // 4 bytes), so the page is refused before its buffer is allocated.
  constexpr int32_t kClaim = 1 << 30;
  std::string frame = "\x28\xb5\x2f\xfd";  // magic
  frame.push_back('\xa0');                 // 4-byte content size, single segment
  frame.append(reinterpret_cast<const char*>(&kClaim), 4);
  const uint32_t block = 1u | (1u << 1) | ((128u << 10) << 3);  // last, RLE, 128 KiB
  frame.append(reinterpret_cast<const char*>(&block), 3);
  frame.push_back('\0');
  const std::string chunk = data_page_header(kClaim, static_cast<int32_t>(frame.size()), kClaim / 8, 0) + frame;
  const std::string f = one_column_file(chunk, kClaim / 8, 6, 0);  // 6: ZSTD
  const bool measured = reset_peak_rss();
  const long rss_before = status_kib("VmRSS:");
  expect_refused(f, ErrorCategory::kDataLoss, "cannot hold");
  if (measured && rss_before >= 0) EXPECT_LT(status_kib("VmHWM:") - rss_before, 8 * 1024);
}

}  // namespace
}  // namespace trib::parquet

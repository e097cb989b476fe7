// Round-trip tests of our Parquet writer and reader: every value written is compared with a value
// recomputed from the row id, across types, compressions, dictionary modes, nulls, row groups and
// pages; plus statistics, metadata, determinism, projection, pruning, writer errors, cat output and
// bounded memory while streaming.
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "trib/core/error.hpp"
#include "trib/lake/parquet.hpp"
#include "trib/lake/parquet_tool.hpp"

namespace trib::parquet {
namespace {

constexpr int kFlbaLength = 16;

ColumnSchema make_schema(std::string name, PhysicalType physical, LogicalType logical,
                         bool optional) {
  ColumnSchema s;
  s.name = std::move(name);
  s.physical = physical;
  s.logical = logical;
  s.optional = optional;
  return s;
}

// Every physical type we write, and the logical types layered on them.
std::vector<ColumnSchema> base_columns() {
  std::vector<ColumnSchema> out;
  out.push_back(make_schema("bool", PhysicalType::kBoolean, LogicalType::kNone, false));
  out.push_back(make_schema("i32", PhysicalType::kInt32, LogicalType::kNone, false));
  out.push_back(make_schema("i64", PhysicalType::kInt64, LogicalType::kNone, false));
  out.push_back(make_schema("f32", PhysicalType::kFloat, LogicalType::kNone, false));
  out.push_back(make_schema("f64", PhysicalType::kDouble, LogicalType::kNone, false));
  out.push_back(make_schema("bin", PhysicalType::kByteArray, LogicalType::kNone, false));
  auto flba = make_schema("flba", PhysicalType::kFixedLenByteArray, LogicalType::kNone, false);
  flba.type_length = kFlbaLength;
  out.push_back(flba);
  out.push_back(make_schema("date", PhysicalType::kInt32, LogicalType::kDate, false));
  for (auto [unit, name] : {std::pair{TimeUnit::kMillis, "ts_ms"},
                            std::pair{TimeUnit::kMicros, "ts_us"},
                            std::pair{TimeUnit::kNanos, "ts_ns"}}) {
    auto ts = make_schema(name, PhysicalType::kInt64, LogicalType::kTimestamp, false);
    ts.time_unit = unit;
    out.push_back(ts);
  }
  out.push_back(make_schema("str", PhysicalType::kByteArray, LogicalType::kString, false));
  out.push_back(make_schema("sym", PhysicalType::kByteArray, LogicalType::kString, false));
  auto d32 = make_schema("dec32", PhysicalType::kInt32, LogicalType::kDecimal, false);
  d32.precision = 9;
  d32.scale = 2;
  out.push_back(d32);
  auto d64 = make_schema("dec64", PhysicalType::kInt64, LogicalType::kDecimal, false);
  d64.precision = 18;
  d64.scale = 4;
  out.push_back(d64);
  auto u8 = make_schema("u8", PhysicalType::kInt32, LogicalType::kInt, false);
  u8.int_bit_width = 8;
  u8.int_signed = false;
  out.push_back(u8);
  auto u16 = make_schema("u16", PhysicalType::kInt32, LogicalType::kInt, false);
  u16.int_bit_width = 16;
  u16.int_signed = false;
  out.push_back(u16);
  return out;
}

// Each base column REQUIRED and OPTIONAL, plus two all-null OPTIONAL columns.
Schema full_schema() {
  Schema schema;
  for (auto c : base_columns()) {
    c.name += "_r";
    schema.columns.push_back(c);
    c.name.replace(c.name.size() - 2, 2, "_o");
    c.optional = true;
    schema.columns.push_back(c);
  }
  auto null_str = make_schema("null_str", PhysicalType::kByteArray, LogicalType::kString, true);
  schema.columns.push_back(null_str);
  schema.columns.push_back(make_schema("null_i64", PhysicalType::kInt64, LogicalType::kNone, true));
  return schema;
}

bool is_null_row(const ColumnSchema& s, int64_t r) {
  if (!s.optional) return false;
  if (s.name.rfind("null_", 0) == 0) return true;
  return r % 5 == 1 || r % 17 == 0;
}

std::string bytes_of(const ColumnSchema& s, int64_t r) {
  if (s.physical == PhysicalType::kFixedLenByteArray) {
    std::string v(static_cast<size_t>(s.type_length), '\0');
    for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<char>((r * 31 + i * 7) & 0xff);
    return v;
  }
  if (s.name.rfind("sym", 0) == 0) return "S" + std::to_string(r % 13);
  if (s.logical == LogicalType::kString) {
    return r % 9 == 4 ? std::string() : "row-" + std::to_string(r) + "-\xc3\xa9";
  }
  std::string v = "b";
  v.push_back('\0');
  v += std::to_string(r * 7919);
  return v;
}

// The value of row `r` (global id) of column `s`, appended to `c`.
void append_value(const ColumnSchema& s, int64_t r, bool null, ColumnVector& c) {
  switch (s.physical) {
    case PhysicalType::kBoolean: c.b8.push_back(null ? 0 : (r % 3 == 0)); break;
    case PhysicalType::kInt32: {
      int32_t v = static_cast<int32_t>(r * 3 - 1000);
      if (s.logical == LogicalType::kDate) v = static_cast<int32_t>(10957 + r);
      if (s.logical == LogicalType::kDecimal) v = static_cast<int32_t>(r * 37 - 5000);
      if (s.logical == LogicalType::kInt) {
        v = static_cast<int32_t>(s.int_bit_width == 8 ? (r * 11) % 256 : (r * 977) % 65536);
      }
      c.i32.push_back(null ? 0 : v);
      break;
    }
    case PhysicalType::kInt64: {
      int64_t v = r * r - 7;
      if (s.logical == LogicalType::kTimestamp) {
        const int64_t base_ms = 1577836800000LL;
        if (s.time_unit == TimeUnit::kMillis) v = base_ms + r * 1500;
        if (s.time_unit == TimeUnit::kMicros) v = base_ms * 1000 + r * 1'000'001;
        if (s.time_unit == TimeUnit::kNanos) v = base_ms * 1'000'000 + r * 3'600'000'000'001LL;
      }
      if (s.logical == LogicalType::kDecimal) v = r * 123456789LL - 987654321LL;
      c.i64.push_back(null ? 0 : v);
      break;
    }
    case PhysicalType::kFloat:
      c.f32.push_back(null ? 0.f : static_cast<float>(r) * 0.25f - 3.f);
      break;
    case PhysicalType::kDouble:
      c.f64.push_back(null ? 0.0 : (r % 2 ? -1 : 1) * (static_cast<double>(r) * 0.5 + 0.125));
      break;
    case PhysicalType::kByteArray:
    case PhysicalType::kFixedLenByteArray:
      if (c.offsets.empty()) c.offsets.push_back(0);
      if (!null) c.data += bytes_of(s, r);
      c.offsets.push_back(c.data.size());
      break;
    default: FAIL() << "unexpected type";
  }
}

ColumnVector make_column(const ColumnSchema& s, int64_t start, int64_t n) {
  ColumnVector c;
  c.type = s.physical;
  c.num_rows = static_cast<size_t>(n);
  bool any_null = false;
  for (int64_t r = start; r < start + n; ++r) any_null |= is_null_row(s, r);
  if ((s.physical == PhysicalType::kByteArray || s.physical == PhysicalType::kFixedLenByteArray)) {
    c.offsets.push_back(0);
  }
  for (int64_t r = start; r < start + n; ++r) {
    const bool null = is_null_row(s, r);
    append_value(s, r, null, c);
    if (any_null) c.defined.push_back(null ? 0 : 1);
  }
  return c;
}

std::vector<ColumnVector> make_batch(const Schema& schema, int64_t start, int64_t n) {
  std::vector<ColumnVector> out;
  for (const auto& s : schema.columns) out.push_back(make_column(s, start, n));
  return out;
}

// Compares row `row` of `got` with the recomputed value of global row `r`.
::testing::AssertionResult same_value(const ColumnSchema& s, const ColumnVector& got, size_t row,
                                      int64_t r) {
  const bool null = is_null_row(s, r);
  if (got.is_null(row) != null) {
    return ::testing::AssertionFailure() << s.name << " row " << r << ": null mismatch";
  }
  if (null) return ::testing::AssertionSuccess();
  ColumnVector want = make_column(s, r, 1);
  bool eq = false;
  switch (s.physical) {
    case PhysicalType::kBoolean: eq = (got.b8.at(row) != 0) == (want.b8[0] != 0); break;
    case PhysicalType::kInt32: eq = got.i32.at(row) == want.i32[0]; break;
    case PhysicalType::kInt64: eq = got.i64.at(row) == want.i64[0]; break;
    case PhysicalType::kFloat: eq = std::memcmp(&got.f32.at(row), &want.f32[0], 4) == 0; break;
    case PhysicalType::kDouble: eq = std::memcmp(&got.f64.at(row), &want.f64[0], 8) == 0; break;
    default: eq = got.str(row) == want.str(0); break;
  }
  if (!eq) {
    return ::testing::AssertionFailure()
           << s.name << " row " << r << ": got " << format_value(s, got, row) << " want "
           << format_value(s, want, 0);
  }
  return ::testing::AssertionSuccess();
}

std::string write_table(const Schema& schema, const WriterOptions& options, int64_t rows,
                        const std::vector<int64_t>& batch_sizes) {
  StringSink sink;
  Writer writer(sink, schema, options);
  int64_t start = 0;
  size_t b = 0;
  while (start < rows) {
    const int64_t n = std::min(rows - start, batch_sizes[b++ % batch_sizes.size()]);
    writer.write_batch(make_batch(schema, start, n));
    start += n;
  }
  writer.close();
  return std::move(sink.buffer());
}

// Reads every row group and checks every value; returns the number of values checked.
int64_t check_all(const Reader& reader, const Schema& schema, int64_t rows) {
  const auto& meta = reader.metadata();
  EXPECT_EQ(meta.num_rows, rows);
  EXPECT_EQ(meta.schema.columns.size(), schema.columns.size());
  std::vector<int> all;
  for (size_t c = 0; c < schema.columns.size(); ++c) all.push_back(static_cast<int>(c));
  int64_t base = 0, checked = 0;
  for (int rg = 0; rg < reader.num_row_groups(); ++rg) {
    auto cols = reader.read_row_group(rg, all);
    EXPECT_EQ(cols.size(), all.size());
    const int64_t n = meta.row_groups[static_cast<size_t>(rg)].num_rows;
    for (size_t c = 0; c < cols.size(); ++c) {
      const auto& s = schema.columns[c];
      EXPECT_EQ(cols[c].num_rows, static_cast<size_t>(n)) << s.name;
      EXPECT_EQ(cols[c].type, s.physical) << s.name;
      for (int64_t i = 0; i < n && !::testing::Test::HasFailure(); ++i) {
        EXPECT_TRUE(same_value(s, cols[c], static_cast<size_t>(i), base + i));
        ++checked;
      }
    }
    base += n;
  }
  EXPECT_EQ(base, rows);
  return checked;
}

// Reads every column with a BatchReader of `batch_rows` rows into one reused vector and checks
// every value, the batch sizes and that no batch spans row groups.
void check_batches(const Reader& reader, const Schema& schema, int64_t rows, size_t batch_rows) {
  SCOPED_TRACE("batches of " + std::to_string(batch_rows));
  std::vector<int> all;
  for (size_t c = 0; c < schema.columns.size(); ++c) all.push_back(static_cast<int>(c));
  BatchReader batches(reader, all, batch_rows);
  std::vector<ColumnVector> cols;
  int64_t base = 0, group_left = 0;
  int group = -1;
  while (batches.next(cols)) {
    ASSERT_EQ(cols.size(), all.size());
    const size_t n = cols[0].num_rows;
    if (group_left == 0) {
      ++group;
      group_left = reader.metadata().row_groups[static_cast<size_t>(group)].num_rows;
    }
    ASSERT_EQ(batches.row_group(), group);
    ASSERT_EQ(n, static_cast<size_t>(std::min<int64_t>(group_left, static_cast<int64_t>(batch_rows))));
    for (size_t c = 0; c < cols.size(); ++c) {
      ASSERT_EQ(cols[c].num_rows, n);
      ASSERT_TRUE(cols[c].defined.empty() || cols[c].defined.size() == n) << schema.columns[c].name;
      for (size_t i = 0; i < n; ++i) {
        ASSERT_TRUE(same_value(schema.columns[c], cols[c], i, base + static_cast<int64_t>(i)));
      }
    }
    base += static_cast<int64_t>(n);
    group_left -= static_cast<int64_t>(n);
  }
  EXPECT_EQ(base, rows);
  EXPECT_FALSE(batches.next(cols)) << "next() after the end";
}

TEST(ParquetRoundTrip, AllTypesCompressionsDictionaryNullsRowGroupsPages) {
  const Schema schema = full_schema();
  const int64_t rows = 2500;
  for (Compression compression : {Compression::kUncompressed, Compression::kSnappy,
                                  Compression::kGzip, Compression::kZstd, Compression::kBrotli,
                                  Compression::kLz4Raw}) {
    for (bool dictionary : {false, true}) {
      SCOPED_TRACE(std::string(to_string(compression)) + (dictionary ? " dict" : " plain"));
      WriterOptions options;
      options.compression = compression;
      options.dictionary = dictionary;
      options.row_group_rows = 1000;
      options.data_page_bytes = 700;
      const std::string bytes = write_table(schema, options, rows, {333, 1, 1200, 64});
      Reader reader(memory_source(bytes));
      ASSERT_EQ(reader.num_row_groups(), 3);
      const auto& meta = reader.metadata();
      for (size_t c = 0; c < schema.columns.size(); ++c) {
        const auto& got = meta.schema.columns[c];
        const auto& want = schema.columns[c];
        EXPECT_EQ(got.name, want.name);
        EXPECT_EQ(got.physical, want.physical) << want.name;
        EXPECT_EQ(got.optional, want.optional) << want.name;
        EXPECT_EQ(got.logical, want.logical) << want.name;
        if (want.logical == LogicalType::kTimestamp) EXPECT_EQ(got.time_unit, want.time_unit);
        if (want.logical == LogicalType::kDecimal) {
          EXPECT_EQ(got.precision, want.precision);
          EXPECT_EQ(got.scale, want.scale);
        }
        if (want.logical == LogicalType::kInt) {
          EXPECT_EQ(got.int_bit_width, want.int_bit_width);
          EXPECT_EQ(got.int_signed, want.int_signed);
        }
        if (want.physical == PhysicalType::kFixedLenByteArray) {
          EXPECT_EQ(got.type_length, kFlbaLength);
        }
        const auto& chunk = meta.row_groups[0].columns[c];
        EXPECT_EQ(chunk.compression, compression) << want.name;
        const bool has_dict = std::count(chunk.encodings.begin(), chunk.encodings.end(),
                                         "RLE_DICTIONARY") > 0;
        if (!dictionary) EXPECT_FALSE(has_dict) << want.name;
        if (dictionary && want.name == "sym_r") EXPECT_TRUE(has_dict);
      }
      // The string column of 1000 rows × ~14 bytes spans several 700-byte pages.
      EXPECT_GT(meta.row_groups[0].columns[static_cast<size_t>(schema.find("str_r"))]
                    .total_uncompressed_size,
                2100);
      EXPECT_EQ(check_all(reader, schema, rows), rows * static_cast<int64_t>(schema.columns.size()));
      // Batches cut pages (and runs of nulls) at odd places.
      for (size_t batch_rows : {size_t{1}, size_t{7}, size_t{333}}) {
        if (batch_rows == 1 && compression != Compression::kZstd) continue;  // slow; once is enough
        check_batches(reader, schema, rows, batch_rows);
      }
      if (HasFailure()) return;
    }
  }
}

TEST(ParquetRoundTrip, EmptyFileAndReadColumn) {
  Schema schema;
  schema.columns = {ColumnSchema::Int64("a"), ColumnSchema::String("s", true)};
  StringSink sink;
  Writer writer(sink, schema);
  writer.close();
  Reader reader(memory_source(sink.buffer()));
  EXPECT_EQ(reader.metadata().num_rows, 0);
  EXPECT_EQ(reader.num_row_groups(), 0);

  const std::string bytes = write_table(schema, {}, 10, {10});
  Reader r2(memory_source(bytes));
  auto col = r2.read_column(0, 1);
  ASSERT_EQ(col.num_rows, 10u);
  for (size_t i = 0; i < 10; ++i) {
    EXPECT_TRUE(same_value(schema.columns[1], col, i, static_cast<int64_t>(i)));
  }
}

TEST(ParquetRoundTrip, DictionaryFallbackToPlain) {
  Schema schema;
  schema.columns = {ColumnSchema::String("s", true)};
  for (Compression compression : {Compression::kUncompressed, Compression::kZstd}) {
    WriterOptions options;
    options.compression = compression;
    options.dictionary = true;
    options.dictionary_page_limit_bytes = 4096;
    options.data_page_bytes = 1024;
    options.row_group_rows = 4000;
    const int64_t rows = 6000;  // "row-N-é" is unique: the dictionary overflows early
    const std::string bytes = write_table(schema, options, rows, {100, 2500});
    Reader reader(memory_source(bytes));
    ASSERT_EQ(reader.num_row_groups(), 2);
    for (const auto& rg : reader.metadata().row_groups) {
      const auto& enc = rg.columns[0].encodings;
      EXPECT_NE(std::find(enc.begin(), enc.end(), "RLE_DICTIONARY"), enc.end());
      EXPECT_NE(std::find(enc.begin(), enc.end(), "PLAIN"), enc.end());
      EXPECT_TRUE(rg.columns[0].dictionary_page_offset.has_value());
      EXPECT_EQ(rg.columns[0].num_values, rg.num_rows);
    }
    check_all(reader, schema, rows);
  }
}

TEST(ParquetRoundTrip, Statistics) {
  Schema schema;
  schema.columns = {ColumnSchema::Int64("i64", true), ColumnSchema::Int32("i32"),
                    ColumnSchema::Double("f64"), ColumnSchema::String("s", true),
                    ColumnSchema::Boolean("b"), ColumnSchema::String("nulls", true)};
  WriterOptions options;
  options.row_group_rows = 4;
  StringSink sink;
  Writer writer(sink, schema, options);
  // Row group 0: i64 {5, null, -3, 9}; row group 1: i64 {null, null, 100, 100}.
  std::vector<ColumnVector> b(6);
  b[0] = ColumnVector::of_i64({5, 0, -3, 9, 0, 0, 100, 100});
  b[0].defined = {1, 0, 1, 1, 0, 0, 1, 1};
  b[1] = ColumnVector::of_i32({7, -2, 7, 3, 0, 0, 0, 1});
  b[2] = ColumnVector::of_f64({1.5, -0.25, 8, 2, 3, 3, 3, 3});
  b[3] = ColumnVector::of_strings({"pear", "", "apple", "zoo", "m", "m", "", "a"});
  b[3].defined = {1, 0, 1, 1, 1, 1, 0, 1};
  b[4].type = PhysicalType::kBoolean;
  b[4].num_rows = 8;
  b[4].b8 = {0, 0, 0, 0, 1, 0, 1, 1};
  b[5] = ColumnVector::of_strings(std::vector<std::string>(8));
  b[5].defined.assign(8, 0);
  writer.write_batch(b);
  writer.close();
  Reader reader(memory_source(sink.buffer()));
  const auto& rgs = reader.metadata().row_groups;
  ASSERT_EQ(rgs.size(), 2u);
  auto st = [&](int rg, int c) { return rgs[static_cast<size_t>(rg)].columns[static_cast<size_t>(c)].statistics; };
  EXPECT_EQ(st(0, 0).min, StatValue(int64_t{-3}));
  EXPECT_EQ(st(0, 0).max, StatValue(int64_t{9}));
  EXPECT_EQ(st(0, 0).null_count, 1);
  EXPECT_EQ(st(1, 0).min, StatValue(int64_t{100}));
  EXPECT_EQ(st(1, 0).max, StatValue(int64_t{100}));
  EXPECT_EQ(st(1, 0).null_count, 2);
  EXPECT_EQ(st(0, 1).min, StatValue(int32_t{-2}));
  EXPECT_EQ(st(0, 1).max, StatValue(int32_t{7}));
  EXPECT_EQ(st(0, 1).null_count, 0);
  EXPECT_EQ(st(0, 2).min, StatValue(-0.25));
  EXPECT_EQ(st(0, 2).max, StatValue(8.0));
  EXPECT_EQ(st(0, 3).min, StatValue(std::string("apple")));
  EXPECT_EQ(st(0, 3).max, StatValue(std::string("zoo")));
  EXPECT_EQ(st(0, 3).null_count, 1);
  EXPECT_EQ(st(1, 3).min, StatValue(std::string("a")));  // null "" must not count as min
  EXPECT_EQ(st(1, 3).max, StatValue(std::string("m")));
  EXPECT_EQ(st(0, 4).min, StatValue(false));
  EXPECT_EQ(st(0, 4).max, StatValue(false));
  EXPECT_EQ(st(1, 4).min, StatValue(false));
  EXPECT_EQ(st(1, 4).max, StatValue(true));
  EXPECT_EQ(st(0, 5).null_count, 4);
  EXPECT_TRUE(std::holds_alternative<std::monostate>(st(0, 5).min));
  EXPECT_TRUE(std::holds_alternative<std::monostate>(st(0, 5).max));

  options.write_statistics = false;
  StringSink sink2;
  Writer w2(sink2, schema, options);
  w2.write_batch(b);
  w2.close();
  Reader r2(memory_source(sink2.buffer()));
  EXPECT_TRUE(std::holds_alternative<std::monostate>(r2.metadata().row_groups[0].columns[0].statistics.min));
  // Without statistics every row group may match.
  EXPECT_EQ(r2.row_groups_in_range(0, 1000, 2000), (std::vector<int>{0, 1}));
}

TEST(ParquetRoundTrip, KeyValueOrderCreatedByAndDeterminism) {
  const Schema schema = full_schema();
  WriterOptions options;
  options.key_value = {{"zeta", "1"}, {"alpha", "2"}, {"mid", "{\"x\": 3}"}};
  options.created_by = "tributary-test";
  options.row_group_rows = 300;
  const std::string a = write_table(schema, options, 700, {250});
  const std::string b = write_table(schema, options, 700, {250});
  EXPECT_TRUE(a == b) << "two writes of the same rows differ";
  const std::string c = write_table(schema, options, 700, {1, 699});
  EXPECT_TRUE(a == c) << "batch boundaries changed the bytes";
  Reader reader(memory_source(a));
  const auto& meta = reader.metadata();
  ASSERT_GE(meta.key_value.size(), 3u);
  std::vector<std::string> keys;
  for (const auto& [k, v] : meta.key_value) keys.push_back(k);
  auto pos = [&](const std::string& k) { return std::find(keys.begin(), keys.end(), k) - keys.begin(); };
  EXPECT_LT(pos("zeta"), pos("alpha"));
  EXPECT_LT(pos("alpha"), pos("mid"));
  EXPECT_EQ(meta.kv("alpha"), "2");
  EXPECT_EQ(meta.kv("mid"), "{\"x\": 3}");
  EXPECT_FALSE(meta.kv("missing").has_value());
  EXPECT_NE(meta.created_by.find("tributary-test"), std::string::npos);
  EXPECT_EQ(std::string_view(a).substr(0, 4), "PAR1");
  EXPECT_EQ(std::string_view(a).substr(a.size() - 4), "PAR1");
}

// full_schema() with 450 rows in row groups of 200, 200 and 50.
std::string three_group_table() {
  WriterOptions options;
  options.row_group_rows = 200;
  return write_table(full_schema(), options, 450, {450});
}

TEST(ParquetRoundTrip, ProjectionInAnyOrder) {
  const Schema schema = full_schema();
  const std::string bytes = three_group_table();
  Reader reader(memory_source(bytes));
  const int a = schema.find("str_o"), b = schema.find("i32_r"), c = schema.find("ts_ns_o");
  ASSERT_GE(std::min({a, b, c}), 0);
  int64_t base = 0;
  for (int rg = 0; rg < reader.num_row_groups(); ++rg) {
    auto cols = reader.read_row_group(rg, {c, a, b});
    ASSERT_EQ(cols.size(), 3u);
    const int idx[] = {c, a, b};
    for (size_t k = 0; k < 3; ++k) {
      for (size_t i = 0; i < cols[k].num_rows; ++i) {
        ASSERT_TRUE(same_value(schema.columns[static_cast<size_t>(idx[k])], cols[k], i,
                               base + static_cast<int64_t>(i)));
      }
    }
    base += static_cast<int64_t>(cols[0].num_rows);
    EXPECT_TRUE(reader.read_row_group(rg, {}).empty());
  }
  EXPECT_EQ(base, 450);
  EXPECT_THROW(reader.read_row_group(0, {static_cast<int>(schema.columns.size())}), Error);
  EXPECT_THROW(reader.read_row_group(reader.num_row_groups(), {0}), Error);
  EXPECT_THROW(reader.read_column(-1, 0), Error);
}

void expect_invalid(const std::function<void()>& fn, const std::string& what) {
  try {
    fn();
    ADD_FAILURE() << what << ": no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::kInvalidInput) << what << ": " << e.what();
  }
}

TEST(ParquetRoundTrip, BatchReaderChosenRowGroupsAndErrors) {
  const Schema schema = full_schema();
  const std::string bytes = three_group_table();
  Reader reader(memory_source(bytes));
  ASSERT_EQ(reader.num_row_groups(), 3);
  const int a = schema.find("str_o"), b = schema.find("f64_r");
  // Groups 2 then 0, projected in the order given; groups 2 and 0 start at rows 400 and 0.
  BatchReader batches(reader, {a, b}, std::vector<int>{2, 0}, 64);
  std::vector<ColumnVector> cols;
  std::vector<std::pair<int, size_t>> seen;
  int64_t next_row[3] = {0, 200, 400};
  while (batches.next(cols)) {
    const int g = batches.row_group();
    seen.emplace_back(g, cols[0].num_rows);
    for (size_t i = 0; i < cols[0].num_rows; ++i) {
      ASSERT_TRUE(same_value(schema.columns[static_cast<size_t>(a)], cols[0], i, next_row[g] + static_cast<int64_t>(i)));
      ASSERT_TRUE(same_value(schema.columns[static_cast<size_t>(b)], cols[1], i, next_row[g] + static_cast<int64_t>(i)));
    }
    next_row[g] += static_cast<int64_t>(cols[0].num_rows);
  }
  EXPECT_EQ(seen, (std::vector<std::pair<int, size_t>>{{2, 50}, {0, 64}, {0, 64}, {0, 64}, {0, 8}}));
  // Nothing to read: no row groups.
  BatchReader none(reader, {a}, std::vector<int>{}, 10);
  EXPECT_FALSE(none.next(cols));

  expect_invalid([&] { BatchReader(reader, {}); }, "no columns");
  expect_invalid([&] { BatchReader(reader, {static_cast<int>(schema.columns.size())}); }, "unknown column");
  expect_invalid([&] { BatchReader(reader, {0}, std::vector<int>{3}); }, "unknown row group");
  expect_invalid([&] { BatchReader(reader, {0}, 0); }, "zero batch rows");
}

// read_column allocates a huge row group 4 Mi rows at a time: values, strings, a column whose
// nulls are in both slices and one whose only null is in the second must come out right.
TEST(ParquetRoundTrip, ReadColumnOfAHugeRowGroupInSlices) {
  Schema schema;
  schema.columns = {ColumnSchema::Int32("v", true), ColumnSchema::Int64("i"), ColumnSchema::String("s", true)};
  const int64_t rows = 5'000'000, early_null = 10, late_null = 4'500'000;
  WriterOptions options;
  options.row_group_rows = rows;
  StringSink sink;
  Writer writer(sink, schema, options);
  for (int64_t start = 0; start < rows; start += 1'000'000) {
    std::vector<ColumnVector> cols(3);
    cols[0].type = PhysicalType::kInt32;
    cols[1].type = PhysicalType::kInt64;
    cols[2].type = PhysicalType::kByteArray;
    cols[2].offsets.push_back(0);
    for (int64_t r = start; r < start + 1'000'000; ++r) {
      const bool null = r == late_null, v_null = null || r == early_null;
      cols[0].i32.push_back(v_null ? 0 : static_cast<int32_t>(r % 7));
      cols[0].defined.push_back(v_null ? 0 : 1);
      cols[1].i64.push_back(r);
      cols[2].append_string(null ? std::string_view() : std::string_view(r % 2 == 0 ? "even" : "odd"));
      cols[2].defined.push_back(null ? 0 : 1);
    }
    for (auto& c : cols) c.num_rows = 1'000'000;
    writer.write_batch(cols);
  }
  writer.close();
  Reader reader(memory_source(sink.buffer()));
  ASSERT_EQ(reader.num_row_groups(), 1);
  ColumnVector v = reader.read_column(0, 0), i = reader.read_column(0, 1), str = reader.read_column(0, 2);
  ASSERT_EQ(v.num_rows, static_cast<size_t>(rows));
  ASSERT_EQ(v.i32.size(), static_cast<size_t>(rows));
  ASSERT_EQ(v.defined.size(), static_cast<size_t>(rows));
  ASSERT_EQ(i.i64.size(), static_cast<size_t>(rows));
  ASSERT_TRUE(i.defined.empty());
  ASSERT_EQ(str.offsets.size(), static_cast<size_t>(rows) + 1);
  for (int64_t r = 0; r < rows; ++r) {
    const size_t k = static_cast<size_t>(r);
    const bool null = r == late_null, v_null = null || r == early_null;
    ASSERT_EQ(v.is_null(k), v_null) << r;
    ASSERT_EQ(str.is_null(k), null) << r;
    ASSERT_EQ(i.i64[k], r);
    if (!v_null) ASSERT_EQ(v.i32[k], r % 7) << r;
    if (!null) ASSERT_EQ(str.str(k), r % 2 == 0 ? "even" : "odd") << r;
  }
}

// One Reader shared by four threads, each streaming every row group with its own BatchReader
// and its own batch size: every thread sees exactly what a single-threaded read sees.
TEST(ParquetRoundTrip, BatchReadersOnOneReaderFromSeveralThreads) {
  const Schema schema = full_schema();
  WriterOptions options;
  options.row_group_rows = 500;
  options.data_page_bytes = 700;
  const std::string bytes = write_table(schema, options, 2000, {2000});
  Reader reader(memory_source(bytes));
  std::vector<int> all;
  for (size_t c = 0; c < schema.columns.size(); ++c) all.push_back(static_cast<int>(c));
  auto digest = [&](size_t batch_rows) {
    std::string out;
    BatchReader batches(reader, all, batch_rows);
    std::vector<ColumnVector> cols;
    while (batches.next(cols)) {
      for (size_t c = 0; c < cols.size(); ++c) {
        for (size_t i = 0; i < cols[c].num_rows; ++i) {
          out += cols[c].is_null(i) ? std::string("null") : format_value(schema.columns[c], cols[c], i);
          out.push_back('|');
        }
      }
    }
    return out;
  };
  const std::string want = digest(2000);
  ASSERT_GT(want.size(), 2000u);
  std::vector<std::string> got(4);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < got.size(); ++t) {
    threads.emplace_back([&, t] {
      // Same batch boundaries as the reference so the digests line up row by row.
      for (int round = 0; round < 5; ++round) got[t] = digest(2000);
      (void)digest(7 + t * 13);  // and a different batch size in between, on the same Reader
    });
  }
  for (auto& th : threads) th.join();
  for (size_t t = 0; t < got.size(); ++t) EXPECT_EQ(got[t], want) << "thread " << t;
}

TEST(ParquetRoundTrip, RowGroupsInRangeByTimestamp) {
  Schema schema;
  schema.columns = {ColumnSchema::Timestamp("ts", TimeUnit::kMillis), ColumnSchema::Int32("v")};
  WriterOptions options;
  options.row_group_rows = 100;
  StringSink sink;
  Writer writer(sink, schema, options);
  std::vector<int64_t> ts;
  std::vector<int32_t> v;
  const int64_t t0 = 1'700'000'000'000LL;
  for (int i = 0; i < 1000; ++i) {
    ts.push_back(t0 + i * 1000);
    v.push_back(i);
  }
  writer.write_batch({ColumnVector::of_i64(ts), ColumnVector::of_i32(v)});
  writer.close();
  Reader reader(memory_source(sink.buffer()));
  ASSERT_EQ(reader.num_row_groups(), 10);
  // Rows 350..420 live in groups 3 and 4.
  EXPECT_EQ(reader.row_groups_in_range(0, t0 + 350'000, t0 + 420'000), (std::vector<int>{3, 4}));
  // Bounds are inclusive: the last row of group 2 and the first of group 5.
  EXPECT_EQ(reader.row_groups_in_range(0, t0 + 299'000, t0 + 500'000),
            (std::vector<int>{2, 3, 4, 5}));
  EXPECT_TRUE(reader.row_groups_in_range(0, t0 + 1'000'000, t0 + 2'000'000).empty());
  EXPECT_TRUE(reader.row_groups_in_range(0, 0, t0 - 1).empty());
  EXPECT_EQ(reader.row_groups_in_range(1, 950, 2000), (std::vector<int>{9}));
}


TEST(ParquetRoundTrip, WriterErrors) {
  Schema schema;
  schema.columns = {ColumnSchema::Int64("a"), ColumnSchema::String("s", true)};
  auto good = [] {
    return std::vector<ColumnVector>{ColumnVector::of_i64({1, 2}),
                                     ColumnVector::of_strings({"x", "y"})};
  };
  expect_invalid([&] {
    StringSink sink;
    Writer w(sink, schema);
    auto b = good();
    b[0].defined = {1, 0};
    w.write_batch(b);
  }, "null in REQUIRED");
  expect_invalid([&] {
    StringSink sink;
    Writer w(sink, schema);
    auto b = good();
    b[0] = ColumnVector::of_f64({1, 2});
    w.write_batch(b);
  }, "wrong type");
  expect_invalid([&] {
    StringSink sink;
    Writer w(sink, schema);
    auto b = good();
    b[1] = ColumnVector::of_strings({"x"});
    w.write_batch(b);
  }, "mismatched row counts");
  expect_invalid([&] {
    StringSink sink;
    WriterOptions o;
    o.compression = Compression::kLz4;
    Writer w(sink, schema, o);
  }, "legacy LZ4 is read only");
  expect_invalid([&] {
    StringSink sink;
    WriterOptions o;
    o.compression = Compression::kBrotli;
    o.brotli_quality = 12;
    Writer w(sink, schema, o);
  }, "brotli quality");
  EXPECT_EQ(parse_compression("lz4"), Compression::kLz4Raw);
  EXPECT_EQ(parse_compression("brotli"), Compression::kBrotli);
  expect_invalid([] { parse_compression("lzo"); }, "lzo");
  expect_invalid([&] {
    StringSink sink;
    Writer w(sink, schema);
    w.write_batch({ColumnVector::of_i64({1})});
  }, "missing column");
  expect_invalid([&] {
    Schema dup;
    dup.columns = {ColumnSchema::Int64("a"), ColumnSchema::Int32("a")};
    StringSink sink;
    Writer w(sink, dup);
  }, "duplicate column names");
  expect_invalid([&] {
    Schema flba;
    flba.columns = {ColumnSchema::Int64("a")};
    flba.columns[0].physical = PhysicalType::kFixedLenByteArray;
    flba.columns[0].type_length = 4;
    StringSink sink;
    Writer w(sink, flba);
    ColumnVector c;
    c.type = PhysicalType::kFixedLenByteArray;
    c.append_string("abc");  // 3 bytes, not 4
    c.num_rows = 1;
    w.write_batch({c});
    w.close();
  }, "FIXED_LEN_BYTE_ARRAY of the wrong length");
  expect_invalid([] { parse_compression("lz4-ish"); }, "unknown compression");
  EXPECT_EQ(parse_compression("none"), Compression::kUncompressed);
  EXPECT_EQ(parse_compression("zstd"), Compression::kZstd);
}

TEST(ParquetTool, FormatValueAndCsv) {
  Schema schema;
  schema.columns = {ColumnSchema::Date("day"), ColumnSchema::Timestamp("ts", TimeUnit::kMillis),
                    ColumnSchema::Timestamp("tn", TimeUnit::kNanos, true)};
  ColumnSchema d32 = ColumnSchema::Int32("d32", true);
  d32.logical = LogicalType::kDecimal;
  d32.precision = 9;
  d32.scale = 2;
  ColumnSchema d64 = ColumnSchema::Int64("d64");
  d64.logical = LogicalType::kDecimal;
  d64.precision = 18;
  d64.scale = 4;
  ColumnSchema u8 = ColumnSchema::Int32("u8");
  u8.logical = LogicalType::kInt;
  u8.int_bit_width = 8;
  u8.int_signed = false;
  schema.columns.push_back(d32);
  schema.columns.push_back(d64);
  schema.columns.push_back(u8);
  schema.columns.push_back(ColumnSchema::String("s", true));
  schema.columns.push_back(ColumnSchema::Double("x"));

  std::vector<ColumnVector> b;
  b.push_back(ColumnVector::of_i32({0, 18262, -1}));
  b.back().type = PhysicalType::kInt32;
  b.push_back(ColumnVector::of_i64({1577836800000LL, 1577836800123LL, -1}));
  b.push_back(ColumnVector::of_i64({1577836800000000001LL, 0, 1500000000LL}));
  b.back().defined = {1, 0, 1};
  b.push_back(ColumnVector::of_i32({12345, -5, 0}));
  b.back().defined = {1, 1, 0};
  b.push_back(ColumnVector::of_i64({-1, 100000, 123456789012345LL}));
  b.push_back(ColumnVector::of_i32({255, 0, 128}));
  b.push_back(ColumnVector::of_strings({"plain", "a,\"b\"\nc", ""}));
  b.back().defined = {1, 1, 1};
  b.push_back(ColumnVector::of_f64({0.1, -2.5, 1e300}));
  StringSink sink;
  Writer writer(sink, schema);
  writer.write_batch(b);
  writer.close();
  Reader reader(memory_source(sink.buffer()));
  auto cols = reader.read_row_group(0, {0, 1, 2, 3, 4, 5, 6, 7});
  const auto& s = reader.metadata().schema.columns;
  EXPECT_EQ(format_value(s[0], cols[0], 0), "1970-01-01");
  EXPECT_EQ(format_value(s[0], cols[0], 1), "2020-01-01");
  EXPECT_EQ(format_value(s[0], cols[0], 2), "1969-12-31");
  EXPECT_EQ(format_value(s[1], cols[1], 0), "2020-01-01T00:00:00Z");
  EXPECT_EQ(format_value(s[1], cols[1], 1), "2020-01-01T00:00:00.123Z");
  EXPECT_EQ(format_value(s[1], cols[1], 2), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(format_value(s[2], cols[2], 0), "2020-01-01T00:00:00.000000001Z");
  EXPECT_EQ(format_value(s[2], cols[2], 2), "1970-01-01T00:00:01.5Z");
  EXPECT_EQ(format_value(s[3], cols[3], 0), "123.45");
  EXPECT_EQ(format_value(s[3], cols[3], 1), "-0.05");
  EXPECT_EQ(format_value(s[4], cols[4], 0), "-0.0001");
  EXPECT_EQ(format_value(s[4], cols[4], 1), "10.0000");
  EXPECT_EQ(format_value(s[4], cols[4], 2), "12345678901.2345");
  EXPECT_EQ(format_value(s[5], cols[5], 0), "255");
  EXPECT_EQ(format_value(s[5], cols[5], 2), "128");
  EXPECT_EQ(format_value(s[7], cols[7], 0), "0.1");
  EXPECT_EQ(format_value(s[7], cols[7], 2), "1e+300");

  std::ostringstream csv;
  cat(reader, {}, csv);
  EXPECT_EQ(csv.str(),
            "day,ts,tn,d32,d64,u8,s,x\n"
            "1970-01-01,2020-01-01T00:00:00Z,2020-01-01T00:00:00.000000001Z,123.45,-0.0001,255,"
            "plain,0.1\n"
            "2020-01-01,2020-01-01T00:00:00.123Z,,-0.05,10.0000,0,\"a,\"\"b\"\"\nc\",-2.5\n"
            "1969-12-31,1969-12-31T23:59:59.999Z,1970-01-01T00:00:01.5Z,,12345678901.2345,128,"
            "\"\",1e+300\n");

  std::ostringstream limited;
  CatOptions opts;
  opts.columns = {"s", "day"};
  opts.limit = 1;
  cat(reader, opts, limited);
  EXPECT_EQ(limited.str(), "s,day\nplain,1970-01-01\n");

  std::ostringstream json;
  opts.format = "json";
  opts.limit = -1;
  opts.columns = {"tn", "u8"};
  cat(reader, opts, json);
  EXPECT_NE(json.str().find("\"tn\":null"), std::string::npos) << json.str();

  opts.columns = {"nope"};
  std::ostringstream ignored;
  expect_invalid([&] { cat(reader, opts, ignored); }, "unknown column");
}

int64_t peak_rss_kib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;  // KiB on Linux
}

TEST(ParquetRoundTrip, StreamingWriteHasBoundedMemory) {
  namespace fs = std::filesystem;
  const fs::path path =
      fs::temp_directory_path() / ("trib_parquet_stream_" + std::to_string(getpid()) + ".parquet");
  Schema schema;
  schema.columns = {ColumnSchema::Int64("id"), ColumnSchema::Timestamp("ts", TimeUnit::kNanos),
                    ColumnSchema::Double("x"), ColumnSchema::String("s"),
                    ColumnSchema::String("sym", true)};
  WriterOptions options;
  options.row_group_rows = 128 * 1024;
  const int64_t rows = 2'000'000, batch = 20'000;
  // In memory the table would be rows × (8 + 8 + 8 + ~20 + 8 + ~3 + offsets 16) bytes: ~140 MB.
  const int64_t before = peak_rss_kib();
  int64_t table_bytes = 0;
  {
    FileSink sink(path);
    Writer writer(sink, schema, options);
    for (int64_t start = 0; start < rows; start += batch) {
      std::vector<int64_t> id(batch), ts(batch);
      std::vector<double> x(batch);
      std::vector<std::string> s(batch), sym(batch);
      for (int64_t i = 0; i < batch; ++i) {
        const int64_t r = start + i;
        id[i] = r;
        ts[i] = 1'600'000'000'000'000'000LL + r * 1'000'003;
        x[i] = static_cast<double>(r) * 0.37;
        s[i] = "streaming-row-" + std::to_string(r * 7);
        sym[i] = "SYM" + std::to_string(r % 50);
      }
      std::vector<ColumnVector> cols{ColumnVector::of_i64(id), ColumnVector::of_i64(ts),
                                     ColumnVector::of_f64(x), ColumnVector::of_strings(s),
                                     ColumnVector::of_strings(sym)};
      for (const auto& c : cols) {
        table_bytes += static_cast<int64_t>(c.i64.size() * 8 + c.f64.size() * 8 + c.data.size() +
                                            c.offsets.size() * 8);
      }
      writer.write_batch(cols);
    }
    writer.close();
    sink.finish();
  }
  const int64_t growth_bytes = (peak_rss_kib() - before) * 1024;
  Reader reader = Reader::open(path);
  EXPECT_EQ(reader.metadata().num_rows, rows);
  EXPECT_EQ(reader.num_row_groups(), 16);
  auto last = reader.read_column(reader.num_row_groups() - 1, 3);
  EXPECT_EQ(last.str(last.num_rows - 1), "streaming-row-" + std::to_string((rows - 1) * 7));
  fs::remove(path);
  EXPECT_GT(table_bytes, 120LL << 20);
  EXPECT_LT(growth_bytes, std::min<int64_t>(200LL << 20, table_bytes / 2))
      << "peak RSS grew by " << (growth_bytes >> 20) << " MiB for a " << (table_bytes >> 20)
      << " MiB table";
}

// ---- threads -------------------------------------------------------------------------------

// Every value of every batch of a BatchReader scan, with the row group and size of each batch.
std::string scan_digest(const Reader& reader, const Schema& schema, std::vector<int> groups, size_t batch_rows,
                        int threads, int* batches_read = nullptr) {
  std::vector<int> all;
  for (size_t c = 0; c < schema.columns.size(); ++c) all.push_back(static_cast<int>(c));
  BatchReader batches(reader, all, std::move(groups), batch_rows, threads);
  std::vector<ColumnVector> cols;
  std::string out;
  int count = 0;
  while (batches.next(cols)) {
    ++count;
    if (batches_read != nullptr) *batches_read = count;
    out += "[" + std::to_string(batches.row_group()) + ":" + std::to_string(cols[0].num_rows) + "]";
    for (size_t c = 0; c < cols.size(); ++c) {
      EXPECT_EQ(cols[c].num_rows, cols[0].num_rows);
      EXPECT_TRUE(cols[c].defined.empty() || cols[c].defined.size() == cols[c].num_rows);
      for (size_t i = 0; i < cols[c].num_rows; ++i) {
        out += cols[c].is_null(i) ? std::string("null") : format_value(schema.columns[c], cols[c], i);
        out.push_back('|');
      }
    }
  }
  EXPECT_FALSE(batches.next(cols)) << "next() after the end";
  return out;
}

TEST(ParquetThreads, WriterBytesDoNotDependOnThreads) {
  const Schema schema = full_schema();
  struct Case {
    Compression compression;
    bool dictionary;
    int64_t row_group_rows;
    size_t page_bytes, dictionary_limit;
  };
  for (const Case& k : {Case{Compression::kZstd, true, 1 << 20, 1 << 20, 1 << 20},
                        Case{Compression::kZstd, true, 700, 300, 1 << 20},
                        Case{Compression::kSnappy, true, 1000, 2000, 200},  // dictionaries fall back to PLAIN
                        Case{Compression::kUncompressed, false, 333, 500, 1 << 20},
                        Case{Compression::kGzip, true, 4000, 1 << 20, 1 << 20}}) {
    WriterOptions options;
    options.compression = k.compression;
    options.dictionary = k.dictionary;
    options.row_group_rows = k.row_group_rows;
    options.data_page_bytes = k.page_bytes;
    options.dictionary_page_limit_bytes = k.dictionary_limit;
    options.key_value = {{"k", "v"}};
    const std::string want = write_table(schema, options, 3000, {1000, 17, 1983});
    for (int threads : {2, 3, 64}) {
      options.threads = threads;
      const std::string got = write_table(schema, options, 3000, {1000, 17, 1983});
      EXPECT_TRUE(got == want) << to_string(k.compression) << " row groups of " << k.row_group_rows << ", "
                               << threads << " threads: " << got.size() << " vs " << want.size() << " bytes";
    }
    check_all(Reader(memory_source(want)), schema, 3000);
  }
}

TEST(ParquetThreads, WriterErrorIsTheOneOfTheFirstBadColumn) {
  // Nulls in two REQUIRED columns: every thread count reports the first one, as one thread does.
  const Schema schema = full_schema();
  auto batch = make_batch(schema, 0, 100);
  for (size_t c : {size_t{6}, size_t{20}}) {
    ASSERT_FALSE(schema.columns[c].optional) << schema.columns[c].name;
    batch[c].defined.assign(100, 1);
    batch[c].defined[50] = 0;
  }
  std::vector<std::string> messages;
  for (int threads : {1, 2, 4}) {
    WriterOptions options;
    options.threads = threads;
    StringSink sink;
    Writer writer(sink, schema, options);
    try {
      writer.write_batch(batch);
      ADD_FAILURE() << "accepted a null in a REQUIRED column";
    } catch (const Error& e) {
      EXPECT_EQ(e.category(), ErrorCategory::kInvalidInput);
      messages.push_back(e.what());
    }
  }
  ASSERT_EQ(messages.size(), 3u);
  EXPECT_NE(messages[0].find(schema.columns[6].name), std::string::npos) << messages[0];
  EXPECT_EQ(messages[1], messages[0]);
  EXPECT_EQ(messages[2], messages[0]);
  WriterOptions zero;
  zero.threads = 0;
  StringSink sink;
  expect_invalid([&] { Writer w(sink, schema, zero); }, "0 writer threads");
}

TEST(ParquetThreads, ScansAreTheSameOnAnyThreadCount) {
  const Schema schema = full_schema();
  WriterOptions options;
  options.row_group_rows = 450;
  options.data_page_bytes = 900;
  const std::string bytes = write_table(schema, options, 2500, {2500});  // 5 groups of 450, one of 250
  Reader reader(memory_source(bytes));
  ASSERT_EQ(reader.num_row_groups(), 6);
  const std::vector<std::vector<int>> group_lists = {{0, 1, 2, 3, 4, 5}, {5, 3, 1}, {2}, {}, {4, 4, 0}};
  for (const auto& groups : group_lists) {
    for (size_t batch_rows : {size_t{7}, size_t{450}, BatchReader::kDefaultBatchRows}) {
      const std::string want = scan_digest(reader, schema, groups, batch_rows, 1);
      for (int threads : {2, 3, 8}) {
        EXPECT_TRUE(scan_digest(reader, schema, groups, batch_rows, threads) == want)
            << groups.size() << " row groups, batches of " << batch_rows << ", " << threads << " threads";
      }
    }
  }
  // read_row_group with threads decodes the same columns.
  std::vector<int> all;
  for (size_t c = 0; c < schema.columns.size(); ++c) all.push_back(static_cast<int>(c));
  std::vector<int> some = {30, 2, 7, 2};
  for (int rg = 0; rg < reader.num_row_groups(); ++rg) {
    for (const auto& columns : {all, some}) {
      const auto want = reader.read_row_group(rg, columns);
      for (int threads : {2, 5}) {
        std::vector<ColumnVector> got;
        reader.read_row_group(rg, columns, got, threads);
        ASSERT_EQ(got.size(), want.size());
        for (size_t c = 0; c < got.size(); ++c) {
          const ColumnSchema& s = schema.columns[static_cast<size_t>(columns[c])];
          ASSERT_EQ(got[c].num_rows, want[c].num_rows);
          for (size_t i = 0; i < got[c].num_rows; ++i) {
            ASSERT_EQ(got[c].is_null(i), want[c].is_null(i)) << s.name;
            if (!got[c].is_null(i)) ASSERT_EQ(format_value(s, got[c], i), format_value(s, want[c], i)) << s.name;
          }
        }
      }
    }
  }
  expect_invalid([&] { BatchReader b(reader, {0}, 10, 0); }, "0 BatchReader threads");
  expect_invalid([&] { (void)reader.read_row_group(0, {0}, 0); }, "0 read_row_group threads");
}

TEST(ParquetThreads, ParallelScanThrowsAfterTheSameBatches) {
  // Row group 3's first data page header of column 5 is broken: every thread count hands out the
  // batches before it, then throws the same error.
  const Schema schema = full_schema();
  WriterOptions options;
  options.row_group_rows = 400;
  options.data_page_bytes = 800;
  std::string bytes = write_table(schema, options, 2400, {2400});
  {
    Reader reader(memory_source(bytes));
    ASSERT_EQ(reader.num_row_groups(), 6);
    bytes[static_cast<size_t>(reader.metadata().row_groups[3].columns[5].data_page_offset)] = '\xff';
  }
  Reader reader(memory_source(bytes));
  std::vector<int> groups = {0, 1, 2, 3, 4, 5};
  auto outcome = [&](int threads) {
    int batches = 0;
    std::string digest;
    try {
      digest = scan_digest(reader, schema, groups, 100, threads, &batches);
    } catch (const Error& e) {
      return std::to_string(batches) + " batches, then " + e.what();
    }
    return std::string("no error");
  };
  const std::string want = outcome(1);
  EXPECT_NE(want.find("12 batches, then"), std::string::npos) << want;
  for (int threads : {2, 3, 6}) EXPECT_EQ(outcome(threads), want) << threads << " threads";
  // A BatchReader that threw is done; so is one dropped halfway (its workers stop and join).
  std::vector<int> all;
  for (size_t c = 0; c < schema.columns.size(); ++c) all.push_back(static_cast<int>(c));
  BatchReader failed(reader, all, groups, 100, 2);
  std::vector<ColumnVector> cols;
  EXPECT_THROW(while (failed.next(cols)) {}, Error);
  EXPECT_FALSE(failed.next(cols));
  for (int i = 0; i < 20; ++i) {
    BatchReader dropped(reader, all, {0, 1, 2, 4, 5}, 10, 3);
    for (int b = 0; b < i; ++b) ASSERT_TRUE(dropped.next(cols));
    BatchReader moved = std::move(dropped);  // the workers keep running for the moved-to reader
    if (i % 2 == 0) ASSERT_TRUE(moved.next(cols));
  }
}

// A cheap digest of a scan (sizes, row groups and every value's bytes), for scans too large to
// format.
uint64_t scan_hash(const Reader& reader, const std::vector<int>& columns, std::vector<int> groups, size_t batch_rows,
                   int threads) {
  BatchReader batches(reader, columns, std::move(groups), batch_rows, threads);
  std::vector<ColumnVector> cols;
  uint64_t h = 1469598103934665603ull;
  auto mix = [&](const void* p, size_t n) {
    const auto* b = static_cast<const unsigned char*>(p);
    for (size_t i = 0; i < n; ++i) h = (h ^ b[i]) * 1099511628211ull;
  };
  while (batches.next(cols)) {
    const int g = batches.row_group();
    mix(&g, sizeof g);
    for (const auto& c : cols) {
      mix(&c.num_rows, sizeof c.num_rows);
      mix(c.i64.data(), c.i64.size() * 8);
      mix(c.f64.data(), c.f64.size() * 8);
      mix(c.offsets.data(), c.offsets.size() * 8);
      mix(c.data.data(), c.data.size());
      mix(c.defined.data(), c.defined.size());
    }
  }
  return h;
}

TEST(ParquetThreads, NextTakesOverAChunkAWorkerIsStillDecoding) {
  // A tiny row group first, then big gzip ones: next() finishes the tiny one at once and reaches
  // chunks a worker has only started, so it takes the rest of them over from the worker
  // (ParallelScan's hand-over) rather than wait; the batches must not change.
  Schema schema;
  schema.columns = {ColumnSchema::String("s", true), ColumnSchema::Int64("i"), ColumnSchema::Double("x")};
  WriterOptions options;
  options.compression = Compression::kGzip;
  options.dictionary = false;
  options.row_group_rows = 150'000;
  StringSink sink;
  Writer writer(sink, schema, options);
  const size_t rows = 450'010;
  std::vector<std::string> strings;
  std::vector<int64_t> ints;
  std::vector<double> doubles;
  for (size_t r = 0; r < rows; ++r) {
    strings.push_back("value-" + std::to_string(r * 7919 % 100'003) + "-" + std::string(r % 13, 'x'));
    ints.push_back(static_cast<int64_t>(r * r));
    doubles.push_back(static_cast<double>(r) / 7.0);
  }
  auto s = ColumnVector::of_strings(strings);
  s.defined.assign(rows, 1);
  for (size_t r = 0; r < rows; r += 11) s.defined[r] = 0;
  writer.write_batch({s, ColumnVector::of_i64(ints), ColumnVector::of_f64(doubles)});
  writer.close();
  Reader reader(memory_source(sink.buffer()));
  ASSERT_EQ(reader.num_row_groups(), 4);  // the last holds 10 rows
  const std::vector<int> all = {0, 1, 2};
  for (const auto& groups : std::vector<std::vector<int>>{{3, 0, 1, 2}, {3, 2, 3, 1}}) {
    for (size_t batch_rows : {size_t{997}, size_t{20'000}}) {
      const uint64_t want = scan_hash(reader, all, groups, batch_rows, 1);
      for (int threads : {2, 3}) {
        for (int round = 0; round < 3; ++round) {
          EXPECT_EQ(scan_hash(reader, all, groups, batch_rows, threads), want)
              << "batches of " << batch_rows << ", " << threads << " threads";
        }
      }
    }
  }
}

}  // namespace
}  // namespace trib::parquet

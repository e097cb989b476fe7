// The Parquet reader. The footer is parsed once; a column chunk is read as one bounded range and
// decoded page by page. Every length, offset and count from the file is checked against the
// bytes actually there before anything is allocated, so a hostile file fails with
// Error::DataLoss instead of crashing or exhausting memory.
#include <algorithm>
#include <climits>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>

#include <fmt/format.h>

#include "parquet_internal.hpp"
#include "task_pool.hpp"
#include "trib/core/error.hpp"

namespace trib::parquet {

using namespace internal;
namespace tf = ::trib::parquet::format;

namespace {

int fixed_width(PhysicalType t, int type_length) {
  switch (t) {
    case PhysicalType::kInt32: case PhysicalType::kFloat: return 4;
    case PhysicalType::kInt64: case PhysicalType::kDouble: return 8;
    case PhysicalType::kInt96: return 12;
    case PhysicalType::kFixedLenByteArray: return type_length;
    default: return 0;
  }
}

TimeUnit unit_of(const tf::TimeUnit& u) {
  if (u.__isset.MILLIS) return TimeUnit::kMillis;
  if (u.__isset.MICROS) return TimeUnit::kMicros;
  return TimeUnit::kNanos;
}

ColumnSchema column_schema(const tf::SchemaElement& e) {
  ColumnSchema c;
  c.name = e.name;
  c.physical = from_thrift(e.type);
  c.optional = e.__isset.repetition_type && e.repetition_type == tf::FieldRepetitionType::OPTIONAL;
  c.type_length = e.__isset.type_length ? e.type_length : 0;
  if (e.__isset.logicalType) {
    const auto& l = e.logicalType;
    if (l.__isset.STRING) c.logical = LogicalType::kString;
    else if (l.__isset.ENUM) c.logical = LogicalType::kEnum;
    else if (l.__isset.JSON) c.logical = LogicalType::kJson;
    else if (l.__isset.UUID) c.logical = LogicalType::kUuid;
    else if (l.__isset.DATE) c.logical = LogicalType::kDate;
    else if (l.__isset.TIMESTAMP) {
      c.logical = LogicalType::kTimestamp;
      c.utc = l.TIMESTAMP.isAdjustedToUTC;
      c.time_unit = unit_of(l.TIMESTAMP.unit);
    } else if (l.__isset.TIME) {
      c.logical = LogicalType::kTime;
      c.utc = l.TIME.isAdjustedToUTC;
      c.time_unit = unit_of(l.TIME.unit);
    } else if (l.__isset.DECIMAL) {
      c.logical = LogicalType::kDecimal;
      c.precision = l.DECIMAL.precision;
      c.scale = l.DECIMAL.scale;
    } else if (l.__isset.INTEGER) {
      c.logical = LogicalType::kInt;
      c.int_bit_width = l.INTEGER.bitWidth;
      c.int_signed = l.INTEGER.isSigned;
    }
    if (c.logical != LogicalType::kNone) return c;
  }
  if (!e.__isset.converted_type) return c;
  using CT = tf::ConvertedType;
  switch (e.converted_type) {
    case CT::UTF8: c.logical = LogicalType::kString; break;
    case CT::ENUM: c.logical = LogicalType::kEnum; break;
    case CT::JSON: c.logical = LogicalType::kJson; break;
    case CT::DATE: c.logical = LogicalType::kDate; break;
    case CT::TIMESTAMP_MILLIS: c.logical = LogicalType::kTimestamp; c.time_unit = TimeUnit::kMillis; break;
    case CT::TIMESTAMP_MICROS: c.logical = LogicalType::kTimestamp; c.time_unit = TimeUnit::kMicros; break;
    case CT::TIME_MILLIS: c.logical = LogicalType::kTime; c.time_unit = TimeUnit::kMillis; break;
    case CT::TIME_MICROS: c.logical = LogicalType::kTime; c.time_unit = TimeUnit::kMicros; break;
    case CT::DECIMAL:
      c.logical = LogicalType::kDecimal;
      c.precision = e.__isset.precision ? e.precision : 0;
      c.scale = e.__isset.scale ? e.scale : 0;
      break;
    case CT::INT_8: case CT::INT_16: case CT::INT_32: case CT::INT_64:
    case CT::UINT_8: case CT::UINT_16: case CT::UINT_32: case CT::UINT_64: {
      static const int kWidth[] = {8, 16, 32, 64};
      const bool is_signed = e.converted_type >= CT::INT_8;
      const int idx = is_signed ? e.converted_type - CT::INT_8 : e.converted_type - CT::UINT_8;
      c.logical = LogicalType::kInt;
      c.int_bit_width = kWidth[idx];
      c.int_signed = is_signed;
      break;
    }
    default: break;
  }
  return c;
}

StatValue decode_stat(const std::string& bytes, PhysicalType t) {
  auto fixed = [&](auto v) -> StatValue {
    if (bytes.size() != sizeof(v)) return std::monostate{};
    std::memcpy(&v, bytes.data(), sizeof(v));
    return v;
  };
  switch (t) {
    case PhysicalType::kBoolean: return bytes.size() == 1 ? StatValue(bytes[0] != 0) : StatValue();
    case PhysicalType::kInt32: return fixed(int32_t{});
    case PhysicalType::kInt64: return fixed(int64_t{});
    case PhysicalType::kFloat: return fixed(float{});
    case PhysicalType::kDouble: return fixed(double{});
    case PhysicalType::kInt96: return std::monostate{};
    default: return bytes;
  }
}

ColumnStatistics statistics_of(const tf::ColumnMetaData& meta, PhysicalType t) {
  ColumnStatistics out;
  if (!meta.__isset.statistics) return out;
  const auto& s = meta.statistics;
  if (s.__isset.null_count) out.null_count = s.null_count;
  if (s.__isset.distinct_count) out.distinct_count = s.distinct_count;
  if (s.__isset.min_value && s.__isset.max_value) {
    out.min = decode_stat(s.min_value, t);
    out.max = decode_stat(s.max_value, t);
  } else if (s.__isset.min && s.__isset.max && t != PhysicalType::kByteArray &&
             t != PhysicalType::kFixedLenByteArray) {
    // Legacy statistics are only trustworthy for signed numeric types.
    out.min = decode_stat(s.min, t);
    out.max = decode_stat(s.max, t);
  }
  return out;
}

// ---- value decoders ----------------------------------------------------------------------
//
// A column chunk is decoded by a ChunkCursor, page by page, handing out rows in order any number
// at a time: read_column takes a whole row group in one call, a BatchReader a batch at a time.
// Fixed-width values are decoded straight into their output vector; byte arrays are appended.
// PLAIN and dictionary pages are decoded as their rows are taken; the rarer encodings (DELTA_*,
// BYTE_STREAM_SPLIT, RLE booleans) are decoded a whole page at a time when the page is loaded.

// Per-thread scratch for the whole-page decoders.
struct Scratch {
  std::vector<uint32_t> bits;
  std::vector<int64_t> deltas, deltas2;

  void trim(size_t keep_bytes) {
    if (bits.capacity() * 4 > keep_bytes) std::vector<uint32_t>().swap(bits);
    if (deltas.capacity() * 8 > keep_bytes) std::vector<int64_t>().swap(deltas);
    if (deltas2.capacity() * 8 > keep_bytes) std::vector<int64_t>().swap(deltas2);
  }
};

Scratch& scratch() {
  thread_local Scratch s;
  return s;
}

template <typename T> std::vector<T>& storage(ColumnVector& c);
template <> std::vector<uint8_t>& storage<uint8_t>(ColumnVector& c) { return c.b8; }
template <> std::vector<int32_t>& storage<int32_t>(ColumnVector& c) { return c.i32; }
template <> std::vector<int64_t>& storage<int64_t>(ColumnVector& c) { return c.i64; }
template <> std::vector<float>& storage<float>(ColumnVector& c) { return c.f32; }
template <> std::vector<double>& storage<double>(ColumnVector& c) { return c.f64; }

// Grows a byte buffer to at least n without zero-filling it again on every reuse.
char* room(std::string& buffer, size_t n) {
  if (buffer.size() < n) buffer.resize(n);
  return buffer.data();
}

// Reads one little-endian value of up to 57 bits at bit offset `bit` of data[0, size).
inline uint64_t bits_at(const uint8_t* data, size_t size, uint64_t bit, int width) {
  const uint64_t byte = bit >> 3;
  uint64_t word = 0;
  if (byte + 8 <= size) {
    std::memcpy(&word, data + byte, 8);
  } else {
    for (uint64_t b = 0; byte + b < size && b < 8; ++b) word |= static_cast<uint64_t>(data[byte + b]) << (8 * b);
  }
  word >>= (bit & 7);
  return word & ((uint64_t{1} << width) - 1);  // width <= 57: one load holds the value
}

// Decodes DELTA_BINARY_PACKED values into out[0, count) (int64; callers narrow for INT32).
void decode_delta_binary(ByteReader& r, size_t count, std::vector<int64_t>& out) {
  const uint64_t block_size = r.uvarint("DELTA_BINARY_PACKED block size");
  const uint64_t miniblocks = r.uvarint("DELTA_BINARY_PACKED miniblock count");
  const uint64_t total = r.uvarint("DELTA_BINARY_PACKED value count");
  int64_t value = r.zigzag_varint("DELTA_BINARY_PACKED first value");
  if (block_size == 0 || block_size % 128 != 0 || miniblocks == 0 || block_size % miniblocks != 0 ||
      (block_size / miniblocks) % 32 != 0 || block_size > (1u << 20) || miniblocks > 1024) {
    throw Error::DataLoss("DELTA_BINARY_PACKED header is invalid");
  }
  if (total < count) throw Error::DataLoss("DELTA_BINARY_PACKED holds fewer values than the page says");
  const uint64_t per_miniblock = block_size / miniblocks;
  if (out.size() < count) out.resize(count);
  if (count == 0) return;
  int64_t* dst = out.data();
  size_t have = 0;
  dst[have++] = value;
  uint8_t widths[1024];
  while (have < count) {
    const int64_t min_delta = r.zigzag_varint("DELTA_BINARY_PACKED min delta");
    r.need(miniblocks, "DELTA_BINARY_PACKED bit widths");
    std::memcpy(widths, r.pos, miniblocks);
    r.pos += miniblocks;
    for (uint64_t m = 0; m < miniblocks && have < count; ++m) {
      const int width = widths[m];
      if (width > 64) throw Error::DataLoss("DELTA_BINARY_PACKED bit width is over 64");
      const size_t bytes = static_cast<size_t>(per_miniblock * static_cast<uint64_t>(width) / 8);
      r.need(bytes, "DELTA_BINARY_PACKED miniblock");
      const uint8_t* data = r.pos;
      const size_t take = static_cast<size_t>(std::min<uint64_t>(per_miniblock, count - have));
      uint64_t v = static_cast<uint64_t>(value);
      const uint64_t step = static_cast<uint64_t>(min_delta);
      if (width == 0) {
        for (size_t k = 0; k < take; ++k) dst[have + k] = static_cast<int64_t>(v += step);
      } else if (width <= 56) {
        for (size_t k = 0; k < take; ++k) {
          v += step + bits_at(data, bytes, static_cast<uint64_t>(k) * static_cast<uint64_t>(width), width);
          dst[have + k] = static_cast<int64_t>(v);
        }
      } else {
        for (size_t k = 0; k < take; ++k) {
          const uint64_t bit = static_cast<uint64_t>(k) * static_cast<uint64_t>(width);
          const uint64_t lo = bits_at(data, bytes, bit, 32);
          const uint64_t hi = bits_at(data, bytes, bit + 32, width - 32);
          v += step + (lo | (hi << 32));
          dst[have + k] = static_cast<int64_t>(v);
        }
      }
      value = static_cast<int64_t>(v);
      have += take;
      r.pos += bytes;
    }
  }
}

struct ChunkContext {
  const ColumnSchema* schema = nullptr;
  int width = 0;  // fixed width in bytes, 0 for byte arrays and booleans
  std::string name;
};

// Decodes the next n dictionary indexes from `decoder` in blocks small enough to stay in L1,
// checks each block against the dictionary's size and hands it to f(indexes, count, first).
template <typename F>
void for_each_index_block(RleDecoder& decoder, size_t n, size_t dict_size, const ChunkContext& ctx, F&& f) {
  constexpr size_t kBlock = 1024;
  uint32_t idx[kBlock];
  // Indexes narrower than 32 bits are non-negative as int32, so the range check is a signed
  // compare, which vectorises with baseline x86-64 (SSE2 has no unsigned 32-bit max or compare).
  const bool narrow = decoder.bit_width() < 32;
  const auto limit = static_cast<int32_t>(std::min<size_t>(dict_size, INT32_MAX));
  for (size_t first = 0; first < n; first += kBlock) {
    const size_t m = std::min(kBlock, n - first);
    decoder.decode(idx, m);
    bool bad = false;
    if (narrow) {
      int32_t over = 0;
      for (size_t k = 0; k < m; ++k) over |= static_cast<int32_t>(idx[k]) >= limit ? 1 : 0;
      bad = over != 0;
    } else {
      for (size_t k = 0; k < m; ++k) bad |= idx[k] >= dict_size;
    }
    if (bad) {
      const uint32_t largest = *std::max_element(idx, idx + m);
      throw Error::DataLoss(fmt::format("column '{}': dictionary index {} out of range ({})", ctx.name, largest, dict_size));
    }
    f(static_cast<const uint32_t*>(idx), m, first);
  }
}

// An INT96 timestamp (Impala's layout: nanoseconds of the day, then the Julian day) as
// nanoseconds since the Unix epoch. Only days within about 292 years of 1970 fit in int64
// nanoseconds: any other value (a hostile day of 0x7fffffff, or a legitimate 9999-12-31
// sentinel) is refused instead of overflowing.
int64_t int96_to_nanos(const uint8_t* src, const ChunkContext& ctx) {
  int64_t nanos;
  int32_t julian;
  std::memcpy(&nanos, src, 8);
  std::memcpy(&julian, src + 8, 4);
  constexpr int64_t kUnixEpochJulianDay = 2440588;
  constexpr int64_t kNanosPerDay = int64_t{86400} * 1'000'000'000;
  int64_t day_nanos = 0, out = 0;
  if (__builtin_mul_overflow(static_cast<int64_t>(julian) - kUnixEpochJulianDay, kNanosPerDay, &day_nanos) ||
      __builtin_add_overflow(day_nanos, nanos, &out)) {
    throw Error::InvalidInput(fmt::format(
        "column '{}': INT96 timestamp (Julian day {}, {} ns into the day) does not fit in int64 nanoseconds "
        "since 1970 (years 1677-2262)", ctx.name, julian, nanos));
  }
  return out;
}

// Decodes `n` non-null values of a fixed-width column from `r` into dst[0, n). PLAIN reads only
// what it decodes, so it can be called again for the next values of the same page (except for
// booleans, which ChunkCursor handles itself).
template <typename T>
void decode_fixed(ByteReader& r, tf::Encoding::type encoding, size_t n, const ChunkContext& ctx, T* dst) {
  const PhysicalType t = ctx.schema->physical;
  switch (encoding) {
    case tf::Encoding::PLAIN: {
      if (t == PhysicalType::kBoolean) {
        r.need((n + 7) / 8, "PLAIN booleans");
        for (size_t i = 0; i < n; ++i) dst[i] = static_cast<T>((r.pos[i >> 3] >> (i & 7)) & 1);
        r.pos += (n + 7) / 8;
        return;
      }
      const size_t bytes = n * static_cast<size_t>(ctx.width);
      if (ctx.width == 0 || bytes / static_cast<size_t>(ctx.width) != n) throw Error::DataLoss("PLAIN value size overflow");
      r.need(bytes, "PLAIN values");
      if constexpr (std::is_same_v<T, int64_t>) {
        if (t == PhysicalType::kInt96) {
          for (size_t i = 0; i < n; ++i) dst[i] = int96_to_nanos(r.pos + 12 * i, ctx);
          r.pos += bytes;
          return;
        }
      }
      if (n > 0) std::memcpy(dst, r.pos, bytes);
      r.pos += bytes;
      return;
    }
    case tf::Encoding::RLE: {
      if (t != PhysicalType::kBoolean) throw Error::DataLoss("RLE value encoding is only valid for booleans");
      uint32_t len = r.read<uint32_t>("RLE boolean length");
      r.need(len, "RLE booleans");
      auto& bits = scratch().bits;
      if (bits.size() < n) bits.resize(n);
      RleDecoder(r.pos, len, 1).decode(bits.data(), n);
      r.pos += len;
      for (size_t i = 0; i < n; ++i) {
        if (bits[i] > 1) throw Error::DataLoss("RLE boolean value is not 0 or 1");
        dst[i] = static_cast<T>(bits[i]);
      }
      return;
    }
    case tf::Encoding::DELTA_BINARY_PACKED: {
      if (t != PhysicalType::kInt32 && t != PhysicalType::kInt64) throw Error::DataLoss("DELTA_BINARY_PACKED is only valid for INT32 and INT64");
      auto& values = scratch().deltas;
      decode_delta_binary(r, n, values);
      for (size_t i = 0; i < n; ++i) dst[i] = static_cast<T>(values[i]);
      return;
    }
    case tf::Encoding::BYTE_STREAM_SPLIT: {
      const size_t w = static_cast<size_t>(ctx.width);
      if (w != sizeof(T) || t == PhysicalType::kBoolean) throw Error::DataLoss("BYTE_STREAM_SPLIT needs a fixed-width type");
      const size_t bytes = n * w;
      r.need(bytes, "BYTE_STREAM_SPLIT values");
      auto* out = reinterpret_cast<uint8_t*>(dst);
      for (size_t k = 0; k < w; ++k) {
        const uint8_t* stream = r.pos + k * n;
        for (size_t i = 0; i < n; ++i) out[i * w + k] = stream[i];
      }
      r.pos += bytes;
      return;
    }
    case tf::Encoding::DELTA_LENGTH_BYTE_ARRAY:
    case tf::Encoding::DELTA_BYTE_ARRAY:
      throw Error::DataLoss(fmt::format("column '{}': {} is only valid for byte arrays", ctx.name, encoding_name(encoding)));
    default:
      throw Error::DataLoss(fmt::format("column '{}': encoding {} is not supported", ctx.name, encoding_name(encoding)));
  }
}

// Appends `n` non-null byte-array values decoded from `r` to dst.offsets / dst.data. PLAIN reads
// only what it decodes, so it can be called again for the next values of the same page.
void decode_bytes(ByteReader& r, tf::Encoding::type encoding, size_t n, const ChunkContext& ctx, ColumnVector& dst) {
  const PhysicalType t = ctx.schema->physical;
  const size_t w = static_cast<size_t>(ctx.width);
  switch (encoding) {
    case tf::Encoding::PLAIN: {
      if (t == PhysicalType::kFixedLenByteArray) {
        const size_t bytes = n * w;
        if (w == 0 || bytes / w != n) throw Error::DataLoss("PLAIN value size overflow");
        r.need(bytes, "PLAIN fixed-length byte arrays");
        for (size_t i = 0; i < n; ++i) dst.append_string(std::string_view(reinterpret_cast<const char*>(r.pos) + i * w, w));
        r.pos += bytes;
        return;
      }
      for (size_t i = 0; i < n; ++i) {
        uint32_t len = r.read<uint32_t>("PLAIN byte array length");
        r.need(len, "PLAIN byte array");
        dst.append_string(std::string_view(reinterpret_cast<const char*>(r.pos), len));
        r.pos += len;
      }
      return;
    }
    case tf::Encoding::DELTA_LENGTH_BYTE_ARRAY: {
      if (t != PhysicalType::kByteArray) throw Error::DataLoss("DELTA_LENGTH_BYTE_ARRAY is only valid for BYTE_ARRAY");
      auto& lengths = scratch().deltas;
      decode_delta_binary(r, n, lengths);
      for (size_t i = 0; i < n; ++i) {
        const int64_t len = lengths[i];
        if (len < 0) throw Error::DataLoss("negative byte array length");
        r.need(static_cast<size_t>(len), "DELTA_LENGTH_BYTE_ARRAY data");
        dst.append_string(std::string_view(reinterpret_cast<const char*>(r.pos), static_cast<size_t>(len)));
        r.pos += len;
      }
      return;
    }
    case tf::Encoding::DELTA_BYTE_ARRAY: {
      auto& prefixes = scratch().deltas;
      auto& suffixes = scratch().deltas2;
      decode_delta_binary(r, n, prefixes);
      decode_delta_binary(r, n, suffixes);
      std::string previous, current;
      for (size_t i = 0; i < n; ++i) {
        if (prefixes[i] < 0 || suffixes[i] < 0 || static_cast<size_t>(prefixes[i]) > previous.size()) {
          throw Error::DataLoss("DELTA_BYTE_ARRAY prefix or suffix length is invalid");
        }
        r.need(static_cast<size_t>(suffixes[i]), "DELTA_BYTE_ARRAY suffix");
        current.assign(previous, 0, static_cast<size_t>(prefixes[i]));
        current.append(reinterpret_cast<const char*>(r.pos), static_cast<size_t>(suffixes[i]));
        r.pos += suffixes[i];
        dst.append_string(current);
        previous.swap(current);
      }
      return;
    }
    case tf::Encoding::BYTE_STREAM_SPLIT: {
      if (t != PhysicalType::kFixedLenByteArray || w == 0) throw Error::DataLoss("BYTE_STREAM_SPLIT needs a fixed-width type");
      const size_t bytes = n * w;
      if (bytes / w != n) throw Error::DataLoss("BYTE_STREAM_SPLIT value size overflow");
      r.need(bytes, "BYTE_STREAM_SPLIT values");
      std::string value(w, '\0');
      for (size_t i = 0; i < n; ++i) {
        for (size_t k = 0; k < w; ++k) value[k] = static_cast<char>(r.pos[k * n + i]);
        dst.append_string(value);
      }
      r.pos += bytes;
      return;
    }
    default:
      throw Error::DataLoss(fmt::format("column '{}': encoding {} is not supported", ctx.name, encoding_name(encoding)));
  }
}

// Appends values [first, first + n) of byte-array column `src` to `dst`.
void append_range(const ColumnVector& src, size_t first, size_t n, ColumnVector& dst) {
  if (n == 0) return;
  const uint64_t from = src.offsets[first], to = src.offsets[first + n];
  const uint64_t shift = dst.data.size() - from;
  dst.data.append(src.data, from, to - from);
  const size_t base = dst.offsets.size();
  dst.offsets.resize(base + n);
  for (size_t k = 0; k < n; ++k) dst.offsets[base + k] = src.offsets[first + 1 + k] + shift;
}

// The fixed-width vector a column of physical type `t` decodes into, as a typed call.
template <typename F>
void with_fixed_type(PhysicalType t, F&& f) {
  switch (t) {
    case PhysicalType::kBoolean: f(uint8_t{}); break;
    case PhysicalType::kInt32: f(int32_t{}); break;
    case PhysicalType::kInt64: case PhysicalType::kInt96: f(int64_t{}); break;
    case PhysicalType::kFloat: f(float{}); break;
    case PhysicalType::kDouble: f(double{}); break;
    default: break;
  }
}

bool is_byte_array(PhysicalType t) {
  return t == PhysicalType::kByteArray || t == PhysicalType::kFixedLenByteArray;
}

// Makes `out` an empty column of type `t` for `rows` rows, keeping its buffers' capacity; a
// fixed-width vector is sized to `rows` (a no-op when `out` is reused for equal batches).
void prepare_output(ColumnVector& out, PhysicalType t, size_t rows) {
  auto keep = [&](auto& v, bool used) {
    if (!used) v.clear();
    else if (v.size() != rows) v.resize(rows);
  };
  keep(out.b8, t == PhysicalType::kBoolean);
  keep(out.i32, t == PhysicalType::kInt32);
  keep(out.i64, t == PhysicalType::kInt64 || t == PhysicalType::kInt96);
  keep(out.f32, t == PhysicalType::kFloat);
  keep(out.f64, t == PhysicalType::kDouble);
  out.offsets.clear();
  out.data.clear();
  out.defined.clear();
  if (is_byte_array(t)) {
    out.offsets.reserve(rows + 1);
    out.offsets.push_back(0);
  }
  out.type = t;
  out.num_rows = 0;
}

}  // namespace

// A parsed file: what Reader and BatchReader share. (Named, not anonymous: Reader::Impl derives
// from it.)
struct OpenFile {
  std::unique_ptr<InputSource> source;
  std::string name;
  tf::FileMetaData raw;
  FileMetadata meta;

  const tf::ColumnMetaData& chunk_meta(int row_group, int column) const {
    if (row_group < 0 || row_group >= static_cast<int>(raw.row_groups.size())) {
      throw Error::InvalidInput(fmt::format("{}: row group {} does not exist ({} row groups)", name, row_group, raw.row_groups.size()));
    }
    const auto& rg = raw.row_groups[static_cast<size_t>(row_group)];
    if (column < 0 || column >= static_cast<int>(rg.columns.size())) {
      throw Error::InvalidInput(fmt::format("{}: column {} does not exist", name, column));
    }
    const auto& chunk = rg.columns[static_cast<size_t>(column)];
    if (!chunk.__isset.meta_data) throw Error::DataLoss(fmt::format("{}: column chunk without metadata", name));
    if (chunk.__isset.file_path && !chunk.file_path.empty()) {
      throw Error::InvalidInput(fmt::format("{}: column chunks in other files are not supported", name));
    }
    return chunk.meta_data;
  }

  void read_column(int row_group, int column, ColumnVector& out) const;
};

struct Reader::Impl : OpenFile {};

namespace {

// Decodes one column chunk, handing out its rows in order, any number at a time. open() reads
// the chunk's compressed bytes (bounded by the chunk's size in the file); pages are decompressed
// one at a time as rows are taken. Buffers are kept across open() calls.
class ChunkCursor {
 public:
  void open(const OpenFile& file, int row_group, int column) {
    const ColumnSchema& schema = file.meta.schema.columns[static_cast<size_t>(column)];
    const tf::ColumnMetaData& cm = file.chunk_meta(row_group, column);
    rows_ = file.raw.row_groups[static_cast<size_t>(row_group)].num_rows;
    where_ = fmt::format("{}: column '{}' row group {}", file.name, schema.name, row_group);
    if (from_thrift(cm.type) != schema.physical) throw Error::DataLoss(where_ + ": chunk type differs from the schema");
    if (rows_ < 0 || cm.num_values != rows_) {
      throw Error::DataLoss(fmt::format("{}: {} values for {} rows", where_, cm.num_values, rows_));
    }
    ctx_ = ChunkContext{&schema, fixed_width(schema.physical, schema.type_length), schema.name};
    if (schema.physical == PhysicalType::kFixedLenByteArray && ctx_.width <= 0) {
      throw Error::DataLoss(where_ + ": FIXED_LEN_BYTE_ARRAY without a type length");
    }
    t_ = schema.physical;
    bytes_ = is_byte_array(t_);
    optional_ = schema.optional;
    done_ = 0;
    page_left_ = 0;
    have_dictionary_ = false;
    if (rows_ == 0) {  // an empty row group: some writers give its chunks no pages at all
      chunk_size_ = pos_ = 0;
      return;
    }
    int64_t start = cm.data_page_offset;
    if (cm.__isset.dictionary_page_offset && cm.dictionary_page_offset > 0 && cm.dictionary_page_offset < start) {
      start = cm.dictionary_page_offset;
    }
    const uint64_t file_size = file.source->size();
    if (start < 4 || cm.total_compressed_size <= 0 || static_cast<uint64_t>(start) >= file_size ||
        static_cast<uint64_t>(cm.total_compressed_size) > file_size - static_cast<uint64_t>(start)) {
      throw Error::DataLoss(fmt::format("{}: chunk range {}+{} is outside the file ({} bytes)", where_, start,
                                        cm.total_compressed_size, file_size));
    }
    codec_ = from_thrift(cm.codec);
    chunk_size_ = static_cast<size_t>(cm.total_compressed_size);
    unbacked_ = 0;
    unbacked_limit_ = kMaxUnbackedPageValues + kUnbackedRowsPerChunkByte * static_cast<uint64_t>(chunk_size_);
    file.source->read_at(static_cast<uint64_t>(start), chunk_size_, room(chunk_, chunk_size_));
    pos_ = 0;
  }

  int64_t rows_left() const { return rows_ - done_; }

  // Decodes the next `count` rows into rows [first, first + count) of `out`: fixed-width vectors
  // must already hold first + count slots (prepare_output()), byte arrays first rows.
  void read(size_t count, ColumnVector& out, size_t first = 0) {
    if (static_cast<int64_t>(count) > rows_left()) throw Error::Internal(where_ + ": read past the end of the chunk");
    const size_t end = first + count;
    if (!out.defined.empty() && out.defined.size() < end) out.defined.resize(end, 1);
    size_t at = first;
    while (at < end) {
      if (page_left_ == 0) {
        at += next_page(out, at, end);
        continue;
      }
      const size_t take = std::min(page_left_, end - at);
      read_slice(take, at, end, out);
      at += take;
      page_left_ -= take;
      page_row_ += take;
      done_ += static_cast<int64_t>(take);
    }
    if (bytes_ && out.offsets.size() != end + 1) throw Error::Internal(where_ + ": decoded offsets do not match the row count");
  }

  // A cursor kept for reuse must not pin the buffers of one huge chunk for good.
  void trim() {
    constexpr size_t kKeep = size_t{64} << 20;
    scratch().trim(kKeep);
    if (chunk_.capacity() > kKeep) std::string().swap(chunk_);
    if (page_.capacity() > kKeep) std::string().swap(page_);
    if (page_defined_.capacity() > kKeep) std::vector<uint8_t>().swap(page_defined_);
    for (ColumnVector* v : {&page_values_, &dense_}) {
      if (v->data.capacity() > kKeep || v->i64.capacity() * 8 > kKeep || v->f64.capacity() * 8 > kKeep ||
          v->i32.capacity() * 4 > kKeep || v->f32.capacity() * 4 > kKeep || v->b8.capacity() > kKeep ||
          v->offsets.capacity() * 8 > kKeep) {
        *v = ColumnVector{};
      }
    }
  }

 private:
  // Parses pages up to the next data page (decoding a dictionary page on the way) and makes it
  // current. A PLAIN page of a required fixed-width column that fits in this read (rows up to
  // `end`) is nothing but its values: it is decompressed straight into `out` at row `at` and its
  // row count returned.
  size_t next_page(ColumnVector& out, size_t at, size_t end) {
    for (;;) {
      if (pos_ >= chunk_size_) {
        throw Error::DataLoss(fmt::format("{}: pages end after {} of {} values", where_, done_, rows_));
      }
      const char* chunk = chunk_.data();
      tf::PageHeader header;
      pos_ += deserialize(reinterpret_cast<const uint8_t*>(chunk) + pos_, chunk_size_ - pos_, header, "page header");
      if (header.compressed_page_size < 0 || header.uncompressed_page_size < 0 ||
          static_cast<size_t>(header.compressed_page_size) > chunk_size_ - pos_ ||
          header.uncompressed_page_size > kMaxPageBytes) {
        throw Error::DataLoss(fmt::format("{}: page sizes {} / {} do not fit the chunk", where_,
                                          header.compressed_page_size, header.uncompressed_page_size));
      }
      std::string_view body(chunk + pos_, static_cast<size_t>(header.compressed_page_size));
      pos_ += static_cast<size_t>(header.compressed_page_size);
      const size_t uncompressed = static_cast<size_t>(header.uncompressed_page_size);

      if (header.type == tf::PageType::DICTIONARY_PAGE) {
        load_dictionary(header, body, uncompressed);
        continue;
      }
      if (header.type != tf::PageType::DATA_PAGE && header.type != tf::PageType::DATA_PAGE_V2) continue;

      int64_t page_values = 0;
      tf::Encoding::type encoding;
      std::string_view def_bytes;  // v2: the definition levels, stored uncompressed
      std::string_view values_body = body;
      size_t values_size = uncompressed;
      bool values_compressed = true;
      const bool v1 = header.type == tf::PageType::DATA_PAGE;
      if (v1) {
        if (!header.__isset.data_page_header) throw Error::DataLoss(where_ + ": data page without its header");
        page_values = header.data_page_header.num_values;
        encoding = header.data_page_header.encoding;
      } else {
        if (!header.__isset.data_page_header_v2) throw Error::DataLoss(where_ + ": v2 data page without its header");
        const auto& h2 = header.data_page_header_v2;
        page_values = h2.num_values;
        encoding = h2.encoding;
        if (h2.repetition_levels_byte_length != 0) throw Error::InvalidInput(where_ + ": repeated (nested) columns are not supported");
        if (h2.definition_levels_byte_length < 0 ||
            static_cast<size_t>(h2.definition_levels_byte_length) > body.size() ||
            h2.definition_levels_byte_length > header.uncompressed_page_size) {
          throw Error::DataLoss(where_ + ": v2 level lengths do not fit the page");
        }
        const size_t levels_len = static_cast<size_t>(h2.definition_levels_byte_length);
        def_bytes = body.substr(0, levels_len);
        values_body = body.substr(levels_len);
        values_size = uncompressed - levels_len;
        values_compressed = !h2.__isset.is_compressed || h2.is_compressed;
      }
      if (page_values < 0 || page_values > rows_ - done_) {
        throw Error::DataLoss(fmt::format("{}: page claims {} values, {} remain", where_, page_values, rows_ - done_));
      }
      const size_t n = static_cast<size_t>(page_values);
      check_unbacked_rows(n, uncompressed);
      const Compression page_codec = values_compressed ? codec_ : Compression::kUncompressed;

      if (!optional_ && !bytes_ && encoding == tf::Encoding::PLAIN && t_ != PhysicalType::kBoolean &&
          t_ != PhysicalType::kInt96 && n <= end - at && values_size == n * static_cast<size_t>(ctx_.width)) {
        with_fixed_type(t_, [&](auto tag) {
          using T = decltype(tag);
          decompress(page_codec, values_body, reinterpret_cast<char*>(storage<T>(out).data() + at), values_size);
        });
        done_ += page_values;
        return n;
      }

      check_page_size(page_codec, values_body, values_size);
      decompress(page_codec, values_body, room(page_, values_size), values_size);
      const auto* p = reinterpret_cast<const uint8_t*>(page_.data());
      ByteReader r{p, p + values_size};
      size_t non_null = n;
      page_nulls_ = false;
      if (optional_) {
        const uint8_t* lp;
        size_t ll;
        if (v1) {
          // RLE is what every current writer uses; the deprecated BIT_PACKED level encoding
          // (no length prefix, most significant bit first) would be misread as RLE.
          if (header.data_page_header.definition_level_encoding != tf::Encoding::RLE) {
            throw Error::InvalidInput(fmt::format("{}: definition levels encoded as {} are not supported (only RLE)", where_,
                                                  encoding_name(header.data_page_header.definition_level_encoding)));
          }
          const uint32_t len = r.read<uint32_t>("definition levels length");
          r.need(len, "definition levels");
          lp = r.pos;
          ll = len;
          r.pos += len;
        } else {
          lp = reinterpret_cast<const uint8_t*>(def_bytes.data());
          ll = def_bytes.size();
        }
        // A page without nulls usually stores its levels as one run of 1s: nothing to decode.
        if (!RleDecoder::starts_with_run(lp, ll, 1, 1, n)) non_null = count_levels(lp, ll, n);
      }

      encoding_ = encoding;
      page_left_ = n;
      page_row_ = 0;
      page_decoded_ = false;
      values_ = r;
      switch (encoding) {
        case tf::Encoding::PLAIN:
          if (t_ == PhysicalType::kBoolean) {
            r.need((non_null + 7) / 8, "PLAIN booleans");
            bool_index_ = 0;
          }
          break;
        case tf::Encoding::PLAIN_DICTIONARY:
        case tf::Encoding::RLE_DICTIONARY:
          if (!have_dictionary_) {
            throw Error::DataLoss(fmt::format("column '{}': dictionary-encoded page without a dictionary", ctx_.name));
          }
          if (non_null > 0) {
            const int width = r.read<uint8_t>("dictionary index bit width");
            if (width > 32) throw Error::DataLoss("dictionary index bit width is over 32");
            indexes_.emplace(r.pos, r.remaining(), width);
          }
          break;
        default:
          // Decoded whole, now; rows are then copied out of page_values_ (bounded by
          // check_unbacked_rows, as a DELTA miniblock of width 0 costs no bytes per value).
          page_decoded_ = true;
          page_value_pos_ = 0;
          if (bytes_) {
            prepare_output(page_values_, t_, 0);
            decode_bytes(r, encoding, non_null, ctx_, page_values_);
          } else {
            prepare_output(page_values_, t_, non_null);
            with_fixed_type(t_, [&](auto tag) {
              using T = decltype(tag);
              decode_fixed<T>(r, encoding, non_null, ctx_, storage<T>(page_values_).data());
            });
          }
          break;
      }
      return 0;
    }
  }

  // A page's values beyond one per bit of its (uncompressed) bytes cost no bytes at all: an RLE
  // run of dictionary indexes or of null levels, a DELTA miniblock of width 0 can claim any
  // number of rows in a few bytes, and read_column allocates for every row it hands out. They
  // are legitimate (a constant column is one run), so they are allowed, but only up to
  // kMaxUnbackedPageValues per page and, per chunk, that many plus kUnbackedRowsPerChunkByte per
  // byte of the chunk: what our own writer needs for a constant column (about 22 Ki rows per
  // byte with 512 Ki-row pages) with room to spare. Past that the page is refused before
  // anything is allocated for it.
  void check_unbacked_rows(size_t n, size_t page_bytes) {
    const uint64_t backed = uint64_t{8} * page_bytes;
    const uint64_t unbacked = n > backed ? n - backed : 0;
    unbacked_ += unbacked;
    if (unbacked > kMaxUnbackedPageValues || unbacked_ > unbacked_limit_) {
      throw Error::InvalidInput(fmt::format(
          "{}: a page of {} values in {} bytes is too large to decode ({} values not backed by a bit each in this "
          "chunk of {} bytes; at most {} per page and {} per chunk)", where_, n, page_bytes, unbacked_, chunk_size_,
          kMaxUnbackedPageValues, unbacked_limit_));
    }
  }

  // Counts a page's defined values (levels of 1), checking every level, without keeping them:
  // memory stays constant however many rows a page's runs claim. When some are 0, a decoder
  // positioned at the page's first level is kept; read_slice decodes them slice by slice.
  size_t count_levels(const uint8_t* data, size_t size, size_t n) {
    RleDecoder counter(data, size, 1);
    uint32_t block[1024];
    size_t ones = 0;
    uint32_t highest = 0;
    for (size_t first = 0; first < n; first += 1024) {
      const size_t m = std::min<size_t>(1024, n - first);
      counter.decode(block, m);
      for (size_t i = 0; i < m; ++i) {  // vectorises
        highest = std::max(highest, block[i]);
        ones += block[i];
      }
    }
    if (highest > 1) throw Error::DataLoss(where_ + ": definition level above 1");
    if (ones != n) {
      page_nulls_ = true;
      levels_.emplace(data, size, 1);
    }
    return ones;
  }

  // The next `take` definition levels of the current page into page_defined_ (0/1 bytes).
  const uint8_t* next_levels(size_t take) {
    if (page_defined_.size() < take) page_defined_.resize(take);
    uint32_t block[1024];
    for (size_t first = 0; first < take; first += 1024) {
      const size_t m = std::min<size_t>(1024, take - first);
      levels_->decode(block, m);
      for (size_t i = 0; i < m; ++i) page_defined_[first + i] = static_cast<uint8_t>(block[i]);
    }
    return page_defined_.data();
  }

  void load_dictionary(const tf::PageHeader& header, std::string_view body, size_t uncompressed) {
    if (!header.__isset.dictionary_page_header) throw Error::DataLoss(where_ + ": dictionary page without its header");
    const auto& dh = header.dictionary_page_header;
    if (dh.num_values < 0) throw Error::DataLoss(where_ + ": negative dictionary size");
    check_page_size(codec_, body, uncompressed);
    decompress(codec_, body, room(page_, uncompressed), uncompressed);
    const auto* p = reinterpret_cast<const uint8_t*>(page_.data());
    ByteReader r{p, p + uncompressed};
    const size_t count = static_cast<size_t>(dh.num_values);
    // Every entry takes at least one byte (a bit, for booleans): bound the count by the page
    // before allocating for it.
    if ((ctx_.width > 0 && static_cast<uint64_t>(count) * static_cast<uint64_t>(ctx_.width) > uncompressed) ||
        (ctx_.width == 0 && count / 8 > uncompressed)) {
      throw Error::DataLoss(where_ + ": dictionary holds fewer values than its header says");
    }
    if (bytes_) {
      prepare_output(dictionary_, t_, 0);
      decode_bytes(r, tf::Encoding::PLAIN, count, ctx_, dictionary_);
    } else {
      prepare_output(dictionary_, t_, count);
      with_fixed_type(t_, [&](auto tag) {
        using T = decltype(tag);
        decode_fixed<T>(r, tf::Encoding::PLAIN, count, ctx_, storage<T>(dictionary_).data());
      });
    }
    dictionary_.num_rows = count;
    have_dictionary_ = true;
  }

  // Rows [page_row_, page_row_ + take) of the current page into out rows [at, at + take) of a
  // read that ends at row `end`.
  void read_slice(size_t take, size_t at, size_t end, ColumnVector& out) {
    size_t non_null = take;
    const uint8_t* defined = nullptr;
    if (page_nulls_) {
      defined = next_levels(take);
      non_null = 0;
      for (size_t i = 0; i < take; ++i) non_null += defined[i];
    }
    if (non_null == take) {
      if (bytes_) {
        next_bytes(take, out);
      } else {
        with_fixed_type(t_, [&](auto tag) {
          using T = decltype(tag);
          next_fixed<T>(take, storage<T>(out).data() + at);
        });
      }
      return;
    }
    if (out.defined.empty()) out.defined.assign(end, 1);  // the first null: all before were values
    std::copy(defined, defined + take, out.defined.begin() + static_cast<std::ptrdiff_t>(at));
    if (bytes_) {
      prepare_output(dense_, t_, 0);
      next_bytes(non_null, dense_);
      size_t v = 0;
      for (size_t i = 0; i < take; ++i) {
        if (defined[i] != 0) {
          out.append_string(dense_.str(v));
          ++v;
        } else {
          out.offsets.push_back(out.data.size());
        }
      }
      return;
    }
    with_fixed_type(t_, [&](auto tag) {
      using T = decltype(tag);
      auto& dense = storage<T>(dense_);
      if (dense.size() < non_null) dense.resize(non_null);
      next_fixed<T>(non_null, dense.data());
      T* dst = storage<T>(out).data() + at;
      size_t v = 0;
      for (size_t i = 0; i < take; ++i) {
        dst[i] = defined[i] != 0 ? dense[v] : T{};
        v += defined[i];
      }
    });
  }

  // The next m non-null values of the current page.
  template <typename T>
  void next_fixed(size_t m, T* dst) {
    if (m == 0) return;
    if (page_decoded_) {
      std::copy_n(storage<T>(page_values_).data() + page_value_pos_, m, dst);
      page_value_pos_ += m;
      return;
    }
    if (encoding_ == tf::Encoding::PLAIN_DICTIONARY || encoding_ == tf::Encoding::RLE_DICTIONARY) {
      const T* dict = storage<T>(dictionary_).data();
      for_each_index_block(*indexes_, m, dictionary_.num_rows, ctx_, [&](const uint32_t* idx, size_t k, size_t first) {
        T* o = dst + first;
        for (size_t j = 0; j < k; ++j) o[j] = dict[idx[j]];
      });
      return;
    }
    if (t_ == PhysicalType::kBoolean) {  // PLAIN booleans: bit-packed, checked at page load
      for (size_t i = 0; i < m; ++i, ++bool_index_) {
        dst[i] = static_cast<T>((values_.pos[bool_index_ >> 3] >> (bool_index_ & 7)) & 1);
      }
      return;
    }
    decode_fixed<T>(values_, encoding_, m, ctx_, dst);
  }

  void next_bytes(size_t m, ColumnVector& dst) {
    if (m == 0) return;
    if (page_decoded_) {
      append_range(page_values_, page_value_pos_, m, dst);
      page_value_pos_ += m;
      return;
    }
    if (encoding_ == tf::Encoding::PLAIN_DICTIONARY || encoding_ == tf::Encoding::RLE_DICTIONARY) {
      const uint64_t* doff = dictionary_.offsets.data();
      const char* src = dictionary_.data.data();
      for_each_index_block(*indexes_, m, dictionary_.num_rows, ctx_, [&](const uint32_t* idx, size_t k, size_t) {
        // Size the block's output once, then copy each value: no per-value growth.
        uint64_t total = 0;
        for (size_t j = 0; j < k; ++j) total += doff[idx[j] + 1] - doff[idx[j]];
        uint64_t at = dst.data.size();
        dst.data.resize(at + total);
        char* o = dst.data.data() + at;
        const size_t obase = dst.offsets.size();
        dst.offsets.resize(obase + k);
        uint64_t* offsets = dst.offsets.data() + obase;
        for (size_t j = 0; j < k; ++j) {
          const uint64_t from = doff[idx[j]], len = doff[idx[j] + 1] - from;
          std::memcpy(o, src + from, len);
          o += len;
          at += len;
          offsets[j] = at;
        }
      });
      return;
    }
    decode_bytes(values_, encoding_, m, ctx_, dst);
  }

  std::string where_;
  ChunkContext ctx_;
  PhysicalType t_ = PhysicalType::kInt64;
  bool bytes_ = false, optional_ = false;
  Compression codec_ = Compression::kUncompressed;
  static constexpr uint64_t kMaxUnbackedPageValues = uint64_t{1} << 24;
  static constexpr uint64_t kUnbackedRowsPerChunkByte = 32 * 1024;
  int64_t rows_ = 0, done_ = 0;  // rows in the chunk; rows handed out
  uint64_t unbacked_ = 0, unbacked_limit_ = 0;  // see check_unbacked_rows
  std::string chunk_;
  size_t chunk_size_ = 0, pos_ = 0;
  ColumnVector dictionary_;
  bool have_dictionary_ = false;
  // The current data page.
  std::string page_;
  tf::Encoding::type encoding_ = tf::Encoding::PLAIN;
  size_t page_left_ = 0, page_row_ = 0;  // rows of the page not yet / already handed out
  ByteReader values_{nullptr, nullptr};  // PLAIN: the value bytes not yet decoded
  size_t bool_index_ = 0;                // PLAIN booleans: values taken
  std::optional<RleDecoder> indexes_;    // dictionary pages: the index stream
  bool page_nulls_ = false;
  std::optional<RleDecoder> levels_;     // when page_nulls_: the page's levels not yet taken
  std::vector<uint8_t> page_defined_;    // the levels of the slice being read, 0/1
  bool page_decoded_ = false;            // other encodings: the page's values, decoded at load
  ColumnVector page_values_;
  size_t page_value_pos_ = 0;
  ColumnVector dense_;                   // the non-null values of a slice with nulls
};

}  // namespace

void OpenFile::read_column(int row_group, int column, ColumnVector& out) const {
  thread_local ChunkCursor cursor;  // its buffers are reused from one call to the next
  cursor.open(*this, row_group, column);
  const PhysicalType t = meta.schema.columns[static_cast<size_t>(column)].physical;
  const size_t rows = static_cast<size_t>(cursor.rows_left());
  // The row count comes from the footer: allocate for it a slice at a time, as pages prove the
  // rows exist, so a hostile footer claiming billions of rows cannot make us allocate for them.
  // Slices start small and double (the rows decoded so far prove the next slice is worth it)
  // up to kSlice.
  constexpr size_t kFirstSlice = size_t{1} << 18, kSlice = size_t{1} << 22;
  prepare_output(out, t, std::min(rows, kFirstSlice));
  for (size_t done = 0; done < rows;) {
    const size_t n = std::min({done == 0 ? kFirstSlice : std::min(done, kSlice), rows - done});
    if (done > 0 && !is_byte_array(t)) {
      with_fixed_type(t, [&](auto tag) { storage<decltype(tag)>(out).resize(done + n); });
    }
    cursor.read(n, out, done);
    done += n;
  }
  out.num_rows = rows;
  cursor.trim();
}

Reader::Reader(std::unique_ptr<InputSource> source, std::string name) : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.source = std::move(source);
  m.name = std::move(name);
  const uint64_t size = m.source->size();
  if (size < 12) throw Error::DataLoss(fmt::format("{}: {} bytes is too small to be a Parquet file", m.name, size));
  char tail[8];
  m.source->read_at(size - 8, 8, tail);
  char head[4];
  m.source->read_at(0, 4, head);
  if (std::memcmp(tail + 4, "PAR1", 4) != 0 || std::memcmp(head, "PAR1", 4) != 0) {
    if (std::memcmp(tail + 4, "PARE", 4) == 0) throw Error::InvalidInput(fmt::format("{}: encrypted Parquet files are not supported", m.name));
    throw Error::DataLoss(fmt::format("{}: not a Parquet file (no PAR1 magic at both ends)", m.name));
  }
  uint32_t footer_len;
  std::memcpy(&footer_len, tail, 4);
  if (footer_len == 0 || footer_len > size - 12) {
    throw Error::DataLoss(fmt::format("{}: footer length {} does not fit a {}-byte file", m.name, footer_len, size));
  }
  std::string footer(footer_len, '\0');
  m.source->read_at(size - 8 - footer_len, footer_len, footer.data());
  deserialize(reinterpret_cast<const uint8_t*>(footer.data()), footer.size(), m.raw, "file footer");

  // Schema: a root with flat leaf children only.
  const auto& elements = m.raw.schema;
  if (elements.empty()) throw Error::DataLoss(m.name + ": the schema is empty");
  const auto& root = elements[0];
  const size_t leaves = elements.size() - 1;
  if (!root.__isset.num_children || root.num_children < 0 || static_cast<size_t>(root.num_children) != leaves) {
    throw Error::InvalidInput(fmt::format("{}: nested columns are not supported (only flat schemas)", m.name));
  }
  for (size_t i = 1; i < elements.size(); ++i) {
    const auto& e = elements[i];
    if ((e.__isset.num_children && e.num_children > 0) || !e.__isset.type) {
      throw Error::InvalidInput(fmt::format("{}: column '{}' is nested; nested columns are not supported", m.name, e.name));
    }
    if (e.__isset.repetition_type && e.repetition_type == tf::FieldRepetitionType::REPEATED) {
      throw Error::InvalidInput(fmt::format("{}: column '{}' is repeated; nested columns are not supported", m.name, e.name));
    }
    m.meta.schema.columns.push_back(column_schema(e));
  }
  m.meta.num_rows = m.raw.num_rows;
  m.meta.version = m.raw.version;
  m.meta.created_by = m.raw.__isset.created_by ? m.raw.created_by : "";
  for (const auto& kv : m.raw.key_value_metadata) m.meta.key_value.emplace_back(kv.key, kv.value);
  int64_t total_rows = 0;
  for (const auto& rg : m.raw.row_groups) {
    if (rg.columns.size() != leaves) {
      throw Error::DataLoss(fmt::format("{}: a row group has {} columns, the schema {}", m.name, rg.columns.size(), leaves));
    }
    if (rg.num_rows < 0) throw Error::DataLoss(fmt::format("{}: a row group claims {} rows", m.name, rg.num_rows));
    if (__builtin_add_overflow(total_rows, rg.num_rows, &total_rows)) {
      throw Error::DataLoss(fmt::format("{}: the row groups' row counts add up to more than 2^63", m.name));
    }
    RowGroupInfo info;
    info.num_rows = rg.num_rows;
    info.total_byte_size = rg.total_byte_size;
    for (size_t c = 0; c < rg.columns.size(); ++c) {
      const auto& chunk = rg.columns[c];
      ColumnChunkInfo ci;
      ci.path = m.meta.schema.columns[c].name;
      ci.physical = m.meta.schema.columns[c].physical;
      if (chunk.__isset.meta_data) {
        const auto& cm = chunk.meta_data;
        // An unsupported codec (LZO) is reported when the chunk is read, not here.
        ci.compression = cm.codec == tf::CompressionCodec::LZO || cm.codec < 0 || cm.codec > tf::CompressionCodec::LZ4_RAW
                             ? Compression::kUncompressed
                             : from_thrift(cm.codec);
        for (auto e : cm.encodings) ci.encodings.push_back(encoding_name(e));
        ci.num_values = cm.num_values;
        ci.total_compressed_size = cm.total_compressed_size;
        ci.total_uncompressed_size = cm.total_uncompressed_size;
        ci.data_page_offset = cm.data_page_offset;
        if (cm.__isset.dictionary_page_offset) ci.dictionary_page_offset = cm.dictionary_page_offset;
        ci.statistics = statistics_of(cm, ci.physical);
      }
      info.columns.push_back(std::move(ci));
    }
    m.meta.row_groups.push_back(std::move(info));
  }
  if (m.raw.num_rows < 0) throw Error::DataLoss(fmt::format("{}: the footer claims {} rows", m.name, m.raw.num_rows));
  if (total_rows != m.raw.num_rows) {
    throw Error::DataLoss(fmt::format("{}: row groups hold {} rows, the footer says {}", m.name, total_rows, m.raw.num_rows));
  }
}

Reader Reader::open(const std::filesystem::path& path) { return Reader(open_file_source(path), path.string()); }
Reader::~Reader() = default;
Reader::Reader(Reader&&) noexcept = default;
Reader& Reader::operator=(Reader&&) noexcept = default;

const FileMetadata& Reader::metadata() const { return impl_->meta; }
int Reader::num_row_groups() const { return static_cast<int>(impl_->meta.row_groups.size()); }

void Reader::read_column(int row_group, int column, ColumnVector& out) const {
  if (column < 0 || column >= static_cast<int>(impl_->meta.schema.columns.size())) {
    throw Error::InvalidInput(fmt::format("{}: column {} does not exist", impl_->name, column));
  }
  impl_->read_column(row_group, column, out);
}

ColumnVector Reader::read_column(int row_group, int column) const {
  ColumnVector out;
  read_column(row_group, column, out);
  return out;
}

void Reader::read_row_group(int row_group, const std::vector<int>& columns, std::vector<ColumnVector>& out,
                            int threads) const {
  if (threads < 1) throw Error::InvalidInput("read_row_group threads must be at least 1");
  out.resize(columns.size());
  // Each thread decodes whole columns with its own (thread_local) cursor.
  TaskPool pool(static_cast<int>(std::min<size_t>(static_cast<size_t>(threads), columns.size())));
  pool.run(columns.size(), [&](size_t i) { read_column(row_group, columns[i], out[i]); });
}

std::vector<ColumnVector> Reader::read_row_group(int row_group, const std::vector<int>& columns, int threads) const {
  std::vector<ColumnVector> out;
  read_row_group(row_group, columns, out, threads);
  return out;
}

std::vector<int> Reader::row_groups_in_range(int column, int64_t min_value, int64_t max_value) const {
  std::vector<int> out;
  for (int rg = 0; rg < num_row_groups(); ++rg) {
    const auto& info = impl_->meta.row_groups[static_cast<size_t>(rg)];
    bool keep = true;
    if (column >= 0 && static_cast<size_t>(column) < info.columns.size()) {
      const auto& st = info.columns[static_cast<size_t>(column)].statistics;
      int64_t lo = 0, hi = 0;
      bool has = false;
      if (std::holds_alternative<int64_t>(st.min) && std::holds_alternative<int64_t>(st.max)) {
        lo = std::get<int64_t>(st.min);
        hi = std::get<int64_t>(st.max);
        has = true;
      } else if (std::holds_alternative<int32_t>(st.min) && std::holds_alternative<int32_t>(st.max)) {
        lo = std::get<int32_t>(st.min);
        hi = std::get<int32_t>(st.max);
        has = true;
      }
      if (has && (hi < min_value || lo > max_value)) keep = false;
    }
    if (keep) out.push_back(rg);
  }
  return out;
}

// ---- BatchReader ---------------------------------------------------------------------------

namespace {

// Decodes the next min(rows, batch_rows) rows of every cursor into `out`; returns the count.
size_t decode_batch(const OpenFile& file, const std::vector<int>& columns, std::vector<ChunkCursor>& cursors,
                    int64_t rows, size_t batch_rows, std::vector<ColumnVector>& out) {
  const size_t n = static_cast<size_t>(std::min<int64_t>(rows, static_cast<int64_t>(batch_rows)));
  out.resize(columns.size());
  for (size_t i = 0; i < columns.size(); ++i) {
    prepare_output(out[i], file.meta.schema.columns[static_cast<size_t>(columns[i])].physical, n);
    cursors[i].read(n, out[i]);
    out[i].num_rows = n;
  }
  return n;
}

// The parallel scan of a BatchReader with threads > 1. The work is cut into column chunks (one
// column of one row group). next() walks the row groups in the BatchReader's order; when it
// starts one, it takes every chunk of it that no worker has claimed and decodes those batch by
// batch straight into the caller's vectors, as threads = 1 does. Meanwhile threads - 1 workers
// claim chunks of the row groups after it, in order, and decode each into a queue of batch-sized
// pieces; next() hands those out in place (the caller's old vectors go back for reuse). When
// next() finds a worker's chunk of its row group has no piece ready, the worker hands it the rest
// of that chunk (the cursor, between two pieces) and moves on, rather than next() waiting for
// it piece by piece. So the threads share the work chunk by chunk, whatever the mix of row
// group and column sizes, and
// batches come out in the order and with the contents of the single-threaded scan. Errors too:
// next() opens a row group's chunks, then decodes each batch's columns, in column order, and
// meets a worker's error where the single-threaded scan would have thrown it.
// Memory: workers run at most 2 x workers row groups ahead, and once a chunk's queue holds
// kMinQueue pieces, chunks of later row groups stop at kLookaheadValues queued values.
class ParallelScan {
 public:
  ParallelScan(const OpenFile& file, const std::vector<int>& columns, const std::vector<int>& groups,
               size_t batch_rows, int threads)
      : file_(file), columns_(columns), groups_(groups), batch_rows_(batch_rows),
        units_(groups.size() * columns.size()), free_(columns.size()) {
    for (int c : columns_) types_.push_back(file_.meta.schema.columns[static_cast<size_t>(c)].physical);
    for (size_t c = 0; c < columns_.size(); ++c) own_cursors_.push_back(std::make_unique<ChunkCursor>());
    unclaimed_ = units_.size();
    const size_t workers = static_cast<size_t>(std::max(1, threads) - 1);
    ahead_ = 2 * std::max<size_t>(1, workers);
    for (size_t i = 0; i < workers; ++i) threads_.emplace_back([this] { work(); });  // last: they read the above
  }

  ~ParallelScan() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
  }

  // The next batch into `out`; false at the end. Throws what the single-threaded scan throws,
  // after the same batches.
  bool next(std::vector<ColumnVector>& out, int& group) {
    std::unique_lock lock(mu_);
    try {
      for (;;) {
        if (current_ >= groups_.size()) return false;
        if (!started_) {
          start_group(lock);
          continue;
        }
        if (group_left_ == 0) {
          ++current_;
          started_ = false;
          cv_.notify_all();
          continue;
        }
        const size_t n = static_cast<size_t>(std::min<int64_t>(group_left_, static_cast<int64_t>(batch_rows_)));
        out.resize(columns_.size());
        for (size_t c = 0; c < columns_.size(); ++c) {
          Unit& u = unit(current_, c);
          while (u.owner == Owner::kWorker && u.pieces.empty()) {
            if (u.handed) {  // the rest of the chunk is ours now
              own_cursors_[c] = std::move(u.handed);
              u.owner = Owner::kCaller;
              break;
            }
            if (u.done) {
              std::rethrow_exception(u.error ? u.error
                                             : std::make_exception_ptr(Error::Internal("a worker's column chunk ended early")));
            }
            u.wanted = true;
            cv_.wait(lock);
          }
          if (u.owner == Owner::kCaller) {
            lock.unlock();
            prepare_output(out[c], types_[c], n);
            own_cursors_[c]->read(n, out[c]);
            out[c].num_rows = n;
            lock.lock();
            continue;
          }
          free_[c].push_back(std::move(out[c]));
          out[c] = std::move(u.pieces.front());
          u.pieces.pop_front();
          queued_values_ -= n;
          cv_.notify_all();
        }
        group_left_ -= static_cast<int64_t>(n);
        group = groups_[current_];
        return true;
      }
    } catch (...) {
      if (!lock.owns_lock()) lock.lock();
      stop_ = true;
      lock.unlock();
      cv_.notify_all();
      throw;
    }
  }

 private:
  enum class Owner { kNone, kCaller, kWorker };
  struct Unit {
    Owner owner = Owner::kNone;
    bool opened = false, done = false;
    std::exception_ptr error;
    std::deque<ColumnVector> pieces;
    // next() ran out of this worker's pieces: the worker hands the rest of the chunk over (its
    // cursor, between two pieces) instead of next() waiting for each piece.
    bool wanted = false;
    std::unique_ptr<ChunkCursor> handed;
  };
  static constexpr size_t kLookaheadValues = size_t{1} << 24;
  static constexpr size_t kMinQueue = 4;

  Unit& unit(size_t slot, size_t column) { return units_[slot * columns_.size() + column]; }

  // Under mu_ (released while opening): takes the current row group's unclaimed chunks and
  // opens every chunk in column order (a worker's: waits for it to open), as threads = 1 does.
  void start_group(std::unique_lock<std::mutex>& lock) {
    for (size_t c = 0; c < columns_.size(); ++c) {
      Unit& u = unit(current_, c);
      if (u.owner == Owner::kNone) {
        u.owner = Owner::kCaller;
        --unclaimed_;
      }
    }
    for (size_t c = 0; c < columns_.size(); ++c) {
      Unit& u = unit(current_, c);
      if (u.owner == Owner::kCaller) {
        lock.unlock();
        own_cursors_[c]->open(file_, groups_[current_], columns_[c]);
        lock.lock();
      } else {
        cv_.wait(lock, [&] { return u.opened || u.done; });
        if (!u.opened) std::rethrow_exception(u.error);
      }
    }
    group_left_ = file_.raw.row_groups[static_cast<size_t>(groups_[current_])].num_rows;
    started_ = true;
  }

  // Under mu_: the index of the chunk a worker may claim now, or SIZE_MAX. Workers take the row
  // groups furthest ahead first: the nearer ones are more likely to be left for next(), which
  // decodes straight into the caller's vectors and would otherwise wait for a worker's chunk.
  size_t claimable() const {
    if (unclaimed_ == 0 || stop_claims_) return SIZE_MAX;
    const size_t last = std::min(groups_.size(), current_ + 1 + ahead_);
    for (size_t g = last; g > current_ + 1; --g) {
      for (size_t c = 0; c < columns_.size(); ++c) {
        const size_t i = (g - 1) * columns_.size() + c;
        if (units_[i].owner == Owner::kNone) return i;
      }
    }
    return SIZE_MAX;
  }

  void work() {
    // On the heap, so that a chunk half decoded can be handed to next() as it is (a cursor
    // points into its own buffers).
    auto cursor = std::make_unique<ChunkCursor>();
    for (;;) {
      size_t i;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return stop_ || stop_claims_ || unclaimed_ == 0 || claimable() != SIZE_MAX; });
        if (stop_ || stop_claims_ || unclaimed_ == 0) return;
        i = claimable();
        units_[i].owner = Owner::kWorker;
        --unclaimed_;
      }
      const size_t slot = i / columns_.size(), c = i % columns_.size();
      Unit& u = units_[i];
      try {
        cursor->open(file_, groups_[slot], columns_[c]);
        {
          std::lock_guard lock(mu_);
          u.opened = true;
        }
        cv_.notify_all();
        int64_t left = cursor->rows_left();
        bool handed = false;
        while (left > 0) {
          ColumnVector piece;
          {
            std::lock_guard lock(mu_);
            if (stop_) return;
            if (u.wanted) {
              u.handed = std::move(cursor);
              cursor = std::make_unique<ChunkCursor>();
              handed = true;
              break;
            }
            if (!free_[c].empty()) {
              piece = std::move(free_[c].back());
              free_[c].pop_back();
            }
          }
          const size_t n = static_cast<size_t>(std::min<int64_t>(left, static_cast<int64_t>(batch_rows_)));
          prepare_output(piece, types_[c], n);
          cursor->read(n, piece);
          piece.num_rows = n;
          left -= static_cast<int64_t>(n);
          std::unique_lock lock(mu_);
          cv_.wait(lock, [&] {
            return stop_ || u.pieces.size() < kMinQueue || (slot != current_ && queued_values_ < kLookaheadValues);
          });
          if (stop_) return;
          u.pieces.push_back(std::move(piece));
          queued_values_ += n;
          lock.unlock();
          cv_.notify_all();
        }
        if (handed) {
          cv_.notify_all();
          continue;
        }
        std::lock_guard lock(mu_);
        u.done = true;
      } catch (...) {
        std::lock_guard lock(mu_);
        u.error = std::current_exception();
        u.done = true;
        // The scan stops at this error at the latest: nothing after it is needed.
        stop_claims_ = true;
      }
      cv_.notify_all();
    }
  }

  const OpenFile& file_;
  const std::vector<int>& columns_;
  const std::vector<int>& groups_;
  const size_t batch_rows_;
  std::vector<PhysicalType> types_;  // of columns_
  size_t ahead_ = 2;                 // row groups past the current one that workers may start
  std::vector<std::thread> threads_;
  std::mutex mu_;
  std::condition_variable cv_;       // any change below; few enough that one condition serves all
  std::vector<Unit> units_;          // groups_.size() x columns_.size(), row group major
  std::vector<std::vector<ColumnVector>> free_;  // per column: pieces handed back, for reuse
  size_t current_ = 0;               // the slot of groups_ next() is on
  bool started_ = false;             // next() has opened the current row group's chunks
  int64_t group_left_ = 0;           // rows of it not handed out yet
  size_t unclaimed_ = 0;
  bool stop_claims_ = false;
  size_t queued_values_ = 0;
  bool stop_ = false;
  std::vector<std::unique_ptr<ChunkCursor>> own_cursors_;  // next()'s chunks of the current row group
};

}  // namespace

struct BatchReader::Impl {
  const OpenFile* file = nullptr;
  std::vector<int> columns;
  std::vector<int> groups;
  size_t batch_rows = 0;
  size_t next_group = 0;
  int current_group = -1;
  std::vector<ChunkCursor> cursors;
  int64_t group_left = 0;
  int threads = 1;
  std::unique_ptr<ParallelScan> parallel;  // threads > 1, from the first next()
  bool failed = false;
};

BatchReader::BatchReader(const Reader& reader, std::vector<int> columns, size_t batch_rows, int threads)
    : BatchReader(reader, std::move(columns), [&] {
        std::vector<int> all(static_cast<size_t>(reader.num_row_groups()));
        for (size_t i = 0; i < all.size(); ++i) all[i] = static_cast<int>(i);
        return all;
      }(), batch_rows, threads) {}

BatchReader::BatchReader(const Reader& reader, std::vector<int> columns, std::vector<int> row_groups, size_t batch_rows,
                         int threads)
    : impl_(std::make_unique<Impl>()) {
  const OpenFile& file = *reader.impl_;
  if (columns.empty()) throw Error::InvalidInput(fmt::format("{}: choose at least one column to read", file.name));
  if (batch_rows == 0) throw Error::InvalidInput("batch_rows must be at least 1");
  if (threads < 1) throw Error::InvalidInput("BatchReader threads must be at least 1");
  const int ncols = static_cast<int>(file.meta.schema.columns.size());
  for (int c : columns) {
    if (c < 0 || c >= ncols) throw Error::InvalidInput(fmt::format("{}: column {} does not exist ({} columns)", file.name, c, ncols));
  }
  const int ngroups = static_cast<int>(file.raw.row_groups.size());
  for (int g : row_groups) {
    if (g < 0 || g >= ngroups) {
      throw Error::InvalidInput(fmt::format("{}: row group {} does not exist ({} row groups)", file.name, g, ngroups));
    }
  }
  impl_->file = &file;
  impl_->columns = std::move(columns);
  impl_->groups = std::move(row_groups);
  impl_->batch_rows = batch_rows;
  // One row group is decoded by one thread, so more threads than row groups would idle.
  impl_->threads = static_cast<int>(std::min<size_t>(static_cast<size_t>(threads), impl_->groups.size()));
  if (impl_->threads <= 1) impl_->cursors.resize(impl_->columns.size());
}

BatchReader::~BatchReader() = default;
BatchReader::BatchReader(BatchReader&&) noexcept = default;
BatchReader& BatchReader::operator=(BatchReader&&) noexcept = default;

bool BatchReader::next(std::vector<ColumnVector>& out) {
  Impl& m = *impl_;
  if (m.threads > 1) {
    if (m.failed) return false;
    if (!m.parallel) m.parallel = std::make_unique<ParallelScan>(*m.file, m.columns, m.groups, m.batch_rows, m.threads);
    try {
      return m.parallel->next(out, m.current_group);
    } catch (...) {
      m.failed = true;
      m.parallel.reset();
      throw;
    }
  }
  while (m.group_left == 0) {
    if (m.next_group >= m.groups.size()) return false;
    m.current_group = m.groups[m.next_group++];
    for (size_t i = 0; i < m.columns.size(); ++i) m.cursors[i].open(*m.file, m.current_group, m.columns[i]);
    m.group_left = m.cursors[0].rows_left();
  }
  m.group_left -= static_cast<int64_t>(decode_batch(*m.file, m.columns, m.cursors, m.group_left, m.batch_rows, out));
  return true;
}

int BatchReader::row_group() const { return impl_->current_group; }

}  // namespace trib::parquet

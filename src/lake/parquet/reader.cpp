// The Parquet reader. The footer is parsed once; a column chunk is read as one bounded range and
// decoded page by page. Every length, offset and count from the file is checked against the
// bytes actually there before anything is allocated, so a hostile file fails with
// Error::DataLoss instead of crashing or exhausting memory.
#include <algorithm>
#include <cstring>
#include <type_traits>

#include <fmt/format.h>

#include "parquet_internal.hpp"
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
// Fixed-width columns are decoded straight into their output vector, which is sized to the row
// group once; byte arrays are appended. Scratch buffers live per thread and are reused from one
// column chunk to the next, so a scan allocates (and page-faults) once, not once per chunk.

struct Scratch {
  std::string chunk;             // compressed column chunk
  std::string page;              // one decompressed page
  std::vector<uint32_t> idx;     // dictionary indexes / RLE values of one page
  std::vector<uint8_t> defined;  // definition levels of one page
  std::vector<int64_t> deltas, deltas2;
  ColumnVector values;           // dense non-null values of a page with nulls
  ColumnVector dictionary;

  // Grows a byte buffer to at least n without zero-filling on every reuse.
  static char* room(std::string& buffer, size_t n) {
    if (buffer.size() < n) buffer.resize(n);
    return buffer.data();
  }
  // A scan of a file with one huge chunk must not pin that memory for the thread's lifetime.
  void trim() {
    constexpr size_t kKeep = size_t{64} << 20;
    if (chunk.capacity() > kKeep) std::string().swap(chunk);
    if (page.capacity() > kKeep) std::string().swap(page);
    if (idx.capacity() * 4 > kKeep) std::vector<uint32_t>().swap(idx);
    if (values.data.capacity() > kKeep || values.f64.capacity() * 8 > kKeep || values.i64.capacity() * 8 > kKeep) {
      values = ColumnVector{};
    }
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
  return width >= 64 ? word : word & ((uint64_t{1} << width) - 1);
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
  const ColumnSchema* schema;
  int width;  // fixed width in bytes, 0 for byte arrays and booleans
  std::string name;
};

// Dictionary indexes of one page, checked against the dictionary's size.
const uint32_t* decode_indexes(ByteReader& r, size_t n, size_t dict_size, const ChunkContext& ctx) {
  const int width = r.read<uint8_t>("dictionary index bit width");
  if (width > 32) throw Error::DataLoss("dictionary index bit width is over 32");
  auto& idx = scratch().idx;
  if (idx.size() < n) idx.resize(n);
  RleDecoder(r.pos, r.remaining(), width).decode(idx.data(), n);
  r.pos = r.end;
  uint32_t largest = 0;
  for (size_t k = 0; k < n; ++k) largest = std::max(largest, idx[k]);  // vectorises
  if (n > 0 && largest >= dict_size) {
    throw Error::DataLoss(fmt::format("column '{}': dictionary index {} out of range ({})", ctx.name, largest, dict_size));
  }
  return idx.data();
}

int64_t int96_to_nanos(const uint8_t* src) {
  int64_t nanos;
  int32_t julian;
  std::memcpy(&nanos, src, 8);
  std::memcpy(&julian, src + 8, 4);
  return (static_cast<int64_t>(julian) - 2440588) * 86400LL * 1'000'000'000LL + nanos;
}

// Decodes `n` non-null values of a fixed-width column from `r` into dst[0, n).
template <typename T>
void decode_fixed(ByteReader& r, tf::Encoding::type encoding, size_t n, const ChunkContext& ctx,
                  const ColumnVector* dictionary, T* dst) {
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
          for (size_t i = 0; i < n; ++i) dst[i] = int96_to_nanos(r.pos + 12 * i);
          r.pos += bytes;
          return;
        }
      }
      if (n > 0) std::memcpy(dst, r.pos, bytes);
      r.pos += bytes;
      return;
    }
    case tf::Encoding::PLAIN_DICTIONARY:
    case tf::Encoding::RLE_DICTIONARY: {
      if (dictionary == nullptr) throw Error::DataLoss(fmt::format("column '{}': dictionary-encoded page without a dictionary", ctx.name));
      if (n == 0) return;
      const T* dict = storage<T>(const_cast<ColumnVector&>(*dictionary)).data();  // read only
      const uint32_t* idx = decode_indexes(r, n, dictionary->num_rows, ctx);
      for (size_t k = 0; k < n; ++k) dst[k] = dict[idx[k]];
      return;
    }
    case tf::Encoding::RLE: {
      if (t != PhysicalType::kBoolean) throw Error::DataLoss("RLE value encoding is only valid for booleans");
      uint32_t len = r.read<uint32_t>("RLE boolean length");
      r.need(len, "RLE booleans");
      auto& bits = scratch().idx;
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

// Appends `n` non-null byte-array values decoded from `r` to dst.offsets / dst.data.
void decode_bytes(ByteReader& r, tf::Encoding::type encoding, size_t n, const ChunkContext& ctx,
                  const ColumnVector* dictionary, ColumnVector& dst) {
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
    case tf::Encoding::PLAIN_DICTIONARY:
    case tf::Encoding::RLE_DICTIONARY: {
      if (dictionary == nullptr) throw Error::DataLoss(fmt::format("column '{}': dictionary-encoded page without a dictionary", ctx.name));
      if (n == 0) return;
      const uint32_t* idx = decode_indexes(r, n, dictionary->num_rows, ctx);
      // Size the output once, then copy each value: no per-value growth.
      const uint64_t* doff = dictionary->offsets.data();
      uint64_t total = 0;
      for (size_t k = 0; k < n; ++k) total += doff[idx[k] + 1] - doff[idx[k]];
      const size_t base = dst.data.size();
      dst.data.resize(base + total);
      char* out = dst.data.data() + base;
      const char* src = dictionary->data.data();
      uint64_t at = base;
      const size_t obase = dst.offsets.size();
      dst.offsets.resize(obase + n);
      uint64_t* offsets = dst.offsets.data() + obase;
      for (size_t k = 0; k < n; ++k) {
        const uint64_t from = doff[idx[k]], len = doff[idx[k] + 1] - from;
        std::memcpy(out, src + from, len);
        out += len;
        at += len;
        offsets[k] = at;
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
// fixed-width vector is sized to `rows` (a no-op when `out` is reused for equal row groups).
void prepare_output(ColumnVector& out, PhysicalType t, size_t rows) {
  const bool bytes = is_byte_array(t);
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
  if (bytes) {
    out.offsets.reserve(rows + 1);
    out.offsets.push_back(0);
  }
  out.type = t;
  out.num_rows = 0;
}

}  // namespace

struct Reader::Impl {
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

  void read_column(int row_group, int column, ColumnVector& out) const {
    const ColumnSchema& schema = meta.schema.columns[static_cast<size_t>(column)];
    const tf::ColumnMetaData& cm = chunk_meta(row_group, column);
    const int64_t rows = raw.row_groups[static_cast<size_t>(row_group)].num_rows;
    const std::string where = fmt::format("{}: column '{}' row group {}", name, schema.name, row_group);
    if (from_thrift(cm.type) != schema.physical) throw Error::DataLoss(where + ": chunk type differs from the schema");
    if (rows < 0 || cm.num_values != rows) {
      throw Error::DataLoss(fmt::format("{}: {} values for {} rows", where, cm.num_values, rows));
    }
    int64_t start = cm.data_page_offset;
    if (cm.__isset.dictionary_page_offset && cm.dictionary_page_offset > 0 && cm.dictionary_page_offset < start) {
      start = cm.dictionary_page_offset;
    }
    const uint64_t file_size = source->size();
    if (start < 4 || cm.total_compressed_size <= 0 || static_cast<uint64_t>(start) >= file_size ||
        static_cast<uint64_t>(cm.total_compressed_size) > file_size - static_cast<uint64_t>(start)) {
      throw Error::DataLoss(fmt::format("{}: chunk range {}+{} is outside the file ({} bytes)", where, start,
                                        cm.total_compressed_size, file_size));
    }
    Scratch& s = scratch();
    const size_t chunk_size = static_cast<size_t>(cm.total_compressed_size);
    const char* chunk = Scratch::room(s.chunk, chunk_size);
    source->read_at(static_cast<uint64_t>(start), chunk_size, s.chunk.data());
    const Compression codec = from_thrift(cm.codec);

    ChunkContext ctx{&schema, fixed_width(schema.physical, schema.type_length), schema.name};
    if (schema.physical == PhysicalType::kFixedLenByteArray && ctx.width <= 0) {
      throw Error::DataLoss(where + ": FIXED_LEN_BYTE_ARRAY without a type length");
    }
    const PhysicalType t = schema.physical;
    const bool bytes = is_byte_array(t);
    prepare_output(out, t, static_cast<size_t>(rows));
    bool have_dictionary = false;
    bool any_null = false;
    size_t pos = 0;
    int64_t done = 0;
    while (done < rows) {
      if (pos >= chunk_size) throw Error::DataLoss(fmt::format("{}: pages end after {} of {} values", where, done, rows));
      tf::PageHeader header;
      pos += deserialize(reinterpret_cast<const uint8_t*>(chunk) + pos, chunk_size - pos, header, "page header");
      if (header.compressed_page_size < 0 || header.uncompressed_page_size < 0 ||
          static_cast<size_t>(header.compressed_page_size) > chunk_size - pos ||
          header.uncompressed_page_size > kMaxPageBytes) {
        throw Error::DataLoss(fmt::format("{}: page sizes {} / {} do not fit the chunk", where,
                                          header.compressed_page_size, header.uncompressed_page_size));
      }
      std::string_view body(chunk + pos, static_cast<size_t>(header.compressed_page_size));
      pos += static_cast<size_t>(header.compressed_page_size);
      const size_t uncompressed = static_cast<size_t>(header.uncompressed_page_size);

      if (header.type == tf::PageType::DICTIONARY_PAGE) {
        if (!header.__isset.dictionary_page_header) throw Error::DataLoss(where + ": dictionary page without its header");
        const auto& dh = header.dictionary_page_header;
        if (dh.num_values < 0) throw Error::DataLoss(where + ": negative dictionary size");
        check_page_size(codec, body, uncompressed);
        decompress(codec, body, Scratch::room(s.page, uncompressed), uncompressed);
        const auto* p = reinterpret_cast<const uint8_t*>(s.page.data());
        ByteReader r{p, p + uncompressed};
        const size_t count = static_cast<size_t>(dh.num_values);
        // Every dictionary entry takes at least one byte (or bit, for booleans): bound the count
        // by the page before allocating for it.
        if ((ctx.width > 0 && static_cast<uint64_t>(count) * static_cast<uint64_t>(ctx.width) > uncompressed) ||
            (ctx.width == 0 && count / 8 > uncompressed)) {
          throw Error::DataLoss(where + ": dictionary holds fewer values than its header says");
        }
        ColumnVector& dict = s.dictionary;
        if (bytes) {
          prepare_output(dict, t, 0);
          decode_bytes(r, tf::Encoding::PLAIN, count, ctx, nullptr, dict);
        } else {
          prepare_output(dict, t, count);
          with_fixed_type(t, [&](auto tag) {
            using T = decltype(tag);
            decode_fixed<T>(r, tf::Encoding::PLAIN, count, ctx, nullptr, storage<T>(dict).data());
          });
        }
        dict.num_rows = count;
        have_dictionary = true;
        continue;
      }
      if (header.type != tf::PageType::DATA_PAGE && header.type != tf::PageType::DATA_PAGE_V2) continue;

      int64_t page_values = 0;
      tf::Encoding::type encoding;
      std::string_view def_bytes;  // v2: the definition levels, stored uncompressed
      std::string_view values_body = body;
      size_t values_size = uncompressed;
      bool values_compressed = true;
      if (header.type == tf::PageType::DATA_PAGE) {
        if (!header.__isset.data_page_header) throw Error::DataLoss(where + ": data page without its header");
        page_values = header.data_page_header.num_values;
        encoding = header.data_page_header.encoding;
      } else {
        if (!header.__isset.data_page_header_v2) throw Error::DataLoss(where + ": v2 data page without its header");
        const auto& h2 = header.data_page_header_v2;
        page_values = h2.num_values;
        encoding = h2.encoding;
        if (h2.repetition_levels_byte_length != 0) throw Error::InvalidInput(where + ": repeated (nested) columns are not supported");
        if (h2.definition_levels_byte_length < 0 ||
            static_cast<size_t>(h2.definition_levels_byte_length) > body.size() ||
            h2.definition_levels_byte_length > header.uncompressed_page_size) {
          throw Error::DataLoss(where + ": v2 level lengths do not fit the page");
        }
        const size_t levels_len = static_cast<size_t>(h2.definition_levels_byte_length);
        def_bytes = body.substr(0, levels_len);
        values_body = body.substr(levels_len);
        values_size = uncompressed - levels_len;
        values_compressed = !h2.__isset.is_compressed || h2.is_compressed;
      }
      if (page_values < 0 || page_values > rows - done) {
        throw Error::DataLoss(fmt::format("{}: page claims {} values, {} remain", where, page_values, rows - done));
      }
      const size_t n = static_cast<size_t>(page_values);
      const size_t row0 = static_cast<size_t>(done);
      const Compression page_codec = values_compressed ? codec : Compression::kUncompressed;

      // A PLAIN page of a required fixed-width column is nothing but the values: decompress it
      // straight into the output.
      if (!schema.optional && !bytes && encoding == tf::Encoding::PLAIN && t != PhysicalType::kBoolean &&
          t != PhysicalType::kInt96 && ctx.width > 0 && values_size == n * static_cast<size_t>(ctx.width)) {
        with_fixed_type(t, [&](auto tag) {
          using T = decltype(tag);
          decompress(page_codec, values_body, reinterpret_cast<char*>(storage<T>(out).data() + row0), values_size);
        });
        done += page_values;
        continue;
      }

      check_page_size(page_codec, values_body, values_size);
      decompress(page_codec, values_body, Scratch::room(s.page, values_size), values_size);
      const auto* p = reinterpret_cast<const uint8_t*>(s.page.data());
      ByteReader r{p, p + values_size};
      size_t non_null = n;
      if (schema.optional) {
        const uint8_t* lp;
        size_t ll;
        if (header.type == tf::PageType::DATA_PAGE) {
          const uint32_t len = r.read<uint32_t>("definition levels length");
          r.need(len, "definition levels");
          lp = r.pos;
          ll = len;
          r.pos += len;
        } else {
          lp = reinterpret_cast<const uint8_t*>(def_bytes.data());
          ll = def_bytes.size();
        }
        auto& levels = s.idx;
        if (levels.size() < n) levels.resize(n);
        RleDecoder(lp, ll, 1).decode(levels.data(), n);
        if (s.defined.size() < n) s.defined.resize(n);
        non_null = 0;
        for (size_t i = 0; i < n; ++i) {
          if (levels[i] > 1) throw Error::DataLoss(where + ": definition level above 1");
          s.defined[i] = static_cast<uint8_t>(levels[i]);
          non_null += levels[i];
        }
      }
      const ColumnVector* dictionary = have_dictionary ? &s.dictionary : nullptr;
      if (non_null != n && !any_null) {
        // First null of the chunk: every row so far was defined.
        out.defined.assign(static_cast<size_t>(rows), 1);
        any_null = true;
      }
      if (non_null == n) {
        if (bytes) {
          decode_bytes(r, encoding, n, ctx, dictionary, out);
        } else {
          with_fixed_type(t, [&](auto tag) {
            using T = decltype(tag);
            decode_fixed<T>(r, encoding, n, ctx, dictionary, storage<T>(out).data() + row0);
          });
        }
      } else {
        std::copy(s.defined.begin(), s.defined.begin() + static_cast<std::ptrdiff_t>(n),
                  out.defined.begin() + static_cast<std::ptrdiff_t>(row0));
        const uint8_t* defined = s.defined.data();
        ColumnVector& values = s.values;
        if (bytes) {
          prepare_output(values, t, 0);
          decode_bytes(r, encoding, non_null, ctx, dictionary, values);
          size_t v = 0;
          for (size_t i = 0; i < n; ++i) {
            if (defined[i] != 0) {
              out.append_string(values.str(v));
              ++v;
            } else {
              out.offsets.push_back(out.data.size());
            }
          }
        } else {
          with_fixed_type(t, [&](auto tag) {
            using T = decltype(tag);
            auto& dense = storage<T>(values);
            if (dense.size() < non_null) dense.resize(non_null);
            decode_fixed<T>(r, encoding, non_null, ctx, dictionary, dense.data());
            T* dst = storage<T>(out).data() + row0;
            size_t v = 0;
            for (size_t i = 0; i < n; ++i) {
              dst[i] = defined[i] != 0 ? dense[v] : T{};
              v += defined[i];
            }
          });
        }
      }
      done += page_values;
    }
    out.num_rows = static_cast<size_t>(rows);
    if (bytes && out.offsets.size() != static_cast<size_t>(rows) + 1) {
      throw Error::Internal(where + ": decoded offsets do not match the row count");
    }
    s.trim();
  }
};

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
    if (rg.num_rows < 0) throw Error::DataLoss(m.name + ": negative row count");
    total_rows += rg.num_rows;
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
        ci.compression = cm.codec == tf::CompressionCodec::UNCOMPRESSED || cm.codec == tf::CompressionCodec::SNAPPY ||
                                 cm.codec == tf::CompressionCodec::GZIP || cm.codec == tf::CompressionCodec::ZSTD
                             ? from_thrift(cm.codec)
                             : Compression::kUncompressed;
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

void Reader::read_row_group(int row_group, const std::vector<int>& columns, std::vector<ColumnVector>& out) const {
  out.resize(columns.size());
  for (size_t i = 0; i < columns.size(); ++i) read_column(row_group, columns[i], out[i]);
}

std::vector<ColumnVector> Reader::read_row_group(int row_group, const std::vector<int>& columns) const {
  std::vector<ColumnVector> out;
  read_row_group(row_group, columns, out);
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

}  // namespace trib::parquet

// The Parquet reader. The footer is parsed once; a column chunk is read as one bounded range and
// decoded page by page. Every length, offset and count from the file is checked against the
// bytes actually there before anything is allocated, so a hostile file fails with
// Error::DataLoss instead of crashing or exhausting memory.
#include <algorithm>
#include <cstring>

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

// Decodes DELTA_BINARY_PACKED values into out (int64; callers narrow for INT32).
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
  out.clear();
  out.reserve(count);
  if (count == 0) return;
  out.push_back(value);
  std::vector<uint8_t> widths(miniblocks);
  while (out.size() < count) {
    const int64_t min_delta = r.zigzag_varint("DELTA_BINARY_PACKED min delta");
    r.need(miniblocks, "DELTA_BINARY_PACKED bit widths");
    std::memcpy(widths.data(), r.pos, miniblocks);
    r.pos += miniblocks;
    for (uint64_t m = 0; m < miniblocks && out.size() < count; ++m) {
      const int width = widths[m];
      if (width > 64) throw Error::DataLoss("DELTA_BINARY_PACKED bit width is over 64");
      const size_t bytes = static_cast<size_t>(per_miniblock * static_cast<uint64_t>(width) / 8);
      r.need(bytes, "DELTA_BINARY_PACKED miniblock");
      const uint8_t* data = r.pos;
      uint64_t bit = 0;
      for (uint64_t k = 0; k < per_miniblock && out.size() < count; ++k) {
        uint64_t delta = 0;
        if (width > 0) {
          for (int b = 0; b < width;) {
            const uint64_t byte = (bit + static_cast<uint64_t>(b)) >> 3;
            const int shift = static_cast<int>((bit + static_cast<uint64_t>(b)) & 7);
            const int take = std::min(8 - shift, width - b);
            delta |= static_cast<uint64_t>((data[byte] >> shift) & ((1u << take) - 1)) << b;
            b += take;
          }
        }
        bit += static_cast<uint64_t>(width);
        value = static_cast<int64_t>(static_cast<uint64_t>(value) + static_cast<uint64_t>(min_delta) + delta);
        out.push_back(value);
      }
      r.pos += bytes;
    }
  }
}

struct ChunkContext {
  const ColumnSchema* schema;
  int width;  // fixed width in bytes, 0 for byte arrays and booleans
  std::string name;
};

// Appends `n` values decoded from `r` with `encoding` to `dst` (non-null values only).
void decode_values(ByteReader& r, tf::Encoding::type encoding, size_t n, const ChunkContext& ctx,
                   const ColumnVector* dictionary, ColumnVector& dst) {
  const PhysicalType t = ctx.schema->physical;
  auto append_fixed_bytes = [&](const uint8_t* src, size_t count) {
    if (count == 0) return;  // memcpy from/to a null pointer is undefined even for 0 bytes
    switch (t) {
      case PhysicalType::kInt32: { size_t o = dst.i32.size(); dst.i32.resize(o + count); std::memcpy(dst.i32.data() + o, src, count * 4); break; }
      case PhysicalType::kFloat: { size_t o = dst.f32.size(); dst.f32.resize(o + count); std::memcpy(dst.f32.data() + o, src, count * 4); break; }
      case PhysicalType::kInt64: { size_t o = dst.i64.size(); dst.i64.resize(o + count); std::memcpy(dst.i64.data() + o, src, count * 8); break; }
      case PhysicalType::kDouble: { size_t o = dst.f64.size(); dst.f64.resize(o + count); std::memcpy(dst.f64.data() + o, src, count * 8); break; }
      case PhysicalType::kInt96:
        for (size_t i = 0; i < count; ++i) {
          int64_t nanos;
          int32_t julian;
          std::memcpy(&nanos, src + 12 * i, 8);
          std::memcpy(&julian, src + 12 * i + 8, 4);
          dst.i64.push_back((static_cast<int64_t>(julian) - 2440588) * 86400LL * 1'000'000'000LL + nanos);
        }
        break;
      case PhysicalType::kFixedLenByteArray:
        for (size_t i = 0; i < count; ++i) dst.append_string(std::string_view(reinterpret_cast<const char*>(src) + i * static_cast<size_t>(ctx.width), static_cast<size_t>(ctx.width)));
        break;
      default: break;
    }
  };

  switch (encoding) {
    case tf::Encoding::PLAIN: {
      if (t == PhysicalType::kBoolean) {
        r.need((n + 7) / 8, "PLAIN booleans");
        for (size_t i = 0; i < n; ++i) dst.b8.push_back((r.pos[i >> 3] >> (i & 7)) & 1);
        r.pos += (n + 7) / 8;
      } else if (t == PhysicalType::kByteArray) {
        for (size_t i = 0; i < n; ++i) {
          uint32_t len = r.read<uint32_t>("PLAIN byte array length");
          r.need(len, "PLAIN byte array");
          dst.append_string(std::string_view(reinterpret_cast<const char*>(r.pos), len));
          r.pos += len;
        }
      } else {
        const size_t bytes = n * static_cast<size_t>(ctx.width);
        if (ctx.width == 0 || bytes / static_cast<size_t>(ctx.width) != n) throw Error::DataLoss("PLAIN value size overflow");
        r.need(bytes, "PLAIN values");
        append_fixed_bytes(r.pos, n);
        r.pos += bytes;
      }
      return;
    }
    case tf::Encoding::PLAIN_DICTIONARY:
    case tf::Encoding::RLE_DICTIONARY: {
      if (dictionary == nullptr) throw Error::DataLoss(fmt::format("column '{}': dictionary-encoded page without a dictionary", ctx.name));
      if (n == 0) return;
      const int width = r.read<uint8_t>("dictionary index bit width");
      if (width > 32) throw Error::DataLoss("dictionary index bit width is over 32");
      std::vector<uint32_t> idx(n);
      RleDecoder(r.pos, r.remaining(), width).decode(idx.data(), n);
      r.pos = r.end;
      const size_t dict_size = dictionary->num_rows;
      for (uint32_t i : idx) {
        if (i >= dict_size) throw Error::DataLoss(fmt::format("column '{}': dictionary index {} out of range ({})", ctx.name, i, dict_size));
      }
      auto gather = [&](auto& out_vec, const auto& dict_vec) {
        const size_t base = out_vec.size();
        out_vec.resize(base + n);
        auto* dst_ptr = out_vec.data() + base;
        const auto* src = dict_vec.data();
        for (size_t k = 0; k < n; ++k) dst_ptr[k] = src[idx[k]];
      };
      switch (t) {
        case PhysicalType::kInt32: gather(dst.i32, dictionary->i32); break;
        case PhysicalType::kFloat: gather(dst.f32, dictionary->f32); break;
        case PhysicalType::kInt64: case PhysicalType::kInt96: gather(dst.i64, dictionary->i64); break;
        case PhysicalType::kDouble: gather(dst.f64, dictionary->f64); break;
        case PhysicalType::kBoolean: gather(dst.b8, dictionary->b8); break;
        default: for (uint32_t i : idx) dst.append_string(dictionary->str(i)); break;
      }
      return;
    }
    case tf::Encoding::RLE: {
      if (t != PhysicalType::kBoolean) throw Error::DataLoss("RLE value encoding is only valid for booleans");
      uint32_t len = r.read<uint32_t>("RLE boolean length");
      r.need(len, "RLE booleans");
      std::vector<uint32_t> bits(n);
      RleDecoder(r.pos, len, 1).decode(bits.data(), n);
      r.pos += len;
      for (uint32_t b : bits) dst.b8.push_back(static_cast<uint8_t>(b));
      return;
    }
    case tf::Encoding::DELTA_BINARY_PACKED: {
      std::vector<int64_t> values;
      decode_delta_binary(r, n, values);
      if (t == PhysicalType::kInt32) for (int64_t v : values) dst.i32.push_back(static_cast<int32_t>(v));
      else if (t == PhysicalType::kInt64) dst.i64.insert(dst.i64.end(), values.begin(), values.end());
      else throw Error::DataLoss("DELTA_BINARY_PACKED is only valid for INT32 and INT64");
      return;
    }
    case tf::Encoding::DELTA_LENGTH_BYTE_ARRAY: {
      if (t != PhysicalType::kByteArray) throw Error::DataLoss("DELTA_LENGTH_BYTE_ARRAY is only valid for BYTE_ARRAY");
      std::vector<int64_t> lengths;
      decode_delta_binary(r, n, lengths);
      for (int64_t len : lengths) {
        if (len < 0) throw Error::DataLoss("negative byte array length");
        r.need(static_cast<size_t>(len), "DELTA_LENGTH_BYTE_ARRAY data");
        dst.append_string(std::string_view(reinterpret_cast<const char*>(r.pos), static_cast<size_t>(len)));
        r.pos += len;
      }
      return;
    }
    case tf::Encoding::DELTA_BYTE_ARRAY: {
      if (t != PhysicalType::kByteArray && t != PhysicalType::kFixedLenByteArray) {
        throw Error::DataLoss("DELTA_BYTE_ARRAY is only valid for byte arrays");
      }
      std::vector<int64_t> prefixes, suffixes;
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
      const int w = ctx.width;
      if (w <= 0 || t == PhysicalType::kInt96) throw Error::DataLoss("BYTE_STREAM_SPLIT needs a fixed-width type");
      const size_t bytes = n * static_cast<size_t>(w);
      r.need(bytes, "BYTE_STREAM_SPLIT values");
      std::string joined(bytes, '\0');
      for (size_t i = 0; i < n; ++i) {
        for (int k = 0; k < w; ++k) joined[i * static_cast<size_t>(w) + static_cast<size_t>(k)] = static_cast<char>(r.pos[static_cast<size_t>(k) * n + i]);
      }
      r.pos += bytes;
      append_fixed_bytes(reinterpret_cast<const uint8_t*>(joined.data()), n);
      return;
    }
    default:
      throw Error::DataLoss(fmt::format("column '{}': encoding {} is not supported", ctx.name, encoding_name(encoding)));
  }
}

// Moves the dense non-null values of `values` into row slots per `defined` (nulls get defaults).
void scatter(ColumnVector& values, const std::vector<uint8_t>& defined, size_t first_row, ColumnVector& out) {
  // `out` already holds rows [0, first_row); values holds this page's non-null values.
  size_t v = 0;
  for (size_t i = 0; i < defined.size(); ++i) {
    const bool d = defined[i] != 0;
    switch (out.type) {
      case PhysicalType::kBoolean: out.b8.push_back(d ? values.b8[v] : 0); break;
      case PhysicalType::kInt32: out.i32.push_back(d ? values.i32[v] : 0); break;
      case PhysicalType::kInt64: case PhysicalType::kInt96: out.i64.push_back(d ? values.i64[v] : 0); break;
      case PhysicalType::kFloat: out.f32.push_back(d ? values.f32[v] : 0.0f); break;
      case PhysicalType::kDouble: out.f64.push_back(d ? values.f64[v] : 0.0); break;
      default: out.append_string(d ? values.str(v) : std::string_view()); break;
    }
    if (d) ++v;
  }
  (void)first_row;
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

  ColumnVector read_column(int row_group, int column) const {
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
    std::string chunk(static_cast<size_t>(cm.total_compressed_size), '\0');
    source->read_at(static_cast<uint64_t>(start), chunk.size(), chunk.data());
    const Compression codec = from_thrift(cm.codec);

    ChunkContext ctx{&schema, fixed_width(schema.physical, schema.type_length), schema.name};
    if (schema.physical == PhysicalType::kFixedLenByteArray && ctx.width <= 0) {
      throw Error::DataLoss(where + ": FIXED_LEN_BYTE_ARRAY without a type length");
    }
    ColumnVector out;
    out.type = schema.physical;
    if (schema.physical == PhysicalType::kByteArray || schema.physical == PhysicalType::kFixedLenByteArray) {
      out.offsets.reserve(static_cast<size_t>(rows) + 1);
      out.offsets.push_back(0);
    }
    std::optional<ColumnVector> dictionary;
    std::string page;
    ColumnVector values;
    std::vector<uint8_t> defined;
    std::vector<uint32_t> levels;
    bool any_null = false;
    std::vector<uint8_t> all_defined;
    size_t pos = 0;
    int64_t done = 0;
    while (done < rows) {
      if (pos >= chunk.size()) throw Error::DataLoss(fmt::format("{}: pages end after {} of {} values", where, done, rows));
      tf::PageHeader header;
      pos += deserialize(reinterpret_cast<const uint8_t*>(chunk.data()) + pos, chunk.size() - pos, header, "page header");
      if (header.compressed_page_size < 0 || header.uncompressed_page_size < 0 ||
          static_cast<size_t>(header.compressed_page_size) > chunk.size() - pos ||
          header.uncompressed_page_size > kMaxPageBytes) {
        throw Error::DataLoss(fmt::format("{}: page sizes {} / {} do not fit the chunk", where,
                                          header.compressed_page_size, header.uncompressed_page_size));
      }
      std::string_view body(chunk.data() + pos, static_cast<size_t>(header.compressed_page_size));
      pos += static_cast<size_t>(header.compressed_page_size);

      if (header.type == tf::PageType::DICTIONARY_PAGE) {
        if (!header.__isset.dictionary_page_header) throw Error::DataLoss(where + ": dictionary page without its header");
        const auto& dh = header.dictionary_page_header;
        if (dh.num_values < 0) throw Error::DataLoss(where + ": negative dictionary size");
        decompress(codec, body, static_cast<size_t>(header.uncompressed_page_size), page);
        ColumnVector dict;
        dict.type = schema.physical;
        if (!out.offsets.empty()) dict.offsets.push_back(0);
        ByteReader r{reinterpret_cast<const uint8_t*>(page.data()), reinterpret_cast<const uint8_t*>(page.data()) + page.size()};
        if (ctx.width > 0 && static_cast<uint64_t>(dh.num_values) * static_cast<uint64_t>(ctx.width) > page.size()) {
          throw Error::DataLoss(where + ": dictionary holds fewer values than its header says");
        }
        decode_values(r, tf::Encoding::PLAIN, static_cast<size_t>(dh.num_values), ctx, nullptr, dict);
        dict.num_rows = static_cast<size_t>(dh.num_values);
        dictionary = std::move(dict);
        continue;
      }
      if (header.type != tf::PageType::DATA_PAGE && header.type != tf::PageType::DATA_PAGE_V2) continue;

      int64_t page_values = 0;
      tf::Encoding::type encoding;
      ByteReader r{nullptr, nullptr};
      std::string_view def_bytes;
      bool def_prefixed = true;
      if (header.type == tf::PageType::DATA_PAGE) {
        if (!header.__isset.data_page_header) throw Error::DataLoss(where + ": data page without its header");
        page_values = header.data_page_header.num_values;
        encoding = header.data_page_header.encoding;
        decompress(codec, body, static_cast<size_t>(header.uncompressed_page_size), page);
        r = ByteReader{reinterpret_cast<const uint8_t*>(page.data()), reinterpret_cast<const uint8_t*>(page.data()) + page.size()};
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
        def_prefixed = false;
        std::string_view rest = body.substr(levels_len);
        const size_t rest_uncompressed = static_cast<size_t>(header.uncompressed_page_size) - levels_len;
        const bool compressed = !h2.__isset.is_compressed || h2.is_compressed;
        decompress(compressed ? codec : Compression::kUncompressed, rest, rest_uncompressed, page);
        r = ByteReader{reinterpret_cast<const uint8_t*>(page.data()), reinterpret_cast<const uint8_t*>(page.data()) + page.size()};
      }
      if (page_values < 0 || page_values > rows - done) {
        throw Error::DataLoss(fmt::format("{}: page claims {} values, {} remain", where, page_values, rows - done));
      }
      const size_t n = static_cast<size_t>(page_values);
      size_t non_null = n;
      defined.clear();
      if (schema.optional) {
        const uint8_t* lp;
        size_t ll;
        if (def_prefixed) {
          const uint32_t len = r.read<uint32_t>("definition levels length");
          r.need(len, "definition levels");
          lp = r.pos;
          ll = len;
          r.pos += len;
        } else {
          lp = reinterpret_cast<const uint8_t*>(def_bytes.data());
          ll = def_bytes.size();
        }
        levels.resize(n);
        RleDecoder(lp, ll, 1).decode(levels.data(), n);
        defined.resize(n);
        non_null = 0;
        for (size_t i = 0; i < n; ++i) {
          if (levels[i] > 1) throw Error::DataLoss(where + ": definition level above 1");
          defined[i] = static_cast<uint8_t>(levels[i]);
          non_null += levels[i];
        }
      }
      if (non_null == n) {
        // No nulls on this page: decode straight into the output.
        decode_values(r, encoding, n, ctx, dictionary ? &*dictionary : nullptr, out);
        if (schema.optional) all_defined.insert(all_defined.end(), n, 1);
      } else {
        values = ColumnVector{};
        values.type = schema.physical;
        if (!out.offsets.empty()) values.offsets.push_back(0);
        decode_values(r, encoding, non_null, ctx, dictionary ? &*dictionary : nullptr, values);
        scatter(values, defined, static_cast<size_t>(done), out);
        all_defined.insert(all_defined.end(), defined.begin(), defined.end());
        any_null = true;
      }
      done += page_values;
    }
    out.num_rows = static_cast<size_t>(rows);
    if (any_null) out.defined = std::move(all_defined);
    return out;
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

ColumnVector Reader::read_column(int row_group, int column) const {
  if (column < 0 || column >= static_cast<int>(impl_->meta.schema.columns.size())) {
    throw Error::InvalidInput(fmt::format("{}: column {} does not exist", impl_->name, column));
  }
  return impl_->read_column(row_group, column);
}

std::vector<ColumnVector> Reader::read_row_group(int row_group, const std::vector<int>& columns) const {
  std::vector<ColumnVector> out;
  out.reserve(columns.size());
  for (int c : columns) out.push_back(read_column(row_group, c));
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

// The Parquet writer. Streaming: each column keeps the values of its current page, encodes and
// compresses a page as soon as it is full, and keeps only the compressed pages of the current
// row group; a row group is written out (dictionary page first, then data pages) when it
// reaches row_group_rows. Memory is bounded by one row group's compressed pages plus one page
// per column. Output is deterministic: same rows and options, same bytes, whatever
// options.threads (threads only share out the columns' encoding and compression).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <memory>
#include <unordered_map>

#include <fmt/format.h>

#include "parquet_internal.hpp"
#include "task_pool.hpp"
#include "trib/core/error.hpp"

namespace trib::parquet {

using namespace internal;
namespace tf = ::trib::parquet::format;

namespace {

constexpr char kMagic[4] = {'P', 'A', 'R', '1'};

int fixed_width(PhysicalType t) {
  switch (t) {
    case PhysicalType::kInt32: case PhysicalType::kFloat: return 4;
    case PhysicalType::kInt64: case PhysicalType::kDouble: return 8;
    default: return 0;
  }
}

struct TransparentHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};
struct TransparentEq {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const noexcept { return a == b; }
};

// Running min/max/null count of one page or chunk, in the column's physical type.
struct Stats {
  bool has = false;
  int64_t nulls = 0;
  // Fixed-width values are compared through their typed form; strings as unsigned bytes.
  int64_t min_i = 0, max_i = 0;
  double min_d = 0, max_d = 0;
  std::string min_s, max_s;

  void merge(const Stats& o, PhysicalType t) {
    nulls += o.nulls;
    if (!o.has) return;
    if (!has) {
      *this = Stats{true, nulls, o.min_i, o.max_i, o.min_d, o.max_d, o.min_s, o.max_s};
      return;
    }
    switch (t) {
      case PhysicalType::kFloat: case PhysicalType::kDouble:
        min_d = std::min(min_d, o.min_d);
        max_d = std::max(max_d, o.max_d);
        break;
      case PhysicalType::kByteArray: case PhysicalType::kFixedLenByteArray:
        if (o.min_s < min_s) min_s = o.min_s;
        if (o.max_s > max_s) max_s = o.max_s;
        break;
      default:
        min_i = std::min(min_i, o.min_i);
        max_i = std::max(max_i, o.max_i);
    }
  }
};

std::string plain_bytes(PhysicalType t, int64_t i, double d, const std::string& s) {
  std::string out;
  switch (t) {
    case PhysicalType::kBoolean: out.push_back(static_cast<char>(i != 0)); break;
    case PhysicalType::kInt32: { int32_t v = static_cast<int32_t>(i); out.assign(reinterpret_cast<char*>(&v), 4); break; }
    case PhysicalType::kInt64: out.assign(reinterpret_cast<char*>(&i), 8); break;
    case PhysicalType::kFloat: { float v = static_cast<float>(d); out.assign(reinterpret_cast<char*>(&v), 4); break; }
    case PhysicalType::kDouble: out.assign(reinterpret_cast<char*>(&d), 8); break;
    default: out = s;
  }
  return out;
}

tf::Statistics to_thrift_stats(const Stats& st, PhysicalType t, bool legacy) {
  tf::Statistics out;
  out.__set_null_count(st.nulls);
  if (st.has) {
    std::string mn = plain_bytes(t, st.min_i, st.min_d, st.min_s);
    std::string mx = plain_bytes(t, st.max_i, st.max_d, st.max_s);
    out.__set_min_value(mn);
    out.__set_max_value(mx);
    // Legacy min/max used signed comparison: only meaningful for numeric types.
    if (legacy && t != PhysicalType::kByteArray && t != PhysicalType::kFixedLenByteArray) {
      out.__set_min(mn);
      out.__set_max(mx);
    }
  }
  return out;
}

// Aligned to a cache line: with WriterOptions::threads > 1, neighbouring columns are encoded on
// different threads.
class alignas(64) ColumnWriter {
 public:
  ColumnWriter(const ColumnSchema& schema, const WriterOptions& options)
      : schema_(schema), options_(options), width_(fixed_width(schema.physical)) {
    if (schema.physical == PhysicalType::kInt96) {
      throw Error::InvalidInput(fmt::format("column '{}': INT96 can be read, not written; use TIMESTAMP", schema.name));
    }
    if (schema.physical == PhysicalType::kFixedLenByteArray && schema.type_length <= 0) {
      throw Error::InvalidInput(fmt::format("column '{}': FIXED_LEN_BYTE_ARRAY needs type_length > 0", schema.name));
    }
    start_chunk();
  }

  // Appends rows [begin, end) of `col`.
  void append(const ColumnVector& col, size_t begin, size_t end) {
    for (size_t row = begin; row < end;) {
      size_t room = page_capacity() - page_rows_;
      size_t take = std::min(room, end - row);
      append_slice(col, row, row + take);
      row += take;
      if (fallback_requested_) {
        // The page holding the values seen so far stays dictionary-encoded; the rest of the
        // chunk is PLAIN.
        flush_page();
        dict_mode_ = false;
        fallback_requested_ = false;
      }
      if (page_rows_ >= page_capacity() || (width_ == 0 && !dict_mode_ && page_values_.size() >= options_.data_page_bytes)) {
        flush_page();
      }
    }
  }

  // Encodes and compresses what the chunk still holds (its last data page, its dictionary
  // page), touching nothing but this column: the columns of a row group seal in parallel.
  void seal_chunk() {
    if (page_rows_ > 0 || pages_written_ == 0) flush_page();
    dictionary_header_.clear();
    dictionary_page_.clear();
    dictionary_uncompressed_ = 0;
    if (!dict_used_) return;
    std::string page;
    encode_dictionary(page);
    tf::PageHeader header;
    header.__set_type(tf::PageType::DICTIONARY_PAGE);
    header.__set_uncompressed_page_size(static_cast<int32_t>(page.size()));
    compress(options_.compression, level(), page, dictionary_page_);
    header.__set_compressed_page_size(static_cast<int32_t>(dictionary_page_.size()));
    tf::DictionaryPageHeader dict;
    dict.__set_num_values(static_cast<int32_t>(dict_count()));
    dict.__set_encoding(tf::Encoding::PLAIN);
    header.__set_dictionary_page_header(dict);
    serialize(header, dictionary_header_);
    dictionary_uncompressed_ = page.size();
  }

  // Writes the sealed chunk (dictionary page, data pages) to `sink` and returns its metadata.
  tf::ColumnChunk write_chunk(OutputSink& sink) {
    tf::ColumnMetaData meta;
    meta.__set_type(to_thrift(schema_.physical));
    meta.__set_path_in_schema({schema_.name});
    meta.__set_codec(to_thrift(options_.compression));
    meta.__set_num_values(chunk_rows_);
    std::vector<tf::Encoding::type> encodings;
    const int64_t chunk_start = static_cast<int64_t>(sink.position());
    int64_t uncompressed_total = 0, compressed_total = 0;
    if (dict_used_) {
      sink.write(dictionary_header_.data(), dictionary_header_.size());
      sink.write(dictionary_page_.data(), dictionary_page_.size());
      meta.__set_dictionary_page_offset(chunk_start);
      uncompressed_total += static_cast<int64_t>(dictionary_header_.size() + dictionary_uncompressed_);
      compressed_total += static_cast<int64_t>(dictionary_header_.size() + dictionary_page_.size());
      encodings.push_back(tf::Encoding::PLAIN);
      encodings.push_back(tf::Encoding::RLE_DICTIONARY);
    }
    const int64_t data_start = static_cast<int64_t>(sink.position());
    sink.write(pages_.data(), pages_.size());
    uncompressed_total += pages_uncompressed_;
    compressed_total += static_cast<int64_t>(pages_.size());
    if (plain_used_ && std::find(encodings.begin(), encodings.end(), tf::Encoding::PLAIN) == encodings.end()) {
      encodings.push_back(tf::Encoding::PLAIN);
    }
    encodings.push_back(tf::Encoding::RLE);
    meta.__set_encodings(encodings);
    meta.__set_data_page_offset(data_start);
    meta.__set_total_uncompressed_size(uncompressed_total);
    meta.__set_total_compressed_size(compressed_total);
    if (options_.write_statistics) meta.__set_statistics(to_thrift_stats(chunk_stats_, schema_.physical, true));
    tf::ColumnChunk chunk;
    chunk.__set_file_offset(chunk_start);
    chunk.__set_meta_data(meta);
    last_uncompressed_ = uncompressed_total;
    start_chunk();
    return chunk;
  }

  int64_t last_uncompressed_size() const { return last_uncompressed_; }
  size_t buffered_bytes() const { return pages_.size() + page_values_.size() + indices_.size() * 4; }

 private:
  size_t page_capacity() const {
    if (dict_mode_) return std::max<size_t>(1024, options_.data_page_bytes / 2);
    if (width_ > 0) return std::max<size_t>(1024, options_.data_page_bytes / static_cast<size_t>(width_));
    if (schema_.physical == PhysicalType::kBoolean) return std::max<size_t>(1024, options_.data_page_bytes * 8);
    return std::max<size_t>(1024, options_.data_page_bytes / 8);  // byte arrays also flush by size
  }

  void start_chunk() {
    pages_.clear();
    pages_uncompressed_ = 0;
    pages_written_ = 0;
    chunk_rows_ = 0;
    chunk_stats_ = Stats{};
    dict_mode_ = options_.dictionary && schema_.physical != PhysicalType::kBoolean;
    dict_used_ = false;
    plain_used_ = false;
    fallback_requested_ = false;
    dict_i32_.clear();
    dict_i64_.clear();
    dict_values_32_.clear();
    dict_values_64_.clear();
    dict_strings_.clear();
    dict_string_values_.clear();
    dict_bytes_ = 0;
    last_string_index_ = UINT32_MAX;
    last_string_.clear();
    reset_page();
  }

  void reset_page() {
    page_values_.clear();
    indices_.clear();
    def_levels_.clear();
    page_rows_ = 0;
    page_nulls_ = 0;
    page_stats_ = Stats{};
    bool_bits_ = 0;
    bool_count_ = 0;
  }

  size_t dict_count() const {
    switch (schema_.physical) {
      case PhysicalType::kInt32: case PhysicalType::kFloat: return dict_values_32_.size();
      case PhysicalType::kInt64: case PhysicalType::kDouble: return dict_values_64_.size();
      default: return dict_string_values_.size();
    }
  }

  void encode_dictionary(std::string& out) {
    switch (schema_.physical) {
      case PhysicalType::kInt32: case PhysicalType::kFloat:
        out.append(reinterpret_cast<const char*>(dict_values_32_.data()), dict_values_32_.size() * 4);
        break;
      case PhysicalType::kInt64: case PhysicalType::kDouble:
        out.append(reinterpret_cast<const char*>(dict_values_64_.data()), dict_values_64_.size() * 8);
        break;
      default:
        for (const auto& s : dict_string_values_) append_plain_string(out, s);
    }
  }

  void append_plain_string(std::string& out, std::string_view s) {
    if (schema_.physical == PhysicalType::kByteArray) {
      uint32_t len = static_cast<uint32_t>(s.size());
      out.append(reinterpret_cast<const char*>(&len), 4);
    }
    out.append(s);
  }

  // Asks for the rest of the chunk to be PLAIN once the current slice is in (a page must not be
  // cut in the middle of a slice: its definition levels are already recorded).
  void fall_back_to_plain() { fallback_requested_ = true; }

  void note_value_stats_i(int64_t v) {
    if (!page_stats_.has) { page_stats_.has = true; page_stats_.min_i = page_stats_.max_i = v; return; }
    page_stats_.min_i = std::min(page_stats_.min_i, v);
    page_stats_.max_i = std::max(page_stats_.max_i, v);
  }
  void note_value_stats_d(double v) {
    if (std::isnan(v)) return;
    if (!page_stats_.has) { page_stats_.has = true; page_stats_.min_d = page_stats_.max_d = v; return; }
    page_stats_.min_d = std::min(page_stats_.min_d, v);
    page_stats_.max_d = std::max(page_stats_.max_d, v);
  }
  void note_value_stats_s(std::string_view v) {
    if (!page_stats_.has) { page_stats_.has = true; page_stats_.min_s = v; page_stats_.max_s = v; return; }
    if (v < page_stats_.min_s) page_stats_.min_s = v;
    if (v > page_stats_.max_s) page_stats_.max_s = v;
  }

  template <typename T, typename Key>
  void append_fixed(const std::vector<T>& values, const ColumnVector& col, size_t begin, size_t end,
                    std::unordered_map<Key, uint32_t>& dict, std::vector<Key>& dict_values) {
    const bool nullable = !col.defined.empty();
    if (values.size() < end) {
      throw Error::InvalidInput(fmt::format("column '{}': {} values for {} rows", schema_.name, values.size(), col.num_rows));
    }
    for (size_t row = begin; row < end; ++row) {
      if (nullable && col.defined[row] == 0) continue;
      const T v = values[row];
      if constexpr (std::is_floating_point_v<T>) note_value_stats_d(v); else note_value_stats_i(v);
      if (dict_mode_) {
        Key key;
        std::memcpy(&key, &v, sizeof(T));
        auto [it, inserted] = dict.try_emplace(key, static_cast<uint32_t>(dict_values.size()));
        if (inserted) {
          dict_values.push_back(key);
          dict_bytes_ += sizeof(T);
        }
        indices_.push_back(it->second);
        dict_used_ = true;
        if (inserted && dict_bytes_ > options_.dictionary_page_limit_bytes) {
          fall_back_to_plain();
        } else if (inserted && chunk_rows_ + page_rows_ > 65536 &&
                   dict_values.size() * 2 > static_cast<size_t>(chunk_rows_ + page_rows_)) {
          fall_back_to_plain();  // mostly distinct values: a dictionary only costs time
        }
      } else {
        page_values_.append(reinterpret_cast<const char*>(&v), sizeof(T));
        plain_used_ = true;
      }
    }
  }

  void append_slice(const ColumnVector& col, size_t begin, size_t end) {
    const bool nullable = !col.defined.empty();
    if (nullable && !schema_.optional) {
      for (size_t row = begin; row < end; ++row) {
        if (col.defined[row] == 0) {
          throw Error::InvalidInput(fmt::format("column '{}' is REQUIRED but row {} is null", schema_.name, row));
        }
      }
    }
    if (schema_.optional) {
      for (size_t row = begin; row < end; ++row) {
        const bool defined = !nullable || col.defined[row] != 0;
        def_levels_.push_back(defined ? 1 : 0);
        if (!defined) ++page_nulls_;
      }
    }
    switch (schema_.physical) {
      case PhysicalType::kInt32: append_fixed(col.i32, col, begin, end, dict_i32_, dict_values_32_); break;
      case PhysicalType::kFloat: append_fixed(col.f32, col, begin, end, dict_i32_, dict_values_32_); break;
      case PhysicalType::kInt64: append_fixed(col.i64, col, begin, end, dict_i64_, dict_values_64_); break;
      case PhysicalType::kDouble: append_fixed(col.f64, col, begin, end, dict_i64_, dict_values_64_); break;
      case PhysicalType::kBoolean:
        if (col.b8.size() < end) throw Error::InvalidInput(fmt::format("column '{}': too few values", schema_.name));
        for (size_t row = begin; row < end; ++row) {
          if (nullable && col.defined[row] == 0) continue;
          const bool v = col.b8[row] != 0;
          note_value_stats_i(v ? 1 : 0);
          bool_bits_ |= static_cast<uint8_t>(v ? 1 : 0) << bool_count_;
          if (++bool_count_ == 8) {
            page_values_.push_back(static_cast<char>(bool_bits_));
            bool_bits_ = 0;
            bool_count_ = 0;
          }
        }
        plain_used_ = true;
        break;
      default: append_strings(col, begin, end);
    }
    page_rows_ += end - begin;
  }

  void append_strings(const ColumnVector& col, size_t begin, size_t end) {
    const bool nullable = !col.defined.empty();
    if (col.offsets.size() < end + 1) {
      throw Error::InvalidInput(fmt::format("column '{}': offsets do not cover {} rows", schema_.name, col.num_rows));
    }
    for (size_t row = begin; row < end; ++row) {
      if (nullable && col.defined[row] == 0) continue;
      if (col.offsets[row + 1] < col.offsets[row] || col.offsets[row + 1] > col.data.size()) {
        throw Error::InvalidInput(fmt::format("column '{}': bad offsets at row {}", schema_.name, row));
      }
      std::string_view v = col.str(row);
      if (schema_.physical == PhysicalType::kFixedLenByteArray && v.size() != static_cast<size_t>(schema_.type_length)) {
        throw Error::InvalidInput(fmt::format("column '{}': row {} has {} bytes, type_length is {}",
                                              schema_.name, row, v.size(), schema_.type_length));
      }
      note_value_stats_s(v);
      if (dict_mode_) {
        uint32_t idx;
        if (last_string_index_ != UINT32_MAX && v == last_string_) {
          idx = last_string_index_;  // sorted data repeats: skip the hash
        } else {
          auto it = dict_strings_.find(v);
          if (it == dict_strings_.end()) {
            idx = static_cast<uint32_t>(dict_string_values_.size());
            dict_string_values_.emplace_back(v);
            dict_strings_.emplace(std::string(v), idx);
            dict_bytes_ += v.size() + 4;
          } else {
            idx = it->second;
          }
          last_string_index_ = idx;
          last_string_.assign(v);
        }
        indices_.push_back(idx);
        dict_used_ = true;
        if (dict_bytes_ > options_.dictionary_page_limit_bytes) {
          fall_back_to_plain();
        } else if (chunk_rows_ + page_rows_ > 65536 &&
                   dict_string_values_.size() * 2 > static_cast<size_t>(chunk_rows_ + page_rows_)) {
          fall_back_to_plain();
        }
      } else {
        append_plain_string(page_values_, v);
        plain_used_ = true;
      }
    }
  }

  void flush_page() {
    // A page in the middle of a fallback holds indices from before it and nothing after.
    std::string body;
    if (schema_.optional) {
      std::string levels;
      rle_encode(def_levels_.data(), def_levels_.size(), 1, levels);
      uint32_t len = static_cast<uint32_t>(levels.size());
      body.append(reinterpret_cast<const char*>(&len), 4);
      body.append(levels);
    }
    tf::Encoding::type encoding = tf::Encoding::PLAIN;
    if (!indices_.empty()) {
      encoding = tf::Encoding::RLE_DICTIONARY;
      const int width = bit_width_of(dict_count() > 0 ? dict_count() - 1 : 0);
      body.push_back(static_cast<char>(width));
      rle_encode(indices_.data(), indices_.size(), width, body);
    } else {
      if (schema_.physical == PhysicalType::kBoolean && bool_count_ > 0) {
        page_values_.push_back(static_cast<char>(bool_bits_));
        bool_bits_ = 0;
        bool_count_ = 0;
      }
      body.append(page_values_);
      plain_used_ = true;
    }
    tf::PageHeader header;
    header.__set_type(tf::PageType::DATA_PAGE);
    header.__set_uncompressed_page_size(static_cast<int32_t>(body.size()));
    std::string compressed;
    compress(options_.compression, level(), body, compressed);
    header.__set_compressed_page_size(static_cast<int32_t>(compressed.size()));
    tf::DataPageHeader data;
    data.__set_num_values(static_cast<int32_t>(page_rows_));
    data.__set_encoding(encoding);
    data.__set_definition_level_encoding(tf::Encoding::RLE);
    data.__set_repetition_level_encoding(tf::Encoding::RLE);
    page_stats_.nulls = page_nulls_;
    if (options_.write_statistics) data.__set_statistics(to_thrift_stats(page_stats_, schema_.physical, false));
    header.__set_data_page_header(data);
    std::string header_bytes;
    serialize(header, header_bytes);
    pages_.append(header_bytes);
    pages_.append(compressed);
    pages_uncompressed_ += static_cast<int64_t>(header_bytes.size() + body.size());
    chunk_stats_.merge(page_stats_, schema_.physical);
    chunk_rows_ += static_cast<int64_t>(page_rows_);
    ++pages_written_;
    reset_page();
  }

  // The codec's level: zstd level or brotli quality.
  int level() const { return options_.compression == Compression::kBrotli ? options_.brotli_quality : options_.zstd_level; }

  const ColumnSchema& schema_;
  const WriterOptions& options_;
  const int width_;

  // Current chunk.
  std::string pages_;  // compressed data pages with their headers
  int64_t pages_uncompressed_ = 0;
  int pages_written_ = 0;
  int64_t chunk_rows_ = 0;
  Stats chunk_stats_;
  bool dict_mode_ = false, dict_used_ = false, plain_used_ = false, fallback_requested_ = false;
  std::unordered_map<uint32_t, uint32_t> dict_i32_;
  std::unordered_map<uint64_t, uint32_t> dict_i64_;
  std::vector<uint32_t> dict_values_32_;
  std::vector<uint64_t> dict_values_64_;
  std::unordered_map<std::string, uint32_t, TransparentHash, TransparentEq> dict_strings_;
  std::vector<std::string> dict_string_values_;
  size_t dict_bytes_ = 0;
  uint32_t last_string_index_ = UINT32_MAX;
  std::string last_string_;
  int64_t last_uncompressed_ = 0;
  // The sealed dictionary page: its header, its compressed bytes and its uncompressed size.
  std::string dictionary_header_, dictionary_page_;
  size_t dictionary_uncompressed_ = 0;

  // Current page.
  std::string page_values_;
  std::vector<uint32_t> indices_;
  std::vector<uint32_t> def_levels_;
  size_t page_rows_ = 0;
  int64_t page_nulls_ = 0;
  Stats page_stats_;
  uint8_t bool_bits_ = 0;
  int bool_count_ = 0;
};

tf::SchemaElement schema_element(const ColumnSchema& c) {
  tf::SchemaElement e;
  e.__set_name(c.name);
  e.__set_type(to_thrift(c.physical));
  e.__set_repetition_type(c.optional ? tf::FieldRepetitionType::OPTIONAL : tf::FieldRepetitionType::REQUIRED);
  if (c.physical == PhysicalType::kFixedLenByteArray) e.__set_type_length(c.type_length);
  tf::LogicalType logical;
  auto unit = [&](TimeUnit u) {
    tf::TimeUnit out;
    if (u == TimeUnit::kMillis) out.__set_MILLIS(tf::MilliSeconds());
    else if (u == TimeUnit::kMicros) out.__set_MICROS(tf::MicroSeconds());
    else out.__set_NANOS(tf::NanoSeconds());
    return out;
  };
  switch (c.logical) {
    case LogicalType::kNone: return e;
    case LogicalType::kString:
      logical.__set_STRING(tf::StringType());
      e.__set_converted_type(tf::ConvertedType::UTF8);
      break;
    case LogicalType::kJson:
      logical.__set_JSON(tf::JsonType());
      e.__set_converted_type(tf::ConvertedType::JSON);
      break;
    case LogicalType::kEnum:
      logical.__set_ENUM(tf::EnumType());
      e.__set_converted_type(tf::ConvertedType::ENUM);
      break;
    case LogicalType::kUuid:
      logical.__set_UUID(tf::UUIDType());
      break;
    case LogicalType::kDate:
      logical.__set_DATE(tf::DateType());
      e.__set_converted_type(tf::ConvertedType::DATE);
      break;
    case LogicalType::kTimestamp: {
      tf::TimestampType ts;
      ts.__set_isAdjustedToUTC(c.utc);
      ts.__set_unit(unit(c.time_unit));
      logical.__set_TIMESTAMP(ts);
      if (c.utc && c.time_unit == TimeUnit::kMillis) e.__set_converted_type(tf::ConvertedType::TIMESTAMP_MILLIS);
      if (c.utc && c.time_unit == TimeUnit::kMicros) e.__set_converted_type(tf::ConvertedType::TIMESTAMP_MICROS);
      break;
    }
    case LogicalType::kTime: {
      tf::TimeType t;
      t.__set_isAdjustedToUTC(c.utc);
      t.__set_unit(unit(c.time_unit));
      logical.__set_TIME(t);
      break;
    }
    case LogicalType::kDecimal: {
      tf::DecimalType d;
      d.__set_precision(c.precision);
      d.__set_scale(c.scale);
      logical.__set_DECIMAL(d);
      e.__set_converted_type(tf::ConvertedType::DECIMAL);
      e.__set_precision(c.precision);
      e.__set_scale(c.scale);
      break;
    }
    case LogicalType::kInt: {
      tf::IntType i;
      i.__set_bitWidth(static_cast<int8_t>(c.int_bit_width));
      i.__set_isSigned(c.int_signed);
      logical.__set_INTEGER(i);
      static const tf::ConvertedType::type kSigned[] = {tf::ConvertedType::INT_8, tf::ConvertedType::INT_16, tf::ConvertedType::INT_32, tf::ConvertedType::INT_64};
      static const tf::ConvertedType::type kUnsigned[] = {tf::ConvertedType::UINT_8, tf::ConvertedType::UINT_16, tf::ConvertedType::UINT_32, tf::ConvertedType::UINT_64};
      int idx = c.int_bit_width == 8 ? 0 : c.int_bit_width == 16 ? 1 : c.int_bit_width == 32 ? 2 : 3;
      e.__set_converted_type(c.int_signed ? kSigned[idx] : kUnsigned[idx]);
      break;
    }
  }
  e.__set_logicalType(logical);
  return e;
}

}  // namespace

struct Writer::Impl {
  OutputSink& sink;
  Schema schema;
  WriterOptions options;
  std::vector<std::unique_ptr<ColumnWriter>> columns;
  std::vector<tf::RowGroup> row_groups;
  int64_t rows_in_group = 0;
  int64_t total_rows = 0;
  bool closed = false;
  // With options.threads > 1: encodes and compresses the columns in parallel. Each column's
  // bytes depend on nothing but its own values, and the sink is written on the caller's thread
  // in column order, so the file is the same whatever the thread count.
  std::unique_ptr<TaskPool> pool;

  Impl(OutputSink& s, Schema sc, WriterOptions o) : sink(s), schema(std::move(sc)), options(std::move(o)) {}

  // Calls f(column index) for every column, in parallel when there is a pool.
  void for_each_column(const std::function<void(size_t)>& f) {
    if (pool) pool->run(columns.size(), f);
    else for (size_t c = 0; c < columns.size(); ++c) f(c);
  }

  void flush_row_group() {
    if (rows_in_group == 0) return;
    tf::RowGroup rg;
    for_each_column([&](size_t c) { columns[c]->seal_chunk(); });
    const int64_t start = static_cast<int64_t>(sink.position());
    int64_t uncompressed = 0;
    std::vector<tf::ColumnChunk> chunks;
    for (auto& column : columns) {
      chunks.push_back(column->write_chunk(sink));
      uncompressed += column->last_uncompressed_size();
    }
    rg.__set_columns(chunks);
    rg.__set_num_rows(rows_in_group);
    rg.__set_total_byte_size(uncompressed);
    rg.__set_file_offset(start);
    rg.__set_total_compressed_size(static_cast<int64_t>(sink.position()) - start);
    rg.__set_ordinal(static_cast<int16_t>(std::min<size_t>(row_groups.size(), 32767)));
    row_groups.push_back(std::move(rg));
    rows_in_group = 0;
  }
};

Writer::Writer(OutputSink& sink, Schema schema, WriterOptions options)
    : impl_(std::make_unique<Impl>(sink, std::move(schema), std::move(options))) {
  if (impl_->schema.columns.empty()) throw Error::InvalidInput("a Parquet schema needs at least one column");
  if (impl_->options.row_group_rows < 1) throw Error::InvalidInput("row_group_rows must be at least 1");
  if (impl_->options.compression == Compression::kLz4) {
    throw Error::InvalidInput("the legacy LZ4 codec is read only; write LZ4_RAW (\"lz4\")");
  }
  if (impl_->options.brotli_quality < 0 || impl_->options.brotli_quality > 11) {
    throw Error::InvalidInput("brotli quality must be 0..11");
  }
  if (impl_->options.zstd_level < 1 || impl_->options.zstd_level > 22) {
    throw Error::InvalidInput("zstd level must be 1..22");
  }
  if (impl_->options.threads < 1) throw Error::InvalidInput("writer threads must be at least 1");
  for (size_t i = 0; i < impl_->schema.columns.size(); ++i) {
    const auto& c = impl_->schema.columns[i];
    if (c.name.empty()) throw Error::InvalidInput(fmt::format("column {} has no name", i));
    if (impl_->schema.find(c.name) != static_cast<int>(i)) {
      throw Error::InvalidInput(fmt::format("column name '{}' appears twice", c.name));
    }
  }
  for (const auto& c : impl_->schema.columns) {
    impl_->columns.push_back(std::make_unique<ColumnWriter>(c, impl_->options));
  }
  // More threads than columns would have nothing to do.
  const int threads = static_cast<int>(std::min<size_t>(static_cast<size_t>(impl_->options.threads), impl_->columns.size()));
  if (threads > 1) impl_->pool = std::make_unique<TaskPool>(threads);
  sink.write(kMagic, 4);
}

Writer::~Writer() = default;

void Writer::write_batch(const std::vector<ColumnVector>& columns) {
  Impl& w = *impl_;
  if (w.closed) throw Error::InvalidInput("write_batch after close");
  if (columns.size() != w.schema.columns.size()) {
    throw Error::InvalidInput(fmt::format("batch has {} columns, the schema {}", columns.size(), w.schema.columns.size()));
  }
  const size_t rows = columns[0].num_rows;
  for (size_t c = 0; c < columns.size(); ++c) {
    const auto& col = columns[c];
    const auto& sc = w.schema.columns[c];
    if (col.num_rows != rows) {
      throw Error::InvalidInput(fmt::format("column '{}' has {} rows, column '{}' {}", sc.name, col.num_rows,
                                            w.schema.columns[0].name, rows));
    }
    if (col.type != sc.physical) {
      throw Error::InvalidInput(fmt::format("column '{}' is {} in the schema but the batch holds {}", sc.name,
                                            to_string(sc.physical), to_string(col.type)));
    }
    if (!col.defined.empty() && col.defined.size() != rows) {
      throw Error::InvalidInput(fmt::format("column '{}': {} null flags for {} rows", sc.name, col.defined.size(), rows));
    }
  }
  size_t row = 0;
  while (row < rows) {
    size_t take = static_cast<size_t>(std::min<int64_t>(w.options.row_group_rows - w.rows_in_group,
                                                        static_cast<int64_t>(rows - row)));
    w.for_each_column([&](size_t c) { w.columns[c]->append(columns[c], row, row + take); });
    w.rows_in_group += static_cast<int64_t>(take);
    w.total_rows += static_cast<int64_t>(take);
    row += take;
    if (w.rows_in_group >= w.options.row_group_rows) w.flush_row_group();
  }
}

void Writer::close() {
  Impl& w = *impl_;
  if (w.closed) return;
  w.flush_row_group();
  tf::FileMetaData meta;
  meta.__set_version(2);
  std::vector<tf::SchemaElement> elements;
  tf::SchemaElement root;
  root.__set_name("schema");
  root.__set_num_children(static_cast<int32_t>(w.schema.columns.size()));
  elements.push_back(root);
  for (const auto& c : w.schema.columns) elements.push_back(schema_element(c));
  meta.__set_schema(elements);
  meta.__set_num_rows(w.total_rows);
  meta.__set_row_groups(w.row_groups);
  if (!w.options.key_value.empty()) {
    std::vector<tf::KeyValue> kvs;
    for (const auto& [k, v] : w.options.key_value) {
      tf::KeyValue kv;
      kv.__set_key(k);
      kv.__set_value(v);
      kvs.push_back(kv);
    }
    meta.__set_key_value_metadata(kvs);
  }
  meta.__set_created_by(w.options.created_by);
  std::vector<tf::ColumnOrder> orders(w.schema.columns.size());
  for (auto& o : orders) o.__set_TYPE_ORDER(tf::TypeDefinedOrder());
  meta.__set_column_orders(orders);
  std::string footer;
  serialize(meta, footer);
  w.sink.write(footer.data(), footer.size());
  uint32_t len = static_cast<uint32_t>(footer.size());
  w.sink.write(&len, 4);
  w.sink.write(kMagic, 4);
  w.closed = true;
}

}  // namespace trib::parquet

// Internals shared by the Parquet writer, reader and tools: Thrift (de)serialisation, page
// compression, and the RLE / bit-packing hybrid. Not part of the lake's public surface.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "parquet_format_types.h"
#include "trib/lake/parquet.hpp"

namespace trib::parquet::internal {

namespace fmt_ = ::trib::parquet::format;

// Serialises a Thrift struct with the compact protocol and appends it to `out`.
template <typename T>
void serialize(const T& value, std::string& out);
// Deserialises a Thrift struct from data[0, size); returns the bytes consumed. Hostile input
// (bad field types, huge strings or lists, truncation) throws Error::DataLoss naming `what`.
template <typename T>
size_t deserialize(const uint8_t* data, size_t size, T& value, const char* what);

// Explicit instantiations live in thrift_io.cpp.
extern template void serialize(const fmt_::FileMetaData&, std::string&);
extern template void serialize(const fmt_::PageHeader&, std::string&);
extern template size_t deserialize(const uint8_t*, size_t, fmt_::FileMetaData&, const char*);
extern template size_t deserialize(const uint8_t*, size_t, fmt_::PageHeader&, const char*);

// Compresses `in` with `codec` at `level` (zstd level or brotli quality; others ignore it),
// appending to `out`.
void compress(Compression codec, int level, std::string_view in, std::string& out);
// Decompresses exactly `uncompressed_size` bytes; a mismatch is Error::DataLoss.
void decompress(Compression codec, std::string_view in, size_t uncompressed_size, std::string& out);
// The same into out[0, uncompressed_size), which the caller has sized.
// Callers allocate only after check_page_size(), which refuses (Error::DataLoss) a header size the
// compressed bytes cannot possibly hold, so a tiny hostile page cannot claim gigabytes.
void decompress(Compression codec, std::string_view in, char* out, size_t uncompressed_size);
void check_page_size(Compression codec, std::string_view in, size_t uncompressed_size);

Compression from_thrift(fmt_::CompressionCodec::type codec);
fmt_::CompressionCodec::type to_thrift(Compression c);
PhysicalType from_thrift(fmt_::Type::type t);
fmt_::Type::type to_thrift(PhysicalType t);
std::string encoding_name(fmt_::Encoding::type e);

// Minimum number of bits to represent `max_value`.
inline int bit_width_of(uint64_t max_value) {
  int w = 0;
  while (max_value != 0) {
    ++w;
    max_value >>= 1;
  }
  return w;
}

inline void put_uvarint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

// Encodes `values` (each < 2^bit_width) with the RLE / bit-packing hybrid, appending to `out`
// (no length prefix).
void rle_encode(const uint32_t* values, size_t count, int bit_width, std::string& out);

// Decodes the RLE / bit-packing hybrid from a bounded buffer.
class RleDecoder {
 public:
  RleDecoder(const uint8_t* data, size_t size, int bit_width);
  // Fills out[0, count); throws Error::DataLoss if the data runs out.
  void decode(uint32_t* out, size_t count);
  // True when the data starts with one repeated run of at least `count` copies of `value` (a
  // page's definition levels without nulls, typically): callers then need not decode them.
  static bool starts_with_run(const uint8_t* data, size_t size, int bit_width, uint32_t value, size_t count);
  int bit_width() const { return bit_width_; }

 private:
  bool next_run();
  const uint8_t* data_;
  const uint8_t* end_;
  int bit_width_;
  uint64_t repeat_left_ = 0;
  uint32_t repeat_value_ = 0;
  uint64_t literal_left_ = 0;
  const uint8_t* literal_pos_ = nullptr;
  uint64_t literal_bit_ = 0;
};

// A bounded little-endian reader over page bytes.
struct ByteReader {
  const uint8_t* pos;
  const uint8_t* end;
  size_t remaining() const { return static_cast<size_t>(end - pos); }
  void need(size_t n, const char* what) const;
  uint64_t uvarint(const char* what);
  int64_t zigzag_varint(const char* what) {
    uint64_t u = uvarint(what);
    return static_cast<int64_t>((u >> 1) ^ (~(u & 1) + 1));
  }
  template <typename T>
  T read(const char* what) {
    need(sizeof(T), what);
    T v;
    std::memcpy(&v, pos, sizeof(T));
    pos += sizeof(T);
    return v;
  }
};

// Largest page we accept before allocating: a header claiming more is hostile.
inline constexpr int64_t kMaxPageBytes = int64_t{1} << 31;

}  // namespace trib::parquet::internal

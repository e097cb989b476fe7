// Shared pieces of the Parquet implementation: schema helpers, sinks and sources, compression,
// the RLE / bit-packing hybrid.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <memory>
#include <utility>

#include <brotli/decode.h>
#include <brotli/encode.h>
#include <fmt/format.h>
#include <lz4.h>
#include <snappy.h>
#include <zlib.h>
#include <zstd.h>

#include "parquet_internal.hpp"
#include "trib/core/error.hpp"

namespace trib::parquet {

std::string_view to_string(PhysicalType type) {
  switch (type) {
    case PhysicalType::kBoolean: return "BOOLEAN";
    case PhysicalType::kInt32: return "INT32";
    case PhysicalType::kInt64: return "INT64";
    case PhysicalType::kInt96: return "INT96";
    case PhysicalType::kFloat: return "FLOAT";
    case PhysicalType::kDouble: return "DOUBLE";
    case PhysicalType::kByteArray: return "BYTE_ARRAY";
    case PhysicalType::kFixedLenByteArray: return "FIXED_LEN_BYTE_ARRAY";
  }
  return "?";
}

std::string_view to_string(Compression compression) {
  switch (compression) {
    case Compression::kUncompressed: return "UNCOMPRESSED";
    case Compression::kSnappy: return "SNAPPY";
    case Compression::kGzip: return "GZIP";
    case Compression::kZstd: return "ZSTD";
    case Compression::kBrotli: return "BROTLI";
    case Compression::kLz4Raw: return "LZ4_RAW";
    case Compression::kLz4: return "LZ4";
  }
  return "?";
}

Compression parse_compression(std::string_view text) {
  if (text == "none" || text == "uncompressed") return Compression::kUncompressed;
  if (text == "snappy") return Compression::kSnappy;
  if (text == "gzip") return Compression::kGzip;
  if (text == "zstd") return Compression::kZstd;
  if (text == "brotli") return Compression::kBrotli;
  if (text == "lz4" || text == "lz4_raw") return Compression::kLz4Raw;
  throw Error::InvalidInput(fmt::format(
      "compression '{}' is not supported; use none, snappy, gzip, zstd, brotli or lz4", text));
}

namespace {
ColumnSchema make(std::string name, PhysicalType physical, bool optional, LogicalType logical) {
  ColumnSchema c;
  c.name = std::move(name);
  c.physical = physical;
  c.optional = optional;
  c.logical = logical;
  return c;
}
}  // namespace

ColumnSchema ColumnSchema::Int32(std::string n, bool o) { return make(std::move(n), PhysicalType::kInt32, o, LogicalType::kNone); }
ColumnSchema ColumnSchema::Int64(std::string n, bool o) { return make(std::move(n), PhysicalType::kInt64, o, LogicalType::kNone); }
ColumnSchema ColumnSchema::Double(std::string n, bool o) { return make(std::move(n), PhysicalType::kDouble, o, LogicalType::kNone); }
ColumnSchema ColumnSchema::Float(std::string n, bool o) { return make(std::move(n), PhysicalType::kFloat, o, LogicalType::kNone); }
ColumnSchema ColumnSchema::Boolean(std::string n, bool o) { return make(std::move(n), PhysicalType::kBoolean, o, LogicalType::kNone); }
ColumnSchema ColumnSchema::String(std::string n, bool o) { return make(std::move(n), PhysicalType::kByteArray, o, LogicalType::kString); }
ColumnSchema ColumnSchema::Date(std::string n, bool o) { return make(std::move(n), PhysicalType::kInt32, o, LogicalType::kDate); }
ColumnSchema ColumnSchema::Timestamp(std::string n, TimeUnit unit, bool o) {
  ColumnSchema c = make(std::move(n), PhysicalType::kInt64, o, LogicalType::kTimestamp);
  c.time_unit = unit;
  return c;
}

int Schema::find(std::string_view name) const {
  for (size_t i = 0; i < columns.size(); ++i) {
    if (columns[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

ColumnVector ColumnVector::of_i32(std::vector<int32_t> v) {
  ColumnVector c;
  c.type = PhysicalType::kInt32;
  c.num_rows = v.size();
  c.i32 = std::move(v);
  return c;
}
ColumnVector ColumnVector::of_i64(std::vector<int64_t> v) {
  ColumnVector c;
  c.type = PhysicalType::kInt64;
  c.num_rows = v.size();
  c.i64 = std::move(v);
  return c;
}
ColumnVector ColumnVector::of_f64(std::vector<double> v) {
  ColumnVector c;
  c.type = PhysicalType::kDouble;
  c.num_rows = v.size();
  c.f64 = std::move(v);
  return c;
}
ColumnVector ColumnVector::of_strings(const std::vector<std::string>& v) {
  ColumnVector c;
  c.type = PhysicalType::kByteArray;
  c.offsets.reserve(v.size() + 1);
  c.offsets.push_back(0);
  for (const auto& s : v) c.append_string(s);
  c.num_rows = v.size();
  return c;
}
void ColumnVector::append_string(std::string_view s) {
  if (offsets.empty()) offsets.push_back(0);
  data.append(s);
  offsets.push_back(data.size());
}

std::optional<std::string> FileMetadata::kv(std::string_view key) const {
  for (const auto& [k, v] : key_value) {
    if (k == key) return v;
  }
  return std::nullopt;
}

// ---- sinks and sources ----

void StringSink::write(const void* data, size_t size) {
  buffer_.append(static_cast<const char*>(data), size);
}

namespace {
void write_all(int fd, const char* p, size_t n, const std::filesystem::path& path) {
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) throw Error::Retryable(fmt::format("{}: write failed: {}", path.string(), std::strerror(errno)));
    p += w;
    n -= static_cast<size_t>(w);
  }
}
}  // namespace

FileSink::FileSink(const std::filesystem::path& path) : path_(path) {
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    throw Error::Retryable(fmt::format("{}: cannot create: {}", path.string(), std::strerror(errno)));
  }
  buffer_.reserve(1 << 20);
}

FileSink::~FileSink() {
  if (fd_ >= 0) ::close(fd_);
}

void FileSink::write(const void* data, size_t size) {
  position_ += size;
  if (buffer_.size() + size < (1 << 20)) {
    buffer_.append(static_cast<const char*>(data), size);
    return;
  }
  write_all(fd_, buffer_.data(), buffer_.size(), path_);
  buffer_.clear();
  write_all(fd_, static_cast<const char*>(data), size, path_);
}

void FileSink::finish() {
  if (fd_ < 0) return;
  write_all(fd_, buffer_.data(), buffer_.size(), path_);
  buffer_.clear();
  const int fd = fd_;
  fd_ = -1;
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    throw Error::Retryable(fmt::format("{}: fsync failed: {}", path_.string(), std::strerror(errno)));
  }
}

namespace {

class FileSource final : public InputSource {
 public:
  explicit FileSource(const std::filesystem::path& path) : path_(path) {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) {
      if (errno == ENOENT) throw Error::NotFound(fmt::format("{}: no such file", path.string()));
      throw Error::Retryable(fmt::format("{}: cannot open: {}", path.string(), std::strerror(errno)));
    }
    struct stat st {};
    if (::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) {
      ::close(fd_);
      throw Error::InvalidInput(fmt::format("{}: not a regular file", path.string()));
    }
    size_ = static_cast<uint64_t>(st.st_size);
  }
  ~FileSource() override { ::close(fd_); }
  uint64_t size() const override { return size_; }
  void read_at(uint64_t offset, size_t size, char* out) const override {
    if (offset > size_ || size > size_ - offset) {
      throw Error::DataLoss(fmt::format("{}: read of {} bytes at {} is past the end ({} bytes)",
                                        path_.string(), size, offset, size_));
    }
    size_t done = 0;
    while (done < size) {
      ssize_t n = ::pread(fd_, out + done, size - done, static_cast<off_t>(offset + done));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) throw Error::DataLoss(fmt::format("{}: short read", path_.string()));
      done += static_cast<size_t>(n);
    }
  }

 private:
  std::filesystem::path path_;
  int fd_ = -1;
  uint64_t size_ = 0;
};

class MemorySource final : public InputSource {
 public:
  explicit MemorySource(std::string bytes) : bytes_(std::move(bytes)) {}
  uint64_t size() const override { return bytes_.size(); }
  void read_at(uint64_t offset, size_t size, char* out) const override {
    if (offset > bytes_.size() || size > bytes_.size() - offset) {
      throw Error::DataLoss(fmt::format("read of {} bytes at {} is past the end ({} bytes)", size,
                                        offset, bytes_.size()));
    }
    std::memcpy(out, bytes_.data() + offset, size);
  }

 private:
  std::string bytes_;
};

}  // namespace

std::unique_ptr<InputSource> open_file_source(const std::filesystem::path& path) {
  return std::make_unique<FileSource>(path);
}

std::unique_ptr<InputSource> memory_source(std::string bytes) {
  return std::make_unique<MemorySource>(std::move(bytes));
}

}  // namespace trib::parquet

namespace trib::parquet::internal {

Compression from_thrift(fmt_::CompressionCodec::type codec) {
  switch (codec) {
    case fmt_::CompressionCodec::UNCOMPRESSED: return Compression::kUncompressed;
    case fmt_::CompressionCodec::SNAPPY: return Compression::kSnappy;
    case fmt_::CompressionCodec::GZIP: return Compression::kGzip;
    case fmt_::CompressionCodec::ZSTD: return Compression::kZstd;
    case fmt_::CompressionCodec::BROTLI: return Compression::kBrotli;
    case fmt_::CompressionCodec::LZ4_RAW: return Compression::kLz4Raw;
    case fmt_::CompressionCodec::LZ4: return Compression::kLz4;
    default:
      throw Error::InvalidInput(fmt::format(
          "compression codec {} is not supported (UNCOMPRESSED, SNAPPY, GZIP, ZSTD, BROTLI, LZ4 and "
          "LZ4_RAW are; LZO is not)",
          static_cast<int>(codec)));
  }
}

fmt_::CompressionCodec::type to_thrift(Compression c) {
  switch (c) {
    case Compression::kUncompressed: return fmt_::CompressionCodec::UNCOMPRESSED;
    case Compression::kSnappy: return fmt_::CompressionCodec::SNAPPY;
    case Compression::kGzip: return fmt_::CompressionCodec::GZIP;
    case Compression::kZstd: return fmt_::CompressionCodec::ZSTD;
    case Compression::kBrotli: return fmt_::CompressionCodec::BROTLI;
    case Compression::kLz4Raw: return fmt_::CompressionCodec::LZ4_RAW;
    case Compression::kLz4: return fmt_::CompressionCodec::LZ4;
  }
  return fmt_::CompressionCodec::UNCOMPRESSED;
}

PhysicalType from_thrift(fmt_::Type::type t) {
  switch (t) {
    case fmt_::Type::BOOLEAN: return PhysicalType::kBoolean;
    case fmt_::Type::INT32: return PhysicalType::kInt32;
    case fmt_::Type::INT64: return PhysicalType::kInt64;
    case fmt_::Type::INT96: return PhysicalType::kInt96;
    case fmt_::Type::FLOAT: return PhysicalType::kFloat;
    case fmt_::Type::DOUBLE: return PhysicalType::kDouble;
    case fmt_::Type::BYTE_ARRAY: return PhysicalType::kByteArray;
    case fmt_::Type::FIXED_LEN_BYTE_ARRAY: return PhysicalType::kFixedLenByteArray;
  }
  throw Error::DataLoss(fmt::format("unknown physical type {}", static_cast<int>(t)));
}

fmt_::Type::type to_thrift(PhysicalType t) {
  switch (t) {
    case PhysicalType::kBoolean: return fmt_::Type::BOOLEAN;
    case PhysicalType::kInt32: return fmt_::Type::INT32;
    case PhysicalType::kInt64: return fmt_::Type::INT64;
    case PhysicalType::kInt96: return fmt_::Type::INT96;
    case PhysicalType::kFloat: return fmt_::Type::FLOAT;
    case PhysicalType::kDouble: return fmt_::Type::DOUBLE;
    case PhysicalType::kByteArray: return fmt_::Type::BYTE_ARRAY;
    case PhysicalType::kFixedLenByteArray: return fmt_::Type::FIXED_LEN_BYTE_ARRAY;
  }
  return fmt_::Type::INT64;
}

std::string encoding_name(fmt_::Encoding::type e) {
  switch (e) {
    case fmt_::Encoding::PLAIN: return "PLAIN";
    case fmt_::Encoding::PLAIN_DICTIONARY: return "PLAIN_DICTIONARY";
    case fmt_::Encoding::RLE: return "RLE";
    case fmt_::Encoding::BIT_PACKED: return "BIT_PACKED";
    case fmt_::Encoding::DELTA_BINARY_PACKED: return "DELTA_BINARY_PACKED";
    case fmt_::Encoding::DELTA_LENGTH_BYTE_ARRAY: return "DELTA_LENGTH_BYTE_ARRAY";
    case fmt_::Encoding::DELTA_BYTE_ARRAY: return "DELTA_BYTE_ARRAY";
    case fmt_::Encoding::RLE_DICTIONARY: return "RLE_DICTIONARY";
    case fmt_::Encoding::BYTE_STREAM_SPLIT: return "BYTE_STREAM_SPLIT";
  }
  return fmt::format("ENCODING_{}", static_cast<int>(e));
}

void compress(Compression codec, int level, std::string_view in, std::string& out) {
  switch (codec) {
    case Compression::kUncompressed:
      out.append(in);
      return;
    case Compression::kSnappy: {
      size_t start = out.size();
      out.resize(start + snappy::MaxCompressedLength(in.size()));
      size_t n = 0;
      snappy::RawCompress(in.data(), in.size(), out.data() + start, &n);
      out.resize(start + n);
      return;
    }
    case Compression::kZstd: {
      size_t start = out.size();
      out.resize(start + ZSTD_compressBound(in.size()));
      // One context per thread, freed when the thread ends (writer and reader pools start and
      // stop threads).
      thread_local std::unique_ptr<ZSTD_CCtx, decltype(&ZSTD_freeCCtx)> cctx(ZSTD_createCCtx(), &ZSTD_freeCCtx);
      size_t n = ZSTD_compressCCtx(cctx.get(), out.data() + start, out.size() - start, in.data(), in.size(), level);
      if (ZSTD_isError(n)) throw Error::Internal(std::string("zstd: ") + ZSTD_getErrorName(n));
      out.resize(start + n);
      return;
    }
    case Compression::kGzip: {
      z_stream zs{};
      if (deflateInit2(&zs, 6, Z_DEFLATED, 16 + 15, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        throw Error::Internal("zlib: deflateInit2 failed");
      }
      size_t start = out.size();
      out.resize(start + deflateBound(&zs, in.size()) + 32);
      zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
      zs.avail_in = static_cast<uInt>(in.size());
      zs.next_out = reinterpret_cast<Bytef*>(out.data() + start);
      zs.avail_out = static_cast<uInt>(out.size() - start);
      int rc = deflate(&zs, Z_FINISH);
      deflateEnd(&zs);
      if (rc != Z_STREAM_END) throw Error::Internal("zlib: deflate did not finish");
      out.resize(start + zs.total_out);
      return;
    }
    case Compression::kBrotli: {
      size_t start = out.size();
      size_t n = BrotliEncoderMaxCompressedSize(in.size());
      if (n == 0) n = in.size() + 1024;  // the bound is 0 when it would overflow
      out.resize(start + n);
      if (!BrotliEncoderCompress(std::clamp(level, 0, 11), BROTLI_DEFAULT_WINDOW, BROTLI_MODE_GENERIC, in.size(),
                                 reinterpret_cast<const uint8_t*>(in.data()), &n,
                                 reinterpret_cast<uint8_t*>(out.data() + start))) {
        throw Error::Internal("brotli: compression failed");
      }
      out.resize(start + n);
      return;
    }
    case Compression::kLz4Raw: {
      if (in.size() > static_cast<size_t>(LZ4_MAX_INPUT_SIZE)) throw Error::InvalidInput("page too large for LZ4");
      size_t start = out.size();
      out.resize(start + static_cast<size_t>(LZ4_compressBound(static_cast<int>(in.size()))));
      const int n = LZ4_compress_default(in.data(), out.data() + start, static_cast<int>(in.size()),
                                         static_cast<int>(out.size() - start));
      if (n <= 0 && !in.empty()) throw Error::Internal("lz4: compression failed");
      out.resize(start + static_cast<size_t>(std::max(n, 0)));
      return;
    }
    case Compression::kLz4:
      throw Error::InvalidInput("the legacy LZ4 codec is read only; write LZ4_RAW (\"lz4\")");
  }
}

namespace {

uint32_t load_be32(const char* p) {
  const auto* u = reinterpret_cast<const uint8_t*>(p);
  return (uint32_t{u[0]} << 24) | (uint32_t{u[1]} << 16) | (uint32_t{u[2]} << 8) | uint32_t{u[3]};
}

// The legacy LZ4 codec as Hadoop wrote it: blocks of [decompressed length BE32][compressed
// length BE32][LZ4 block]. False (and nothing promised about `out`) when `in` is not framed so.
bool lz4_hadoop(std::string_view in, char* out, size_t size) {
  size_t pos = 0, produced = 0;
  while (pos < in.size()) {
    if (in.size() - pos < 8) return false;
    const uint32_t raw = load_be32(in.data() + pos), packed = load_be32(in.data() + pos + 4);
    pos += 8;
    if (packed > in.size() - pos || raw > size - produced || packed > static_cast<uint32_t>(INT32_MAX) ||
        raw > static_cast<uint32_t>(INT32_MAX)) {
      return false;
    }
    const int n = LZ4_decompress_safe(in.data() + pos, out + produced, static_cast<int>(packed), static_cast<int>(raw));
    if (n < 0 || static_cast<uint32_t>(n) != raw) return false;
    pos += packed;
    produced += raw;
  }
  return produced == size;
}

bool lz4_block(std::string_view in, char* out, size_t size) {
  if (in.size() > static_cast<size_t>(INT32_MAX) || size > static_cast<size_t>(INT32_MAX)) return false;
  const int n = LZ4_decompress_safe(in.data(), out, static_cast<int>(in.size()), static_cast<int>(size));
  return n >= 0 && static_cast<size_t>(n) == size;
}

}  // namespace

void check_page_size(Compression codec, std::string_view in, size_t uncompressed_size) {
  bool plausible = true;
  switch (codec) {
    case Compression::kUncompressed: plausible = in.size() == uncompressed_size; break;
    case Compression::kSnappy: {
      size_t n = 0;
      plausible = snappy::GetUncompressedLength(in.data(), in.size(), &n) && n == uncompressed_size;
      break;
    }
    case Compression::kZstd: {
      // The frame's content size is a claim like the header's: whatever it says, a block holds
      // at most 128 KiB and costs at least 4 bytes (an RLE block).
      const unsigned long long n = ZSTD_getFrameContentSize(in.data(), in.size());
      plausible = n != ZSTD_CONTENTSIZE_ERROR && (n == ZSTD_CONTENTSIZE_UNKNOWN || n == uncompressed_size) &&
                  uncompressed_size / 32768 <= in.size();
      break;
    }
    case Compression::kGzip: plausible = uncompressed_size / 1032 <= in.size(); break;  // deflate's limit
    // LZ4 expands at most ~255:1 (a match length costs one byte per 255).
    case Compression::kLz4Raw: case Compression::kLz4: plausible = uncompressed_size / 256 <= in.size() + 16; break;
    // Brotli has no useful bound (a few bytes can repeat a byte for megabytes): allow 64 KiB
    // per input byte or 64 MiB, whichever is more.
    case Compression::kBrotli:
      plausible = uncompressed_size <= std::max<size_t>(in.size() * 65536, size_t{64} << 20);
      break;
  }
  if (!plausible) {
    throw Error::DataLoss(fmt::format("{} page of {} bytes cannot hold the {} bytes its header claims",
                                      to_string(codec), in.size(), uncompressed_size));
  }
}

void decompress(Compression codec, std::string_view in, size_t uncompressed_size, std::string& out) {
  check_page_size(codec, in, uncompressed_size);  // before allocating what the header claims
  out.resize(uncompressed_size);
  decompress(codec, in, out.data(), uncompressed_size);
}

void decompress(Compression codec, std::string_view in, char* out, size_t uncompressed_size) {
  check_page_size(codec, in, uncompressed_size);
  switch (codec) {
    case Compression::kUncompressed:
      if (in.size() != uncompressed_size) {
        throw Error::DataLoss(fmt::format("page size {} does not match its header ({})", in.size(), uncompressed_size));
      }
      if (!in.empty()) std::memcpy(out, in.data(), in.size());
      return;
    case Compression::kSnappy: {
      size_t n = 0;
      if (!snappy::GetUncompressedLength(in.data(), in.size(), &n) || n != uncompressed_size ||
          !snappy::RawUncompress(in.data(), in.size(), out)) {
        throw Error::DataLoss("snappy page is corrupt or its size does not match the page header");
      }
      return;
    }
    case Compression::kZstd: {
      thread_local std::unique_ptr<ZSTD_DCtx, decltype(&ZSTD_freeDCtx)> dctx(ZSTD_createDCtx(), &ZSTD_freeDCtx);
      size_t n = ZSTD_decompressDCtx(dctx.get(), out, uncompressed_size, in.data(), in.size());
      if (ZSTD_isError(n) || n != uncompressed_size) {
        throw Error::DataLoss(fmt::format("zstd page is corrupt or its size does not match the page header ({})",
                                          ZSTD_isError(n) ? ZSTD_getErrorName(n) : "size"));
      }
      return;
    }
    case Compression::kGzip: {
      z_stream zs{};
      if (inflateInit2(&zs, 15 + 32) != Z_OK) throw Error::Internal("zlib: inflateInit2 failed");
      zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
      zs.avail_in = static_cast<uInt>(in.size());
      zs.next_out = reinterpret_cast<Bytef*>(out);
      zs.avail_out = static_cast<uInt>(uncompressed_size);
      int rc = inflate(&zs, Z_FINISH);
      size_t produced = zs.total_out;
      inflateEnd(&zs);
      if ((rc != Z_STREAM_END && !(rc == Z_BUF_ERROR && uncompressed_size == 0)) || produced != uncompressed_size) {
        throw Error::DataLoss("gzip page is corrupt or its size does not match the page header");
      }
      return;
    }
    case Compression::kBrotli: {
      size_t n = uncompressed_size;
      if (BrotliDecoderDecompress(in.size(), reinterpret_cast<const uint8_t*>(in.data()), &n,
                                  reinterpret_cast<uint8_t*>(out)) != BROTLI_DECODER_RESULT_SUCCESS ||
          n != uncompressed_size) {
        throw Error::DataLoss("brotli page is corrupt or its size does not match the page header");
      }
      return;
    }
    case Compression::kLz4Raw:
      if (!lz4_block(in, out, uncompressed_size)) {
        throw Error::DataLoss("LZ4_RAW page is corrupt or its size does not match the page header");
      }
      return;
    case Compression::kLz4:
      // Hadoop's framing first, then a bare block, as other readers do for this ambiguous codec.
      if (!lz4_hadoop(in, out, uncompressed_size) && !lz4_block(in, out, uncompressed_size)) {
        throw Error::DataLoss("LZ4 page is corrupt or its size does not match the page header");
      }
      return;
  }
}

// ---- RLE / bit-packing hybrid ----

namespace {
void bit_pack_group(const uint32_t* values, int bit_width, std::string& out) {
  // 8 values, LSB first, bit_width bytes.
  uint64_t acc = 0;
  int bits = 0;
  for (int i = 0; i < 8; ++i) {
    acc |= static_cast<uint64_t>(values[i]) << bits;
    bits += bit_width;
    while (bits >= 8) {
      out.push_back(static_cast<char>(acc & 0xff));
      acc >>= 8;
      bits -= 8;
    }
  }
}
}  // namespace

void rle_encode(const uint32_t* values, size_t count, int bit_width, std::string& out) {
  const int value_bytes = (bit_width + 7) / 8;
  std::vector<uint32_t> literals;
  auto flush_literals = [&] {
    if (literals.empty()) return;
    while (literals.size() % 8 != 0) literals.push_back(0);
    put_uvarint(out, ((literals.size() / 8) << 1) | 1);
    for (size_t g = 0; g < literals.size(); g += 8) bit_pack_group(&literals[g], bit_width, out);
    literals.clear();
  };
  size_t i = 0;
  while (i < count) {
    size_t j = i + 1;
    while (j < count && values[j] == values[i]) ++j;
    const size_t run = j - i;
    if (run >= 8 && literals.size() % 8 == 0) {
      flush_literals();
      put_uvarint(out, static_cast<uint64_t>(run) << 1);
      uint32_t v = values[i];
      for (int b = 0; b < value_bytes; ++b) out.push_back(static_cast<char>((v >> (8 * b)) & 0xff));
      i = j;
    } else {
      // Take values up to the next group boundary as literals.
      size_t take = 8 - literals.size() % 8;
      for (size_t k = 0; k < take && i < count; ++k) literals.push_back(values[i++]);
    }
  }
  flush_literals();
}

void ByteReader::need(size_t n, const char* what) const {
  if (remaining() < n) {
    throw Error::DataLoss(fmt::format("{}: page data ends early (need {} bytes, {} left)", what, n, remaining()));
  }
}

uint64_t ByteReader::uvarint(const char* what) {
  uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    need(1, what);
    uint8_t b = *pos++;
    v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return v;
  }
  throw Error::DataLoss(fmt::format("{}: varint too long", what));
}

namespace {

// Unpacks `groups` groups of 8 bit-packed values of width W (LSB first, W bytes per group).
// Reads up to (7 * W) / 8 + 8 bytes past the start of the last group: callers check.
template <int W>
void unpack_groups(const uint8_t* in, size_t groups, uint32_t* out) {
  constexpr uint64_t kMask = W == 32 ? 0xffffffffULL : ((uint64_t{1} << W) - 1);
  for (size_t g = 0; g < groups; ++g, in += W, out += 8) {
    for (int j = 0; j < 8; ++j) {  // constant trip count and shifts: fully unrolled
      uint64_t word;
      std::memcpy(&word, in + (j * W) / 8, 8);
      out[j] = static_cast<uint32_t>((word >> ((j * W) % 8)) & kMask);
    }
  }
}

using UnpackGroups = void (*)(const uint8_t*, size_t, uint32_t*);

// kUnpackGroups[w] unpacks width w; width 0 has no entry (the "W == 0 ? 1 : W" only keeps the
// unused branch from instantiating unpack_groups<0>).
template <size_t... W>
constexpr std::array<UnpackGroups, sizeof...(W)> unpack_table(std::index_sequence<W...>) {
  return {(W == 0 ? nullptr : &unpack_groups<static_cast<int>(W == 0 ? 1 : W)>)...};
}

constexpr auto kUnpackGroups = unpack_table(std::make_index_sequence<33>{});

}  // namespace

RleDecoder::RleDecoder(const uint8_t* data, size_t size, int bit_width)
    : data_(data), end_(data + size), bit_width_(bit_width) {
  if (bit_width < 0 || bit_width > 32) throw Error::DataLoss(fmt::format("RLE bit width {} is invalid", bit_width));
}

bool RleDecoder::next_run() {
  if (data_ >= end_) return false;
  ByteReader r{data_, end_};
  uint64_t header = r.uvarint("RLE run header");
  if (header & 1) {
    uint64_t groups = header >> 1;
    // The last run may be cut short by writers that do not pad; take what is there.
    uint64_t bytes = std::min<uint64_t>(groups * static_cast<uint64_t>(bit_width_), r.remaining());
    if (groups > (uint64_t{1} << 40)) bytes = r.remaining();
    literal_left_ = bit_width_ == 0 ? groups * 8 : (bytes * 8) / static_cast<uint64_t>(bit_width_);
    literal_left_ = std::min(literal_left_, groups * 8);
    literal_pos_ = r.pos;
    literal_bit_ = 0;
    data_ = r.pos + bytes;
  } else {
    repeat_left_ = header >> 1;
    int value_bytes = (bit_width_ + 7) / 8;
    r.need(static_cast<size_t>(value_bytes), "RLE run value");
    uint32_t v = 0;
    for (int b = 0; b < value_bytes; ++b) v |= static_cast<uint32_t>(r.pos[b]) << (8 * b);
    // Decoders rely on every value being below 2^bit_width (dictionary index checks compare
    // values as signed 32-bit), so a run value with stray high bits is corrupt.
    if (bit_width_ < 32 && (v >> bit_width_) != 0) {
      throw Error::DataLoss(fmt::format("RLE run value {} does not fit its bit width {}", v, bit_width_));
    }
    repeat_value_ = v;
    data_ = r.pos + value_bytes;
  }
  return true;
}

bool RleDecoder::starts_with_run(const uint8_t* data, size_t size, int bit_width, uint32_t value, size_t count) {
  if (bit_width < 0 || bit_width > 32) return false;
  uint64_t header = 0;
  size_t i = 0;
  for (int shift = 0; i < size && shift < 64; shift += 7) {
    const uint8_t b = data[i++];
    header |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) {
      if ((header & 1) != 0 || (header >> 1) < count) return false;
      const size_t value_bytes = static_cast<size_t>((bit_width + 7) / 8);
      if (size - i < value_bytes) return false;
      uint32_t v = 0;
      for (size_t k = 0; k < value_bytes; ++k) v |= static_cast<uint32_t>(data[i + k]) << (8 * k);
      return v == value;
    }
  }
  return false;
}

void RleDecoder::decode(uint32_t* out, size_t count) {
  size_t done = 0;
  const uint64_t mask = bit_width_ == 32 ? 0xffffffffULL : ((uint64_t{1} << bit_width_) - 1);
  while (done < count) {
    if (repeat_left_ > 0) {
      size_t n = static_cast<size_t>(std::min<uint64_t>(repeat_left_, count - done));
      std::fill(out + done, out + done + n, repeat_value_);
      repeat_left_ -= n;
      done += n;
      continue;
    }
    if (literal_left_ > 0) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(literal_left_, count - done));
      uint32_t* o = out + done;
      if (bit_width_ == 0) {
        std::fill(o, o + n, 0u);
      } else {
        const uint64_t run_bytes = static_cast<uint64_t>(data_ - literal_pos_);
        const uint64_t w = static_cast<uint64_t>(bit_width_);
        const uint8_t* base = literal_pos_;
        uint64_t bit = literal_bit_;
        // One value, never reading past the run (a value needs at most 7 + 32 bits of a load).
        auto one = [&](uint32_t* dst) {
          const uint64_t byte = bit >> 3;
          uint64_t word = 0;
          if (byte + 8 <= run_bytes) {
            std::memcpy(&word, base + byte, 8);
          } else {
            for (uint64_t b = 0; byte + b < run_bytes; ++b) word |= static_cast<uint64_t>(base[byte + b]) << (8 * b);
          }
          *dst = static_cast<uint32_t>((word >> (bit & 7)) & mask);
          bit += w;
        };
        // Values up to the next group boundary, then whole groups of 8 (bit_width bytes each)
        // with shifts known at compile time while a group's loads stay inside the run, then
        // the rest one by one.
        size_t k = 0;
        const size_t head = std::min<size_t>(n, static_cast<size_t>((8 - (bit / w) % 8) % 8));
        for (; k < head; ++k) one(o + k);
        const uint64_t byte0 = bit >> 3;
        const uint64_t reach = (7 * w) / 8 + 8;  // bytes past a group's start its loads touch
        if (n - k >= 8 && run_bytes >= byte0 + reach) {
          const uint64_t groups = std::min<uint64_t>((n - k) / 8, (run_bytes - byte0 - reach) / w + 1);
          kUnpackGroups[bit_width_](base + byte0, static_cast<size_t>(groups), o + k);
          k += static_cast<size_t>(groups) * 8;
          bit += groups * 8 * w;
        }
        for (; k < n; ++k) one(o + k);
        literal_bit_ = bit;
      }
      literal_left_ -= n;
      done += n;
      continue;
    }
    if (!next_run()) throw Error::DataLoss("RLE data ends before all values were decoded");
  }
}

}  // namespace trib::parquet::internal

#include "csv_zip.hpp"

#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <limits>

#include <fmt/format.h>

#include "csv_bars.hpp"
#include "trib/core/error.hpp"

namespace trib::providers {
namespace {

constexpr uint32_t kLocalHeaderSig = 0x04034b50;
constexpr uint32_t kCentralHeaderSig = 0x02014b50;
constexpr uint32_t kEndOfDirectorySig = 0x06054b50;
constexpr uint32_t kZip64LocatorSig = 0x07064b50;
constexpr size_t kLocalHeaderSize = 30;
constexpr size_t kCentralHeaderSize = 46;
constexpr size_t kEndOfDirectorySize = 22;
constexpr size_t kZip64LocatorSize = 20;

[[noreturn]] void refuse(const std::string& why) {
  throw Error::InvalidInput(fmt::format("zip archive: {}", why));
}

uint16_t u16(std::string_view b, size_t at) {
  return static_cast<uint16_t>(static_cast<unsigned char>(b[at]) |
                               (static_cast<unsigned char>(b[at + 1]) << 8));
}

uint32_t u32(std::string_view b, size_t at) {
  return static_cast<uint32_t>(u16(b, at)) | (static_cast<uint32_t>(u16(b, at + 2)) << 16);
}

struct Entry {
  std::string name;
  uint16_t flags = 0;
  uint16_t method = 0;
  uint32_t crc = 0;
  uint32_t compressed = 0;
  uint32_t uncompressed = 0;
  uint32_t local_offset = 0;
  bool is_folder() const { return !name.empty() && name.back() == '/'; }
};

// The archive's central directory, checked for what this reader supports.
std::vector<Entry> read_directory(std::string_view zip) {
  if (zip.size() < kEndOfDirectorySize) refuse("too short to be a zip (no end of central directory)");
  // The end record is the last 22 bytes plus a comment of at most 65535 bytes.
  size_t end = std::string_view::npos;
  const size_t last = zip.size() - kEndOfDirectorySize;
  const size_t first = last > 0xFFFF ? last - 0xFFFF : 0;
  for (size_t pos = last + 1; pos-- > first;) {
    if (u32(zip, pos) == kEndOfDirectorySig && pos + kEndOfDirectorySize + u16(zip, pos + 20) <= zip.size()) {
      end = pos;
      break;
    }
  }
  if (end == std::string_view::npos) refuse("no end of central directory (truncated or not a zip)");
  const uint16_t disk = u16(zip, end + 4);
  const uint16_t directory_disk = u16(zip, end + 6);
  const uint16_t entries_here = u16(zip, end + 8);
  const uint16_t entries = u16(zip, end + 10);
  const uint32_t directory_size = u32(zip, end + 12);
  const uint32_t directory_offset = u32(zip, end + 16);
  if ((end >= kZip64LocatorSize && u32(zip, end - kZip64LocatorSize) == kZip64LocatorSig) ||
      entries == 0xFFFF || directory_size == 0xFFFFFFFF || directory_offset == 0xFFFFFFFF) {
    refuse("zip64 archives are not supported (re-create it as a plain zip under 4 GiB)");
  }
  if (disk != 0 || directory_disk != 0 || entries_here != entries) {
    refuse("split (multi-disk) archives are not supported");
  }
  if (uint64_t{directory_offset} + directory_size > end) {
    refuse("the central directory lies outside the archive (truncated or damaged)");
  }
  std::vector<Entry> out;
  size_t pos = directory_offset;
  const size_t directory_end = size_t{directory_offset} + directory_size;
  for (uint32_t i = 0; i < entries; ++i) {
    if (pos + kCentralHeaderSize > directory_end || u32(zip, pos) != kCentralHeaderSig) {
      refuse(fmt::format("central directory entry {} of {} is damaged", i + 1, entries));
    }
    Entry e;
    e.flags = u16(zip, pos + 8);
    e.method = u16(zip, pos + 10);
    e.crc = u32(zip, pos + 16);
    e.compressed = u32(zip, pos + 20);
    e.uncompressed = u32(zip, pos + 24);
    const size_t name_len = u16(zip, pos + 28);
    const size_t extra_len = u16(zip, pos + 30);
    const size_t comment_len = u16(zip, pos + 32);
    e.local_offset = u32(zip, pos + 42);
    const size_t next = pos + kCentralHeaderSize + name_len + extra_len + comment_len;
    if (next > directory_end) {
      refuse(fmt::format("central directory entry {} of {} is damaged", i + 1, entries));
    }
    e.name = std::string(zip.substr(pos + kCentralHeaderSize, name_len));
    if (e.compressed == 0xFFFFFFFF || e.uncompressed == 0xFFFFFFFF || e.local_offset == 0xFFFFFFFF) {
      refuse("zip64 entries are not supported (re-create it as a plain zip under 4 GiB)");
    }
    out.push_back(std::move(e));
    pos = next;
  }
  return out;
}

uint32_t crc_of(std::string_view bytes) {
  uLong crc = crc32(0L, Z_NULL, 0);
  while (!bytes.empty()) {
    const size_t n = std::min<size_t>(bytes.size(), 1u << 30);
    crc = crc32(crc, reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uInt>(n));
    bytes.remove_prefix(n);
  }
  return static_cast<uint32_t>(crc);
}

std::string inflate_raw(std::string_view data, size_t expected, const std::string& shown) {
  z_stream zs{};
  if (inflateInit2(&zs, -MAX_WBITS) != Z_OK) throw Error::Internal("zlib: inflateInit2 failed");
  struct End {
    z_stream* zs;
    ~End() { inflateEnd(zs); }
  } end{&zs};
  // Grown as output arrives: a small archive that declares a huge size costs nothing up front.
  std::string out(std::min(expected, std::max<size_t>(data.size() * 4, 64 * 1024)), '\0');
  size_t produced = 0;
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());  // < 4 GiB: sizes are 32-bit without zip64
  while (true) {
    if (produced == out.size()) {
      if (out.size() == expected) {
        // Full: the stream must end here; one more byte out means the entry is longer.
        unsigned char probe = 0;
        zs.next_out = &probe;
        zs.avail_out = 1;
        const int rc = inflate(&zs, Z_NO_FLUSH);
        if (rc == Z_STREAM_END && zs.avail_out == 1) break;
        if (zs.avail_out == 0) {
          refuse(fmt::format("'{}' inflates to more than the {} bytes its directory entry says",
                             shown, expected));
        }
        refuse(fmt::format("'{}' is damaged (deflate stream: {})", shown,
                           zs.msg != nullptr ? zs.msg : "does not end"));
      }
      out.resize(std::min(expected, out.size() * 2));
    }
    const size_t room = std::min<size_t>(out.size() - produced, 1u << 30);
    zs.next_out = reinterpret_cast<Bytef*>(out.data() + produced);
    zs.avail_out = static_cast<uInt>(room);
    const int rc = inflate(&zs, Z_NO_FLUSH);
    produced += room - zs.avail_out;
    if (rc == Z_STREAM_END) break;
    if (rc == Z_OK) continue;
    if (rc == Z_BUF_ERROR && zs.avail_in == 0) {
      refuse(fmt::format("'{}' is truncated (its deflate stream ends early)", shown));
    }
    refuse(fmt::format("'{}' is damaged (deflate stream: {})", shown,
                       zs.msg != nullptr ? zs.msg : "error " + std::to_string(rc)));
  }
  if (produced != expected) {
    refuse(fmt::format("'{}' inflates to {} bytes, its directory entry says {}", shown, produced,
                       expected));
  }
  out.resize(produced);
  return out;
}

std::string list_names(const std::vector<const Entry*>& files) {
  std::string out;
  for (size_t i = 0; i < files.size() && i < 5; ++i) {
    out += (i == 0 ? "" : ", ") + printable_excerpt(files[i]->name, 60);
  }
  if (files.size() > 5) out += fmt::format(", ... ({} more)", files.size() - 5);
  return out;
}

}  // namespace

std::vector<std::string> zip_file_names(std::string_view archive) {
  std::vector<std::string> names;
  for (auto& e : read_directory(archive)) {
    if (!e.is_folder()) names.push_back(std::move(e.name));
  }
  return names;
}

ZipFile read_single_file_zip(std::string_view zip, size_t max_bytes) {
  const std::vector<Entry> entries = read_directory(zip);
  std::vector<const Entry*> files;
  bool workbook = false;
  for (const Entry& e : entries) {
    if (e.name == "[Content_Types].xml" || e.name.rfind("xl/", 0) == 0) workbook = true;
    if (!e.is_folder()) files.push_back(&e);
  }
  if (workbook) {
    refuse("this is an Excel workbook (.xlsx), not a zipped CSV; save the sheet as CSV");
  }
  if (files.empty()) refuse("it holds no file; expected one CSV (as in Lean's daily zips)");
  if (files.size() > 1) {
    refuse(fmt::format("it holds {} files ({}); expected exactly one CSV, as in Lean's daily zips",
                       files.size(), list_names(files)));
  }
  const Entry& e = *files.front();
  const std::string shown = printable_excerpt(e.name, 60);
  if ((e.flags & 0x1) != 0) refuse(fmt::format("'{}' is encrypted", shown));
  if (e.method != 0 && e.method != 8) {
    refuse(fmt::format("'{}' uses compression method {}; only stored (0) and deflate (8) are read",
                       shown, e.method));
  }
  if (e.uncompressed > max_bytes) {
    refuse(fmt::format("'{}' is {} bytes uncompressed, over the {} this reader inflates", shown,
                       e.uncompressed, max_bytes));
  }
  const size_t at = e.local_offset;
  if (at + kLocalHeaderSize > zip.size() || u32(zip, at) != kLocalHeaderSig) {
    refuse(fmt::format("the local header of '{}' is missing or damaged", shown));
  }
  if (u16(zip, at + 8) != e.method) {
    refuse(fmt::format("the local header of '{}' disagrees with the central directory", shown));
  }
  const size_t data_at = at + kLocalHeaderSize + u16(zip, at + 26) + u16(zip, at + 28);
  if (data_at > zip.size() || zip.size() - data_at < e.compressed) {
    refuse(fmt::format("'{}' is truncated ({} compressed bytes past the end of the archive)", shown,
                       e.compressed));
  }
  const std::string_view data = zip.substr(data_at, e.compressed);
  ZipFile out;
  out.name = e.name;
  if (e.method == 0) {
    if (e.compressed != e.uncompressed) {
      refuse(fmt::format("'{}' is stored but its sizes differ ({} vs {})", shown, e.compressed,
                         e.uncompressed));
    }
    out.bytes = std::string(data);
  } else {
    out.bytes = inflate_raw(data, e.uncompressed, shown);
  }
  if (crc_of(out.bytes) != e.crc) {
    refuse(fmt::format("'{}' fails its CRC-32 check (the archive is damaged)", shown));
  }
  return out;
}

}  // namespace trib::providers

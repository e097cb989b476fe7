// A minimal zip reader for the csv vendor: enough for QuantConnect Lean's daily zips (one CSV per
// archive), on zlib. Reads the central directory for each entry's sizes and CRC, then the entry's
// local file header; stored (0) and deflate (8) entries; CRC-32 checked. Refused, clearly:
// zip64, encrypted entries, other methods, split archives, damaged archives.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace trib::providers {

// The largest entry the reader inflates (Lean's largest daily CSVs are a few hundred KiB).
inline constexpr size_t kMaxZipEntryBytes = size_t{512} << 20;

struct ZipFile {
  std::string name;   // as stored in the archive (may hold any bytes; print with care)
  std::string bytes;  // uncompressed, CRC-checked
};

// Names of the files (not folders) the archive lists, in directory order. Throws
// Error::InvalidInput when `archive` is not a readable zip.
std::vector<std::string> zip_file_names(std::string_view archive);

// The one file the archive holds. Throws Error::InvalidInput when it holds none or several
// (naming them), or when it cannot be read (zip64, encryption, an unknown method, a bad CRC, a
// truncated or inconsistent archive, an entry over `max_bytes`).
ZipFile read_single_file_zip(std::string_view archive, size_t max_bytes = kMaxZipEntryBytes);

}  // namespace trib::providers

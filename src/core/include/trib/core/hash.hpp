// Content hashing: SHA-256 for content addresses and lineage, FNV-1a for cheap deterministic
// seeds and ids.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace trib {

std::string sha256_hex(std::string_view bytes);  // 64 lowercase hex digits

// Incremental SHA-256 for streamed content.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(std::string_view bytes);
  std::string hex_digest();  // finishes; the object must not be updated after

 private:
  void* ctx_;
};

uint64_t fnv1a64(std::string_view bytes, uint64_t seed = 1469598103934665603ULL);

}  // namespace trib

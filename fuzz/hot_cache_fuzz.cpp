// libFuzzer target for the hot cache's value format (src/catalog/hot_codec.cpp): a value read
// back from a damaged or tampered catalog must decode or throw trib::Error (DataLoss), never
// read out of bounds, overflow or allocate more than its bytes describe. A value that decodes
// re-encodes (when its rows are valid) to bytes that decode to as many rows again.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "trib/catalog/hot_codec.hpp"
#include "trib/core/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  std::vector<trib::catalog::HotBar> rows;
  try {
    rows = trib::catalog::decode_hot_rows(bytes);
  } catch (const trib::Error&) {
    return 0;
  }
  std::string again;
  try {
    again = trib::catalog::encode_hot_rows(rows);
  } catch (const trib::Error& e) {
    if (e.category() != trib::ErrorCategory::kInvalidInput) __builtin_trap();
    return 0;  // out of order or non-finite: refused by the writer, as it must be
  }
  if (trib::catalog::decode_hot_rows(again).size() != rows.size()) __builtin_trap();
  return 0;
}

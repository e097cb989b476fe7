// libFuzzer target for the Azure Functions invocation JSON (src/server/invocation.cpp): whatever
// the host, or anything that reaches the handler's port, sends must parse or throw trib::Error
// (InvalidInput), never crash; what parses has object-valued Data and Metadata.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "trib/core/error.hpp"
#include "trib/server/functions.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  try {
    const trib::server::Invocation inv = trib::server::parse_invocation(bytes);
    if (!inv.data.is_object() || !inv.metadata.is_object()) __builtin_trap();
  } catch (const trib::Error& e) {
    if (e.category() != trib::ErrorCategory::kInvalidInput) __builtin_trap();
  }
  return 0;
}

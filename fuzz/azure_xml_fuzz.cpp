// libFuzzer target for the Azure Blob answers we parse (src/lake/azure_blob_xml.cpp: List Blobs
// pages; src/net/azure_error.cpp: error bodies): any bytes a server, a proxy or an attacker in the
// middle sends must parse or throw trib::Error (DataLoss), never read out of bounds or crash.
// What parses must keep our invariants: every blob has a name, ETags come out quoted.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "trib/core/error.hpp"
#include "trib/lake/object_store.hpp"
#include "trib/net/azure_storage.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  try {
    const trib::lake::BlobListPage page = trib::lake::parse_blob_list(bytes);
    for (const auto& blob : page.blobs) {
      if (blob.key.empty()) __builtin_trap();
      if (!blob.etag.empty() && (blob.etag.size() < 2 || blob.etag.front() != '"' || blob.etag.back() != '"')) __builtin_trap();
    }
  } catch (const trib::Error& e) {
    if (e.category() != trib::ErrorCategory::kDataLoss) __builtin_trap();
  }
  trib::net::HttpResponse response;
  response.status = 403;
  response.body = std::string(bytes);
  const trib::net::azure::ServiceError error = trib::net::azure::parse_service_error(response);
  if (error.message.size() > 300 + 300) __builtin_trap();
  return 0;
}

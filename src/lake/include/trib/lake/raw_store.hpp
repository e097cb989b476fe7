// The immutable raw zone: exact vendor bytes, content-addressed, written once, each with a
// sidecar describing the request (never credentials), the status and the fetch time.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "trib/core/time.hpp"
#include "trib/lake/object_store.hpp"

namespace trib::lake {

struct RawObject {
  std::string key;       // object key of the payload
  std::string sha256;    // of the payload bytes
  uint64_t size = 0;
  bool newly_written = false;  // false when identical bytes were already stored
};

struct RawPut {
  std::string vendor;            // "sim", "csv", ...
  std::string dataset;           // "bars"
  std::string symbol_component;  // Symbol::path_component(), or "_multi" for multi-symbol files
  Date fetched;                  // the date of the fetch (part of the path)
  std::string ext;               // "csv", "json"
  std::string window;            // "" or "<from>_<to>": part of the key (see raw_key)
  nlohmann::json sidecar;        // request description, status, fetched_at; no secrets
};

class RawStore {
 public:
  explicit RawStore(ObjectStore& store) : store_(store) {}
  // Stores `bytes` once (put-if-absent on the content address) and its sidecar. Idempotent.
  RawObject put(const RawPut& put, std::string_view bytes);
  // Throws Error::NotFound, or Error::DataLoss when the bytes no longer match their address.
  std::string get(std::string_view key) const;

 private:
  ObjectStore& store_;
};

}  // namespace trib::lake

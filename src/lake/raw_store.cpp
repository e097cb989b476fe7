#include "trib/lake/raw_store.hpp"

#include <fmt/format.h>

#include "trib/core/error.hpp"
#include "trib/core/hash.hpp"
#include "trib/lake/layout.hpp"

namespace trib::lake {

RawObject RawStore::put(const RawPut& put, std::string_view bytes) {
  RawObject object;
  object.sha256 = sha256_hex(bytes);
  object.size = bytes.size();
  object.key = raw_key(put.vendor, put.dataset, put.symbol_component, put.fetched, object.sha256,
                       put.ext, put.window);
  // The sidecar goes first: a payload is never visible without its request description.
  // Both are put-if-absent, so a retry after a crash between the two completes the pair.
  nlohmann::json sidecar = put.sidecar;
  sidecar["sha256"] = object.sha256;
  sidecar["size"] = object.size;
  store_.put_if_absent(raw_sidecar_key(object.key), sidecar.dump(2) + "\n");
  object.newly_written = store_.put_if_absent(object.key, bytes);
  return object;
}

std::string RawStore::get(std::string_view key) const {
  std::string bytes = store_.get(key);
  // The file name is the content address: <sha256>.<ext>.
  size_t slash = key.rfind('/');
  std::string_view name = key.substr(slash == std::string_view::npos ? 0 : slash + 1);
  std::string_view expected = name.substr(0, name.find('.'));
  if (expected.size() == 64 && sha256_hex(bytes) != expected) {
    throw Error::DataLoss(fmt::format(
        "raw object '{}' no longer matches its content address (sha256 {}); the raw zone was "
        "modified outside Tributary",
        key, sha256_hex(bytes)));
  }
  return bytes;
}

}  // namespace trib::lake

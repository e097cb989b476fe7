// parse_invocation: the Functions host's invocation JSON, in a file of its own so the fuzz target
// (fuzz/functions_invocation_fuzz.cpp) builds it alone.
#include <nlohmann/json.hpp>

#include "trib/core/error.hpp"
#include "trib/server/functions.hpp"

namespace trib::server {

using nlohmann::json;

Invocation parse_invocation(std::string_view body) {
  json doc = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) throw Error::InvalidInput("Functions invocation: the body is not JSON");
  if (!doc.is_object()) throw Error::InvalidInput("Functions invocation: the body is not a JSON object");
  Invocation inv;
  if (auto it = doc.find("Data"); it != doc.end() && !it->is_null()) {
    if (!it->is_object()) throw Error::InvalidInput("Functions invocation: \"Data\" is not an object");
    inv.data = std::move(*it);
  }
  if (auto it = doc.find("Metadata"); it != doc.end() && !it->is_null()) {
    if (!it->is_object()) throw Error::InvalidInput("Functions invocation: \"Metadata\" is not an object");
    inv.metadata = std::move(*it);
  }
  return inv;
}

}  // namespace trib::server

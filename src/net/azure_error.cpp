// Azure's error answers (x-ms-error-code, <Error><Code/><Message/></Error>): its own file so the
// fuzz target (fuzz/azure_xml_fuzz.cpp) builds it without the HTTP client.
#include <fmt/format.h>
#include <pugixml.hpp>

#include "trib/net/azure_storage.hpp"

namespace trib::net::azure {

ServiceError parse_service_error(const HttpResponse& response) {
  ServiceError error;
  error.status = response.status;
  if (auto code = response.header("x-ms-error-code")) error.code = std::string(*code);
  if (!response.body.empty()) {
    pugi::xml_document doc;
    // parse_default without entity expansion surprises: pugixml expands only the predefined
    // entities and never fetches anything.
    if (doc.load_buffer(response.body.data(), response.body.size(), pugi::parse_default)) {
      const pugi::xml_node root = doc.child("Error");
      if (root) {
        if (error.code.empty()) error.code = root.child_value("Code");
        error.message = root.child_value("Message");
        // Azure's message carries "RequestId:...\nTime:..." lines: keep the first line only.
        error.message = error.message.substr(0, error.message.find('\n'));
        if (const char* detail = root.child_value("AuthenticationErrorDetail"); *detail != '\0') {
          error.message += fmt::format(" ({})", detail);
        }
      }
    }
  }
  if (error.message.size() > 300) error.message.resize(300);
  return error;
}

}  // namespace trib::net::azure

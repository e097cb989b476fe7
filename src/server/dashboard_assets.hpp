// The dashboard's files (web/ and lightweight-charts from node_modules), embedded into the binary
// at build time by cmake/EmbedFiles.cmake, so `trib serve` needs nothing beside it at run time.
#pragma once

#include <cstddef>
#include <string_view>

namespace trib::server {

struct EmbeddedFile {
  const char* name;          // "index.html", "app.js", "style.css", "lightweight-charts.js"
  const char* content_type;
  const unsigned char* data;
  size_t size;
  const char* etag;          // the SHA-256 of the bytes (hex, first 32), computed at build time
};

// nullptr for a name that is not one of the files (no path is ever opened).
const EmbeddedFile* find_dashboard_file(std::string_view name);

}  // namespace trib::server

// List Blobs answers (EnumerationResults XML) to ObjectInfo pages: its own file so the fuzz
// target (fuzz/azure_xml_fuzz.cpp) builds it without the HTTP client.
#include <stdexcept>
#include <string>

#include <fmt/format.h>
#include <pugixml.hpp>

#include "trib/core/error.hpp"
#include "trib/lake/object_store.hpp"

namespace trib::lake {

// ETags in one form, as the ETag header gives them (quoted): listings may give them bare.
std::string quoted_etag(std::string_view etag) {
  if (etag.empty() || (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"')) return std::string(etag);
  return fmt::format("\"{}\"", etag);
}

BlobListPage parse_blob_list(std::string_view xml) {
  pugi::xml_document doc;
  const pugi::xml_parse_result parsed = doc.load_buffer(xml.data(), xml.size(), pugi::parse_default);
  if (!parsed) throw Error::DataLoss(fmt::format("List Blobs answer is not XML ({})", parsed.description()));
  const pugi::xml_node root = doc.child("EnumerationResults");
  if (!root) throw Error::DataLoss("List Blobs answer has no <EnumerationResults>");
  BlobListPage page;
  for (const pugi::xml_node blob : root.child("Blobs").children("Blob")) {
    ObjectInfo info;
    info.key = blob.child_value("Name");
    if (info.key.empty()) throw Error::DataLoss("List Blobs answer has a <Blob> without a <Name>");
    const pugi::xml_node props = blob.child("Properties");
    const std::string length = props.child_value("Content-Length");
    try {
      size_t used = 0;
      if (length.empty() || length[0] < '0' || length[0] > '9') throw std::invalid_argument(length);
      info.size = std::stoull(length, &used);
      if (used != length.size()) throw std::invalid_argument(length);
    } catch (const std::exception&) {
      throw Error::DataLoss(fmt::format("List Blobs answer: blob {} has no valid Content-Length", info.key));
    }
    info.etag = quoted_etag(props.child_value("Etag"));
    info.content_md5 = props.child_value("Content-MD5");
    page.blobs.push_back(std::move(info));
  }
  page.next_marker = root.child_value("NextMarker");
  return page;
}

}  // namespace trib::lake

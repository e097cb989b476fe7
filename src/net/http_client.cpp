#include "trib/net/http_client.hpp"

#include <algorithm>
#include <cctype>

namespace trib::net {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

std::optional<std::string_view> find_header(const HeaderList& headers, std::string_view name) {
  for (const auto& [key, value] : headers) {
    if (iequals(key, name)) return std::string_view(value);
  }
  return std::nullopt;
}

void HttpRequest::set_header(std::string_view name, std::string_view value) {
  std::erase_if(headers, [&](const auto& header) { return iequals(header.first, name); });
  headers.emplace_back(std::string(name), std::string(value));
}

}  // namespace trib::net

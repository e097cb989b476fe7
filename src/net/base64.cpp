#include "trib/net/base64.hpp"

#include <openssl/evp.h>

#include <cctype>

#include <fmt/format.h>

#include "trib/core/error.hpp"

namespace trib::net {

std::string base64_encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::string base64_decode(std::string_view text, std::string_view what) {
  if (text.empty()) return {};
  // EVP_DecodeBlock reports padding only as extra zero bytes, so validate the shape first and
  // strip the padding's bytes after.
  if (text.size() % 4 != 0) {
    throw Error::InvalidInput(fmt::format("{} is not base64 (length {} is not a multiple of 4)", what, text.size()));
  }
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const bool padding = c == '=' && i + 2 >= text.size() && (i + 1 == text.size() || text.back() == '=');
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '/' && !padding) {
      throw Error::InvalidInput(fmt::format("{} is not base64 (byte {} is not in the alphabet)", what, i));
    }
  }
  std::string out(text.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (n < 0) throw Error::InvalidInput(fmt::format("{} is not base64", what));
  const size_t pad = (text.back() == '=') + (text.size() >= 2 && text[text.size() - 2] == '=');
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

}  // namespace trib::net

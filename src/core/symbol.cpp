#include "trib/core/symbol.hpp"

#include <cctype>

#include <fmt/format.h>

#include "trib/core/error.hpp"

namespace trib {
namespace {

bool is_alnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

bool is_inner_char(char c) {
  switch (c) {
    case '.': case '^': case '/': case '=': case '_': case '-': case ':': case '+': case '&':
      return true;
    default:
      return is_alnum(c);
  }
}

// Why `text` is not a symbol, or empty when it is one.
std::string violation(std::string_view text) {
  if (text.empty()) return "a symbol cannot be empty";
  if (text.size() > 32) return "a symbol has at most 32 characters";
  if (!is_alnum(text[0]) && text[0] != '^') {
    return "a symbol starts with a letter, a digit or '^'";
  }
  for (char c : text) {
    if (!is_inner_char(c)) {
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return "control characters are not allowed";
      return fmt::format("character '{}' is not allowed (use letters, digits and . ^ / = _ - : + &)", c);
    }
  }
  if (text.find("..") != std::string_view::npos) return "'..' is not allowed in a symbol";
  return {};
}

bool is_path_safe(char c) {
  return is_alnum(c) || c == '.' || c == '_' || c == '^' || c == '=' || c == '-';
}

}  // namespace

bool Symbol::is_valid(std::string_view text) { return violation(text).empty(); }

Symbol Symbol::parse(std::string_view text) {
  if (std::string why = violation(text); !why.empty()) {
    std::string shown;
    for (char c : text.substr(0, 40)) {
      shown += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
    }
    throw Error::InvalidInput(fmt::format("symbol '{}' is invalid: {}", shown, why));
  }
  std::string upper(text);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return Symbol(std::move(upper));
}

std::string Symbol::path_component() const {
  std::string out;
  out.reserve(text_.size());
  for (char c : text_) {
    if (is_path_safe(c)) {
      out += c;
    } else {
      out += fmt::format("%{:02X}", static_cast<unsigned char>(c));
    }
  }
  return out;
}

Symbol Symbol::from_path_component(std::string_view component) {
  std::string decoded;
  for (size_t i = 0; i < component.size(); ++i) {
    char c = component[i];
    if (c == '%') {
      auto hex = [](char h) -> int {
        if (h >= '0' && h <= '9') return h - '0';
        if (h >= 'A' && h <= 'F') return h - 'A' + 10;
        return -1;
      };
      int hi = i + 2 < component.size() ? hex(component[i + 1]) : -1;
      int lo = i + 2 < component.size() ? hex(component[i + 2]) : -1;
      if (hi < 0 || lo < 0) {
        throw Error::InvalidInput(fmt::format("'{}' is not an encoded symbol", component));
      }
      decoded += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      decoded += c;
    }
  }
  Symbol symbol = parse(decoded);
  if (symbol.path_component() != component) {
    throw Error::InvalidInput(fmt::format("'{}' is not an encoded symbol", component));
  }
  return symbol;
}

}  // namespace trib

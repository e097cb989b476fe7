// Instrument symbols, validated once at the edge so every later use (paths, SQL, logs) is safe.
#pragma once

#include <compare>
#include <functional>
#include <string>
#include <string_view>

namespace trib {

// A validated, upper-cased ticker such as AAPL, BRK.B, ^GSPC, EUR/USD or CON.
//
// Rules: 1-32 characters; the first is a letter, digit or '^'; the rest are letters, digits or
// one of . ^ / = _ - : + &; no "..". Letters are upper-cased (tickers are case-insensitive and
// the lake must not hold AAPL and aapl apart on case-insensitive file systems).
class Symbol {
 public:
  Symbol() = default;
  // Throws Error::InvalidInput explaining the rule that `text` broke.
  static Symbol parse(std::string_view text);
  static bool is_valid(std::string_view text);

  const std::string& str() const { return text_; }
  bool empty() const { return text_.empty(); }

  // The symbol as one path component: characters outside [A-Za-z0-9._^=-] are %XX-escaped,
  // so EUR/USD -> EUR%2FUSD. Never '.', '..' or empty; never contains '/'.
  std::string path_component() const;
  // Inverse of path_component(); throws Error::InvalidInput on anything it could not produce.
  static Symbol from_path_component(std::string_view component);

  auto operator<=>(const Symbol&) const = default;

 private:
  explicit Symbol(std::string text) : text_(std::move(text)) {}
  std::string text_;
};

}  // namespace trib

template <>
struct std::hash<trib::Symbol> {
  size_t operator()(const trib::Symbol& s) const noexcept { return std::hash<std::string>{}(s.str()); }
};

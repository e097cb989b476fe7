// Small text helpers shared by the config's list values and the CLI's list flags.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace trib {

// "AAPL, MSFT,,KO" -> {"AAPL", "MSFT", "KO"}: items split at `sep`, spaces and tabs trimmed,
// empty items dropped.
inline std::vector<std::string> split_list(std::string_view text, char sep = ',') {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(sep, start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view item = text.substr(start, end - start);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (!item.empty()) out.emplace_back(item);
    start = end + 1;
  }
  return out;
}

}  // namespace trib

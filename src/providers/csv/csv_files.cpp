#include "csv_files.hpp"

#include <glob.h>

#include <algorithm>
#include <cctype>
#include <set>
#include <system_error>

#include <fmt/format.h>

#include "trib/core/error.hpp"

namespace trib::providers {
namespace fs = std::filesystem;
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool is_data_file_name(const std::string& name) {
  if (name.empty() || name[0] == '.') return false;
  const std::string l = lower(name);
  return ends_with(l, ".csv") || ends_with(l, ".txt") || ends_with(l, ".zip");
}

bool has_glob_chars(std::string_view s) {
  return s.find_first_of("*?[{") != std::string_view::npos || (!s.empty() && s[0] == '~');
}

bool is_regular(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec);
}

std::vector<fs::path> folder_files(const fs::path& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (is_data_file_name(entry.path().filename().string()) && is_regular(entry.path())) {
      out.push_back(entry.path());
    }
  }
  if (ec) {
    throw Error::InvalidInput(fmt::format("{}: cannot list the folder: {}", display_path(dir),
                                          ec.message()));
  }
  std::sort(out.begin(), out.end(),
            [](const fs::path& a, const fs::path& b) { return a.filename() < b.filename(); });
  if (out.empty()) {
    throw Error::InvalidInput(fmt::format(
        "{} is a folder holding no .csv, .txt or .zip file (sub-folders are not searched)",
        display_path(dir)));
  }
  return out;
}

std::vector<fs::path> glob_files(const std::string& pattern) {
  glob_t g{};
  const int rc = ::glob(pattern.c_str(), GLOB_BRACE | GLOB_TILDE, nullptr, &g);
  std::vector<fs::path> out;
  if (rc == 0) {
    for (size_t i = 0; i < g.gl_pathc; ++i) {
      if (is_regular(g.gl_pathv[i])) out.emplace_back(g.gl_pathv[i]);
    }
  }
  ::globfree(&g);
  if (rc != 0 && rc != GLOB_NOMATCH) {
    throw Error::InvalidInput(fmt::format("--file '{}': the pattern could not be expanded ({})",
                                          display_path(pattern),
                                          rc == GLOB_NOSPACE ? "out of memory" : "read error"));
  }
  if (out.empty()) {
    throw Error::InvalidInput(fmt::format("--file '{}' matches no file", display_path(pattern)));
  }
  // Byte order, whatever the locale, so a run is the same everywhere.
  std::sort(out.begin(), out.end(),
            [](const fs::path& a, const fs::path& b) { return a.native() < b.native(); });
  return out;
}

bool alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

}  // namespace

std::string display_path(const fs::path& path) {
  std::string out = path.string();
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) c = '?';
  }
  return out;
}

std::vector<fs::path> expand_csv_inputs(const std::vector<std::string>& inputs) {
  std::vector<fs::path> out;
  std::set<fs::path> seen;
  auto add = [&](const fs::path& p) {
    std::error_code ec;
    fs::path key = fs::weakly_canonical(fs::absolute(p), ec);
    if (ec) key = fs::absolute(p).lexically_normal();
    if (seen.insert(key).second) out.push_back(p);
  };
  for (const std::string& input : inputs) {
    if (input.empty()) throw Error::InvalidInput("--file needs a path, a folder or a pattern");
    const fs::path path(input);
    std::error_code ec;
    const fs::file_status st = fs::status(path, ec);
    if (fs::is_directory(st)) {
      for (const auto& p : folder_files(path)) add(p);
    } else if (fs::exists(st)) {
      add(path);
    } else if (has_glob_chars(input)) {
      for (const auto& p : glob_files(input)) add(p);
    } else {
      throw Error::NotFound(fmt::format("{}: no such file", display_path(path)));
    }
  }
  return out;
}

std::optional<Symbol> symbol_from_file_name(std::string_view file_name) {
  std::string s = lower(file_name);
  // Lean minute files: yyyymmdd_<symbol>_minute_trade.csv (or .zip).
  if (s.size() > 9 && s[8] == '_' && std::all_of(s.begin(), s.begin() + 8, [](char c) { return c >= '0' && c <= '9'; })) {
    const size_t minute = s.find("_minute_", 9);
    if (minute != std::string::npos && minute > 9) {
      const std::string sym = s.substr(9, minute - 9);
      if (Symbol::is_valid(sym)) return Symbol::parse(sym);
    }
  }
  // FXCM (Nautilus test data): <pair>-m1-<bid|ask>-<year>.csv -> PAIR.BID / PAIR.ASK.
  for (std::string_view side : {"bid", "ask"}) {
    const std::string mid = "-m1-" + std::string(side) + "-";
    const size_t at = s.find(mid);
    if (at != std::string::npos && at > 0) {
      const std::string sym = s.substr(0, at) + "." + std::string(side);
      if (Symbol::is_valid(sym)) return Symbol::parse(sym);
    }
  }
  for (bool again = true; again;) {
    again = false;
    for (std::string_view ext : {".zip", ".csv", ".txt"}) {
      if (ends_with(s, ext) && s.size() > ext.size()) {
        s.resize(s.size() - ext.size());
        again = true;
      }
    }
  }
  for (std::string_view suffix : {"_us_daily", "_us_d", "_daily", "_d", "_us", ".us"}) {
    if (ends_with(s, suffix) && s.size() > suffix.size()) {
      s.resize(s.size() - suffix.size());
      break;
    }
  }
  // ^? root(1-10 alnum, a letter among them) ([.-] class(1-2 alnum))?
  size_t i = s.size() > 0 && s[0] == '^' ? 1 : 0;
  const size_t root_start = i;
  bool letter = false;
  while (i < s.size() && alnum(s[i])) letter |= (s[i++] >= 'a');
  const size_t root_len = i - root_start;
  if (root_len == 0 || root_len > 10 || !letter) return std::nullopt;
  if (i < s.size()) {
    if (s[i] != '.' && s[i] != '-') return std::nullopt;
    const size_t class_start = ++i;
    while (i < s.size() && alnum(s[i])) ++i;
    if (i != s.size() || i - class_start < 1 || i - class_start > 2) return std::nullopt;
  }
  if (!Symbol::is_valid(s)) return std::nullopt;
  return Symbol::parse(s);
}

}  // namespace trib::providers

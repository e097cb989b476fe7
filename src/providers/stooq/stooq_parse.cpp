// Stooq daily CSV -> bars, with a finding for every row that cannot be used. Pure: core and
// parse_util only (scripts/fuzz-vendors builds it alone).
#include "stooq_parse.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "trib/core/error.hpp"
#include "trib/providers/parse_util.hpp"

namespace trib::providers::stooq {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '"')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '"')) {
    s.remove_suffix(1);
  }
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view without_bom(std::string_view s) {
  if (s.size() >= 3 && static_cast<unsigned char>(s[0]) == 0xEF && static_cast<unsigned char>(s[1]) == 0xBB &&
      static_cast<unsigned char>(s[2]) == 0xBF) {
    s.remove_prefix(3);
  }
  return s;
}

std::string_view trim_all(std::string_view s) {
  s = without_bom(s);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// A finite decimal number ("247.373", "96911825", "1e3"); nullopt for anything else.
std::optional<double> number_of(std::string_view text) {
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  if (text.empty()) return std::nullopt;
  double out = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(out)) return std::nullopt;
  return out;
}

std::vector<std::string_view> split_cells(std::string_view line) {
  std::vector<std::string_view> cells;
  size_t start = 0;
  while (true) {
    const size_t comma = line.find(',', start);
    cells.push_back(trim(line.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start)));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return cells;
}

}  // namespace

bool is_no_data(std::string_view body) { return lower(trim_all(body)) == "no data"; }

bool is_hits_limit(std::string_view body) {
  return lower(trim_all(body).substr(0, 200)).find("exceeded the daily hits limit") != std::string::npos;
}

ParseResult parse(std::string_view bytes, const ParseContext& context) {
  if (is_no_data(bytes)) throw Error::DataLoss("stooq answered 'No data' instead of a CSV");
  if (is_hits_limit(bytes)) throw Error::DataLoss("stooq answered its daily hits limit message instead of a CSV");
  if (context.timeframe != Timeframe::kDay1) {
    throw Error::DataLoss(fmt::format("stooq payloads hold daily bars, not {}", to_string(context.timeframe)));
  }
  if (context.symbol.empty()) throw Error::DataLoss("stooq payload: no symbol given (the file does not name one)");
  const std::string_view text = without_bom(bytes);

  ParseResult result;
  std::vector<int> columns;  // date, open, high, low, close, volume (-1: absent)
  size_t width = 0;
  bool have_header = false;
  std::vector<Bar> bars;
  size_t start = 0;
  int64_t line_no = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (trim(line).empty()) continue;
    const auto cells = split_cells(line);
    if (!have_header) {
      std::vector<std::string> names;
      for (auto c : cells) names.push_back(lower(c));
      auto find = [&](std::string_view name) {
        auto it = std::find(names.begin(), names.end(), name);
        return it == names.end() ? -1 : static_cast<int>(it - names.begin());
      };
      columns = {find("date"), find("open"), find("high"), find("low"), find("close"), find("volume")};
      if (std::any_of(columns.begin(), columns.begin() + 5, [](int c) { return c < 0; })) {
        throw Error::DataLoss(fmt::format("stooq payload has no header Date,Open,High,Low,Close[,Volume] (first line: '{}')",
                                          one_line_excerpt(line, 80)));
      }
      width = cells.size();
      have_header = true;
      continue;
    }
    if (cells.size() != width) {
      result.findings.push_back(
          finding(line_no, "malformed_row", fmt::format("{} fields where the header has {}", cells.size(), width), line));
      continue;
    }
    const std::string_view date_text = cells[static_cast<size_t>(columns[0])];
    const auto date = date_text.size() == 10 ? iso_date_prefix(date_text) : std::nullopt;
    if (!date) {
      result.findings.push_back(finding(
          line_no, "bad_date", fmt::format("Date '{}' is not YYYY-MM-DD in 1900..2100", one_line_excerpt(date_text, 40)), line));
      continue;
    }
    static constexpr const char* kNames[] = {"Date", "Open", "High", "Low", "Close", "Volume"};
    double values[6] = {0, 0, 0, 0, 0, 0};
    std::optional<ParseFinding> problem;
    for (int k = 1; k <= 5 && !problem; ++k) {
      if (columns[static_cast<size_t>(k)] < 0) continue;  // no Volume column (indices)
      const std::string_view cell = cells[static_cast<size_t>(columns[static_cast<size_t>(k)])];
      if (cell.empty() || lower(cell) == "null" || lower(cell) == "n/d") {
        problem = finding(line_no, "null_value", fmt::format("{} {}: {} is empty", date_text, kNames[k], kNames[k]), line);
      } else if (auto v = number_of(cell)) {
        values[k] = *v;
      } else {
        problem = finding(line_no, "bad_number",
                          fmt::format("{} {}: '{}' is not a number", date_text, kNames[k], one_line_excerpt(cell, 40)), line);
      }
    }
    if (problem) {
      result.findings.push_back(std::move(*problem));
      continue;
    }
    bars.push_back(daily_bar(*date, values[1], values[2], values[3], values[4], values[5], *context.calendar));
  }
  if (!have_header) throw Error::DataLoss("stooq payload is empty");
  std::stable_sort(bars.begin(), bars.end(), [](const Bar& a, const Bar& b) { return a.ts_ns < b.ts_ns; });
  result.bars[context.symbol] = std::move(bars);
  return result;
}

}  // namespace trib::providers::stooq

#include "csv_bars.hpp"

#include <algorithm>
#include <charconv>
#include <cctype>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "trib/core/error.hpp"

namespace trib::providers {
namespace {

std::string lower_trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '"' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '"' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Splits one CSV line into fields; quotes are removed ("" inside quotes is a quote).
void split_fields(std::string_view line, std::vector<std::string_view>& fields, std::string& scratch) {
  fields.clear();
  if (line.find('"') == std::string_view::npos) {
    size_t start = 0;
    while (true) {
      size_t comma = line.find(',', start);
      if (comma == std::string_view::npos) {
        fields.push_back(line.substr(start));
        return;
      }
      fields.push_back(line.substr(start, comma - start));
      start = comma + 1;
    }
  }
  // Slow path: quoted fields are unescaped into scratch; views point into it.
  scratch.clear();
  scratch.reserve(line.size());
  std::vector<std::pair<size_t, size_t>> spans;
  size_t i = 0;
  while (i <= line.size()) {
    size_t begin = scratch.size();
    if (i < line.size() && line[i] == '"') {
      ++i;
      while (i < line.size()) {
        if (line[i] == '"' && i + 1 < line.size() && line[i + 1] == '"') { scratch += '"'; i += 2; continue; }
        if (line[i] == '"') { ++i; break; }
        scratch += line[i++];
      }
      while (i < line.size() && line[i] != ',') scratch += line[i++];
    } else {
      while (i < line.size() && line[i] != ',') scratch += line[i++];
    }
    spans.emplace_back(begin, scratch.size() - begin);
    ++i;  // skip the comma (or step past the end)
  }
  for (auto [b, n] : spans) fields.push_back(std::string_view(scratch).substr(b, n));
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

bool is_missing(std::string_view v) {
  if (v.empty()) return true;
  std::string l = lower_trim(v);
  return l == "null" || l == "nan" || l == "na" || l == "n/a" || l == "-";
}

std::optional<Date> parse_date_field(std::string_view v) {
  if (auto d = Date::try_parse(v.substr(0, std::min<size_t>(v.size(), 10)))) {
    // Accept "YYYY-MM-DD" and "YYYY-MM-DD HH:MM:SS" / "...T..." with midnight or any time.
    if (v.size() == 10 || v[10] == ' ' || v[10] == 'T') return d;
    return std::nullopt;
  }
  if (v.size() == 8 && std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    std::string iso = fmt::format("{}-{}-{}", v.substr(0, 4), v.substr(4, 2), v.substr(6, 2));
    return Date::try_parse(iso);
  }
  return std::nullopt;
}

struct Columns {
  int date = -1, ts = -1, open = -1, high = -1, low = -1, close = -1, volume = -1, symbol = -1;
  size_t count = 0;
};

Columns find_columns(std::string_view header_line) {
  std::vector<std::string_view> fields;
  std::string scratch;
  split_fields(header_line, fields, scratch);
  Columns c;
  c.count = fields.size();
  for (size_t i = 0; i < fields.size(); ++i) {
    std::string name = lower_trim(fields[i]);
    const int idx = static_cast<int>(i);
    if (name == "date" || name == "session_date" || name == "timestamp" || name == "day") {
      if (c.date < 0) c.date = idx;
    } else if (name == "ts") {
      c.ts = idx;
    } else if (name == "open") {
      c.open = idx;
    } else if (name == "high") {
      c.high = idx;
    } else if (name == "low") {
      c.low = idx;
    } else if (name == "close") {
      c.close = idx;
    } else if (name == "volume" || name == "vol") {
      c.volume = idx;
    } else if (name == "name" || name == "symbol" || name == "ticker") {
      c.symbol = idx;
    }
  }
  return c;
}

std::string_view strip_bom(std::string_view text) {
  if (text.size() >= 3 && static_cast<unsigned char>(text[0]) == 0xEF &&
      static_cast<unsigned char>(text[1]) == 0xBB && static_cast<unsigned char>(text[2]) == 0xBF) {
    text.remove_prefix(3);
  }
  return text;
}

}  // namespace

bool csv_has_symbol_column(std::string_view text) {
  text = strip_bom(text);
  return find_columns(text.substr(0, text.find('\n'))).symbol >= 0;
}

ParseResult parse_bar_csv(std::string_view text, const ParseContext& context) {
  text = strip_bom(text);
  ParseResult result;
  size_t pos = text.find('\n');
  std::string_view header = text.substr(0, pos);
  Columns cols = find_columns(header);
  std::vector<std::string> missing;
  if (cols.date < 0) missing.push_back("Date");
  if (cols.open < 0) missing.push_back("Open");
  if (cols.high < 0) missing.push_back("High");
  if (cols.low < 0) missing.push_back("Low");
  if (cols.close < 0) missing.push_back("Close");
  if (cols.volume < 0) missing.push_back("Volume");
  if (!missing.empty()) {
    std::string list;
    for (const auto& m : missing) list += (list.empty() ? "" : ", ") + m;
    throw Error::DataLoss(fmt::format(
        "CSV header '{}' lacks column(s) {}; expected Yahoo style Date,Open,High,Low,Close,Adj Close,Volume "
        "or Kaggle style date,open,high,low,close,volume,Name",
        std::string(trim(header)).substr(0, 120), list));
  }
  if (cols.symbol < 0 && context.symbol.empty()) {
    throw Error::InvalidInput("a single-symbol CSV needs the symbol it holds (--symbol)");
  }
  const TradingCalendar& calendar = *context.calendar;
  std::vector<std::string_view> fields;
  std::string scratch;
  std::map<std::string, Symbol, std::less<>> symbol_cache;
  std::vector<Bar>* single = cols.symbol < 0 ? &result.bars[context.symbol] : nullptr;
  const std::string_view names[] = {"Open", "High", "Low", "Close", "Volume"};
  int64_t line_no = 1;
  while (pos != std::string_view::npos && pos + 1 <= text.size()) {
    size_t start = pos + 1;
    pos = text.find('\n', start);
    std::string_view line = text.substr(start, pos == std::string_view::npos ? std::string_view::npos : pos - start);
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (trim(line).empty()) continue;
    auto finding = [&](std::string rule, std::string reason) {
      result.findings.push_back({line_no, std::move(rule), std::move(reason), std::string(line.substr(0, 200))});
    };
    split_fields(line, fields, scratch);
    if (fields.size() != cols.count) {
      finding("malformed_row", fmt::format("expected {} fields as in the header, found {}", cols.count, fields.size()));
      continue;
    }
    std::string_view date_text = trim(fields[static_cast<size_t>(cols.date)]);
    auto date = parse_date_field(date_text);
    if (!date) {
      finding("bad_date", fmt::format("column 'Date': '{}' is not a date (YYYY-MM-DD)", date_text));
      continue;
    }
    double values[5];
    const int idx[5] = {cols.open, cols.high, cols.low, cols.close, cols.volume};
    bool ok = true;
    for (int k = 0; k < 5 && ok; ++k) {
      std::string_view v = trim(fields[static_cast<size_t>(idx[k])]);
      if (is_missing(v)) {
        finding("missing_value", fmt::format("column '{}' is empty ('{}') on {}", names[k], v, date->to_string()));
        ok = false;
        break;
      }
      auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), values[k]);
      if (ec != std::errc() || end != v.data() + v.size()) {
        finding("bad_number", fmt::format("column '{}': '{}' is not a number", names[k], v));
        ok = false;
      }
    }
    if (!ok) continue;
    Bar bar;
    bar.session_date = *date;
    bar.open = values[0];
    bar.high = values[1];
    bar.low = values[2];
    bar.close = values[3];
    bar.volume = values[4];
    if (cols.ts >= 0) {
      std::string_view ts_text = trim(fields[static_cast<size_t>(cols.ts)]);
      try {
        bar.ts_ns = parse_ts_ns(ts_text, "column 'ts'");
      } catch (const Error& e) {
        finding("bad_date", e.what());
        continue;
      }
    } else {
      bar.ts_ns = context.timeframe == Timeframe::kDay1 ? calendar.session_open_ts_ns(*date) : to_ts_ns(*date);
    }
    if (single != nullptr) {
      single->push_back(bar);
      continue;
    }
    std::string_view sym_text = trim(fields[static_cast<size_t>(cols.symbol)]);
    auto it = symbol_cache.find(sym_text);
    if (it == symbol_cache.end()) {
      if (!Symbol::is_valid(sym_text)) {
        finding("bad_symbol", fmt::format("column 'Name': '{}' is not a valid symbol", sym_text));
        continue;
      }
      it = symbol_cache.emplace(std::string(sym_text), Symbol::parse(sym_text)).first;
    }
    result.bars[it->second].push_back(bar);
  }
  return result;
}

}  // namespace trib::providers

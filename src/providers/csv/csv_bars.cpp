#include "csv_bars.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "trib/core/error.hpp"

namespace trib::providers {
namespace {

constexpr std::string_view kExpectedHeaders =
    "expected a header such as Yahoo 'Date,Open,High,Low,Close,Adj Close,Volume', "
    "Stooq 'Date,Open,High,Low,Close,Volume' or Kaggle 'date,open,high,low,close,volume,Name'";

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

// A header cell as a lookup key: trimmed, unquoted, lower-case, Stooq's <DATE> brackets dropped.
std::string header_key(std::string_view s) {
  s = trim(s);
  while (!s.empty() && (s.front() == '"' || s.front() == '\'' || s.front() == '<')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == '"' || s.back() == '\'' || s.back() == '>')) {
    s.remove_suffix(1);
  }
  s = trim(s);
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Splits one CSV line into fields. Unquoted lines (the common case) yield views into `line`;
// quoted fields are unescaped ("" is a quote) into `scratch` and the views point there.
void split_fields(std::string_view line, std::vector<std::string_view>& fields,
                  std::string& scratch) {
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
  scratch.clear();
  scratch.reserve(line.size());
  std::vector<std::pair<size_t, size_t>> spans;  // built first: scratch must not move under views
  size_t i = 0;
  while (i <= line.size()) {
    size_t begin = scratch.size();
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) scratch += line[i++];
    if (i < line.size() && line[i] == '"') {
      scratch.resize(begin);  // spaces before an opening quote are not content
      ++i;
      while (i < line.size()) {
        if (line[i] == '"' && i + 1 < line.size() && line[i + 1] == '"') {
          scratch += '"';
          i += 2;
        } else if (line[i] == '"') {
          ++i;
          break;
        } else {
          scratch += line[i++];
        }
      }
    }
    while (i < line.size() && line[i] != ',') scratch += line[i++];
    spans.emplace_back(begin, scratch.size() - begin);
    ++i;  // past the comma, or past the end
  }
  for (auto [b, n] : spans) fields.push_back(std::string_view(scratch).substr(b, n));
}

bool iequals(std::string_view a, std::string_view lower) {
  if (a.size() != lower.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != lower[i]) return false;
  }
  return true;
}

// Yahoo writes "null" on holidays; other tools write NaN / NA / N/A / "-". Called for every cell,
// so it must not allocate.
bool is_missing(std::string_view v) {
  if (v.empty()) return true;
  if (v.size() > 4 || (v[0] >= '0' && v[0] <= '9')) return false;
  return iequals(v, "null") || iequals(v, "nan") || iequals(v, "na") || iequals(v, "n/a") ||
         v == "-";
}

bool all_digits(std::string_view v) {
  return std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// YYYY-MM-DD (optionally followed by a time, which daily files sometimes carry as midnight) or
// YYYYMMDD (Stooq bulk files).
std::optional<Date> parse_date_field(std::string_view v) {
  if (v.size() >= 10 && v[4] == '-') {
    if (v.size() > 10 && v[10] != ' ' && v[10] != 'T') return std::nullopt;
    return Date::try_parse(v.substr(0, 10));
  }
  if (v.size() == 8 && all_digits(v)) {
    char iso[10] = {v[0], v[1], v[2], v[3], '-', v[4], v[5], '-', v[6], v[7]};
    return Date::try_parse(std::string_view(iso, sizeof iso));
  }
  return std::nullopt;
}

struct Columns {
  int date = -1, ts = -1, open = -1, high = -1, low = -1, close = -1, volume = -1, symbol = -1;
  int datetime = -1;               // intraday timestamps: recognised only to refuse clearly
  std::vector<std::string> names;  // as written in the header (trimmed, unquoted)
};

Columns find_columns(std::string_view header_line) {
  std::vector<std::string_view> fields;
  std::string scratch;
  split_fields(header_line, fields, scratch);
  Columns c;
  for (size_t i = 0; i < fields.size(); ++i) {
    const std::string key = header_key(fields[i]);
    const int idx = static_cast<int>(i);
    c.names.emplace_back(trim(fields[i]));
    auto set = [&](int& slot) {
      if (slot < 0) slot = idx;  // the first of duplicated headers wins
    };
    if (key == "date" || key == "session_date" || key == "day") {
      set(c.date);
    } else if (key == "datetime" || key == "timestamp" || key == "time") {
      set(c.datetime);
    } else if (key == "ts") {
      set(c.ts);
    } else if (key == "open") {
      set(c.open);
    } else if (key == "high") {
      set(c.high);
    } else if (key == "low") {
      set(c.low);
    } else if (key == "close") {
      set(c.close);
    } else if (key == "volume" || key == "vol") {
      set(c.volume);
    } else if (key == "name" || key == "symbol" || key == "ticker") {
      set(c.symbol);
    }
    // "adj close" / "adjclose" / "adj_close" and anything else: ignored on purpose (prices are
    // stored as traded; adjustments are applied at read time, never baked in).
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

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

// Throws Error::DataLoss unless the header has every column a daily bar needs.
void require_daily_columns(const Columns& cols, std::string_view header) {
  if (cols.date < 0 && cols.datetime >= 0) {
    throw Error::DataLoss(fmt::format(
        "CSV column '{}' holds intraday timestamps, which the csv vendor does not read yet (daily "
        "bars only: a Date column with YYYY-MM-DD or YYYYMMDD)",
        cols.names[static_cast<size_t>(cols.datetime)]));
  }
  std::vector<std::string> missing;
  if (cols.date < 0) missing.emplace_back("Date");
  if (cols.open < 0) missing.emplace_back("Open");
  if (cols.high < 0) missing.emplace_back("High");
  if (cols.low < 0) missing.emplace_back("Low");
  if (cols.close < 0) missing.emplace_back("Close");
  if (cols.volume < 0) missing.emplace_back("Volume");
  if (missing.empty()) return;
  if (missing.size() == 6 || cols.date < 0) {
    throw Error::DataLoss(fmt::format("CSV has no recognisable header (first line '{}'); {}",
                                      std::string(trim(header)).substr(0, 120), kExpectedHeaders));
  }
  throw Error::DataLoss(fmt::format("CSV header lacks column(s) {}; columns found: {}; {}",
                                    join(missing), join(cols.names), kExpectedHeaders));
}

// Alpha Vantage names its daily date column "timestamp": a Datetime/timestamp column whose first
// value is a plain date is the date column; real intraday times stay refused.
void adopt_date_only_timestamps(Columns& cols, std::string_view text, size_t header_end) {
  std::vector<std::string_view> fields;
  std::string scratch;
  for (size_t pos = header_end; pos != std::string_view::npos;) {
    const size_t start = pos + 1;
    pos = text.find('\n', start);
    std::string_view line = trim(
        text.substr(start, pos == std::string_view::npos ? std::string_view::npos : pos - start));
    if (line.empty()) continue;
    split_fields(line, fields, scratch);
    if (static_cast<size_t>(cols.datetime) >= fields.size()) return;
    std::string_view v = trim(fields[static_cast<size_t>(cols.datetime)]);
    if ((v.size() == 10 || (v.size() == 8 && all_digits(v))) && parse_date_field(v)) {
      cols.date = cols.datetime;
    }
    return;
  }
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
  const std::string_view header = text.substr(0, pos);
  Columns cols = find_columns(header);
  if (cols.date < 0 && cols.datetime >= 0) adopt_date_only_timestamps(cols, text, pos);
  require_daily_columns(cols, header);
  if (cols.symbol < 0 && context.symbol.empty()) {
    throw Error::InvalidInput("a single-symbol CSV needs the symbol it holds (--symbol)");
  }
  const auto col_name = [&](int idx) -> std::string_view {
    return cols.names[static_cast<size_t>(idx)];
  };
  const TradingCalendar& calendar = *context.calendar;
  std::vector<std::string_view> fields;
  std::string scratch;
  // Symbols repeat on every row of a multi-symbol file: validate each distinct text once.
  std::map<std::string, std::vector<Bar>*, std::less<>> symbol_bars;
  std::vector<Bar>* single = cols.symbol < 0 ? &result.bars[context.symbol] : nullptr;
  const int value_cols[5] = {cols.open, cols.high, cols.low, cols.close, cols.volume};
  int64_t line_no = 1;
  while (pos != std::string_view::npos) {
    const size_t start = pos + 1;
    pos = text.find('\n', start);
    std::string_view line =
        text.substr(start, pos == std::string_view::npos ? std::string_view::npos : pos - start);
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (trim(line).empty()) continue;  // blank lines (a trailing newline) are not rows
    auto finding = [&](const char* rule, std::string reason) {
      result.findings.push_back(
          {line_no, rule, std::move(reason), std::string(line.substr(0, 200))});
    };
    split_fields(line, fields, scratch);
    if (fields.size() != cols.names.size()) {
      finding("malformed_row", fmt::format("expected {} fields as in the header, found {}",
                                           cols.names.size(), fields.size()));
      continue;
    }
    const std::string_view date_text = trim(fields[static_cast<size_t>(cols.date)]);
    if (is_missing(date_text)) {
      finding("missing_value",
              fmt::format("column '{}' is empty ('{}')", col_name(cols.date), date_text));
      continue;
    }
    const auto date = parse_date_field(date_text);
    if (!date) {
      finding("bad_date", fmt::format("column '{}': '{}' is not a date (YYYY-MM-DD or YYYYMMDD)",
                                      col_name(cols.date), date_text));
      continue;
    }
    double values[5];
    bool ok = true;
    for (int k = 0; k < 5 && ok; ++k) {
      const std::string_view v = trim(fields[static_cast<size_t>(value_cols[k])]);
      if (is_missing(v)) {
        finding("missing_value", fmt::format("column '{}' is empty ('{}') on {}",
                                             col_name(value_cols[k]), v, date->to_string()));
        ok = false;
        break;
      }
      // from_chars rejects a leading '+', which some tools write; skip it.
      const char* first = v.data() + (v.size() > 1 && v[0] == '+' ? 1 : 0);
      auto [end, ec] = std::from_chars(first, v.data() + v.size(), values[k]);
      if (ec != std::errc() || end != v.data() + v.size() || !std::isfinite(values[k])) {
        finding("bad_number", fmt::format("column '{}': '{}' is not a number on {}",
                                          col_name(value_cols[k]), v, date->to_string()));
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
      const std::string_view ts_text = trim(fields[static_cast<size_t>(cols.ts)]);
      try {
        bar.ts_ns = parse_ts_ns(ts_text, fmt::format("column '{}'", col_name(cols.ts)));
      } catch (const Error& e) {
        finding("bad_date", e.what());
        continue;
      }
    } else {
      bar.ts_ns = context.timeframe == Timeframe::kDay1 ? calendar.session_open_ts_ns(*date)
                                                        : to_ts_ns(*date);
    }
    if (single != nullptr) {
      single->push_back(bar);
      continue;
    }
    const std::string_view sym_text = trim(fields[static_cast<size_t>(cols.symbol)]);
    auto it = symbol_bars.find(sym_text);
    if (it == symbol_bars.end()) {
      if (!Symbol::is_valid(sym_text)) {
        finding("bad_symbol", fmt::format("column '{}': '{}' is not a valid symbol",
                                          col_name(cols.symbol), sym_text));
        continue;
      }
      // Distinct texts can name one symbol (aapl, AAPL): key the bars by the parsed symbol.
      it = symbol_bars.emplace(std::string(sym_text), &result.bars[Symbol::parse(sym_text)]).first;
    }
    it->second->push_back(bar);
  }
  return result;
}

}  // namespace trib::providers

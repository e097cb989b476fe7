#include "csv_bars.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstring>
#include <map>
#include <numeric>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "csv_zip.hpp"
#include "trib/core/error.hpp"
#include "trib/providers/parse_util.hpp"

namespace trib::providers {
namespace {

constexpr std::string_view kExpectedHeaders =
    "expected a header such as Yahoo 'Date,Open,High,Low,Close,Adj Close,Volume', "
    "Stooq 'Date,Open,High,Low,Close,Volume', Alpha Vantage 'timestamp,open,high,low,close,volume' "
    "or Kaggle 'date,open,high,low,close,volume,Name'";

constexpr std::string_view kExpectedFiles =
    "expected CSV text with a header such as 'Date,Open,High,Low,Close,Volume', a Lean daily CSV "
    "('19980102 00:00,136300,162500,135000,162500,6315000') or a zip holding one such file";

// Where a parsed row came from, for the findings about duplicates found after parsing.
struct RowOrigin {
  int64_t line = 0;
  std::string_view text;
};
using Origins = std::map<Symbol, std::vector<RowOrigin>>;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

// A value quoted in a message or finding: printable, and short.
std::string shown(std::string_view v) { return printable_excerpt(v, 60); }

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

// A finite number; a leading '+' (which some tools write and from_chars rejects) is skipped.
bool parse_number(std::string_view v, double& out) {
  const char* first = v.data() + (v.size() > 1 && v[0] == '+' ? 1 : 0);
  auto [end, ec] = std::from_chars(first, v.data() + v.size(), out);
  return ec == std::errc() && end == v.data() + v.size() && std::isfinite(out);
}

// YYYY-MM-DD (optionally followed by a time, which daily files sometimes carry as midnight) or
// YYYYMMDD (Stooq bulk files, Lean).
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

// An intraday time: YYYY-MM-DD HH:MM[:SS[.fraction]] ('T' or ' ' between), then 'Z', an offset
// (+HH:MM, -HH:MM, +HHMM) or nothing: a time without an offset is New York time (the local time
// of both calendars, nyse and fx). nullopt when the text is none of these.
std::optional<int64_t> parse_intraday_time(std::string_view v) {
  if (v.size() < 16 || v[4] != '-' || v[7] != '-' || (v[10] != ' ' && v[10] != 'T') || v[13] != ':') {
    return std::nullopt;
  }
  const auto date = Date::try_parse(v.substr(0, 10));
  if (!date || !supported_date(*date)) return std::nullopt;
  const auto two = [&](size_t at) -> int {
    if (at + 2 > v.size() || !std::isdigit(static_cast<unsigned char>(v[at])) ||
        !std::isdigit(static_cast<unsigned char>(v[at + 1]))) {
      return -1;
    }
    return (v[at] - '0') * 10 + (v[at + 1] - '0');
  };
  const int hh = two(11), mm = two(14);
  if (hh < 0 || hh > 23 || mm < 0 || mm > 59) return std::nullopt;
  size_t i = 16;
  int ss = 0;
  int64_t frac_ns = 0;
  if (i < v.size() && v[i] == ':') {
    ss = two(i + 1);
    if (ss < 0 || ss > 59) return std::nullopt;
    i += 3;
    if (i < v.size() && v[i] == '.') {
      int64_t scale = 100'000'000;
      ++i;
      const size_t digits_from = i;
      while (i < v.size() && std::isdigit(static_cast<unsigned char>(v[i]))) {
        frac_ns += (v[i] - '0') * scale;
        scale /= 10;
        ++i;
      }
      if (i == digits_from || i - digits_from > 9) return std::nullopt;
    }
  }
  const int64_t local = to_ts_ns(*date) + (int64_t{hh} * 3600 + mm * 60 + ss) * kNanosPerSecond + frac_ns;
  const std::string_view zone = v.substr(i);
  if (zone.empty()) return local - int64_t{new_york_utc_offset_hours(*date)} * 3600 * kNanosPerSecond;
  if (zone == "Z" || zone == "z") return local;
  if ((zone[0] == '+' || zone[0] == '-') && (zone.size() == 6 || zone.size() == 5)) {
    const int oh = two(i + 1);
    const int om = zone.size() == 6 ? (zone[3] == ':' ? two(i + 4) : -1) : two(i + 3);
    if (oh < 0 || oh > 14 || om < 0 || om > 59) return std::nullopt;
    const int64_t offset = (int64_t{oh} * 3600 + om * 60) * kNanosPerSecond;
    return zone[0] == '+' ? local - offset : local + offset;
  }
  return std::nullopt;
}

std::string out_of_range_reason(std::string_view column, Date date) {
  return fmt::format("column '{}': {} is outside the supported dates {}..{}", column,
                     date.to_string(), Date(kFirstSupportedDay).to_string(),
                     Date(kLastSupportedDay).to_string());
}

struct Columns {
  int date = -1, ts = -1, open = -1, high = -1, low = -1, close = -1, volume = -1, symbol = -1;
  int datetime = -1;               // intraday timestamps: recognised only to refuse clearly
  std::vector<std::string> names;  // as written in the header (trimmed, unquoted, printable)
};

Columns find_columns(std::string_view header_line) {
  std::vector<std::string_view> fields;
  std::string scratch;
  split_fields(header_line, fields, scratch);
  Columns c;
  for (size_t i = 0; i < fields.size(); ++i) {
    const std::string key = header_key(fields[i]);
    const int idx = static_cast<int>(i);
    c.names.push_back(shown(trim(fields[i])));
    auto set = [&](int& slot) {
      if (slot < 0) slot = idx;  // the first of duplicated headers wins
    };
    if (key == "date" || key == "session_date" || key == "day") {
      set(c.date);
    } else if (key == "datetime" || key == "timestamp" || key == "time" || key == "bar_start_et" ||
               key == "bar_start") {
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

// Throws Error::InvalidInput unless the header has every column a bar of `timeframe` needs: a
// Date column for daily bars, a time column (Datetime, Timestamp, Time) for intraday ones, and
// Open, High, Low, Close; Volume may be left out of intraday files (FX quotes carry none: 0).
void require_columns(const Columns& cols, std::string_view header, Timeframe timeframe) {
  const bool intraday_file = cols.date < 0 && cols.datetime >= 0;
  if (intraday_file && timeframe == Timeframe::kDay1) {
    throw Error::InvalidInput(fmt::format(
        "CSV column '{}' holds intraday times; ingest the file with --timeframe 1m (minute bars) or "
        "--timeframe 1h (hourly)",
        cols.names[static_cast<size_t>(cols.datetime)]));
  }
  if (!intraday_file && cols.date >= 0 && timeframe != Timeframe::kDay1) {
    throw Error::InvalidInput(fmt::format(
        "CSV column '{}' holds dates (daily bars), not --timeframe {} bars; ingest it without --timeframe",
        cols.names[static_cast<size_t>(cols.date)], to_string(timeframe)));
  }
  std::vector<std::string> missing;
  if (cols.date < 0 && !intraday_file) missing.emplace_back("Date");
  if (cols.open < 0) missing.emplace_back("Open");
  if (cols.high < 0) missing.emplace_back("High");
  if (cols.low < 0) missing.emplace_back("Low");
  if (cols.close < 0) missing.emplace_back("Close");
  if (cols.volume < 0 && !intraday_file) missing.emplace_back("Volume");
  if (missing.empty()) return;
  if (missing.size() == 6 || (cols.date < 0 && !intraday_file)) {
    throw Error::InvalidInput(fmt::format("CSV has no recognisable header (first line '{}'); {}",
                                          printable_excerpt(trim(header), 120), kExpectedHeaders));
  }
  throw Error::InvalidInput(fmt::format("CSV header lacks column(s) {}; columns found: {}; {}",
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

// Lines of a payload: each without its '\n' and '\r', numbered from 1.
class Lines {
 public:
  explicit Lines(std::string_view text) : text_(text) {}
  bool next(std::string_view& line) {
    if (pos_ == std::string_view::npos || (pos_ >= text_.size() && number_ > 0)) return false;
    const size_t end = text_.find('\n', pos_);
    line = text_.substr(pos_, end == std::string_view::npos ? std::string_view::npos : end - pos_);
    pos_ = end == std::string_view::npos ? std::string_view::npos : end + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    ++number_;
    return true;
  }
  int64_t number() const { return number_; }

 private:
  std::string_view text_;
  size_t pos_ = 0;
  int64_t number_ = 0;
};

ParseResult parse_header_csv(std::string_view text, const ParseContext& context,
                             Origins* origins) {
  text = strip_bom(text);
  ParseResult result;
  size_t pos = text.find('\n');
  const std::string_view header = text.substr(0, pos);
  Columns cols = find_columns(header);
  if (cols.date < 0 && cols.datetime >= 0) adopt_date_only_timestamps(cols, text, pos);
  require_columns(cols, header, context.timeframe);
  const bool intraday = cols.date < 0;  // a time column: each row's ts, its session from the calendar
  if (cols.symbol < 0 && context.symbol.empty()) {
    throw Error::InvalidInput("a single-symbol CSV needs the symbol it holds (--symbol)");
  }
  const auto col_name = [&](int idx) -> std::string_view {
    return cols.names[static_cast<size_t>(idx)];
  };
  const TradingCalendar& calendar = *context.calendar;
  std::vector<std::string_view> fields;
  std::string scratch;
  struct Target {
    std::vector<Bar>* bars;
    std::vector<RowOrigin>* origins;
  };
  // Symbols repeat on every row of a multi-symbol file: validate each distinct text once.
  std::map<std::string, Target, std::less<>> symbol_bars;
  Target single{nullptr, nullptr};
  if (cols.symbol < 0) {
    single.bars = &result.bars[context.symbol];
    if (origins != nullptr) single.origins = &(*origins)[context.symbol];
  }
  const int value_cols[5] = {cols.open, cols.high, cols.low, cols.close, cols.volume};
  const int time_col = intraday ? cols.datetime : cols.date;
  const int value_count = cols.volume >= 0 ? 5 : 4;
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
    const std::string_view date_text = trim(fields[static_cast<size_t>(time_col)]);
    if (is_missing(date_text)) {
      finding("missing_value",
              fmt::format("column '{}' is empty ('{}')", col_name(time_col), shown(date_text)));
      continue;
    }
    std::optional<int64_t> intraday_ts;
    if (intraday) {
      intraday_ts = parse_intraday_time(date_text);
      if (!intraday_ts) {
        finding("bad_date", fmt::format("column '{}': '{}' is not a time (YYYY-MM-DD HH:MM[:SS], then Z, "
                                        "an offset such as +00:00, or nothing for New York time)",
                                        col_name(time_col), shown(date_text)));
        continue;
      }
    }
    const auto date = intraday ? std::optional<Date>(calendar.session_of(*intraday_ts)) : parse_date_field(date_text);
    if (!date) {
      finding("bad_date", fmt::format("column '{}': '{}' is not a date (YYYY-MM-DD or YYYYMMDD)",
                                      col_name(cols.date), shown(date_text)));
      continue;
    }
    if (!supported_date(*date)) {
      finding("date_out_of_range", out_of_range_reason(col_name(cols.date), *date));
      continue;
    }
    double values[5] = {0, 0, 0, 0, 0};
    bool ok = true;
    for (int k = 0; k < value_count && ok; ++k) {
      const std::string_view v = trim(fields[static_cast<size_t>(value_cols[k])]);
      if (is_missing(v)) {
        finding("missing_value", fmt::format("column '{}' is empty ('{}') on {}",
                                             col_name(value_cols[k]), shown(v), date->to_string()));
        ok = false;
      } else if (!parse_number(v, values[k])) {
        finding("bad_number", fmt::format("column '{}': '{}' is not a number on {}",
                                          col_name(value_cols[k]), shown(v), date->to_string()));
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
    if (intraday) {
      bar.ts_ns = *intraday_ts;
    } else if (cols.ts >= 0) {
      const std::string_view ts_text = trim(fields[static_cast<size_t>(cols.ts)]);
      const auto ts_date = ts_text.size() >= 10 ? Date::try_parse(ts_text.substr(0, 10)) : std::nullopt;
      if (ts_date && !supported_date(*ts_date)) {
        finding("date_out_of_range", out_of_range_reason(col_name(cols.ts), *ts_date));
        continue;
      }
      try {
        bar.ts_ns = parse_ts_ns(ts_text);
      } catch (const Error&) {
        finding("bad_date",
                fmt::format("column '{}': '{}' is not a timestamp (YYYY-MM-DDTHH:MM:SS[.fff]Z)",
                            col_name(cols.ts), shown(ts_text)));
        continue;
      }
    } else {
      bar.ts_ns = context.timeframe == Timeframe::kDay1 ? calendar.session_open_ts_ns(*date)
                                                        : to_ts_ns(*date);
    }
    Target target = single;
    if (target.bars == nullptr) {
      const std::string_view sym_text = trim(fields[static_cast<size_t>(cols.symbol)]);
      auto it = symbol_bars.find(sym_text);
      if (it == symbol_bars.end()) {
        if (!Symbol::is_valid(sym_text)) {
          finding("bad_symbol", fmt::format("column '{}': '{}' is not a valid symbol",
                                            col_name(cols.symbol), shown(sym_text)));
          continue;
        }
        // Distinct texts can name one symbol (aapl, AAPL): key the bars by the parsed symbol.
        const Symbol symbol = Symbol::parse(sym_text);
        Target t{&result.bars[symbol], origins != nullptr ? &(*origins)[symbol] : nullptr};
        it = symbol_bars.emplace(std::string(sym_text), t).first;
      }
      target = it->second;
    }
    target.bars->push_back(bar);
    if (target.origins != nullptr) target.origins->push_back({line_no, line});
  }
  return result;
}

// Lean's daily format: no header, `yyyyMMdd HH:mm,open,high,low,close,volume`, prices as integers
// in units of 1/10,000 of the currency.
bool lean_date_time(std::string_view v) {
  return v.size() == 14 && all_digits(v.substr(0, 8)) && v[8] == ' ' && all_digits(v.substr(9, 2)) &&
         v[11] == ':' && all_digits(v.substr(12, 2));
}

// A headerless row's comma-separated fields, each trimmed (Lean's formats quote nothing).
void split_trimmed(std::string_view line, std::vector<std::string_view>& fields) {
  fields.clear();
  for (size_t start = 0;;) {
    const size_t comma = line.find(',', start);
    fields.push_back(trim(line.substr(start, comma == std::string_view::npos ? comma : comma - start)));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
}

// The first non-blank line, trimmed ("" when there is none).
std::string_view first_row(std::string_view text) {
  Lines lines(text);
  std::string_view line;
  while (lines.next(line)) {
    line = trim(line);
    if (!line.empty()) return line;
  }
  return {};
}

// The first non-blank line starts like a Lean daily row.
bool looks_like_lean(std::string_view text) {
  const std::string_view line = first_row(text);
  const size_t comma = line.find(',');
  return comma != std::string_view::npos && lean_date_time(trim(line.substr(0, comma)));
}

ParseResult parse_lean_daily(std::string_view text, const ParseContext& context, Origins* origins) {
  if (context.symbol.empty()) {
    throw Error::InvalidInput(
        "a Lean daily file holds one symbol's bars; it needs the symbol (--symbol, or a file name "
        "such as aapl.csv)");
  }
  static constexpr std::string_view kNames[6] = {"date", "open", "high", "low", "close", "volume"};
  ParseResult result;
  std::vector<Bar>& bars = result.bars[context.symbol];
  std::vector<RowOrigin>* from = origins != nullptr ? &(*origins)[context.symbol] : nullptr;
  const TradingCalendar& calendar = *context.calendar;
  std::vector<std::string_view> fields;
  Lines lines(text);
  std::string_view line;
  bool first_row = true;
  while (lines.next(line)) {
    if (trim(line).empty()) continue;
    const int64_t line_no = lines.number();
    auto finding = [&](const char* rule, std::string reason) {
      result.findings.push_back(
          {line_no, rule, std::move(reason), std::string(line.substr(0, 200))});
    };
    split_trimmed(line, fields);
    const std::string_view when = fields[0];
    if (first_row && lean_date_time(when) && when.substr(9) != "00:00") {
      throw Error::InvalidInput(fmt::format(
          "this Lean file has bars at {} (hour or minute data); the csv vendor reads Lean daily "
          "files, whose rows are stamped 00:00",
          shown(when.substr(9))));
    }
    first_row = false;
    if (fields.size() != 6) {
      finding("malformed_row",
              fmt::format("expected 6 fields (yyyyMMdd HH:mm,open,high,low,close,volume), found {}",
                          fields.size()));
      continue;
    }
    const auto date = lean_date_time(when) ? parse_date_field(when.substr(0, 8)) : std::nullopt;
    if (!date) {
      finding("bad_date", fmt::format("'{}' is not a Lean date (yyyyMMdd HH:mm)", shown(when)));
      continue;
    }
    if (when.substr(9) != "00:00") {
      finding("bad_date", fmt::format("'{}': a Lean daily row is stamped 00:00", shown(when)));
      continue;
    }
    if (!supported_date(*date)) {
      finding("date_out_of_range", out_of_range_reason(kNames[0], *date));
      continue;
    }
    double values[5];
    bool ok = true;
    for (size_t k = 0; k < 5 && ok; ++k) {
      const std::string_view v = fields[k + 1];
      if (v.empty()) {
        finding("missing_value",
                fmt::format("column '{}' is empty on {}", kNames[k + 1], date->to_string()));
        ok = false;
      } else if (!parse_number(v, values[k])) {
        finding("bad_number", fmt::format("column '{}': '{}' is not a number on {}", kNames[k + 1],
                                          shown(v), date->to_string()));
        ok = false;
      }
    }
    if (!ok) continue;
    Bar bar;
    bar.session_date = *date;
    // Division (not * 0.0001) gives the double nearest the decimal price: 162500 -> 16.25.
    bar.open = values[0] / 10000.0;
    bar.high = values[1] / 10000.0;
    bar.low = values[2] / 10000.0;
    bar.close = values[3] / 10000.0;
    bar.volume = values[4];
    bar.ts_ns = context.timeframe == Timeframe::kDay1 ? calendar.session_open_ts_ns(*date)
                                                      : to_ts_ns(*date);
    bars.push_back(bar);
    if (from != nullptr) from->push_back({line_no, line});
  }
  return result;
}

// Lean's minute format: no header, `ms since midnight New York,open,high,low,close,volume`,
// prices in 1/10,000; the date is in the file's name (yyyyMMdd_<symbol>_minute_trade.csv).
// Quote files (11 fields: bid and ask bars with sizes) are not bars of trades.
int lean_minute_fields(std::string_view text) {
  const std::string_view line = first_row(text);
  const size_t comma = line.find(',');
  if (comma == std::string_view::npos || comma == 0 || comma > 8 || !all_digits(line.substr(0, comma))) return 0;
  if (std::stoll(std::string(line.substr(0, comma))) >= 86'400'000) return 0;
  return static_cast<int>(std::count(line.begin(), line.end(), ',')) + 1;
}

ParseResult parse_lean_minute(std::string_view text, const ParseContext& context, Origins* origins) {
  const std::string_view name = context.file_name;
  if (context.timeframe != Timeframe::kMinute1) {
    throw Error::InvalidInput(fmt::format("{} holds Lean minute bars; ingest it with --timeframe 1m",
                                          name.empty() ? std::string("this file") : std::string(name)));
  }
  const std::optional<Date> day = name.size() > 9 && name[8] == '_' ? parse_date_field(name.substr(0, 8)) : std::nullopt;
  if (!day) {
    throw Error::InvalidInput(fmt::format(
        "a Lean minute file keeps its date in its name (yyyyMMdd_<symbol>_minute_trade.csv); '{}' does not "
        "start with one: keep the name Lean gave it", name.empty() ? "(no file name)" : std::string(name)));
  }
  if (context.symbol.empty()) {
    throw Error::InvalidInput("a Lean minute file holds one symbol's bars; it needs the symbol (--symbol, or Lean's file name)");
  }
  static constexpr std::string_view kNames[6] = {"ms", "open", "high", "low", "close", "volume"};
  ParseResult result;
  std::vector<Bar>& bars = result.bars[context.symbol];
  std::vector<RowOrigin>* from = origins != nullptr ? &(*origins)[context.symbol] : nullptr;
  // Midnight New York of the file's date, in UTC.
  const int64_t midnight = to_ts_ns(*day) - int64_t{new_york_utc_offset_hours(*day)} * 3600 * kNanosPerSecond;
  std::vector<std::string_view> fields;
  Lines lines(text);
  std::string_view line;
  while (lines.next(line)) {
    if (trim(line).empty()) continue;
    const int64_t line_no = lines.number();
    auto finding = [&](const char* rule, std::string reason) {
      result.findings.push_back({line_no, rule, std::move(reason), std::string(line.substr(0, 200))});
    };
    split_trimmed(line, fields);
    if (fields.size() != 6) {
      finding("malformed_row", fmt::format("expected 6 fields (ms,open,high,low,close,volume), found {}", fields.size()));
      continue;
    }
    double values[6];
    bool ok = true;
    for (size_t k = 0; k < 6 && ok; ++k) {
      if (fields[k].empty() || !parse_number(fields[k], values[k])) {
        finding(fields[k].empty() ? "missing_value" : "bad_number",
                fmt::format("column '{}': '{}' is not a number", kNames[k], shown(fields[k])));
        ok = false;
      }
    }
    if (!ok) continue;
    if (!(values[0] >= 0 && values[0] < 86'400'000) || values[0] != std::floor(values[0])) {
      finding("bad_date", fmt::format("'{}' is not a time of day in milliseconds", shown(fields[0])));
      continue;
    }
    Bar bar;
    bar.ts_ns = midnight + static_cast<int64_t>(values[0]) * 1'000'000;
    bar.session_date = context.calendar->session_of(bar.ts_ns);
    bar.open = values[1] / 10000.0;
    bar.high = values[2] / 10000.0;
    bar.low = values[3] / 10000.0;
    bar.close = values[4] / 10000.0;
    bar.volume = values[5];
    bars.push_back(bar);
    if (from != nullptr) from->push_back({line_no, line});
  }
  return result;
}

// Newest-first rows come back ascending; a repeated date is a finding (the file's first row for
// it stays); rows in no order keep payload order for the caller to refuse.
void settle_order(ParseResult& result, Origins& origins, Timeframe timeframe) {
  const bool daily = timeframe == Timeframe::kDay1;
  const auto key = [daily](const Bar& b) -> int64_t {
    return daily ? int64_t{b.session_date.days_since_epoch()} : b.ts_ns;
  };
  const auto strictly = [&](const std::vector<Bar>& bars, bool ascending) {
    for (size_t i = 1; i < bars.size(); ++i) {
      if (ascending ? key(bars[i - 1]) >= key(bars[i]) : key(bars[i - 1]) <= key(bars[i])) {
        return false;
      }
    }
    return true;
  };
  bool added = false;
  for (auto& entry : result.bars) {  // not a structured binding: lambdas below capture `bars`
    std::vector<Bar>& bars = entry.second;
    std::vector<RowOrigin>& rows = origins[entry.first];
    if (rows.size() != bars.size()) continue;  // cannot happen; leave the payload as it is
    if (strictly(bars, true)) continue;
    if (!strictly(bars, false)) {
      std::vector<size_t> order(bars.size());
      std::iota(order.begin(), order.end(), size_t{0});
      std::stable_sort(order.begin(), order.end(),
                       [&](size_t a, size_t b) { return key(bars[a]) < key(bars[b]); });
      std::vector<char> drop(bars.size(), 0);
      bool any = false;
      for (size_t group = 0; group < order.size();) {
        size_t end = group + 1;
        while (end < order.size() && key(bars[order[end]]) == key(bars[order[group]])) ++end;
        const size_t kept = order[group];  // a stable sort: the file's first row of the date
        for (size_t i = group + 1; i < end; ++i) {
          const size_t dup = order[i];
          drop[dup] = 1;
          any = true;
          const std::string what =
              daily ? bars[dup].session_date.to_string() : format_ts_ns(bars[dup].ts_ns);
          result.findings.push_back(
              {rows[dup].line, "duplicate_date",
               fmt::format("{} appears again (first on line {}, which is kept)", what,
                           rows[kept].line),
               std::string(rows[dup].text.substr(0, 200))});
        }
        group = end;
      }
      if (!any) continue;  // no order at all: payload order, for the caller to refuse
      added = true;
      size_t out = 0;
      for (size_t i = 0; i < bars.size(); ++i) {
        if (drop[i] != 0) continue;
        bars[out] = bars[i];
        rows[out] = rows[i];
        ++out;
      }
      bars.resize(out);
      rows.resize(out);
      if (strictly(bars, true) || !strictly(bars, false)) continue;
    }
    std::reverse(bars.begin(), bars.end());
    std::reverse(rows.begin(), rows.end());
  }
  if (added) {
    std::stable_sort(result.findings.begin(), result.findings.end(),
                     [](const ParseFinding& a, const ParseFinding& b) { return a.line < b.line; });
  }
}

struct Magic {
  std::string_view bytes;
  std::string_view what;
};

// Refuses bytes that are clearly not text: known binary formats by their first bytes, UTF-16,
// or a NUL byte near the start.
void refuse_binary(std::string_view bytes) {
  static constexpr Magic kMagics[] = {
      {"\x89PNG", "a PNG image"},
      {"\xFF\xD8\xFF", "a JPEG image"},
      {"GIF8", "a GIF image"},
      {"%PDF", "a PDF document"},
      {"\x1F\x8B", "gzip-compressed data (decompress it first: gunzip)"},
      {"\x28\xB5\x2F\xFD", "zstd-compressed data (decompress it first: zstd -d)"},
      {"\xFD" "7zXZ", "xz-compressed data (decompress it first: xz -d)"},
      {"7z\xBC\xAF", "a 7-Zip archive"},
      {"Rar!", "a RAR archive"},
      {"PAR1", "a Parquet file (read it with trib parquet cat)"},
      {"\xD0\xCF\x11\xE0", "an Office document (save the sheet as CSV)"},
      {"SQLite format 3", "an SQLite database"},
      {"\xFF\xFE", "UTF-16 text (save it as UTF-8)"},
      {"\xFE\xFF", "UTF-16 text (save it as UTF-8)"},
  };
  std::string_view what;
  for (const Magic& m : kMagics) {
    if (bytes.substr(0, m.bytes.size()) == m.bytes) {
      what = m.what;
      break;
    }
  }
  std::string nul;
  if (what.empty()) {
    const std::string_view head = bytes.substr(0, 8192);
    const void* at = std::memchr(head.data(), '\0', head.size());
    if (at == nullptr) return;
    nul = fmt::format("binary data (a NUL byte at offset {})",
                      static_cast<const char*>(at) - head.data());
    what = nul;
  }
  throw Error::InvalidInput(fmt::format("not a CSV file: {}, starting '{}'; {}", what,
                                        printable_excerpt(bytes, 16), kExpectedFiles));
}

ParseResult parse_text_file(std::string_view bytes, const ParseContext& context) {
  refuse_binary(bytes);
  const std::string_view text = strip_bom(bytes);
  Origins origins;
  const int minute_fields = lean_minute_fields(text);
  if (minute_fields == 11) {
    throw Error::InvalidInput(
        "this is a Lean minute quote file (bid and ask bars with sizes); the csv vendor reads Lean's trade "
        "files (yyyyMMdd_<symbol>_minute_trade.csv)");
  }
  ParseResult result = minute_fields == 6       ? parse_lean_minute(text, context, &origins)
                       : looks_like_lean(text) ? parse_lean_daily(text, context, &origins)
                                               : parse_header_csv(text, context, &origins);
  settle_order(result, origins, context.timeframe);
  return result;
}

}  // namespace

std::string printable_excerpt(std::string_view text, size_t max) {
  std::string out;
  out.reserve(std::min(text.size(), max) + 8);
  for (size_t i = 0; i < text.size() && i < max; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7F) {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("\\x{:02X}", c);
    }
  }
  if (text.size() > max) out += "...";
  return out;
}

bool is_zip_archive(std::string_view bytes) {
  return bytes.size() >= 4 && bytes.substr(0, 2) == "PK" &&
         ((bytes[2] == '\x03' && bytes[3] == '\x04') || (bytes[2] == '\x05' && bytes[3] == '\x06'));
}

bool csv_has_symbol_column(std::string_view bytes) {
  if (is_zip_archive(bytes)) {
    try {
      const ZipFile file = read_single_file_zip(bytes);
      return !is_zip_archive(file.bytes) && csv_has_symbol_column(file.bytes);
    } catch (const Error&) {
      return false;  // parse says what is wrong with it
    }
  }
  const std::string_view text = strip_bom(bytes);
  if (looks_like_lean(text)) return false;
  return find_columns(text.substr(0, text.find('\n'))).symbol >= 0;
}

ParseResult parse_bar_csv(std::string_view text, const ParseContext& context) {
  return parse_header_csv(text, context, nullptr);
}

ParseResult parse_csv_payload(std::string_view bytes, const ParseContext& context) {
  if (!is_zip_archive(bytes)) return parse_text_file(bytes, context);
  const ZipFile file = read_single_file_zip(bytes);
  const std::string name = printable_excerpt(file.name, 60);
  if (is_zip_archive(file.bytes)) {
    throw Error::InvalidInput(
        fmt::format("zip archive: '{}' is itself a zip; expected one CSV file in the zip", name));
  }
  try {
    return parse_text_file(file.bytes, context);
  } catch (const Error& e) {
    if (e.category() != ErrorCategory::kInvalidInput) throw;
    throw Error::InvalidInput(fmt::format("'{}' in the zip: {}", name, e.what()));
  }
}

}  // namespace trib::providers

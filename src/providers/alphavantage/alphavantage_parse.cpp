// Alpha Vantage payloads -> bars, splits and dividends, with a finding for every row that cannot
// be used. Pure: core, nlohmann and parse_util only (scripts/fuzz-vendors builds it alone).
//
// JSON shape (TIME_SERIES_DAILY[_ADJUSTED], TIME_SERIES_INTRADAY, FX_DAILY):
//   {"Meta Data": {"2. Symbol": "IBM", ..., "5. Time Zone": "US/Eastern"},
//    "Time Series (Daily)": {"2020-05-08": {"1. open": "122.6700", ..., "5. volume": "2538547"},
//                            ...newest first...}}
// The rows are read with a parser callback rather than from the finished DOM: a JSON object keeps
// one value per key, and two rows under the same date must both reach the ETL (which quarantines
// the duplicate) instead of one silently replacing the other. The callback also gives each row its
// position in the payload, which is the "line" of a finding (row index within the series, counted
// across pages).
#include "alphavantage_parse.hpp"

#include <algorithm>
#include <cctype>
#include <optional>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "trib/core/error.hpp"
#include "trib/providers/parse_util.hpp"

namespace trib::providers::alphavantage {
namespace {

using json = nlohmann::json;

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

bool contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

// "1. open" -> "open", "5. adjusted close" -> "adjusted close", "1a. open (USD)" -> "open (usd)",
// CSV "adjusted_close" -> "adjusted close".
std::string field_name(std::string_view key) {
  size_t i = 0;
  while (i < key.size() && std::isdigit(static_cast<unsigned char>(key[i]))) ++i;
  if (i > 0 && i + 1 < key.size() && std::isalpha(static_cast<unsigned char>(key[i])) && key[i + 1] == '.') ++i;
  if (i > 0 && i + 1 < key.size() && key[i] == '.' && key[i + 1] == ' ') key.remove_prefix(i + 2);
  std::string out = lower(trim(key));
  std::replace(out.begin(), out.end(), '_', ' ');
  return out;
}

std::string_view skip_bom_and_space(std::string_view s) {
  if (s.size() >= 3 && static_cast<unsigned char>(s[0]) == 0xEF && static_cast<unsigned char>(s[1]) == 0xBB &&
      static_cast<unsigned char>(s[2]) == 0xBF) {
    s.remove_prefix(3);
  }
  while (!s.empty() && (s.front() == ' ' || s.front() == '\n' || s.front() == '\r' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  return s;
}

// --- series keys -----------------------------------------------------------------------------

struct Series {
  enum class Kind { kDaily, kIntraday, kOther } kind = Kind::kOther;
  int interval_min = 0;  // intraday
  bool fx = false;       // FX series have no volume
};

Series classify_series(std::string_view key) {
  Series s;
  std::string_view rest;
  if (key.starts_with("Time Series FX (")) {
    s.fx = true;
    rest = key.substr(16);
  } else if (key.starts_with("Time Series (")) {
    rest = key.substr(13);
  } else {
    return s;  // "Weekly Time Series", "Monthly Adjusted Time Series", ...
  }
  if (rest == "Daily)") {
    s.kind = Series::Kind::kDaily;
  } else if (rest.size() > 4 && rest.ends_with("min)")) {
    const std::string_view digits = rest.substr(0, rest.size() - 4);
    int n = 0;
    for (char c : digits) {
      if (!std::isdigit(static_cast<unsigned char>(c)) || n > 10000) return s;
      n = n * 10 + (c - '0');
    }
    if (n <= 0 || n > 1440) return s;
    s.kind = Series::Kind::kIntraday;
    s.interval_min = n;
  }
  return s;
}

// --- timestamps ------------------------------------------------------------------------------

// "YYYY-MM-DD HH:MM[:SS]" (or with 'T'), the vendor's local wall time.
struct LocalTime {
  Date date;
  int seconds = 0;
};

bool two_digits(std::string_view s, size_t at, int& out) {
  if (at + 2 > s.size() || !std::isdigit(static_cast<unsigned char>(s[at])) ||
      !std::isdigit(static_cast<unsigned char>(s[at + 1]))) {
    return false;
  }
  out = (s[at] - '0') * 10 + (s[at + 1] - '0');
  return true;
}

std::optional<LocalTime> parse_local_time(std::string_view text) {
  if (text.size() != 16 && text.size() != 19) return std::nullopt;
  auto date = iso_date_prefix(text);
  if (!date || (text[10] != ' ' && text[10] != 'T') || text[13] != ':') return std::nullopt;
  int h = 0, m = 0, s = 0;
  if (!two_digits(text, 11, h) || !two_digits(text, 14, m)) return std::nullopt;
  if (text.size() == 19 && (text[16] != ':' || !two_digits(text, 17, s))) return std::nullopt;
  if (h > 23 || m > 59 || s > 59) return std::nullopt;
  return LocalTime{*date, h * 3600 + m * 60 + s};
}

// A New York wall time as UTC. Daylight time switches at 02:00 local, so before 02:00 the offset
// is the previous day's (new_york_utc_offset_hours answers for local noon).
int64_t new_york_to_utc_ns(const LocalTime& t) {
  const int offset_h = new_york_utc_offset_hours(t.seconds < 2 * 3600 ? t.date - 1 : t.date);
  return to_ts_ns(t.date) + (int64_t{t.seconds} - int64_t{offset_h} * 3600) * kNanosPerSecond;
}

// --- rows ------------------------------------------------------------------------------------

struct Row {
  std::string key;  // the date / timestamp the row is keyed by
  json value;       // its fields (an object when well formed)
  int64_t line = 0;
  std::string_view raw;  // the row's own text (CSV); JSON rows are shown as key: fields
};

struct RowValues {
  double open = 0, high = 0, low = 0, close = 0, volume = 0;
  std::optional<double> dividend, split;
};

struct Problem {
  std::string rule, reason;
};

// Reads the fields of one row; a Problem when it cannot become a bar.
std::optional<Problem> read_values(const json& fields, bool need_volume, RowValues& out) {
  if (!fields.is_object()) {
    return Problem{"malformed_row", fmt::format("row is {} instead of an object of fields",
                                                fields.type_name())};
  }
  const json* open = nullptr;
  const json* high = nullptr;
  const json* low = nullptr;
  const json* close = nullptr;
  const json* volume = nullptr;
  const json* dividend = nullptr;
  const json* split = nullptr;
  for (const auto& [k, v] : fields.items()) {
    const std::string name = field_name(k);
    const json** slot = name == "open"                ? &open
                        : name == "high"              ? &high
                        : name == "low"               ? &low
                        : name == "close"             ? &close
                        : name == "volume"            ? &volume
                        : name == "dividend amount"   ? &dividend
                        : name == "split coefficient" ? &split
                                                      : nullptr;
    if (slot != nullptr && *slot == nullptr) *slot = &v;
  }
  auto number = [](const json* v, const char* name, bool required, std::optional<double>& out,
                   std::optional<Problem>& problem) {
    if (problem) return;
    if (v == nullptr) {
      if (required) problem = Problem{"missing_field", fmt::format("the row has no '{}' field", name)};
      return;
    }
    if (v->is_null()) {
      problem = Problem{"null_value", fmt::format("{} is null", name)};
      return;
    }
    out = json_number(*v);
    if (!out) problem = Problem{"bad_number", fmt::format("{} {} is not a number", name, one_line_excerpt(bounded_json_text(*v), 60))};
  };
  std::optional<Problem> problem;
  std::optional<double> o, h, l, c, vol;
  number(open, "open", true, o, problem);
  number(high, "high", true, h, problem);
  number(low, "low", true, l, problem);
  number(close, "close", true, c, problem);
  number(volume, "volume", need_volume, vol, problem);
  number(dividend, "dividend amount", false, out.dividend, problem);
  number(split, "split coefficient", false, out.split, problem);
  if (problem) return problem;
  if (out.dividend && *out.dividend < 0) {
    return Problem{"bad_action", fmt::format("dividend amount {} is negative", *out.dividend)};
  }
  if (out.split && *out.split <= 0) {
    return Problem{"bad_action", fmt::format("split coefficient {} is not positive", *out.split)};
  }
  out.open = *o;
  out.high = *h;
  out.low = *l;
  out.close = *c;
  out.volume = vol.value_or(0.0);
  return std::nullopt;
}

// How the rows' keys are read and stamped.
struct Shape {
  bool intraday = false;
  int interval_min = 0;
  bool new_york = true;  // intraday wall times are US/Eastern (else UTC)
  bool need_volume = true;
};

void convert_rows(const std::vector<Row>& rows, const Shape& shape, const Symbol& symbol,
                  const ParseContext& context, ParseResult& result) {
  std::vector<Bar> bars;
  bars.reserve(rows.size());
  std::vector<CorporateAction> actions;
  for (const Row& row : rows) {
    auto raw = [&] { return row.raw.empty() ? row.key + ": " + bounded_json_text(row.value) : std::string(row.raw); };
    Bar bar;
    if (shape.intraday) {
      auto t = parse_local_time(row.key);
      if (!t) {
        result.findings.push_back(finding(row.line, "bad_date",
                                          fmt::format("timestamp '{}' is not YYYY-MM-DD HH:MM:SS in 1900..2100",
                                                      one_line_excerpt(row.key, 40)),
                                          raw()));
        continue;
      }
      // Alpha Vantage labels an intraday bar by its end (a day's 1min rows run 09:31..16:00, the
      // opening cross is in the 09:31 row; extended hours run 04:01..20:00).
      const int64_t end_ns = shape.new_york ? new_york_to_utc_ns(*t)
                                            : to_ts_ns(t->date) + int64_t{t->seconds} * kNanosPerSecond;
      bar.ts_ns = end_ns - int64_t{shape.interval_min} * 60 * kNanosPerSecond;
      bar.session_date = new_york_date_of(bar.ts_ns);
    } else {
      auto d = row.key.size() == 10 ? iso_date_prefix(row.key) : std::nullopt;
      if (!d) {
        result.findings.push_back(finding(
            row.line, "bad_date",
            fmt::format("date '{}' is not YYYY-MM-DD in 1900..2100", one_line_excerpt(row.key, 40)), raw()));
        continue;
      }
      bar = daily_bar(*d, 0, 0, 0, 0, 0, *context.calendar);
    }
    RowValues v;
    if (auto problem = read_values(row.value, shape.need_volume, v)) {
      result.findings.push_back(
          finding(row.line, problem->rule, fmt::format("{}: {}", one_line_excerpt(row.key, 40), problem->reason), raw()));
      continue;
    }
    bar.open = v.open;
    bar.high = v.high;
    bar.low = v.low;
    bar.close = v.close;
    bar.volume = v.volume;
    bars.push_back(bar);
    if (v.split && *v.split != 1.0) {
      CorporateAction a;
      a.kind = CorporateAction::Kind::kSplit;
      a.symbol = symbol;
      a.ex_date = bar.session_date;
      a.split_ratio = *v.split;
      actions.push_back(a);
    }
    if (v.dividend && *v.dividend > 0) {
      CorporateAction a;
      a.kind = CorporateAction::Kind::kDividend;
      a.symbol = symbol;
      a.ex_date = bar.session_date;
      a.cash_amount = *v.dividend;
      actions.push_back(a);
    }
  }
  // Newest first on the wire; ascending out.
  std::stable_sort(bars.begin(), bars.end(), [](const Bar& a, const Bar& b) { return a.ts_ns < b.ts_ns; });
  std::stable_sort(actions.begin(), actions.end(),
                   [](const CorporateAction& a, const CorporateAction& b) { return a.ex_date < b.ex_date; });
  auto& out = result.bars[symbol];
  out.insert(out.end(), bars.begin(), bars.end());
  result.actions.insert(result.actions.end(), actions.begin(), actions.end());
}

Symbol symbol_from(const ParseContext& context, const json* meta) {
  if (!context.symbol.empty()) return context.symbol;
  std::string text;
  if (meta != nullptr && meta->is_object()) {
    std::string from, to;
    for (const auto& [k, v] : meta->items()) {
      if (!v.is_string()) continue;
      const std::string name = field_name(k);
      if (name == "symbol") text = v.get<std::string>();
      if (name == "from symbol") from = v.get<std::string>();
      if (name == "to symbol") to = v.get<std::string>();
    }
    if (text.empty() && !from.empty() && !to.empty()) text = from + "/" + to;
  }
  if (!Symbol::is_valid(text)) {
    throw Error::DataLoss(fmt::format(
        "alphavantage payload names no usable symbol (Meta Data symbol '{}') and none was given",
        one_line_excerpt(text, 40)));
  }
  return Symbol::parse(text);
}

std::string timeframe_text(Timeframe tf) { return std::string(to_string(tf)); }

// --- JSON ------------------------------------------------------------------------------------

// The payload's JSON documents: one, or several stored back to back (one per month of intraday
// data). Throws DataLoss for a document cut short.
std::vector<std::string_view> documents(std::string_view bytes) {
  std::vector<std::string_view> docs;
  size_t i = 0;
  const size_t n = bytes.size();
  auto skip_ws = [&] {
    while (i < n && (bytes[i] == ' ' || bytes[i] == '\n' || bytes[i] == '\r' || bytes[i] == '\t')) ++i;
  };
  skip_ws();
  while (i < n) {
    const size_t start = i;
    if (bytes[i] != '{' && bytes[i] != '[') {
      throw Error::DataLoss(fmt::format("alphavantage payload: page {} is not JSON (byte {}: '{}')",
                                        docs.size() + 1, i, one_line_excerpt(bytes.substr(i, 40), 160)));
    }
    int64_t depth = 0;
    bool in_string = false;
    for (; i < n; ++i) {
      const char c = bytes[i];
      if (in_string) {
        if (c == '\\') {
          ++i;
        } else if (c == '"') {
          in_string = false;
        }
        continue;
      }
      if (c == '"') {
        in_string = true;
      } else if (c == '{' || c == '[') {
        ++depth;
      } else if ((c == '}' || c == ']') && --depth == 0) {
        ++i;
        break;
      }
    }
    if (depth != 0 || in_string) {
      throw Error::DataLoss(fmt::format("alphavantage payload: page {} is cut short ({} bytes from byte {})",
                                        docs.size() + 1, n - start, start));
    }
    docs.push_back(bytes.substr(start, std::min(i, n) - start));
    skip_ws();
  }
  return docs;
}

struct Page {
  json dom;                     // everything but the rows
  std::vector<std::string> series_keys;
  std::vector<Row> rows;
};

Page read_page(std::string_view text, int64_t first_line) {
  Page page;
  std::string top_key;      // the last key read at the top level
  bool collecting = false;  // inside the object that is the value of a series key
  std::string row_key;
  int64_t line = first_line;
  // depth: 1 for the top-level object's keys and member values, 2 for a series object's rows.
  json::parser_callback_t callback = [&](int depth, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::key:
        if (depth == 1) {
          collecting = false;
          top_key = parsed.get<std::string>();
          if (is_series_key(top_key)) page.series_keys.push_back(top_key);
        } else if (depth == 2 && collecting) {
          row_key = parsed.get<std::string>();
        }
        return true;
      case json::parse_event_t::object_start:
        if (depth == 1 && is_series_key(top_key)) collecting = true;
        return true;
      case json::parse_event_t::array_start:
        return true;
      case json::parse_event_t::object_end:
      case json::parse_event_t::array_end:
      case json::parse_event_t::value:
        if (depth == 2 && collecting) {
          page.rows.push_back(Row{row_key, std::move(parsed), line++, {}});
          return false;  // kept in rows, not in the DOM
        }
        if (depth == 1) collecting = false;
        return true;
    }
    return true;
  };
  page.dom = json::parse(text.begin(), text.end(), callback, /*allow_exceptions=*/false);
  if (page.dom.is_discarded()) {
    throw Error::DataLoss(fmt::format("alphavantage payload is not valid JSON ({} bytes: '{}')", text.size(),
                                      one_line_excerpt(text, 80)));
  }
  return page;
}

ParseResult parse_json(std::string_view bytes, const ParseContext& context) {
  ParseResult result;
  std::vector<Row> rows;
  std::string series_key;
  json meta;
  int64_t next_line = 1;
  for (std::string_view text : documents(bytes)) {
    Page page = read_page(text, next_line);
    if (!page.dom.is_object()) {
      throw Error::DataLoss(fmt::format("alphavantage payload is JSON {} instead of an object: '{}'",
                                        page.dom.type_name(), one_line_excerpt(text, 80)));
    }
    const Notice notice = notice_of(page.dom);
    if (notice.kind != Notice::Kind::kNone) {
      throw Error::DataLoss(fmt::format("alphavantage sent an error body, not data: {}: {}", notice.key,
                                        one_line_excerpt(notice.text, 160)));
    }
    if (page.series_keys.empty()) {
      std::string keys;
      for (const auto& [k, _] : page.dom.items()) keys += (keys.empty() ? "" : ", ") + one_line_excerpt(k, 40);
      throw Error::DataLoss(
          fmt::format("alphavantage payload holds no time series (keys: {})", keys.empty() ? "none" : keys));
    }
    if (page.series_keys.size() > 1) {
      throw Error::DataLoss(fmt::format("alphavantage payload holds {} time series ('{}', '{}')",
                                        page.series_keys.size(), one_line_excerpt(page.series_keys[0], 40),
                                        one_line_excerpt(page.series_keys[1], 40)));
    }
    if (series_key.empty()) {
      series_key = page.series_keys.front();
      if (auto it = page.dom.find("Meta Data"); it != page.dom.end()) meta = *it;
    } else if (series_key != page.series_keys.front()) {
      throw Error::DataLoss(fmt::format("alphavantage payload mixes series '{}' and '{}'", one_line_excerpt(series_key, 40),
                                        one_line_excerpt(page.series_keys.front(), 40)));
    }
    const json& series = page.dom[series_key];
    if (!series.is_object()) {
      throw Error::DataLoss(fmt::format("alphavantage payload: '{}' is {} instead of an object of rows",
                                        one_line_excerpt(series_key, 40), series.type_name()));
    }
    next_line += static_cast<int64_t>(page.rows.size());
    for (Row& r : page.rows) rows.push_back(std::move(r));
  }
  if (series_key.empty()) throw Error::DataLoss("alphavantage payload is empty");

  const Series series = classify_series(series_key);
  Shape shape;
  shape.need_volume = !series.fx;
  if (series.kind == Series::Kind::kDaily) {
    if (context.timeframe != Timeframe::kDay1) {
      throw Error::DataLoss(fmt::format("alphavantage payload holds daily bars ('{}') but {} bars were asked for",
                                        series_key, timeframe_text(context.timeframe)));
    }
  } else if (series.kind == Series::Kind::kIntraday) {
    const int want = context.timeframe == Timeframe::kMinute1 ? 1 : context.timeframe == Timeframe::kHour1 ? 60 : 0;
    if (want != series.interval_min) {
      throw Error::DataLoss(fmt::format(
          "alphavantage payload holds {}min bars ('{}') but {} bars were asked for (1m and 1h are kept)",
          series.interval_min, series_key, timeframe_text(context.timeframe)));
    }
    shape.intraday = true;
    shape.interval_min = series.interval_min;
    shape.new_york = !series.fx;
    if (meta.is_object()) {
      for (const auto& [k, v] : meta.items()) {
        if (field_name(k) != "time zone") continue;
        const std::string zone = v.is_string() ? v.get<std::string>() : bounded_json_text(v);
        if (zone == "US/Eastern" || zone == "America/New_York") {
          shape.new_york = true;
        } else if (zone == "UTC") {
          shape.new_york = false;
        } else {
          throw Error::DataLoss(fmt::format("alphavantage payload: time zone '{}' is not US/Eastern or UTC",
                                            one_line_excerpt(zone, 40)));
        }
      }
    }
  } else {
    throw Error::DataLoss(fmt::format(
        "alphavantage payload holds '{}': only daily and intraday (1min, 60min) series are bars here",
        one_line_excerpt(series_key, 60)));
  }
  const Symbol symbol = symbol_from(context, meta.is_object() ? &meta : nullptr);
  convert_rows(rows, shape, symbol, context, result);
  return result;
}

// --- CSV -------------------------------------------------------------------------------------

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

ParseResult parse_csv(std::string_view bytes, const ParseContext& context) {
  ParseResult result;
  std::vector<std::pair<std::string_view, int64_t>> lines;  // text, 1-based line
  {
    size_t start = 0;
    int64_t number = 1;
    while (start < bytes.size()) {
      size_t end = bytes.find('\n', start);
      if (end == std::string_view::npos) end = bytes.size();
      std::string_view line = bytes.substr(start, end - start);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (!trim(line).empty()) lines.emplace_back(line, number);
      start = end + 1;
      ++number;
    }
  }
  if (lines.empty()) throw Error::DataLoss("alphavantage payload is empty");
  std::string_view header_line = lines.front().first;
  if (header_line.size() >= 3 && static_cast<unsigned char>(header_line[0]) == 0xEF) header_line.remove_prefix(3);
  std::vector<std::string> names;
  for (std::string_view cell : split_cells(header_line)) names.push_back(field_name(cell));
  auto index_of = [&](std::initializer_list<const char*> options) -> int {
    for (size_t i = 0; i < names.size(); ++i) {
      for (const char* o : options) {
        if (names[i] == o) return static_cast<int>(i);
      }
    }
    return -1;
  };
  const int ts_col = index_of({"timestamp", "time"});
  for (const char* required : {"open", "high", "low", "close"}) {
    if (ts_col < 0 || index_of({required}) < 0) {
      throw Error::DataLoss(fmt::format(
          "alphavantage CSV has no header timestamp,open,high,low,close[,volume] (first line: '{}')",
          one_line_excerpt(header_line, 80)));
    }
  }
  const bool has_volume = index_of({"volume"}) >= 0;

  Shape shape;
  shape.need_volume = has_volume;
  if (lines.size() > 1) {
    const auto first = split_cells(lines[1].first);
    const bool intraday_rows = static_cast<int>(first.size()) > ts_col && first[static_cast<size_t>(ts_col)].size() > 10;
    const bool intraday_task = context.timeframe != Timeframe::kDay1;
    if (intraday_rows != intraday_task) {
      throw Error::DataLoss(fmt::format("alphavantage CSV holds {} rows ('{}') but {} bars were asked for",
                                        intraday_rows ? "intraday" : "daily", one_line_excerpt(lines[1].first, 40),
                                        timeframe_text(context.timeframe)));
    }
  }
  if (context.timeframe != Timeframe::kDay1) {
    shape.intraday = true;
    shape.interval_min = context.timeframe == Timeframe::kMinute1 ? 1 : 60;
  }
  std::vector<Row> rows;
  rows.reserve(lines.size());
  for (size_t i = 1; i < lines.size(); ++i) {
    const auto& [line, number] = lines[i];
    const auto cells = split_cells(line);
    if (cells.size() != names.size()) {
      result.findings.push_back(finding(number, "malformed_row",
                                        fmt::format("{} fields where the header has {}", cells.size(), names.size()),
                                        line));
      continue;
    }
    Row row;
    row.line = number;
    row.raw = line;
    row.key = std::string(cells[static_cast<size_t>(ts_col)]);
    row.value = json::object();
    for (size_t c = 0; c < cells.size(); ++c) {
      if (static_cast<int>(c) != ts_col) row.value[names[c]] = std::string(cells[c]);
    }
    rows.push_back(std::move(row));
  }
  if (context.symbol.empty()) throw Error::DataLoss("alphavantage CSV names no symbol and none was given");
  convert_rows(rows, shape, context.symbol, context, result);
  std::stable_sort(result.findings.begin(), result.findings.end(),
                   [](const ParseFinding& a, const ParseFinding& b) { return a.line < b.line; });
  return result;
}

}  // namespace

bool is_series_key(std::string_view key) { return key.find("Time Series") != std::string_view::npos; }

Notice notice_of(const json& body) {
  Notice notice;
  if (!body.is_object()) return notice;
  for (const auto& [k, _] : body.items()) {
    if (is_series_key(k)) return notice;
  }
  for (const char* key : {"Error Message", "Note", "Information"}) {
    auto it = body.find(key);
    if (it == body.end()) continue;
    notice.key = key;
    notice.text = it->is_string() ? it->get<std::string>() : bounded_json_text(*it);
    break;
  }
  if (notice.key.empty()) return notice;
  const std::string text = lower(notice.text);
  using K = Notice::Kind;
  if (notice.key == "Error Message") {
    notice.kind = contains(text, "apikey") || contains(text, "api key") ? K::kBadKey
                  : contains(text, "invalid api call")                  ? K::kInvalidCall
                                                                        : K::kOther;
  } else if (notice.key == "Note") {
    notice.kind = K::kMinuteLimit;  // the legacy throttle: "5 calls per minute and 500 calls per day"
  } else if (contains(text, "per day") || contains(text, "daily")) {
    notice.kind = K::kDailyLimit;
  } else if (contains(text, "per second") || contains(text, "per minute") || contains(text, "sparingly") ||
             contains(text, "frequency")) {
    notice.kind = K::kMinuteLimit;
  } else if (contains(text, "premium")) {
    notice.kind = K::kPremium;
  } else if (contains(text, "apikey") || contains(text, "api key")) {
    notice.kind = K::kBadKey;
  } else {
    notice.kind = K::kOther;
  }
  return notice;
}

ParseResult parse(std::string_view bytes, const ParseContext& context) {
  const std::string_view body = skip_bom_and_space(bytes);
  if (body.empty()) throw Error::DataLoss("alphavantage payload is empty");
  if (body.front() == '{' || body.front() == '[') return parse_json(body, context);
  return parse_csv(body, context);
}

}  // namespace trib::providers::alphavantage

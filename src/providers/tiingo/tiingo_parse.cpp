// Tiingo payloads -> bars, splits and dividends, with a finding for every row that cannot be used.
// Pure: core, nlohmann and parse_util only (scripts/fuzz-vendors builds it alone).
#include "tiingo_parse.hpp"

#include <algorithm>
#include <cctype>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "trib/core/error.hpp"
#include "trib/providers/parse_util.hpp"

namespace trib::providers::tiingo {
namespace {

using json = nlohmann::json;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '"')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '"')) {
    s.remove_suffix(1);
  }
  return s;
}

std::string_view skip_bom_and_space(std::string_view s) {
  if (s.size() >= 3 && static_cast<unsigned char>(s[0]) == 0xEF && static_cast<unsigned char>(s[1]) == 0xBB &&
      static_cast<unsigned char>(s[2]) == 0xBF) {
    s.remove_prefix(3);
  }
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  return s;
}

bool digits(std::string_view s, size_t at, size_t n, int& out) {
  if (at + n > s.size()) return false;
  out = 0;
  for (size_t i = at; i < at + n; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

// "2018-01-02T14:30:00.000Z", "2018-04-12T00:00:00+00:00", "2019-05-01T00:00:00Z": the UTC
// instant; nullopt for other text, other offsets or dates outside 1900..2100.
std::optional<int64_t> utc_instant(std::string_view text) {
  auto date = iso_date_prefix(text);
  if (!date || text.size() < 19 || text[10] != 'T' || text[13] != ':' || text[16] != ':') return std::nullopt;
  int h = 0, m = 0, s = 0;
  if (!digits(text, 11, 2, h) || !digits(text, 14, 2, m) || !digits(text, 17, 2, s) || h > 23 || m > 59 || s > 59) {
    return std::nullopt;
  }
  std::string_view rest = text.substr(19);
  int64_t frac_ns = 0;
  if (!rest.empty() && rest.front() == '.') {
    rest.remove_prefix(1);
    int64_t scale = 100'000'000;
    size_t n = 0;
    while (n < rest.size() && std::isdigit(static_cast<unsigned char>(rest[n]))) {
      if (n < 9) frac_ns += (rest[n] - '0') * scale;
      scale /= 10;
      ++n;
    }
    if (n == 0) return std::nullopt;
    rest.remove_prefix(n);
  }
  if (rest != "Z" && rest != "+00:00" && !rest.empty()) return std::nullopt;
  return to_ts_ns(*date) + (int64_t{h} * 3600 + m * 60 + s) * kNanosPerSecond + frac_ns;
}

struct Out {
  std::vector<Bar> bars;
  std::vector<CorporateAction> actions;
};

// One price row (a JSON object, or a CSV row turned into one) -> a bar and its actions, or a
// finding. `raw_text` is the CSV line ("" for JSON rows).
void add_row(const json& row, int64_t line, std::string_view raw_text, const ParseContext& context,
             ParseResult& result, Out& out) {
  // The finding's raw text: the CSV line, or the JSON row rendered (only when it is needed).
  auto fail = [&](std::string rule, std::string reason) {
    result.findings.push_back(
        finding(line, std::move(rule), std::move(reason), raw_text.empty() ? bounded_json_text(row) : std::string(raw_text)));
  };
  if (!row.is_object()) {
    fail("malformed_row", fmt::format("row is {} instead of an object of fields", row.type_name()));
    return;
  }
  auto date_it = row.find("date");
  if (date_it == row.end()) return fail("missing_field", "the row has no 'date' field");
  if (!date_it->is_string()) return fail("bad_date", fmt::format("date {} is not a text", one_line_excerpt(bounded_json_text(*date_it), 40)));
  const std::string& date_text = date_it->get_ref<const std::string&>();

  const bool intraday = context.timeframe != Timeframe::kDay1;
  Bar bar;
  if (intraday) {
    auto ts = utc_instant(date_text);
    if (!ts) {
      return fail("bad_date", fmt::format("date '{}' is not an ISO-8601 UTC time in 1900..2100", one_line_excerpt(date_text, 40)));
    }
    bar.ts_ns = *ts;  // IEX bars are dated by their open
    bar.session_date = new_york_date_of(*ts);
  } else {
    auto date = iso_date_prefix(date_text);
    // Daily rows are dated at midnight UTC of the session ("2015-01-02T00:00:00.000Z", CSV
    // "2015-01-02"); another time of day is not a daily row.
    const bool midnight = date_text.size() == 10 ||
                          (date_text.size() >= 19 && date_text[10] == 'T' && date_text.substr(11, 8) == "00:00:00");
    if (!date || !midnight) {
      return fail("bad_date",
                  fmt::format("date '{}' is not a session date (YYYY-MM-DD[T00:00:00...] in 1900..2100)",
                              one_line_excerpt(date_text, 40)));
    }
    bar = daily_bar(*date, 0, 0, 0, 0, 0, *context.calendar);
  }
  const std::string when = one_line_excerpt(date_text, 30);
  std::optional<double> values[5];
  static constexpr const char* kFields[] = {"open", "high", "low", "close", "volume"};
  for (int k = 0; k < 5; ++k) {
    auto it = row.find(kFields[k]);
    const bool required = k < 4 || !intraday;
    if (it == row.end()) {
      if (required) return fail("missing_field", fmt::format("{}: the row has no '{}' field", when, kFields[k]));
      continue;
    }
    if (it->is_null()) {
      if (!required) continue;  // IEX volume may be null
      return fail("null_value", fmt::format("{}: {} is null", when, kFields[k]));
    }
    values[k] = json_number(*it);
    if (!values[k]) {
      return fail("bad_number", fmt::format("{}: {} {} is not a number", when, kFields[k], one_line_excerpt(bounded_json_text(*it), 40)));
    }
  }
  std::optional<double> div_cash, split_factor;
  for (auto [name, slot] : {std::pair{"divCash", &div_cash}, std::pair{"splitFactor", &split_factor}}) {
    auto it = row.find(name);
    if (it == row.end() || it->is_null()) continue;
    *slot = json_number(*it);
    if (!*slot) return fail("bad_number", fmt::format("{}: {} {} is not a number", when, name, one_line_excerpt(bounded_json_text(*it), 40)));
  }
  if (div_cash && *div_cash < 0) return fail("bad_action", fmt::format("{}: divCash {} is negative", when, *div_cash));
  if (split_factor && *split_factor <= 0) {
    return fail("bad_action", fmt::format("{}: splitFactor {} is not positive", when, *split_factor));
  }
  bar.open = *values[0];
  bar.high = *values[1];
  bar.low = *values[2];
  bar.close = *values[3];
  bar.volume = values[4].value_or(0.0);
  out.bars.push_back(bar);
  if (split_factor && *split_factor != 1.0) {
    CorporateAction a;
    a.kind = CorporateAction::Kind::kSplit;
    a.symbol = context.symbol;
    a.ex_date = bar.session_date;
    a.split_ratio = *split_factor;
    out.actions.push_back(a);
  }
  if (div_cash && *div_cash > 0) {
    CorporateAction a;
    a.kind = CorporateAction::Kind::kDividend;
    a.symbol = context.symbol;
    a.ex_date = bar.session_date;
    a.cash_amount = *div_cash;
    out.actions.push_back(a);
  }
}

void parse_json(std::string_view text, const ParseContext& context, ParseResult& result, Out& out) {
  const json doc = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    throw Error::DataLoss(fmt::format("tiingo payload is not valid JSON ({} bytes: '{}')", text.size(), one_line_excerpt(text, 80)));
  }
  if (doc.is_object()) {
    if (auto it = doc.find("detail"); it != doc.end()) {
      throw Error::DataLoss(fmt::format("tiingo sent an error body, not data: {}",
                                        one_line_excerpt(it->is_string() ? it->get<std::string>() : bounded_json_text(*it), 160)));
    }
    std::string keys;
    for (const auto& [k, _] : doc.items()) {
      if (keys.size() < 120) keys += (keys.empty() ? "" : ", ") + one_line_excerpt(k, 30);
    }
    throw Error::DataLoss(fmt::format("tiingo payload is an object ({}) instead of an array of prices", keys));
  }
  if (!doc.is_array()) {
    throw Error::DataLoss(fmt::format("tiingo payload is JSON {} instead of an array of prices", doc.type_name()));
  }
  for (const json& row : doc) {
    if (row.is_object() && (row.contains("priceData") || row.contains("exchangeData"))) {
      throw Error::DataLoss("tiingo payload holds crypto prices (priceData per ticker), not stock prices");
    }
  }
  int64_t line = 0;
  for (const json& row : doc) {
    ++line;
    add_row(row, line, {}, context, result, out);
  }
}

void parse_csv(std::string_view text, const ParseContext& context, ParseResult& result, Out& out) {
  std::vector<std::string> names;
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
    std::vector<std::string_view> cells;
    for (size_t from = 0;;) {
      const size_t comma = line.find(',', from);
      cells.push_back(trim(line.substr(from, comma == std::string_view::npos ? std::string_view::npos : comma - from)));
      if (comma == std::string_view::npos) break;
      from = comma + 1;
    }
    if (names.empty()) {
      for (auto c : cells) names.emplace_back(c);
      for (const char* required : {"date", "open", "high", "low", "close"}) {
        if (std::find(names.begin(), names.end(), required) == names.end()) {
          throw Error::DataLoss(fmt::format("tiingo CSV has no header date,...,open,high,low,close (first line: '{}')",
                                            one_line_excerpt(line, 80)));
        }
      }
      continue;
    }
    if (cells.size() != names.size()) {
      result.findings.push_back(finding(line_no, "malformed_row",
                                        fmt::format("{} fields where the header has {}", cells.size(), names.size()),
                                        line));
      continue;
    }
    json row = json::object();
    for (size_t c = 0; c < cells.size(); ++c) {
      if (row.contains(names[c])) continue;  // a repeated column: the first wins
      if (cells[c].empty() && names[c] != "date") {
        row[names[c]] = nullptr;
      } else {
        row[names[c]] = std::string(cells[c]);
      }
    }
    add_row(row, line_no, line, context, result, out);
  }
  if (names.empty()) throw Error::DataLoss("tiingo payload is empty");
}

}  // namespace

std::optional<std::string> error_detail(std::string_view body) {
  const std::string_view text = skip_bom_and_space(body);
  if (text.empty() || text.front() != '{') return std::nullopt;
  const json doc = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) return std::nullopt;
  auto it = doc.find("detail");
  if (it == doc.end()) return std::nullopt;
  return it->is_string() ? it->get<std::string>() : bounded_json_text(*it);
}

ParseResult parse(std::string_view bytes, const ParseContext& context) {
  if (context.symbol.empty()) throw Error::DataLoss("tiingo payload: no symbol given (the prices do not name one)");
  const std::string_view text = skip_bom_and_space(bytes);
  if (text.empty()) throw Error::DataLoss("tiingo payload is empty");
  ParseResult result;
  Out out;
  if (text.front() == '[' || text.front() == '{') {
    parse_json(text, context, result, out);
  } else {
    parse_csv(text, context, result, out);
  }
  std::stable_sort(out.bars.begin(), out.bars.end(), [](const Bar& a, const Bar& b) { return a.ts_ns < b.ts_ns; });
  std::stable_sort(out.actions.begin(), out.actions.end(),
                   [](const CorporateAction& a, const CorporateAction& b) { return a.ex_date < b.ex_date; });
  result.bars[context.symbol] = std::move(out.bars);
  result.actions = std::move(out.actions);
  return result;
}

}  // namespace trib::providers::tiingo

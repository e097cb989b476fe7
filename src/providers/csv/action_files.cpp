#include "trib/providers/action_files.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <optional>
#include <string>

#include <fmt/format.h>

#include "lean_factors.hpp"
#include "trib/core/calendar.hpp"
#include "trib/core/error.hpp"
#include "trib/providers/parse_util.hpp"

namespace trib::providers {
namespace {

struct Line {
  int64_t number = 0;
  std::string_view text;
};

std::vector<Line> lines_of(std::string_view text) {
  std::vector<Line> out;
  int64_t number = 0;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (number == 1 && line.starts_with("\xEF\xBB\xBF")) line.remove_prefix(3);  // UTF-8 BOM
    if (!line.empty()) out.push_back({number, line});
  }
  return out;
}

std::vector<std::string> fields_of(std::string_view line) {
  std::vector<std::string> f;
  size_t start = 0;
  while (true) {
    const size_t comma = line.find(',', start);
    std::string_view cell = line.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    while (!cell.empty() && std::isspace(static_cast<unsigned char>(cell.front()))) cell.remove_prefix(1);
    while (!cell.empty() && std::isspace(static_cast<unsigned char>(cell.back()))) cell.remove_suffix(1);
    f.emplace_back(cell);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return f;
}

std::optional<Date> yyyymmdd(std::string_view s) {
  if (s.size() != 8 || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  return Date::try_parse(fmt::format("{}-{}-{}", s.substr(0, 4), s.substr(4, 2), s.substr(6, 2)));
}

std::optional<double> number_of(const std::string& s) {
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

ActionFileParse parse_lean_factor(std::string_view bytes, const Symbol& symbol) {
  ActionFileParse out;
  try {
    for (const auto& a : actions_from_lean_factors(parse_lean_factor_file(bytes), symbol)) {
      out.actions.push_back({a, false});
    }
  } catch (const Error& e) {
    // The factors are a chain: one bad row makes every factor before it wrong, so the file as a
    // whole is refused (one finding naming the line).
    out.actions.clear();
    out.findings.push_back(finding(0, "bad_factor_file", e.what(), bytes.substr(0, 200)));
  }
  return out;
}

ActionFileParse parse_lean_map(std::string_view bytes, const Symbol& symbol) {
  ActionFileParse out;
  struct Row {
    Date through;
    std::string ticker;
  };
  std::vector<Row> rows;
  for (const Line& line : lines_of(bytes)) {
    const auto f = fields_of(line.text);
    const auto date = f.empty() ? std::nullopt : yyyymmdd(f[0]);
    if (f.size() < 2 || f.size() > 3 || !date || f[1].empty()) {
      out.findings.push_back(finding(line.number, "malformed_row",
                                     "expected yyyyMMdd,ticker[,exchange] (a Lean map file row)", line.text));
      continue;
    }
    if (!rows.empty() && !(rows.back().through < *date)) {
      out.findings.push_back(finding(line.number, "bad_date",
                                     fmt::format("{} does not come after the previous row's {}",
                                                 date->to_string(), rows.back().through.to_string()),
                                     line.text));
      continue;
    }
    rows.push_back({*date, upper(f[1])});
  }
  const TradingCalendar& nyse = TradingCalendar::nyse();
  for (size_t i = 0; i + 1 < rows.size(); ++i) {
    if (rows[i].ticker == rows[i + 1].ticker) continue;
    CorporateAction a;
    a.kind = CorporateAction::Kind::kSymbolChange;
    try {
      a.symbol = Symbol::parse(rows[i].ticker);
      Symbol::parse(rows[i + 1].ticker);
    } catch (const Error& e) {
      out.findings.push_back(finding(0, "bad_symbol", e.what(), rows[i].ticker));
      continue;
    }
    a.ex_date = nyse.next_session(rows[i].through);
    a.new_symbol = rows[i + 1].ticker;
    out.actions.push_back({a, false});
  }
  if (!rows.empty() && rows.back().through.days_since_epoch() < kFactorsForeverDay) {
    CorporateAction a;
    a.kind = CorporateAction::Kind::kDelisting;
    try {
      a.symbol = Symbol::parse(rows.back().ticker);
      a.ex_date = nyse.next_session(rows.back().through);
      out.actions.push_back({a, false});
    } catch (const Error& e) {
      out.findings.push_back(finding(0, "bad_symbol", e.what(), rows.back().ticker));
    }
  }
  (void)symbol;  // the tickers are in the rows; the file's own name is only the current one
  return out;
}

ActionFileParse parse_actions_csv(std::string_view bytes) {
  ActionFileParse out;
  const auto lines = lines_of(bytes);
  static const std::vector<std::string> kColumns = {"symbol", "kind", "ex_date", "ratio", "amount",
                                                    "currency", "pay_date", "record_date",
                                                    "declared_date", "new_symbol", "retracted",
                                                    "reference_price"};
  if (lines.empty()) return out;
  std::map<std::string, size_t> column;
  const auto header = fields_of(lines.front().text);
  for (size_t i = 0; i < header.size(); ++i) {
    const std::string name = [&] {
      std::string s = header[i];
      for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      return s;
    }();
    if (std::find(kColumns.begin(), kColumns.end(), name) == kColumns.end()) {
      throw Error::InvalidInput(fmt::format(
          "actions CSV line {}: column '{}' is not known; the columns are {} (symbol, kind and ex_date "
          "required)", lines.front().number, header[i], fmt::join(kColumns, ", ")));
    }
    column[name] = i;
  }
  for (const char* required : {"symbol", "kind", "ex_date"}) {
    if (!column.contains(required)) {
      throw Error::InvalidInput(fmt::format(
          "actions CSV: the header has no '{}' column; the first line must name the columns, e.g. "
          "symbol,kind,ex_date,ratio,amount", required));
    }
  }
  for (size_t l = 1; l < lines.size(); ++l) {
    const Line& line = lines[l];
    const auto f = fields_of(line.text);
    auto cell = [&](const char* name) -> std::string {
      auto it = column.find(name);
      return it == column.end() || it->second >= f.size() ? std::string() : f[it->second];
    };
    auto bad = [&](const std::string& rule, const std::string& reason) {
      out.findings.push_back(finding(line.number, rule, reason, line.text));
    };
    if (f.size() > header.size()) {
      bad("malformed_row", fmt::format("{} fields where the header names {}", f.size(), header.size()));
      continue;
    }
    FileAction fa;
    CorporateAction& a = fa.action;
    try {
      a.symbol = Symbol::parse(cell("symbol"));
      a.kind = parse_action_kind(cell("kind"));
    } catch (const Error& e) {
      bad("bad_field", e.what());
      continue;
    }
    const auto ex = Date::try_parse(cell("ex_date"));
    if (!ex) {
      bad("bad_date", fmt::format("ex_date '{}' is not a YYYY-MM-DD date", cell("ex_date")));
      continue;
    }
    a.ex_date = *ex;
    const std::string retracted = cell("retracted");
    if (retracted != "" && retracted != "true" && retracted != "false") {
      bad("bad_field", fmt::format("retracted '{}' must be true, false or empty", retracted));
      continue;
    }
    fa.retracted = retracted == "true";
    bool ok = true;
    for (auto [name, target] : {std::pair{"pay_date", &a.pay_date}, std::pair{"record_date", &a.record_date},
                                std::pair{"declared_date", &a.declared_date}}) {
      const std::string text = cell(name);
      if (text.empty()) continue;
      *target = Date::try_parse(text);
      if (!*target) {
        bad("bad_date", fmt::format("{} '{}' is not a YYYY-MM-DD date", name, text));
        ok = false;
        break;
      }
    }
    if (!ok) continue;
    a.currency = cell("currency");
    switch (a.kind) {
      case CorporateAction::Kind::kSplit: {
        const auto ratio = number_of(cell("ratio"));
        if (!fa.retracted && (!ratio || *ratio <= 0)) {
          bad("bad_number", fmt::format("a split needs ratio = new shares per old share (4 for a "
                                        "4-for-1 split, 0.1 for 1-for-10); got '{}'", cell("ratio")));
          continue;
        }
        a.split_ratio = ratio.value_or(0);
        break;
      }
      case CorporateAction::Kind::kDividend: {
        const auto amount = number_of(cell("amount"));
        if (!fa.retracted && (!amount || *amount < 0)) {
          bad("bad_number", fmt::format("a dividend needs amount = cash per share (0.82); got '{}'",
                                        cell("amount")));
          continue;
        }
        a.cash_amount = amount.value_or(0);
        if (a.currency.empty()) a.currency = "USD";
        if (const std::string ref = cell("reference_price"); !ref.empty()) {
          const auto price = number_of(ref);
          if (!price || *price <= 0) {
            bad("bad_number", fmt::format("reference_price '{}' must be the positive close before the "
                                          "ex-date, or empty", ref));
            continue;
          }
          a.reference_price = *price;
        }
        break;
      }
      case CorporateAction::Kind::kSymbolChange:
        a.new_symbol = cell("new_symbol");
        try {
          a.new_symbol = Symbol::parse(a.new_symbol).str();
        } catch (const Error& e) {
          if (!fa.retracted) {
            bad("bad_field", fmt::format("a symbol change needs new_symbol: {}", e.what()));
            continue;
          }
        }
        break;
      case CorporateAction::Kind::kDelisting: break;
    }
    out.actions.push_back(std::move(fa));
  }
  return out;
}

}  // namespace

std::string_view to_string(ActionFileFormat format) {
  switch (format) {
    case ActionFileFormat::kLeanFactor: return "lean_factor";
    case ActionFileFormat::kLeanMap: return "lean_map";
    case ActionFileFormat::kActionsCsv: return "actions_csv";
  }
  return "actions_csv";
}

ActionFileFormat parse_action_file_format(std::string_view text) {
  for (auto f : {ActionFileFormat::kLeanFactor, ActionFileFormat::kLeanMap, ActionFileFormat::kActionsCsv}) {
    if (text == to_string(f)) return f;
  }
  throw Error::InvalidInput(fmt::format("action file format '{}' is not one of lean_factor, lean_map, actions_csv", text));
}

ActionFileParse parse_action_file(std::string_view bytes, ActionFileFormat format, const Symbol& symbol) {
  switch (format) {
    case ActionFileFormat::kLeanFactor: return parse_lean_factor(bytes, symbol);
    case ActionFileFormat::kLeanMap: return parse_lean_map(bytes, symbol);
    case ActionFileFormat::kActionsCsv: return parse_actions_csv(bytes);
  }
  return {};
}

ActionFileKind classify_action_file(std::string_view path) {
  ActionFileKind out;
  const size_t slash = path.find_last_of('/');
  const std::string_view name = slash == std::string_view::npos ? path : path.substr(slash + 1);
  const std::string_view dir = slash == std::string_view::npos ? std::string_view() : path.substr(0, slash);
  const bool factor = dir.ends_with("factor_files");
  const bool map = dir.ends_with("map_files");
  if (!factor && !map) return out;
  out.format = factor ? ActionFileFormat::kLeanFactor : ActionFileFormat::kLeanMap;
  std::string_view stem = name.substr(0, name.rfind(".csv") == std::string_view::npos ? name.size() : name.rfind(".csv"));
  // fb.1.csv: the first earlier security that used the ticker FB.
  if (const size_t dot = stem.rfind('.'); dot != std::string_view::npos && dot + 1 < stem.size() &&
      std::all_of(stem.begin() + dot + 1, stem.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    stem = stem.substr(0, dot);
  }
  try {
    out.symbol = Symbol::parse(upper(stem));
  } catch (const Error& e) {
    throw Error::InvalidInput(fmt::format("{}: a Lean {} file is named after its symbol (aapl.csv): {}", path,
                                          factor ? "factor" : "map", e.what()));
  }
  return out;
}

}  // namespace trib::providers

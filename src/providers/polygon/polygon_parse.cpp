#include "polygon_parse.hpp"

#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "trib/core/error.hpp"
#include "trib/providers/parse_util.hpp"

namespace trib::providers {
namespace {

using nlohmann::json;

std::string dump_row(const json& row) {
  return row.dump(-1, ' ', false, json::error_handler_t::replace);
}

enum class PageKind { kAggregates, kSplits, kDividends, kNoRows };

PageKind kind_of(const json& page, size_t page_no) {
  if (page.contains("ticker") || page.contains("queryCount") || page.contains("resultsCount") ||
      page.contains("adjusted")) {
    return PageKind::kAggregates;
  }
  auto it = page.find("results");
  if (it == page.end() || it->is_null() || (it->is_array() && it->empty())) return PageKind::kNoRows;
  if (it->is_array()) {
    for (const json& row : *it) {
      if (!row.is_object()) continue;
      if (row.contains("execution_date") || row.contains("split_from") || row.contains("split_to")) {
        return PageKind::kSplits;
      }
      if (row.contains("ex_dividend_date") || row.contains("cash_amount")) return PageKind::kDividends;
      if (row.contains("t") && row.contains("o")) return PageKind::kAggregates;
    }
  }
  throw Error::DataLoss(fmt::format(
      "polygon payload: page {} is neither aggregates, splits nor dividends: {}", page_no,
      one_line_excerpt(page.dump(-1, ' ', false, json::error_handler_t::replace), 200)));
}

// The epoch milliseconds in `v` when it is an integral number whose instant lies in 1900-2100.
std::optional<int64_t> epoch_ms(const json& v) {
  int64_t ms = 0;
  if (v.is_number_integer()) {
    if (v.is_number_unsigned() && v.get<uint64_t>() > uint64_t{1} << 62) return std::nullopt;
    ms = v.get<int64_t>();
  } else if (v.is_number_float()) {
    const double d = v.get<double>();
    if (!std::isfinite(d) || d != std::floor(d) || std::fabs(d) > 1e16) return std::nullopt;
    ms = static_cast<int64_t>(d);
  } else {
    return std::nullopt;
  }
  if (ms < -(int64_t{1} << 50) || ms > (int64_t{1} << 50)) return std::nullopt;
  const int64_t s = ms / 1000 - ((ms % 1000 != 0 && ms < 0) ? 1 : 0);
  if (!supported_epoch_s(s)) return std::nullopt;
  return ms;
}

// Reads row[key] as a finite number; on failure records the finding and returns nullopt.
struct RowReader {
  ParseResult& result;
  int64_t line;
  const json& row;
  std::string where;  // "page 2 row 5"

  std::optional<double> number(const char* key) {
    auto it = row.find(key);
    if (it == row.end()) {
      result.findings.push_back(finding(line, "missing_value",
                                        fmt::format("{}: field '{}' is missing", where, key),
                                        dump_row(row)));
      return std::nullopt;
    }
    if (it->is_null()) {
      result.findings.push_back(finding(line, "null_value",
                                        fmt::format("{}: field '{}' is null", where, key),
                                        dump_row(row)));
      return std::nullopt;
    }
    auto v = json_number(*it);
    if (!v) {
      result.findings.push_back(finding(
          line, "bad_number",
          fmt::format("{}: field '{}' is not a number ({})", where, key,
                      one_line_excerpt(it->dump(-1, ' ', false, json::error_handler_t::replace), 200)),
          dump_row(row)));
    }
    return v;
  }

  std::optional<Date> date(const char* key) {
    auto it = row.find(key);
    if (it == row.end() || it->is_null()) {
      result.findings.push_back(finding(line, it == row.end() ? "missing_value" : "null_value",
                                        fmt::format("{}: field '{}' is {}", where, key,
                                                    it == row.end() ? "missing" : "null"),
                                        dump_row(row)));
      return std::nullopt;
    }
    std::optional<Date> d;
    if (it->is_string()) {
      const auto& s = it->get_ref<const std::string&>();
      if (s.size() == 10) d = iso_date_prefix(s);
    }
    if (!d) {
      result.findings.push_back(finding(
          line, "bad_date",
          fmt::format("{}: field '{}' is not a date YYYY-MM-DD in 1900-2100 ({})", where, key,
                      one_line_excerpt(it->dump(-1, ' ', false, json::error_handler_t::replace), 200)),
          dump_row(row)));
    }
    return d;
  }

  // An optional date: unset when absent, null or unreadable (the row stays usable).
  std::optional<Date> optional_date(const char* key) const {
    auto it = row.find(key);
    if (it == row.end() || !it->is_string()) return std::nullopt;
    const auto& s = it->get_ref<const std::string&>();
    if (s.size() != 10) return std::nullopt;
    return iso_date_prefix(s);
  }

  // The row's "ticker" as a symbol: `fallback` when absent; nullopt (and a finding) when it is
  // not a valid symbol.
  std::optional<Symbol> symbol(const Symbol& fallback) {
    auto it = row.find("ticker");
    if (it == row.end() || it->is_null()) {
      if (fallback.empty()) {
        result.findings.push_back(finding(line, "missing_value",
                                          fmt::format("{}: field 'ticker' is missing", where),
                                          dump_row(row)));
        return std::nullopt;
      }
      return fallback;
    }
    if (!it->is_string() || !Symbol::is_valid(it->get_ref<const std::string&>())) {
      result.findings.push_back(finding(
          line, "bad_symbol",
          fmt::format("{}: field 'ticker' is not a valid symbol ({})", where,
                      one_line_excerpt(it->dump(-1, ' ', false, json::error_handler_t::replace), 200)),
          dump_row(row)));
      return std::nullopt;
    }
    return Symbol::parse(it->get_ref<const std::string&>());
  }
};

std::optional<int64_t> optional_count(const json& row, const char* key) {
  auto it = row.find(key);
  if (it == row.end()) return std::nullopt;
  auto v = json_number(*it);
  if (!v || *v < 0 || *v > 9e15 || *v != std::floor(*v)) return std::nullopt;
  return static_cast<int64_t>(*v);
}

class Parser {
 public:
  explicit Parser(const ParseContext& context) : context_(context) {}

  ParseResult run(std::string_view bytes) {
    const auto pages = split_json_pages(bytes, "polygon");
    if (pages.empty()) throw Error::DataLoss("polygon payload is empty");
    for (size_t p = 0; p < pages.size(); ++p) page(pages[p], p + 1);
    return std::move(result_);
  }

 private:
  void page(std::string_view text, size_t page_no) {
    json doc;
    try {
      doc = json::parse(text);
    } catch (const json::exception& e) {
      throw Error::DataLoss(
          fmt::format("polygon payload: page {} is not JSON ({})", page_no, one_line_excerpt(e.what(), 200)));
    }
    if (!doc.is_object()) {
      throw Error::DataLoss(fmt::format("polygon payload: page {} is not a JSON object", page_no));
    }
    if (auto s = doc.find("status"); s != doc.end() && s->is_string()) {
      const auto& status = s->get_ref<const std::string&>();
      if (status != "OK" && status != "DELAYED") {
        std::string why;
        for (const char* k : {"error", "message"}) {
          if (auto e = doc.find(k); e != doc.end() && e->is_string()) why = e->get<std::string>();
        }
        throw Error::DataLoss(fmt::format("polygon payload: page {} is an error body (status {}): {}",
                                          page_no, one_line_excerpt(status, 200), one_line_excerpt(why, 200)));
      }
    }
    const PageKind kind = kind_of(doc, page_no);
    if (kind == PageKind::kNoRows) return;
    auto results = doc.find("results");
    if (results == doc.end() || results->is_null()) {
      if (kind == PageKind::kAggregates) touch_symbol(doc);
      return;
    }
    if (!results->is_array()) {
      throw Error::DataLoss(fmt::format("polygon payload: page {} has 'results' that is not a list",
                                        page_no));
    }
    switch (kind) {
      case PageKind::kAggregates: aggregates(doc, *results, page_no); break;
      case PageKind::kSplits: splits(*results, page_no); break;
      case PageKind::kDividends: dividends(*results, page_no); break;
      case PageKind::kNoRows: break;
    }
  }

  // The symbol an aggregates page is for: the context's; the page's own "ticker" when the
  // context names none. nullopt when the page names another symbol than the context's.
  std::optional<Symbol> page_symbol(const json& doc, size_t page_no) {
    std::optional<Symbol> named;
    if (auto t = doc.find("ticker"); t != doc.end() && t->is_string() &&
                                     Symbol::is_valid(t->get_ref<const std::string&>())) {
      named = Symbol::parse(t->get_ref<const std::string&>());
    }
    if (context_.symbol.empty()) {
      if (!named) {
        throw Error::DataLoss(fmt::format(
            "polygon payload: page {} names no valid ticker and the request named no symbol", page_no));
      }
      return named;
    }
    if (named && *named != context_.symbol) return std::nullopt;
    return context_.symbol;
  }

  void touch_symbol(const json& doc) {
    if (!context_.symbol.empty()) {
      result_.bars[context_.symbol];
    } else if (auto t = doc.find("ticker"); t != doc.end() && t->is_string() &&
                                            Symbol::is_valid(t->get_ref<const std::string&>())) {
      result_.bars[Symbol::parse(t->get_ref<const std::string&>())];
    }
  }

  void aggregates(const json& doc, const json& rows, size_t page_no) {
    const std::optional<Symbol> symbol = rows.empty() ? std::nullopt : page_symbol(doc, page_no);
    if (rows.empty()) {
      touch_symbol(doc);
      return;
    }
    std::vector<Bar>* out = symbol ? &result_.bars[*symbol] : nullptr;
    size_t r = 0;
    for (const json& row : rows) {
      ++r;
      const int64_t line = ++row_no_;
      const std::string where = fmt::format("page {} row {}", page_no, r);
      if (!row.is_object()) {
        result_.findings.push_back(finding(line, "malformed_row",
                                           fmt::format("{}: a bar must be a JSON object", where),
                                           dump_row(row)));
        continue;
      }
      if (!out) {
        result_.findings.push_back(finding(
            line, "unexpected_symbol",
            fmt::format("{}: the page is for ticker {}, not {}", where,
                        one_line_excerpt(doc.at("ticker").get<std::string>(), 200), context_.symbol.str()),
            dump_row(row)));
        continue;
      }
      RowReader read{result_, line, row, where};
      auto t = row.find("t");
      if (t == row.end() || t->is_null()) {
        result_.findings.push_back(finding(line, t == row.end() ? "missing_value" : "null_value",
                                           fmt::format("{}: field 't' is {}", where,
                                                       t == row.end() ? "missing" : "null"),
                                           dump_row(row)));
        continue;
      }
      const std::optional<int64_t> ms = epoch_ms(*t);
      if (!ms) {
        result_.findings.push_back(finding(
            line, "bad_date",
            fmt::format("{}: field 't' is not epoch milliseconds in 1900-2100 ({})", where,
                        one_line_excerpt(t->dump(-1, ' ', false, json::error_handler_t::replace), 200)),
            dump_row(row)));
        continue;
      }
      const auto o = read.number("o");
      if (!o) continue;
      const auto h = read.number("h");
      if (!h) continue;
      const auto l = read.number("l");
      if (!l) continue;
      const auto c = read.number("c");
      if (!c) continue;
      const auto v = read.number("v");
      if (!v) continue;
      const int64_t ts_ns = *ms * 1'000'000;
      const Date session = new_york_date_of(ts_ns);
      Bar bar;
      if (context_.timeframe == Timeframe::kDay1) {
        bar = daily_bar(session, *o, *h, *l, *c, *v, *context_.calendar);
      } else {
        bar.ts_ns = ts_ns;
        bar.session_date = session;
        bar.open = *o;
        bar.high = *h;
        bar.low = *l;
        bar.close = *c;
        bar.volume = *v;
      }
      if (auto vw = row.find("vw"); vw != row.end()) bar.vwap = json_number(*vw);
      bar.trades = optional_count(row, "n");
      out->push_back(bar);
    }
  }

  void splits(const json& rows, size_t page_no) {
    size_t r = 0;
    for (const json& row : rows) {
      ++r;
      const int64_t line = ++row_no_;
      const std::string where = fmt::format("splits page {} row {}", page_no, r);
      if (!row.is_object()) {
        result_.findings.push_back(finding(line, "malformed_row",
                                           fmt::format("{}: a split must be a JSON object", where),
                                           dump_row(row)));
        continue;
      }
      RowReader read{result_, line, row, where};
      const auto symbol = read.symbol(context_.symbol);
      if (!symbol) continue;
      const auto date = read.date("execution_date");
      if (!date) continue;
      const auto from = read.number("split_from");
      if (!from) continue;
      const auto to = read.number("split_to");
      if (!to) continue;
      if (!(*from > 0) || !(*to > 0) || !std::isfinite(*to / *from) || *to / *from == 0) {
        result_.findings.push_back(finding(
            line, "bad_number",
            fmt::format("{}: split_from {} and split_to {} must both be > 0", where, *from, *to),
            dump_row(row)));
        continue;
      }
      CorporateAction a;
      a.kind = CorporateAction::Kind::kSplit;
      a.symbol = *symbol;
      a.ex_date = *date;
      a.split_ratio = *to / *from;
      result_.actions.push_back(std::move(a));
    }
  }

  void dividends(const json& rows, size_t page_no) {
    size_t r = 0;
    for (const json& row : rows) {
      ++r;
      const int64_t line = ++row_no_;
      const std::string where = fmt::format("dividends page {} row {}", page_no, r);
      if (!row.is_object()) {
        result_.findings.push_back(finding(line, "malformed_row",
                                           fmt::format("{}: a dividend must be a JSON object", where),
                                           dump_row(row)));
        continue;
      }
      RowReader read{result_, line, row, where};
      const auto symbol = read.symbol(context_.symbol);
      if (!symbol) continue;
      const auto date = read.date("ex_dividend_date");
      if (!date) continue;
      const auto cash = read.number("cash_amount");
      if (!cash) continue;
      if (!(*cash > 0)) {
        result_.findings.push_back(finding(
            line, "nonpositive_amount",
            fmt::format("{}: cash_amount {} must be > 0", where, *cash), dump_row(row)));
        continue;
      }
      CorporateAction a;
      a.kind = CorporateAction::Kind::kDividend;
      a.symbol = *symbol;
      a.ex_date = *date;
      a.cash_amount = *cash;
      if (auto cur = row.find("currency"); cur != row.end() && cur->is_string()) {
        a.currency = cur->get<std::string>();
        for (char& ch : a.currency) {
          if (ch >= 'a' && ch <= 'z') ch = static_cast<char>(ch - 'a' + 'A');
        }
      }
      a.pay_date = read.optional_date("pay_date");
      a.record_date = read.optional_date("record_date");
      a.declared_date = read.optional_date("declaration_date");
      result_.actions.push_back(std::move(a));
    }
  }

  const ParseContext& context_;
  ParseResult result_;
  int64_t row_no_ = 0;  // 1-based across the payload's pages
};

}  // namespace

ParseResult parse_polygon(std::string_view bytes, const ParseContext& context) {
  return Parser(context).run(bytes);
}

}  // namespace trib::providers

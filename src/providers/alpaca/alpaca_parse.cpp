#include "alpaca_parse.hpp"

#include <algorithm>
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


bool two_digits(std::string_view s, size_t at, int& out) {
  if (at + 2 > s.size() || s[at] < '0' || s[at] > '9' || s[at + 1] < '0' || s[at + 1] > '9') return false;
  out = (s[at] - '0') * 10 + (s[at + 1] - '0');
  return true;
}

class Parser {
 public:
  explicit Parser(const ParseContext& context) : context_(context) {}

  ParseResult run(std::string_view bytes) {
    const auto pages = split_json_pages(bytes, "alpaca");
    if (pages.empty()) throw Error::DataLoss("alpaca payload is empty");
    for (size_t p = 0; p < pages.size(); ++p) page(pages[p], p + 1);
    for (auto& [symbol, bars] : result_.bars) {
      std::stable_sort(bars.begin(), bars.end(),
                       [](const Bar& a, const Bar& b) { return a.ts_ns < b.ts_ns; });
    }
    if (!context_.symbol.empty() && result_.bars.empty()) result_.bars[context_.symbol];
    return std::move(result_);
  }

 private:
  void page(std::string_view text, size_t page_no) {
    json doc;
    try {
      doc = json::parse(text);
    } catch (const json::exception& e) {
      throw Error::DataLoss(
          fmt::format("alpaca payload: page {} is not JSON ({})", page_no, one_line_excerpt(e.what(), 200)));
    }
    if (!doc.is_object()) {
      throw Error::DataLoss(fmt::format("alpaca payload: page {} is not a JSON object", page_no));
    }
    if (auto actions = doc.find("corporate_actions"); actions != doc.end()) {
      corporate_actions(*actions, page_no);
      return;
    }
    auto bars = doc.find("bars");
    if (bars == doc.end()) {
      std::string why = "no \"bars\" or \"corporate_actions\"";
      if (auto m = doc.find("message"); m != doc.end() && m->is_string()) {
        why = "an error body: " + one_line_excerpt(m->get<std::string>(), 200);
      }
      throw Error::DataLoss(fmt::format("alpaca payload: page {} is not a bars page ({})", page_no, why));
    }
    if (bars->is_null()) return;
    if (bars->is_object()) {
      for (const auto& [key, rows] : bars->items()) symbol_rows(key, rows, page_no);
      return;
    }
    if (bars->is_array()) {
      // The single-symbol endpoint: the symbol beside the list, else the request's.
      std::string key = context_.symbol.str();
      if (auto s = doc.find("symbol"); s != doc.end() && s->is_string()) key = s->get<std::string>();
      if (key.empty()) {
        throw Error::DataLoss(fmt::format(
            "alpaca payload: page {} lists bars without a symbol and the request named none", page_no));
      }
      symbol_rows(key, *bars, page_no);
      return;
    }
    throw Error::DataLoss(
        fmt::format("alpaca payload: page {} has \"bars\" that is neither an object nor a list", page_no));
  }

  void symbol_rows(const std::string& key, const json& rows, size_t page_no) {
    std::vector<Bar>* out = nullptr;
    if (Symbol::is_valid(key)) out = &result_.bars[Symbol::parse(key)];
    if (!rows.is_array()) {
      const int64_t line = ++row_no_;
      result_.findings.push_back(finding(
          line, "malformed_row",
          fmt::format("page {}: the bars of '{}' are not a list", page_no, one_line_excerpt(key, 200)), bounded_json_text(rows)));
      return;
    }
    size_t r = 0;
    for (const json& row : rows) {
      ++r;
      const int64_t line = ++row_no_;
      const std::string where = fmt::format("page {} {} row {}", page_no, one_line_excerpt(key, 200), r);
      auto add = [&](const char* rule, std::string reason) {
        result_.findings.push_back(finding(line, rule, std::move(reason), bounded_json_text(row)));
      };
      if (!out) {
        add("bad_symbol", fmt::format("{}: '{}' is not a valid symbol", where, one_line_excerpt(key, 200)));
        continue;
      }
      if (!row.is_object()) {
        add("malformed_row", fmt::format("{}: a bar must be a JSON object", where));
        continue;
      }
      auto t = row.find("t");
      if (t == row.end() || t->is_null()) {
        add(t == row.end() ? "missing_value" : "null_value",
            fmt::format("{}: field 't' is {}", where, t == row.end() ? "missing" : "null"));
        continue;
      }
      std::optional<int64_t> ts;
      if (t->is_string()) ts = alpaca_timestamp_ns(t->get_ref<const std::string&>());
      if (!ts) {
        add("bad_date", fmt::format("{}: field 't' is not an RFC 3339 time in 1900-2100 ({})", where,
                                    one_line_excerpt(bounded_json_text(*t), 200)));
        continue;
      }
      double v[5];
      const char* keys[5] = {"o", "h", "l", "c", "v"};
      bool ok = true;
      for (int k = 0; k < 5 && ok; ++k) {
        auto it = row.find(keys[k]);
        if (it == row.end()) {
          add("missing_value", fmt::format("{}: field '{}' is missing", where, keys[k]));
          ok = false;
        } else if (it->is_null()) {
          add("null_value", fmt::format("{}: field '{}' is null", where, keys[k]));
          ok = false;
        } else if (auto num = json_number(*it)) {
          v[k] = *num;
        } else {
          add("bad_number", fmt::format("{}: field '{}' is not a number ({})", where, keys[k],
                                        one_line_excerpt(bounded_json_text(*it), 200)));
          ok = false;
        }
      }
      if (!ok) continue;
      const Date session = new_york_date_of(*ts);
      Bar bar;
      if (context_.timeframe == Timeframe::kDay1) {
        bar = daily_bar(session, v[0], v[1], v[2], v[3], v[4], *context_.calendar);
      } else {
        bar.ts_ns = *ts;
        bar.session_date = session;
        bar.open = v[0];
        bar.high = v[1];
        bar.low = v[2];
        bar.close = v[3];
        bar.volume = v[4];
      }
      if (auto vw = row.find("vw"); vw != row.end()) bar.vwap = json_number(*vw);
      if (auto n = row.find("n"); n != row.end()) {
        if (auto count = json_number(*n); count && *count >= 0 && *count <= 9e15 && *count == std::floor(*count)) {
          bar.trades = static_cast<int64_t>(*count);
        }
      }
      out->push_back(bar);
    }
  }

  // GET /v1/corporate-actions: {"corporate_actions":{"forward_splits":[{"symbol","new_rate",
  // "old_rate","ex_date","process_date","record_date","payable_date"}],"reverse_splits":[...],
  // "cash_dividends":[{"symbol","rate","special","foreign","ex_date","record_date",
  // "payable_date","process_date"}],"name_changes":[{"old_symbol","new_symbol",
  // "process_date"}], other types ignored},"next_page_token":...}. A split's ratio is new_rate /
  // old_rate (4-for-1: 4 / 1; a 1-for-10 reverse split: 1 / 10); a dividend's rate is USD a share.
  void corporate_actions(const json& groups, size_t page_no) {
    if (groups.is_null()) return;
    if (!groups.is_object()) {
      throw Error::DataLoss(fmt::format("alpaca payload: page {} has \"corporate_actions\" that is not an object", page_no));
    }
    for (const char* kind : {"forward_splits", "reverse_splits", "cash_dividends", "name_changes"}) {
      auto rows = groups.find(kind);
      if (rows == groups.end() || rows->is_null()) continue;
      if (!rows->is_array()) {
        result_.findings.push_back(finding(++row_no_, "malformed_row",
                                           fmt::format("page {}: {} is not a list", page_no, kind),
                                           bounded_json_text(*rows)));
        continue;
      }
      size_t r = 0;
      for (const json& row : *rows) action_row(kind, row, page_no, ++r);
    }
  }

  void action_row(std::string_view kind, const json& row, size_t page_no, size_t r) {
    const int64_t line = ++row_no_;
    const std::string where = fmt::format("page {} {} row {}", page_no, kind, r);
    auto add = [&](const char* rule, std::string reason) {
      result_.findings.push_back(finding(line, rule, std::move(reason), bounded_json_text(row)));
    };
    if (!row.is_object()) return add("malformed_row", fmt::format("{}: an action must be a JSON object", where));
    auto text = [&](const char* key) -> std::optional<std::string> {
      auto it = row.find(key);
      if (it == row.end() || !it->is_string()) return std::nullopt;
      return it->get<std::string>();
    };
    auto date = [&](const char* key) -> std::optional<Date> {
      const auto t = text(key);
      if (!t) return std::nullopt;
      const auto d = Date::try_parse(*t);
      if (d && !supported_date(*d)) return std::nullopt;
      return d;
    };
    auto number = [&](const char* key) -> std::optional<double> {
      auto it = row.find(key);
      return it == row.end() ? std::nullopt : json_number(*it);
    };
    const bool rename = kind == "name_changes";
    const auto symbol_text = text(rename ? "old_symbol" : "symbol");
    if (!symbol_text || !Symbol::is_valid(*symbol_text)) {
      return add("bad_symbol", fmt::format("{}: '{}' is not a valid symbol", where,
                                           one_line_excerpt(symbol_text.value_or("(missing)"), 60)));
    }
    CorporateAction a;
    a.symbol = Symbol::parse(*symbol_text);
    const auto ex = date(rename ? "process_date" : "ex_date");
    if (!ex) {
      return add("bad_date", fmt::format("{}: field '{}' is not a date YYYY-MM-DD in 1900-2100", where,
                                         rename ? "process_date" : "ex_date"));
    }
    a.ex_date = *ex;
    if (rename) {
      const auto to = text("new_symbol");
      if (!to || !Symbol::is_valid(*to)) {
        return add("bad_symbol", fmt::format("{}: new_symbol '{}' is not a valid symbol", where,
                                             one_line_excerpt(to.value_or("(missing)"), 60)));
      }
      a.kind = CorporateAction::Kind::kSymbolChange;
      a.new_symbol = Symbol::parse(*to).str();
    } else if (kind == "cash_dividends") {
      const auto rate = number("rate");
      if (!rate || !(*rate > 0) || !std::isfinite(*rate)) {
        return add("bad_number", fmt::format("{}: rate must be a number > 0", where));
      }
      a.kind = CorporateAction::Kind::kDividend;
      a.cash_amount = *rate;
      a.currency = "USD";
      a.pay_date = date("payable_date");
      a.record_date = date("record_date");
    } else {
      const auto new_rate = number("new_rate"), old_rate = number("old_rate");
      if (!new_rate || !old_rate || !(*new_rate > 0) || !(*old_rate > 0) || !std::isfinite(*new_rate / *old_rate) ||
          *new_rate / *old_rate == 0) {
        return add("bad_number", fmt::format("{}: new_rate and old_rate must both be numbers > 0", where));
      }
      a.kind = CorporateAction::Kind::kSplit;
      a.split_ratio = *new_rate / *old_rate;
    }
    result_.actions.push_back(std::move(a));
  }

  const ParseContext& context_;
  ParseResult result_;
  int64_t row_no_ = 0;  // 1-based across the payload's pages
};

}  // namespace

std::optional<int64_t> alpaca_timestamp_ns(std::string_view text) {
  if (!iso_date_prefix(text)) return std::nullopt;
  std::string_view core = text;
  int64_t offset_s = 0;
  if (core.back() == 'Z' || core.back() == 'z') {
    core.remove_suffix(1);
  } else if (core.size() >= 16 && (core[core.size() - 6] == '+' || core[core.size() - 6] == '-') &&
             core[core.size() - 3] == ':') {
    int hh = 0, mm = 0;
    if (!two_digits(core, core.size() - 5, hh) || !two_digits(core, core.size() - 2, mm) || hh > 23 ||
        mm > 59) {
      return std::nullopt;
    }
    offset_s = (core[core.size() - 6] == '-' ? -1 : 1) * (hh * 3600 + mm * 60);
    core.remove_suffix(6);
  }
  if (core.size() < 10) return std::nullopt;
  int64_t ts = 0;
  try {
    ts = parse_ts_ns(core);
  } catch (const Error&) {
    return std::nullopt;
  }
  ts -= offset_s * kNanosPerSecond;
  const int64_t s = ts / kNanosPerSecond - (ts % kNanosPerSecond < 0 ? 1 : 0);
  if (!supported_epoch_s(s)) return std::nullopt;
  return ts;
}

ParseResult parse_alpaca(std::string_view bytes, const ParseContext& context) {
  return Parser(context).run(bytes);
}

}  // namespace trib::providers

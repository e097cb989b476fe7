#include "trib/llm/query.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include <fmt/format.h>

#include "trib/core/error.hpp"

namespace trib::llm {

using nlohmann::json;

namespace {

const std::vector<std::string> kStringColumns = {"symbol", "date", "month"};
const std::vector<std::string> kNumberColumns = {"year",   "weekday", "open",   "high",     "low",
                                                 "close",  "volume",  "return", "range_pct"};
const std::vector<std::string> kAggregates = {"count", "sum", "avg", "min", "max", "stddev", "first", "last"};

bool contains(const std::vector<std::string>& v, const std::string& x) { return std::find(v.begin(), v.end(), x) != v.end(); }
bool is_column(const std::string& c) { return contains(kStringColumns, c) || contains(kNumberColumns, c); }

std::string known_columns() {
  std::string out;
  for (const auto& c : kStringColumns) out += (out.empty() ? "" : ", ") + c;
  for (const auto& c : kNumberColumns) out += ", " + c;
  return out;
}

// A select item: a column, or fn(column) / count(*).
struct Item {
  std::string text, fn, column;  // fn empty: a plain column
};

Item parse_item(const std::string& text) {
  Item item{text, "", ""};
  const size_t open = text.find('(');
  if (open == std::string::npos) {
    if (!is_column(text)) {
      throw Error::InvalidInput(fmt::format("select: unknown column '{}' (columns: {})", text.substr(0, 40), known_columns()));
    }
    item.column = text;
    return item;
  }
  if (text.back() != ')') throw Error::InvalidInput(fmt::format("select: '{}' is not fn(column)", text.substr(0, 40)));
  item.fn = text.substr(0, open);
  item.column = text.substr(open + 1, text.size() - open - 2);
  if (!contains(kAggregates, item.fn)) {
    throw Error::InvalidInput(fmt::format("select: unknown aggregate '{}' (count, sum, avg, min, max, stddev, first, last)",
                                          item.fn.substr(0, 20)));
  }
  if (item.column == "*" && item.fn == "count") return item;
  if (!contains(kNumberColumns, item.column)) {
    throw Error::InvalidInput(fmt::format("select: {}() needs a numeric column, not '{}' (numeric: {})", item.fn,
                                          item.column.substr(0, 40), [] {
                                            std::string s;
                                            for (const auto& c : kNumberColumns) s += (s.empty() ? "" : ", ") + c;
                                            return s;
                                          }()));
  }
  return item;
}

struct Row {
  const std::string* symbol;
  const lake::CuratedBar* bar;
  double ret;  // NaN: the symbol's first row
};

// A cell: a number (NaN = null) or a string.
struct Value {
  bool is_string = false;
  double number = std::numeric_limits<double>::quiet_NaN();
  std::string text;
  bool integer = false;  // a count
  json to_json() const {
    if (is_string) return text;
    if (!std::isfinite(number)) return nullptr;
    if (integer) return static_cast<int64_t>(number);
    return std::round(number * 1e6) / 1e6;
  }
  bool operator<(const Value& o) const {
    if (is_string != o.is_string) return is_string < o.is_string;
    if (is_string) return text < o.text;
    // Nulls sort first.
    const bool a = std::isnan(number), b = std::isnan(o.number);
    if (a || b) return a && !b;
    return number < o.number;
  }
};

Value cell(const Row& r, const std::string& column) {
  const Bar& b = r.bar->bar;
  Value v;
  if (column == "symbol") return {true, 0, *r.symbol};
  if (column == "date") return {true, 0, b.session_date.to_string()};
  if (column == "month") return {true, 0, b.session_date.to_string().substr(0, 7)};
  if (column == "year") v.number = b.session_date.year();
  else if (column == "weekday") v.number = b.session_date.weekday();
  else if (column == "open") v.number = b.open;
  else if (column == "high") v.number = b.high;
  else if (column == "low") v.number = b.low;
  else if (column == "close") v.number = b.close;
  else if (column == "volume") v.number = b.volume;
  else if (column == "return") v.number = r.ret;
  else if (column == "range_pct") v.number = b.close != 0 ? (b.high - b.low) / b.close * 100 : std::nan("");
  return v;
}

bool matches(const Row& r, const QueryFilter& f) {
  const Value v = cell(r, f.column);
  int cmp;
  if (v.is_string) {
    const std::string& want = f.value.get_ref<const std::string&>();
    cmp = v.text < want ? -1 : (v.text > want ? 1 : 0);
  } else {
    if (std::isnan(v.number)) return false;  // null matches no comparison
    const double want = f.value.get<double>();
    cmp = v.number < want ? -1 : (v.number > want ? 1 : 0);
  }
  if (f.op == "=") return cmp == 0;
  if (f.op == "!=") return cmp != 0;
  if (f.op == "<") return cmp < 0;
  if (f.op == "<=") return cmp <= 0;
  if (f.op == ">") return cmp > 0;
  return cmp >= 0;
}

struct Accumulator {
  int64_t count = 0;  // non-null values (rows for count(*))
  double sum = 0, sumsq = 0, min = INFINITY, max = -INFINITY, first = NAN, last = NAN;
  int64_t first_ts = INT64_MAX, last_ts = INT64_MIN;
  void add(double x, int64_t ts) {
    if (std::isnan(x)) return;
    ++count;
    sum += x;
    sumsq += x * x;
    min = std::min(min, x);
    max = std::max(max, x);
    if (ts < first_ts) {
      first_ts = ts;
      first = x;
    }
    if (ts > last_ts) {
      last_ts = ts;
      last = x;
    }
  }
  double result(const std::string& fn) const {
    if (fn == "count") return static_cast<double>(count);
    if (count == 0) return NAN;
    if (fn == "sum") return sum;
    if (fn == "avg") return sum / static_cast<double>(count);
    if (fn == "min") return min;
    if (fn == "max") return max;
    if (fn == "first") return first;
    if (fn == "last") return last;
    if (count < 2) return NAN;  // stddev
    const double n = static_cast<double>(count);
    return std::sqrt(std::max(0.0, (sumsq - sum * sum / n) / (n - 1)));
  }
};

}  // namespace

json query_bars_schema() {
  json columns = json::array();
  for (const auto& c : kStringColumns) columns.push_back(c);
  for (const auto& c : kNumberColumns) columns.push_back(c);
  const json filter = {{"type", "object"},
                       {"properties",
                        {{"column", {{"type", "string"}, {"enum", columns}}},
                         {"op", {{"type", "string"}, {"enum", {"=", "!=", "<", "<=", ">", ">="}}}},
                         {"value", {{"description", "a number for numeric columns, a string for symbol/date/month"}}}}},
                       {"required", {"column", "op", "value"}},
                       {"additionalProperties", false}};
  const json order = {{"type", "object"},
                      {"properties", {{"column", {{"type", "string"}, {"maxLength", 64}}}, {"desc", {{"type", "boolean"}}}}},
                      {"required", {"column"}},
                      {"additionalProperties", false}};
  return {{"type", "object"},
          {"properties",
           {{"symbols", {{"type", "array"}, {"minItems", 1}, {"maxItems", 50},
                         {"items", {{"type", "string"}, {"minLength", 1}, {"maxLength", 32}}}}},
            {"from", {{"type", "string"}, {"format", "date"}}},
            {"to", {{"type", "string"}, {"format", "date"}}},
            {"timeframe", {{"type", "string"}, {"enum", {"1d", "1h", "1m"}}}},
            {"adjust", {{"type", "string"}, {"enum", {"raw", "split", "total"}}}},
            {"where", {{"type", "array"}, {"maxItems", 10}, {"items", filter}}},
            {"group_by", {{"type", "array"}, {"maxItems", 4}, {"items", {{"type", "string"}, {"enum", {"symbol", "year", "month", "date", "weekday"}}}}}},
            {"select", {{"type", "array"}, {"minItems", 1}, {"maxItems", 20}, {"items", {{"type", "string"}, {"maxLength", 64}}}}},
            {"order_by", {{"type", "array"}, {"maxItems", 4}, {"items", order}}},
            {"limit", {{"type", "integer"}, {"minimum", 1}, {"maximum", 500}}}}},
          {"required", {"symbols", "select"}},
          {"additionalProperties", false}};
}

std::string query_bars_description() {
  return "Query bars of up to 50 symbols without SQL: filters (where), grouping (group_by: symbol, year, month, date, "
         "weekday), select of columns (symbol, date, year, month, weekday, open, high, low, close, volume, return = "
         "close/previous close - 1, range_pct) and aggregates (count(*), count, sum, avg, min, max, stddev, first, "
         "last of a numeric column), order_by a selected item, limit (default 100, at most 500). Example: "
         "{\"symbols\":[\"AAPL\"],\"from\":\"2020-01-01\",\"to\":\"2020-12-31\",\"group_by\":[\"month\"],"
         "\"select\":[\"month\",\"first(close)\",\"last(close)\",\"min(low)\"]}";
}

BarQuery parse_bar_query(const json& args, const std::string& default_adjust) {
  BarQuery q;
  for (const auto& s : args.at("symbols")) q.symbols.push_back(s.get<std::string>());
  q.timeframe = args.value("timeframe", "1d");
  q.adjust = args.value("adjust", default_adjust);
  if (args.contains("from")) q.from = Date::parse(args["from"].get<std::string>(), "from");
  if (args.contains("to")) q.to = Date::parse(args["to"].get<std::string>(), "to");
  if (q.from && q.to && *q.from > *q.to) {
    throw Error::InvalidInput(fmt::format("from {} is after to {}", q.from->to_string(), q.to->to_string()));
  }
  for (const auto& f : args.value("where", json::array())) {
    QueryFilter filter{f.at("column").get<std::string>(), f.at("op").get<std::string>(), f.at("value")};
    const bool string_column = contains(kStringColumns, filter.column);
    if (string_column && !filter.value.is_string()) {
      throw Error::InvalidInput(fmt::format("where: {} compares with a string", filter.column));
    }
    if (!string_column && !filter.value.is_number()) {
      throw Error::InvalidInput(fmt::format("where: {} compares with a number", filter.column));
    }
    q.where.push_back(std::move(filter));
  }
  for (const auto& g : args.value("group_by", json::array())) q.group_by.push_back(g.get<std::string>());
  for (const auto& s : args.at("select")) q.select.push_back(s.get<std::string>());
  const bool aggregated = !q.group_by.empty() || std::any_of(q.select.begin(), q.select.end(), [](const std::string& s) {
    return s.find('(') != std::string::npos;
  });
  for (const auto& s : q.select) {
    const Item item = parse_item(s);
    if (aggregated && item.fn.empty() && !contains(q.group_by, item.column)) {
      throw Error::InvalidInput(fmt::format(
          "select: '{}' is neither in group_by nor an aggregate (group by it, or use e.g. last({}))", s,
          item.column));
    }
  }
  for (const auto& o : args.value("order_by", json::array())) {
    QueryOrder order{o.at("column").get<std::string>(), o.value("desc", false)};
    if (!contains(q.select, order.column)) {
      throw Error::InvalidInput(fmt::format("order_by: '{}' is not a selected item", order.column.substr(0, 64)));
    }
    q.order_by.push_back(order);
  }
  q.limit = args.value("limit", 100);
  return q;
}

json run_bar_query(const BarQuery& q, const std::vector<SymbolRows>& data) {
  std::vector<Item> items;
  for (const auto& s : q.select) items.push_back(parse_item(s));
  const bool aggregated = !q.group_by.empty() ||
                          std::any_of(items.begin(), items.end(), [](const Item& i) { return !i.fn.empty(); });
  std::vector<Row> rows;
  for (const auto& sym : data) {
    double prev = std::nan("");
    for (const auto& r : sym.rows) {
      Row row{&sym.symbol, &r, prev != 0 ? r.bar.close / prev - 1 : std::nan("")};
      prev = r.bar.close;
      if (std::all_of(q.where.begin(), q.where.end(), [&](const QueryFilter& f) { return matches(row, f); })) {
        rows.push_back(row);
      }
    }
  }
  std::vector<std::vector<Value>> out;
  if (!aggregated) {
    for (const auto& r : rows) {
      std::vector<Value> line;
      for (const auto& item : items) line.push_back(cell(r, item.column));
      out.push_back(std::move(line));
    }
  } else {
    struct Group {
      std::vector<Value> key;
      int64_t rows = 0;
      std::vector<Accumulator> acc;
    };
    std::map<std::string, Group> groups;  // keyed by the group values' text
    for (const auto& r : rows) {
      std::vector<Value> key;
      std::string text;
      for (const auto& g : q.group_by) {
        key.push_back(cell(r, g));
        text += key.back().to_json().dump() + "\x1f";
      }
      auto [it, fresh] = groups.try_emplace(text);
      if (fresh) {
        it->second.key = key;
        it->second.acc.resize(items.size());
      }
      ++it->second.rows;
      for (size_t i = 0; i < items.size(); ++i) {
        if (items[i].fn.empty() || items[i].column == "*") continue;
        it->second.acc[i].add(cell(r, items[i].column).number, r.bar->bar.ts_ns);
      }
    }
    if (groups.empty() && q.group_by.empty()) groups.try_emplace("").first->second.acc.resize(items.size());
    for (const auto& [_, g] : groups) {
      std::vector<Value> line;
      for (size_t i = 0; i < items.size(); ++i) {
        if (items[i].fn.empty()) {
          const size_t k = std::find(q.group_by.begin(), q.group_by.end(), items[i].column) - q.group_by.begin();
          line.push_back(g.key[k]);
        } else if (items[i].column == "*") {
          line.push_back({false, static_cast<double>(g.rows), "", true});
        } else {
          line.push_back({false, g.acc[i].result(items[i].fn), "", items[i].fn == "count"});
        }
      }
      out.push_back(std::move(line));
    }
  }
  if (!q.order_by.empty()) {
    std::vector<std::pair<size_t, bool>> keys;
    for (const auto& o : q.order_by) {
      keys.emplace_back(std::find(q.select.begin(), q.select.end(), o.column) - q.select.begin(), o.desc);
    }
    std::stable_sort(out.begin(), out.end(), [&](const auto& a, const auto& b) {
      for (const auto& [k, desc] : keys) {
        if (a[k] < b[k]) return !desc;
        if (b[k] < a[k]) return desc;
      }
      return false;
    });
  }
  json result_rows = json::array();
  for (size_t i = 0; i < out.size() && static_cast<int>(i) < q.limit; ++i) {
    json line = json::array();
    for (const auto& v : out[i]) line.push_back(v.to_json());
    result_rows.push_back(line);
  }
  return {{"columns", q.select},       {"rows", result_rows},
          {"rows_matched", rows.size()}, {"rows_total", out.size()},
          {"truncated", static_cast<int>(out.size()) > q.limit}};
}

}  // namespace trib::llm

// query_bars: the assistant's one general query over the lake, a small structured form (never
// SQL, nothing passed to an engine): which symbols and dates, filters, grouping, aggregates,
// ordering and a limit, evaluated in memory over rows our reader returns.
//
//   {"symbols": ["AAPL", "MSFT"], "from": "2020-01-01", "to": "2020-12-31", "adjust": "total",
//    "where": [{"column": "volume", "op": ">", "value": 1e8}],
//    "group_by": ["symbol", "month"],
//    "select": ["symbol", "month", "count(*)", "avg(close)", "min(low)", "sum(volume)"],
//    "order_by": [{"column": "avg(close)", "desc": true}], "limit": 20}
//
// Columns of a row: symbol, date (YYYY-MM-DD), year, month (YYYY-MM), weekday (0 = Sunday),
// open, high, low, close, volume, return (close over the previous row's close - 1, null on a
// symbol's first row in the range), range_pct ((high - low) / close * 100). Aggregates: count(*),
// count, sum, avg, min, max, stddev (sample), first, last (by date), of any numeric column.
// Without group_by, aggregates run over all matched rows; with it, select may name only group
// columns and aggregates.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "trib/core/time.hpp"
#include "trib/lake/bars_file.hpp"

namespace trib::llm {

struct QueryFilter {
  std::string column, op;
  nlohmann::json value;
};

struct QueryOrder {
  std::string column;
  bool desc = false;
};

struct BarQuery {
  std::vector<std::string> symbols;
  std::string timeframe = "1d", adjust;
  std::optional<Date> from, to;
  std::vector<QueryFilter> where;
  std::vector<std::string> group_by, select;
  std::vector<QueryOrder> order_by;
  int limit = 100;
};

struct SymbolRows {
  std::string symbol;
  std::vector<lake::CuratedBar> rows;  // ascending
};

// The JSON Schema the model sees, and its description.
nlohmann::json query_bars_schema();
std::string query_bars_description();

// Parses arguments already checked against query_bars_schema(); Error::InvalidInput for what the
// schema cannot say (an unknown column or aggregate, a select item that is neither grouped nor
// aggregated, an order_by naming no selected column, from after to).
BarQuery parse_bar_query(const nlohmann::json& args, const std::string& default_adjust);

// {"columns": [...], "rows": [[...]...], "rows_matched": N, "rows_total": G, "truncated": bool}.
nlohmann::json run_bar_query(const BarQuery& query, const std::vector<SymbolRows>& data);

}  // namespace trib::llm

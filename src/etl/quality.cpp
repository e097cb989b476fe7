#include "trib/etl/quality.hpp"

#include <algorithm>
#include <cmath>
#include <unordered_set>

#include <fmt/format.h>

#include "trib/core/config.hpp"
#include "trib/lake/parquet.hpp"

namespace trib::etl {
namespace pq = trib::parquet;
namespace {

std::string describe(const Bar& bar) {
  return fmt::format("{} o={} h={} l={} c={} v={}", bar.session_date.to_string(), bar.open,
                     bar.high, bar.low, bar.close, bar.volume);
}

// The first rule a bar breaks, or empty.
std::pair<std::string, std::string> check(const Bar& bar, Timeframe tf,
                                          const TradingCalendar& calendar) {
  for (double v : {bar.open, bar.high, bar.low, bar.close, bar.volume}) {
    if (!std::isfinite(v)) return {"non_finite", "a price or the volume is NaN or infinite"};
  }
  if (bar.open <= 0 || bar.high <= 0 || bar.low <= 0 || bar.close <= 0) {
    return {"non_positive_price", "open, high, low and close must be > 0"};
  }
  if (bar.volume < 0) return {"negative_volume", fmt::format("volume {} is negative", bar.volume)};
  if (bar.high < bar.low || bar.high < std::max(bar.open, bar.close) ||
      bar.low > std::min(bar.open, bar.close)) {
    return {"ohlc_inconsistent", "needs low <= min(open, close) and high >= max(open, close)"};
  }
  (void)tf;
  if (!calendar.is_session(bar.session_date)) {
    return {"not_a_session",
            fmt::format("{} is not a {} session", bar.session_date.to_string(), calendar.name())};
  }
  return {};
}

}  // namespace

ValidatedBars validate_bars(const std::vector<Bar>& bars, Timeframe tf,
                            const TradingCalendar& calendar) {
  ValidatedBars out;
  out.accepted.reserve(bars.size());
  std::unordered_set<int64_t> seen;
  seen.reserve(bars.size() * 2);
  for (const Bar& bar : bars) {
    auto [rule, reason] = check(bar, tf, calendar);
    if (rule.empty() && !seen.insert(bar.ts_ns).second) {
      rule = "duplicate_timestamp";
      reason = fmt::format("a row for {} was already accepted", format_ts_ns(bar.ts_ns));
    }
    if (!rule.empty()) {
      out.quarantined.push_back({bar, 0, rule, reason, describe(bar)});
    } else {
      out.accepted.push_back(bar);
    }
  }
  std::stable_sort(out.accepted.begin(), out.accepted.end(),
                   [](const Bar& a, const Bar& b) { return a.ts_ns < b.ts_ns; });
  return out;
}

// Quarantine files: every rejected row with its rule and reason. Values are null where the row
// could not be parsed. Persistent column order.
std::string encode_quarantine_file(const std::vector<QuarantinedRow>& rows, const std::string& source,
                              const std::string& raw_id) {
  pq::Schema schema;
  schema.columns = {pq::ColumnSchema::Int64("line"),
                    pq::ColumnSchema::String("rule"),
                    pq::ColumnSchema::String("reason"),
                    pq::ColumnSchema::Timestamp("ts", pq::TimeUnit::kNanos, true),
                    pq::ColumnSchema::Date("session_date", true),
                    pq::ColumnSchema::Double("open", true),
                    pq::ColumnSchema::Double("high", true),
                    pq::ColumnSchema::Double("low", true),
                    pq::ColumnSchema::Double("close", true),
                    pq::ColumnSchema::Double("volume", true),
                    pq::ColumnSchema::String("raw_text"),
                    pq::ColumnSchema::String("source"),
                    pq::ColumnSchema::String("raw_id")};
  const size_t n = rows.size();
  std::vector<pq::ColumnVector> cols(schema.columns.size());
  for (size_t c = 0; c < cols.size(); ++c) {
    cols[c].type = schema.columns[c].physical;
    cols[c].num_rows = n;
    if (cols[c].type == pq::PhysicalType::kByteArray) cols[c].offsets.push_back(0);
    if (schema.columns[c].optional) cols[c].defined.reserve(n);
  }
  for (const auto& row : rows) {
    const bool has = row.bar.has_value();
    const Bar bar = row.bar.value_or(Bar{});
    cols[0].i64.push_back(row.line);
    cols[1].append_string(row.rule);
    cols[2].append_string(row.reason);
    cols[3].i64.push_back(bar.ts_ns);
    cols[4].i32.push_back(bar.session_date.days_since_epoch());
    double values[] = {bar.open, bar.high, bar.low, bar.close, bar.volume};
    for (int v = 0; v < 5; ++v) cols[5 + v].f64.push_back(values[v]);
    for (size_t c = 3; c <= 9; ++c) cols[c].defined.push_back(has ? 1 : 0);
    cols[10].append_string(row.raw_text.substr(0, 200));
    cols[11].append_string(source);
    cols[12].append_string(raw_id);
  }
  pq::WriterOptions options;
  options.key_value = {{"trib.schema", "quarantine/1"}, {"trib.code_version", std::string(code_version())}};
  pq::StringSink sink;
  pq::Writer writer(sink, schema, options);
  writer.write_batch(cols);
  writer.close();
  return std::move(sink.buffer());
}

}  // namespace trib::etl

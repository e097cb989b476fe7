// What the SQLite and PostgreSQL catalogs share beyond the public interface: the column lists
// (both schemas use the same table and column names) and the input checks, so that both
// implementations refuse exactly the same calls with exactly the same messages.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "trib/catalog/catalog.hpp"
#include "trib/catalog/hot_codec.hpp"
#include "trib/core/error.hpp"
#include "trib/core/time.hpp"

namespace trib::catalog::internal {

inline constexpr const char* kPartitionColumns =
    "dataset, timeframe, symbol, partition, object_key, version_key, row_count, content_sha256, "
    "min_ts_ns, max_ts_ns, version, code_version, committed_at_ns";

inline constexpr const char* kRawColumns =
    "object_key, vendor, dataset, symbol, sha256, size, fetched_date, request_json, "
    "fetched_at_ns, task_id, window_from, window_to";

inline constexpr const char* kOrderColumns =
    "client_order_id, strategy, symbol, side, qty_micros, order_type, limit_price_micros, "
    "session_date, status, reason, broker, broker_order_id, created_at_ns";

inline constexpr const char* kPositionColumns =
    "account, symbol, qty_micros, avg_price_micros, realized_pnl_micros, updated_at_ns";

inline std::string describe(const PartitionKey& key) {
  return fmt::format("partition {}/{}/{}/{}", key.dataset, key.timeframe, key.symbol,
                     key.partition);
}

// What a group of commits is called in messages.
inline std::string describe(const std::vector<PartitionCommit>& commits) {
  return commits.size() == 1 ? describe(commits.front().record.key)
                             : fmt::format("{} partitions", commits.size());
}

inline void check_universe_status(const std::string& status) {
  if (status != "active" && status != "unknown_symbol") {
    throw Error::InvalidInput("universe status '" + status + "' is not one of: active, unknown_symbol");
  }
}

inline void check_date(const std::string& date, std::string_view what) {
  const auto parsed = Date::try_parse(date);
  if (!parsed || parsed->to_string() != date) {
    throw Error::InvalidInput(fmt::format("{}: '{}' is not a YYYY-MM-DD date", what, date));
  }
}

inline void check_universe(const UniverseEntry& e) {
  if (e.symbol.empty() || e.vendor.empty() || e.dataset.empty() || e.timeframe.empty()) {
    throw Error::InvalidInput("universe entry needs a symbol, vendor, dataset and timeframe");
  }
  check_date(e.start_date, "universe " + e.symbol + " start date");
}

inline void check_commit(const PartitionCommit& c) {
  const PartitionRecord& r = c.record;
  if (r.key.dataset.empty() || r.key.partition.empty() || r.object_key.empty() ||
      r.version_key.empty() || r.content_sha256.empty()) {
    throw Error::InvalidInput(describe(r.key) +
                              ": commit needs a dataset, a partition, a live key, a version key "
                              "and a content hash");
  }
  if (c.expected_version < 0) {
    throw Error::InvalidInput(describe(r.key) + ": expected version must not be negative");
  }
}

// Every record and watermark of a group, before anything is written.
inline void check_commits(const std::vector<PartitionCommit>& commits) {
  for (const auto& c : commits) check_commit(c);
  for (const auto& c : commits) {
    for (const auto& w : c.watermarks) check_date(w.date, "watermark " + w.symbol);
  }
}

inline void check_dq(
    const std::string& raw_object,
    const std::map<std::string, std::map<std::string, int64_t>>& rows_by_symbol_rule) {
  if (raw_object.empty()) throw Error::InvalidInput("replace_dq: empty raw object");
  for (const auto& [symbol, by_rule] : rows_by_symbol_rule) {
    for (const auto& [rule, rows] : by_rule) {
      if (rule.empty() || rows < 0) {
        throw Error::InvalidInput(
            fmt::format("replace_dq: bad count {} '{}' = {}", symbol, rule, rows));
      }
    }
  }
}

inline void check_order(const OrderRecord& o) {
  if (o.client_order_id.empty()) throw Error::InvalidInput("insert_order: empty client order id");
  if (o.qty <= Micros()) {
    throw Error::InvalidInput(fmt::format("order {}: qty must be positive, not {}",
                                          o.client_order_id, o.qty.to_string()));
  }
}

inline void check_fill(const std::string& account, const FillRecord& fill) {
  if (fill.fill_id.empty() || account.empty()) {
    throw Error::InvalidInput("apply_fill: empty fill id or account");
  }
  if (fill.qty <= Micros() || fill.price < Micros()) {
    throw Error::InvalidInput(
        fmt::format("fill {} (account {}): needs qty > 0 and price >= 0 (qty {}, price {})",
                    fill.fill_id, account, fill.qty.to_string(), fill.price.to_string()));
  }
}

// The cash a fill moves: a buy pays qty x price, a sell receives it; commission is always paid.
inline Micros cash_flow_of(const FillRecord& fill) {
  const Micros notional = mul(fill.qty, fill.price);
  return (fill.side == Side::kBuy ? -notional : notional) - fill.commission;
}

using catalog::decode_hot_rows;
using catalog::encode_hot_rows;

// Rows back into records, for either backend's row type (SqliteStmt, db::PgRow): the columns in
// the order of the k*Columns lists above.
template <typename Row>
Micros micros(const Row& s, int column) { return Micros::from_raw(s.int64(column)); }

template <typename Row>
PartitionRecord read_partition(const Row& s) {
  PartitionRecord r;
  r.key = {s.text(0), s.text(1), s.text(2), s.text(3)};
  r.object_key = s.text(4);
  r.version_key = s.text(5);
  r.row_count = s.int64(6);
  r.content_sha256 = s.text(7);
  r.min_ts_ns = s.int64(8);
  r.max_ts_ns = s.int64(9);
  r.version = s.int64(10);
  r.code_version = s.text(11);
  r.committed_at_ns = s.int64(12);
  return r;
}

template <typename Row>
RawObjectRecord read_raw(const Row& s) {
  return {s.text(0), s.text(1), s.text(2), s.text(3), s.text(4), s.int64(5),
          s.text(6), s.text(7), s.int64(8), s.text(9), s.text(10), s.text(11)};
}


template <typename Row>
OrderRecord read_order(const Row& s) {
  OrderRecord o;
  o.client_order_id = s.text(0);
  o.strategy = s.text(1);
  o.symbol = s.text(2);
  o.side = parse_side(s.text(3));
  o.qty = micros(s, 4);
  o.order_type = s.text(5);
  if (!s.is_null(6)) o.limit_price = micros(s, 6);
  o.session_date = s.text(7);
  o.status = parse_order_status(s.text(8));
  o.reason = s.text(9);
  o.broker = s.text(10);
  o.broker_order_id = s.text(11);
  o.created_at_ns = s.int64(12);
  return o;
}

template <typename Row>
PositionRecord read_position(const Row& s) {
  return PositionRecord{s.text(0), s.text(1), micros(s, 2), micros(s, 3), micros(s, 4),
                        s.int64(5)};
}

}  // namespace trib::catalog::internal

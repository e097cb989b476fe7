// What the SQLite and PostgreSQL catalogs share beyond the public interface: the column lists
// (both schemas use the same table and column names) and the input checks, so that both
// implementations refuse exactly the same calls with exactly the same messages.
#pragma once

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "trib/catalog/catalog.hpp"
#include "trib/catalog/hot_codec.hpp"
#include "trib/core/error.hpp"
#include "trib/core/time.hpp"

namespace trib::catalog::internal {

// A read-only session cannot migrate: a catalog behind this build is refused with the fix.
inline void check_read_only_schema(int have, int want, const std::string& where) {
  if (have < want) {
    throw Error::InvalidInput(fmt::format(
        "{}: the catalog is at schema version {}, this build needs {}, and a read-only session cannot "
        "migrate it; run any writing command once (e.g. `trib status`) to migrate, then retry",
        where, have, want));
  }
}

inline constexpr const char* kPartitionColumns =
    "dataset, timeframe, symbol, partition, object_key, version_key, row_count, content_sha256, "
    "min_ts_ns, max_ts_ns, version, code_version, committed_at_ns";

inline constexpr const char* kRawColumns =
    "object_key, vendor, dataset, symbol, sha256, size, fetched_date, request_json, "
    "fetched_at_ns, task_id, window_from, window_to";

inline constexpr const char* kOrderColumns =
    "client_order_id, strategy, symbol, side, qty_micros, order_type, limit_price_micros, "
    "session_date, status, reason, broker, broker_order_id, created_at_ns, account, stop_price_micros, "
    "filled_qty_micros";

inline constexpr const char* kDenialColumns =
    "account, client_order_id, strategy, symbol, side, qty_micros, rule, reason, session_date, created_at_ns";

inline constexpr const char* kTradingStateColumns =
    "account, state, reason, peak_equity_micros, last_equity_micros, last_session, updated_at_ns, strategy_json";

inline constexpr const char* kPositionColumns =
    "account, symbol, qty_micros, avg_price_micros, realized_pnl_micros, updated_at_ns";

inline constexpr const char* kActionColumns =
    "symbol, kind, ex_date, source, knowledge_ts_ns, split_ratio, cash_amount, currency, pay_date, "
    "record_date, declared_date, new_symbol, retracted, origin, reference_price";

inline constexpr const char* kModelColumns =
    "id, name, kind, feature_set, feature_set_hash, label, dataset_hash, config_toml, code_version, "
    "artefacts, metrics_json, importance_json, from_day, to_day, splits, created_at_ns";

// list_actions(): the version of each action in force at the knowledge time (parameter 2) of a
// symbol (parameter 1; '' = all). Placeholders are rewritten for PostgreSQL.
inline constexpr std::string_view kListActionsSql =
    "SELECT c.symbol, c.kind, c.ex_date, c.source, c.knowledge_ts_ns, c.split_ratio, c.cash_amount, "
    "c.currency, c.pay_date, c.record_date, c.declared_date, c.new_symbol, c.retracted, c.origin, "
    "c.reference_price "
    "FROM corporate_actions c "
    "WHERE (?1 = '' OR c.symbol = ?1 OR c.new_symbol = ?1) AND c.retracted = 0 "
    "AND c.knowledge_ts_ns = (SELECT max(k.knowledge_ts_ns) FROM corporate_actions k "
    "WHERE k.symbol = c.symbol AND k.kind = c.kind AND k.ex_date = c.ex_date AND k.source = c.source "
    "AND k.knowledge_ts_ns <= ?2) "
    "ORDER BY c.symbol, c.ex_date, c.kind, c.source";

// The refusals record_actions() makes, the same on both backends.
inline void check_action(const ActionRecord& r) {
  const CorporateAction& a = r.action;
  const std::string what = fmt::format("corporate action {} {} {} from '{}'", a.symbol.str(),
                                       to_string(a.kind), a.ex_date.to_string(), r.source);
  if (a.symbol.empty()) throw Error::InvalidInput("corporate action without a symbol");
  if (r.source.empty()) throw Error::InvalidInput(what + ": no source; name who reported it");
  if (r.retracted) return;
  if (a.kind == CorporateAction::Kind::kSplit && !(std::isfinite(a.split_ratio) && a.split_ratio > 0)) {
    throw Error::InvalidInput(fmt::format("{}: split ratio {} is not a positive number (new shares "
                                          "per old: 4 for a 4-for-1 split)", what, a.split_ratio));
  }
  if (a.kind == CorporateAction::Kind::kDividend && !(std::isfinite(a.cash_amount) && a.cash_amount >= 0)) {
    throw Error::InvalidInput(fmt::format("{}: dividend {} is not a cash amount of 0 or more", what,
                                          a.cash_amount));
  }
  if (a.kind == CorporateAction::Kind::kSymbolChange && a.new_symbol.empty()) {
    throw Error::InvalidInput(what + ": a symbol change needs the new symbol");
  }
}

// Which of `records` become new versions (record_actions' rule), given `existing`: every stored
// version of the same actions. In the order given; a record equal to one earlier in `records`
// is left out too.
std::vector<const ActionRecord*> actions_to_insert(const std::vector<ActionRecord>& existing,
                                                   const std::vector<ActionRecord>& records);

inline std::string optional_date_text(const std::optional<Date>& d) { return d ? d->to_string() : ""; }
inline std::optional<Date> optional_date_of(const std::string& text) {
  if (text.empty()) return std::nullopt;
  return Date::parse(text);
}

// A row selected with kActionColumns (`row` has text(i), real(i), int64(i)).
template <typename Row>
ActionRecord action_of_row(const Row& row) {
  ActionRecord r;
  r.action.symbol = Symbol::parse(row.text(0));
  r.action.kind = parse_action_kind(row.text(1));
  r.action.ex_date = Date::parse(row.text(2));
  r.source = row.text(3);
  r.knowledge_ts_ns = row.int64(4);
  r.action.split_ratio = row.real(5);
  r.action.cash_amount = row.real(6);
  r.action.currency = row.text(7);
  r.action.pay_date = optional_date_of(row.text(8));
  r.action.record_date = optional_date_of(row.text(9));
  r.action.declared_date = optional_date_of(row.text(10));
  r.action.new_symbol = row.text(11);
  r.retracted = row.int64(12) != 0;
  r.origin = row.text(13);
  r.action.reference_price = row.real(14);
  return r;
}

// A row selected with kModelColumns (`row` has text(i), int64(i)).
template <typename Row>
ModelRecord model_of_row(const Row& row) {
  ModelRecord m;
  m.id = row.text(0);
  m.name = row.text(1);
  m.kind = row.text(2);
  m.feature_set = row.text(3);
  m.feature_set_hash = row.text(4);
  m.label = row.text(5);
  m.dataset_hash = row.text(6);
  m.config_toml = row.text(7);
  m.code_version = row.text(8);
  m.artefacts = row.text(9);
  m.metrics_json = row.text(10);
  m.importance_json = row.text(11);
  m.from_day = static_cast<int32_t>(row.int64(12));
  m.to_day = static_cast<int32_t>(row.int64(13));
  m.splits = static_cast<int32_t>(row.int64(14));
  m.created_at_ns = row.int64(15);
  return m;
}

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

// What an adjustment does to a position: the new position and the cash it moves. Whole shares: a
// split's quantity is rounded when within 1e-5 of a whole number (ratios printed to 7 digits),
// otherwise the fraction is paid at fraction_price.
struct AdjustmentEffect {
  PositionRecord position;
  Micros cash;
};
inline AdjustmentEffect adjustment_effect(PositionRecord p, const LedgerAdjustment& a) {
  AdjustmentEffect e;
  if (a.kind == "split") {
    if (!(a.ratio > 0)) throw Error::InvalidInput(fmt::format("adjustment {}: ratio must be > 0", a.action_id));
    double q = p.qty.to_double() * a.ratio;
    const double nearest = std::round(q);
    if (std::fabs(q - nearest) <= 1e-5 * std::max(1.0, std::fabs(q))) {
      q = nearest;
    } else {
      const double whole = std::trunc(q);
      e.cash = Micros::from_double((q - whole) * a.fraction_price.to_double());
      q = whole;
    }
    p.qty = Micros::from_double(q);
    p.avg_price = Micros::from_double(p.avg_price.to_double() / a.ratio);
  } else if (a.kind == "dividend") {
    e.cash = Micros::from_double(p.qty.to_double() * a.cash_per_share.to_double());
  } else {
    throw Error::InvalidInput(fmt::format("adjustment {}: kind '{}' is not split or dividend", a.action_id, a.kind));
  }
  e.position = p;
  return e;
}

// The trading states a catalog stores (the trading module names them; the catalog only checks).
inline std::string_view parse_trading_state_name(std::string_view state) {
  if (state != "ACTIVE" && state != "REDUCING" && state != "HALTED") {
    throw Error::InvalidInput(fmt::format("trading state '{}' is not ACTIVE, REDUCING or HALTED", state));
  }
  return state;
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

// ---- coverage ----

// A partition's sessions as partition_sessions stores them: the first session (days since the
// epoch) and one character per day from there to the last session, '1' when the partition has
// rows for that day, '0' when not (position = day - first_day, so SQL reads a day with
// substr(days, day - first_day + 1, 1)). Empty `days` when `session_days` is.
struct SessionBitmap {
  int64_t first_day = 0;
  std::string days;
};

// The longest span one bitmap may cover: a partition is a year, a month or a day of one
// timeframe; anything longer is a caller's bug, not a partition.
inline constexpr int64_t kMaxSessionSpanDays = 400;

inline SessionBitmap session_bitmap(const PartitionKey& key, std::vector<int32_t> session_days) {
  SessionBitmap out;
  if (session_days.empty()) return out;
  std::sort(session_days.begin(), session_days.end());
  session_days.erase(std::unique(session_days.begin(), session_days.end()), session_days.end());
  out.first_day = session_days.front();
  const int64_t span = int64_t{session_days.back()} - session_days.front() + 1;
  if (span > kMaxSessionSpanDays) {
    throw Error::InvalidInput(fmt::format("{}: its sessions span {} days ({} .. {}); a partition "
                                          "spans at most {}",
                                          describe(key), span,
                                          Date(session_days.front()).to_string(),
                                          Date(session_days.back()).to_string(),
                                          kMaxSessionSpanDays));
  }
  out.days.assign(static_cast<size_t>(span), '0');
  for (int32_t day : session_days) out.days[static_cast<size_t>(day - session_days.front())] = '1';
  return out;
}

inline void check_calendar_sessions(const std::string& calendar, int32_t from_day, int32_t to_day,
                                    const std::vector<int32_t>& sessions) {
  if (calendar.empty()) throw Error::InvalidInput("calendar sessions: empty calendar name");
  if (from_day > to_day) {
    throw Error::InvalidInput(fmt::format("calendar {}: range {} .. {} is empty", calendar,
                                          Date(from_day).to_string(), Date(to_day).to_string()));
  }
  for (size_t i = 0; i < sessions.size(); ++i) {
    if (sessions[i] < from_day || sessions[i] > to_day || (i > 0 && sessions[i] <= sessions[i - 1])) {
      throw Error::InvalidInput(fmt::format(
          "calendar {}: sessions must ascend strictly within {} .. {}; {} does not", calendar,
          Date(from_day).to_string(), Date(to_day).to_string(), Date(sessions[i]).to_string()));
    }
  }
}

// session_coverage(), one query on both backends ($n placeholders; SQLite runs it through
// sqlite_placeholders): every expected session of the range, present when some partition of
// the symbol covering that day has '1' at the day's position, then one summary row per year
// (kind 0: expected, present) followed by that year's missing dates (kind 1), in order.
// $1 dataset, $2 timeframe, $3 symbol, $4 calendar, $5 from_day, $6 to_day.
inline constexpr const char* kSessionCoverageSql = R"sql(
WITH expected AS (
  SELECT c.session_day AS day, c.session_date AS date,
         MAX(CASE WHEN substr(p.days, CAST(c.session_day - p.first_day + 1 AS INTEGER), 1) = '1'
                  THEN 1 ELSE 0 END) AS present
  FROM calendar_sessions c
  LEFT JOIN partition_sessions p
    ON p.dataset = $1 AND p.timeframe = $2 AND p.symbol = $3
   AND c.session_day >= p.first_day AND c.session_day < p.first_day + length(p.days)
  WHERE c.calendar = $4 AND c.session_day >= $5 AND c.session_day <= $6
  GROUP BY c.session_day, c.session_date
)
SELECT CAST(substr(date, 1, 4) AS INTEGER) AS year, 0 AS kind, count(*) AS expected,
       sum(present) AS present, '' AS missing
  FROM expected GROUP BY substr(date, 1, 4)
UNION ALL
SELECT CAST(substr(date, 1, 4) AS INTEGER), 1, 0, 0, date FROM expected WHERE present = 0
ORDER BY 1, 2, 5
)sql";

// The same text with SQLite's numbered placeholders: $n -> ?n.
inline std::string sqlite_placeholders(std::string_view sql) {
  std::string out(sql);
  for (size_t i = 0; i + 1 < out.size(); ++i) {
    if (out[i] == '$' && out[i + 1] >= '0' && out[i + 1] <= '9') out[i] = '?';
  }
  return out;
}

// Rows of kSessionCoverageSql (either backend's row type) into years.
template <typename Row>
void add_coverage_row(std::vector<CoverageYear>& years, const Row& row) {
  const int year = static_cast<int>(row.int64(0));
  if (years.empty() || years.back().year != year) {
    years.emplace_back();
    years.back().year = year;
  }
  if (row.int64(1) == 0) {
    years.back().expected = row.int64(2);
    years.back().present = row.int64(3);
  } else {
    years.back().missing.push_back(row.text(4));
  }
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
  o.account = s.text(13);
  if (!s.is_null(14)) o.stop_price = micros(s, 14);
  o.filled_qty = micros(s, 15);
  return o;
}

template <typename Row>
RiskDenialRecord read_denial(const Row& s) {
  RiskDenialRecord d;
  d.account = s.text(0);
  d.client_order_id = s.text(1);
  d.strategy = s.text(2);
  d.symbol = s.text(3);
  d.side = parse_side(s.text(4));
  d.qty = micros(s, 5);
  d.rule = s.text(6);
  d.reason = s.text(7);
  d.session_date = s.text(8);
  d.created_at_ns = s.int64(9);
  return d;
}

template <typename Row>
TradingStateRecord read_trading_state(const Row& s) {
  TradingStateRecord t;
  t.account = s.text(0);
  t.state = s.text(1);
  t.reason = s.text(2);
  t.peak_equity = micros(s, 3);
  t.last_equity = micros(s, 4);
  t.last_session = s.text(5);
  t.updated_at_ns = s.int64(6);
  t.strategy_json = s.text(7);
  return t;
}

template <typename Row>
PositionRecord read_position(const Row& s) {
  return PositionRecord{s.text(0), s.text(1), micros(s, 2), micros(s, 3), micros(s, 4),
                        s.int64(5)};
}

}  // namespace trib::catalog::internal

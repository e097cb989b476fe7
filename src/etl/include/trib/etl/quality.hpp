// etl: raw to curated. Normalise parsed bars, enforce the schema, apply data-quality rules with
// quarantine, merge into partitions idempotently, and read curated bars back.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "trib/core/bar.hpp"
#include "trib/core/calendar.hpp"

namespace trib::etl {

// A row that did not pass. Persistent rule names (reports, catalog dq_results):
//   non_finite, non_positive_price, negative_volume, ohlc_inconsistent, duplicate_timestamp,
//   not_a_session, plus the parser's own (malformed_row, bad_number, bad_date, missing_value...).
struct QuarantinedRow {
  std::optional<Bar> bar;  // absent when the row could not be parsed at all
  int64_t line = 0;
  std::string rule;
  std::string reason;
  std::string raw_text;
};

struct ValidatedBars {
  std::vector<Bar> accepted;  // sorted by ts, unique ts
  std::vector<QuarantinedRow> quarantined;
};

// Applies the rules to one symbol's bars. The first row of a timestamp is kept; later rows with
// the same ts are quarantined as duplicate_timestamp. A session_date that is not a session of
// `calendar` is quarantined as not_a_session (an intraday bar's session is the one its time
// belongs to: a Sunday-evening FX bar on the nyse calendar is Sunday's).
ValidatedBars validate_bars(const std::vector<Bar>& bars, Timeframe tf,
                            const TradingCalendar& calendar);

// A quarantine file: every rejected row with its rule and reason, the bar's values null where
// the row could not be parsed, and the raw object it came from (persistent column order).
std::string encode_quarantine_file(const std::vector<QuarantinedRow>& rows, const std::string& source,
                                   const std::string& raw_id);

}  // namespace trib::etl

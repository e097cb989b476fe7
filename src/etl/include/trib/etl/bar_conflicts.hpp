// Bars of one timestamp from several vendors. The curated zone holds one row per timestamp (the
// vendor [prices] bar_precedence ranks first); the rows of other vendors for the same timestamps
// are kept aside in overlap files, one per symbol and payload:
//
//   quarantine/overlaps/timeframe=<tf>/symbol=<symbol>/raw=<tag>.parquet
//
// (lake::encode_overlap_file; rows only ever added, so a retried or replayed payload never loses
// what an earlier attempt saw). `trib dq --conflicts` compares them with the curated rows on the
// raw price basis (a vendor that delivers adjusted prices is turned back into raw ones with the
// corporate actions known now) and reports the sessions where the vendors disagree.
#pragma once

#include <cmath>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "trib/catalog/catalog.hpp"
#include "trib/core/bar.hpp"
#include "trib/core/symbol.hpp"
#include "trib/etl/corporate_actions.hpp"
#include "trib/lake/bars_file.hpp"
#include "trib/lake/object_store.hpp"

namespace trib::etl {

// Two vendors disagree on a session when one of open, high, low, close differs by more than this
// (relative to the curated row's), after both are on the raw basis. Volumes differ routinely
// between vendors (consolidated or primary-exchange counts) and are shown, not judged.
inline constexpr double kBarConflictTolerance = 0.005;

std::string overlaps_prefix(Timeframe tf);
std::string overlaps_key(Timeframe tf, const Symbol& symbol, std::string_view raw_tag);

// Adds `rows` to the overlap file of (symbol, payload tag): the union with what the file holds.
// Writes nothing when that adds nothing.
void record_overlaps(lake::ObjectStore& store, Timeframe tf, const Symbol& symbol,
                     std::string_view raw_tag, const std::vector<lake::CuratedBar>& rows);

struct BarConflict {
  Symbol symbol;
  lake::CuratedBar used;   // the curated row, raw basis
  lake::CuratedBar other;  // the other vendor's row, raw basis
  std::string field;       // the price that differs most: "open", "high", "low" or "close"
  double relative = 0;     // |other - used| / used of that field
};

// One other vendor's rows of one symbol against the curated rows.
struct OverlapSummary {
  Symbol symbol;
  std::string other_source;
  int64_t rows = 0, disagree = 0;
  // other close / curated close over the rows: a steady offset far from 1 (median off, small
  // spread) says the other vendor adjusted for actions the catalog does not hold.
  double median_close_ratio = 1, min_close_ratio = 1, max_close_ratio = 1;
  bool steady_offset(double tolerance) const {
    return rows >= 5 && std::abs(median_close_ratio - 1) > tolerance &&
           max_close_ratio - min_close_ratio < tolerance;
  }
};

struct BarConflictReport {
  int64_t overlapping_rows = 0;  // other vendors' rows for timestamps the lake holds
  std::vector<BarConflict> conflicts;  // by symbol, then ts
  std::vector<OverlapSummary> summaries;  // by symbol, then other source
  std::vector<std::string> notes;      // overlap rows whose timestamp the lake no longer holds, ...
};

struct BarConflictOptions {
  Timeframe timeframe = Timeframe::kDay1;
  std::optional<Symbol> symbol;  // every symbol with overlap files when absent
  double tolerance = kBarConflictTolerance;
  SourcePrecedence action_precedence;  // to resolve the corporate actions used for the basis
};

BarConflictReport find_bar_conflicts(lake::ObjectStore& store, catalog::Catalog& catalog,
                                     const BarConflictOptions& options);

}  // namespace trib::etl

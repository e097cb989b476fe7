// Prices in the mode a reader asks for: raw (as traded), split-adjusted, or total return (splits
// and dividends, the multiplicative back-adjustment of core/corporate_action.hpp). Curated files
// keep what each vendor delivered; the factors are computed on read from the corporate actions
// the catalog knew at `actions_as_of_ns`, resolved across sources by precedence.
//
// Vendors that deliver adjusted prices (providers::VendorInfo::price_basis: Yahoo split-adjusted,
// Stooq split- and dividend-adjusted, each as of its fetch) are first turned back into raw
// prices with the actions whose ex-date falls after the row and no later than the row's fetch
// date, so nothing is adjusted twice and a symbol fed by raw and adjusted sources reads as one
// series.
#pragma once

#include <string>
#include <vector>

#include "trib/catalog/catalog.hpp"
#include "trib/core/corporate_action.hpp"
#include "trib/etl/bars_reader.hpp"
#include "trib/etl/corporate_actions.hpp"
#include "trib/etl/symbol_history.hpp"
#include "trib/lake/bars_file.hpp"
#include "trib/lake/object_store.hpp"

namespace trib::etl {

struct PriceOptions {
  AdjustMode adjust = AdjustMode::kRaw;
  int64_t actions_as_of_ns = INT64_MAX;  // the corporate actions known then
  ActionPrecedence precedence;
  // Read the instrument's whole history across symbol changes (etl/symbol_history.hpp): each
  // span under the name it had then, with that name's splits and dividends. Off: the ticker's
  // own rows only (`trib bars --ticker-only`).
  bool follow_renames = true;
};

struct AdjustedBars {
  std::vector<lake::CuratedBar> rows;     // the query's rows, prices and volume in the mode asked
  std::vector<CorporateAction> actions;   // the splits and dividends applied, ascending
  std::vector<AdjustmentFactor> factors;  // computed on the raw series (empty: none apply)
  std::vector<ActionConflict> conflicts;  // sources disagreeing about this symbol's actions
  std::vector<std::string> notes;         // actions left out and why (one line each)
};

// Throws Error::NotFound when the symbol has no curated bars of the timeframe. With
// follow_renames, the spans under earlier names are read from those names' partitions (or, when
// an old name has none, from the symbol's own: vendors that key history by today's ticker), and
// `notes` says which spans came from which name.
AdjustedBars read_adjusted_bars(lake::ObjectStore& store, catalog::Catalog& catalog,
                                const BarsQuery& query, const PriceOptions& options);

// The names `symbol` traded under (oldest first), from the symbol changes known at
// options.actions_as_of_ns, resolved across sources by options.precedence.
std::vector<NameSpan> read_symbol_history(catalog::Catalog& catalog, const Symbol& symbol,
                                          const PriceOptions& options);

// The pure part, for tests: `history` are the symbol's curated rows from the query's start to
// the newest (ascending; any timeframe: the last row of each session gives its close), `actions`
// the resolved splits and dividends; returns the rows of `history` within [from, to] in `mode`.
AdjustedBars adjust_history(std::vector<lake::CuratedBar> history, std::optional<Date> from,
                            std::optional<Date> to, const std::vector<CorporateAction>& actions,
                            AdjustMode mode);

// Turns the rows of vendors that deliver adjusted prices back into raw prices in place, with
// `actions` (splits and dividends; rows ascending by ts). Rows of raw vendors are left as they are.
void to_raw_basis(std::vector<lake::CuratedBar>& rows, const std::vector<CorporateAction>& actions);

// A source's price basis: a vendor's (providers::vendor_info; kRaw for a source that is not a
// vendor), or the one a file was declared with at ingest ("csv:split", "csv:total").
AdjustMode price_basis_of(const std::string& source);

}  // namespace trib::etl

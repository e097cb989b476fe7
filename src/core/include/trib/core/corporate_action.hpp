// Corporate actions and the price adjustment they imply (issue 10's foundation): a split or a
// cash dividend, and the backward adjustment factors computed from raw closes.
//
// Conventions (the standard multiplicative back-adjustment, as Lean's factor files use):
//  - a split of ratio r (new shares per old: 4-for-1 -> 4) with ex-date E divides every price
//    before E by r: split factor x 1/r;
//  - a cash dividend d with ex-date E multiplies every price before E by (1 - d / C), C the raw
//    close of the session before E: dividend factor x (1 - d / C);
//  - raw prices are never changed: readers multiply by the factors in force on each date.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "trib/core/bar.hpp"
#include "trib/core/symbol.hpp"
#include "trib/core/time.hpp"

namespace trib {

// A corporate action as a source reported it: a split, a cash dividend, a symbol change (the
// instrument trades as `new_symbol` from ex_date on) or a delisting (its last session is before
// ex_date). Only splits and dividends change prices.
struct CorporateAction {
  enum class Kind { kSplit, kDividend, kSymbolChange, kDelisting };
  Kind kind = Kind::kSplit;
  Symbol symbol;
  Date ex_date;
  double split_ratio = 0;   // split: new shares per old share (4-for-1 -> 4.0, 1-for-10 -> 0.1)
  double cash_amount = 0;   // dividend: cash per share, in `currency`
  std::string currency;     // dividend currency when the source says ("USD")
  std::optional<Date> pay_date, record_date, declared_date;
  std::string new_symbol;   // symbol change: the ticker from ex_date on
  // dividend: the close before the ex-date as the source stated it (Lean's factor files do),
  // 0 when it did not; used only where our bars lack that session (see adjustment_factors).
  double reference_price = 0;

  bool operator==(const CorporateAction&) const = default;
};

// Stable lower-case names, stored in the catalog: "split", "dividend", "symbol_change",
// "delisting". parse throws Error::InvalidInput naming the allowed ones.
std::string_view to_string(CorporateAction::Kind kind);
CorporateAction::Kind parse_action_kind(std::string_view text);

// The factors in force for every date up to and including `through` (and after the previous
// row's `through`). The last row's `through` is Date::max-like (kFactorsForever) with 1, 1.
struct AdjustmentFactor {
  Date through;
  double split = 1;     // cumulative split factor
  double dividend = 1;  // cumulative dividend (price) factor
  double reference_close = 0;  // the raw close on `through` (0 for the last row)
  bool operator==(const AdjustmentFactor&) const = default;
};

inline constexpr int32_t kFactorsForeverDay = 29584;  // 2050-12-31, as Lean's factor files end

// The factor rows of one symbol from its raw daily bars (ascending by session) and its actions
// (any order; symbol changes and delistings are ignored). A dividend's close is the bars' close
// of the NYSE session before its ex-date; where the bars lack that session (a gap) and the source
// stated a reference price, that price is used, else the newest close held before the ex-date.
// An action on or before the first bar's session changes nothing that is held and is skipped; a
// split after the last bar still applies (prices in today's shares), a dividend after it only
// with the source's reference price (else the close before it is not held); rows for actions
// after the last bar are dated the session before their ex-date. Throws
// Error::InvalidInput naming the action when a ratio is not positive and finite or a dividend is
// not below the previous close.
std::vector<AdjustmentFactor> adjustment_factors(const std::vector<Bar>& raw_daily,
                                                 std::vector<CorporateAction> actions);

enum class AdjustMode { kRaw, kSplit, kTotal };
AdjustMode parse_adjust_mode(std::string_view text);  // "raw" | "split" | "total"

// The factor row in force on `date` (the first row whose `through` is on or after it).
const AdjustmentFactor& factor_on(const std::vector<AdjustmentFactor>& factors, Date date);

// Prices and volume adjusted in place: prices x split (x dividend for kTotal), volume / split.
void adjust_bars(std::vector<Bar>& bars, const std::vector<AdjustmentFactor>& factors, AdjustMode mode);

}  // namespace trib

// Lean's corporate-action factor files (QuantConnect Lean, Data/equity/usa/factor_files): one
// row per session before an ex-date, `yyyyMMdd,price_factor,split_factor,reference_price`, the
// factors in force for every date up to the row's date, the last row 20501231,1,1,0. Read as our
// AdjustmentFactor rows and turned back into the splits and dividends they encode (a source of
// corporate actions, and an independent reference for our own factors).
#pragma once

#include <string_view>
#include <vector>

#include "trib/core/corporate_action.hpp"
#include "trib/core/symbol.hpp"

namespace trib::providers {

// Throws Error::InvalidInput naming the line when a row is not four fields, a date or a
// positive number, or the dates do not ascend.
std::vector<AdjustmentFactor> parse_lean_factor_file(std::string_view text);

// The actions between consecutive rows: a change of split factor is a split on the session
// after the earlier row (ratio = later / earlier), a change of price factor a dividend of
// (1 - earlier / later) x the earlier row's reference price (kept as the dividend's
// reference_price, for readers whose bars lack that session). The ex-date is the next NYSE
// session after the earlier row's date.
std::vector<CorporateAction> actions_from_lean_factors(const std::vector<AdjustmentFactor>& rows,
                                                       const Symbol& symbol);

}  // namespace trib::providers

// The names one instrument traded under, from the symbol changes the catalog knows (Lean's map
// files, Alpaca's renames, a user's CSV): WM is WMI until 2009-08-04 and UW until 1998-07-16;
// QQQ was QQQQ from 2004-12-01 to 2011-03-22. A reader of WM's history reads each span under
// the name it had then, so a ticker that was reused (WM was Washington Mutual until 2008) does
// not mix two companies into one series.
#pragma once

#include <functional>
#include <optional>
#include <vector>

#include "trib/core/corporate_action.hpp"
#include "trib/core/symbol.hpp"

namespace trib::etl {

// One name over a span of session dates, inclusive; unset ends are open.
struct NameSpan {
  Symbol symbol;
  std::optional<Date> from, to;
  bool operator==(const NameSpan&) const = default;
};

// The spans of `symbol`'s history, oldest first, the last one `symbol` itself from its latest
// change into it. `changes_into(name)` gives the symbol changes whose new_symbol is `name` (any
// source; already resolved). Walking back, the newest change into the current name dated
// before the current span starts opens the previous span, under the change's old symbol. A
// chain longer than kMaxNames (a cycle in bad data) stops there.
inline constexpr int kMaxNames = 32;
std::vector<NameSpan> symbol_history(
    const Symbol& symbol, const std::function<std::vector<CorporateAction>(const Symbol&)>& changes_into);

}  // namespace trib::etl

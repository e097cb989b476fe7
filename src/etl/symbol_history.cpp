#include "trib/etl/symbol_history.hpp"

#include <algorithm>

namespace trib::etl {

std::vector<NameSpan> symbol_history(
    const Symbol& symbol, const std::function<std::vector<CorporateAction>(const Symbol&)>& changes_into) {
  std::vector<NameSpan> spans;
  Symbol name = symbol;
  std::optional<Date> to;  // the current span's last date (open for the newest)
  for (int step = 0; step < kMaxNames; ++step) {
    const CorporateAction* latest = nullptr;
    const auto changes = changes_into(name);
    for (const auto& c : changes) {
      if (c.kind != CorporateAction::Kind::kSymbolChange || c.new_symbol != name.str()) continue;
      if (c.symbol == name) continue;              // a change into itself says nothing
      if (to && !(c.ex_date <= *to)) continue;      // later than this span: another era of the name
      if (!latest || latest->ex_date < c.ex_date) latest = &c;
    }
    if (!latest) break;
    spans.push_back({name, latest->ex_date, to});
    to = latest->ex_date - 1;
    name = latest->symbol;
  }
  spans.push_back({name, std::nullopt, to});
  std::reverse(spans.begin(), spans.end());
  return spans;
}

}  // namespace trib::etl

#include "trib/core/corporate_action.hpp"

#include <algorithm>
#include <cmath>
#include <iterator>

#include <fmt/format.h>

#include "trib/core/calendar.hpp"
#include "trib/core/error.hpp"

namespace trib {

std::string_view to_string(CorporateAction::Kind kind) {
  switch (kind) {
    case CorporateAction::Kind::kSplit: return "split";
    case CorporateAction::Kind::kDividend: return "dividend";
    case CorporateAction::Kind::kSymbolChange: return "symbol_change";
    case CorporateAction::Kind::kDelisting: return "delisting";
  }
  return "split";
}

CorporateAction::Kind parse_action_kind(std::string_view text) {
  for (auto kind : {CorporateAction::Kind::kSplit, CorporateAction::Kind::kDividend,
                    CorporateAction::Kind::kSymbolChange, CorporateAction::Kind::kDelisting}) {
    if (text == to_string(kind)) return kind;
  }
  throw Error::InvalidInput(fmt::format(
      "corporate action kind '{}' is not known; use split, dividend, symbol_change or delisting", text));
}

std::vector<AdjustmentFactor> adjustment_factors(const std::vector<Bar>& raw_daily,
                                                 std::vector<CorporateAction> actions) {
  std::vector<AdjustmentFactor> rows;
  std::erase_if(actions, [](const CorporateAction& a) {
    return a.kind != CorporateAction::Kind::kSplit && a.kind != CorporateAction::Kind::kDividend;
  });
  std::sort(actions.begin(), actions.end(), [](const CorporateAction& a, const CorporateAction& b) {
    return a.ex_date < b.ex_date;
  });
  // Newest first: each action scales every row before its ex-date, so the factors accumulate
  // walking back in time.
  double split = 1, dividend = 1;
  rows.push_back({Date(kFactorsForeverDay), 1, 1, 0});
  for (auto it = actions.rbegin(); it != actions.rend(); ++it) {
    const CorporateAction& a = *it;
    // The session before the ex-date: the newest bar dated before it.
    auto before = std::lower_bound(raw_daily.begin(), raw_daily.end(), a.ex_date,
                                   [](const Bar& b, Date d) { return b.session_date < d; });
    if (before == raw_daily.begin()) continue;  // nothing held before it
    const bool dividend_action = a.kind == CorporateAction::Kind::kDividend;
    const Date previous_session = TradingCalendar::nyse().previous_session(a.ex_date);
    Date through;
    double close = 0;
    if (before == raw_daily.end()) {
      // After the newest bar: a split still scales everything held (prices in today's shares); a
      // dividend needs the close before it, which only the source's reference price can give.
      // Its row is dated the session before it, after every bar held.
      if (dividend_action && !(a.reference_price > 0)) continue;
      through = std::max(previous_session, std::prev(before)->session_date);
      close = dividend_action ? a.reference_price : std::prev(before)->close;
    } else {
      --before;
      through = before->session_date;
      close = before->close;
      if (dividend_action && a.reference_price > 0 && through < previous_session) {
        close = a.reference_price;  // the bars skip the session before it: the source's close
      }
    }
    if (a.kind == CorporateAction::Kind::kSplit) {
      if (!(std::isfinite(a.split_ratio) && a.split_ratio > 0)) {
        throw Error::InvalidInput(fmt::format("{} split on {}: ratio {} is not a positive number",
                                              a.symbol.str(), a.ex_date.to_string(), a.split_ratio));
      }
      split /= a.split_ratio;
    } else {
      if (!(std::isfinite(a.cash_amount) && a.cash_amount >= 0 && a.cash_amount < close)) {
        throw Error::InvalidInput(fmt::format(
            "{} dividend on {}: {} per share is not between 0 and the previous close {} ({})",
            a.symbol.str(), a.ex_date.to_string(), a.cash_amount, close, through.to_string()));
      }
      dividend *= 1 - a.cash_amount / close;
    }
    // One row per session before an ex-date: a split and a dividend on one date share it.
    if (rows.back().through == through) {
      rows.back().split = split;
      rows.back().dividend = dividend;
    } else {
      rows.push_back({through, split, dividend, close});
    }
  }
  std::reverse(rows.begin(), rows.end());
  return rows;
}

AdjustMode parse_adjust_mode(std::string_view text) {
  if (text == "raw") return AdjustMode::kRaw;
  if (text == "split") return AdjustMode::kSplit;
  if (text == "total") return AdjustMode::kTotal;
  throw Error::InvalidInput(fmt::format("--adjust '{}' is not known; use raw, split or total", text));
}

const AdjustmentFactor& factor_on(const std::vector<AdjustmentFactor>& factors, Date date) {
  auto it = std::lower_bound(factors.begin(), factors.end(), date,
                             [](const AdjustmentFactor& f, Date d) { return f.through < d; });
  if (it == factors.end()) throw Error::Internal(fmt::format("no adjustment factor row covers {}", date.to_string()));
  return *it;
}

void adjust_bars(std::vector<Bar>& bars, const std::vector<AdjustmentFactor>& factors, AdjustMode mode) {
  if (mode == AdjustMode::kRaw || factors.empty()) return;
  for (Bar& b : bars) {
    const AdjustmentFactor& f = factor_on(factors, b.session_date);
    const double price = f.split * (mode == AdjustMode::kTotal ? f.dividend : 1.0);
    b.open *= price;
    b.high *= price;
    b.low *= price;
    b.close *= price;
    if (b.vwap) *b.vwap *= price;
    b.volume /= f.split;
  }
}

}  // namespace trib

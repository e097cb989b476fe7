#include "trib/etl/adjusted_bars.hpp"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <map>
#include <set>

#include <fmt/format.h>

#include "trib/core/calendar.hpp"
#include "trib/core/error.hpp"
#include "trib/providers/provider.hpp"

namespace trib::etl {
namespace {

using Kind = CorporateAction::Kind;

// The raw close of each session (the last row of the session), ascending, as daily bars.
std::vector<Bar> session_closes(const std::vector<lake::CuratedBar>& rows) {
  std::vector<Bar> out;
  for (const auto& r : rows) {
    if (!out.empty() && out.back().session_date == r.bar.session_date) {
      out.back().close = r.bar.close;
    } else {
      out.push_back(r.bar);
    }
  }
  return out;
}

void scale(Bar& b, double price, double volume_divisor) {
  b.open *= price;
  b.high *= price;
  b.low *= price;
  b.close *= price;
  if (b.vwap) *b.vwap *= price;
  b.volume /= volume_divisor;
}

// Turns rows a vendor delivered adjusted (as of its fetch date) back into raw prices in place.
void to_raw(std::vector<lake::CuratedBar>& rows, const std::vector<CorporateAction>& actions) {
  std::vector<const CorporateAction*> splits, dividends;
  for (const auto& a : actions) (a.kind == Kind::kSplit ? splits : dividends).push_back(&a);
  // The vendor multiplied by 1/ratio for each split with ex-date in (day, fetched].
  auto split_factor = [&](Date day, Date fetched) {
    double f = 1;
    for (const auto* s : splits) {
      if (day < s->ex_date && s->ex_date <= fetched) f /= s->split_ratio;
    }
    return f;
  };
  // Rows of one delivery (source and fetch time), ascending: a total-return vendor's dividend
  // factors are those of its own adjusted closes.
  std::map<std::pair<std::string, int64_t>, std::vector<size_t>> deliveries;
  for (size_t i = 0; i < rows.size(); ++i) {
    if (price_basis_of(rows[i].source) != AdjustMode::kRaw) {
      deliveries[{rows[i].source, rows[i].fetched_at_ns}].push_back(i);
    }
  }
  for (const auto& [delivery, indices] : deliveries) {
    const bool total = price_basis_of(delivery.first) == AdjustMode::kTotal;
    const Date fetched = utc_date_of(delivery.second);
    // (ex-date, factor) of each dividend up to the fetch, newest first: walking back,
    // V(before) = S * (raw - d) * D_later, so raw = V / (S * D_later) + d.
    std::vector<std::pair<Date, double>> factors;
    if (total) {
      double later = 1;
      for (auto d = dividends.rbegin(); d != dividends.rend(); ++d) {
        if ((*d)->ex_date > fetched) continue;
        auto it = std::lower_bound(indices.begin(), indices.end(), (*d)->ex_date,
                                   [&](size_t i, Date ex) { return rows[i].bar.session_date < ex; });
        if (it == indices.begin()) continue;
        const Bar& before = rows[*std::prev(it)].bar;
        const double close_raw = before.close / (split_factor(before.session_date, fetched) * later) +
                                 (*d)->cash_amount;
        if (!(close_raw > (*d)->cash_amount)) continue;
        const double f = 1 - (*d)->cash_amount / close_raw;
        factors.emplace_back((*d)->ex_date, f);
        later *= f;
      }
    }
    for (size_t i : indices) {
      Bar& bar = rows[i].bar;
      const double split = split_factor(bar.session_date, fetched);
      double dividend = 1;
      for (const auto& [ex, f] : factors) {
        if (bar.session_date < ex) dividend *= f;
      }
      scale(bar, 1 / (split * dividend), 1 / split);
    }
  }
}

}  // namespace

void to_raw_basis(std::vector<lake::CuratedBar>& rows, const std::vector<CorporateAction>& actions) {
  std::vector<CorporateAction> prices;
  for (const auto& a : actions) {
    if (a.kind == Kind::kSplit || a.kind == Kind::kDividend) prices.push_back(a);
  }
  to_raw(rows, prices);
}

AdjustMode price_basis_of(const std::string& source) {
  // A file declared adjusted at ingest: "csv:split", "csv:total".
  if (const size_t colon = source.find(':'); colon != std::string::npos) {
    const std::string_view basis = std::string_view(source).substr(colon + 1);
    return basis == "split" ? AdjustMode::kSplit : basis == "total" ? AdjustMode::kTotal : AdjustMode::kRaw;
  }
  try {
    return providers::vendor_info(source).price_basis;
  } catch (const Error&) {
    return AdjustMode::kRaw;
  }
}

AdjustedBars adjust_history(std::vector<lake::CuratedBar> history, std::optional<Date> from,
                            std::optional<Date> to, const std::vector<CorporateAction>& actions,
                            AdjustMode mode) {
  AdjustedBars out;
  std::vector<CorporateAction> prices;
  for (const auto& a : actions) {
    if (a.kind == Kind::kSplit || a.kind == Kind::kDividend) prices.push_back(a);
  }
  to_raw(history, prices);
  const std::vector<Bar> closes = session_closes(history);
  // A dividend must be below the close before it: one that is not is in another basis or wrong,
  // and is left out with a note rather than failing the read.
  size_t after_newest = 0, stale_closes = 0;
  std::erase_if(prices, [&](const CorporateAction& a) {
    if (a.kind != Kind::kDividend) return false;
    auto before = std::lower_bound(closes.begin(), closes.end(), a.ex_date,
                                   [](const Bar& b, Date d) { return b.session_date < d; });
    if (before == closes.begin()) return false;  // nothing held before it: no effect
    if (before == closes.end() && !(a.reference_price > 0)) {  // needs the close before it, not held yet
      ++after_newest;
      return true;
    }
    --before;
    // The factor needs the close of the session before the ex-date; where the bars skip it (or
    // end before it), the source's reference price if it stated one (Lean's factor files), else
    // the older close held (said in a note).
    double close = before->close;
    if (before->session_date < TradingCalendar::nyse().previous_session(a.ex_date)) {
      if (a.reference_price > 0) {
        close = a.reference_price;
      } else {
        ++stale_closes;
      }
    }
    if (std::isfinite(a.cash_amount) && a.cash_amount >= 0 && a.cash_amount < close) return false;
    out.notes.push_back(fmt::format("{} dividend {} of {} left out: not below the previous close {} ({})",
                                    a.symbol.str(), a.ex_date.to_string(), a.cash_amount, close,
                                    before->session_date.to_string()));
    return true;
  });
  if (stale_closes > 0 && mode == AdjustMode::kTotal) {
    out.notes.push_back(fmt::format("{} dividend(s) fall where the bars lack the session before the ex-date; their "
                                    "factors use the last close held before it (ingest the missing bars for exact "
                                    "factors: trib dq --rule missing_sessions)", stale_closes));
  }
  if (after_newest > 0 && mode == AdjustMode::kTotal) {
    out.notes.push_back(fmt::format("{} dividend(s) after the newest bar ({}) are not applied: the close "
                                    "before each is not held yet and their source stated none", after_newest,
                                    closes.back().session_date.to_string()));
  }
  if (mode != AdjustMode::kRaw) out.factors = adjustment_factors(closes, prices);
  out.actions = std::move(prices);
  for (auto& row : history) {
    if ((from && row.bar.session_date < *from) || (to && row.bar.session_date > *to)) continue;
    out.rows.push_back(std::move(row));
  }
  if (!out.factors.empty()) {
    for (auto& row : out.rows) {
      const AdjustmentFactor& f = factor_on(out.factors, row.bar.session_date);
      scale(row.bar, f.split * (mode == AdjustMode::kTotal ? f.dividend : 1.0), f.split);
    }
  }
  return out;
}

namespace {

// The symbol's rows in [from, to] (the newest when `to` is unset); none when it has no bars.
std::vector<lake::CuratedBar> rows_or_none(lake::ObjectStore& store, catalog::Catalog& catalog,
                                           BarsQuery query, std::optional<Date> from, std::optional<Date> to) {
  query.from = from;
  query.to = to;
  try {
    return read_curated_bars(store, catalog, query);
  } catch (const Error& e) {
    if (e.category() != ErrorCategory::kNotFound) throw;
    return {};
  }
}

std::optional<Date> later_of(std::optional<Date> a, std::optional<Date> b) {
  if (!a) return b;
  if (!b) return a;
  return std::max(*a, *b);
}

}  // namespace

std::vector<NameSpan> read_symbol_history(catalog::Catalog& catalog, const Symbol& symbol,
                                          const PriceOptions& options) {
  return symbol_history(symbol, [&](const Symbol& name) {
    std::vector<catalog::ActionRecord> known;
    for (auto& r : catalog.list_actions(name.str(), options.actions_as_of_ns)) {
      if (r.action.kind == Kind::kSymbolChange) known.push_back(std::move(r));
    }
    return resolve_actions(known, options.precedence).actions;
  });
}

AdjustedBars read_adjusted_bars(lake::ObjectStore& store, catalog::Catalog& catalog,
                                const BarsQuery& query, const PriceOptions& options) {
  std::vector<NameSpan> spans = {{query.symbol, std::nullopt, std::nullopt}};
  if (options.follow_renames) spans = read_symbol_history(catalog, query.symbol, options);
  std::vector<std::string> notes;
  // The instrument's rows from `query.from` to `last` (the newest when unset), each span read
  // under the name it had then.
  auto read_history = [&](std::optional<Date> last) {
    notes.clear();
    std::vector<lake::CuratedBar> history;
    for (const NameSpan& span : spans) {
      const std::optional<Date> from = later_of(span.from, query.from);
      std::optional<Date> to = span.to;
      if (last && (!to || *last < *to)) to = last;
      if (from && to && *to < *from) continue;
      BarsQuery named = query;
      named.symbol = span.symbol;
      std::vector<lake::CuratedBar> rows = rows_or_none(store, catalog, named, from, to);
      if (span.symbol != query.symbol) {
        if (rows.empty()) {
          // Nothing under the old name: the vendor keyed the whole history by today's ticker.
          rows = rows_or_none(store, catalog, query, from, to);
        } else {
          notes.push_back(fmt::format("{} to {}: {} bars read as {} (the name then)",
                                      from ? from->to_string() : "the first bar",
                                      to ? to->to_string() : "the newest", rows.size(), span.symbol.str()));
        }
      }
      std::move(rows.begin(), rows.end(), std::back_inserter(history));
    }
    // Nothing under any name: the reader's own NotFound when the symbol has no bars at all (an
    // empty range is an empty answer).
    if (history.empty()) return read_curated_bars(store, catalog, query);
    return history;
  };
  if (options.adjust == AdjustMode::kRaw) {
    // As traded: only rows a vendor delivered adjusted need the actions.
    auto rows = read_history(query.to);
    if (std::all_of(rows.begin(), rows.end(),
                    [](const auto& r) { return price_basis_of(r.source) == AdjustMode::kRaw; })) {
      AdjustedBars out;
      out.rows = std::move(rows);
      out.notes = std::move(notes);
      return out;
    }
  }
  // The factors of [from, to] depend on every action after `from`, and a dividend's on the close
  // before it: read from `from` to the newest row.
  std::vector<lake::CuratedBar> history = read_history(std::nullopt);
  // The instrument's splits and dividends: today's symbol's (sources keyed by today's ticker
  // cover the whole history) and each earlier name's within its span, as today's symbol.
  std::vector<catalog::ActionRecord> known;
  std::set<std::string> names;
  for (const NameSpan& span : spans) names.insert(span.symbol.str());
  for (const std::string& name : names) {
    for (auto& r : catalog.list_actions(name, options.actions_as_of_ns)) {
      if (r.action.symbol.str() != name) continue;
      if (r.action.kind != Kind::kSplit && r.action.kind != Kind::kDividend) continue;
      if (r.action.symbol != query.symbol) {
        const bool in_its_span = std::any_of(spans.begin(), spans.end(), [&](const NameSpan& span) {
          return span.symbol == r.action.symbol && !(span.from && r.action.ex_date < *span.from) &&
                 !(span.to && *span.to < r.action.ex_date);
        });
        if (!in_its_span) continue;
        r.action.symbol = query.symbol;
      }
      known.push_back(std::move(r));
    }
  }
  ResolvedActions resolved = resolve_actions(known, options.precedence);
  AdjustedBars out = adjust_history(std::move(history), query.from, query.to, resolved.actions, options.adjust);
  out.conflicts = std::move(resolved.conflicts);
  out.notes.insert(out.notes.begin(), notes.begin(), notes.end());
  return out;
}

}  // namespace trib::etl

// Yahoo Finance chart payloads (GET /v8/finance/chart/{symbol}) into bars and corporate actions.
// Pure: core, nlohmann and parse_util.hpp only (scripts/fuzz-vendors builds it alone).
#pragma once

#include <string_view>

#include "trib/providers/provider.hpp"

namespace trib::providers {

// The chart payload exactly as Yahoo sent it: {"chart":{"result":[{meta, timestamp[], events,
// indicators}],"error":null}}.
//   - sessions are dates in the exchange's own time zone (meta.exchangeTimezoneName: New York by
//     its DST rules, any other zone by meta.gmtoffset);
//   - daily bars are stamped with daily_bar(session) (the platform's session open), intraday bars
//     at their own open (UTC);
//   - bars carry the as-traded close (indicators.quote), never adjclose;
//   - a row with a null / non-numeric / non-positive price, a bad timestamp, a second bar for one
//     session (daily) or one instant (intraday), or an intraday bar outside every trading period
//     meta.tradingPeriods lists, is a finding;
//   - events.splits / events.dividends become CorporateActions (chronological);
//   - no timestamp array (a window without sessions) is an empty result, not an error.
// Throws Error::DataLoss when the payload is not a chart payload (not JSON, chart.error set, no
// result), is for another symbol than context.symbol, or holds bars of another interval than
// context.timeframe.
ParseResult parse_yahoo_chart(std::string_view payload, const ParseContext& context);

// The same with the interval named explicitly (meta.dataGranularity must equal it, when present):
// "1d" parses daily bars; any other ("1m", "30m", "1h", "60m") intraday bars.
ParseResult parse_yahoo_chart_interval(std::string_view payload, const ParseContext& context,
                                       std::string_view interval);

}  // namespace trib::providers

// FRED series observations (GET /fred/series/observations?file_type=json) into an economic series.
// Pure: core, nlohmann and parse_util.hpp only (scripts/fuzz-vendors builds it alone).
#pragma once

#include <string_view>

#include "trib/providers/provider.hpp"

namespace trib::providers {

// `payload`: one or more pages of {"count":N,"offset":O,"limit":L,"observations":[{"date":
// "YYYY-MM-DD","value":"4.33"},...]} stored back to back (as split_json_pages reads them). The series id is
// context.symbol (FRED's payload does not name it); the observations go to
// ParseResult::series[id], in payload order and in the series' own calendar (every date kept:
// DFF has weekends, HQMCB10YR one date a month). A value "." is FRED's missing marker: an
// observation with no value, not a finding. A bad date, a value that is not a number, a second
// observation for a date, or an entry that is not an object is a finding.
// Throws Error::DataLoss when a page is not JSON, is FRED's error body, or has no observations
// array; Error::InvalidInput when context.symbol is empty.
ParseResult parse_fred_observations(std::string_view payload, const ParseContext& context);

}  // namespace trib::providers

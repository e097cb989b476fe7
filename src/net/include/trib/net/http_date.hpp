// HTTP dates (RFC 9110 IMF-fixdate, "Sun, 06 Nov 1994 08:49:37 GMT"): formatted for the Date and
// x-ms-date request headers that Azure signs, parsed for the Retry-After response header.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace trib::net {

// `unix_seconds` as IMF-fixdate, always GMT.
std::string format_http_date(int64_t unix_seconds);

// Parses IMF-fixdate, the only form current senders may generate; the obsolete RFC 850 and asctime
// forms are not accepted (no API we call sends them). Returns nullopt on anything else, including
// an impossible date, so a garbled Retry-After falls back to ordinary backoff.
std::optional<int64_t> parse_http_date(std::string_view text);

}  // namespace trib::net

// Small helpers the vendor parsers share: turning a vendor's timestamp into the New York session
// it belongs to, reading numbers that vendors send as JSON numbers or as strings, and the finding
// for a row that cannot be used. Header-only so the fuzz targets build a parser from its own
// files (scripts/fuzz-vendors).
#pragma once

#include <charconv>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "trib/core/bar.hpp"
#include "trib/core/calendar.hpp"
#include "trib/core/error.hpp"
#include "trib/core/time.hpp"
#include "trib/providers/provider.hpp"

namespace trib::providers {

// Timestamps the platform accepts: 1900-01-01 .. 2100-12-31 (an int64 of nanoseconds since 1970
// reaches 2262; vendors' sentinels and corrupt rows fall outside).
inline constexpr int32_t kFirstSupportedDay = -25567;  // 1900-01-01
inline constexpr int32_t kLastSupportedDay = 47846;    // 2100-12-31
inline bool supported_date(Date d) {
  return d.days_since_epoch() >= kFirstSupportedDay && d.days_since_epoch() <= kLastSupportedDay;
}
// Seconds / milliseconds since the epoch that land in the supported range (no overflow when
// multiplied to nanoseconds).
inline bool supported_epoch_s(int64_t s) {
  return s >= int64_t{kFirstSupportedDay} * 86400 && s < (int64_t{kLastSupportedDay} + 1) * 86400;
}

// The calendar date in New York of a UTC instant (DST per core's rules).
inline Date new_york_date_of(int64_t ts_ns) {
  const int64_t day_ns = kNanosPerDay;
  auto floor_div = [](int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); };
  const Date utc_day(static_cast<int32_t>(floor_div(ts_ns, day_ns)));
  // The offset at the UTC date is right except within hours of a DST switch at 02:00 local;
  // recompute with the local date's offset to settle those.
  int offset_h = new_york_utc_offset_hours(utc_day);
  Date local(static_cast<int32_t>(floor_div(ts_ns + offset_h * int64_t{3'600'000'000'000}, day_ns)));
  offset_h = new_york_utc_offset_hours(local);
  return Date(static_cast<int32_t>(floor_div(ts_ns + offset_h * int64_t{3'600'000'000'000}, day_ns)));
}

// A finite number from a JSON number or a numeric string ("174.61", "1.0000"); nullopt for null,
// "", ".", "NaN", other text or infinities.
inline std::optional<double> json_number(const nlohmann::json& v) {
  double out = 0;
  if (v.is_number()) {
    out = v.get<double>();
  } else if (v.is_string()) {
    const auto& s = v.get_ref<const std::string&>();
    const char* b = s.data();
    const char* e = b + s.size();
    while (b < e && *b == ' ') ++b;
    if (b < e && *b == '+') ++b;
    auto [end, ec] = std::from_chars(b, e, out);
    if (ec != std::errc() || end != e) return std::nullopt;
  } else {
    return std::nullopt;
  }
  if (!std::isfinite(out)) return std::nullopt;
  return out;
}

// The date at the start of an ISO text ("2015-01-02", "2015-01-02T00:00:00.000Z",
// "2020-05-08 14:07:03"); nullopt when it does not start with a valid, supported date.
inline std::optional<Date> iso_date_prefix(std::string_view text) {
  if (text.size() < 10) return std::nullopt;
  auto d = Date::try_parse(text.substr(0, 10));
  if (!d || !supported_date(*d)) return std::nullopt;
  return d;
}

// The first 200 bytes of a row, for a finding.
inline std::string raw_excerpt(std::string_view text) {
  return std::string(text.substr(0, 200));
}

inline ParseFinding finding(int64_t line, std::string rule, std::string reason, std::string_view raw) {
  return ParseFinding{line, std::move(rule), std::move(reason), raw_excerpt(raw)};
}

// A daily bar stamped at the session's open (the platform's convention for 1d bars).
inline Bar daily_bar(Date session, double open, double high, double low, double close, double volume,
                     const TradingCalendar& calendar) {
  Bar bar;
  bar.session_date = session;
  bar.ts_ns = calendar.session_open_ts_ns(session);
  bar.open = open;
  bar.high = high;
  bar.low = low;
  bar.close = close;
  bar.volume = volume;
  return bar;
}

// Splits a paged payload: JSON documents stored back to back (each page exactly as the vendor
// sent it, '\n' between them). Throws Error::DataLoss naming `vendor` and the page that does not
// start a JSON value or is cut short. Does not parse the pages: only finds where each ends.
inline std::vector<std::string_view> split_json_pages(std::string_view bytes, std::string_view vendor = "vendor") {
  std::vector<std::string_view> pages;
  size_t i = 0;
  const size_t n = bytes.size();
  auto skip_ws = [&] {
    while (i < n && (bytes[i] == ' ' || bytes[i] == '\n' || bytes[i] == '\r' || bytes[i] == '\t')) ++i;
  };
  skip_ws();
  while (i < n) {
    const size_t start = i;
    if (bytes[i] != '{' && bytes[i] != '[') {
      throw Error::DataLoss(fmt::format("{} payload: page {} does not start a JSON object (byte {})", vendor,
                                        pages.size() + 1, i));
    }
    int depth = 0;
    bool in_string = false;
    for (; i < n; ++i) {
      const char c = bytes[i];
      if (in_string) {
        if (c == '\\') {
          if (i + 1 < n) ++i;
        } else if (c == '"') {
          in_string = false;
        }
        continue;
      }
      if (c == '"') {
        in_string = true;
      } else if (c == '{' || c == '[') {
        ++depth;
      } else if (c == '}' || c == ']') {
        if (--depth == 0) {
          ++i;
          break;
        }
      }
    }
    if (depth != 0 || in_string) {
      throw Error::DataLoss(fmt::format("{} payload: page {} is cut short ({} bytes from byte {})", vendor,
                                        pages.size() + 1, n - start, start));
    }
    pages.push_back(bytes.substr(start, i - start));
    skip_ws();
  }
  return pages;
}

// Vendor text for a message or a finding: one printable ASCII line (tabs and line breaks as
// spaces, other control and non-ASCII bytes as '?'), at most `max` bytes, "..." when cut.
inline std::string one_line_excerpt(std::string_view text, size_t max) {
  std::string out;
  for (char c : text.substr(0, max)) {
    const auto u = static_cast<unsigned char>(c);
    out += (c == '\n' || c == '\r' || c == '\t') ? ' ' : (u < 0x20 || u >= 0x7f) ? '?' : c;
  }
  if (text.size() > max) out += "...";
  return out;
}

// Compact JSON text of `v`, cut short once it reaches about `max` bytes. Recursion goes no
// deeper than the text written so far, so a deeply nested (fuzzed) value cannot exhaust the
// stack the way json::dump, which recurses once per level, can.
inline void append_bounded_json(const nlohmann::json& v, std::string& out, size_t max) {
  if (out.size() >= max) return;
  const auto text = [](const nlohmann::json& x) {
    return x.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  };
  if (v.is_object() || v.is_array()) {
    const bool object = v.is_object();
    out += object ? '{' : '[';
    bool first = true;
    for (auto it = v.begin(); it != v.end() && out.size() < max; ++it) {
      if (!first) out += ',';
      first = false;
      if (object) out += text(nlohmann::json(it.key())) + ":";
      append_bounded_json(it.value(), out, max);
    }
    out += object ? '}' : ']';
    return;
  }
  out += text(v);
}

inline std::string bounded_json_text(const nlohmann::json& v, size_t max = 240) {
  std::string out;
  append_bounded_json(v, out, max);
  return out;
}

// An adapter option: the request's own parameter, else the provider's option, else `fallback`
// (an empty value counts as absent).
inline std::string request_option(const FetchRequest& request, const ProviderOptions& options,
                                  const std::string& key, const std::string& fallback = "") {
  if (auto it = request.params.find(key); it != request.params.end() && !it->second.empty()) return it->second;
  if (auto it = options.find(key); it != options.end() && !it->second.empty()) return it->second;
  return fallback;
}

// request_option as a positive integer; Error::InvalidInput naming the vendor and the option.
inline int64_t positive_request_option(const FetchRequest& request, const ProviderOptions& options,
                                       std::string_view vendor, const std::string& key, int64_t fallback) {
  const std::string text = request_option(request, options, key, std::to_string(fallback));
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value <= 0) {
    throw Error::InvalidInput(fmt::format("{} option {}='{}' must be a positive integer", vendor, key, text));
  }
  return value;
}

}  // namespace trib::providers

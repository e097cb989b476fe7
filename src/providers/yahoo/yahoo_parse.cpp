// Yahoo chart payloads into bars, corporate actions and findings (see yahoo_parse.hpp).
#include "yahoo_parse.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "trib/core/error.hpp"
#include "trib/providers/parse_util.hpp"

namespace trib::providers {
namespace {

using nlohmann::json;

constexpr int64_t kDaySeconds = 86'400;

int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

// One JSON value for a finding's text; containers are not expanded (a fuzzed payload can nest
// them thousands deep, and dump() recurses).
std::string value_text(const json* v) {
  if (v == nullptr) return "(missing)";
  if (v->is_array()) return "[...]";
  if (v->is_object()) return "{...}";
  return one_line_excerpt(v->dump(-1, ' ', false, json::error_handler_t::replace), 40);
}

const json* member(const json& object, std::string_view key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

const json* element(const json* array, size_t i) {
  if (array == nullptr || !array->is_array() || i >= array->size()) return nullptr;
  return &(*array)[i];
}

std::string string_member(const json& object, std::string_view key) {
  const json* v = member(object, key);
  return v != nullptr && v->is_string() ? v->get<std::string>() : std::string();
}

// An integer that fits int64 (Yahoo's epoch seconds, gmtoffset); nullopt for anything else.
std::optional<int64_t> integer(const json* v) {
  if (v == nullptr || !v->is_number_integer()) return std::nullopt;
  if (v->is_number_unsigned()) {
    const auto u = v->get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
    return static_cast<int64_t>(u);
  }
  return v->get<int64_t>();
}

// How instants map to the exchange's dates: New York by its DST rules; any other zone by the
// fixed offset Yahoo reports in meta.gmtoffset (the offset at the time of the request).
struct ExchangeClock {
  bool new_york = true;
  int64_t offset_s = 0;
  std::string zone = "America/New_York";

  // The exchange's date of an instant. Daily bars are stamped at the session's start, never in
  // the last hour before midnight; a daily stamp that lands there is a session start seen
  // through an offset one DST hour off (gmtoffset is the offset at request time), so it belongs
  // to the next date.
  Date date_of(int64_t epoch_s, bool daily) const {
    if (new_york) return new_york_date_of(epoch_s * kNanosPerSecond);
    const int64_t local = epoch_s + offset_s;
    int64_t day = floor_div(local, kDaySeconds);
    if (daily && local - day * kDaySeconds >= 23 * 3600) ++day;
    return Date(static_cast<int32_t>(day));
  }
};

std::string utc_text(int64_t epoch_s) {
  const int64_t day = floor_div(epoch_s, kDaySeconds);
  const int64_t sec = epoch_s - day * kDaySeconds;
  return fmt::format("{}T{:02d}:{:02d}Z", Date(static_cast<int32_t>(day)).to_string(), sec / 3600,
                     (sec / 60) % 60);
}

struct Period {
  int64_t start = 0, end = 0;
};

// meta.tradingPeriods: [[{start,end}], ...] (one list per day) when pre/post are excluded, or
// {"pre": [[...]], "regular": [[...]], "post": [[...]]} when they are included.
std::vector<Period> trading_periods(const json& meta) {
  std::vector<Period> out;
  auto add = [&](const json& p) {
    const auto start = integer(member(p, "start"));
    const auto end = integer(member(p, "end"));
    if (start && end && *start < *end) out.push_back({*start, *end});
  };
  auto add_days = [&](const json& days) {
    if (!days.is_array()) return;
    for (const json& day : days) {
      if (day.is_array()) {
        for (const json& p : day) add(p);
      } else {
        add(day);
      }
    }
  };
  const json* tp = member(meta, "tradingPeriods");
  if (tp == nullptr) return out;
  if (tp->is_array()) {
    add_days(*tp);
  } else if (tp->is_object()) {
    for (const auto& [_, days] : tp->items()) add_days(days);
  }
  return out;
}

bool in_periods(const std::vector<Period>& periods, int64_t t) {
  return std::any_of(periods.begin(), periods.end(),
                     [&](const Period& p) { return t >= p.start && t < p.end; });
}

// A split's ratio "4:1" / "1/10" when numerator and denominator are not given as numbers.
std::optional<double> ratio_text(const json* v) {
  if (v == nullptr || !v->is_string()) return std::nullopt;
  const auto& s = v->get_ref<const std::string&>();
  const size_t sep = s.find_first_of(":/");
  if (sep == std::string::npos) return std::nullopt;
  const auto num = json_number(json(s.substr(0, sep)));
  const auto den = json_number(json(s.substr(sep + 1)));
  if (!num || !den || *num <= 0 || *den <= 0) return std::nullopt;
  return *num / *den;
}

void parse_events(const json& result, const Symbol& symbol, const ExchangeClock& clock,
                  const std::string& currency, ParseResult& out) {
  const json* events = member(result, "events");
  if (events == nullptr || events->is_null()) return;
  if (!events->is_object()) {
    out.findings.push_back(finding(0, "bad_action", "events is not an object", value_text(events)));
    return;
  }
  std::vector<CorporateAction> actions;
  auto event_date = [&](const std::string& key, const json& v) -> std::optional<Date> {
    auto t = integer(member(v, "date"));
    if (!t) {
      // The key is the same instant as text.
      const auto k = json_number(json(key));
      if (k && *k == static_cast<double>(static_cast<int64_t>(*k))) t = static_cast<int64_t>(*k);
    }
    if (!t || !supported_epoch_s(*t)) return std::nullopt;
    return clock.date_of(*t, /*daily=*/true);
  };
  auto raw = [](const std::string& key, const json& v) {
    std::string text = one_line_excerpt(key, 24) + ":";
    if (v.is_object()) {
      for (const auto& [k, x] : v.items()) text += " " + one_line_excerpt(k, 24) + "=" + value_text(&x);
    } else {
      text += value_text(&v);
    }
    return text;
  };
  if (const json* splits = member(*events, "splits"); splits != nullptr && splits->is_object()) {
    for (const auto& [key, v] : splits->items()) {
      const auto date = event_date(key, v);
      std::optional<double> ratio;
      const auto num = json_number(member(v, "numerator") ? *member(v, "numerator") : json());
      const auto den = json_number(member(v, "denominator") ? *member(v, "denominator") : json());
      if (num && den && *num > 0 && *den > 0) ratio = *num / *den;
      if (!ratio) ratio = ratio_text(member(v, "splitRatio"));
      if (!date || !ratio || !std::isfinite(*ratio) || *ratio <= 0) {
        out.findings.push_back(finding(
            0, !date ? "bad_date" : "bad_action",
            !date ? fmt::format("split {}: date is not epoch seconds in 1900..2100", one_line_excerpt(key, 24))
                  : fmt::format("split {}: numerator/denominator (or splitRatio) is not a positive ratio",
                                one_line_excerpt(key, 24)),
            raw(key, v)));
        continue;
      }
      CorporateAction a;
      a.kind = CorporateAction::Kind::kSplit;
      a.symbol = symbol;
      a.ex_date = *date;
      a.split_ratio = *ratio;
      actions.push_back(std::move(a));
    }
  }
  if (const json* divs = member(*events, "dividends"); divs != nullptr && divs->is_object()) {
    for (const auto& [key, v] : divs->items()) {
      const auto date = event_date(key, v);
      const json* amount_json = member(v, "amount");
      const auto amount = amount_json != nullptr ? json_number(*amount_json) : std::nullopt;
      if (!date || !amount || *amount <= 0) {
        out.findings.push_back(finding(
            0, !date ? "bad_date" : "bad_number",
            !date ? fmt::format("dividend {}: date is not epoch seconds in 1900..2100", one_line_excerpt(key, 24))
                  : fmt::format("dividend {}: amount {} is not a positive number", one_line_excerpt(key, 24),
                                value_text(amount_json)),
            raw(key, v)));
        continue;
      }
      CorporateAction a;
      a.kind = CorporateAction::Kind::kDividend;
      a.symbol = symbol;
      a.ex_date = *date;
      a.cash_amount = *amount;
      a.currency = currency;
      actions.push_back(std::move(a));
    }
  }
  std::stable_sort(actions.begin(), actions.end(), [](const CorporateAction& a, const CorporateAction& b) {
    return a.ex_date < b.ex_date;
  });
  for (auto& a : actions) out.actions.push_back(std::move(a));
}

ParseResult parse_chart(std::string_view payload, const ParseContext& context,
                        const std::vector<std::string_view>& intervals, bool daily) {
  json doc = json::parse(payload.begin(), payload.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    throw Error::DataLoss(fmt::format("yahoo: the payload is not JSON ({} bytes)", payload.size()));
  }
  const json* chart = member(doc, "chart");
  if (chart == nullptr || !chart->is_object()) {
    throw Error::DataLoss("yahoo: the payload has no 'chart' object (not a v8 chart answer)");
  }
  if (const json* error = member(*chart, "error"); error != nullptr && !error->is_null()) {
    throw Error::DataLoss(fmt::format("yahoo: the payload is Yahoo's error '{}': {}",
                                      one_line_excerpt(string_member(*error, "code"), 60),
                                      one_line_excerpt(string_member(*error, "description"), 120)));
  }
  const json* results = member(*chart, "result");
  if (results == nullptr || !results->is_array() || results->empty() || !(*results)[0].is_object()) {
    throw Error::DataLoss("yahoo: chart.result holds no result");
  }
  const json& result = (*results)[0];
  static const json kEmptyObject = json::object();
  const json* meta_ptr = member(result, "meta");
  const json& meta = meta_ptr != nullptr && meta_ptr->is_object() ? *meta_ptr : kEmptyObject;

  // Whose bars these are.
  Symbol symbol = context.symbol;
  const std::string meta_symbol = string_member(meta, "symbol");
  if (!meta_symbol.empty()) {
    if (!Symbol::is_valid(meta_symbol)) {
      throw Error::DataLoss(fmt::format("yahoo: meta.symbol '{}' is not a symbol", one_line_excerpt(meta_symbol, 40)));
    }
    const Symbol theirs = Symbol::parse(meta_symbol);
    if (symbol.empty()) {
      symbol = theirs;
    } else if (theirs != symbol) {
      throw Error::DataLoss(fmt::format("yahoo: the payload is for {}, not {}", theirs.str(), symbol.str()));
    }
  }
  if (symbol.empty()) throw Error::DataLoss("yahoo: the payload names no symbol and none was given");

  // What interval they are.
  const std::string granularity = string_member(meta, "dataGranularity");
  if (!granularity.empty() &&
      std::find(intervals.begin(), intervals.end(), granularity) == intervals.end()) {
    throw Error::DataLoss(fmt::format("yahoo: the payload holds {} bars, expected {}",
                                      one_line_excerpt(granularity, 16), intervals.front()));
  }

  // Where they trade.
  ExchangeClock clock;
  const std::string zone = string_member(meta, "exchangeTimezoneName");
  if (!zone.empty() && zone != "America/New_York") {
    const auto offset = integer(member(meta, "gmtoffset"));
    if (!offset || *offset < -18 * 3600 || *offset > 18 * 3600) {
      throw Error::DataLoss(fmt::format("yahoo: meta.gmtoffset {} is not an offset in seconds (zone {})",
                                        value_text(member(meta, "gmtoffset")), one_line_excerpt(zone, 40)));
    }
    clock.new_york = false;
    clock.offset_s = *offset;
    clock.zone = zone;
  }
  const std::string currency = string_member(meta, "currency");
  // Futures can settle at zero or below (WTI, April 2020): only their prices may be <= 0.
  const bool future = string_member(meta, "instrumentType") == "FUTURE";

  ParseResult out;
  std::vector<Bar>& bars = out.bars[symbol];
  parse_events(result, symbol, clock, currency, out);

  const json* timestamps = member(result, "timestamp");
  if (timestamps == nullptr || timestamps->is_null()) return out;  // a window without sessions
  if (!timestamps->is_array()) throw Error::DataLoss("yahoo: 'timestamp' is not an array");
  if (timestamps->empty()) return out;

  const json* indicators = member(result, "indicators");
  const json* quotes = indicators != nullptr ? member(*indicators, "quote") : nullptr;
  const json* quote = element(quotes, 0);
  if (quote == nullptr || !quote->is_object()) {
    throw Error::DataLoss("yahoo: the payload has timestamps but no indicators.quote[0]");
  }
  static constexpr const char* kFields[5] = {"open", "high", "low", "close", "volume"};
  const json* columns[5];
  for (int k = 0; k < 5; ++k) {
    columns[k] = member(*quote, kFields[k]);
    if (columns[k] != nullptr && !columns[k]->is_array() && !columns[k]->is_null()) {
      throw Error::DataLoss(fmt::format("yahoo: indicators.quote[0].{} is not an array", kFields[k]));
    }
  }
  const std::vector<Period> periods = daily ? std::vector<Period>{} : trading_periods(meta);

  std::set<int64_t> seen;  // sessions (daily) or instants (intraday) already given a bar
  const size_t n = timestamps->size();
  bars.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    const int64_t line = static_cast<int64_t>(i) + 1;
    const json* ts_json = element(timestamps, i);
    const json* cells[5];
    for (int k = 0; k < 5; ++k) cells[k] = element(columns[k], i);
    const std::string raw = fmt::format(
        "timestamp={} open={} high={} low={} close={} volume={}", value_text(ts_json),
        value_text(cells[0]), value_text(cells[1]), value_text(cells[2]), value_text(cells[3]),
        value_text(cells[4]));
    const auto ts = integer(ts_json);
    if (!ts || !supported_epoch_s(*ts)) {
      out.findings.push_back(finding(line, "bad_date",
                                     fmt::format("timestamp[{}] = {} is not epoch seconds in 1900..2100",
                                                 i, value_text(ts_json)),
                                     raw));
      continue;
    }
    const Date session = clock.date_of(*ts, daily);
    const std::string when = daily ? session.to_string() : utc_text(*ts);
    // Prices: every one of open/high/low/close must be a number.
    double values[5] = {0, 0, 0, 0, 0};
    std::string nulls;
    std::string bad;
    for (int k = 0; k < 4; ++k) {
      const json* c = cells[k];
      if (c == nullptr || c->is_null()) {
        nulls += (nulls.empty() ? "" : ", ") + std::string(kFields[k]);
        continue;
      }
      const auto v = json_number(*c);
      if (!v) {
        if (bad.empty()) bad = fmt::format("{} = {} is not a number", kFields[k], value_text(c));
        continue;
      }
      values[k] = *v;
    }
    if (!nulls.empty()) {
      out.findings.push_back(finding(line, "null_value",
                                     fmt::format("{} null for the bar of {}", nulls, when), raw));
      continue;
    }
    if (!bad.empty()) {
      out.findings.push_back(finding(line, "bad_number", fmt::format("{} for the bar of {}", bad, when), raw));
      continue;
    }
    if (!future) {
      const int nonpositive = static_cast<int>(std::find_if(values, values + 4, [](double x) { return x <= 0; }) - values);
      if (nonpositive < 4) {
        out.findings.push_back(finding(line, "nonpositive_price",
                                       fmt::format("{} = {} is not a positive price for the bar of {}",
                                                   kFields[nonpositive], values[nonpositive], when),
                                       raw));
        continue;
      }
    }
    // Volume: Yahoo leaves it null where it has none (indices, some FX rows): zero then.
    if (cells[4] != nullptr && !cells[4]->is_null()) {
      const auto v = json_number(*cells[4]);
      if (!v || *v < 0) {
        out.findings.push_back(finding(line, "bad_number",
                                       fmt::format("volume = {} is not a non-negative number for the bar of {}",
                                                   value_text(cells[4]), when),
                                       raw));
        continue;
      }
      values[4] = *v;
    }
    if (!daily && !periods.empty() && !in_periods(periods, *ts)) {
      out.findings.push_back(finding(
          line, "outside_session",
          fmt::format("the bar at {} is outside every trading period the payload lists "
                      "(meta.tradingPeriods): not a bar of the requested sessions",
                      when),
          raw));
      continue;
    }
    const int64_t key = daily ? session.days_since_epoch() : *ts;
    if (!seen.insert(key).second) {
      out.findings.push_back(finding(
          line, daily ? "duplicate_session" : "duplicate_timestamp",
          fmt::format("a second bar for {} (the first one is kept)", when), raw));
      continue;
    }
    if (daily) {
      bars.push_back(daily_bar(session, values[0], values[1], values[2], values[3], values[4],
                               *context.calendar));
    } else {
      Bar bar;
      bar.ts_ns = *ts * kNanosPerSecond;
      bar.session_date = session;
      bar.open = values[0];
      bar.high = values[1];
      bar.low = values[2];
      bar.close = values[3];
      bar.volume = values[4];
      bars.push_back(bar);
    }
  }
  return out;
}

}  // namespace

ParseResult parse_yahoo_chart_interval(std::string_view payload, const ParseContext& context,
                                       std::string_view interval) {
  std::vector<std::string_view> accepted{interval};
  if (interval == "1h") accepted.push_back("60m");
  if (interval == "60m") accepted.push_back("1h");
  return parse_chart(payload, context, accepted, interval == "1d");
}

ParseResult parse_yahoo_chart(std::string_view payload, const ParseContext& context) {
  switch (context.timeframe) {
    case Timeframe::kDay1:
      return parse_yahoo_chart_interval(payload, context, "1d");
    case Timeframe::kHour1:
      return parse_yahoo_chart_interval(payload, context, "1h");
    case Timeframe::kMinute1:
      return parse_yahoo_chart_interval(payload, context, "1m");
  }
  throw Error::InvalidInput("yahoo: unsupported timeframe");
}

}  // namespace trib::providers

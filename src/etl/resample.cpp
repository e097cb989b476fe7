#include "trib/etl/resample.hpp"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "trib/core/error.hpp"
#include "trib/core/time.hpp"

namespace trib::etl {
namespace {

int64_t floor_to(int64_t ts, int64_t width) {
  const int64_t q = ts / width;
  return (ts % width != 0 && ts < 0 ? q - 1 : q) * width;
}

}  // namespace

BarWidth parse_bar_width(std::string_view text) {
  const auto bad = [&] {
    return Error::InvalidInput(fmt::format(
        "--timeframe '{}' is not known; use minutes or hours that divide a day (1m, 5m, 15m, 30m, 1h, 4h) or 1d",
        text));
  };
  if (text == "1d" || text == "d" || text == "day") return BarWidth{0};
  if (text.size() < 2) throw bad();
  const char unit = text.back();
  const std::string_view digits = text.substr(0, text.size() - 1);
  if (digits.size() > 4 || !std::all_of(digits.begin(), digits.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
    throw bad();
  }
  int64_t n = std::stoll(std::string(digits));
  if (unit == 'h') {
    n *= 60;
  } else if (unit != 'm') {
    throw bad();
  }
  if (n < 1 || n > 1440 || 1440 % n != 0) throw bad();
  if (n == 1440) return BarWidth{0};
  return BarWidth{n};
}

BarWidth width_of(Timeframe tf) {
  switch (tf) {
    case Timeframe::kMinute1: return BarWidth{1};
    case Timeframe::kHour1: return BarWidth{60};
    case Timeframe::kDay1: return BarWidth{0};
  }
  return BarWidth{0};
}

bool can_resample(Timeframe stored, BarWidth wanted) {
  const BarWidth have = width_of(stored);
  if (have.daily()) return wanted.daily();
  return wanted.daily() || (wanted.minutes >= have.minutes && wanted.minutes % have.minutes == 0);
}

std::vector<lake::CuratedBar> regular_hours(std::vector<lake::CuratedBar> rows, const TradingCalendar& calendar) {
  if (calendar.is_fx()) return rows;
  std::erase_if(rows, [&](const lake::CuratedBar& r) {
    return r.bar.ts_ns < calendar.session_open_ts_ns(r.bar.session_date) ||
           r.bar.ts_ns >= calendar.session_close_ts_ns(r.bar.session_date);
  });
  return rows;
}

std::vector<lake::CuratedBar> resample(const std::vector<lake::CuratedBar>& input, BarWidth width,
                                       const TradingCalendar& calendar, SessionHours hours) {
  const std::vector<lake::CuratedBar> rows = hours == SessionHours::kRegular ? regular_hours(input, calendar) : input;
  std::vector<lake::CuratedBar> out;
  double vwap_sum = 0;
  bool vwap_all = true, trades_all = true;
  int64_t key_session = INT32_MIN, key_bucket = INT64_MIN;
  const auto finish = [&] {
    if (out.empty()) return;
    lake::CuratedBar& b = out.back();
    if (vwap_all && b.bar.volume > 0) {
      b.bar.vwap = vwap_sum / b.bar.volume;
    } else {
      b.bar.vwap.reset();
    }
    if (!trades_all) b.bar.trades.reset();
  };
  for (const auto& r : rows) {
    const int64_t session = r.bar.session_date.days_since_epoch();
    const int64_t bucket = width.daily() ? 0 : floor_to(r.bar.ts_ns, width.nanos());
    if (out.empty() || session != key_session || bucket != key_bucket) {
      finish();
      lake::CuratedBar b = r;
      b.bar.ts_ns = width.daily() ? calendar.session_open_ts_ns(r.bar.session_date) : bucket;
      b.raw_id.clear();
      out.push_back(std::move(b));
      key_session = session;
      key_bucket = bucket;
      vwap_all = r.bar.vwap.has_value();
      vwap_sum = r.bar.vwap.value_or(0) * r.bar.volume;
      trades_all = r.bar.trades.has_value();
      continue;
    }
    lake::CuratedBar& b = out.back();
    b.bar.high = std::max(b.bar.high, r.bar.high);
    b.bar.low = std::min(b.bar.low, r.bar.low);
    b.bar.close = r.bar.close;
    b.bar.volume += r.bar.volume;
    vwap_all = vwap_all && r.bar.vwap.has_value();
    vwap_sum += r.bar.vwap.value_or(0) * r.bar.volume;
    trades_all = trades_all && r.bar.trades.has_value();
    if (trades_all) b.bar.trades = *b.bar.trades + *r.bar.trades;
    if (("+" + b.source + "+").find("+" + r.source + "+") == std::string::npos) b.source += "+" + r.source;
    b.fetched_at_ns = std::max(b.fetched_at_ns, r.fetched_at_ns);
  }
  finish();
  return out;
}

}  // namespace trib::etl

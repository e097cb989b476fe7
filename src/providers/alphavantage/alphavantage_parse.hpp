// Alpha Vantage payloads: the deterministic parser (no network; the fuzz target builds it alone)
// and the reading of the error bodies Alpha Vantage sends with HTTP 200.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "trib/providers/provider.hpp"

namespace trib::providers::alphavantage {

// What a JSON body that carries no time series says. Alpha Vantage answers almost every problem
// with HTTP 200 and a one-key object:
//   {"Note": ...}           the legacy per-minute throttle ("5 calls per minute")
//   {"Information": ...}    the daily cap ("25 requests per day"), a per-second burst warning,
//                           a premium-only endpoint, or a word about the key
//   {"Error Message": ...}  "Invalid API call ..." (unknown symbol or bad parameters) or
//                           "the parameter apikey is invalid or missing"
struct Notice {
  enum class Kind { kNone, kMinuteLimit, kDailyLimit, kPremium, kInvalidCall, kBadKey, kOther };
  Kind kind = Kind::kNone;
  std::string key;   // "Note", "Information", "Error Message"
  std::string text;  // the vendor's words
};

// kNone when `body` holds a time series (or is not an object with one of those keys).
Notice notice_of(const nlohmann::json& body);

// True for the keys Alpha Vantage puts its rows under ("Time Series (Daily)",
// "Time Series (5min)", "Time Series FX (Daily)", "Weekly Time Series", ...).
bool is_series_key(std::string_view key);

// The parser behind AlphaVantage::parse. Accepts
//   JSON  TIME_SERIES_DAILY, TIME_SERIES_DAILY_ADJUSTED (splits and dividends become actions),
//         TIME_SERIES_INTRADAY (timestamps US/Eastern, labelling the END of each bar: the bar
//         opens one interval earlier), FX_DAILY; several months of intraday stored as the pages'
//         JSON documents back to back;
//   CSV   datatype=csv (header timestamp|time,open,high,low,close[,volume][,adjusted_close,
//         dividend_amount,split_coefficient]), newest first.
// Bars come out in ascending time order (the vendor sends newest first); every row that cannot be
// used is a finding. Throws Error::DataLoss for a payload that is not a daily/intraday series of
// the context's timeframe (an error body, weekly/monthly series, not JSON, no CSV header).
ParseResult parse(std::string_view bytes, const ParseContext& context);

}  // namespace trib::providers::alphavantage

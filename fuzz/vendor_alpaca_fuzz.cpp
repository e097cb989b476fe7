// libFuzzer target for the alpaca parser (scripts/fuzz-vendors alpaca): every input goes to
// parse_alpaca as a daily and as an hourly payload for AAPL, and as a daily payload with no
// symbol in the context (the payload names its symbols). The only acceptable failure is
// trib::Error; on top of that:
//   - error messages and finding reasons are printable ASCII on one line, raw text <= 200 bytes;
//   - every bar has finite values and a session date in 1900..2100 (a day of slack for the
//     New York offset); daily bars are stamped at their session's open;
//   - no corporate actions (Alpaca's bars carry none); a symbol's bars are ascending in time;
//   - alpaca_timestamp_ns of the input's first line is nullopt or inside 1900..2100.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "../src/providers/alpaca/alpaca_parse.hpp"
#include "trib/core/error.hpp"
#include "trib/providers/parse_util.hpp"

namespace {

using namespace trib;
using namespace trib::providers;

void require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant broken: %s\n", what);
    std::abort();
  }
}

bool printable_line(std::string_view s) {
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f) return false;
  }
  return true;
}

void check(const ParseResult& r, Timeframe tf) {
  for (const auto& f : r.findings) {
    require(printable_line(f.reason), "finding reason printable");
    require(printable_line(f.rule), "finding rule printable");
    require(f.raw_text.size() <= 200, "raw text <= 200 bytes");
  }
  for (const auto& [symbol, bars] : r.bars) {
    require(!symbol.empty(), "bars have a symbol");
    for (const Bar& b : bars) {
      require(std::isfinite(b.open) && std::isfinite(b.high) && std::isfinite(b.low) &&
                  std::isfinite(b.close) && std::isfinite(b.volume),
              "finite bar values");
      require(b.session_date.days_since_epoch() >= kFirstSupportedDay - 1 &&
                  b.session_date.days_since_epoch() <= kLastSupportedDay + 1,
              "session in range");
      if (tf == Timeframe::kDay1) {
        require(b.ts_ns == TradingCalendar::nyse().session_open_ts_ns(b.session_date),
                "daily bar at the session open");
      }
      if (b.vwap) require(std::isfinite(*b.vwap), "finite vwap");
      if (b.trades) require(*b.trades >= 0, "trades >= 0");
    }
  }
  require(r.actions.empty(), "no actions");
  for (const auto& [symbol, bars] : r.bars) {
    for (size_t i = 1; i < bars.size(); ++i) require(bars[i - 1].ts_ns <= bars[i].ts_ns, "ascending");
  }
}

void run(std::string_view bytes, std::string_view symbol, Timeframe tf) {
  ParseContext context;
  if (!symbol.empty()) context.symbol = Symbol::parse(symbol);
  context.timeframe = tf;
  try {
    check(parse_alpaca(bytes, context), tf);
  } catch (const Error& e) {
    require(printable_line(e.what()), "error message printable");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  run(bytes, "AAPL", Timeframe::kDay1);
  run(bytes, "AAPL", Timeframe::kHour1);
  run(bytes, "", Timeframe::kDay1);
  const std::string_view first_line = bytes.substr(0, std::min(bytes.find('\n'), size_t{64}));
  if (auto ts = alpaca_timestamp_ns(first_line)) {
    require(supported_epoch_s(*ts / trib::kNanosPerSecond - (*ts % trib::kNanosPerSecond < 0 ? 1 : 0)),
            "timestamp in range");
  }
  return 0;
}

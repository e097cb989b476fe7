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
#include "vendor_fuzz_checks.hpp"

namespace {

using namespace trib;
using namespace trib::providers;
using namespace trib::fuzzing;



void run(std::string_view bytes, std::string_view symbol, Timeframe tf) {
  ParseContext context;
  if (!symbol.empty()) context.symbol = Symbol::parse(symbol);
  context.timeframe = tf;
  parse_and_check([&] { return parse_alpaca(bytes, context); },
                  {.daily_at_session_open = tf == Timeframe::kDay1, .ascending = true, .actions_allowed = false});
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

// libFuzzer target for the polygon parser (scripts/fuzz-vendors polygon): every input goes to
// parse_polygon as a daily and as an hourly payload for AAPL, and as a daily payload with no
// symbol in the context (the page's own ticker is used). The only acceptable failure is
// trib::Error; on top of that:
//   - error messages and finding reasons are printable ASCII on one line, raw text <= 200 bytes;
//   - every bar has finite values and a session date in 1900..2100 (a day of slack for the
//     New York offset); daily bars are stamped at their session's open;
//   - every action is dated in 1900..2100 with a positive finite ratio or amount.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "../src/providers/polygon/polygon_parse.hpp"
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
  parse_and_check([&] { return parse_polygon(bytes, context); },
                  {.daily_at_session_open = tf == Timeframe::kDay1});
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  run(bytes, "AAPL", Timeframe::kDay1);
  run(bytes, "AAPL", Timeframe::kHour1);
  run(bytes, "", Timeframe::kDay1);
  return 0;
}

// libFuzzer target: Tiingo daily prices (JSON array or CSV) and IEX bars through the adapter's
// parser, and its error-object reader. Only trib::Error may escape; scripts/fuzz-vendors builds it
// with ASan + UBSan and keeps what it finds under tests/providers/fuzz_regressions/tiingo/.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "../src/providers/tiingo/tiingo_parse.hpp"
#include "trib/core/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  for (trib::Timeframe tf : {trib::Timeframe::kDay1, trib::Timeframe::kMinute1}) {
    trib::providers::ParseContext context;
    context.symbol = trib::Symbol::parse("AAPL");
    context.timeframe = tf;
    try {
      const auto result = trib::providers::tiingo::parse(bytes, context);
      for (const auto& [symbol, bars] : result.bars) {
        for (size_t i = 1; i < bars.size(); ++i) {
          if (bars[i].ts_ns < bars[i - 1].ts_ns) __builtin_trap();  // ascending, always
        }
      }
    } catch (const trib::Error&) {
    }
  }
  (void)trib::providers::tiingo::error_detail(bytes);
  return 0;
}

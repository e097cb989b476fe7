// libFuzzer target: Stooq daily CSV downloads through the adapter's parser. Only trib::Error may
// escape; scripts/fuzz-vendors builds it with ASan + UBSan and keeps what it finds under
// tests/providers/fuzz_regressions/stooq/.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "../src/providers/stooq/stooq_parse.hpp"
#include "trib/core/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  trib::providers::ParseContext context;
  context.symbol = trib::Symbol::parse("AAPL");
  context.timeframe = trib::Timeframe::kDay1;
  try {
    const auto result = trib::providers::stooq::parse(bytes, context);
    for (const auto& [symbol, bars] : result.bars) {
      for (size_t i = 1; i < bars.size(); ++i) {
        if (bars[i].ts_ns < bars[i - 1].ts_ns) __builtin_trap();  // ascending, always
      }
    }
  } catch (const trib::Error&) {
  }
  (void)trib::providers::stooq::is_no_data(bytes);
  (void)trib::providers::stooq::is_hits_limit(bytes);
  return 0;
}

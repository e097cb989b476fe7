// libFuzzer target: corporate-action files (`trib actions import`): Lean factor files, Lean map
// files and our actions CSV (providers/action_files.hpp). The first byte picks the format. Only
// trib::Error may escape (our CSV's header check throws; rows never do); every action returned
// has a symbol and a kind-consistent value. scripts/fuzz-vendors builds it with ASan + UBSan.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "trib/core/error.hpp"
#include "trib/providers/action_files.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  using trib::providers::ActionFileFormat;
  const ActionFileFormat formats[] = {ActionFileFormat::kLeanFactor, ActionFileFormat::kLeanMap,
                                      ActionFileFormat::kActionsCsv};
  const ActionFileFormat format = formats[data[0] % 3];
  const std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  try {
    const auto parsed = trib::providers::parse_action_file(bytes, format, trib::Symbol::parse("AAPL"));
    for (const auto& a : parsed.actions) {
      if (a.action.symbol.empty()) __builtin_trap();
      if (a.retracted) continue;
      if (a.action.kind == trib::CorporateAction::Kind::kSplit &&
          !(std::isfinite(a.action.split_ratio) && a.action.split_ratio > 0)) {
        __builtin_trap();
      }
      if (a.action.kind == trib::CorporateAction::Kind::kSymbolChange && a.action.new_symbol.empty()) __builtin_trap();
    }
  } catch (const trib::Error&) {
  }
  return 0;
}

// libFuzzer target for model configs (src/ml/model_config.cpp): the TOML a notebook passes to
// ws.train(...) or a file passed to `trib ml train --config`. Anything must parse or throw
// trib::Error, never crash or hang; a config that parses writes a canonical text (to_toml, what
// the model id hashes) that parses back to the same canonical text.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "trib/core/error.hpp"
#include "trib/ml/model_config.hpp"

// Dataset::date_index lives in dataset.cpp, which reads the lake; preprocess.cpp and splits.cpp,
// linked here for the config's names of its choices, refer to it, but parsing never calls it.
size_t trib::ml::Dataset::date_index(int32_t) const { __builtin_trap(); }

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const trib::ml::ModelConfig c = trib::ml::ModelConfig::parse(text, "fuzz.toml");
    const std::string canonical = c.to_toml();
    if (trib::ml::ModelConfig::parse(canonical, "canonical.toml").to_toml() != canonical) __builtin_trap();
  } catch (const trib::Error&) {
  }
  return 0;
}

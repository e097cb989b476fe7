// libFuzzer target for the yahoo parser (scripts/fuzz-vendors yahoo): every input goes to
// parse_yahoo_chart as a daily and as a 1-minute payload for AAPL, and as a 30-minute payload
// for whatever symbol it names. An input that is a yahoo-finance2 fixture wrapper (the recorded
// samples the corpus starts from) is also unwrapped (response.bodyJson or response.body) and its
// payload parsed the same way, so mutations of the samples reach the chart parser.
// The only acceptable failure is trib::Error; on top of that:
//   - an error message and every finding's reason are printable ASCII without newlines, a
//     finding's raw text at most 200 bytes;
//   - every bar has finite values and a session date in 1900..2100 (one day of slack for the
//     exchange's time zone), and daily bars of one symbol have distinct sessions;
//   - every corporate action is dated in that range with a positive finite ratio / amount.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "../src/providers/yahoo/yahoo_parse.hpp"
#include "trib/core/error.hpp"
#include "trib/providers/parse_util.hpp"
#include "vendor_fuzz_checks.hpp"

namespace {

using namespace trib;
using namespace trib::providers;
using namespace trib::fuzzing;




void run(std::string_view payload, const ParseContext& context, std::string_view interval) {
  parse_and_check([&] { return parse_yahoo_chart_interval(payload, context, interval); },
                  {.one_bar_per_session = interval == "1d", .nonnegative_volume = true});
}

void run_all(std::string_view payload) {
  ParseContext aapl;
  aapl.symbol = Symbol::parse("AAPL");
  run(payload, aapl, "1d");
  parse_and_check([&] { return parse_yahoo_chart(payload, aapl); }, {.one_bar_per_session = true, .nonnegative_volume = true});
  run(payload, aapl, "1m");
  ParseContext any;  // the symbol the payload names
  run(payload, any, "1d");
  run(payload, any, "30m");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  run_all(input);
  const auto wrapper = nlohmann::json::parse(input.begin(), input.end(), nullptr, false);
  if (!wrapper.is_discarded() && wrapper.is_object() && wrapper.contains("response") &&
      wrapper["response"].is_object()) {
    const auto& response = wrapper["response"];
    if (response.contains("bodyJson")) {
      run_all(response["bodyJson"].dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    } else if (response.contains("body") && response["body"].is_string()) {
      run_all(response["body"].get<std::string>());
    }
  }
  return 0;
}

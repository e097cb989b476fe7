// libFuzzer target for the fred parser (scripts/fuzz-vendors fred): every input goes to
// parse_fred_observations as the payload of series DFF, whole and as the second of two pages (a
// valid first page in front), and with a context named AAPL (the harness convention).
// The only acceptable failure is trib::Error; on top of that:
//   - an error message and every finding's reason are printable ASCII, a finding's raw text at
//     most 200 bytes;
//   - every observation is dated 1900..2100, with a finite value or none, and no date twice.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>

#include "../src/providers/fred/fred_parse.hpp"
#include "trib/core/error.hpp"
#include "trib/providers/parse_util.hpp"
#include "vendor_fuzz_checks.hpp"

namespace {

using namespace trib;
using namespace trib::providers;
using namespace trib::fuzzing;

void run(std::string_view payload, std::string_view series) {
  ParseContext context;
  context.symbol = Symbol::parse(series);
  try {
    const ParseResult r = parse_fred_observations(payload, context);
    require(r.bars.empty() && r.actions.empty(), "observations only");
    check_parse(r, {});
    for (const auto& [id, obs] : r.series) {
      std::set<int32_t> dates;
      for (const auto& o : obs) {
        require(supported_date(o.date), "observation date in range");
        require(!o.value || std::isfinite(*o.value), "observation value finite");
        require(dates.insert(o.date.days_since_epoch()).second, "one observation a date");
      }
    }
  } catch (const Error& e) {
    require(printable_line(e.what()), "error message printable");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  run(input, "DFF");
  run(input, "AAPL");
  std::string paged = R"({"count":2,"offset":0,"limit":1,"observations":[{"date":"2023-01-01","value":"4.33"}]})";
  paged += '\n';
  paged.append(input);
  run(paged, "DFF");
  return 0;
}

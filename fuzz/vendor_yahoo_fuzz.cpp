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

bool near_supported(Date d) {
  return d.days_since_epoch() >= kFirstSupportedDay - 1 && d.days_since_epoch() <= kLastSupportedDay + 1;
}

void check(const ParseResult& r, bool daily) {
  for (const auto& f : r.findings) {
    require(printable_line(f.reason), "finding reason printable");
    require(f.raw_text.size() <= 200, "finding raw text <= 200 bytes");
  }
  for (const auto& [symbol, bars] : r.bars) {
    std::set<int32_t> sessions;
    for (const Bar& b : bars) {
      require(std::isfinite(b.open) && std::isfinite(b.high) && std::isfinite(b.low) && std::isfinite(b.close) &&
                  std::isfinite(b.volume) && b.volume >= 0,
              "bar values finite");
      require(near_supported(b.session_date), "bar session in range");
      if (daily) require(sessions.insert(b.session_date.days_since_epoch()).second, "one daily bar a session");
    }
  }
  for (const auto& a : r.actions) {
    require(near_supported(a.ex_date), "action date in range");
    if (a.kind == CorporateAction::Kind::kSplit) {
      require(std::isfinite(a.split_ratio) && a.split_ratio > 0, "split ratio positive");
    } else {
      require(std::isfinite(a.cash_amount) && a.cash_amount > 0, "dividend positive");
    }
  }
}

void run(std::string_view payload, const ParseContext& context, std::string_view interval) {
  try {
    check(parse_yahoo_chart_interval(payload, context, interval), interval == "1d");
  } catch (const Error& e) {
    require(printable_line(e.what()), "error message printable");
  }
}

void run_all(std::string_view payload) {
  ParseContext aapl;
  aapl.symbol = Symbol::parse("AAPL");
  run(payload, aapl, "1d");
  try {
    check(parse_yahoo_chart(payload, aapl), true);
  } catch (const Error& e) {
    require(printable_line(e.what()), "error message printable");
  }
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

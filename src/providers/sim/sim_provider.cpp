// The sim vendor: deterministic synthetic daily bars for any symbol on NYSE sessions. The price
// path is a pure function of (seed, symbol, session): every request regenerates it from a fixed
// origin with a per-symbol generator and returns the requested window, so overlapping requests
// agree. Faults are injectable: corrupted bars (for data-quality rules), failing fetches (for
// retries) and latency (for crash tests).
#include <atomic>
#include <charconv>
#include <chrono>
#include <cmath>
#include <iterator>
#include <thread>
#include <utility>

#include <fmt/format.h>

#include "../csv/csv_bars.hpp"
#include "trib/core/error.hpp"
#include "trib/core/hash.hpp"

namespace trib::providers {
namespace {

// splitmix64: tiny, fast, and the same on every platform (std distributions are not).
struct SplitMix64 {
  uint64_t state;
  uint64_t next() {
    uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  // Jumps over n outputs in O(1): the state just advances by a constant per output.
  void skip(uint64_t n) { state += n * 0x9E3779B97F4A7C15ULL; }
  // Uniform in the open interval (0, 1): safe for log().
  double uniform() { return (static_cast<double>(next() >> 11) + 0.5) * 0x1.0p-53; }
  // Box-Muller: two independent standard normals from two uniforms (our own, so the stream is
  // identical on every standard library).
  std::pair<double, double> normal_pair() {
    const double r = std::sqrt(-2.0 * std::log(uniform()));
    const double theta = 6.283185307179586 * uniform();
    return {r * std::cos(theta), r * std::sin(theta)};
  }
};

double round4(double x) { return std::round(x * 10000.0) / 10000.0; }

// The path starts here whatever the request; earlier dates simply have no data (like a vendor's
// history that begins at a listing date).
constexpr Date kOrigin{7306};  // 1990-01-02, a Tuesday session
constexpr Date kLast{47846};   // 2100-12-31: bounds the work one request can ask for

template <typename T>
T parse_number(std::string_view text, std::string_view what) {
  T value{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) {
    throw Error::InvalidInput(fmt::format("sim option {}='{}' is not a number", what, text));
  }
  return value;
}

// Fetch calls made so far in this process by sim providers configured with fail_fetch. Shared
// across instances on purpose: a queue worker builds a fresh provider per delivery, and a retry
// test needs the (N+1)-th attempt to succeed.
std::atomic<int64_t> g_fail_fetch_calls{0};

class SimProvider final : public Provider {
 public:
  explicit SimProvider(const ProviderOptions& options) {
    auto get = [&](const char* key, const char* fallback) {
      auto it = options.find(key);
      return it == options.end() ? std::string(fallback) : it->second;
    };
    seed_ = parse_number<uint64_t>(get("seed", "42"), "seed");
    fault_rate_ = parse_number<double>(get("fault_rate", "0"), "fault_rate");
    latency_ms_ = parse_number<int>(get("latency_ms", "0"), "latency_ms");
    if (!(fault_rate_ >= 0 && fault_rate_ <= 1)) {
      throw Error::InvalidInput(
          fmt::format("sim option fault_rate={} must be in [0, 1]", fault_rate_));
    }
    if (latency_ms_ < 0) throw Error::InvalidInput("sim option latency_ms must be >= 0");
    const std::string fail = get("fail_fetch", "");
    if (!fail.empty()) {
      constexpr std::string_view kPrefix = "retryable:";
      if (fail.rfind(kPrefix, 0) != 0) {
        throw Error::InvalidInput(
            fmt::format("sim option fail_fetch='{}' must look like retryable:N", fail));
      }
      fail_first_ = parse_number<int>(fail.substr(kPrefix.size()), "fail_fetch count");
    }
  }

  std::string_view name() const override { return "sim"; }

  FetchResult fetch(const FetchRequest& request) override {
    if (request.symbol.empty()) throw Error::InvalidInput("the sim vendor needs a symbol");
    if (request.timeframe != Timeframe::kDay1) {
      throw Error::InvalidInput(fmt::format("the sim vendor serves daily bars (1d), not {}",
                                            to_string(request.timeframe)));
    }
    if (request.to < request.from) {
      throw Error::InvalidInput(fmt::format("sim: from {} is after to {}", request.from.to_string(),
                                            request.to.to_string()));
    }
    if (request.to > kLast) {
      throw Error::InvalidInput(
          fmt::format("sim: to {} is after {}", request.to.to_string(), kLast.to_string()));
    }
    if (latency_ms_ > 0) std::this_thread::sleep_for(std::chrono::milliseconds(latency_ms_));
    if (fail_first_ > 0) {
      const int64_t call = g_fail_fetch_calls.fetch_add(1) + 1;
      if (call <= fail_first_) {
        throw Error::Retryable(fmt::format("sim: injected transient failure {} of {} (fail_fetch)",
                                           call, fail_first_));
      }
    }
    FetchResult result;
    result.bytes = generate(request.symbol, request.from, request.to);
    result.ext = "csv";
    result.content_type = "text/csv";
    result.request = {{"vendor", "sim"},
                      {"symbol", request.symbol.str()},
                      {"from", request.from.to_string()},
                      {"to", request.to.to_string()},
                      {"seed", seed_},
                      {"fault_rate", fault_rate_}};
    // The simulated vendor's clock: its data for a window is final the day after the window.
    result.as_of_ns = to_ts_ns(request.to + 1);
    return result;
  }

  ParseResult parse(std::string_view bytes, const ParseContext& context) const override {
    return parse_bar_csv(bytes, context);
  }

 private:
  std::string generate(const Symbol& symbol, Date from, Date to) const {
    const TradingCalendar& calendar = TradingCalendar::nyse();
    const uint64_t symbol_hash = fnv1a64(symbol.str(), fnv1a64(std::to_string(seed_)));
    SplitMix64 params{symbol_hash};
    const double start_price = 20.0 + 180.0 * params.uniform();
    const double drift = -0.02 + 0.12 * params.uniform();  // annual
    const double vol = 0.15 + 0.30 * params.uniform();     // annual
    const double base_volume = 2e5 + 5e6 * params.uniform();
    const double mu = drift / 252.0, sigma = vol / std::sqrt(252.0);
    // A gentle pull of log price toward its drifting trend keeps 110 years of path away from
    // zero and infinity while day-to-day it behaves like GBM.
    constexpr double kReversion = 0.5 / 252.0;
    SplitMix64 rng{symbol_hash ^ 0xA5A5A5A5DEADBEEFULL};

    std::string out = "ts,session_date,open,high,low,close,volume\n";
    if (to < kOrigin) return out;
    out.reserve(out.size() + static_cast<size_t>(to - std::max(from, kOrigin) + 1) * 64);
    auto it = std::back_inserter(out);
    double trend = std::log(start_price), log_close = trend;
    for (Date day = kOrigin; day <= to; day = day + 1) {
      if (!calendar.is_session(day)) continue;
      // Six uniforms per session, always, so the path never depends on the window or on faults.
      // Sessions before the window only need the close: the other four draws are skipped.
      const auto [z_close, z_gap] = rng.normal_pair();
      trend += mu;
      const double log_open = log_close + 0.25 * sigma * z_gap;
      log_close = log_open + mu - kReversion * (log_open - trend) + sigma * z_close;
      if (day < from) {
        rng.skip(4);
        continue;
      }
      const auto [z_high, z_low] = rng.normal_pair();
      const double z_vol = rng.normal_pair().first;
      const double open = std::exp(log_open), close = std::exp(log_close);
      const double high = std::max(open, close) * std::exp(0.3 * sigma * std::fabs(z_high));
      const double low = std::min(open, close) * std::exp(-0.3 * sigma * std::fabs(z_low));
      double o = round4(open), h = round4(high), l = round4(low), c = round4(close);
      double v = std::max(1.0, std::round(base_volume * std::exp(0.4 * z_vol)));
      bool duplicate = false;
      if (fault_rate_ > 0) {
        // Its own generator per (symbol, day): which bars are corrupted is window-independent.
        SplitMix64 fault{symbol_hash ^
                         static_cast<uint64_t>(day.days_since_epoch()) * 0x9E3779B97F4A7C15ULL};
        if (fault.uniform() < fault_rate_) {
          switch (fault.next() % 4) {
            case 0:
              std::swap(h, l);
              break;  // high below low
            case 1:
              v = -v;
              break;  // negative volume
            case 2:
              c = 0;
              break;  // non-positive price
            case 3:
              duplicate = true;
              break;  // the same timestamp twice
          }
        }
      }
      const std::string ts = format_ts_ns(calendar.session_open_ts_ns(day));
      const std::string_view date = std::string_view(ts).substr(0, 10);  // 09:30 NY: same UTC day
      // {} prints the shortest text that parses back to the same double.
      fmt::format_to(it, "{},{},{},{},{},{},{}\n", ts, date, o, h, l, c, v);
      if (duplicate) {
        fmt::format_to(it, "{},{},{},{},{},{},{}\n", ts, date, o, h, l, round4(c * 1.01), v);
      }
    }
    return out;
  }

  uint64_t seed_ = 42;
  double fault_rate_ = 0;
  int latency_ms_ = 0;
  int fail_first_ = 0;
};

}  // namespace

std::unique_ptr<Provider> make_sim_provider(const ProviderOptions& options) {
  return std::make_unique<SimProvider>(options);
}

void reset_sim_injected_failures() { g_fail_fetch_calls.store(0); }

}  // namespace trib::providers

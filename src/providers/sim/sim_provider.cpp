// The sim vendor: deterministic synthetic daily bars for any symbol on NYSE sessions. The price
// path is a pure function of (seed, symbol, session): every request regenerates it from a fixed
// origin with a per-symbol generator and returns the requested window, so overlapping requests
// agree. Faults are injectable: corrupted bars (for data-quality rules), failing fetches (for
// retries) and latency (for crash tests).
#include <chrono>
#include <cmath>
#include <thread>

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
  double uniform() { return (static_cast<double>(next() >> 11) + 0.5) * (1.0 / 9007199254740992.0); }
  // Box-Muller; one draw per call (the pair's second value is dropped to keep call counts fixed).
  double normal() {
    double u1 = uniform(), u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
};

double round4(double x) { return std::round(x * 10000.0) / 10000.0; }

const Date kOrigin = Date::from_ymd(1990, 1, 2);

class SimProvider final : public Provider {
 public:
  explicit SimProvider(const ProviderOptions& options) {
    auto get = [&](const char* key, const char* fallback) {
      auto it = options.find(key);
      return it == options.end() ? std::string(fallback) : it->second;
    };
    try {
      seed_ = std::stoull(get("seed", "42"));
      fault_rate_ = std::stod(get("fault_rate", "0"));
      latency_ms_ = std::stoi(get("latency_ms", "0"));
    } catch (const std::exception&) {
      throw Error::InvalidInput("sim options: seed, fault_rate and latency_ms must be numbers");
    }
    if (fault_rate_ < 0 || fault_rate_ > 1) throw Error::InvalidInput("sim fault_rate must be in [0, 1]");
    std::string fail = get("fail_fetch", "");
    if (!fail.empty()) {
      if (fail.rfind("retryable:", 0) != 0) {
        throw Error::InvalidInput("sim fail_fetch must look like retryable:N");
      }
      failures_left_ = std::stoi(fail.substr(10));
    }
  }

  std::string_view name() const override { return "sim"; }

  FetchResult fetch(const FetchRequest& request) override {
    if (request.symbol.empty()) throw Error::InvalidInput("the sim vendor needs a symbol");
    if (request.to < request.from) {
      throw Error::InvalidInput(fmt::format("sim: from {} is after to {}", request.from.to_string(),
                                            request.to.to_string()));
    }
    if (request.from < kOrigin) {
      throw Error::InvalidInput(fmt::format("sim: data starts at {}", kOrigin.to_string()));
    }
    if (latency_ms_ > 0) std::this_thread::sleep_for(std::chrono::milliseconds(latency_ms_));
    if (failures_left_ > 0) {
      --failures_left_;
      throw Error::Retryable("sim: injected transient failure (fail_fetch)");
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
    const double drift = -0.05 + 0.20 * params.uniform();    // annual
    const double vol = 0.15 + 0.30 * params.uniform();       // annual
    const double mu = drift / 252.0 - 0.5 * vol * vol / 252.0, sigma = vol / std::sqrt(252.0);
    const double base_volume = 2e5 + 5e6 * params.uniform();
    SplitMix64 rng{symbol_hash ^ 0xA5A5A5A5DEADBEEFULL};

    std::string out = "ts,session_date,open,high,low,close,volume\n";
    out.reserve(out.size() + static_cast<size_t>(to - from + 1) * 64);
    double prev_close = start_price;
    for (Date day = kOrigin; day <= to; day = day + 1) {
      if (!calendar.is_session(day)) continue;
      // Five draws per session, always, so the path never depends on the window or on faults.
      const double z_close = rng.normal(), z_gap = rng.normal(), z_high = rng.normal(),
                   z_low = rng.normal(), z_vol = rng.normal();
      const double open = prev_close * std::exp(0.25 * sigma * z_gap);
      const double close = open * std::exp(mu + sigma * z_close);
      const double high = std::max(open, close) * std::exp(0.3 * sigma * std::fabs(z_high));
      const double low = std::min(open, close) * std::exp(-0.3 * sigma * std::fabs(z_low));
      const double volume = std::round(base_volume * std::exp(0.4 * z_vol));
      prev_close = close;
      if (day < from) continue;
      double o = round4(open), h = round4(high), l = round4(low), c = round4(close), v = volume;
      const std::string ts = format_ts_ns(calendar.session_open_ts_ns(day));
      const std::string date = day.to_string();
      bool duplicate = false;
      if (fault_rate_ > 0) {
        SplitMix64 fault{symbol_hash ^ static_cast<uint64_t>(day.days_since_epoch()) * 0x9E3779B97F4A7C15ULL};
        if (fault.uniform() < fault_rate_) {
          switch (fault.next() % 4) {
            case 0: std::swap(h, l); break;   // high below low
            case 1: v = -v; break;            // negative volume
            case 2: c = 0; break;             // non-positive price
            case 3: duplicate = true; break;  // the same timestamp twice
          }
        }
      }
      out += fmt::format("{},{},{},{},{},{},{}\n", ts, date, o, h, l, c, v);
      if (duplicate) out += fmt::format("{},{},{},{},{},{},{}\n", ts, date, o, h, l, round4(c * 1.01), v);
    }
    return out;
  }

  uint64_t seed_ = 42;
  double fault_rate_ = 0;
  int latency_ms_ = 0;
  int failures_left_ = 0;
};

}  // namespace

std::unique_ptr<Provider> make_sim_provider(const ProviderOptions& options) {
  return std::make_unique<SimProvider>(options);
}

}  // namespace trib::providers

// The Stooq mock: GET /q/d/l/?s=spy.us&i=d[&d1=YYYYMMDD&d2=YYYYMMDD], Stooq's CSV download
// (Date,Open,High,Low,Close,Volume, ascending, CRLF line ends, prices rounded to at most 3
// decimals). No key.
//   - s=spy.us answers from the recording vendor-samples/stooq/spy_us_daily.csv: the whole file as
//     recorded without d1/d2, its rows inside [d1, d2] with them;
//   - other symbols get synthetic_daily_bars() (from 2000-01-03 without a window);
//   - unknown_symbol(): HTTP 200 with the body "No data" — what stooq.com really sends for a symbol
//     it does not have (and for a window without rows); there is no 404;
//   - vendor_error(): HTTP 200 "Exceeded the daily hits limit", Stooq's plain-text refusal once a
//     client has downloaded too much in a day.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <string>

#include <fmt/format.h>

#include "mock_vendor.hpp"

namespace trib::testing {
namespace {

std::optional<Date> compact_date(const std::string& text) {
  if (text.size() != 8) return std::nullopt;
  return Date::try_parse(text.substr(0, 4) + "-" + text.substr(4, 2) + "-" + text.substr(6, 2));
}

MockAnswer text_answer(std::string body) { return {200, "text/plain; charset=utf-8", std::move(body), {}}; }

class Routes final : public VendorRoutes {
 public:
  std::string name() const override { return "stooq"; }

  std::optional<MockAnswer> check_auth(const MockRequest&) const override { return std::nullopt; }

  std::optional<MockAnswer> handle(const MockRequest& r) const override {
    if (r.path != "/q/d/l/" && r.path != "/q/d/l") return std::nullopt;
    std::string s = r.param("s");
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    if (s.empty() || r.param("i", "d") != "d") return text_answer("No data");
    const bool windowed = r.has_param("d1") || r.has_param("d2");
    const auto d1 = compact_date(r.param("d1", "19000101"));
    const auto d2 = compact_date(r.param("d2", "21001231"));
    if (!d1 || !d2) return text_answer("No data");
    std::string filename = s + "_d.csv";  // spy.us -> spy_us_d.csv
    std::erase(filename, '^');
    std::replace(filename.begin(), filename.end() - 4, '.', '_');
    std::vector<std::pair<std::string, std::string>> headers{
        {"Content-Disposition", "attachment;filename=" + filename}};

    if (s == "spy.us") {
      const std::string recorded = read_vendor_sample("stooq/spy_us_daily.csv");
      if (!windowed) return MockAnswer{200, "text/csv", recorded, headers};
      std::string out;
      size_t rows = 0, start = 0;
      while (start < recorded.size()) {
        size_t end = recorded.find('\n', start);
        end = end == std::string::npos ? recorded.size() : end + 1;
        const std::string line = recorded.substr(start, end - start);
        if (start == 0) {
          out += line;  // header
        } else if (auto d = Date::try_parse(line.substr(0, 10)); d && *d >= *d1 && *d <= *d2) {
          out += line;
          ++rows;
        }
        start = end;
      }
      if (rows == 0) return text_answer("No data");
      return MockAnswer{200, "text/csv", out, headers};
    }

    const Date today = Date::today_utc();
    const Date from = windowed ? *d1 : Date::parse("2000-01-03");
    const Date to = std::min(windowed ? *d2 : today, today);
    const auto bars = synthetic_daily_bars(symbol_of(r), from, to);
    if (bars.empty()) return text_answer("No data");
    std::string out = "Date,Open,High,Low,Close,Volume\r\n";
    auto price = [](double v) { return std::round(v * 1000.0) / 1000.0; };
    for (const SynthBar& b : bars) {
      out += fmt::format("{},{},{},{},{},{:.0f}\r\n", b.date.to_string(), price(b.open), price(b.high), price(b.low),
                         price(b.close), b.volume);
    }
    return MockAnswer{200, "text/csv", out, headers};
  }

  MockAnswer vendor_error(const MockRequest&) const override { return text_answer("Exceeded the daily hits limit"); }

  MockAnswer unknown_symbol(const MockRequest&) const override { return text_answer("No data"); }

  // The platform's symbol for a Stooq one: aapl.us -> AAPL, brk-b.us -> BRK.B, ^spx -> ^SPX.
  std::string symbol_of(const MockRequest& r) const override {
    std::string s = r.param("s");
    if (s.size() > 3 && s.ends_with(".us")) {
      s.resize(s.size() - 3);
      std::replace(s.begin(), s.end(), '-', '.');
    }
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::toupper(c); });
    return s;
  }
};

}  // namespace

std::unique_ptr<VendorRoutes> make_stooq_routes() { return std::make_unique<Routes>(); }

}  // namespace trib::testing

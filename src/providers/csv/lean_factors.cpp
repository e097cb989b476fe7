#include "lean_factors.hpp"

#include <cmath>
#include <string>

#include <fmt/format.h>

#include "trib/core/calendar.hpp"
#include "trib/core/error.hpp"
#include "trib/providers/parse_util.hpp"

namespace trib::providers {
namespace {

std::optional<double> number(std::string_view s) {
  std::string text(s);
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

}  // namespace

std::vector<AdjustmentFactor> parse_lean_factor_file(std::string_view text) {
  std::vector<AdjustmentFactor> rows;
  size_t line_no = 0;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    std::vector<std::string_view> f;
    size_t start = 0;
    while (true) {
      const size_t comma = line.find(',', start);
      f.push_back(line.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
      if (comma == std::string_view::npos) break;
      start = comma + 1;
    }
    auto bad = [&](const std::string& what) {
      return Error::InvalidInput(fmt::format("Lean factor file line {}: {} (expected yyyyMMdd,price_factor,"
                                             "split_factor,reference_price): {}",
                                             line_no, what, one_line_excerpt(line, 80)));
    };
    if (f.size() != 4) throw bad(fmt::format("{} field(s)", f.size()));
    std::optional<Date> date;
    if (f[0].size() == 8) {
      date = Date::try_parse(fmt::format("{}-{}-{}", f[0].substr(0, 4), f[0].substr(4, 2), f[0].substr(6, 2)));
    }
    if (!date) throw bad("the date is not yyyyMMdd");
    const auto price = number(f[1]), split = number(f[2]), reference = number(f[3]);
    if (!price || !split || !reference || *price <= 0 || *split <= 0 || *reference < 0) {
      throw bad("a factor is not a positive number");
    }
    if (!rows.empty() && !(rows.back().through < *date)) throw bad("the dates do not ascend");
    rows.push_back({*date, *split, *price, *reference});
  }
  return rows;
}

std::vector<CorporateAction> actions_from_lean_factors(const std::vector<AdjustmentFactor>& rows,
                                                       const Symbol& symbol) {
  std::vector<CorporateAction> out;
  const TradingCalendar& nyse = TradingCalendar::nyse();
  for (size_t i = 0; i + 1 < rows.size(); ++i) {
    const AdjustmentFactor& earlier = rows[i];
    const AdjustmentFactor& later = rows[i + 1];
    const Date ex = nyse.next_session(earlier.through);
    // Factors are printed to 7-8 digits: a relative change below that is no event.
    if (std::abs(later.split / earlier.split - 1) > 1e-6) {
      CorporateAction a;
      a.kind = CorporateAction::Kind::kSplit;
      a.symbol = symbol;
      a.ex_date = ex;
      // As the file encodes it: its factors are printed to ~7 digits (AAPL's 2-for-1 reads as
      // 1.9999994), and rounding to a "nice" ratio would break GOOG's 2014 class-C adjustment
      // (0.997307) and reverse splits.
      a.split_ratio = later.split / earlier.split;
      out.push_back(a);
    }
    if (std::abs(earlier.dividend / later.dividend - 1) > 1e-9) {
      CorporateAction a;
      a.kind = CorporateAction::Kind::kDividend;
      a.symbol = symbol;
      a.ex_date = ex;
      a.cash_amount = (1 - earlier.dividend / later.dividend) * earlier.reference_close;
      a.currency = "USD";
      a.reference_price = earlier.reference_close;  // kept: the close the factor was computed on
      out.push_back(a);
    }
  }
  return out;
}

}  // namespace trib::providers

#include "trib/core/money.hpp"

#include <cmath>
#include <cstdlib>

#include <fmt/format.h>

#include "trib/core/error.hpp"

namespace trib {
namespace {

constexpr double kMaxUnits = 9.2e12;

Micros checked(__int128 value, std::string_view what) {
  if (value > INT64_MAX || value < INT64_MIN) {
    throw Error::InvalidInput(fmt::format("{}: the result does not fit in micro-units", what));
  }
  return Micros::from_raw(static_cast<int64_t>(value));
}

// n / d rounded half away from zero.
__int128 round_div(__int128 n, __int128 d) {
  const bool negative = (n < 0) != (d < 0);
  __int128 an = n < 0 ? -n : n, ad = d < 0 ? -d : d;
  __int128 q = (an + ad / 2) / ad;
  return negative ? -q : q;
}

}  // namespace

Micros Micros::from_double(double units) {
  if (!std::isfinite(units) || std::fabs(units) > kMaxUnits) {
    throw Error::InvalidInput(fmt::format("{} is not a finite amount within +-9.2e12", units));
  }
  return Micros(static_cast<int64_t>(std::llround(units * kPerUnit)));
}

Micros Micros::parse(const std::string& text) {
  auto bad = [&] {
    return Error::InvalidInput(fmt::format(
        "'{}' is not a decimal amount with at most 6 decimals (e.g. 100, -2.5, 0.000001)", text));
  };
  size_t i = 0;
  bool negative = false;
  if (i < text.size() && (text[i] == '-' || text[i] == '+')) negative = text[i++] == '-';
  __int128 whole = 0;
  size_t digits = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
    whole = whole * 10 + (text[i++] - '0');
    if (++digits > 13) throw bad();
  }
  __int128 frac = 0;
  int frac_digits = 0;
  if (i < text.size() && text[i] == '.') {
    ++i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      if (++frac_digits > 6) throw bad();
      frac = frac * 10 + (text[i++] - '0');
    }
  }
  if (i != text.size() || (digits == 0 && frac_digits == 0)) throw bad();
  for (int k = frac_digits; k < 6; ++k) frac *= 10;
  __int128 total = whole * kPerUnit + frac;
  return checked(negative ? -total : total, text);
}

std::string Micros::to_string() const {
  const bool negative = micros_ < 0;
  const unsigned long long a = negative ? 0ULL - static_cast<unsigned long long>(micros_)
                                        : static_cast<unsigned long long>(micros_);
  std::string out = fmt::format("{}{}", negative ? "-" : "", a / kPerUnit);
  unsigned long long frac = a % kPerUnit;
  if (frac != 0) {
    std::string f = fmt::format("{:06d}", frac);
    while (!f.empty() && f.back() == '0') f.pop_back();
    out += "." + f;
  }
  return out;
}

Micros mul(Micros a, Micros b) {
  const __int128 product = static_cast<__int128>(a.raw()) * b.raw();
  return checked(round_div(product, Micros::kPerUnit), "multiplication");
}

Micros div(Micros a, Micros b) {
  if (b.is_zero()) throw Error::InvalidInput("division of an amount by zero");
  return checked(round_div(static_cast<__int128>(a.raw()) * Micros::kPerUnit, b.raw()), "division");
}

}  // namespace trib

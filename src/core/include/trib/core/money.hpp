// Exact money and quantities: integer micro-units (1e-6). The ledger stores and adds these, so a
// position or a cash balance never drifts the way a sum of doubles does. Prices from vendors are
// doubles (as traded); they become Micros at the ledger's boundary, rounded half away from zero.
#pragma once

#include <compare>
#include <cstdint>
#include <string>

namespace trib {

class Micros {
 public:
  static constexpr int64_t kPerUnit = 1'000'000;

  constexpr Micros() = default;
  static constexpr Micros from_raw(int64_t micros) { return Micros(micros); }
  // Rounds to the nearest micro-unit; Error::InvalidInput for a non-finite value or one beyond
  // +-9.2e12 units (what int64 micro-units hold).
  static Micros from_double(double units);
  // Parses "123", "-0.5", "1.234567" exactly (at most 6 decimals); Error::InvalidInput otherwise.
  static Micros parse(const std::string& text);

  constexpr int64_t raw() const { return micros_; }
  double to_double() const { return static_cast<double>(micros_) / kPerUnit; }
  // "-12.5", "3", "0.000001": the shortest exact decimal.
  std::string to_string() const;

  constexpr auto operator<=>(const Micros&) const = default;
  constexpr Micros operator+(Micros o) const { return Micros(micros_ + o.micros_); }
  constexpr Micros operator-(Micros o) const { return Micros(micros_ - o.micros_); }
  constexpr Micros operator-() const { return Micros(-micros_); }
  Micros& operator+=(Micros o) { micros_ += o.micros_; return *this; }
  Micros& operator-=(Micros o) { micros_ -= o.micros_; return *this; }
  constexpr bool is_zero() const { return micros_ == 0; }

 private:
  constexpr explicit Micros(int64_t micros) : micros_(micros) {}
  int64_t micros_ = 0;
};

// a * b (quantity x price) exactly in 128 bits, rounded half away from zero to micro-units.
// Error::InvalidInput when the result does not fit.
Micros mul(Micros a, Micros b);
// a / b rounded half away from zero (an average price); Error::InvalidInput when b is zero.
Micros div(Micros a, Micros b);

}  // namespace trib

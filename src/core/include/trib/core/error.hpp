// core: value types, calendars, errors, config, logging and hashing shared by every module.
// It knows nothing about storage, vendors or trading; everything else may depend on it.
//
// Error policy (see docs/architecture.md): an error that ends the current operation is thrown
// as trib::Error carrying a category; callers that must decide what to do next (a queue worker:
// retry, back off, poison; the CLI: which exit code) switch on the category. Expected outcomes
// are values, never exceptions: a risk denial, a quarantined row, "partition unchanged".
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace trib {

// What the caller should do about an error. Persistent (written to run records): do not renumber.
enum class ErrorCategory {
  kInvalidInput = 1,  // the caller's input is wrong; fix it, do not retry
  kNotFound = 2,      // a named thing does not exist
  kConflict = 3,      // lost a race or a precondition changed; retry the whole operation
  kRetryable = 4,     // transient (network, busy); retry with backoff
  kRateLimited = 5,   // the peer asked us to slow down; back off longer
  kPermanent = 6,     // will fail the same way again (bad credentials, 404 symbol)
  kDataLoss = 7,      // corrupt or truncated data
  kInternal = 8,      // a bug: an invariant did not hold
};

std::string_view to_string(ErrorCategory category);

class Error : public std::runtime_error {
 public:
  Error(ErrorCategory category, std::string message);

  ErrorCategory category() const { return category_; }
  // True when running the same operation again may succeed.
  bool retryable() const;

  static Error InvalidInput(std::string message) { return {ErrorCategory::kInvalidInput, std::move(message)}; }
  static Error NotFound(std::string message) { return {ErrorCategory::kNotFound, std::move(message)}; }
  static Error Conflict(std::string message) { return {ErrorCategory::kConflict, std::move(message)}; }
  static Error Retryable(std::string message) { return {ErrorCategory::kRetryable, std::move(message)}; }
  static Error RateLimited(std::string message) { return {ErrorCategory::kRateLimited, std::move(message)}; }
  static Error Permanent(std::string message) { return {ErrorCategory::kPermanent, std::move(message)}; }
  static Error DataLoss(std::string message) { return {ErrorCategory::kDataLoss, std::move(message)}; }
  static Error Internal(std::string message) { return {ErrorCategory::kInternal, std::move(message)}; }

 private:
  ErrorCategory category_;
};

// One-line precondition check: TRIB_CHECK(cond, Error::Internal("...")).
#define TRIB_CHECK(cond, error) \
  do {                          \
    if (!(cond)) throw(error);  \
  } while (0)

}  // namespace trib

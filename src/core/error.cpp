#include "trib/core/error.hpp"

namespace trib {

std::string_view to_string(ErrorCategory category) {
  switch (category) {
    case ErrorCategory::kInvalidInput: return "invalid-input";
    case ErrorCategory::kNotFound: return "not-found";
    case ErrorCategory::kConflict: return "conflict";
    case ErrorCategory::kRetryable: return "retryable";
    case ErrorCategory::kRateLimited: return "rate-limited";
    case ErrorCategory::kPermanent: return "permanent";
    case ErrorCategory::kDataLoss: return "data-loss";
    case ErrorCategory::kInternal: return "internal";
  }
  return "unknown";
}

Error::Error(ErrorCategory category, std::string message)
    : std::runtime_error(std::move(message)), category_(category) {}

bool Error::retryable() const {
  return category_ == ErrorCategory::kConflict || category_ == ErrorCategory::kRetryable ||
         category_ == ErrorCategory::kRateLimited;
}

}  // namespace trib

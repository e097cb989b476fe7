#include "queue_common.hpp"

#include <sys/random.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "trib/core/error.hpp"

namespace trib::queue::detail {
namespace {

constexpr size_t kMaxDedupeKeyBytes = 1024;

}  // namespace

size_t first_bad_text_byte(std::string_view text) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    const unsigned char c = bytes[i];
    if (c == 0) return i;
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len = 0;
    unsigned char lo = 0x80, hi = 0xbf;  // the allowed range of the second byte
    if (c >= 0xc2 && c <= 0xdf) {
      len = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
      len = 3;
      if (c == 0xe0) lo = 0xa0;  // overlong
      if (c == 0xed) hi = 0x9f;  // surrogates
    } else if (c >= 0xf0 && c <= 0xf4) {
      len = 4;
      if (c == 0xf0) lo = 0x90;  // overlong
      if (c == 0xf4) hi = 0x8f;  // above U+10FFFF
    } else {
      return i;
    }
    if (i + len > n) return i;
    if (bytes[i + 1] < lo || bytes[i + 1] > hi) return i;
    for (size_t k = 2; k < len; ++k) {
      if (bytes[i + k] < 0x80 || bytes[i + k] > 0xbf) return i;
    }
    i += len;
  }
  return std::string_view::npos;
}

std::string random_hex128() {
  unsigned char bytes[16];
  size_t got = 0;
  while (got < sizeof bytes) {
    const ssize_t n = ::getrandom(bytes + got, sizeof bytes - got, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw Error::Internal(fmt::format("getrandom failed: {}", std::strerror(errno)));
    }
    got += static_cast<size_t>(n);
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(32, '0');
  for (size_t i = 0; i < sizeof bytes; ++i) {
    out[2 * i] = kHex[bytes[i] >> 4];
    out[2 * i + 1] = kHex[bytes[i] & 0xf];
  }
  return out;
}

void check_queue_name(const std::string& name) {
  bool ok = name.size() >= 3 && name.size() <= kMaxQueueNameBytes && name.front() != '-' &&
            name.back() != '-' && name.find("--") == std::string::npos;
  for (char c : name) ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-');
  if (!ok) {
    throw Error::InvalidInput(fmt::format(
        "queue name '{}' is invalid: use 3-{} lowercase letters, digits and single hyphens, "
        "starting and ending with a letter or digit (Azure's queue naming rule; {} and not 63 so "
        "that '<name>{}' fits it too)",
        name, kMaxQueueNameBytes, kMaxQueueNameBytes, kPoisonSuffix));
  }
}

void check_options(const std::string& name, const QueueOptions& options) {
  if (options.max_attempts < 1) {
    throw Error::InvalidInput(fmt::format("queue '{}': max_attempts must be at least 1 ({})",
                                          name, options.max_attempts));
  }
}

void check_body(const std::string& queue, const std::string& body) {
  if (body.size() > kMaxBodyBytes) {
    throw Error::InvalidInput(fmt::format(
        "queue '{}': message body of {} bytes exceeds the {} byte limit", queue, body.size(),
        kMaxBodyBytes));
  }
  const size_t bad = first_bad_text_byte(body);
  if (bad != std::string::npos) {
    throw Error::InvalidInput(fmt::format(
        "queue '{}': message body is not UTF-8 text without NUL bytes (byte {} of {} is 0x{:02x})",
        queue, bad, body.size(), static_cast<unsigned char>(body[bad])));
  }
}

void check_dedupe_key(const std::string& queue, const std::string& key) {
  if (key.empty() || key.size() > kMaxDedupeKeyBytes ||
      first_bad_text_byte(key) != std::string::npos) {
    throw Error::InvalidInput(fmt::format(
        "queue '{}': a dedupe key must be 1-{} bytes of UTF-8 text without NUL bytes ({} bytes "
        "given)",
        queue, kMaxDedupeKeyBytes, key.size()));
  }
}

int64_t checked_seconds(std::chrono::seconds s, std::string_view what, const std::string& queue) {
  if (s.count() < 0) {
    throw Error::InvalidInput(
        fmt::format("queue '{}': {} must not be negative ({} s)", queue, what, s.count()));
  }
  return s.count();
}

std::string lease_expired_error(int dequeue_count) {
  return fmt::format("lease expired after {} deliveries", dequeue_count);
}

std::string gone_message(const std::string& queue, const std::string& id) {
  return fmt::format("queue '{}': message {} is gone (removed, poisoned or never here)", queue,
                     id);
}

std::string stale_receipt_message(const std::string& queue, const std::string& id) {
  return fmt::format(
      "queue '{}': pop receipt for message {} is stale (its lease ended and it was released or "
      "received again)",
      queue, id);
}

}  // namespace trib::queue::detail

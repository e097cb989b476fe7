#include "trib/core/log.hpp"

#include <mutex>
#include <regex>
#include <vector>

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "trib/core/error.hpp"

namespace trib::log {
namespace {

struct State {
  std::mutex mutex;
  std::vector<std::string> secrets;
  std::shared_ptr<spdlog::logger> logger;
  State() {
    logger = std::make_shared<spdlog::logger>(
        "trib", std::make_shared<spdlog::sinks::stderr_sink_mt>());
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ %v", spdlog::pattern_time_type::utc);
    logger->set_level(spdlog::level::warn);
  }
};

State& state() {
  static State s;
  return s;
}

const std::regex& secret_pattern() {
  // key=value, key: value, "key":"value", Authorization: <scheme> <value>; a trailing "-key"
  // is part of the key (APCA-API-SECRET-KEY: <value>).
  static const std::regex re(
      R"((["']?(?:api[_-]?key|apikey|access[_-]?token|token|secret|password|passwd|signature|sig|authorization|account[_-]?key|client[_-]?secret)(?:[_-]?key)?["']?\s*[:=]\s*["']?)((?:Bearer |SharedKey |Basic )?[^\s"'&,;}]+))",
      std::regex::icase);
  return re;
}

}  // namespace

void set_level(Level level) {
  static const spdlog::level::level_enum map[] = {spdlog::level::debug, spdlog::level::info,
                                                  spdlog::level::warn, spdlog::level::err,
                                                  spdlog::level::off};
  state().logger->set_level(map[static_cast<int>(level)]);
}

Level parse_level(std::string_view text) {
  if (text == "debug") return Level::kDebug;
  if (text == "info") return Level::kInfo;
  if (text == "warn") return Level::kWarn;
  if (text == "error") return Level::kError;
  if (text == "off") return Level::kOff;
  throw Error::InvalidInput(fmt::format(
      "log level '{}' is not known; use debug, info, warn, error or off", text));
}

void register_secret(std::string value) {
  if (value.size() < 4) return;
  std::lock_guard lock(state().mutex);
  state().secrets.push_back(std::move(value));
}

std::string redact(std::string_view text) {
  std::string out(text);
  {
    std::lock_guard lock(state().mutex);
    for (const auto& secret : state().secrets) {
      for (size_t pos = out.find(secret); pos != std::string::npos; pos = out.find(secret, pos)) {
        out.replace(pos, secret.size(), "***");
      }
    }
  }
  return std::regex_replace(out, secret_pattern(), "$1***");
}

void write(Level level, std::string_view message) {
  auto& logger = *state().logger;
  static const spdlog::level::level_enum map[] = {spdlog::level::debug, spdlog::level::info,
                                                  spdlog::level::warn, spdlog::level::err,
                                                  spdlog::level::off};
  if (!logger.should_log(map[static_cast<int>(level)])) return;
  logger.log(map[static_cast<int>(level)], "{}", redact(message));
}

}  // namespace trib::log

// Logging to stderr through spdlog, with secret redaction applied to every line.
//
// Redaction has two layers: values registered with register_secret() (API keys read from the
// environment) are replaced wherever they appear, and key=value / "key": "value" / header forms
// whose key looks secret (apikey, api_key, token, secret, password, signature, sig,
// authorization) have their value masked. Thread-safe.
#pragma once

#include <string>
#include <string_view>

#include <fmt/format.h>

namespace trib::log {

enum class Level { kDebug, kInfo, kWarn, kError, kOff };

void set_level(Level level);
Level parse_level(std::string_view text);  // debug|info|warn|error|off
void register_secret(std::string value);   // values shorter than 4 characters are ignored
std::string redact(std::string_view text);

void write(Level level, std::string_view message);

template <typename... Args>
void debug(fmt::format_string<Args...> f, Args&&... args) { write(Level::kDebug, fmt::format(f, std::forward<Args>(args)...)); }
template <typename... Args>
void info(fmt::format_string<Args...> f, Args&&... args) { write(Level::kInfo, fmt::format(f, std::forward<Args>(args)...)); }
template <typename... Args>
void warn(fmt::format_string<Args...> f, Args&&... args) { write(Level::kWarn, fmt::format(f, std::forward<Args>(args)...)); }
template <typename... Args>
void error(fmt::format_string<Args...> f, Args&&... args) { write(Level::kError, fmt::format(f, std::forward<Args>(args)...)); }

}  // namespace trib::log

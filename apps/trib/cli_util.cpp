#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include <fmt/format.h>

#include "cli.hpp"
#include "trib/core/error.hpp"

namespace trib::cli {
namespace fs = std::filesystem;

std::string find_sp500_csv() {
  const char* rel = "node_modules/vega-datasets/data/sp500-2000.csv";
  if (const char* env = std::getenv("TRIB_SP500_CSV")) return env;
  for (fs::path base : {fs::current_path(), fs::path(TRIB_SOURCE_DIR)}) {
    if (fs::exists(base / rel)) return (base / rel).string();
  }
  throw Error::NotFound(fmt::format(
      "the demo's S&P 500 file ({}) is not installed; run scripts/install-deps, or point "
      "TRIB_SP500_CSV at a Yahoo-style daily CSV",
      rel));
}

namespace {
int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
}  // namespace

Progress::Progress(std::string label, int64_t total)
    : label_(std::move(label)), total_(total), tty_(::isatty(2) == 1) {}

void Progress::update(int64_t done, const std::string& detail) {
  if (!tty_) return;
  int64_t now = now_ms();
  if (now - last_ms_ < 100 && done < total_) return;
  last_ms_ = now;
  const int width = 30;
  int filled = total_ > 0 ? static_cast<int>(width * std::min(done, total_) / total_) : width;
  std::fprintf(stderr, "\r[%s] [%s%s] %lld/%lld %s\x1b[K", label_.c_str(),
               std::string(static_cast<size_t>(filled), '#').c_str(),
               std::string(static_cast<size_t>(width - filled), '.').c_str(),
               static_cast<long long>(done), static_cast<long long>(total_), detail.c_str());
  std::fflush(stderr);
}

void Progress::finish(const std::string& detail) {
  if (!tty_) return;
  update(total_, detail);
  std::fprintf(stderr, "\n");
}

}  // namespace trib::cli

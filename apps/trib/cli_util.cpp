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

nlohmann::json stats_json(const etl::EtlStats& s) {
  return {{"rows_in", s.rows_in},
          {"rows_accepted", s.rows_accepted},
          {"rows_quarantined", s.rows_quarantined},
          {"rows_outside_window", s.rows_outside_window},
          {"payloads_quarantined", s.payloads_quarantined},
          {"partitions_created", s.partitions_created},
          {"partitions_replaced", s.partitions_replaced},
          {"partitions_unchanged", s.partitions_unchanged},
          {"live_files_repaired", s.live_files_repaired},
          {"quarantined_by_rule", s.quarantined_by_rule}};
}

void print_etl_stats(const etl::EtlStats& s) {
  fmt::print("rows: {} in, {} curated, {} quarantined", s.rows_in, s.rows_accepted,
             s.rows_quarantined);
  if (s.rows_outside_window > 0) fmt::print(", {} outside the ingest window", s.rows_outside_window);
  fmt::print("\n");
  if (s.payloads_quarantined > 0) {
    fmt::print("payloads quarantined whole (unparseable): {}\n", s.payloads_quarantined);
  }
  fmt::print("partitions: {} created, {} replaced, {} unchanged\n", s.partitions_created,
             s.partitions_replaced, s.partitions_unchanged);
  if (s.live_files_repaired > 0) {
    fmt::print("live files repaired (left stale by a crash): {}\n", s.live_files_repaired);
  }
  for (const auto& [rule, count] : s.quarantined_by_rule) {
    fmt::print("  quarantined {:>6}  {}\n", count, rule);
  }
}

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

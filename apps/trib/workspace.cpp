#include "workspace.hpp"

#include <unistd.h>

#include <random>

#include <fmt/format.h>

#include "trib/core/error.hpp"
#include "trib/core/fs.hpp"
#include "trib/core/time.hpp"

namespace trib::cli {
namespace fs = std::filesystem;

Workspace Workspace::open(const fs::path& dir) {
  Workspace ws;
  ws.config = Config::load(dir);
  ws.store = lake::open_local_store(ws.config.lake.path);
  ws.catalog = catalog::open_sqlite_catalog(ws.config.catalog.path);
  return ws;
}

std::unique_ptr<queue::TaskQueue> Workspace::open_queue() const {
  queue::QueueOptions options;
  options.max_attempts = config.queue.max_attempts;
  return queue::open_embedded_queue(config.catalog.path, config.queue.name, options);
}

bool init_workspace(const fs::path& dir) {
  Config config = Config::defaults(dir);
  fs::path toml = config.workspace / "trib.toml";
  bool created = false;
  if (fs::exists(toml)) {
    config = Config::load(dir);
  } else {
    if (fs::exists(config.workspace) && !fs::is_directory(config.workspace)) {
      throw Error::InvalidInput(
          fmt::format("'{}' exists and is not a folder; pick another workspace path", dir.string()));
    }
    write_file_atomic(toml, config.to_toml());
    created = true;
  }
  fs::create_directories(config.lake.path);
  catalog::open_sqlite_catalog(config.catalog.path)->migrate();
  queue::open_embedded_queue(config.catalog.path, config.queue.name);
  return created;
}

std::string new_run_id(const std::string& kind) {
  int64_t now = now_ts_ns();
  std::string stamp = format_ts_ns(now - now % kNanosPerSecond);  // 2020-01-02T14:30:00Z
  std::string compact;
  for (char c : stamp) {
    if (c != '-' && c != ':' && c != 'Z') compact += c;
  }
  std::random_device rd;
  return fmt::format("{}-{}-{:04x}", kind, compact, (rd() ^ static_cast<unsigned>(::getpid())) & 0xffff);
}

}  // namespace trib::cli

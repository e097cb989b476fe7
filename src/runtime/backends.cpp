#include "trib/runtime/backends.hpp"

#include <unistd.h>

#include <random>

#include <fmt/format.h>

#include "trib/core/error.hpp"
#include "trib/core/fs.hpp"
#include "trib/core/time.hpp"

namespace trib::runtime {
namespace fs = std::filesystem;

namespace {

catalog::CatalogOptions catalog_options(const Config& config) {
  catalog::CatalogOptions options;
  options.hot_cache_sessions = config.hot_cache.sessions;
  return options;
}

// True when the lake holds anything a catalog should know about.
bool lake_has_data(lake::ObjectStore& store) {
  for (const char* zone : {"curated/", "raw/"}) {
    if (!store.list(zone).empty()) return true;
  }
  return false;
}

void check_catalog_present(const Config& config, lake::ObjectStore& store) {
  if (config.catalog.kind != "sqlite") return;
  std::error_code ec;
  const bool exists = fs::exists(config.catalog.path, ec);
  const bool empty = !exists || fs::file_size(config.catalog.path, ec) == 0;
  if (!empty || !lake_has_data(store)) return;
  throw Error::DataLoss(fmt::format(
      "catalog '{}' is {} but the lake at '{}' holds data; opening it would start an empty "
      "catalog that knows nothing of that data. Restore the catalog from a backup, or "
      "reconstruct it from the lake with `trib -w {} catalog rebuild`",
      config.catalog.path.string(), exists ? "empty (0 bytes)" : "missing",
      config.lake.path.string(), config.workspace.string()));
}

}  // namespace

namespace {

// The lake `config` names; `create`: make the container when missing (trib init).
std::unique_ptr<lake::ObjectStore> open_lake(const Config& config, bool create) {
  if (config.lake.kind == "local") return lake::open_local_store(config.lake.path);
  if (config.lake.kind == "azure") {
    lake::AzureStoreOptions options;
    options.container = config.lake.container;
    options.prefix = config.lake.prefix;
    options.create_container = create;
    const auto account = net::azure::account_from_environment({config.lake.account, config.lake.endpoint, ""});
    return lake::open_azure_store(account, options);
  }
  throw Error::InvalidInput(fmt::format("[lake] kind '{}' is not available", config.lake.kind));
}

}  // namespace

std::unique_ptr<lake::ObjectStore> Backends::open_store() const { return open_lake(config, false); }

namespace {

std::unique_ptr<catalog::Catalog> open_configured_catalog(const Config& config, bool read_only) {
  auto options = catalog_options(config);
  options.read_only = read_only;
  if (config.catalog.kind == "sqlite") return catalog::open_sqlite_catalog(config.catalog.path, options);
  if (config.catalog.kind == "postgres") return catalog::open_postgres_catalog(config.catalog.url, options);
  throw Error::InvalidInput(fmt::format("[catalog] kind '{}' is not available", config.catalog.kind));
}

}  // namespace

std::unique_ptr<catalog::Catalog> Backends::open_catalog() const { return open_configured_catalog(config, false); }

std::unique_ptr<catalog::Catalog> Backends::open_read_only_catalog() const {
  return open_configured_catalog(config, true);
}

std::unique_ptr<queue::TaskQueue> Backends::open_queue(const std::string& name) const {
  queue::QueueOptions options;
  options.max_attempts = config.queue.max_attempts;
  const std::string& queue_name = name.empty() ? config.queue.name : name;
  if (config.queue.kind == "embedded") {
    return queue::open_embedded_queue(config.catalog.path, queue_name, options);
  }
  if (config.queue.kind == "postgres") {
    return queue::open_postgres_queue(config.queue.url, queue_name, options);
  }
  if (config.queue.kind == "azure") {
    const auto account = net::azure::account_from_environment({config.queue.account, "", config.queue.endpoint});
    return queue::open_azure_queue(account, queue_name, options, /*create=*/false);
  }
  throw Error::InvalidInput(fmt::format("[queue] kind '{}' is not available", config.queue.kind));
}

std::string Backends::describe_catalog() const { return catalog ? catalog->describe() : ""; }

Backends open_backends(const Config& config, OpenOptions options) {
  if (config.queue.kind == "embedded" && config.catalog.kind != "sqlite") {
    throw Error::InvalidInput(fmt::format(
        "trib.toml: [queue] kind = \"embedded\" keeps the queue in the SQLite catalog file, but "
        "[catalog] kind = \"{}\"; set [queue] kind = \"{}\"",
        config.catalog.kind, config.catalog.kind));
  }
  Backends b;
  b.config = config;
  b.store = b.open_store();
  if (!options.allow_empty_catalog) check_catalog_present(config, *b.store);
  b.catalog = b.open_catalog();
  return b;
}

Backends open_workspace(const fs::path& dir, OpenOptions options) {
  return open_backends(Config::load(dir), options);
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
  if (config.lake.kind == "local") fs::create_directories(config.lake.path);
  if (config.lake.kind == "azure") open_lake(config, true);  // creates the container
  Backends b = open_backends(config);
  b.catalog->migrate();
  if (config.queue.kind == "azure") {  // creates the queue, its poison queue and the key markers' container
    queue::open_azure_queue(net::azure::account_from_environment({config.queue.account, "", config.queue.endpoint}),
                            config.queue.name, {config.queue.max_attempts}, /*create=*/true);
  } else {
    b.open_queue();  // creates its tables
  }
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
  return fmt::format("{}-{}-{:04x}", kind, compact,
                     (rd() ^ static_cast<unsigned>(::getpid())) & 0xffff);
}

}  // namespace trib::runtime

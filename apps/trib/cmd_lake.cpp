// lake ls | export: look into the configured lake (a local folder or an Azure container) and copy
// part of it to a local folder, e.g. for DuckDB, which reads only local files here.
#include <filesystem>
#include <iostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli.hpp"
#include "trib/core/error.hpp"
#include "trib/core/fs.hpp"
#include "trib/core/hash.hpp"
#include "workspace.hpp"

namespace trib::cli {
namespace fs = std::filesystem;

void add_lake_commands(CLI::App& app, Globals& g, Action& action) {
  auto* lake = app.add_subcommand("lake", "List the lake's objects or export them to a local folder (any [lake] kind)");
  lake->require_subcommand(1);
  {
    auto* cmd = lake->add_subcommand("ls", "Objects under a prefix (e.g. curated/bars/), with size and ETag");
    auto prefix = std::make_shared<std::string>();
    cmd->add_option("prefix", *prefix, "Folder-like prefix (default: everything)");
    cmd->add_flag("--json", g.json, "Machine-readable output");
    cmd->callback([&g, &action, prefix] {
      action = [&g, prefix] {
        Workspace ws = open_workspace(g.workspace);
        const auto objects = ws.store->list_info(*prefix);
        if (g.json) {
          nlohmann::json out = nlohmann::json::array();
          for (const auto& o : objects) out.push_back({{"key", o.key}, {"size", o.size}, {"etag", o.etag}});
          std::cout << out.dump(2) << "\n";
        } else {
          for (const auto& o : objects) fmt::print("{:>12}  {}\n", o.size, o.key);
        }
        return 0;
      };
    });
  }
  {
    auto* cmd = lake->add_subcommand(
        "export", "Copy the objects under a prefix to DIR/<key> (each file written atomically; files already equal are left alone)");
    auto dir = std::make_shared<std::string>();
    auto prefix = std::make_shared<std::string>();
    cmd->add_option("dir", *dir, "Local folder to write into")->required();
    cmd->add_option("--prefix", *prefix, "Only objects under this prefix, e.g. curated/ (default: everything)");
    cmd->add_flag("--json", g.json, "Machine-readable output");
    cmd->callback([&g, &action, dir, prefix] {
      action = [&g, dir, prefix] {
        Workspace ws = open_workspace(g.workspace);
        const fs::path root = fs::absolute(*dir);
        int64_t written = 0, unchanged = 0, bytes = 0;
        for (const auto& o : ws.store->list_info(*prefix)) {
          const fs::path target = root / o.key;
          const std::string data = ws.store->get(o.key);
          std::error_code ec;
          if (fs::is_regular_file(target, ec) && fs::file_size(target, ec) == data.size() &&
              sha256_hex(read_file(target)) == sha256_hex(data)) {
            ++unchanged;
            continue;
          }
          fs::create_directories(target.parent_path());
          write_file_atomic(target, data);
          ++written;
          bytes += static_cast<int64_t>(data.size());
        }
        if (g.json) {
          std::cout << nlohmann::json{{"dir", root.string()}, {"written", written}, {"unchanged", unchanged}, {"bytes", bytes}}.dump()
                    << "\n";
        } else {
          fmt::print("exported {} object(s), {} bytes, to {} ({} already there unchanged)\n", written, bytes, root.string(),
                     unchanged);
        }
        return 0;
      };
    });
  }
}

}  // namespace trib::cli

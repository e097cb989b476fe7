// parquet inspect | cat: a window into any flat Parquet file, ours or not.
#include <iostream>
#include <sstream>

#include "cli.hpp"
#include "trib/core/error.hpp"
#include "trib/lake/parquet.hpp"
#include "trib/lake/parquet_tool.hpp"

namespace trib::cli {

void add_parquet_commands(CLI::App& app, Globals& g, Action& action) {
  auto* parquet = app.add_subcommand("parquet", "Inspect or print any flat Parquet file (ours or another writer's)");
  parquet->require_subcommand(1);
  {
    auto* cmd = parquet->add_subcommand("inspect", "Schema, row groups, encodings, compression, statistics, key-value metadata");
    auto file = std::make_shared<std::string>();
    cmd->add_option("file", *file, "Parquet file")->required();
    cmd->add_flag("--json", g.json, "Machine-readable output");
    cmd->callback([&g, &action, file] {
      action = [&g, file] {
        parquet::Reader reader = parquet::Reader::open(*file);
        parquet::inspect(reader, std::cout, g.json);
        return 0;
      };
    });
  }
  {
    auto* cmd = parquet->add_subcommand("cat", "Print rows as CSV (dates YYYY-MM-DD, timestamps ISO-8601 UTC, nulls empty) or JSON Lines");
    auto file = std::make_shared<std::string>();
    auto options = std::make_shared<parquet::CatOptions>();
    auto columns = std::make_shared<std::string>();
    cmd->add_option("file", *file, "Parquet file")->required();
    cmd->add_option("--columns", *columns, "Comma-separated columns (default all)");
    cmd->add_option("--limit", options->limit, "At most N rows");
    cmd->add_option("--format", options->format, "csv (default) or json");
    cmd->add_option("--batch-rows", options->batch_rows, "Rows decoded at a time (bounds memory; default 65536)")
        ->check(CLI::PositiveNumber);
    cmd->callback([&action, file, options, columns] {
      action = [file, options, columns] {
        std::stringstream list(*columns);
        std::string name;
        while (std::getline(list, name, ',')) {
          if (!name.empty()) options->columns.push_back(name);
        }
        parquet::Reader reader = parquet::Reader::open(*file);
        parquet::cat(reader, *options, std::cout);
        std::cout.flush();
        return 0;
      };
    });
  }
}

}  // namespace trib::cli

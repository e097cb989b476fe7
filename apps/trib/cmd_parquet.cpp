// parquet inspect | cat: a window into any flat Parquet file, ours or not.
#include <iostream>

#include "cli.hpp"
#include "trib/core/error.hpp"
#include "trib/lake/parquet.hpp"

namespace trib::cli {

void add_parquet_commands(CLI::App& app, Globals& g, Action& action) {
  auto* parquet = app.add_subcommand("parquet", "Inspect or print any flat Parquet file");
  parquet->require_subcommand(1);
  (void)g;
  (void)action;
}

}  // namespace trib::cli

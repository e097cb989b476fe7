// trib: the Tributary command line. It wires modules together and owns no business logic.
#include <cstdio>
#include <iostream>

#include <CLI/CLI.hpp>

#include "cli.hpp"
#include "trib/core/config.hpp"
#include "trib/core/error.hpp"
#include "trib/core/log.hpp"

namespace {

// Exit codes (stable, for scripts): 0 ok, 1 failure, 2 invalid input, 3 not found, 4 conflict,
// 5 data loss, 70 internal error, 75 transient (retry later); commands stopped by Ctrl-C return
// 130 themselves.
int exit_code_for(trib::ErrorCategory category) {
  using trib::ErrorCategory;
  switch (category) {
    case ErrorCategory::kInvalidInput: return 2;
    case ErrorCategory::kNotFound: return 3;
    case ErrorCategory::kConflict: return 4;
    case ErrorCategory::kDataLoss: return 5;
    case ErrorCategory::kInternal: return 70;
    case ErrorCategory::kRetryable:
    case ErrorCategory::kRateLimited: return 75;
    case ErrorCategory::kPermanent: return 1;
  }
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace trib::cli;
  CLI::App app{"Tributary: market data in, curated Parquet, features, backtests and paper trading "
               "out. Runs on one machine with zero services.",
               "trib"};
  app.set_version_flag("--version", std::string(trib::code_version()));
  app.require_subcommand(1);
  app.fallthrough();
  Globals globals;
  if (const char* env = std::getenv("TRIB_WORKSPACE")) globals.workspace = env;
  app.add_option("-w,--workspace", globals.workspace,
                 "Workspace folder (holds trib.toml); default: $TRIB_WORKSPACE or .");
  app.add_option("--log-level", globals.log_level, "debug|info|warn|error|off (default warn)");
  app.footer(
      "Exit codes: 0 ok, 1 failure, 2 invalid input, 3 not found, 4 conflict, 5 data loss, "
      "70 internal, 75 transient, 130 interrupted (rerun to resume).\nRun `trib demo` for the "
      "whole pipeline on real data.");

  Action action;
  add_data_commands(app, globals, action);
  add_queue_commands(app, globals, action);
  add_research_commands(app, globals, action);
  add_parquet_commands(app, globals, action);
  add_lake_commands(app, globals, action);
  add_serve_commands(app, globals, action);
  add_universe_commands(app, globals, action);
  add_coverage_command(app, globals, action);
  add_actions_commands(app, globals, action);
  add_ml_commands(app, globals, action);
  add_trading_commands(app, globals, action);
  add_llm_commands(app, globals, action);
  add_demo_command(app, globals, action);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "trib: %s (see trib --help)\n", e.what());
    return 2;
  }
  try {
    trib::log::set_level(trib::log::parse_level(globals.log_level));
    return action ? action() : 0;
  } catch (const trib::Error& e) {
    std::fprintf(stderr, "trib: error: %s\n", trib::log::redact(e.what()).c_str());
    return exit_code_for(e.category());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "trib: internal error: %s\n", trib::log::redact(e.what()).c_str());
    return 70;
  }
}

// actions: corporate actions (splits, dividends, symbol changes, delistings) as the catalog knows
// them, point-in-time. `import` brings files in through the raw zone (so `trib etl --rebuild`
// records them again); `list` shows every source's version and which one readers use;
// `conflicts` shows where sources disagree.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <regex>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli.hpp"
#include "trib/core/error.hpp"
#include "trib/core/time.hpp"
#include "trib/etl/corporate_actions.hpp"
#include "trib/etl/etl.hpp"
#include "trib/ingest/fetch_handler.hpp"
#include "trib/providers/action_files.hpp"
#include "workspace.hpp"

namespace trib::cli {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

struct ActionsArgs {
  std::vector<std::string> paths;
  std::string source;
  std::string symbol;
  std::string as_of;
  std::string format = "table";
};

int64_t as_of_of(const std::string& text) {
  if (text.empty()) return INT64_MAX;
  // A date means the end of that day: what was known by then.
  if (text.size() == 10) return parse_ts_ns(text, "--as-of") + int64_t{86'400} * kNanosPerSecond - 1;
  return parse_ts_ns(text, "--as-of");
}

void check_format(const std::string& format) {
  if (format != "table" && format != "csv" && format != "json") {
    throw Error::InvalidInput(fmt::format("--format '{}' is not known; use table, csv or json", format));
  }
}

std::string value_of(const CorporateAction& a) {
  switch (a.kind) {
    case CorporateAction::Kind::kSplit: return fmt::format("{:.10g}", a.split_ratio);
    case CorporateAction::Kind::kDividend: return fmt::format("{:.10g}", a.cash_amount);
    case CorporateAction::Kind::kSymbolChange: return a.new_symbol;
    case CorporateAction::Kind::kDelisting: return "";
  }
  return "";
}

// The files a path names: a file, or every .csv under a Lean folder (factor_files/, map_files/
// or the folder holding them).
std::vector<fs::path> files_of(const std::string& path) {
  const fs::path p(path);
  std::error_code ec;
  if (fs::is_regular_file(p, ec)) return {p};
  if (!fs::is_directory(p, ec)) {
    throw Error::NotFound(fmt::format("{}: no such file or folder", path));
  }
  std::vector<fs::path> out;
  auto add_dir = [&](const fs::path& dir) {
    for (const auto& entry : fs::directory_iterator(dir)) {
      if (entry.is_regular_file() && entry.path().extension() == ".csv") out.push_back(entry.path());
    }
  };
  const std::string name = p.filename().empty() ? p.parent_path().filename().string() : p.filename().string();
  if (name == "factor_files" || name == "map_files") {
    add_dir(p);
  } else {
    for (const char* sub : {"factor_files", "map_files"}) {
      if (fs::is_directory(p / sub, ec)) add_dir(p / sub);
    }
    if (out.empty()) {
      throw Error::InvalidInput(fmt::format(
          "{} is a folder without factor_files/ or map_files/; name an actions CSV or a Lean data folder", path));
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

int run_import(const Globals& g, const ActionsArgs& args) {
  if (!args.source.empty() && !std::regex_match(args.source, std::regex("[a-z0-9_-]{1,32}"))) {
    throw Error::InvalidInput(fmt::format(
        "--source '{}' must be 1-32 of a-z, 0-9, _ and - (it names who reported the actions)", args.source));
  }
  struct Pending {
    fs::path path;
    providers::ActionFileKind kind;
    std::string bytes;
    std::string source;
    size_t actions = 0;
  };
  std::vector<Pending> files;
  for (const auto& path : args.paths) {
    for (const auto& file : files_of(path)) {
      Pending p;
      p.path = file;
      p.kind = providers::classify_action_file(file.generic_string());
      std::ifstream in(file, std::ios::binary);
      std::stringstream buffer;
      buffer << in.rdbuf();
      if (!in) throw Error::NotFound(fmt::format("{}: cannot be read", file.string()));
      p.bytes = buffer.str();
      p.source = !args.source.empty() ? args.source
                 : p.kind.format == providers::ActionFileFormat::kActionsCsv ? "user"
                                                                              : "lean";
      // Everything is checked before anything is stored: a file with a bad row is refused whole.
      const auto parsed = providers::parse_action_file(p.bytes, p.kind.format, p.kind.symbol);
      if (!parsed.findings.empty()) {
        std::string lines;
        for (size_t i = 0; i < parsed.findings.size() && i < 5; ++i) {
          const auto& f = parsed.findings[i];
          lines += fmt::format("; {}{}", f.line > 0 ? fmt::format("line {}: ", f.line) : "", f.reason);
        }
        if (parsed.findings.size() > 5) lines += fmt::format("; and {} more", parsed.findings.size() - 5);
        throw Error::InvalidInput(fmt::format("{}: {} row(s) are not valid actions, nothing was imported{}",
                                              file.string(), parsed.findings.size(), lines));
      }
      p.actions = parsed.actions.size();
      files.push_back(std::move(p));
    }
  }
  Workspace ws = open_workspace(g.workspace);
  etl::EtlEngine engine(*ws.store, *ws.catalog, etl::EtlOptions::from_config(ws.config));
  ingest::FetchHandler handler(*ws.store, *ws.catalog, &engine);
  size_t reported = 0;
  for (const auto& p : files) {
    ingest::RawOrigin origin;
    origin.vendor = "csv";
    origin.dataset = "actions";
    // Lean files: under their security's symbol (two securities' files may hold the same bytes).
    origin.symbol = p.kind.symbol;
    providers::FetchResult fetched;
    fetched.bytes = p.bytes;
    fetched.ext = "csv";
    fetched.content_type = "text/csv";
    fetched.request = {{"file", p.path.filename().string()},
                       {"format", std::string(providers::to_string(p.kind.format))},
                       {"symbol", p.kind.symbol.str()},
                       {"source", p.source}};
    handler.store(origin, fetched);
    reported += p.actions;
  }
  const auto& stats = engine.stats();
  if (g.json) {
    std::cout << json{{"files", files.size()}, {"actions_reported", reported},
                      {"versions_added", stats.actions_added},
                      {"quarantined", stats.actions_quarantined}}.dump() << "\n";
  } else {
    std::cout << fmt::format("imported {} file(s): {} action(s), {} new to the catalog{}\n", files.size(),
                             reported, stats.actions_added,
                             stats.actions_quarantined > 0
                                 ? fmt::format(", {} quarantined (see quarantine/actions/)", stats.actions_quarantined)
                                 : "");
  }
  return 0;
}

int run_list(const Globals& g, const ActionsArgs& args) {
  check_format(args.format);
  Workspace ws = open_workspace(g.workspace);
  const auto listed = actions_in_force(ws, args.symbol, args.as_of);
  const auto precedence = etl::ActionPrecedence::parse(ws.config.prices.action_precedence);
  std::vector<catalog::ActionRecord> all;
  for (const auto& [r, in_use] : listed) all.push_back(r);
  const size_t conflicts = etl::resolve_actions(all, precedence).conflicts.size();
  std::string out;
  if (args.format == "csv") {
    out += "symbol,kind,ex_date,value,pay_date,source,known_at,used,origin\n";
  } else if (args.format == "table") {
    out += fmt::format("{:<8} {:<14} {:<11} {:>12} {:<11} {:<13} {:<21} {}\n", "symbol", "kind", "ex_date", "value",
                       "pay_date", "source", "known_at", "used");
  }
  for (const auto& [r, in_use] : listed) {
    const auto& a = r.action;
    const std::string pay = a.pay_date ? a.pay_date->to_string() : "";
    if (args.format == "csv") {
      out += fmt::format("{},{},{},{},{},{},{},{},{}\n", a.symbol.str(), to_string(a.kind), a.ex_date.to_string(),
                         value_of(a), pay, r.source, format_ts_ns(r.knowledge_ts_ns), in_use ? "yes" : "no",
                         r.origin);
    } else if (args.format == "json") {
      out += action_json(r, in_use).dump() + "\n";
    } else {
      out += fmt::format("{:<8} {:<14} {:<11} {:>12} {:<11} {:<13} {:<21} {}\n", a.symbol.str(), to_string(a.kind),
                         a.ex_date.to_string(), value_of(a), pay, r.source,
                         format_ts_ns(r.knowledge_ts_ns).substr(0, 19), in_use ? "yes" : "no");
    }
  }
  if (args.format == "table") {
    out += fmt::format("{} version(s) in force{}; {} conflict(s) between sources (trib actions conflicts)\n",
                       listed.size(), args.as_of.empty() ? "" : " as of " + args.as_of, conflicts);
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

int run_conflicts(const Globals& g, const ActionsArgs& args) {
  check_format(args.format);
  const std::string symbol = args.symbol.empty() ? "" : Symbol::parse(args.symbol).str();
  Workspace ws = open_workspace(g.workspace);
  const auto known = ws.catalog->list_actions(symbol, as_of_of(args.as_of));
  const auto resolved = etl::resolve_actions(known, etl::ActionPrecedence::parse(ws.config.prices.action_precedence));
  std::string out;
  if (args.format == "csv") out += "symbol,kind,ex_date,chosen_source,reason\n";
  for (const auto& c : resolved.conflicts) {
    if (args.format == "csv") {
      out += fmt::format("{},{},{},{},\"{}\"\n", c.symbol.str(), to_string(c.kind), c.ex_date.to_string(),
                         c.chosen_source, c.reason);
    } else if (args.format == "json") {
      json sources = json::array();
      for (const auto& v : c.versions) {
        sources.push_back({{"source", v.source}, {"ex_date", v.action.ex_date.to_string()},
                           {"value", value_of(v.action)}});
      }
      out += json{{"symbol", c.symbol.str()}, {"kind", std::string(to_string(c.kind))},
                  {"ex_date", c.ex_date.to_string()}, {"chosen_source", c.chosen_source},
                  {"reason", c.reason}, {"versions", sources}}
                 .dump() +
             "\n";
    } else {
      out += fmt::format("{:<8} {:<9} {}  uses {}: {}\n", c.symbol.str(), to_string(c.kind), c.ex_date.to_string(),
                         c.chosen_source, c.reason);
    }
  }
  if (args.format == "table") {
    out += fmt::format("{} conflict(s); the source used follows [prices] action_precedence = \"{}\"\n",
                       resolved.conflicts.size(), ws.config.prices.action_precedence);
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

}  // namespace

std::vector<std::pair<catalog::ActionRecord, bool>> actions_in_force(Workspace& ws, const std::string& symbol_text,
                                                                     const std::string& as_of) {
  const std::string symbol = symbol_text.empty() ? "" : Symbol::parse(symbol_text).str();
  const auto known = ws.catalog->list_actions(symbol, as_of_of(as_of));
  // Which version readers use: the resolved actions, matched back to their records.
  const auto resolved = etl::resolve_actions(known, etl::ActionPrecedence::parse(ws.config.prices.action_precedence));
  std::vector<std::pair<catalog::ActionRecord, bool>> out;
  for (const auto& r : known) {
    out.emplace_back(r, std::find(resolved.chosen.begin(), resolved.chosen.end(), r) != resolved.chosen.end());
  }
  return out;
}

json action_json(const catalog::ActionRecord& r, bool used) {
  const auto& a = r.action;
  return {{"symbol", a.symbol.str()}, {"kind", std::string(to_string(a.kind))},
          {"ex_date", a.ex_date.to_string()}, {"split_ratio", a.split_ratio},
          {"cash_amount", a.cash_amount}, {"currency", a.currency},
          {"pay_date", a.pay_date ? a.pay_date->to_string() : ""}, {"new_symbol", a.new_symbol},
          {"reference_price", a.reference_price > 0 ? json(a.reference_price) : json(nullptr)},
          {"source", r.source}, {"known_at", format_ts_ns(r.knowledge_ts_ns)}, {"used", used}, {"origin", r.origin}};
}


void add_actions_commands(CLI::App& app, Globals& g, Action& action) {
  auto* cmd = app.add_subcommand(
      "actions", "Corporate actions (splits, dividends, symbol changes, delistings), point-in-time, by source");
  cmd->require_subcommand(1);
  {
    auto* sub = cmd->add_subcommand(
        "import",
        "Import actions from files through the raw zone: Lean factor/map files (a file, factor_files/, "
        "map_files/ or the folder holding them) or a CSV with a header symbol,kind,ex_date,ratio,amount,"
        "currency,pay_date,record_date,declared_date,new_symbol,retracted[,reference_price]. A file with a bad row is refused whole");
    auto args = std::make_shared<ActionsArgs>();
    sub->add_option("paths", args->paths, "Files or folders")->required();
    sub->add_option("--source", args->source, "Who reported them (default: lean for Lean files, user for a CSV)");
    sub->add_flag("--json", g.json, "Machine-readable output");
    sub->callback([&g, &action, args] { action = [&g, args] { return run_import(g, *args); }; });
  }
  {
    auto* sub = cmd->add_subcommand("list", "Every source's version of each action in force (and which one readers use)");
    auto args = std::make_shared<ActionsArgs>();
    sub->add_option("symbol", args->symbol, "Only this symbol (also as a symbol change's new ticker)");
    sub->add_option("--as-of", args->as_of, "What the catalog knew then (YYYY-MM-DD: end of that day, or a timestamp)");
    sub->add_option("--format", args->format, "table|csv|json (default table)");
    sub->callback([&g, &action, args] { action = [&g, args] { return run_list(g, *args); }; });
  }
  {
    auto* sub = cmd->add_subcommand("conflicts", "Actions that sources report differently, and the source used");
    auto args = std::make_shared<ActionsArgs>();
    sub->add_option("symbol", args->symbol, "Only this symbol");
    sub->add_option("--as-of", args->as_of, "What the catalog knew then");
    sub->add_option("--format", args->format, "table|csv|json (default table)");
    sub->callback([&g, &action, args] { action = [&g, args] { return run_conflicts(g, *args); }; });
  }
}

}  // namespace trib::cli

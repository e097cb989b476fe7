// universe add|remove|list: the instruments `trib update` keeps current; vendors: what each
// vendor is, its budget (defaults and trib.toml's overrides) and whether its key is set.
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli.hpp"
#include "trib/core/error.hpp"
#include "trib/core/symbol.hpp"
#include "trib/ingest/vendor_access.hpp"
#include "trib/providers/provider.hpp"
#include "workspace.hpp"

namespace trib::cli {
namespace {

struct UniverseArgs {
  std::vector<std::string> symbols;
  std::string file;
  std::string vendor;
  std::string dataset = "bars";
  std::string timeframe = "1d";
  std::string calendar = "nyse";
  std::string asset_class = "equity";
  std::string currency = "USD";
  std::string start = "2010-01-01";
};

const char* kAssetClasses[] = {"equity", "etf", "fx", "crypto", "rate", "index"};

// Checks one entry as the user wrote it; the message names the field and the fix.
void check_entry(const catalog::UniverseEntry& e, const std::string& where) {
  const providers::VendorInfo& info = providers::vendor_info(e.vendor);
  if (e.vendor == "csv") {
    throw Error::InvalidInput(where + "the csv vendor reads files you have (`trib ingest --vendor csv --file PATH`); "
                                      "the universe is for vendors the updater can ask");
  }
  bool dataset_ok = false;
  for (const auto& d : info.datasets) dataset_ok = dataset_ok || d == e.dataset;
  if (!dataset_ok) {
    std::string list;
    for (const auto& d : info.datasets) list += (list.empty() ? "" : ", ") + d;
    throw Error::InvalidInput(fmt::format("{}dataset '{}' is not served by {}; it serves: {}", where, e.dataset,
                                          e.vendor, list));
  }
  (void)parse_timeframe(e.timeframe);
  (void)TradingCalendar::by_name(e.calendar);
  bool class_ok = false;
  for (const char* c : kAssetClasses) class_ok = class_ok || e.asset_class == c;
  if (!class_ok) {
    throw Error::InvalidInput(fmt::format("{}asset class '{}' is not one of: equity, etf, fx, crypto, rate, index",
                                          where, e.asset_class));
  }
  if (e.currency.size() != 3) {
    throw Error::InvalidInput(fmt::format("{}currency '{}' is not a 3-letter ISO code (USD, EUR, ...)", where, e.currency));
  }
  (void)Date::parse(e.start_date, "start");
}

std::vector<std::string> split_csv_line(const std::string& line) {
  std::vector<std::string> out;
  std::string cell;
  std::istringstream in(line);
  while (std::getline(in, cell, ',')) {
    while (!cell.empty() && (cell.back() == ' ' || cell.back() == '\r')) cell.pop_back();
    while (!cell.empty() && cell.front() == ' ') cell.erase(cell.begin());
    out.push_back(cell);
  }
  return out;
}

// A CSV with a header naming any of: symbol (required), vendor, dataset, timeframe, calendar,
// asset_class, currency, start. Missing columns take the command line's values.
std::vector<catalog::UniverseEntry> read_universe_csv(const std::string& path, const catalog::UniverseEntry& base) {
  std::ifstream in(path);
  if (!in) throw Error::NotFound(fmt::format("{}: cannot open the universe file", path));
  std::string line;
  if (!std::getline(in, line)) throw Error::InvalidInput(fmt::format("{}: empty file; expected a header with a symbol column", path));
  const auto header = split_csv_line(line);
  std::map<std::string, size_t> col;
  for (size_t i = 0; i < header.size(); ++i) {
    std::string name = header[i];
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    col[name] = i;
  }
  if (!col.count("symbol")) {
    throw Error::InvalidInput(fmt::format(
        "{}: the header has no 'symbol' column; expected columns: symbol[,vendor,dataset,timeframe,calendar,"
        "asset_class,currency,start]", path));
  }
  std::vector<catalog::UniverseEntry> out;
  int line_no = 1;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.find_first_not_of(" \r\t") == std::string::npos) continue;
    const auto cells = split_csv_line(line);
    auto get = [&](const char* name, const std::string& fallback) {
      auto it = col.find(name);
      return it == col.end() || it->second >= cells.size() || cells[it->second].empty() ? fallback : cells[it->second];
    };
    catalog::UniverseEntry e = base;
    e.symbol = Symbol::parse(get("symbol", "")).str();
    e.vendor = get("vendor", base.vendor);
    e.dataset = get("dataset", base.dataset);
    e.timeframe = get("timeframe", base.timeframe);
    e.calendar = get("calendar", base.calendar);
    e.asset_class = get("asset_class", base.asset_class);
    e.currency = get("currency", base.currency);
    e.start_date = get("start", base.start_date);
    const std::string where = fmt::format("{} line {}: ", path, line_no);
    if (e.vendor.empty()) throw Error::InvalidInput(where + "no vendor: add a vendor column or pass --vendor");
    try {
      check_entry(e, where);
    } catch (const Error& err) {
      const std::string what = err.what();
      throw Error::InvalidInput(what.rfind(where, 0) == 0 ? what : where + what);
    }
    out.push_back(std::move(e));
  }
  return out;
}

nlohmann::json entry_json(const catalog::UniverseEntry& e) {
  return {{"symbol", e.symbol},       {"vendor", e.vendor},         {"dataset", e.dataset},
          {"timeframe", e.timeframe}, {"calendar", e.calendar},     {"asset_class", e.asset_class},
          {"currency", e.currency},   {"start", e.start_date},      {"status", e.status},
          {"status_reason", e.status_reason}};
}

}  // namespace

void add_universe_commands(CLI::App& app, Globals& g, Action& action) {
  auto* universe = app.add_subcommand(
      "universe", "The instruments `trib update` keeps current (symbol, vendor, dataset, timeframe, calendar, ...)");
  universe->require_subcommand(1);
  {
    auto* cmd = universe->add_subcommand("add", "Add instruments from arguments or a CSV file (symbol[,vendor,...] header)");
    auto args = std::make_shared<UniverseArgs>();
    cmd->add_option("symbols", args->symbols, "Symbols, e.g. AAPL MSFT");
    cmd->add_option("--file", args->file, "CSV with a header: symbol[,vendor,dataset,timeframe,calendar,asset_class,currency,start]");
    cmd->add_option("--vendor", args->vendor, "Vendor that serves them (see `trib vendors`)");
    cmd->add_option("--dataset", args->dataset, "bars (default) or rates (fred)");
    cmd->add_option("--timeframe", args->timeframe, "1d (default), 1h, 1m");
    cmd->add_option("--calendar", args->calendar, "Exchange calendar (default nyse)");
    cmd->add_option("--asset-class", args->asset_class, "equity (default), etf, fx, crypto, rate, index");
    cmd->add_option("--currency", args->currency, "Quote currency (default USD)");
    cmd->add_option("--start", args->start, "First date for an instrument never ingested (default 2010-01-01)");
    cmd->add_flag("--json", g.json, "Machine-readable output");
    cmd->callback([&g, &action, args] {
      action = [&g, args] {
        if (args->symbols.empty() && args->file.empty()) {
          throw Error::InvalidInput("universe add: give symbols (trib universe add AAPL MSFT --vendor polygon) or --file FILE.csv");
        }
        catalog::UniverseEntry base;
        base.vendor = args->vendor;
        base.dataset = args->dataset;
        base.timeframe = args->timeframe;
        base.calendar = args->calendar;
        base.asset_class = args->asset_class;
        base.currency = args->currency;
        base.start_date = args->start;
        std::vector<catalog::UniverseEntry> entries;
        if (!args->file.empty()) entries = read_universe_csv(args->file, base);
        for (const auto& s : args->symbols) {
          if (args->vendor.empty()) throw Error::InvalidInput("universe add: --vendor is required (see `trib vendors`)");
          catalog::UniverseEntry e = base;
          e.symbol = Symbol::parse(s).str();
          check_entry(e, "");
          entries.push_back(std::move(e));
        }
        Workspace ws = open_workspace(g.workspace);
        int added = 0, updated = 0;
        for (const auto& e : entries) (ws.catalog->upsert_universe(e) ? added : updated)++;
        if (g.json) {
          std::cout << nlohmann::json{{"added", added}, {"updated", updated}}.dump() << "\n";
        } else {
          fmt::print("universe: {} added, {} updated; {} instrument(s) in all\n", added, updated,
                     ws.catalog->list_universe().size());
        }
        return 0;
      };
    });
  }
  {
    auto* cmd = universe->add_subcommand("remove", "Remove instruments (their data stays in the lake)");
    auto args = std::make_shared<UniverseArgs>();
    cmd->add_option("symbols", args->symbols, "Symbols")->required();
    cmd->add_option("--vendor", args->vendor, "Vendor")->required();
    cmd->add_option("--dataset", args->dataset, "bars (default) or rates");
    cmd->add_option("--timeframe", args->timeframe, "1d (default)");
    cmd->callback([&g, &action, args] {
      action = [&g, args] {
        Workspace ws = open_workspace(g.workspace);
        int removed = 0;
        std::vector<std::string> absent;
        for (const auto& s : args->symbols) {
          const std::string symbol = Symbol::parse(s).str();
          if (ws.catalog->remove_universe(symbol, args->vendor, args->dataset, args->timeframe)) {
            ++removed;
          } else {
            absent.push_back(symbol);
          }
        }
        fmt::print("universe: {} removed", removed);
        if (!absent.empty()) {
          std::string list;
          for (const auto& a : absent) list += (list.empty() ? "" : ", ") + a;
          fmt::print("; not in the universe for {} {} {}: {}", args->vendor, args->dataset, args->timeframe, list);
        }
        fmt::print("\n");
        return absent.empty() ? 0 : 3;
      };
    });
  }
  {
    auto* cmd = universe->add_subcommand("list", "The instruments, with their status (unknown_symbol: the vendor does not know it)");
    auto vendor = std::make_shared<std::string>();
    cmd->add_option("--vendor", *vendor, "Only this vendor");
    cmd->add_flag("--json", g.json, "Machine-readable output");
    cmd->callback([&g, &action, vendor] {
      action = [&g, vendor] {
        Workspace ws = open_workspace(g.workspace);
        const auto entries = ws.catalog->list_universe(*vendor);
        if (g.json) {
          nlohmann::json out = nlohmann::json::array();
          for (const auto& e : entries) out.push_back(entry_json(e));
          std::cout << out.dump(2) << "\n";
          return 0;
        }
        fmt::print("{:<10} {:<13} {:<7} {:<4} {:<6} {:<7} {:<4} {:<10} {}\n", "symbol", "vendor", "dataset", "tf",
                   "cal", "class", "ccy", "start", "status");
        for (const auto& e : entries) {
          fmt::print("{:<10} {:<13} {:<7} {:<4} {:<6} {:<7} {:<4} {:<10} {}{}\n", e.symbol, e.vendor, e.dataset,
                     e.timeframe, e.calendar, e.asset_class, e.currency, e.start_date, e.status,
                     e.status_reason.empty() ? "" : " (" + e.status_reason + ")");
        }
        return 0;
      };
    });
  }
  {
    auto* cmd = app.add_subcommand("vendors", "The vendors: budget in force (defaults + trib.toml), key variable and whether it is set");
    cmd->add_flag("--json", g.json, "Machine-readable output");
    cmd->callback([&g, &action] {
      action = [&g] {
        Config config = Config::defaults(".");
        try {
          config = open_workspace(g.workspace).config;
        } catch (const Error& e) {
          if (e.category() != ErrorCategory::kNotFound) throw;  // a broken trib.toml is worth saying
          // Outside a workspace: the defaults.
        }
        nlohmann::json out = nlohmann::json::array();
        for (const auto& name : providers::available_vendors()) {
          const auto& info = providers::vendor_info(name);
          const auto s = ingest::vendor_settings(config, name);
          auto key_state = [](const std::string& var) -> std::string {
            if (var.empty()) return "";
            const char* v = std::getenv(var.c_str());
            return var + (v != nullptr && *v != '\0' ? " (set)" : " (not set)");
          };
          std::string keys = key_state(info.key_env);
          if (!info.secret_env.empty()) keys += ", " + key_state(info.secret_env);
          out.push_back({{"vendor", name}, {"remote", info.remote}, {"base_url", s.base_url},
                         {"per_minute", s.budget.per_minute}, {"per_hour", s.budget.per_hour},
                         {"per_day", s.budget.per_day}, {"burst", s.budget.burst},
                         {"publish_delay_minutes", s.publish_delay_minutes}, {"keys", keys}});
        }
        if (g.json) {
          std::cout << out.dump(2) << "\n";
          return 0;
        }
        auto limit = [](double v) { return v > 0 ? fmt::format("{:g}", v) : std::string("-"); };
        fmt::print("{:<13} {:>7} {:>7} {:>7} {:>5}  {:<34} {}\n", "vendor", "per_min", "per_hr", "per_day", "burst",
                   "base url", "key");
        for (const auto& v : out) {
          fmt::print("{:<13} {:>7} {:>7} {:>7} {:>5}  {:<34} {}\n", v["vendor"].get<std::string>(),
                     limit(v["per_minute"]), limit(v["per_hour"]), limit(v["per_day"]), v["burst"].get<int>(),
                     v["base_url"].get<std::string>(), v["keys"].get<std::string>());
        }
        return 0;
      };
    });
  }
}

}  // namespace trib::cli

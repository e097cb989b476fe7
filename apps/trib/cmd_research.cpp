// Research commands: features, indicator, eval.
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "cli.hpp"
#include "trib/core/error.hpp"
#include "trib/etl/adjusted_bars.hpp"
#include "trib/etl/bars_reader.hpp"
#include "trib/features/expression.hpp"
#include "trib/features/feature_set.hpp"
#include "trib/features/registry.hpp"
#include "trib/trading/backtest.hpp"
#include "trib/trading/risk.hpp"
#include "trib/trading/strategy.hpp"
#include "workspace.hpp"

namespace trib::cli {
using nlohmann::json;

etl::PriceOptions prices_of(const Config& config, const std::string& mode) {
  etl::PriceOptions p;
  p.adjust = parse_adjust_mode(mode);
  p.precedence = etl::ActionPrecedence::parse(config.prices.action_precedence);
  return p;
}

namespace {

struct IndicatorArgs {
  std::string name, symbol, from, to, adjust, format = "csv";
  std::vector<std::string> params;  // name=value
  bool list = false;
};

int run_indicator(const Globals& g, const IndicatorArgs& args) {
  if (args.list || args.name.empty()) {
    for (const auto& spec : features::indicator_specs()) {
      std::string params;
      for (const auto& p : spec.params) params += fmt::format("{}{}={:g}", params.empty() ? "" : " ", p.name, p.default_value);
      fmt::print("{:<10} {:<48} in: {:<24} params: {:<38} out: {}\n", spec.name, spec.summary,
                 fmt::format("{}", fmt::join(spec.inputs, ",")), params.empty() ? "-" : params,
                 fmt::format("{}", fmt::join(spec.outputs, ",")));
    }
    return 0;
  }
  if (args.symbol.empty()) throw Error::InvalidInput("trib indicator NAME SYMBOL: name the symbol, e.g. trib indicator SMA AAPL");
  if (args.format != "csv" && args.format != "json") {
    throw Error::InvalidInput(fmt::format("--format '{}' is not known; use csv or json", args.format));
  }
  const features::IndicatorSpec& spec = features::indicator_spec(args.name);  // refuses unknown names first
  std::map<std::string, double> params;
  for (const auto& text : args.params) {
    const size_t eq = text.find('=');
    char* end = nullptr;
    const double value = eq == std::string::npos ? 0 : std::strtod(text.c_str() + eq + 1, &end);
    if (eq == std::string::npos || eq == 0 || end == text.c_str() + eq + 1 || *end != '\0') {
      throw Error::InvalidInput(fmt::format("--param '{}' is not NAME=NUMBER, e.g. --param timeperiod=20", text));
    }
    params[text.substr(0, eq)] = value;
  }
  Workspace ws = open_workspace(g.workspace);
  etl::BarsQuery query;
  query.symbol = Symbol::parse(args.symbol);
  // The whole history is read, so the lookback is warmed up before --from.
  const auto rows = etl::read_adjusted_bars(*ws.store, *ws.catalog, query,
                                            prices_of(ws.config, args.adjust.empty() ? ws.config.prices.adjust : args.adjust))
                        .rows;
  std::vector<double> open, high, low, close, volume;
  for (const auto& r : rows) {
    open.push_back(r.bar.open);
    high.push_back(r.bar.high);
    low.push_back(r.bar.low);
    close.push_back(r.bar.close);
    volume.push_back(r.bar.volume);
  }
  const auto outputs = features::compute_indicator(spec.name, {open, high, low, close, volume}, params);
  const std::optional<Date> from = args.from.empty() ? std::nullopt : std::optional(Date::parse(args.from, "--from"));
  const std::optional<Date> to = args.to.empty() ? std::nullopt : std::optional(Date::parse(args.to, "--to"));
  std::string out;
  if (args.format == "csv") out += fmt::format("session_date,{}\n", fmt::join(spec.outputs, ","));
  for (size_t i = 0; i < rows.size(); ++i) {
    const Date d = rows[i].bar.session_date;
    if ((from && d < *from) || (to && *to < d)) continue;
    if (args.format == "csv") {
      out += d.to_string();
      // Undefined (inside the lookback, or a gap) prints empty; values round-trip exactly.
      for (const auto& o : outputs) out += std::isfinite(o[i]) ? fmt::format(",{}", o[i]) : std::string(",");
      out += "\n";
    } else {
      json j = {{"symbol", query.symbol.str()}, {"session_date", d.to_string()}};
      for (size_t k = 0; k < outputs.size(); ++k) {
        j[spec.outputs[k]] = std::isfinite(outputs[k][i]) ? json(outputs[k][i]) : json(nullptr);
      }
      out += j.dump() + "\n";
    }
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

}  // namespace

std::vector<Symbol> universe_of(Workspace& ws, const std::vector<std::string>& symbols_in) {
  std::vector<std::string> symbols = symbols_in;
  if (symbols.empty()) {
    std::set<std::string> seen;
    for (const auto& p : ws.catalog->list_partitions("bars", "1d")) seen.insert(p.key.symbol);
    symbols.assign(seen.begin(), seen.end());
  }
  if (symbols.empty()) throw Error::NotFound("no curated bars yet; ingest or backfill first");
  std::vector<Symbol> out;
  for (const auto& text : symbols) out.push_back(Symbol::parse(text));
  return out;
}

namespace {

struct EvalArgs {
  std::vector<std::string> formulas;  // FORMULA or NAME=FORMULA
  std::vector<std::string> symbols;
  std::string from, to, adjust, format = "csv";
  bool label = false;
};

// `trib eval`: formulas of the expression language over symbols' whole histories, printed.
int run_eval(const Globals& g, const EvalArgs& args) {
  if (args.formulas.empty()) {
    throw Error::InvalidInput("trib eval FORMULA... --symbol S: give a formula, e.g. trib eval 'Mean($close, 20) / $close' --symbol AAPL");
  }
  if (args.format != "csv" && args.format != "json") {
    throw Error::InvalidInput(fmt::format("--format '{}' is not known; use csv or json", args.format));
  }
  Workspace ws = open_workspace(g.workspace);
  const EvalTable table = evaluate_formulas(ws, args.formulas, args.symbols, args.adjust, args.label);
  const auto& inputs = table.inputs;
  const auto& values = table.values;
  const std::optional<Date> from = args.from.empty() ? std::nullopt : std::optional(Date::parse(args.from, "--from"));
  const std::optional<Date> to = args.to.empty() ? std::nullopt : std::optional(Date::parse(args.to, "--to"));
  std::string out;
  if (args.format == "csv") {
    out += "symbol,session_date";
    for (const auto& name : table.names) out += "," + name;
    out += "\n";
  }
  for (size_t s = 0; s < inputs.size(); ++s) {
    for (size_t i = 0; i < inputs[s].dates.size(); ++i) {
      const Date d = inputs[s].dates[i];
      if ((from && d < *from) || (to && *to < d)) continue;
      if (args.format == "csv") {
        out += inputs[s].symbol + "," + d.to_string();
        // Null prints empty; values round-trip exactly.
        for (const auto& column : values[s]) out += std::isfinite(column[i]) ? fmt::format(",{}", column[i]) : std::string(",");
        out += "\n";
      } else {
        json j = {{"symbol", inputs[s].symbol}, {"session_date", d.to_string()}};
        for (size_t k = 0; k < values[s].size(); ++k) {
          j[table.names[k]] = std::isfinite(values[s][k][i]) ? json(values[s][k][i]) : json(nullptr);
        }
        out += j.dump() + "\n";
      }
    }
    if (out.size() > (1 << 20)) {
      std::fwrite(out.data(), 1, out.size(), stdout);
      out.clear();
    }
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

}  // namespace

EvalTable evaluate_formulas(Workspace& ws, const std::vector<std::string>& formulas,
                            const std::vector<std::string>& symbols, const std::string& adjust, bool label) {
  if (formulas.empty()) throw Error::InvalidInput("give a formula, e.g. 'Mean($close, 20) / $close'");
  std::vector<std::pair<std::string, std::string>> named;
  for (const auto& text : formulas) {
    // NAME=FORMULA when it starts with an identifier and a single '='; otherwise e1, e2, ...
    size_t k = 0;
    while (k < text.size() && (std::isalnum(static_cast<unsigned char>(text[k])) || text[k] == '_')) ++k;
    if (k > 0 && k + 1 < text.size() && text[k] == '=' && text[k + 1] != '=' && !std::isdigit(static_cast<unsigned char>(text[0]))) {
      named.emplace_back(text.substr(0, k), text.substr(k + 1));
    } else {
      named.emplace_back(fmt::format("e{}", named.size() + 1), text);
    }
  }
  const auto program =
      features::expr::Program::compile(named, label ? features::expr::Purpose::kLabel : features::expr::Purpose::kFeature);
  const auto universe = universe_of(ws, symbols);
  const auto prices = prices_of(ws.config, adjust.empty() ? ws.config.prices.adjust : adjust);
  EvalTable table;
  table.names = program.names();
  for (const Symbol& symbol : universe) {
    // The whole history: every window is warm by --from.
    std::vector<Bar> bars;
    for (auto& r : etl::read_adjusted_bars(*ws.store, *ws.catalog, etl::BarsQuery{symbol, Timeframe::kDay1, {}, {}}, prices).rows) {
      bars.push_back(r.bar);
    }
    table.inputs.push_back(features::expr::series_input(symbol.str(), bars));
  }
  table.values = features::expr::evaluate(program, table.inputs);
  return table;
}

json run_features_json(Workspace& ws, const std::string& workspace_dir, const std::string& set_name,
                       const std::vector<std::string>& symbols, bool full) {
  const features::FeatureSet set = features::load_feature_set(set_name, workspace_dir);
  const auto universe = universe_of(ws, symbols);
  features::FeatureRunOptions options;
  options.prices = prices_of(ws.config, ws.config.prices.adjust);
  options.full = full;
  const auto s = features::write_feature_set(*ws.store, *ws.catalog, set, universe, options);
  return {{"set", set.name},
          {"source", set.source},
          {"set_sha256", set.hash},
          {"features", set.features.size()},
          {"adjust", ws.config.prices.adjust},
          {"symbols", s.symbols},
          {"symbols_full", s.symbols_full},
          {"symbols_incremental", s.symbols_incremental},
          {"symbols_current", s.symbols_current},
          {"rows", s.rows_computed},
          {"partitions_written", s.partitions_written},
          {"partitions_unchanged", s.partitions_unchanged}};
}

int64_t parse_as_of(const std::string& text) {
  if (text.empty()) return INT64_MAX;
  return text.size() == 10 ? parse_ts_ns(text, "--as-of") + kNanosPerDay - 1 : parse_ts_ns(text, "--as-of");
}

void add_research_commands(CLI::App& app, Globals& g, Action& action) {
  {
    auto* cmd = app.add_subcommand(
        "features", "Compute a feature set (formulas in TOML: basic, alpha158, or your own) into features/<set>/, "
                    "incrementally");
    auto symbols = std::make_shared<std::vector<std::string>>();
    auto set = std::make_shared<std::string>("basic");
    auto full = std::make_shared<bool>(false);
    auto list = std::make_shared<bool>(false);
    auto show = std::make_shared<bool>(false);
    cmd->add_option("--set", *set,
                    "Feature set: basic (default), alpha158, a name in <workspace>/feature_sets/, or a .toml path");
    cmd->add_option("--symbol", *symbols, "Symbols (repeatable; default: every curated symbol)");
    cmd->add_flag("--full", *full, "Recompute every session, not only those after the last run");
    cmd->add_flag("--list", *list, "List the feature sets there are");
    cmd->add_flag("--show", *show, "Print the set's features and formulas, and its version (SHA-256)");
    cmd->add_flag("--json", g.json, "Machine-readable summary");
    cmd->callback([&g, &action, symbols, set, full, list, show] {
      action = [&g, symbols, set, full, list, show] {
        if (*list) {
          for (const auto& name : features::builtin_feature_sets()) {
            const auto fs = features::load_feature_set(name, g.workspace);
            fmt::print("{:<12} {:>4} features  {}  {}\n", fs.name, fs.features.size(), fs.hash.substr(0, 12), fs.source);
          }
          const std::filesystem::path local = std::filesystem::path(g.workspace) / "feature_sets";
          if (std::filesystem::is_directory(local)) {
            for (const auto& entry : std::filesystem::directory_iterator(local)) {
              if (entry.path().extension() != ".toml") continue;
              const auto fs = features::load_feature_set(entry.path().string(), g.workspace);
              fmt::print("{:<12} {:>4} features  {}  {}\n", fs.name, fs.features.size(), fs.hash.substr(0, 12), fs.source);
            }
          }
          return 0;
        }
        if (*show) {
          const auto fs = features::load_feature_set(*set, g.workspace);
          fmt::print("# {} ({}), {} features, sha256 {}\n", fs.name, fs.source, fs.features.size(), fs.hash);
          for (const auto& [name, formula] : fs.features) fmt::print("{} = {}\n", name, formula);
          return 0;
        }
        Workspace ws = open_workspace(g.workspace);
        json out = run_features_json(ws, g.workspace, *set, *symbols, *full);
        if (g.json) {
          fmt::print("{}\n", out.dump());
        } else {
          fmt::print("features/{}: {} feature(s) on {} prices, {} symbol(s) ({} full, {} incremental, {} current), "
                     "{} row(s); {} partition(s) written, {} unchanged\n",
                     out["set"].get<std::string>(), out["features"].get<int64_t>(), out["adjust"].get<std::string>(),
                     out["symbols"].get<int64_t>(), out["symbols_full"].get<int64_t>(),
                     out["symbols_incremental"].get<int64_t>(), out["symbols_current"].get<int64_t>(),
                     out["rows"].get<int64_t>(), out["partitions_written"].get<int64_t>(),
                     out["partitions_unchanged"].get<int64_t>());
        }
        return 0;
      };
    });
  }
  {
    auto* cmd = app.add_subcommand("eval", "Evaluate formulas of the feature language over symbols' histories "
                                           "(trib eval 'Mean($close, 20) / $close' --symbol AAPL)");
    auto args = std::make_shared<EvalArgs>();
    cmd->add_option("formula", args->formulas, "FORMULA or NAME=FORMULA, one or more (docs/architecture.md lists the operators)");
    cmd->add_option("--symbol", args->symbols, "Symbols (repeatable; default: every curated symbol; cross-sectional "
                                                "operators rank among these)");
    cmd->add_option("--from", args->from, "First session printed (windows are warmed up from before it)");
    cmd->add_option("--to", args->to, "Last session printed");
    cmd->add_option("--adjust", args->adjust, "raw, split or total (default: [prices] adjust in trib.toml)");
    cmd->add_option("--format", args->format, "csv (default) or json (one object per line)");
    cmd->add_flag("--label", args->label, "Allow the future (Ref(x, -n)): for labels, never for features");
    cmd->callback([&g, &action, args] { action = [&g, args] { return run_eval(g, *args); }; });
  }
  {
    auto* cmd = app.add_subcommand("indicator", "Compute one TA-Lib indicator over a symbol's history (trib indicator --list)");
    auto args = std::make_shared<IndicatorArgs>();
    cmd->add_option("name", args->name, "Indicator, as TA-Lib names it: SMA, BBANDS, ATR, ...");
    cmd->add_option("symbol", args->symbol, "Symbol");
    cmd->add_option("--param", args->params, "NAME=VALUE, repeatable (TA-Lib's names: timeperiod=20, nbdevup=2)");
    cmd->add_option("--from", args->from, "First session printed (the lookback is read from before it)");
    cmd->add_option("--to", args->to, "Last session printed");
    cmd->add_option("--adjust", args->adjust, "raw, split or total (default: [prices] adjust in trib.toml)");
    cmd->add_option("--format", args->format, "csv (default) or json (one object per line)");
    cmd->add_flag("--list", args->list, "List the indicators with their inputs, parameters and outputs");
    cmd->callback([&g, &action, args] { action = [&g, args] { return run_indicator(g, *args); }; });
  }
}

}  // namespace trib::cli

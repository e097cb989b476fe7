// Data commands: init, ingest, etl, verify, vacuum, bars, dq, status.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <atomic>
#include <map>
#include <set>
#include <chrono>
#include <cmath>
#include <iostream>
#include <mutex>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli.hpp"
#include "trib/lake/layout.hpp"
#include "trib/core/calendar.hpp"
#include "trib/core/error.hpp"
#include "trib/core/log.hpp"
#include "trib/etl/adjusted_bars.hpp"
#include "trib/etl/bar_conflicts.hpp"
#include "trib/etl/resample.hpp"
#include "trib/etl/series_checks.hpp"
#include "trib/etl/vacuum.hpp"
#include "trib/etl/verify.hpp"
#include "trib/etl/bars_reader.hpp"
#include "trib/etl/etl.hpp"
#include "trib/etl/quality.hpp"
#include "trib/etl/rates_reader.hpp"
#include "trib/ingest/fetch_handler.hpp"
#include "trib/ingest/vendor_access.hpp"
#include "trib/ingest/task.hpp"
#include "trib/core/hash.hpp"
#include "trib/runtime/shutdown.hpp"
#include "trib/providers/provider.hpp"
// The csv vendor's file expansion and file-name symbols (private to providers; used only here).
#include "../../src/providers/csv/csv_files.hpp"
#include "workspace.hpp"

namespace trib::cli {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// ---- ingest ----------------------------------------------------------------------------------

// Dates must ascend within each symbol of a file (the csv vendor turns newest-first files
// around): a file in no order is almost always the wrong file or a broken export, and the user
// should see it rather than have it silently sorted.
void check_order(const providers::ParseResult& parsed, const std::string& file) {
  for (const auto& [symbol, bars] : parsed.bars) {
    for (size_t i = 1; i < bars.size(); ++i) {
      if (bars[i].session_date < bars[i - 1].session_date) {
        throw Error::InvalidInput(fmt::format(
            "{}: dates out of order for {}: {} comes after {} (row {} of that symbol); sort the "
            "file by date (oldest or newest first)",
            file, symbol.str(), bars[i].session_date.to_string(),
            bars[i - 1].session_date.to_string(), i + 1));
      }
    }
  }
}

// One payload to ingest: a csv file, or what another vendor answered for --symbol.
struct IngestInput {
  fs::path path;      // csv: the file
  std::string shown;  // the file (or vendor) for messages
  Symbol symbol;      // empty: the payload names its own symbols
  size_t symbols = 0; // how many symbols it holds
  std::string sha256;
  std::optional<providers::FetchResult> fetched;  // dropped after checking when files are many
  std::optional<providers::ParseResult> parsed;   // (read again when stored)
};

// Payloads above this many bytes in all are read twice (checked, then stored one at a time)
// rather than held in memory together.
constexpr size_t kKeepInputsBytes = size_t{256} << 20;

size_t bar_count(const providers::ParseResult& parsed) {
  size_t n = 0;
  for (const auto& [symbol, bars] : parsed.bars) n += bars.size();
  return n;
}

// A file saved from a REST vendor (a Stooq CSV, a Yahoo chart or Alpha Vantage JSON): the bytes
// as the vendor sent them, fetched "at" the file's modification time (the same file ingested
// twice gives the same lineage), so its rows keep the vendor's price basis and its actions.
providers::FetchResult read_vendor_file(const std::string& vendor, const fs::path& path) {
  if (fs::is_directory(path)) {
    throw Error::InvalidInput(fmt::format("{} is a folder; --vendor {} takes one file per --file", path.string(), vendor));
  }
  if (!fs::exists(path)) throw Error::NotFound(fmt::format("{}: no such file", path.string()));
  providers::FetchResult result;
  std::ifstream in(path, std::ios::binary);
  result.bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  std::string ext = path.extension().string();
  if (!ext.empty()) ext.erase(0, 1);
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  result.ext = ext == "json" || ext == "csv" ? ext : (result.bytes.starts_with("{") ? "json" : "csv");
  result.content_type = result.ext == "json" ? "application/json" : "text/csv";
  result.request = {{"vendor", vendor}, {"file", path.filename().string()}};
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    result.as_of_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  }
  return result;
}

// Fetches and parses one payload and refuses it as the ingest would, before anything is written.
void load_input(providers::Provider& provider, const providers::FetchRequest& base,
                const IngestArgs& args, const Symbol& given, size_t file_count,
                IngestInput& in) {
  providers::FetchRequest request = base;
  if (args.vendor == "csv") request.params["file"] = fs::absolute(in.path).string();
  const bool vendor_file = args.vendor != "csv" && !in.path.empty();
  providers::FetchResult fetched = vendor_file ? read_vendor_file(args.vendor, in.path) : provider.fetch(request);
  if (args.vendor == "csv") {
    // Prices already adjusted by whoever wrote the file are declared so (the raw sidecar's request),
    // and read back into raw prices instead of being adjusted twice. Yahoo's downloads say so
    // themselves: their Close is split-adjusted next to an Adj Close column.
    std::string basis = args.price_basis;
    if (basis == "auto") {
      std::string header = fetched.bytes.substr(0, fetched.bytes.find('\n'));
      for (char& c : header) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      basis = header.find("adj close") != std::string::npos || header.find("adj_close") != std::string::npos ||
                      header.find("adjclose") != std::string::npos
                  ? "split"
                  : "raw";
    }
    if (basis != "raw") fetched.request["price_basis"] = basis;
  }
  if (vendor_file) {
    if (!given.empty()) {
      in.symbol = given;
    } else if (auto named = providers::symbol_from_file_name(in.path.filename().string())) {
      in.symbol = *named;
    } else {
      throw Error::InvalidInput(fmt::format("{}: its name does not say which symbol it holds; say which with --symbol",
                                            in.shown));
    }
  } else if (args.vendor == "csv") {
    if (fetched.multi_symbol) {
      if (!given.empty()) {
        throw Error::InvalidInput(fmt::format(
            "{} names its own symbols (a Name, Symbol or Ticker column); drop --symbol",
            in.shown));
      }
      in.symbol = Symbol();
    } else if (!given.empty()) {
      in.symbol = given;
    } else if (auto named = providers::symbol_from_file_name(in.path.filename().string())) {
      in.symbol = *named;
    } else {
      // A file we cannot read at all is refused for that, not for its name.
      providers::ParseContext probe;
      probe.symbol = Symbol::parse("UNNAMED");
      try {
        (void)provider.parse(fetched.bytes, probe);
      } catch (const Error& e) {
        if (e.category() == ErrorCategory::kInvalidInput || e.category() == ErrorCategory::kDataLoss) {
          throw Error::InvalidInput(fmt::format("{}: {}", in.shown, e.what()));
        }
        throw;
      }
      throw Error::InvalidInput(fmt::format(
          "{} holds one symbol's bars and its name does not say which (names such as AAPL.csv, "
          "aapl.us.txt, aapl.zip or spy_us_daily.csv do); {}",
          in.shown,
          file_count == 1 ? "say which with --symbol (e.g. --symbol ^GSPC)"
                          : "rename it, or ingest it on its own with --symbol"));
    }
  } else {
    in.symbol = given;
  }
  providers::ParseContext context;
  context.symbol = in.symbol;
  context.timeframe = parse_timeframe(args.timeframe);
  context.calendar = &TradingCalendar::by_name(args.calendar);
  context.file_name = in.path.filename().string();
  providers::ParseResult parsed;
  try {
    parsed = provider.parse(fetched.bytes, context);
  } catch (const Error& e) {
    if (e.category() != ErrorCategory::kInvalidInput && e.category() != ErrorCategory::kDataLoss) {
      throw;
    }
    throw Error::InvalidInput(fmt::format("{}: {}", in.shown, e.what()));
  }
  if (!parsed.findings.empty() && !args.quarantine_bad_rows) {
    const auto& f = parsed.findings.front();
    throw Error::InvalidInput(fmt::format(
        "{}:{}: {} ({} bad row{} in all); fix the file, or pass --quarantine-bad-rows to "
        "quarantine them with their reasons",
        in.shown, f.line, f.reason, parsed.findings.size(), parsed.findings.size() == 1 ? "" : "s"));
  }
  check_order(parsed, in.shown);
  // Intraday bars outside the calendar's sessions: almost always 24x5 data on the NYSE calendar.
  if (context.timeframe != Timeframe::kDay1) {
    for (const auto& [symbol, bars] : parsed.bars) {
      auto off = std::find_if(bars.begin(), bars.end(), [&](const Bar& b) { return !context.calendar->is_session(b.session_date); });
      if (off == bars.end()) continue;
      const auto count = std::count_if(bars.begin(), bars.end(), [&](const Bar& b) { return !context.calendar->is_session(b.session_date); });
      throw Error::InvalidInput(fmt::format(
          "{}: {} bar(s) of {} fall outside {} sessions (the first at {}, session {}){}",
          in.shown, count, symbol.str(), context.calendar->name(), format_ts_ns(off->ts_ns), off->session_date.to_string(),
          context.calendar->is_fx() ? "" : "; 24-hour weekday data such as FX? ingest it with --calendar fx"));
    }
  }
  if (args.vendor == "csv" && !fetched.multi_symbol && bar_count(parsed) == 0 &&
      parsed.findings.empty()) {
    throw Error::InvalidInput(fmt::format("{}: no rows", in.shown));
  }
  in.symbols = 0;
  for (const auto& [symbol, bars] : parsed.bars) in.symbols += bars.empty() ? 0 : 1;
  const std::string sha = sha256_hex(fetched.bytes);
  if (!in.sha256.empty() && sha != in.sha256) {
    throw Error::Conflict(fmt::format(
        "{} changed while it was being ingested; run the command again", in.shown));
  }
  in.sha256 = sha;
  in.fetched = std::move(fetched);
  in.parsed = std::move(parsed);
}

etl::EtlStats stats_since(const etl::EtlStats& now, const etl::EtlStats& before) {
  etl::EtlStats d = now;
  d.rows_in -= before.rows_in;
  d.rows_accepted -= before.rows_accepted;
  d.rows_quarantined -= before.rows_quarantined;
  d.rows_outside_window -= before.rows_outside_window;
  d.payloads_quarantined -= before.payloads_quarantined;
  d.partitions_created -= before.partitions_created;
  d.partitions_replaced -= before.partitions_replaced;
  d.partitions_unchanged -= before.partitions_unchanged;
  d.live_files_repaired -= before.live_files_repaired;
  for (auto it = d.quarantined_by_rule.begin(); it != d.quarantined_by_rule.end();) {
    auto b = before.quarantined_by_rule.find(it->first);
    if (b != before.quarantined_by_rule.end()) it->second -= b->second;
    it = it->second == 0 ? d.quarantined_by_rule.erase(it) : std::next(it);
  }
  return d;
}

}  // namespace

json ingest_json(Workspace& ws, const IngestArgs& args, const std::function<const std::atomic<bool>*()>& stop_for_batch,
                 std::vector<std::string>* lines_out, etl::EtlStats* stats_out) {
  // Validate everything before anything is written.
  (void)providers::vendor_info(args.vendor);  // an unknown vendor fails before anything is written
  (void)parse_timeframe(args.timeframe);
  (void)TradingCalendar::by_name(args.calendar);
  if (args.price_basis != "auto" && args.price_basis != "raw" && args.price_basis != "split" &&
      args.price_basis != "total") {
    throw Error::InvalidInput(fmt::format("--price-basis '{}' is not known; use auto, raw, split or total", args.price_basis));
  }
  if (args.price_basis != "auto" && args.vendor != "csv") {
    throw Error::InvalidInput(fmt::format("--price-basis is for csv files; {}'s prices are {}", args.vendor,
                                          "on the basis the vendor delivers (known to trib)"));
  }
  Symbol given;
  if (!args.symbol.empty()) given = Symbol::parse(args.symbol);
  // A REST vendor is asked as a worker would: trib.toml's [vendors.<name>] and the shared budget.
  ingest::Task as_task;
  as_task.vendor = args.vendor;
  auto provider = ingest::make_provider_factory(ws.config, *ws.catalog)(as_task);

  providers::FetchRequest request;
  request.symbol = given;
  std::vector<IngestInput> inputs;
  if (args.vendor == "csv") {
    if (args.files.empty()) {
      throw Error::InvalidInput("ingest --vendor csv needs --file PATH (a file, a folder or a pattern)");
    }
    for (const auto& path : providers::expand_csv_inputs(args.files)) {
      IngestInput in;
      in.path = path;
      in.shown = providers::display_path(path);
      inputs.push_back(std::move(in));
    }
    if (!given.empty() && inputs.size() > 1) {
      throw Error::InvalidInput(fmt::format(
          "--symbol names the symbol of one file, and --file names {} files ({}, {}, ...); drop "
          "--symbol (each file's symbol comes from its name, aapl.csv -> AAPL, or its symbol "
          "column) or ingest the files one at a time",
          inputs.size(), inputs[0].shown, inputs[1].shown));
    }
  } else if (!args.files.empty()) {
    if (args.vendor == "sim" || args.vendor == "fred") {
      throw Error::InvalidInput(fmt::format("--file is for csv files and files saved from a market-data vendor; "
                                            "{} takes --symbol, --from and --to", args.vendor));
    }
    for (const auto& f : args.files) {
      IngestInput in;
      in.path = f;
      in.shown = providers::display_path(f);
      inputs.push_back(std::move(in));
    }
    if (!given.empty() && inputs.size() > 1) {
      throw Error::InvalidInput("--symbol names the symbol of one file; ingest the files one at a time");
    }
  } else {
    if (given.empty()) throw Error::InvalidInput("ingest needs --symbol for this vendor");
    if (args.from.empty() || args.to.empty()) {
      throw Error::InvalidInput("ingest needs --from and --to for this vendor");
    }
    IngestInput in;
    in.shown = args.vendor;
    inputs.push_back(std::move(in));
  }
  if (!args.from.empty()) request.from = Date::parse(args.from, "--from");
  if (!args.to.empty()) request.to = Date::parse(args.to, "--to");
  if (!args.from.empty() && !args.to.empty() && request.to < request.from) {
    throw Error::InvalidInput(fmt::format("--from {} is after --to {}", args.from, args.to));
  }
  size_t kept_bytes = 0;
  for (auto& in : inputs) {
    load_input(*provider, request, args, given, inputs.size(), in);
    kept_bytes += in.fetched->bytes.size();
    if (inputs.size() > 1 && kept_bytes > kKeepInputsBytes) {
      in.fetched.reset();
      in.parsed.reset();
    }
  }

  std::string files_text;
  for (const auto& f : args.files) files_text += (files_text.empty() ? "" : " ") + f;
  std::string run_id = new_run_id("ingest");
  ws.catalog->start_run({run_id, "ingest",
                         json{{"vendor", args.vendor}, {"file", files_text}, {"files", args.vendor == "csv" ? inputs.size() : 0},
                              {"symbol", given.str()}, {"from", args.from}, {"to", args.to}}.dump(),
                         catalog::RunStatus::kRunning, "", 0, 0});
  etl::EtlOptions etl_options = etl::EtlOptions::from_config(ws.config);
  etl_options.threads = args.threads;
  etl::EtlEngine engine(*ws.store, *ws.catalog, etl_options);
  ingest::FetchHandler handler(*ws.store, *ws.catalog, &engine);
  const bool many = inputs.size() > 1;
  // Ctrl-C between files of a long batch: the files done stay done; the same command finishes.
  const std::atomic<bool>* stop = many && stop_for_batch ? stop_for_batch() : nullptr;
  Progress progress("ingest", static_cast<int64_t>(inputs.size()));
  json files = json::array();
  std::vector<std::string> lines;
  size_t done = 0, raw_new = 0;
  std::string raw_line;
  try {
    for (auto& in : inputs) {
      if (stop != nullptr && stop->load()) break;
      if (!in.fetched) load_input(*provider, request, args, given, inputs.size(), in);
      ingest::RawOrigin origin;
      origin.vendor = args.vendor;
      origin.timeframe = parse_timeframe(args.timeframe);
      origin.calendar = std::string(TradingCalendar::by_name(args.calendar).name());
      origin.symbol = in.symbol;
      origin.run_id = run_id;
      // The window travels with the raw object, so `trib etl` rebuilds exactly what was asked for.
      if (!args.from.empty()) origin.window_from = request.from;
      if (!args.to.empty()) origin.window_to = request.to;
      const etl::EtlStats before = engine.stats();
      const std::string basis_asked = in.fetched->request.value("price_basis", std::string("raw"));
      auto stored = handler.store(origin, *in.fetched, std::move(*in.parsed));
      if (!stored.newly_written) {
        // The raw zone is immutable: the first ingest's declaration of these bytes stands.
        const json sidecar = json::parse(stored.record.request_json, nullptr, false);
        const std::string basis_held = sidecar.is_object() && sidecar.contains("request") && sidecar["request"].is_object()
                                           ? sidecar["request"].value("price_basis", std::string("raw"))
                                           : std::string("raw");
        if (basis_held != basis_asked) {
          std::fprintf(stderr, "trib: note: %s was ingested before with %s prices; that declaration stands (the raw "
                       "zone is immutable)\n", in.shown.c_str(), basis_held.c_str());
        }
      }
      in.fetched.reset();
      in.parsed.reset();
      const etl::EtlStats mine = stats_since(engine.stats(), before);
      raw_new += stored.newly_written ? 1 : 0;
      const std::string who =
          in.symbol.empty() ? fmt::format("{} symbol{}", in.symbols, in.symbols == 1 ? "" : "s")
                            : in.symbol.str();
      json f = stats_json(mine);
      f["file"] = in.shown;
      f["symbol"] = in.symbol.str();
      f["symbols"] = in.symbols;
      f["raw_key"] = stored.record.object_key;
      f["raw_new"] = stored.newly_written;
      files.push_back(std::move(f));
      lines.push_back(fmt::format("{} -> {}: {} rows in, {} curated, {} quarantined{}; raw {}",
                                  in.shown, who, mine.rows_in, mine.rows_accepted,
                                  mine.rows_quarantined,
                                  mine.rows_outside_window > 0
                                      ? fmt::format(", {} outside the window", mine.rows_outside_window)
                                      : "",
                                  stored.newly_written ? "new" : "already stored"));
      raw_line = fmt::format("raw: {} ({})", ws.store->describe(stored.record.object_key),
                             stored.newly_written ? "new" : "already stored");
      progress.update(static_cast<int64_t>(++done), in.shown);
    }
    progress.finish();
    const bool interrupted = done < inputs.size();
    json totals = stats_json(engine.stats());
    totals["files_done"] = done;
    ws.catalog->finish_run(run_id, interrupted ? catalog::RunStatus::kInterrupted : catalog::RunStatus::kOk,
                           totals.dump());
    if (stats_out != nullptr) *stats_out = engine.stats();
    json out = stats_json(engine.stats());
    out["run_id"] = run_id;
    if (!many && !files.empty()) {
      out["raw_key"] = files[0]["raw_key"];
      out["raw_new"] = files[0]["raw_new"];
    }
    out["files"] = files;
    out["files_done"] = done;
    out["files_total"] = inputs.size();
    if (lines_out != nullptr) {
      if (many) {
        *lines_out = lines;
        lines_out->push_back(fmt::format("raw: {} payload(s), {} new, {} already stored", done, raw_new, done - raw_new));
        lines_out->push_back(fmt::format("total: {} of {} file(s)", done, inputs.size()));
      } else {
        if (args.vendor == "csv" && !lines.empty()) lines_out->push_back(lines.front());
        lines_out->push_back(raw_line);
      }
    }
    return out;
  } catch (const Error& e) {
    ws.catalog->finish_run(run_id, catalog::RunStatus::kFailed, json{{"error", e.what()}}.dump());
    throw;
  }
}

namespace {

int run_ingest(const Globals& g, const IngestArgs& args) {
  Workspace ws = open_workspace(g.workspace);
  std::vector<std::string> lines;
  etl::EtlStats stats;
  const json out = ingest_json(ws, args, [] { return &runtime::install_shutdown_handlers(); }, &lines, &stats);
  const bool interrupted = out["files_done"].get<size_t>() < out["files_total"].get<size_t>();
  if (g.json) {
    fmt::print("{}\n", out.dump());
  } else {
    for (const auto& line : lines) fmt::print("{}\n", line);
    print_etl_stats(stats);
    if (interrupted) {
      fmt::print("interrupted after {} of {} files: run the same command again to finish (it is "
                 "idempotent)\n", out["files_done"].get<size_t>(), out["files_total"].get<size_t>());
    }
  }
  return interrupted ? 130 : 0;
}

// ---- etl --------------------------------------------------------------------------------------

int run_etl(const Globals& g, const std::string& symbol_text, const std::string& vendor,
            bool rebuild) {
  Workspace ws = open_workspace(g.workspace);
  std::string symbol;
  if (!symbol_text.empty()) symbol = Symbol::parse(symbol_text).str();
  auto raws = ws.catalog->list_raw_objects(vendor, symbol);
  std::string run_id = new_run_id("etl");
  ws.catalog->start_run({run_id, "etl",
                         json{{"vendor", vendor}, {"symbol", symbol}, {"rebuild", rebuild}}.dump(),
                         catalog::RunStatus::kRunning, "", 0, 0});
  etl::EtlOptions options = etl::EtlOptions::from_config(ws.config);
  options.rebuild = rebuild;
  etl::EtlEngine engine(*ws.store, *ws.catalog, options);
  Progress progress("etl", static_cast<int64_t>(raws.size()));
  int64_t done = 0;
  const auto& stop = runtime::install_shutdown_handlers();
  for (const auto& raw : raws) {
    if (stop.load()) break;
    engine.apply_raw_object(raw, run_id);
    progress.update(++done);
  }
  progress.finish();
  const bool interrupted = done < static_cast<int64_t>(raws.size());
  json stats = stats_json(engine.stats());
  stats["raw_objects"] = raws.size();
  stats["raw_objects_applied"] = done;
  ws.catalog->finish_run(run_id, interrupted ? catalog::RunStatus::kInterrupted : catalog::RunStatus::kOk,
                         stats.dump());
  if (g.json) {
    stats["run_id"] = run_id;
    fmt::print("{}\n", stats.dump());
  } else {
    fmt::print("etl {}: {} of {} raw object(s){}\n", run_id, done, raws.size(),
               rebuild ? " (rebuilt from raw)" : "");
    print_etl_stats(engine.stats());
    if (interrupted) {
      fmt::print("interrupted: run the same command again to finish (it is idempotent)\n");
    }
  }
  return interrupted ? 130 : 0;
}

// ---- verify -----------------------------------------------------------------------------------

struct VerifyArgs {
  bool repair = false, quick = false;
  std::string symbol;
};

int run_verify(const Globals& g, const VerifyArgs& args) {
  Workspace ws = open_workspace(g.workspace);
  int64_t checked = 0, bad = 0, stale = 0, legacy = 0;
  std::vector<std::string> problems;
  const std::string symbol = args.symbol.empty() ? "" : Symbol::parse(args.symbol).str();
  auto records = ws.catalog->list_partitions("bars", "", symbol);
  for (auto& r : ws.catalog->list_partitions(etl::kRatesDataset, "", symbol)) records.push_back(std::move(r));
  for (const auto& record : records) {
    ++checked;
    if (record.version_key.empty()) {
      ++legacy;
      continue;
    }
    try {
      std::string bytes = ws.store->get(record.version_key);
      if (sha256_hex(bytes) != record.content_sha256) {
        ++bad;
        problems.push_back(fmt::format("{}: version object does not match its SHA-256", record.version_key));
        continue;
      }
    } catch (const Error& e) {
      ++bad;
      problems.push_back(fmt::format("{}: {}", record.version_key, e.what()));
      continue;
    }
  }
  // Rebuilt from raw into scratch space and compared (unless --quick).
  json from_raw = nullptr;
  int64_t mismatched = 0;
  if (!args.quick && bad == 0) {
    etl::VerifyOptions options;
    options.etl = etl::EtlOptions::from_config(ws.config);
    options.symbol = symbol;
    options.scratch = fs::temp_directory_path() / fmt::format("trib-verify-{}", ::getpid());
    const etl::VerifyReport report = etl::verify_from_raw(*ws.store, *ws.catalog, options);
    for (const auto& p : report.partitions) {
      const std::string what = fmt::format("{} {} {} {}", p.key.dataset, p.key.timeframe, p.key.symbol, p.key.partition);
      if (p.status == "differs") {
        problems.push_back(fmt::format("{}: the committed rows are not what raw rebuilds to (sha256 {} vs {})", what,
                                       p.committed_sha256.substr(0, 12), p.rebuilt_sha256.substr(0, 12)));
      } else if (p.status == "not_from_raw") {
        problems.push_back(fmt::format("{}: no raw object produces it", what));
      } else if (p.status == "missing") {
        problems.push_back(fmt::format("{}: raw holds it, the lake does not (run `trib etl`)", what));
      }
    }
    mismatched = report.differs + report.not_from_raw + report.missing;
    from_raw = {{"raw_objects", report.raw_objects}, {"ok", report.ok}, {"differs", report.differs},
                {"not_from_raw", report.not_from_raw}, {"missing", report.missing}};
  }
  stale = etl::repair_live_files(*ws.store, *ws.catalog, "bars", /*dry_run=*/!args.repair) +
          etl::repair_live_files(*ws.store, *ws.catalog, etl::kRatesDataset, /*dry_run=*/!args.repair);
  json out = {{"partitions", checked}, {"corrupt", bad}, {"stale_live_files", stale},
              {"repaired", args.repair ? stale : 0}, {"legacy", legacy}, {"from_raw", from_raw},
              {"problems", problems}};
  if (g.json) {
    fmt::print("{}\n", out.dump());
  } else {
    fmt::print("verified {} partition(s): {} corrupt, {} stale live file(s){}\n", checked, bad,
               stale, args.repair ? " (republished)" : (stale > 0 ? "; fix with `trib verify --repair`" : ""));
    if (!from_raw.is_null()) {
      fmt::print("rebuilt from {} raw object(s) in scratch space: {} partition(s) equal, {} differ, {} not from raw, "
                 "{} missing from the lake\n",
                 from_raw["raw_objects"].get<int64_t>(), from_raw["ok"].get<int64_t>(),
                 from_raw["differs"].get<int64_t>(), from_raw["not_from_raw"].get<int64_t>(),
                 from_raw["missing"].get<int64_t>());
    }
    for (const auto& p : problems) fmt::print("  {}\n", p);
    if (bad > 0) fmt::print("rebuild corrupt partitions from raw with `trib etl --rebuild`\n");
    if (mismatched > 0) {
      fmt::print("make the lake what raw says with `trib etl --rebuild` (after a change of [prices] bar_precedence "
                 "this is expected)\n");
    }
  }
  return bad > 0 ? 5 : ((stale > 0 && !args.repair) || mismatched > 0 ? 1 : 0);
}

// ---- vacuum -----------------------------------------------------------------------------------

int run_vacuum(const Globals& g, const std::string& older_than, bool apply) {
  const int64_t window = etl::parse_retention(older_than);
  Workspace ws = open_workspace(g.workspace);
  const int64_t horizon = now_ts_ns() - window;
  const etl::VacuumPlan plan = etl::plan_vacuum(*ws.store, *ws.catalog, horizon);
  const int64_t removed = apply ? etl::apply_vacuum(*ws.store, plan) : 0;
  if (g.json) {
    json items = json::array();
    for (const auto& i : plan.removable) {
      items.push_back({{"dataset", i.key.dataset}, {"timeframe", i.key.timeframe}, {"symbol", i.key.symbol},
                       {"partition", i.key.partition}, {"version", i.version}, {"object", i.version_key},
                       {"replaced_at", format_ts_ns(i.replaced_at_ns)}, {"bytes", i.bytes}});
    }
    fmt::print("{}\n", json{{"horizon", format_ts_ns(horizon)}, {"dry_run", !apply}, {"partitions", plan.partitions},
                            {"versions_kept", plan.versions_kept}, {"removable", items},
                            {"bytes", plan.bytes}, {"removed", removed}}.dump());
    return 0;
  }
  std::string out;
  for (const auto& i : plan.removable) {
    out += fmt::format("{} {} {} {} version {} (replaced {}): {} bytes\n", i.key.dataset, i.key.timeframe,
                       i.key.symbol, i.key.partition, i.version, format_ts_ns(i.replaced_at_ns), i.bytes);
  }
  out += fmt::format("{} replaced version(s) of {} partition(s) not needed by any --as-of after {} ({} bytes); "
                     "{} version(s) kept (the live ones and those replaced since)\n",
                     plan.removable.size(), plan.partitions, format_ts_ns(horizon), plan.bytes, plan.versions_kept);
  out += apply ? fmt::format("removed {} object(s)\n", removed)
               : std::string("dry run: nothing removed; add --apply to remove them\n");
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

// ---- bars -------------------------------------------------------------------------------------

}  // namespace

BarsRead read_bars_rows(Workspace& ws, const BarsArgs& args) {
  const std::string& from = args.from;
  const std::string& to = args.to;
  const bool hot = args.hot;
  const std::string& symbol_text = args.symbol;
  etl::PriceOptions prices;
  prices.adjust = parse_adjust_mode(args.adjust);
  // A date means the end of that day: the lake and the actions as they were by then.
  prices.actions_as_of_ns = parse_as_of(args.as_of);
  if (hot && (prices.adjust != AdjustMode::kRaw || !args.as_of.empty())) {
    throw Error::InvalidInput("--hot answers raw bars only; drop --hot to read adjusted prices or --as-of");
  }
  etl::BarsQuery query;
  query.symbol = Symbol::parse(symbol_text);
  if (!from.empty()) query.from = Date::parse(from, "--from");
  if (!to.empty()) query.to = Date::parse(to, "--to");
  if (query.from && query.to && *query.to < *query.from) {
    throw Error::InvalidInput(fmt::format("--from {} is after --to {}", from, to));
  }
  query.as_of_ns = prices.actions_as_of_ns;  // the lake as it was then, too
  BarsRead read;
  int& partitions = read.partitions;
  std::vector<lake::CuratedBar>& rows = read.rows;
  bool& intraday = read.intraday;  // the table shows each bar's time
  if (hot) {
    // Straight from the catalog's hot cache: no Parquet is opened.
    const int64_t from_ts = query.from ? to_ts_ns(*query.from) : INT64_MIN;
    const int64_t to_ts = query.to ? to_ts_ns(*query.to + 1) - 1 : INT64_MAX;
    auto cached = ws.catalog->hot_bars(query.symbol.str(), "1d", INT64_MIN, INT64_MAX);
    if (cached.empty()) {
      throw Error::NotFound(fmt::format(
          "the hot cache holds no bars of {}{}", query.symbol.str(),
          ws.config.hot_cache.sessions == 0 ? " ([hot_cache] sessions = 0 turns it off)" : ""));
    }
    if (from_ts < cached.front().ts_ns && query.from) {
      read.notes.push_back(fmt::format("the hot cache holds the last {} sessions of {}, from {}; drop --hot for "
                                       "older bars", ws.config.hot_cache.sessions, query.symbol.str(),
                                       Date(cached.front().session_date).to_string()));
    }
    for (const auto& h : cached) {
      if (h.ts_ns < from_ts || h.ts_ns > to_ts) continue;
      lake::CuratedBar row{etl::bar_of(h), h.source, h.raw_id, h.fetched_at_ns};
      rows.push_back(std::move(row));
    }
  } else {
    // The timeframe asked for: stored as such, or grouped from the finest stored one that divides
    // it (etl/resample.hpp), regular hours only unless --session all.
    const etl::BarWidth wanted = etl::parse_bar_width(args.timeframe.empty() ? "1d" : args.timeframe);
    std::set<Timeframe> stored;
    for (const auto& p : ws.catalog->list_partitions("bars", "", query.symbol.str())) {
      stored.insert(parse_timeframe(p.key.timeframe));
    }
    std::optional<Timeframe> exact, finer;
    for (Timeframe tf : {Timeframe::kMinute1, Timeframe::kHour1, Timeframe::kDay1}) {
      if (!stored.contains(tf)) continue;
      const etl::BarWidth w = etl::width_of(tf);
      if (w.minutes == wanted.minutes) exact = tf;
      if (!finer && w.minutes != wanted.minutes && etl::can_resample(tf, wanted)) finer = tf;
    }
    if (!exact && !finer && !stored.empty()) {
      std::string have;
      for (Timeframe tf : stored) have += (have.empty() ? "" : ", ") + std::string(to_string(tf));
      throw Error::NotFound(fmt::format("{} has {} bars; --timeframe {} needs bars that divide it", query.symbol.str(),
                                        have, args.timeframe.empty() ? "1d" : args.timeframe));
    }
    query.timeframe = exact ? *exact : (finer ? *finer : Timeframe::kDay1);
    if (!args.session.empty() && args.session != "regular" && args.session != "all") {
      throw Error::InvalidInput(fmt::format("--session '{}' is not known; use regular or all", args.session));
    }
    const bool grouped = !exact && finer;
    intraday = !wanted.daily();
    const bool regular = args.session.empty() ? grouped : args.session == "regular";
    prices.precedence = etl::ActionPrecedence::parse(ws.config.prices.action_precedence);
    prices.follow_renames = !args.ticker_only;
    // An instrument that traded under other names (symbol changes): each span read under its name.
    const bool renamed = prices.follow_renames &&
                         etl::read_symbol_history(*ws.catalog, query.symbol, prices).size() > 1;
    try {
      rows = etl::read_curated_bars(*ws.store, *ws.catalog, query, &partitions);
    } catch (const Error& e) {
      if (!renamed || e.category() != ErrorCategory::kNotFound) throw;
    }
    const bool delivered_adjusted = std::any_of(rows.begin(), rows.end(), [](const auto& r) {
      return etl::price_basis_of(r.source) != AdjustMode::kRaw;
    });
    if (prices.adjust != AdjustMode::kRaw || delivered_adjusted || renamed) {
      etl::AdjustedBars adjusted = etl::read_adjusted_bars(*ws.store, *ws.catalog, query, prices);
      rows = std::move(adjusted.rows);
      for (const auto& note : adjusted.notes) read.notes.push_back(note);
      if (!adjusted.conflicts.empty()) {
        read.notes.push_back(fmt::format("{} corporate action(s) of {} are reported differently by their sources "
                                         "(trib actions conflicts {})", adjusted.conflicts.size(),
                                         query.symbol.str(), query.symbol.str()));
      }
    }
    if (grouped || regular) {
      const auto instrument = ws.catalog->get_instrument(query.symbol.str());
      const TradingCalendar& calendar =
          TradingCalendar::by_name(instrument && !instrument->calendar.empty() ? instrument->calendar : "nyse");
      if (grouped) {
        rows = etl::resample(rows, wanted, calendar, regular ? etl::SessionHours::kRegular : etl::SessionHours::kAll);
      } else {
        rows = etl::regular_hours(std::move(rows), calendar);
      }
    }
  }
  return read;
}

namespace {

int run_bars(const Globals& g, const BarsArgs& args) {
  const std::string& format = args.format;
  if (format != "table" && format != "csv" && format != "json") {
    throw Error::InvalidInput(fmt::format("--format '{}' is not known; use table, csv or json", format));
  }
  Workspace ws = open_workspace(g.workspace);
  const BarsRead read = read_bars_rows(ws, args);
  for (const auto& note : read.notes) std::fprintf(stderr, "trib: note: %s\n", note.c_str());
  const auto& rows = read.rows;
  const bool intraday = read.intraday, hot = args.hot;
  const int partitions = read.partitions;
  const Symbol symbol = Symbol::parse(args.symbol);
  std::string out;
  if (format == "csv") {
    out += "session_date,ts,open,high,low,close,volume,source\n";
    for (const auto& r : rows) {
      out += fmt::format("{},{},{},{},{},{},{},{}\n", r.bar.session_date.to_string(),
                         format_ts_ns(r.bar.ts_ns), r.bar.open, r.bar.high, r.bar.low, r.bar.close,
                         r.bar.volume, r.source);
    }
  } else if (format == "json") {
    for (const auto& r : rows) {
      json j = {{"symbol", symbol.str()}, {"session_date", r.bar.session_date.to_string()},
                {"ts", format_ts_ns(r.bar.ts_ns)}, {"open", r.bar.open}, {"high", r.bar.high},
                {"low", r.bar.low}, {"close", r.bar.close}, {"volume", r.bar.volume},
                {"source", r.source}};
      out += j.dump() + "\n";
    }
  } else {
    out += fmt::format("{:<{}} {:>14} {:>14} {:>14} {:>14} {:>16}\n", intraday ? "time (UTC)" : "date",
                       intraday ? 20 : 12, "open", "high", "low", "close", "volume");
    for (const auto& r : rows) {
      out += fmt::format("{:<{}} {:>14.4f} {:>14.4f} {:>14.4f} {:>14.4f} {:>16.0f}\n",
                         intraday ? format_ts_ns(r.bar.ts_ns) : r.bar.session_date.to_string(), intraday ? 20 : 12,
                         r.bar.open, r.bar.high, r.bar.low, r.bar.close, r.bar.volume);
    }
    if (hot) {
      out += fmt::format("{} bar(s) of {} from the hot cache\n", rows.size(), symbol.str());
    } else {
      out += fmt::format("{} bar(s) of {} from {} partition file(s)\n", rows.size(),
                         symbol.str(), partitions);
    }
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

// ---- rates ------------------------------------------------------------------------------------

int run_rates(const Globals& g, const std::string& series_text, const std::string& from,
              const std::string& to, const std::string& format) {
  if (format != "table" && format != "csv" && format != "json") {
    throw Error::InvalidInput(fmt::format("--format '{}' is not known; use table, csv or json", format));
  }
  const Symbol series = Symbol::parse(series_text);
  std::optional<Date> from_date, to_date;
  if (!from.empty()) from_date = Date::parse(from, "--from");
  if (!to.empty()) to_date = Date::parse(to, "--to");
  if (from_date && to_date && *to_date < *from_date) {
    throw Error::InvalidInput(fmt::format("--from {} is after --to {}", from, to));
  }
  Workspace ws = open_workspace(g.workspace);
  const auto rows = etl::read_rates(*ws.store, *ws.catalog, series, from_date, to_date);
  std::string out;
  // A missing value (FRED's ".") prints as an empty field / null, never as 0.
  if (format == "csv") {
    out += "date,value,source\n";
    for (const auto& r : rows) {
      out += fmt::format("{},{},{}\n", r.date.to_string(), r.value ? fmt::format("{}", *r.value) : "",
                         r.source);
    }
  } else if (format == "json") {
    for (const auto& r : rows) {
      json j = {{"series", series.str()}, {"date", r.date.to_string()},
                {"value", r.value ? json(*r.value) : json(nullptr)}, {"source", r.source}};
      out += j.dump() + "\n";
    }
  } else {
    out += fmt::format("{:<12} {:>14}\n", "date", "value");
    size_t missing = 0;
    for (const auto& r : rows) {
      missing += r.value ? 0 : 1;
      out += fmt::format("{:<12} {:>14}\n", r.date.to_string(),
                         r.value ? fmt::format("{:.4f}", *r.value) : std::string("(missing)"));
    }
    out += fmt::format("{} observation(s) of {}{}\n", rows.size(), series.str(),
                       missing > 0 ? fmt::format(", {} without a value", missing) : "");
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

// ---- dq and status ----------------------------------------------------------------------------

json finding_json(const etl::SeriesFinding& f) {
  return {{"symbol", f.symbol.str()}, {"timeframe", std::string(to_string(f.timeframe))},
          {"rule", f.rule}, {"first", f.first.to_string()}, {"last", f.last.to_string()},
          {"ts", f.ts_ns != 0 ? json(format_ts_ns(f.ts_ns)) : json(nullptr)}, {"count", f.count},
          {"detail", f.detail}};
}

// `trib dq --conflicts`: sessions where vendors disagree, on the raw basis.
int run_dq_conflicts(const Globals& g, Workspace& ws, const DqArgs& args) {
  etl::BarConflictOptions options;
  options.timeframe = parse_timeframe(args.timeframe);
  if (!args.symbol.empty()) options.symbol = Symbol::parse(args.symbol);
  options.tolerance = args.tolerance;
  options.action_precedence = etl::SourcePrecedence::parse(ws.config.prices.action_precedence);
  const etl::BarConflictReport report = etl::find_bar_conflicts(*ws.store, *ws.catalog, options);
  const auto prices = [](const Bar& b) {
    return fmt::format("o={:.6g} h={:.6g} l={:.6g} c={:.6g} v={:.0f}", b.open, b.high, b.low, b.close, b.volume);
  };
  if (g.json) {
    json rows = json::array();
    for (const auto& c : report.conflicts) {
      const auto side = [](const lake::CuratedBar& r) {
        return json{{"source", r.source}, {"raw_id", r.raw_id}, {"open", r.bar.open}, {"high", r.bar.high},
                    {"low", r.bar.low}, {"close", r.bar.close}, {"volume", r.bar.volume}};
      };
      rows.push_back({{"symbol", c.symbol.str()}, {"session_date", c.used.bar.session_date.to_string()},
                      {"ts", format_ts_ns(c.used.bar.ts_ns)}, {"field", c.field}, {"relative", c.relative},
                      {"used", side(c.used)}, {"other", side(c.other)}});
    }
    json summaries = json::array();
    for (const auto& m : report.summaries) {
      summaries.push_back({{"symbol", m.symbol.str()}, {"other_source", m.other_source}, {"rows", m.rows},
                           {"disagree", m.disagree}, {"median_close_ratio", m.median_close_ratio},
                           {"min_close_ratio", m.min_close_ratio}, {"max_close_ratio", m.max_close_ratio},
                           {"steady_offset", m.steady_offset(args.tolerance)}});
    }
    fmt::print("{}\n", json{{"overlapping_rows", report.overlapping_rows}, {"tolerance", args.tolerance},
                            {"summaries", summaries}, {"conflicts", rows}, {"notes", report.notes}}.dump());
    return 0;
  }
  std::string out;
  if (!report.conflicts.empty()) {
    out += fmt::format("{:<10} {:<12} {:<6} {:>8}  {:<40} {}\n", "symbol", "session", "field", "diff",
                       "used (raw basis)", "other");
  }
  for (const auto& c : report.conflicts) {
    out += fmt::format("{:<10} {:<12} {:<6} {:>7.2f}%  {:<12} {}\n{:<48} {:<12} {}\n", c.symbol.str(),
                       c.used.bar.session_date.to_string(), c.field, 100 * c.relative, c.used.source,
                       prices(c.used.bar), "", c.other.source, prices(c.other.bar));
  }
  for (const auto& m : report.summaries) {
    out += fmt::format("{}: {} row(s) of {} overlap, {} disagree; {}'s close / the curated close: median {:.4f} "
                       "({:.4f} to {:.4f}){}\n",
                       m.symbol.str(), m.rows, m.other_source, m.disagree, m.other_source, m.median_close_ratio,
                       m.min_close_ratio, m.max_close_ratio,
                       m.steady_offset(args.tolerance)
                           ? fmt::format("; a steady offset: {} adjusted for actions the catalog does not hold "
                                         "(import them: trib actions import)", m.other_source)
                           : "");
  }
  out += fmt::format("{} overlapping row(s) from other vendors, {} disagree by more than {}% on a price "
                     "(the curated row follows [prices] bar_precedence = \"{}\")\n",
                     report.overlapping_rows, report.conflicts.size(), 100 * args.tolerance,
                     ws.config.prices.bar_precedence);
  for (const auto& n : report.notes) out += "note: " + n + "\n";
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

// The quarantine counts (rule filter applied) and the findings across rows (not for one run).
struct DqData {
  std::vector<catalog::DqResult> summary;
  std::vector<etl::SeriesFinding> findings;
};

DqData dq_data(Workspace& ws, const DqArgs& args) {
  DqData d;
  d.summary = ws.catalog->dq_summary(args.run_id);
  // The catalog counts quarantined rows per (dataset, rule), across symbols.
  if (!args.rule.empty()) {
    std::erase_if(d.summary, [&](const catalog::DqResult& r) { return r.rule != args.rule; });
  }
  // Rules across rows: computed now over the curated series (not for one run's counts).
  if (args.run_id.empty()) {
    etl::SeriesCheckOptions options;
    options.thresholds = ws.config.quality;
    options.timeframe = parse_timeframe(args.timeframe);
    std::optional<Symbol> symbol;
    if (!args.symbol.empty()) symbol = Symbol::parse(args.symbol);
    d.findings = etl::check_lake_series(*ws.store, *ws.catalog, options,
                                        etl::SourcePrecedence::parse(ws.config.prices.action_precedence), symbol);
    if (!args.rule.empty()) std::erase_if(d.findings, [&](const auto& f) { return f.rule != args.rule; });
  }
  return d;
}

json dq_json_of(const DqData& d) {
  json quarantined = json::array();
  for (const auto& r : d.summary) {
    quarantined.push_back({{"run_id", r.run_id}, {"dataset", r.dataset}, {"symbol", r.symbol},
                           {"rule", r.rule}, {"rows", r.rows}});
  }
  json series = json::array();
  for (const auto& f : d.findings) series.push_back(finding_json(f));
  return {{"quarantined", quarantined}, {"findings", series}};
}

int run_dq(const Globals& g, const DqArgs& args) {
  Workspace ws = open_workspace(g.workspace);
  if (args.conflicts) return run_dq_conflicts(g, ws, args);
  const DqData d = dq_data(ws, args);
  const auto& summary = d.summary;
  const auto& findings = d.findings;
  if (g.json) {
    fmt::print("{}\n", dq_json_of(d).dump());
    return 0;
  }
  std::string out;
  if (summary.empty()) {
    out += fmt::format("no quarantined rows{}\n", args.run_id.empty() ? "" : " for run " + args.run_id);
  } else {
    out += fmt::format("quarantined rows (rejected at ingest, all symbols):\n{:<22} {:<10} {:>10}\n", "rule", "dataset",
                       "rows");
    std::map<std::pair<std::string, std::string>, int64_t> totals;
    for (const auto& r : summary) totals[{r.rule, r.dataset}] += r.rows;
    for (const auto& [key, rows] : totals) out += fmt::format("{:<22} {:<10} {:>10}\n", key.first, key.second, rows);
    out += fmt::format("the rows are in {}\n", ws.store->describe("quarantine"));
  }
  if (args.run_id.empty()) {
    // Details when the question is narrow, a summary per rule otherwise.
    const bool details = !args.symbol.empty() || !args.rule.empty();
    if (findings.empty()) {
      out += "no findings across rows (missing_sessions, session_mismatch, unexplained_jump, stale_bars, "
             "out_of_bounds, outside_calendar)\n";
    } else if (details) {
      out += fmt::format("\nfindings across rows ({}):\n", findings.size());
      for (const auto& f : findings) {
        out += fmt::format("{:<18} {:<8} {}\n", f.rule, f.symbol.str(), f.detail);
      }
    } else {
      std::map<std::string, std::pair<int64_t, std::set<std::string>>> by_rule;
      for (const auto& f : findings) {
        auto& [count, symbols] = by_rule[f.rule];
        ++count;
        symbols.insert(f.symbol.str());
      }
      out += fmt::format("\nfindings across rows (the lake as it is now):\n{:<22} {:>10} {:>9}  {}\n", "rule",
                         "findings", "symbols", "e.g.");
      for (const auto& [rule, v] : by_rule) {
        out += fmt::format("{:<22} {:>10} {:>9}  {}\n", rule, v.first, v.second.size(), *v.second.begin());
      }
      out += "details: trib dq --rule RULE or --symbol SYMBOL; vendors that disagree: trib dq --conflicts\n";
    }
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

json workspace_status(Workspace& ws) {
  auto partitions = ws.catalog->list_partitions("bars");
  int64_t rows = 0;
  std::set<std::string> symbols;
  for (const auto& p : partitions) {
    rows += p.row_count;
    symbols.insert(p.key.symbol);
  }
  int64_t rate_rows = 0;
  std::set<std::string> series;
  const auto rate_partitions = ws.catalog->list_partitions(etl::kRatesDataset);
  for (const auto& p : rate_partitions) {
    rate_rows += p.row_count;
    series.insert(p.key.symbol);
  }
  auto raws = ws.catalog->list_raw_objects();
  int64_t raw_bytes = 0;
  for (const auto& r : raws) raw_bytes += r.size;
  auto queue = ws.open_queue();
  int64_t quarantined = 0;
  size_t feature_partitions = 0;
  for (const auto& dataset : lake::feature_datasets(*ws.store)) feature_partitions += ws.catalog->list_partitions(dataset).size();
  for (const auto& r : ws.catalog->dq_summary()) quarantined += r.rows;
  // Permanent findings on the universe: instruments the vendor said it does not know.
  json unknown = json::array();
  const auto universe = ws.catalog->list_universe();
  for (const auto& e : universe) {
    if (e.status != "active") {
      unknown.push_back({{"symbol", e.symbol}, {"vendor", e.vendor}, {"status", e.status}, {"reason", e.status_reason}});
    }
  }
  return {{"workspace", ws.config.workspace.string()},
          {"universe", {{"instruments", universe.size()}, {"unknown", unknown}}},
          {"lake", ws.config.lake.kind == "local" ? ws.config.lake.path.string() : ws.store->describe("")},
          {"catalog", ws.describe_catalog()},
          {"raw_objects", raws.size()},
          {"raw_bytes", raw_bytes},
          {"curated_partitions", partitions.size()},
          {"curated_rows", rows},
          {"curated_symbols", symbols.size()},
          {"rates", {{"observations", rate_rows}, {"partitions", rate_partitions.size()}, {"series", series.size()}}},
          {"quarantined_rows", quarantined},
          {"feature_partitions", feature_partitions},
          {"queue", {{"name", queue->name()}, {"pending", queue->count()},
                     {"visible", queue->visible_count()}, {"poison", queue->poison_count()}}}};
}

int run_status(const Globals& g) {
  Workspace ws = open_workspace(g.workspace);
  json s = workspace_status(ws);
  if (g.json) {
    fmt::print("{}\n", s.dump());
    return 0;
  }
  fmt::print("workspace  {}\nlake       {}\ncatalog    {}\n", s["workspace"].get<std::string>(),
             s["lake"].get<std::string>(), s["catalog"].get<std::string>());
  fmt::print("raw        {} object(s), {} bytes\n", s["raw_objects"].get<int64_t>(), s["raw_bytes"].get<int64_t>());
  fmt::print("curated    {} row(s) in {} partition(s) of {} symbol(s)\n", s["curated_rows"].get<int64_t>(),
             s["curated_partitions"].get<int64_t>(), s["curated_symbols"].get<int64_t>());
  if (s["rates"]["series"].get<int64_t>() > 0) {
    fmt::print("rates      {} observation(s) in {} partition(s) of {} series (trib rates SERIES)\n",
               s["rates"]["observations"].get<int64_t>(), s["rates"]["partitions"].get<int64_t>(),
               s["rates"]["series"].get<int64_t>());
  }
  fmt::print("quarantine {} row(s)\n", s["quarantined_rows"].get<int64_t>());
  fmt::print("features   {} partition(s)\n", s["feature_partitions"].get<int64_t>());
  fmt::print("universe   {} instrument(s), {} unknown to their vendor\n",
             s["universe"]["instruments"].get<int64_t>(), s["universe"]["unknown"].size());
  for (const auto& u : s["universe"]["unknown"]) {
    fmt::print("  unknown {} ({}): {}\n", u["symbol"].get<std::string>(), u["vendor"].get<std::string>(),
               u["reason"].get<std::string>());
  }
  fmt::print("queue      '{}': {} pending ({} visible), {} poisoned\n",
             s["queue"]["name"].get<std::string>(), s["queue"]["pending"].get<int64_t>(),
             s["queue"]["visible"].get<int64_t>(), s["queue"]["poison"].get<int64_t>());
  auto queue = ws.open_queue();
  for (const auto& p : queue->list_poison()) {
    fmt::print("  poison {}: {} ({} deliveries)\n", p.id, p.last_error, p.dequeue_count);
  }
  return 0;
}

}  // namespace

nlohmann::json dq_json(Workspace& ws, const DqArgs& args) {
  if (args.conflicts) throw Error::InvalidInput("dq_json: the conflicts between vendors are `trib dq --conflicts`");
  return dq_json_of(dq_data(ws, args));
}

nlohmann::json status_json_for(Workspace& ws) { return workspace_status(ws); }

void add_data_commands(CLI::App& app, Globals& g, Action& action) {
  {
    auto* cmd = app.add_subcommand("init", "Create a workspace: trib.toml, lake folder, catalog and queue");
    auto dir = std::make_shared<std::string>();
    cmd->add_option("dir", *dir, "Workspace folder (default: --workspace or .)");
    cmd->callback([&g, &action, dir] {
      action = [&g, dir] {
        std::string target = dir->empty() ? g.workspace : *dir;
        bool created = init_workspace(target);
        Config c = Config::load(target);
        Workspace ws = open_workspace(target);
        fmt::print("{} workspace {}\n  config  {}\n  lake    {}\n  catalog {}\n  queue   {} ({})\n",
                   created ? "created" : "already a", c.workspace.string(), (c.workspace / "trib.toml").string(),
                   c.lake.kind == "local" ? c.lake.path.string() : ws.store->describe(""), ws.describe_catalog(),
                   c.queue.name, c.queue.kind);
        return 0;
      };
    });
  }
  {
    auto* cmd = app.add_subcommand(
        "ingest", "Ingest local files (csv) or one symbol (sim) into raw and curated");
    cmd->footer(
        "csv files: Yahoo, Stooq, Alpha Vantage or Kaggle CSV with a header (oldest or newest "
        "first), Lean daily CSV (yyyyMMdd HH:mm,open,...; prices x 10,000) or a zip holding one.\n"
        "Several files: --file 'data/*.csv' (quoted: trib expands it, sorted), --file DIR (its "
        "*.csv, *.txt, *.zip), or --file repeated; each file is its own raw payload.\n"
        "Symbol: a file with a Name/Symbol/Ticker column names its own (--symbol is refused); "
        "otherwise --symbol, or the file name: extensions and one suffix (.us, _us, _us_d, "
        "_us_daily, _daily, _d) dropped, upper-cased, if it looks like a ticker (AAPL.csv, "
        "aapl.us.txt, aapl.zip -> AAPL; spy_us_daily.csv -> SPY). --symbol with several files "
        "is refused.\n"
        "Refused unless --quarantine-bad-rows: rows that cannot be read, dates outside "
        "1900-01-01..2100-12-31, a date twice in one file.");
    auto args = std::make_shared<IngestArgs>();
    cmd->add_option("--vendor", args->vendor, "Vendor: csv, sim, or a REST vendor (with --file: a file saved from it)")->required();
    cmd->add_option("--file", args->files,
                    "csv: a file, a folder or a quoted glob such as 'data/*.csv' (repeatable); another "
                    "vendor: a file saved from it (a Stooq CSV, a Yahoo chart JSON, ...), read with its "
                    "price basis");
    cmd->add_option("--symbol", args->symbol,
                    "The symbol of a single-symbol file, e.g. ^GSPC (csv default: from the file "
                    "name)");
    cmd->add_option("--from", args->from, "First session date YYYY-MM-DD");
    cmd->add_option("--to", args->to, "Last session date YYYY-MM-DD");
    cmd->add_option("--timeframe", args->timeframe,
                    "Bar length of the file: 1d (default), 1h or 1m (a Datetime/Timestamp column, or Lean "
                    "minute files yyyyMMdd_sym_minute_trade.csv)");
    cmd->add_option("--calendar", args->calendar,
                    "Trading calendar of the bars: nyse (default) or fx (24x5: sessions from 17:00 New York)");
    cmd->add_option("--price-basis", args->price_basis,
                    "csv: the prices in the file are raw (as traded), split (split-adjusted) or total (split- and "
                    "dividend-adjusted, as Stooq's); auto (default): split when there is an Adj Close column "
                    "(Yahoo's downloads), else raw. Adjusted prices are read back into raw ones, never adjusted twice");
    cmd->add_flag("--quarantine-bad-rows", args->quarantine_bad_rows,
                  "Quarantine malformed rows with their reasons instead of refusing the file");
    cmd->add_option("--threads", args->threads,
                    "Threads for a file touching many partitions (default 0: one per core)")
        ->check(CLI::Range(0, 64));
    cmd->add_flag("--json", g.json, "Machine-readable summary");
    cmd->callback([&g, &action, args] { action = [&g, args] { return run_ingest(g, *args); }; });
  }
  {
    auto* cmd = app.add_subcommand(
        "etl", "Re-apply the raw objects in the catalog to curated (idempotent); --rebuild starts "
               "each partition over from raw, reproducing the curated zone byte for byte");
    auto symbol = std::make_shared<std::string>();
    auto vendor = std::make_shared<std::string>();
    auto rebuild = std::make_shared<bool>(false);
    cmd->add_option("--symbol", *symbol, "Only this symbol's raw objects");
    cmd->add_option("--vendor", *vendor, "Only this vendor's raw objects");
    cmd->add_flag("--rebuild", *rebuild,
                  "Ignore what curated holds: rebuild the touched partitions from raw only");
    cmd->add_flag("--json", g.json, "Machine-readable summary");
    cmd->callback([&g, &action, symbol, vendor, rebuild] {
      action = [&g, symbol, vendor, rebuild] { return run_etl(g, *symbol, *vendor, *rebuild); };
    });
  }
  {
    auto* cmd = app.add_subcommand(
        "verify", "Check every curated partition: version objects by SHA-256, live files published, and the "
                  "rows against a rebuild from the raw zone in scratch space (exit 5 on corruption, 1 on "
                  "stale live files or rows raw does not rebuild to)");
    auto args = std::make_shared<VerifyArgs>();
    cmd->add_flag("--repair", args->repair, "Republish live files a crash left stale");
    cmd->add_flag("--quick", args->quick, "Skip the rebuild from raw (hashes and live files only)");
    cmd->add_option("--symbol", args->symbol, "Only this symbol's partitions");
    cmd->add_flag("--json", g.json, "Machine-readable output");
    cmd->callback([&g, &action, args] { action = [&g, args] { return run_verify(g, *args); }; });
  }
  {
    auto* cmd = app.add_subcommand(
        "vacuum", "Remove replaced partition versions no --as-of within the window needs (never the live "
                  "version, never raw); a dry run unless --apply");
    auto older_than = std::make_shared<std::string>("30d");
    auto apply = std::make_shared<bool>(false);
    cmd->add_option("--older-than", *older_than, "Keep what an --as-of within this window reads: 30d (default), 12h, 90m");
    cmd->add_flag("--apply", *apply, "Remove them (without it: list what would go)");
    cmd->add_flag("--json", g.json, "Machine-readable output");
    cmd->callback([&g, &action, older_than, apply] {
      action = [&g, older_than, apply] { return run_vacuum(g, *older_than, *apply); };
    });
  }
  {
    auto* cmd = app.add_subcommand("bars", "Print curated bars of a symbol (reads only partitions in range), raw or adjusted");
    auto args = std::make_shared<BarsArgs>();
    cmd->add_option("symbol", args->symbol, "Symbol, e.g. ^GSPC")->required();
    cmd->add_flag("--hot", args->hot, "Answer from the catalog's hot cache (the last [hot_cache] sessions) without reading Parquet");
    cmd->add_option("--from", args->from, "First session date YYYY-MM-DD");
    cmd->add_option("--to", args->to, "Last session date YYYY-MM-DD");
    cmd->add_option("--adjust", args->adjust,
                    "raw (as traded, default), split (split-adjusted) or total (splits and dividends: total "
                    "return), from the corporate actions in the catalog (trib actions)");
    cmd->add_option("--as-of", args->as_of,
                    "The lake and the corporate actions as they were then (YYYY-MM-DD: end of that day (UTC), "
                    "or a timestamp); versions replaced since are read from _versions/");
    cmd->add_option("--timeframe", args->timeframe,
                    "Bar length: 1d (default), 1h, 1m as stored, or any minutes/hours dividing a day (5m, 15m, "
                    "4h) grouped from finer stored bars on read: never across sessions, clock-aligned");
    cmd->add_option("--session", args->session,
                    "regular (09:30-16:00 New York, 13:00 on half days; the default when bars are grouped) or "
                    "all (pre- and post-market too; the default for bars as stored)");
    cmd->add_flag("--ticker-only", args->ticker_only,
                  "Only the rows stored under this ticker (by default an instrument that changed its symbol, per "
                  "trib actions' symbol changes, is read under each name it had: WM as WMI before 2009-08-05)");
    cmd->add_option("--format", args->format, "table (default), csv or json (one object per line)");
    cmd->callback([&g, &action, args] { action = [&g, args] { return run_bars(g, *args); }; });
  }
  {
    auto* cmd = app.add_subcommand("rates", "Print a curated economic series (dataset rates, e.g. FRED's DFF)");
    auto series = std::make_shared<std::string>();
    auto from = std::make_shared<std::string>();
    auto to = std::make_shared<std::string>();
    auto format = std::make_shared<std::string>("table");
    cmd->add_option("series", *series, "Series id, e.g. DFF")->required();
    cmd->add_option("--from", *from, "First date YYYY-MM-DD");
    cmd->add_option("--to", *to, "Last date YYYY-MM-DD");
    cmd->add_option("--format", *format, "table (default), csv or json (one object per line)");
    cmd->callback([&g, &action, series, from, to, format] {
      action = [&g, series, from, to, format] { return run_rates(g, *series, *from, *to, *format); };
    });
  }
  {
    auto* cmd = app.add_subcommand(
        "dq", "Data-quality findings: rows quarantined at ingest per rule, and the rules across rows "
              "(missing sessions, jumps no split explains, stale bars, ...) over the lake as it is now");
    auto args = std::make_shared<DqArgs>();
    cmd->add_option("--run", args->run_id, "Only the quarantine counts of this run id");
    cmd->add_option("--symbol", args->symbol, "Only this symbol (lists each finding)");
    cmd->add_option("--rule", args->rule, "Only this rule (lists each finding)");
    cmd->add_option("--timeframe", args->timeframe, "Bars checked across rows: 1d (default), 1h, 1m");
    cmd->add_flag("--conflicts", args->conflicts,
                  "Sessions where vendors disagree: other vendors' rows against the curated row, on the raw basis");
    cmd->add_option("--tolerance", args->tolerance, "With --conflicts: relative price difference that is a "
                                                    "disagreement (default 0.005)")
        ->check(CLI::Range(0.0, 1.0));
    cmd->add_flag("--json", g.json, "Machine-readable output");
    cmd->callback([&g, &action, args] { action = [&g, args] { return run_dq(g, *args); }; });
  }
  {
    auto* cmd = app.add_subcommand("status", "Workspace summary: raw, curated, quarantine, features, queue");
    cmd->add_flag("--json", g.json, "Machine-readable output");
    cmd->callback([&g, &action] { action = [&g] { return run_status(g); }; });
  }
}

}  // namespace trib::cli

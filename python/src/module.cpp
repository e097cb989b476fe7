// _tributary: the engine as a Python extension. Every call runs the code the CLI runs (trib_cli's
// command bodies and the modules under them), with the GIL released while it works; tables come
// back as columns (NumPy arrays that own the engine's vectors) for the Python layer to wrap in
// DataFrames. Errors arrive as tributary's exception classes, one per error category.
#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include <fmt/format.h>
#include <pybind11/stl.h>

#include "cli.hpp"
#include "convert.hpp"
#include "strategy.hpp"
#include "trib/core/calendar.hpp"
#include "trib/core/error.hpp"
#include "trib/core/log.hpp"
#include "trib/core/text.hpp"
#include "trib/features/feature_set.hpp"
#include "trib/ml/dataset.hpp"
#include "trib/ml/model_config.hpp"
#include "trib/ml/predict.hpp"
#include "trib/trading/backtest_store.hpp"

namespace trib::python {

using nlohmann::json;

py::object to_python(const json& j) {
  switch (j.type()) {
    case json::value_t::null: return py::none();
    case json::value_t::boolean: return py::bool_(j.get<bool>());
    case json::value_t::number_integer: return py::int_(j.get<int64_t>());
    case json::value_t::number_unsigned: return py::int_(j.get<uint64_t>());
    case json::value_t::number_float: return py::float_(j.get<double>());
    case json::value_t::string: return py::str(j.get_ref<const std::string&>());
    case json::value_t::array: {
      py::list out;
      for (const auto& v : j) out.append(to_python(v));
      return out;
    }
    case json::value_t::object: {
      py::dict out;
      for (const auto& [k, v] : j.items()) out[py::str(k)] = to_python(v);
      return out;
    }
    default: return py::none();
  }
}

namespace {

const char* exception_class(ErrorCategory category) {
  switch (category) {
    case ErrorCategory::kInvalidInput: return "InvalidInput";
    case ErrorCategory::kNotFound: return "NotFound";
    case ErrorCategory::kConflict: return "Conflict";
    case ErrorCategory::kRetryable: return "Transient";
    case ErrorCategory::kRateLimited: return "RateLimited";
    case ErrorCategory::kPermanent: return "Permanent";
    case ErrorCategory::kDataLoss: return "DataLoss";
    case ErrorCategory::kInternal: return "Internal";
  }
  return "Error";
}

// Bars as columns; rows of several symbols carry their symbol's index.
struct BarColumns {
  std::vector<int64_t> ts, session_date;
  std::vector<double> open, high, low, close, volume;
  std::vector<int32_t> source, symbol;
  std::vector<std::string> sources;
  std::map<std::string, int32_t> source_index;

  void append(const std::vector<lake::CuratedBar>& rows, int32_t symbol_index) {
    // No reserve() here: exact reserves per symbol would copy the panel once per symbol.
    for (const auto& r : rows) {
      ts.push_back(r.bar.ts_ns);
      session_date.push_back(day_ns(r.bar.session_date.days_since_epoch()));
      open.push_back(r.bar.open);
      high.push_back(r.bar.high);
      low.push_back(r.bar.low);
      close.push_back(r.bar.close);
      volume.push_back(r.bar.volume);
      auto [it, fresh] = source_index.try_emplace(r.source, static_cast<int32_t>(sources.size()));
      if (fresh) sources.push_back(r.source);
      source.push_back(it->second);
      symbol.push_back(symbol_index);
    }
  }

  py::dict to_dict() {
    py::dict d;
    d["ts"] = to_numpy(std::move(ts));
    d["session_date"] = to_numpy(std::move(session_date));
    d["open"] = to_numpy(std::move(open));
    d["high"] = to_numpy(std::move(high));
    d["low"] = to_numpy(std::move(low));
    d["close"] = to_numpy(std::move(close));
    d["volume"] = to_numpy(std::move(volume));
    d["source_code"] = to_numpy(std::move(source));
    d["sources"] = sources;
    d["symbol_code"] = to_numpy(std::move(symbol));
    return d;
  }
};

// Row order by symbol, then as given (dates ascend within a symbol): the frames' (symbol, date) order.
std::vector<size_t> by_symbol(const std::vector<int32_t>& symbol) {
  std::vector<size_t> order(symbol.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return symbol[a] < symbol[b]; });
  return order;
}

template <class T>
std::vector<T> permuted(const std::vector<T>& values, const std::vector<size_t>& order) {
  std::vector<T> out(order.size());
  for (size_t i = 0; i < order.size(); ++i) out[i] = values[order[i]];
  return out;
}

std::optional<Date> date_arg(const std::string& text, const char* what) {
  if (text.empty()) return std::nullopt;
  return Date::parse(text, what);
}

void check_range(const std::optional<Date>& from, const std::optional<Date>& to) {
  if (from && to && *to < *from) {
    throw Error::InvalidInput(fmt::format("start {} is after end {}", from->to_string(), to->to_string()));
  }
}

// The [strategy] table with a built-in's name and the parameters given as keyword arguments.
StrategyConfig strategy_config(const Config& config, const std::string& name, const py::dict& params) {
  StrategyConfig s = config.strategy;
  if (!name.empty()) s.name = name;
  for (const auto& [key_handle, value] : params) {
    const std::string key = py::str(key_handle);
    if (key == "fast") s.fast = value.cast<int>();
    else if (key == "slow") s.slow = value.cast<int>();
    else if (key == "lookback") s.lookback = value.cast<int>();
    else if (key == "skip") s.skip = value.cast<int>();
    else if (key == "top_k") s.top_k = value.cast<int>();
    else if (key == "drop_n") s.drop_n = value.cast<int>();
    else if (key == "rebalance_days") s.rebalance_days = value.cast<int>();
    else if (key == "model") s.model = value.cast<std::string>();
    else if (key == "risk_free_rate") s.risk_free_rate = value.cast<double>();
    else {
      throw Error::InvalidInput(fmt::format(
          "backtest: '{}' is not a strategy parameter; use fast, slow (sma_cross), lookback, skip, top_k, "
          "rebalance_days (momentum), top_k, drop_n, model (topk_dropout) or risk_free_rate",
          key));
    }
  }
  return s;
}

// A backtest's fills as columns (ws.backtest and ws.saved_backtest hand over the same shape).
struct TradeColumns {
  std::vector<int64_t> ts, session_date;
  std::vector<int32_t> symbol, side;
  std::vector<double> qty, price, reference, commission, realized;
  std::vector<std::string> symbols;

  void add(int64_t time, Date date, int32_t symbol_index, int side_sign, double q, double p, double ref, double fee,
           double pnl) {
    ts.push_back(time);
    session_date.push_back(day_ns(date.days_since_epoch()));
    symbol.push_back(symbol_index);
    side.push_back(side_sign);
    qty.push_back(q);
    price.push_back(p);
    reference.push_back(ref);
    commission.push_back(fee);
    realized.push_back(pnl);
  }
  py::dict to_dict() {
    py::dict d;
    d["ts"] = to_numpy(std::move(ts));
    d["session_date"] = to_numpy(std::move(session_date));
    d["symbol_code"] = to_numpy(std::move(symbol));
    d["symbols"] = symbols;
    d["side"] = to_numpy(std::move(side));
    d["qty"] = to_numpy(std::move(qty));
    d["price"] = to_numpy(std::move(price));
    d["reference"] = to_numpy(std::move(reference));
    d["commission"] = to_numpy(std::move(commission));
    d["realized"] = to_numpy(std::move(realized));
    return d;
  }
};

// The daily equity curve as columns.
struct EquityColumns {
  std::vector<int64_t> ts, session_date;
  std::vector<double> equity, cash, gross, net, benchmark;

  void add(int64_t time, Date date, double e, double c, double g, double n, double b) {
    ts.push_back(time);
    session_date.push_back(day_ns(date.days_since_epoch()));
    equity.push_back(e);
    cash.push_back(c);
    gross.push_back(g);
    net.push_back(n);
    benchmark.push_back(b);
  }
  py::dict to_dict() {
    py::dict d;
    d["ts"] = to_numpy(std::move(ts));
    d["session_date"] = to_numpy(std::move(session_date));
    d["equity"] = to_numpy(std::move(equity));
    d["cash"] = to_numpy(std::move(cash));
    d["gross"] = to_numpy(std::move(gross));
    d["net"] = to_numpy(std::move(net));
    d["benchmark"] = to_numpy(std::move(benchmark));
    return d;
  }
};

class PyWorkspace {
 public:
  explicit PyWorkspace(const std::string& path) : path_(path) {
    py::gil_scoped_release release;
    ws_ = std::make_unique<cli::Workspace>(cli::open_workspace(path));
  }

  const std::string& path() const { return path_; }

  py::dict bars(const std::string& symbol, const std::string& start, const std::string& end, const std::string& adjust,
                const std::string& timeframe, const std::string& as_of, const std::string& session, bool ticker_only) {
    BarColumns columns;
    std::vector<std::string> notes;
    {
      py::gil_scoped_release release;
      const Busy busy(*this);
      const cli::BarsRead read = cli::read_bars_rows(*ws_, bars_args(symbol, start, end, adjust, timeframe, as_of,
                                                                     session, ticker_only));
      columns.append(read.rows, 0);
      notes = read.notes;
    }
    py::dict d = columns.to_dict();
    d["notes"] = notes;
    return d;
  }

  py::dict bars_panel(const std::vector<std::string>& symbols, const std::string& start, const std::string& end,
                      const std::string& adjust, const std::string& timeframe, const std::string& as_of,
                      const std::string& session) {
    BarColumns columns;
    std::vector<std::string> names, notes;
    {
      py::gil_scoped_release release;
      const Busy busy(*this);
      if (symbols.empty()) {
        for (const Symbol& s : cli::universe_of(*ws_, {})) names.push_back(s.str());
      } else {
        for (const auto& text : symbols) names.push_back(Symbol::parse(text).str());
      }
      for (size_t i = 0; i < names.size(); ++i) {
        const cli::BarsRead read =
            cli::read_bars_rows(*ws_, bars_args(names[i], start, end, adjust, timeframe, as_of, session, false));
        columns.append(read.rows, static_cast<int32_t>(i));
        for (const auto& n : read.notes) notes.push_back(n);
      }
    }
    py::dict d = columns.to_dict();
    d["symbols"] = names;
    d["notes"] = notes;
    return d;
  }

  py::dict features(const std::string& set_name, const std::vector<std::string>& symbols, const std::string& start,
                    const std::string& end, bool compute) {
    ml::Dataset data;
    json computed;
    {
      py::gil_scoped_release release;
      const Busy busy(*this);
      const auto from = date_arg(start, "start"), to = date_arg(end, "end");
      check_range(from, to);
      if (compute) computed = cli::run_features_json(*ws_, path_, set_name, symbols);
      const features::FeatureSet set = features::load_feature_set(set_name, path_);
      data = ml::read_feature_rows(*ws_->store, *ws_->catalog, set, cli::universe_of(*ws_, symbols),
                                   from.value_or(Date::from_ymd(1900, 1, 1)), to.value_or(Date::from_ymd(2200, 12, 31)),
                                   Timeframe::kDay1);
    }
    // The dataset's rows go by date, then symbol; the frame's by symbol, then date.
    const std::vector<size_t> order = by_symbol(data.symbol);
    std::vector<int64_t> day(order.size());
    for (size_t i = 0; i < day.size(); ++i) day[i] = day_ns(data.day[order[i]]);
    py::dict d;
    d["session_date"] = to_numpy(std::move(day));
    d["symbol_code"] = to_numpy(permuted(data.symbol, order));
    d["symbols"] = data.symbols;
    d["names"] = data.feature_names;
    py::list values;
    for (auto& column : data.x) {
      values.append(to_numpy(permuted(column, order)));
      column = {};
    }
    d["values"] = values;
    d["computed"] = to_python(computed);
    return d;
  }

  py::dict eval(const std::vector<std::string>& formulas, const std::vector<std::string>& symbols,
                const std::string& start, const std::string& end, const std::string& adjust, bool label) {
    std::vector<int64_t> day;
    std::vector<int32_t> symbol;
    std::vector<std::vector<double>> values;
    std::vector<std::string> names, symbol_names;
    {
      py::gil_scoped_release release;
      const Busy busy(*this);
      const auto from = date_arg(start, "start"), to = date_arg(end, "end");
      check_range(from, to);
      cli::EvalTable table = cli::evaluate_formulas(*ws_, formulas, symbols, adjust, label);
      names = table.names;
      values.resize(names.size());
      for (size_t s = 0; s < table.inputs.size(); ++s) {
        symbol_names.push_back(table.inputs[s].symbol);
        const auto& dates = table.inputs[s].dates;
        for (size_t i = 0; i < dates.size(); ++i) {
          if ((from && dates[i] < *from) || (to && *to < dates[i])) continue;
          day.push_back(day_ns(dates[i].days_since_epoch()));
          symbol.push_back(static_cast<int32_t>(s));
          for (size_t k = 0; k < names.size(); ++k) values[k].push_back(table.values[s][k][i]);
        }
      }
    }
    py::dict d;
    d["session_date"] = to_numpy(std::move(day));
    d["symbol_code"] = to_numpy(std::move(symbol));
    d["symbols"] = symbol_names;
    d["names"] = names;
    py::list columns;
    for (auto& v : values) columns.append(to_numpy(std::move(v)));
    d["values"] = columns;
    return d;
  }

  py::object actions(const std::string& symbol, const std::string& as_of) {
    json out = json::array();
    {
      py::gil_scoped_release release;
      const Busy busy(*this);
      for (const auto& [record, used] : cli::actions_in_force(*ws_, symbol, as_of)) {
        out.push_back(cli::action_json(record, used));
      }
    }
    return to_python(out);
  }

  py::object coverage(const std::string& symbol, const std::string& vendor, int from_year, int to_year,
                      const std::string& as_of) {
    return locked_json([&] {
      cli::CoverageArgs args;
      args.symbol = symbol;
      args.vendor = vendor;
      args.from_year = from_year;
      args.to_year = to_year;
      args.as_of = as_of;
      return cli::coverage_json(*ws_, args);
    });
  }

  py::object dq(const std::string& symbol, const std::string& rule, const std::string& timeframe,
                const std::string& run_id) {
    return locked_json([&] {
      cli::DqArgs args;
      args.symbol = symbol;
      args.rule = rule;
      args.timeframe = timeframe;
      args.run_id = run_id;
      return cli::dq_json(*ws_, args);
    });
  }

  py::object ingest(const std::string& vendor, const std::vector<std::string>& files, const std::string& symbol,
                    const std::string& start, const std::string& end, const std::string& timeframe,
                    const std::string& calendar, const std::string& price_basis, bool quarantine_bad_rows, int threads) {
    std::vector<std::string> lines;
    py::object out = locked_json([&] {
      cli::IngestArgs args;
      args.vendor = vendor;
      args.files = files;
      args.symbol = symbol;
      args.from = start;
      args.to = end;
      args.timeframe = timeframe;
      args.calendar = calendar;
      args.price_basis = price_basis;
      args.quarantine_bad_rows = quarantine_bad_rows;
      args.threads = threads;
      // No signal handler in a Python process: Python owns SIGINT (KeyboardInterrupt).
      return cli::ingest_json(*ws_, args, {}, &lines);
    });
    out["lines"] = lines;
    return out;
  }

  py::object update(const std::string& as_of, bool no_drain, int workers) {
    int status = 0;
    py::object out = locked_json([&] {
      const std::atomic<bool> stop{false};
      return cli::update_json(*ws_, cli::planning_time(as_of), no_drain, workers, stop, &status);
    });
    out["status"] = status;
    return out;
  }

  py::object models() {
    return locked_json([&] {
      json out = json::array();
      for (const auto& m : ws_->catalog->list_models()) out.push_back(cli::model_json(m));
      return out;
    });
  }

  py::dict predictions(const std::string& model_id, const std::vector<std::string>& symbols, const std::string& start,
                       const std::string& as_of) {
    std::vector<int64_t> day;
    std::vector<int32_t> symbol, split;
    std::vector<double> prediction;
    std::vector<std::string> names;
    {
      py::gil_scoped_release release;
      const Busy busy(*this);
      std::vector<Symbol> wanted;
      for (const auto& s : symbols) wanted.push_back(Symbol::parse(s));
      const Date from = date_arg(start, "start").value_or(Date::from_ymd(1900, 1, 1));
      const Date until = date_arg(as_of, "as_of").value_or(Date::today_utc());
      check_range(from, until);
      if (!ws_->catalog->get_model(model_id)) {
        throw Error::NotFound(fmt::format("no model '{}' (ws.models() lists them)", model_id));
      }
      std::map<std::string, int32_t> index;
      for (const auto& r : ml::read_predictions(*ws_->store, *ws_->catalog, model_id, wanted, from, until)) {
        auto [it, fresh] = index.try_emplace(r.symbol, static_cast<int32_t>(names.size()));
        if (fresh) names.push_back(r.symbol);
        day.push_back(day_ns(r.day));
        symbol.push_back(it->second);
        prediction.push_back(r.prediction);
        split.push_back(r.split);
      }
    }
    // Read by date, then symbol; the frame goes by symbol (in name order), then date.
    std::vector<int32_t> rank(names.size());
    {
      std::vector<int32_t> sorted(names.size());
      for (size_t i = 0; i < sorted.size(); ++i) sorted[i] = static_cast<int32_t>(i);
      std::sort(sorted.begin(), sorted.end(), [&](int32_t a, int32_t b) { return names[a] < names[b]; });
      for (size_t r = 0; r < sorted.size(); ++r) rank[sorted[r]] = static_cast<int32_t>(r);
      std::vector<std::string> ordered(names.size());
      for (size_t i = 0; i < names.size(); ++i) ordered[rank[i]] = names[i];
      names = std::move(ordered);
      for (auto& s : symbol) s = rank[s];
    }
    const std::vector<size_t> order = by_symbol(symbol);
    py::dict d;
    d["session_date"] = to_numpy(permuted(day, order));
    d["symbol_code"] = to_numpy(permuted(symbol, order));
    d["symbols"] = names;
    d["prediction"] = to_numpy(permuted(prediction, order));
    d["split"] = to_numpy(permuted(split, order));
    return d;
  }

  // A model from a config: a path to a TOML file, or the TOML itself (it holds a newline).
  py::object train(const std::string& config, const std::string& export_dir, bool progress) {
    std::function<void(const std::string&)> report;
    if (progress) {
      report = [](const std::string& line) {
        py::gil_scoped_acquire gil;
        py::print(line, py::arg("file") = py::module_::import("sys").attr("stderr"), py::arg("flush") = true);
      };
    }
    return locked_json([&] {
      const ml::ModelConfig c = config.find('\n') != std::string::npos ? ml::ModelConfig::parse(config, "config")
                                                                        : ml::ModelConfig::load(config);
      return cli::train_json(*ws_, path_, c, export_dir, report);
    });
  }

  py::object predict(const std::string& model_id, const std::string& start, const std::string& end) {
    return locked_json([&] {
      check_range(date_arg(start, "start"), date_arg(end, "end"));
      return cli::predict_json(*ws_, path_, model_id, start, end);
    });
  }

  // Saved backtests, newest first: each run's summary (result.json).
  py::object backtests() {
    return locked_json([&] {
      json out = json::array();
      for (const auto& run : trading::list_backtests(*ws_->store, *ws_->catalog)) {
        out.push_back(trading::read_backtest_summary(*ws_->store, *ws_->catalog, run.run_id));
      }
      return out;
    });
  }

  // A saved run read back: (summary, trades columns, equity columns) as ws.backtest returns them.
  py::tuple saved_backtest(const std::string& run_id) {
    json summary;
    std::vector<trading::StoredTrade> trades;
    std::vector<trading::StoredEquityPoint> curve;
    {
      py::gil_scoped_release release;
      const Busy busy(*this);
      trading::check_backtest_run_id(run_id);
      summary = trading::read_backtest_summary(*ws_->store, *ws_->catalog, run_id);
      trades = trading::read_backtest_trades(*ws_->store, *ws_->catalog, run_id);
      curve = trading::read_backtest_equity(*ws_->store, *ws_->catalog, run_id);
    }
    // The same columns as a run just made (side +1/-1, symbols by code in order of first trade).
    TradeColumns tr;
    std::map<std::string, int32_t> index;
    for (const auto& t : trades) {
      auto [it, fresh] = index.try_emplace(t.symbol, static_cast<int32_t>(tr.symbols.size()));
      if (fresh) tr.symbols.push_back(t.symbol);
      tr.add(t.ts, t.date, it->second, t.side == "buy" ? 1 : -1, t.qty, t.price, t.reference_price, t.commission,
             t.realized_pnl);
    }
    EquityColumns eq;
    for (const auto& p : curve) eq.add(p.ts, p.date, p.equity, p.cash, p.gross, p.net, p.benchmark);
    return py::make_tuple(to_python(summary), tr.to_dict(), eq.to_dict());
  }

  py::object status() {
    return locked_json([&] { return cli::status_json_for(*ws_); });
  }

  // A backtest of a built-in strategy (`name`) or a Python object with on_bar. Returns
  // (summary, trades columns, equity columns).
  py::tuple backtest(py::object strategy, const std::string& name, const py::dict& params,
                     const std::vector<std::string>& symbols, const std::string& benchmark, const std::string& start,
                     const std::string& end, const std::string& adjust, const std::string& as_of, bool save,
                     const std::string& timeframe, const std::string& feature_set, const std::string& code) {
    StrategyConfig s = strategy_config(ws_->config, strategy.is_none() ? name : std::string(), params);
    if (!symbols.empty()) {
      s.universe.clear();
      for (const auto& sym : symbols) s.universe += (s.universe.empty() ? "" : ",") + sym;
    }
    if (!benchmark.empty()) s.benchmark = benchmark;
    check_range(date_arg(start, "start"), date_arg(end, "end"));
    cli::BacktestRun run;
    json summary;
    std::unique_ptr<trading::Strategy> object;
    if (strategy.is_none()) {
      object = trading::make_strategy(s);
    } else {
      object = make_python_strategy(strategy, &run);
      s.name = object->name();
    }
    {
      py::gil_scoped_release release;
      const Busy busy(*this);
      summary = cli::run_backtest_with(*ws_, *object, strategy.is_none() ? "" : code, s, start, end, adjust, as_of,
                                       save, timeframe, feature_set, &run);
    }
    object.reset();  // drops the Python object with the GIL held
    return py::make_tuple(to_python(summary), trades_columns(run), equity_columns(run));
  }

 private:
  template <class F>
  py::object locked_json(F&& f) {
    json out;
    {
      py::gil_scoped_release release;
      const Busy busy(*this);
      out = f();
    }
    return to_python(out);
  }

  cli::BarsArgs bars_args(const std::string& symbol, const std::string& start, const std::string& end,
                                 const std::string& adjust, const std::string& timeframe, const std::string& as_of,
                                 const std::string& session, bool ticker_only) {
    cli::BarsArgs args;
    args.symbol = symbol;
    args.from = start;
    args.to = end;
    // Default: the prices features and backtests see ([prices] adjust, total unless changed).
    args.adjust = adjust.empty() ? ws_->config.prices.adjust : adjust;
    args.timeframe = timeframe;
    args.as_of = as_of;
    args.session = session;
    args.ticker_only = ticker_only;
    // The CLI's messages name its options; the same checks, worded for Python's arguments.
    check_range(date_arg(start, "start"), date_arg(end, "end"));
    return args;
  }

  static py::dict trades_columns(const cli::BacktestRun& run) {
    TradeColumns c;
    for (const auto& t : run.result.trades) {
      c.add(t.time, t.date, static_cast<int32_t>(t.symbol), t.side, t.qty, t.price, t.reference, t.commission,
            t.realized);
    }
    if (run.data) {
      for (const auto& s : run.data->symbols) c.symbols.push_back(s.symbol);
    }
    return c.to_dict();
  }

  static py::dict equity_columns(const cli::BacktestRun& run) {
    EquityColumns c;
    for (const auto& p : run.result.curve) c.add(p.time, p.date, p.equity, p.cash, p.gross, p.net, p.benchmark);
    return c.to_dict();
  }

  // One call at a time per workspace (its catalog session belongs to one thread). A call made
  // from inside one (a strategy's on_bar calling ws.bars) would wait on itself: refused instead.
  class Busy {
   public:
    explicit Busy(PyWorkspace& w) : w_(w) {
      if (w_.owner_.load() == std::this_thread::get_id()) {
        throw Error::Conflict(
            "this Workspace is busy with the call that is running on_bar; read what a strategy needs from its "
            "view, or open a second tributary.Workspace on the same folder");
      }
      w_.mutex_.lock();
      w_.owner_ = std::this_thread::get_id();
    }
    ~Busy() {
      w_.owner_ = std::thread::id();
      w_.mutex_.unlock();
    }
    Busy(const Busy&) = delete;
    Busy& operator=(const Busy&) = delete;

   private:
    PyWorkspace& w_;
  };

  std::string path_;
  std::unique_ptr<cli::Workspace> ws_;
  std::mutex mutex_;
  std::atomic<std::thread::id> owner_{};
};

bool init_workspace(const std::string& path) {
  py::gil_scoped_release release;
  return cli::init_workspace(path);
}

}  // namespace
}  // namespace trib::python

PYBIND11_MODULE(_tributary, m) {
  using namespace trib;
  using namespace trib::python;
  m.doc() = "Tributary's engine (C++). Use the `tributary` package, which wraps this module.";
  log::set_level(log::Level::kWarn);

  // trib::Error -> the exception class of its category (tributary/_errors.py), message as the CLI's.
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const Error& e) {
      const py::object cls = py::module_::import("tributary._errors").attr(exception_class(e.category()));
      PyErr_SetString(cls.ptr(), log::redact(e.what()).c_str());
    }
  });

  m.def("code_version", [] { return std::string(code_version()); });
  m.def("init", &init_workspace, py::arg("path"));

  py::class_<PyWorkspace>(m, "Workspace")
      .def(py::init<const std::string&>(), py::arg("path"))
      .def_property_readonly("path", &PyWorkspace::path)
      .def("bars", &PyWorkspace::bars, py::arg("symbol"), py::arg("start"), py::arg("end"), py::arg("adjust"),
           py::arg("timeframe"), py::arg("as_of"), py::arg("session"), py::arg("ticker_only"))
      .def("bars_panel", &PyWorkspace::bars_panel, py::arg("symbols"), py::arg("start"), py::arg("end"),
           py::arg("adjust"), py::arg("timeframe"), py::arg("as_of"), py::arg("session"))
      .def("features", &PyWorkspace::features, py::arg("set"), py::arg("symbols"), py::arg("start"), py::arg("end"),
           py::arg("compute"))
      .def("eval", &PyWorkspace::eval, py::arg("formulas"), py::arg("symbols"), py::arg("start"), py::arg("end"),
           py::arg("adjust"), py::arg("label"))
      .def("actions", &PyWorkspace::actions, py::arg("symbol"), py::arg("as_of"))
      .def("coverage", &PyWorkspace::coverage, py::arg("symbol"), py::arg("vendor"), py::arg("from_year"),
           py::arg("to_year"), py::arg("as_of"))
      .def("dq", &PyWorkspace::dq, py::arg("symbol"), py::arg("rule"), py::arg("timeframe"), py::arg("run_id"))
      .def("ingest", &PyWorkspace::ingest, py::arg("vendor"), py::arg("files"), py::arg("symbol"), py::arg("start"),
           py::arg("end"), py::arg("timeframe"), py::arg("calendar"), py::arg("price_basis"),
           py::arg("quarantine_bad_rows"), py::arg("threads"))
      .def("update", &PyWorkspace::update, py::arg("as_of"), py::arg("no_drain"), py::arg("workers"))
      .def("models", &PyWorkspace::models)
      .def("predictions", &PyWorkspace::predictions, py::arg("model_id"), py::arg("symbols"), py::arg("start"),
           py::arg("as_of"))
      .def("status", &PyWorkspace::status)
      .def("train", &PyWorkspace::train, py::arg("config"), py::arg("export_dir"), py::arg("progress"))
      .def("predict", &PyWorkspace::predict, py::arg("model_id"), py::arg("start"), py::arg("end"))
      .def("backtests", &PyWorkspace::backtests)
      .def("saved_backtest", &PyWorkspace::saved_backtest, py::arg("run_id"))
      .def("backtest", &PyWorkspace::backtest, py::arg("strategy"), py::arg("name"), py::arg("params"),
           py::arg("symbols"), py::arg("benchmark"), py::arg("start"), py::arg("end"), py::arg("adjust"),
           py::arg("as_of"), py::arg("save"), py::arg("timeframe"), py::arg("feature_set"), py::arg("code"));

  bind_strategy_types(m);
}

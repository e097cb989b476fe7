#include "strategy.hpp"

#include <algorithm>
#include <cmath>
#include <unordered_map>

#include <fmt/format.h>
#include <pybind11/numpy.h>

#include "convert.hpp"
#include "trib/core/error.hpp"

namespace trib::python {
namespace {

// What one callback may read. The Python objects built on it check `valid`: a view kept past its
// on_bar would otherwise read an engine state that has moved on.
struct CallState {
  const trading::MarketView* view = nullptr;
  const trading::Portfolio* portfolio = nullptr;
  std::shared_ptr<const trading::MarketData> data;
  const std::unordered_map<std::string, size_t>* index = nullptr;
  py::object symbols;  // the universe as a Python list (built once per backtest)
  bool valid = true;

  void check() const {
    if (!valid) throw Error::InvalidInput("a MarketView or Portfolio is valid only inside the on_bar call that received it");
  }
  // A symbol given as its name or its index in the universe.
  size_t resolve(const py::handle& key) const {
    check();
    if (py::isinstance<py::str>(key)) {
      const std::string name = key.cast<std::string>();
      const auto it = index->find(name);
      if (it == index->end()) {
        throw Error::NotFound(fmt::format("'{}' is not in this backtest's universe ({} symbols)", name, index->size()));
      }
      return it->second;
    }
    if (py::isinstance<py::int_>(key)) {
      const auto i = key.cast<int64_t>();
      if (i < 0 || static_cast<size_t>(i) >= index->size()) {
        throw Error::InvalidInput(fmt::format("symbol index {} is outside the universe [0, {})", i, index->size()));
      }
      return static_cast<size_t>(i);
    }
    throw Error::InvalidInput(fmt::format("a symbol is a str (its name) or an int (its index), not {}",
                                          py::str(py::type::of(key).attr("__name__")).cast<std::string>()));
  }
};

py::object date_of(Date d) {
  // Leaked on purpose: a static py::object would be destroyed after the interpreter.
  static const auto* date_class = new py::object(py::module_::import("datetime").attr("date"));
  return (*date_class)(d.year(), d.month(), d.day());
}

// A read-only NumPy view of the engine's column; `data` keeps the memory alive while it is used.
template <class T>
py::array_t<T> view_of(std::span<const T> values, const std::shared_ptr<const trading::MarketData>& data) {
  auto* keep = new std::shared_ptr<const trading::MarketData>(data);
  py::capsule owner(keep, [](void* p) { delete static_cast<std::shared_ptr<const trading::MarketData>*>(p); });
  py::array_t<T> a({values.size()}, {sizeof(T)}, values.data(), owner);
  make_read_only(a);
  return a;
}

class PyMarketView {
 public:
  explicit PyMarketView(std::shared_ptr<CallState> s) : s_(std::move(s)) {}

  py::object date() const { return s_->check(), date_of(s_->view->date()); }
  int64_t time() const { return s_->check(), s_->view->time(); }
  size_t size() const { return s_->check(), s_->view->size(); }
  py::object symbols() const { return s_->check(), s_->symbols; }
  py::list updated() const {
    s_->check();
    py::list out;
    const py::list all = s_->symbols;
    for (size_t i : s_->view->updated()) out.append(all[i]);
    return out;
  }
  size_t index(const py::handle& symbol) const { return s_->resolve(symbol); }
  size_t count(const py::handle& symbol) const { return s_->view->count(s_->resolve(symbol)); }
  bool has_bar(const py::handle& symbol) const { return s_->view->has_bar(s_->resolve(symbol)); }
  py::array_t<double> close(const py::handle& symbol) const { return view_of(s_->view->close(s_->resolve(symbol)), s_->data); }
  py::array_t<double> open(const py::handle& symbol) const { return view_of(s_->view->open(s_->resolve(symbol)), s_->data); }
  py::array_t<double> high(const py::handle& symbol) const { return view_of(s_->view->high(s_->resolve(symbol)), s_->data); }
  py::array_t<double> low(const py::handle& symbol) const { return view_of(s_->view->low(s_->resolve(symbol)), s_->data); }
  py::array_t<double> volume(const py::handle& symbol) const {
    return view_of(s_->view->volume(s_->resolve(symbol)), s_->data);
  }
  py::array_t<float> feature(const py::handle& symbol, const std::string& name) const {
    const size_t i = s_->resolve(symbol);
    const size_t f = s_->view->feature_index(name);
    if (f == static_cast<size_t>(-1)) {
      throw Error::NotFound(fmt::format("no feature '{}' in this backtest (pass feature_set= to ws.backtest)", name));
    }
    return view_of(s_->view->feature(i, f), s_->data);
  }
  py::object prediction(const py::handle& symbol) const {
    const auto p = s_->view->prediction(s_->resolve(symbol));
    return p ? py::object(py::float_(*p)) : py::object(py::none());
  }

 private:
  std::shared_ptr<CallState> s_;
};

class PyPortfolio {
 public:
  explicit PyPortfolio(std::shared_ptr<CallState> s) : s_(std::move(s)) {}

  double cash() const { return s_->check(), s_->portfolio->cash(); }
  double equity() const { return s_->check(), s_->portfolio->equity(); }
  double gross() const { return s_->check(), s_->portfolio->gross(); }
  double net() const { return s_->check(), s_->portfolio->net(); }
  double qty(const py::handle& symbol) const { return s_->portfolio->qty(s_->resolve(symbol)); }
  double price(const py::handle& symbol) const { return s_->portfolio->price(s_->resolve(symbol)); }
  double value(const py::handle& symbol) const { return s_->portfolio->value(s_->resolve(symbol)); }
  double weight(const py::handle& symbol) const { return s_->portfolio->weight(s_->resolve(symbol)); }
  py::dict positions() const {
    s_->check();
    py::dict out;
    const py::list all = s_->symbols;
    for (size_t i = 0; i < s_->portfolio->size(); ++i) {
      if (s_->portfolio->qty(i) != 0) out[all[i]] = s_->portfolio->qty(i);
    }
    return out;
  }

 private:
  std::shared_ptr<CallState> s_;
};

std::string params_text(const py::object& params) {
  if (params.is_none()) return "";
  if (py::isinstance<py::str>(params)) return params.cast<std::string>();
  if (py::isinstance<py::dict>(params)) {
    std::vector<std::pair<std::string, std::string>> items;
    for (const auto& [k, v] : params.cast<py::dict>()) {
      items.emplace_back(py::str(k).cast<std::string>(), py::str(v).cast<std::string>());
    }
    std::sort(items.begin(), items.end());
    std::string out;
    for (const auto& [k, v] : items) out += (out.empty() ? "" : ",") + k + "=" + v;
    return out;
  }
  throw Error::InvalidInput("a strategy's params is a str or a dict");
}

class PythonStrategy final : public trading::Strategy {
 public:
  PythonStrategy(py::object object, const cli::BacktestRun* run) : object_(std::move(object)), run_(run) {
    if (!py::hasattr(object_, "on_bar") || !PyCallable_Check(object_.attr("on_bar").ptr())) {
      throw Error::InvalidInput(
          "a strategy is a built-in's name ('sma_cross', 'momentum', 'topk_dropout', 'buy_and_hold') or an object "
          "with a method on_bar(view, portfolio) returning {symbol: weight}");
    }
    on_bar_ = object_.attr("on_bar");
    name_ = py::str(py::getattr(object_, "name", py::str(""))).cast<std::string>();
    if (name_.empty()) name_ = py::str(py::type::of(object_).attr("__name__")).cast<std::string>();
    params_ = params_text(py::getattr(object_, "params", py::none()));
    warmup_ = py::getattr(object_, "warmup_bars", py::int_(0)).cast<int>();
    if (warmup_ < 0) throw Error::InvalidInput(fmt::format("{}.warmup_bars must be >= 0, got {}", name_, warmup_));
    model_ = py::str(py::getattr(object_, "model", py::str(""))).cast<std::string>();
  }
  ~PythonStrategy() override {
    py::gil_scoped_acquire gil;
    on_bar_ = py::object();
    object_ = py::object();
    symbols_ = py::object();
  }

  std::string name() const override { return name_; }
  std::string params() const override { return params_; }
  int warmup_bars() const override { return warmup_; }
  std::string model() const override { return model_; }

  void on_bar(const trading::MarketView& market, const trading::Portfolio& portfolio, trading::Decision& out) override {
    py::gil_scoped_acquire gil;
    if (index_.empty()) {
      py::list names;
      for (size_t i = 0; i < market.size(); ++i) {
        index_.emplace(market.symbol(i), i);
        names.append(market.symbol(i));
      }
      symbols_ = names;
    }
    auto state = std::make_shared<CallState>();
    state->view = &market;
    state->portfolio = &portfolio;
    state->data = run_->data;
    state->index = &index_;
    state->symbols = symbols_;
    struct Invalidate {
      CallState& s;
      ~Invalidate() { s.valid = false; }
    } invalidate{*state};
    const py::object result = on_bar_(PyMarketView(state), PyPortfolio(state));
    if (result.is_none()) return;
    if (!py::isinstance<py::dict>(result)) {
      throw Error::InvalidInput(fmt::format("{}.on_bar returned {}; return a dict {{symbol: weight}} or None", name_,
                                            py::str(py::type::of(result).attr("__name__")).cast<std::string>()));
    }
    for (const auto& [key, value] : result.cast<py::dict>()) {
      const size_t i = state->resolve(key);
      if (!py::isinstance<py::float_>(value) && !py::isinstance<py::int_>(value) &&
          !py::hasattr(value, "__float__")) {
        throw Error::InvalidInput(fmt::format("{}.on_bar: the weight of {} is not a number", name_, market.symbol(i)));
      }
      const double w = value.cast<double>();
      if (!std::isfinite(w)) {
        throw Error::InvalidInput(fmt::format("{}.on_bar: the weight of {} on {} is {}; weights are finite fractions of "
                                              "equity", name_, market.symbol(i), market.date().to_string(), w));
      }
      out.target(i, w);
    }
  }

 private:
  py::object object_, on_bar_, symbols_;
  const cli::BacktestRun* run_;
  std::string name_, params_, model_;
  int warmup_ = 0;
  std::unordered_map<std::string, size_t> index_;
};

}  // namespace

std::unique_ptr<trading::Strategy> make_python_strategy(py::object object, const cli::BacktestRun* run) {
  return std::make_unique<PythonStrategy>(std::move(object), run);
}

void bind_strategy_types(py::module_& m) {
  py::class_<PyMarketView>(m, "MarketView",
                           "What a strategy sees after a session's close: every symbol's signal prices up to now "
                           "(read-only arrays, newest last), predictions and features; nothing dated later.")
      .def_property_readonly("date", &PyMarketView::date, "The session just closed (datetime.date)")
      .def_property_readonly("time", &PyMarketView::time, "The event's time: the bar's open, UTC nanoseconds")
      .def_property_readonly("symbols", &PyMarketView::symbols, "The universe, in index order")
      .def_property_readonly("updated", &PyMarketView::updated, "Symbols with a bar at this event")
      .def("__len__", &PyMarketView::size)
      .def("index", &PyMarketView::index, py::arg("symbol"), "A symbol's index in the universe")
      .def("count", &PyMarketView::count, py::arg("symbol"), "Bars of the symbol so far")
      .def("has_bar", &PyMarketView::has_bar, py::arg("symbol"), "Whether the symbol traded this session")
      .def("close", &PyMarketView::close, py::arg("symbol"), "Closes so far (signal prices), newest last")
      .def("open", &PyMarketView::open, py::arg("symbol"))
      .def("high", &PyMarketView::high, py::arg("symbol"))
      .def("low", &PyMarketView::low, py::arg("symbol"))
      .def("volume", &PyMarketView::volume, py::arg("symbol"))
      .def("feature", &PyMarketView::feature, py::arg("symbol"), py::arg("name"),
           "A feature of the backtest's feature set, one value per bar so far (NaN: none)")
      .def("prediction", &PyMarketView::prediction, py::arg("symbol"),
           "The newest prediction of the strategy's model dated on or before today, or None");
  py::class_<PyPortfolio>(m, "Portfolio", "The account as the strategy decides: cash, equity and positions.")
      .def_property_readonly("cash", &PyPortfolio::cash)
      .def_property_readonly("equity", &PyPortfolio::equity)
      .def_property_readonly("gross", &PyPortfolio::gross, "Sum of |position value|")
      .def_property_readonly("net", &PyPortfolio::net, "Sum of position value")
      .def_property_readonly("positions", &PyPortfolio::positions, "{symbol: shares} of the open positions")
      .def("qty", &PyPortfolio::qty, py::arg("symbol"))
      .def("price", &PyPortfolio::price, py::arg("symbol"), "The last price (NaN before the first bar)")
      .def("value", &PyPortfolio::value, py::arg("symbol"))
      .def("weight", &PyPortfolio::weight, py::arg("symbol"), "Position value / equity");
}

}  // namespace trib::python

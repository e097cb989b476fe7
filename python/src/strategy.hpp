// Strategies written in Python: an object with on_bar(view, portfolio) -> {symbol: weight} runs
// in the C++ backtester as a trading::Strategy, like the built-in ones. The GIL is taken only for
// the callback; the view's price arrays are read-only NumPy views of the backtest's market data
// (no copy per call), kept valid after the callback by the data they point into.
#pragma once

#include <memory>

#include <pybind11/pybind11.h>

#include "cli.hpp"
#include "trib/trading/strategy.hpp"

namespace trib::python {

namespace py = pybind11;

// `object`'s name (attribute `name`, else its class's), `params` (a string, or a dict written
// "k=v,..." in key order), `warmup_bars` (default 0) and `model` (default "") identify and
// configure it. `run->data` must be set before the first on_bar (run_backtest_with does).
std::unique_ptr<trading::Strategy> make_python_strategy(py::object object, const cli::BacktestRun* run);

// The MarketView and Portfolio classes a callback receives.
void bind_strategy_types(py::module_& m);

}  // namespace trib::python

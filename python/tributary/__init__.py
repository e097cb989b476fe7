"""Tributary from Python: the curated lake, features, models and backtests as pandas DataFrames.

The engine is the same C++ that `trib` runs (the extension module ``tributary._tributary``); this
layer only turns its columns into DataFrames. Nothing is re-read from Parquet in Python and no row
is built in a Python loop: each column arrives as a NumPy array that owns the engine's buffer.

    import tributary
    ws = tributary.open("workspace")
    aapl = ws.bars("AAPL", "2016-01-01", "2016-12-31", adjust="total")
    panel = ws.bars_panel(["AAPL", "MSFT"], start="2016-01-01")
    result = ws.backtest("sma_cross", universe=["AAPL", "MSFT"], fast=10, slow=30)

Errors are :class:`tributary.Error` subclasses named after the engine's error categories
(:class:`InvalidInput`, :class:`NotFound`, ...), carrying the messages the CLI prints.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import inspect
import os
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Optional, Sequence, Union

import numpy as np
import pandas as pd

from . import _tributary
from ._errors import (Conflict, DataLoss, Error, Internal, InvalidInput, NotFound, Permanent, RateLimited,
                      Transient)

__version__ = _tributary.code_version()

MarketView = _tributary.MarketView
Portfolio = _tributary.Portfolio

DateLike = Union[str, _dt.date, _dt.datetime, pd.Timestamp, np.datetime64, None]
Symbols = Union[str, Sequence[str], None]

__all__ = ["open", "init", "Workspace", "Backtest", "DataQuality", "Strategy", "MarketView", "Portfolio", "Error",
           "InvalidInput", "NotFound", "Conflict", "Transient", "RateLimited", "Permanent", "DataLoss", "Internal",
           "__version__"]


# ---- argument checks: Python types in, the engine's text forms out --------------------------------

def _date(value: DateLike, what: str) -> str:
    """A session date as YYYY-MM-DD ("" for None); the engine checks that it is a real date."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, (_dt.datetime, _dt.date)):
        return value.isoformat()[:10]
    if isinstance(value, np.datetime64):
        return str(value.astype("datetime64[D]"))
    raise TypeError(f"{what} must be a date ('YYYY-MM-DD', datetime.date or pandas.Timestamp), "
                    f"not {type(value).__name__}")


def _text(value: Optional[str], what: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a str, not {type(value).__name__}")
    return value


def _symbol(value: Any, what: str = "symbol") -> str:
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a str such as 'AAPL', not {type(value).__name__}")
    return value


def _symbols(value: Symbols, what: str = "symbols") -> list:
    """None (every curated symbol), one symbol, or an iterable of symbols."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, Iterable):
        out = list(value)
        for s in out:
            _symbol(s, f"each of {what}")
        if not out:
            raise InvalidInput(f"{what} is empty; pass None for every curated symbol")
        return out
    raise TypeError(f"{what} must be a symbol, a list of symbols or None, not {type(value).__name__}")


def _bool(value: Any, what: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{what} must be True or False, not {type(value).__name__}")
    return bool(value)


def _int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{what} must be an int, not {type(value).__name__}")
    return int(value)


# ---- columns to frames ------------------------------------------------------------------------------

def _utc(ns: np.ndarray) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(ns.view("datetime64[ns]")).tz_localize("UTC")


def _dates(ns: np.ndarray) -> np.ndarray:
    return ns.view("datetime64[ns]")


def _codes(codes: np.ndarray, names: Sequence[str]) -> pd.Categorical:
    return pd.Categorical.from_codes(codes, categories=pd.Index(list(names), dtype=object))


def _bars_frame(c: dict, symbols: Optional[Sequence[str]]) -> pd.DataFrame:
    ts = _utc(c["ts"])
    if symbols is None:
        index = ts.rename("ts")
    else:
        index = pd.MultiIndex.from_arrays([_codes(c["symbol_code"], symbols), ts], names=["symbol", "ts"])
    return pd.DataFrame({
        "session_date": _dates(c["session_date"]),
        "open": c["open"], "high": c["high"], "low": c["low"], "close": c["close"], "volume": c["volume"],
        "source": _codes(c["source_code"], c["sources"]),
    }, index=index, copy=False)


def _by_symbol_date(c: dict, columns: dict) -> pd.DataFrame:
    index = pd.MultiIndex.from_arrays([_codes(c["symbol_code"], c["symbols"]), _dates(c["session_date"])],
                                      names=["symbol", "session_date"])
    return pd.DataFrame(columns, index=index, copy=False)


def _warn_notes(notes: Sequence[str]) -> None:
    if notes:
        import warnings
        for note in notes:
            warnings.warn(note, stacklevel=3)


# ---- results ----------------------------------------------------------------------------------------

@dataclass
class Backtest:
    """A backtest's outcome: `metrics` (the strategy's), `benchmark` (buy-and-hold's), the whole
    `summary` (what `trib backtest --json` prints), the fills and the daily equity curve."""

    run_id: str
    metrics: dict
    benchmark: dict
    summary: dict
    trades: pd.DataFrame
    equity: pd.DataFrame

    def __repr__(self) -> str:
        m = self.metrics
        ret = m.get("total_return")
        return (f"Backtest({self.run_id}, {self.summary.get('strategy')}({self.summary.get('params')}), "
                f"{self.summary.get('from')}..{self.summary.get('to')}, "
                f"total_return={'n/a' if ret is None else f'{ret:.4f}'}, sharpe={m.get('sharpe')}, "
                f"trades={len(self.trades)})")


@dataclass
class DataQuality:
    """`trib dq`: rows quarantined at ingest (per run, dataset, symbol and rule) and the findings
    across rows over the lake as it is now (missing sessions, jumps no split explains, ...)."""

    quarantined: pd.DataFrame
    findings: pd.DataFrame


class Strategy:
    """Optional base class for Python strategies (any object with ``on_bar`` works).

    ``on_bar(view, portfolio)`` is called after each session's close with the market as of then
    (:class:`MarketView`: read-only arrays of each symbol's signal prices, newest last) and the
    account (:class:`Portfolio`); it returns ``{symbol: weight}`` (a fraction of equity; negative
    is short) for the symbols whose target changes, or None. Targets persist until changed.
    ``name``, ``params`` (str or dict) and ``warmup_bars`` (sessions read before ``start``)
    identify and configure it; a saved run's id also covers the class's source code.
    """

    name: str = ""
    params: Union[str, Mapping[str, Any]] = ""
    warmup_bars: int = 0
    model: str = ""

    def on_bar(self, view: MarketView, portfolio: Portfolio) -> Optional[Mapping[str, float]]:
        raise NotImplementedError


def _code_hash(strategy: Any) -> str:
    try:
        source = inspect.getsource(type(strategy))
    except (OSError, TypeError):
        # Defined where Python keeps no source (a REPL): the class's qualified name stands in.
        source = type(strategy).__module__ + "." + type(strategy).__qualname__
    return hashlib.sha256(source.encode()).hexdigest()


def _backtest_of(summary: dict, trades: dict, equity: dict) -> "Backtest":
    trades_df = pd.DataFrame({
        "session_date": _dates(trades["session_date"]),
        "symbol": _codes(trades["symbol_code"], trades["symbols"]),
        "side": np.where(trades["side"] > 0, "buy", "sell"),
        "qty": trades["qty"], "price": trades["price"], "reference_price": trades["reference"],
        "commission": trades["commission"], "realized_pnl": trades["realized"],
    }, index=_utc(trades["ts"]).rename("ts"))
    equity_df = pd.DataFrame({
        "equity": equity["equity"], "cash": equity["cash"], "gross": equity["gross"], "net": equity["net"],
        "benchmark": equity["benchmark"],
    }, index=pd.DatetimeIndex(_dates(equity["session_date"]), name="session_date"))
    metrics = {k: v for k, v in summary.items() if not isinstance(v, (dict, list))}
    return Backtest(summary["run_id"], metrics, summary.get("benchmark", {}) or {}, summary, trades_df, equity_df)


# The built-in strategies' keyword parameters and their types (the engine names unknown ones).
_STRATEGY_PARAMS = {"fast": int, "slow": int, "lookback": int, "skip": int, "top_k": int, "drop_n": int,
                    "rebalance_days": int, "model": str, "risk_free_rate": float}


# ---- the workspace ------------------------------------------------------------------------------------

class Workspace:
    """A Tributary workspace (a folder with trib.toml): its lake, catalog and queue as configured."""

    def __init__(self, path: Union[str, os.PathLike] = "."):
        self._ws = _tributary.Workspace(os.fspath(path))

    @property
    def path(self) -> str:
        return self._ws.path

    def __repr__(self) -> str:
        return f"tributary.Workspace({self.path!r})"

    # -- market data --

    def bars(self, symbol: str, start: DateLike = None, end: DateLike = None, adjust: Optional[str] = None,
             timeframe: str = "1d", as_of: DateLike = None, session: Optional[str] = None,
             ticker_only: bool = False) -> pd.DataFrame:
        """Curated bars of one symbol, as `trib bars` reads them.

        Indexed by each bar's open (``ts``, tz-aware UTC) with the exchange's ``session_date``,
        ``open``, ``high``, ``low``, ``close``, ``volume`` (float64) and the ``source`` vendor.
        ``adjust``: raw, split or total (default: trib.toml's [prices] adjust, the prices features
        and backtests see). ``timeframe``: 1d, 1h, 1m as stored or any width that divides a day
        (5m, 4h), grouped from finer bars. ``as_of``: the lake and corporate actions as they were
        at the end of that day. Raises NotFound for a symbol without bars, InvalidInput for bad
        dates or an inverted range.
        """
        c = self._ws.bars(_symbol(symbol), _date(start, "start"), _date(end, "end"), _text(adjust, "adjust"),
                          _text(timeframe, "timeframe"), _date(as_of, "as_of"),
                          _text(session, "session"), _bool(ticker_only, "ticker_only"))
        _warn_notes(c["notes"])
        return _bars_frame(c, None)

    def bars_panel(self, symbols: Symbols = None, start: DateLike = None, end: DateLike = None,
                   adjust: Optional[str] = None, timeframe: str = "1d", as_of: DateLike = None,
                   session: Optional[str] = None) -> pd.DataFrame:
        """Bars of many symbols in one frame, indexed by (``symbol``, ``ts``); columns as :meth:`bars`.
        ``symbols`` None: every symbol with curated daily bars."""
        c = self._ws.bars_panel(_symbols(symbols), _date(start, "start"), _date(end, "end"), _text(adjust, "adjust"),
                                _text(timeframe, "timeframe"),
                                _date(as_of, "as_of"),
                                _text(session, "session"))
        _warn_notes(c["notes"])
        return _bars_frame(c, c["symbols"])

    def actions(self, symbol: Optional[str] = None, as_of: DateLike = None) -> pd.DataFrame:
        """Corporate actions in force (splits, dividends, symbol changes), every source's version,
        with ``used`` marking the one readers apply (`trib actions list`)."""
        rows = self._ws.actions(_text(symbol, "symbol"), _date(as_of, "as_of"))
        columns = ["symbol", "kind", "ex_date", "split_ratio", "cash_amount", "currency", "pay_date", "new_symbol",
                   "reference_price", "source", "known_at", "used", "origin"]
        df = pd.DataFrame(rows, columns=columns)
        df["ex_date"] = pd.to_datetime(df["ex_date"])
        df["pay_date"] = pd.to_datetime(df["pay_date"].replace("", None))
        df["known_at"] = pd.to_datetime(df["known_at"], utc=True)
        df["reference_price"] = df["reference_price"].astype("float64")
        return df

    def coverage(self, symbol: Optional[str] = None, vendor: Optional[str] = None, start_year: Optional[int] = None,
                 end_year: Optional[int] = None, as_of: DateLike = None) -> pd.DataFrame:
        """Sessions expected vs present per series and calendar year (`trib coverage`): one row per
        (symbol, timeframe, year) with ``expected``, ``present``, ``missing`` and ``missing_dates``."""
        series = self._ws.coverage(_text(symbol, "symbol"), _text(vendor, "vendor"),
                                   0 if start_year is None else _int(start_year, "start_year"),
                                   0 if end_year is None else _int(end_year, "end_year"), _date(as_of, "as_of"))
        rows = []
        for s in series:
            for y in s["years"]:
                rows.append((s["symbol"], s["timeframe"], y["year"], s["vendor"], s["calendar"], s["in_universe"],
                             s["status"], y["expected"], y["present"], y["missing_count"], y["missing"]))
        return pd.DataFrame(rows, columns=["symbol", "timeframe", "year", "vendor", "calendar", "in_universe", "status",
                                           "expected", "present", "missing", "missing_dates"])

    def dq(self, symbol: Optional[str] = None, rule: Optional[str] = None, timeframe: str = "1d",
           run_id: Optional[str] = None) -> DataQuality:
        """Data quality (`trib dq`): quarantined rows per rule and the findings across rows."""
        d = self._ws.dq(_text(symbol, "symbol"), _text(rule, "rule"), _text(timeframe, "timeframe"),
                        _text(run_id, "run_id"))
        quarantined = pd.DataFrame(d["quarantined"], columns=["run_id", "dataset", "symbol", "rule", "rows"])
        findings = pd.DataFrame(d["findings"],
                                columns=["symbol", "timeframe", "rule", "first", "last", "ts", "count", "detail"])
        findings["first"] = pd.to_datetime(findings["first"])
        findings["last"] = pd.to_datetime(findings["last"])
        return DataQuality(quarantined, findings)

    # -- research --

    def features(self, set: str = "alpha158", symbols: Symbols = None, start: DateLike = None, end: DateLike = None,
                 compute: bool = True) -> pd.DataFrame:
        """A feature set's values (float32), indexed by (``symbol``, ``session_date``).

        ``set``: basic, alpha158, a workspace set or a .toml path. With ``compute`` (default) the
        set's files are brought up to date first, incrementally (`trib features`); otherwise what
        is committed is read. NaN: a warm-up or a gap."""
        c = self._ws.features(_text(set, "set"), _symbols(symbols), _date(start, "start"), _date(end, "end"),
                              _bool(compute, "compute"))
        return _by_symbol_date(c, dict(zip(c["names"], c["values"])))

    def eval(self, expressions: Union[str, Sequence[str], Mapping[str, str]], universe: Symbols = None,
             start: DateLike = None, end: DateLike = None, adjust: Optional[str] = None,
             label: bool = False) -> pd.DataFrame:
        """Formulas of the feature language (`trib eval`) over each symbol's whole daily history,
        e.g. ``ws.eval("Mean($close, 20) / $close", ["AAPL"])``. ``expressions``: one formula, a
        list, or {name: formula}; columns are named by the names or the formulas' text. Windows
        are warmed up from before ``start``. ``label`` allows the future (``Ref(x, -n)``)."""
        if isinstance(expressions, str):
            named = [expressions]
        elif isinstance(expressions, Mapping):
            named = [f"{_symbol(k, 'a formula name')}={_text(v, 'a formula')}" for k, v in expressions.items()]
        elif isinstance(expressions, Iterable):
            named = [_text(e, "each formula") for e in expressions]
        else:
            raise TypeError(f"expressions must be a str, a list of str or a dict, not {type(expressions).__name__}")
        if not named:
            raise InvalidInput("give at least one formula, e.g. 'Mean($close, 20) / $close'")
        c = self._ws.eval(named, _symbols(universe, "universe"), _date(start, "start"), _date(end, "end"),
                          _text(adjust, "adjust"), _bool(label, "label"))
        # NAME=FORMULA keeps its name; a bare formula is its own column name (the engine says e1, e2).
        shown = [text if name == f"e{i + 1}" and not text.startswith(f"{name}=") else name
                 for i, (name, text) in enumerate(zip(c["names"], named))]
        return _by_symbol_date(c, dict(zip(shown, c["values"])))

    # -- data in --

    def ingest(self, vendor: str = "csv", files: Union[str, os.PathLike, Sequence[Union[str, os.PathLike]], None] = None,
               symbol: Optional[str] = None, start: DateLike = None, end: DateLike = None, timeframe: str = "1d",
               calendar: str = "nyse", price_basis: str = "auto", quarantine_bad_rows: bool = False,
               threads: int = 0) -> dict:
        """Ingest files (csv: Yahoo, Stooq, Alpha Vantage, Kaggle, Lean; a folder or a glob) or a
        vendor's symbol into raw and curated (`trib ingest`); idempotent. Returns the counts."""
        if files is None:
            paths = []
        elif isinstance(files, (str, os.PathLike)):
            paths = [os.fspath(files)]
        else:
            paths = [os.fspath(f) for f in files]
        return self._ws.ingest(_text(vendor, "vendor"), paths, _text(symbol, "symbol"), _date(start, "start"),
                               _date(end, "end"), _text(timeframe, "timeframe"), _text(calendar, "calendar"),
                               _text(price_basis, "price_basis"), _bool(quarantine_bad_rows, "quarantine_bad_rows"),
                               _int(threads, "threads"))

    def update(self, as_of: DateLike = None, drain: bool = True, workers: int = 2) -> dict:
        """The daily update (`trib update`): queue each universe symbol from its watermark to the
        last closed session, then (``drain``) run the tasks. ``status`` 0: all done."""
        return self._ws.update(_date(as_of, "as_of"), not _bool(drain, "drain"), _int(workers, "workers"))

    def status(self) -> dict:
        """`trib status --json`: raw, curated, quarantine, features, queue."""
        return self._ws.status()

    # -- models --

    def models(self) -> pd.DataFrame:
        """Registered models, newest first: id, kind, feature set, label, dates, test metrics."""
        rows = self._ws.models()
        df = pd.DataFrame(rows, columns=["id", "name", "kind", "feature_set", "label", "from", "to", "splits",
                                         "dataset_hash", "code_version", "created_at", "metrics", "importance",
                                         "artefacts"])
        test = [r["metrics"].get("test", {}) if isinstance(r.get("metrics"), dict) else {} for r in rows]
        for key in ("ic_mean", "icir", "rank_ic_mean", "rank_icir"):
            df[key] = pd.array([t.get(key) for t in test], dtype="Float64")
        df["from"] = pd.to_datetime(df["from"])
        df["to"] = pd.to_datetime(df["to"])
        df["created_at"] = pd.to_datetime(df["created_at"], utc=True)
        return df.set_index("id")

    def predictions(self, model_id: str, symbols: Symbols = None, start: DateLike = None,
                    as_of: DateLike = None) -> pd.DataFrame:
        """A model's predictions known at the close of ``as_of`` (default today), indexed by
        (``symbol``, ``session_date``), with the walk-forward ``split`` each came from."""
        c = self._ws.predictions(_text(model_id, "model_id"), _symbols(symbols), _date(start, "start"),
                                 _date(as_of, "as_of"))
        return _by_symbol_date(c, {"prediction": c["prediction"], "split": c["split"]})

    # -- backtests --

    def backtest(self, strategy: Any = "sma_cross", universe: Symbols = None, start: DateLike = None,
                 end: DateLike = None, *, benchmark: Optional[str] = None, adjust: Optional[str] = None,
                 as_of: DateLike = None, save: bool = True, timeframe: str = "1d", feature_set: Optional[str] = None,
                 **params: Any) -> Backtest:
        """A portfolio backtest through the engine's costs and risk limits (`trib backtest`).

        ``strategy``: a built-in's name (sma_cross, momentum, topk_dropout, buy_and_hold; its
        parameters as keywords: ``fast=10, slow=30``) or a Python object with
        ``on_bar(view, portfolio)`` (see :class:`Strategy`), run by the same C++ engine.
        ``universe``: symbols, "all", or None for trib.toml's [strategy]. Signals on ``adjust``
        prices, fills at raw. ``save`` commits the run to the lake and catalog (idempotent).
        """
        name, obj, code = "", None, ""
        if isinstance(strategy, str):
            name = strategy
            for key, value in params.items():
                kind = _STRATEGY_PARAMS.get(key)
                if kind is int:
                    _int(value, key)
                elif kind is float and (isinstance(value, bool) or not isinstance(value, (int, float, np.number))):
                    raise TypeError(f"{key} must be a number, not {type(value).__name__}")
                elif kind is str:
                    _text(value, key)
        elif hasattr(strategy, "on_bar"):
            if params:
                raise InvalidInput(f"parameters {sorted(params)} are for built-in strategies; give a Python strategy "
                                   "its parameters in its constructor (and its `params` attribute)")
            obj, code = strategy, _code_hash(strategy)
        else:
            raise TypeError("strategy must be a built-in's name or an object with on_bar(view, portfolio), "
                            f"not {type(strategy).__name__}")
        if isinstance(universe, str) and universe == "all":
            symbols = ["all"]
        else:
            symbols = _symbols(universe, "universe")
        summary, trades, equity = self._ws.backtest(
            obj, name, params, symbols, _text(benchmark, "benchmark"), _date(start, "start"), _date(end, "end"),
            _text(adjust, "adjust"), _date(as_of, "as_of"), _bool(save, "save"), _text(timeframe, "timeframe"),
            _text(feature_set, "feature_set"), code)
        return _backtest_of(summary, trades, equity)

    def backtests(self) -> pd.DataFrame:
        """Saved backtests, newest first: run id, strategy, parameters, dates and headline metrics."""
        rows = self._ws.backtests()
        columns = ["run_id", "strategy", "params", "from", "to", "symbols", "total_return", "cagr", "sharpe",
                   "max_drawdown", "trades"]
        df = pd.DataFrame([{k: r.get(k) for k in columns} for r in rows], columns=columns)
        df["from"] = pd.to_datetime(df["from"])
        df["to"] = pd.to_datetime(df["to"])
        return df.set_index("run_id")

    def saved_backtest(self, run_id: str) -> Backtest:
        """A saved run read back from the lake (`trib backtest` or ``ws.backtest(save=True)``)."""
        summary, trades, equity = self._ws.saved_backtest(_text(run_id, "run_id"))
        return _backtest_of(summary, trades, equity)

    def train(self, config: Union[str, os.PathLike], export_dir: Optional[str] = None,
              progress: bool = False) -> dict:
        """Trains a model walk-forward and registers it (`trib ml train`): ``config`` is a model.toml
        path or its TOML text. Idempotent: the same config and data find the registered model.
        Returns the registry record with the test metrics and the top features."""
        text = os.fspath(config) if isinstance(config, os.PathLike) else _text(config, "config")
        return self._ws.train(text, _text(export_dir, "export_dir"), _bool(progress, "progress"))

    def predict(self, model_id: str, start: DateLike = None, end: DateLike = None) -> dict:
        """Writes a model's out-of-sample forecasts into the lake (`trib ml predict`, incremental);
        read them with :meth:`predictions`."""
        return self._ws.predict(_text(model_id, "model_id"), _date(start, "start"), _date(end, "end"))



def open(path: Union[str, os.PathLike] = ".", create: bool = False) -> Workspace:
    """Opens the workspace at ``path`` (a folder with trib.toml); ``create`` makes one first when
    it is not there (`trib init`). Raises NotFound for a folder that is not a workspace."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or a path, not {type(path).__name__}")
    if _bool(create, "create"):
        _tributary.init(os.fspath(path))
    return Workspace(path)


def init(path: Union[str, os.PathLike]) -> Workspace:
    """Creates a workspace at ``path`` (trib.toml, lake, catalog, queue) if needed and opens it."""
    return open(path, create=True)

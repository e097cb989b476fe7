"""Backtests from Python: built-ins equal `trib backtest`, Python strategies run in the C++ engine
and give the very fills of their C++ twins, the GIL is free while the engine works."""

import threading

import numpy as np
import pandas as pd
import pytest

import tributary
from conftest import trib_json
from strategies import Momentum, SmaCross

UNIVERSE = ["AAPL", "MSFT", "XOM", "KO", "JPM"]


def test_builtin_equals_the_cli(ws):
    b = ws.backtest("sma_cross", UNIVERSE, fast=10, slow=30, save=False)
    cli = trib_json(ws.path, "backtest", "--universe", ",".join(UNIVERSE), "--fast", 10, "--slow", 30, "--no-save")
    assert b.run_id == cli["run_id"]
    for key in ["total_return", "sharpe", "max_drawdown", "final_equity", "trades"]:
        assert b.summary[key] == cli[key], key
    assert len(b.trades) == cli["trades"]
    assert b.equity["equity"].iloc[-1] == pytest.approx(cli["final_equity"], rel=1e-12)
    assert b.benchmark["symbol"] == cli["benchmark"]["symbol"]


def test_python_sma_cross_has_the_same_fills_as_the_builtin(ws):
    builtin = ws.backtest("sma_cross", UNIVERSE, fast=10, slow=30, save=False)
    python = ws.backtest(SmaCross(10, 30), UNIVERSE, save=False)
    assert len(python.trades) > 100
    pd.testing.assert_frame_equal(python.trades, builtin.trades)
    pd.testing.assert_frame_equal(python.equity, builtin.equity)
    assert python.summary["strategy"] == "SmaCross" and python.summary["params"] == "fast=10,slow=30"
    assert python.run_id != builtin.run_id


def test_python_momentum_has_the_same_fills_as_the_builtin(ws):
    builtin = ws.backtest("momentum", UNIVERSE, lookback=60, skip=5, top_k=2, rebalance_days=21, save=False)
    python = ws.backtest(Momentum(60, 5, 2, 21), UNIVERSE, save=False)
    assert len(python.trades) > 50
    pd.testing.assert_frame_equal(python.trades, builtin.trades)
    assert python.metrics["sharpe"] == builtin.metrics["sharpe"]


def test_saved_python_run_is_idempotent_and_listed(ws):
    a = ws.backtest(SmaCross(10, 30), UNIVERSE, "2016-01-01", "2016-12-31")
    b = ws.backtest(SmaCross(10, 30), UNIVERSE, "2016-01-01", "2016-12-31")
    assert a.run_id == b.run_id and a.summary["saved"]
    c = ws.backtest(SmaCross(5, 30), UNIVERSE, "2016-01-01", "2016-12-31")
    assert c.run_id != a.run_id
    listed = ws.backtests()
    assert {a.run_id, c.run_id} <= set(listed.index)
    assert listed.loc[a.run_id, "strategy"] == "SmaCross" and listed.loc[a.run_id, "sharpe"] == a.metrics["sharpe"]
    saved = ws.saved_backtest(a.run_id)
    assert saved.summary["run_id"] == a.run_id and saved.metrics["sharpe"] == a.metrics["sharpe"]
    assert list(saved.trades["symbol"].astype(str)) == list(a.trades["symbol"].astype(str))
    for column in ["qty", "price", "commission", "realized_pnl"]:
        assert np.array_equal(saved.trades[column].to_numpy(), a.trades[column].to_numpy()), column
    pd.testing.assert_frame_equal(saved.equity, a.equity)
    with pytest.raises(tributary.InvalidInput, match="not a backtest run id"):
        ws.saved_backtest("../../etc/passwd")
    with pytest.raises(tributary.NotFound):
        ws.saved_backtest("bt-000000000000")


def test_view_and_portfolio(ws):
    seen = {}

    class Probe(tributary.Strategy):
        def on_bar(self, view, portfolio):
            if view.date == __import__("datetime").date(2016, 3, 1):
                seen["close"] = view.close("AAPL").copy()
                seen["count"] = view.count("AAPL")
                seen["has_bar"] = view.has_bar("KO")
                seen["symbols"] = list(view.symbols)
                seen["equity"] = portfolio.equity
                seen["positions"] = portfolio.positions
                seen["writeable"] = view.close("AAPL").flags.writeable
                seen["view"] = view
            return {"AAPL": 0.5} if view.count("AAPL") == 1 else None

    r = ws.backtest(Probe(), ["AAPL", "KO"], "2013-02-08", "2016-03-01", save=False)
    aapl = ws.bars("AAPL").set_index("session_date")["close"].loc[:"2016-03-01"]
    assert np.array_equal(seen["close"], aapl.to_numpy()) and seen["count"] == len(aapl)
    assert seen["has_bar"] and seen["symbols"] == ["AAPL", "KO"] and not seen["writeable"]
    assert set(seen["positions"]) == {"AAPL"} and seen["equity"] > 0
    assert len(r.trades) == 1
    with pytest.raises(tributary.InvalidInput, match="valid only inside the on_bar"):
        seen["view"].close("AAPL")


def test_strategy_errors(ws):
    class Boom(tributary.Strategy):
        def on_bar(self, view, portfolio):
            return 1 / 0

    with pytest.raises(ZeroDivisionError):
        ws.backtest(Boom(), UNIVERSE, save=False)

    class NotADict(tributary.Strategy):
        def on_bar(self, view, portfolio):
            return [("AAPL", 1.0)]

    with pytest.raises(tributary.InvalidInput, match="return a dict"):
        ws.backtest(NotADict(), UNIVERSE, save=False)

    class Stranger(tributary.Strategy):
        def on_bar(self, view, portfolio):
            return {"TSLA": 0.1}

    with pytest.raises(tributary.NotFound, match="'TSLA' is not in this backtest's universe"):
        ws.backtest(Stranger(), UNIVERSE, save=False)

    class Infinite(tributary.Strategy):
        def on_bar(self, view, portfolio):
            return {"AAPL": float("inf")}

    with pytest.raises(tributary.InvalidInput, match="finite"):
        ws.backtest(Infinite(), UNIVERSE, save=False)

    class Reentrant(tributary.Strategy):
        def on_bar(self, view, portfolio):
            ws.bars("AAPL")  # the workspace is running this backtest

    with pytest.raises(tributary.Conflict, match="busy with the call that is running on_bar"):
        ws.backtest(Reentrant(), UNIVERSE, save=False)

    with pytest.raises(tributary.InvalidInput, match="are for built-in strategies"):
        ws.backtest(SmaCross(), UNIVERSE, fast=3)  # parameters belong to built-ins
    with pytest.raises(TypeError, match="on_bar"):
        ws.backtest(42, UNIVERSE)
    with pytest.raises(tributary.InvalidInput, match="strategy"):
        ws.backtest("no_such_strategy", UNIVERSE)
    with pytest.raises(tributary.InvalidInput, match="not a strategy parameter"):
        ws.backtest("sma_cross", UNIVERSE, fsat=3)
    with pytest.raises(tributary.InvalidInput, match="fast < slow"):
        ws.backtest("sma_cross", UNIVERSE, fast=30, slow=10)


def test_the_gil_is_free_while_the_engine_runs(ws):
    """Built-in backtests in a thread: the main thread keeps running Python meanwhile. Held for a
    whole call, the GIL would stop the main thread's loop until the call returned (it would run
    only in the switch interval's slices between calls)."""
    import time

    def loop_rate(seconds):
        ticks, end = 0, time.perf_counter() + seconds
        while time.perf_counter() < end:
            ticks += 1
        return ticks / seconds

    done = threading.Event()
    took = {}

    def run():
        start = time.perf_counter()
        for _ in range(3):
            took["b"] = ws.backtest("momentum", "all", lookback=20, skip=1, top_k=3, rebalance_days=1, save=False)
        took["seconds"] = time.perf_counter() - start
        done.set()

    free = loop_rate(0.05)
    t = threading.Thread(target=run)
    t.start()
    ticks = 0
    while not done.is_set():
        time.perf_counter()  # the same work per iteration as loop_rate's
        ticks += 1
    t.join()
    assert len(took["b"].trades) > 0
    # Most of the call's time ran beside the main thread (a quarter: room for a loaded machine).
    assert ticks > 0.25 * free * took["seconds"], (ticks, free, took["seconds"])

#!/usr/bin/env python3
"""The Python package against the ways around it, in the same run, on the Kaggle file's 505 stocks
(2013-02-08 .. 2018-02-07, about 619,000 daily bars):

1. ws.bars_panel(every symbol) into one DataFrame, against the CLI writing CSV that pandas reads:
   `trib eval` with the OHLCV columns over every symbol (one process, one CSV) and `trib bars
   SYMBOL --format csv` per symbol (505 processes, what a script without the package does).
2. A strategy written in Python (the SMA cross of python/tests/strategies.py) against the same
   strategy built into the C++ engine, on the same universe: the overhead per on_bar callback.

    PYTHONPATH=build/python python3 bench/run-python.py [REPEATS]      (build first: scripts/build)
"""

import io
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "build/python"))
sys.path.insert(0, str(ROOT / "python/tests"))
import tributary  # noqa: E402
from strategies import SmaCross  # noqa: E402

TRIB = os.environ.get("TRIB_BIN", str(ROOT / "build/apps/trib/trib"))
SHARED = Path(os.environ.get("TRIB_SHARED_DATA", ROOT.parent / "shared/data"))
REPEATS = int(sys.argv[1]) if len(sys.argv) > 1 else 3


def best(f, repeats=REPEATS):
    times, out = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        out = f()
        times.append(time.perf_counter() - start)
    return min(times), out


tmp = Path(tempfile.mkdtemp(prefix="trib-pybench-"))
try:
    csv = tmp / "all_stocks_5yr.csv"
    csv.write_bytes(subprocess.run(["zstd", "-q", "-d", "-c", str(SHARED / "equities-daily/all_stocks_5yr.csv.zst")],
                                   capture_output=True, check=True).stdout)
    ws = tributary.open(tmp / "ws", create=True)
    t0 = time.perf_counter()
    ws.ingest("csv", csv, quarantine_bad_rows=True)
    print(f"workspace: {time.perf_counter() - t0:.1f} s to ingest {csv.name}")

    # 1. A panel of every symbol's bars.
    t_panel, panel = best(lambda: ws.bars_panel(adjust="raw"))
    symbols = list(panel.index.get_level_values("symbol").unique())

    def cli_eval():
        out = subprocess.run([TRIB, "-w", str(ws.path), "eval", "open=$open", "high=$high", "low=$low", "close=$close",
                              "volume=$volume", "--adjust", "raw"], capture_output=True, check=True).stdout
        return pd.read_csv(io.BytesIO(out), parse_dates=["session_date"]).set_index(["symbol", "session_date"])

    t_eval, frame = best(cli_eval)

    def cli_bars():
        frames = []
        for s in symbols:
            out = subprocess.run([TRIB, "-w", str(ws.path), "bars", s, "--format", "csv"], capture_output=True,
                                 check=True).stdout
            df = pd.read_csv(io.BytesIO(out), parse_dates=["session_date", "ts"])
            df.insert(0, "symbol", s)
            frames.append(df)
        return pd.concat(frames, ignore_index=True).set_index(["symbol", "ts"])

    t_bars, frame2 = best(cli_bars, 1)
    assert len(panel) == len(frame) == len(frame2), (len(panel), len(frame), len(frame2))
    rows = len(panel)
    print(f"\nbars_panel: {len(symbols)} symbols, {rows} bars into one DataFrame (best of {REPEATS})")
    print(f"  {'ws.bars_panel':<44} {t_panel:8.3f} s  {rows / t_panel / 1e6:6.2f} M rows/s")
    print(f"  {'trib eval OHLCV --format csv + pd.read_csv':<44} {t_eval:8.3f} s  x{t_eval / t_panel:.1f}")
    print(f"  {'trib bars SYM --format csv x505 + read_csv':<44} {t_bars:8.3f} s  x{t_bars / t_panel:.1f}  (one run)")

    # 2. The same strategy in C++ and in Python, on every symbol, five years.
    t_cpp, cpp = best(lambda: ws.backtest("sma_cross", symbols, fast=10, slow=30, save=False))
    t_py, py = best(lambda: ws.backtest(SmaCross(10, 30), symbols, save=False))
    assert len(cpp.trades) == len(py.trades) and (cpp.trades["qty"].to_numpy() == py.trades["qty"].to_numpy()).all()
    # on_bar runs once per session of the data (the warm-up sessions included).
    sessions = panel["session_date"].nunique()
    per_call = (t_py - t_cpp) / sessions
    print(f"\nbacktest sma_cross(10, 30) on {len(symbols)} symbols, {len(cpp.trades)} fills, identical "
          f"(best of {REPEATS})")
    print(f"  {'C++ strategy':<44} {t_cpp:8.3f} s")
    print(f"  {'Python strategy (on_bar per session)':<44} {t_py:8.3f} s  x{t_py / t_cpp:.1f}")
    print(f"  overhead: {per_call * 1e3:.2f} ms per on_bar call ({sessions} calls, each looking at every symbol "
          f"that traded: {per_call / len(symbols) * 1e6:.1f} us per symbol)")
finally:
    shutil.rmtree(tmp, ignore_errors=True)

"""From raw files to a backtest chart, notebook style: the whole research loop in Python.

    PYTHONPATH=build/python python3 examples/research_notebook.py [WORKSPACE] [--out backtest.png]

1. ingest five years of S&P 500 stocks (the Kaggle file in ../shared/data) into a workspace;
2. look at the data: one symbol's bars, a panel of closes, data quality;
3. a cross-sectional signal with the feature language (ws.eval);
4. a strategy written in Python, run by the C++ backtester against buy-and-hold of the S&P 500;
5. the equity curves and the drawdown, saved as a PNG.

Each cell is a plain block below; paste them into Jupyter one at a time.
"""

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import tributary  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("TRIB_SHARED_DATA", ROOT.parent / "shared/data"))

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("workspace", nargs="?", default="notebook-workspace")
parser.add_argument("--out", default="backtest.png", help="Where the chart goes (PNG)")
parser.add_argument("--symbols", type=int, default=60, help="How many stocks of the file to use (0: all 505)")
args = parser.parse_args()

# %% 1. Ingest: the Kaggle file holds 505 stocks, 2013-02-08 .. 2018-02-07 (Name column: the symbol).
ws = tributary.open(args.workspace, create=True)
csv = Path(args.workspace) / "all_stocks_5yr.csv"
if not csv.exists():
    text = subprocess.run(["zstd", "-q", "-d", "-c", str(SHARED / "equities-daily/all_stocks_5yr.csv.zst")],
                          capture_output=True, check=True).stdout.decode()
    lines = text.splitlines()
    names = sorted({l.split(",")[6] for l in lines[1:]})
    keep = set(names[: args.symbols]) if args.symbols else set(names)
    csv.write_text("\n".join([lines[0]] + [l for l in lines[1:] if l.split(",")[6] in keep]) + "\n")
summary = ws.ingest("csv", csv, quarantine_bad_rows=True)
print(f"ingested: {summary['rows_accepted']} rows curated, {summary['rows_quarantined']} quarantined")

# %% 2. The data: one symbol, a panel, and what data quality found.
first = ws.bars_panel().index.get_level_values("symbol").unique()
symbols = list(first)
print(ws.bars(symbols[0], "2017-01-01", "2017-01-10"))
closes = ws.bars_panel(symbols, "2016-01-01")["close"].unstack("symbol")
print(f"panel of closes: {closes.shape[0]} sessions x {closes.shape[1]} symbols")
dq = ws.dq()
print(f"data quality: {len(dq.findings)} finding(s) across rows, "
      f"{int(dq.quarantined['rows'].sum()) if len(dq.quarantined) else 0} row(s) quarantined")

# %% 3. A signal: 60-session momentum skipping the last 5, ranked across the universe each day.
signal = ws.eval({"mom": "Ref($close, 5) / Ref($close, 60) - 1",
                  "rank": "CSRank(Ref($close, 5) / Ref($close, 60) - 1)"}, symbols, "2017-01-01")
print(signal.groupby(level="session_date").size().describe()[["count", "mean"]])


# %% 4. A Python strategy: hold the 10 best momentum names, rebalanced every 21 sessions.
class TopMomentum(tributary.Strategy):
    name = "top_momentum"

    def __init__(self, lookback=60, skip=5, top_k=10, every=21):
        self.lookback, self.skip, self.top_k, self.every = lookback, skip, top_k, every
        self.params = dict(lookback=lookback, skip=skip, top_k=top_k, every=every)
        self.warmup_bars = lookback + 1
        self.since, self.held = every, set()

    def on_bar(self, view, portfolio):
        self.since += 1
        if self.since < self.every:
            return None
        scores = []
        for s in view.updated:
            c = view.close(s)  # a read-only NumPy view of the engine's prices: no copy
            if len(c) > self.lookback:
                scores.append((c[-1 - self.skip] / c[-1 - self.lookback] - 1.0, s))
        if not scores:
            return None
        best = {s for _, s in sorted(scores, reverse=True)[: self.top_k]}
        targets = {s: 0.0 for s in self.held - best}
        targets.update({s: 1.0 / self.top_k for s in best})
        self.held, self.since = best, 0
        return targets


result = ws.backtest(TopMomentum(), symbols, "2014-01-01", benchmark="AAPL" if "AAPL" in symbols else symbols[0])
print(result)
print(result.trades.tail())

# %% 5. The chart: equity against buy-and-hold, and the drawdown.
equity = result.equity
fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 6), sharex=True, gridspec_kw={"height_ratios": [3, 1]})
top.plot(equity.index, equity["equity"], label=f"{result.summary['strategy']} ({result.summary['params']})")
top.plot(equity.index, equity["benchmark"], label=f"{result.benchmark.get('symbol', 'benchmark')} buy and hold")
top.set_ylabel("equity")
top.legend()
top.set_title(f"{result.run_id}: total return {result.metrics['total_return']:+.1%}, "
              f"Sharpe {result.metrics['sharpe']:.2f}")
drawdown = equity["equity"] / equity["equity"].cummax() - 1
bottom.fill_between(equity.index, drawdown, 0, color="tab:red", alpha=0.4)
bottom.set_ylabel("drawdown")
fig.tight_layout()
fig.savefig(args.out, dpi=100)
print(f"wrote {args.out}")

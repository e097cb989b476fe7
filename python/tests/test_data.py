"""Market data through the Python API against the CLI and hand checks: the same rows, to the bit."""

import io

import numpy as np
import pandas as pd
import pytest

import tributary
from conftest import STOCKS, trib, trib_json


def cli_bars(ws, symbol, *args):
    out = trib(ws.path, "bars", symbol, "--format", "csv", *args).stdout
    return pd.read_csv(io.StringIO(out), dtype={"source": str}, float_precision="round_trip")


def assert_same_bars(df, cli):
    assert len(df) == len(cli) > 0
    assert (df.index == pd.to_datetime(cli["ts"], utc=True)).all()
    assert (df["session_date"].to_numpy() == pd.to_datetime(cli["session_date"]).to_numpy()).all()
    for column in ["open", "high", "low", "close", "volume"]:
        # The CLI prints the shortest text that reads back to the same double: equal bits.
        assert np.array_equal(df[column].to_numpy(), cli[column].to_numpy(dtype="float64")), column
    assert list(df["source"].astype(str)) == list(cli["source"])


def test_bars_equal_the_cli(ws):
    df = ws.bars("AAPL", "2015-01-01", "2016-12-31", adjust="raw")
    assert_same_bars(df, cli_bars(ws, "AAPL", "--from", "2015-01-01", "--to", "2016-12-31"))
    assert str(df.index.tz) == "UTC" and df.index.name == "ts"
    assert all(df[c].dtype == np.float64 for c in ["open", "high", "low", "close", "volume"])
    assert df["session_date"].dtype == "datetime64[ns]"


def test_bars_hand_checked_values(ws, stocks_csv):
    # AAPL on 2016-03-01 in the Kaggle file: 97.65,100.77,97.42,100.53,50407147,AAPL.
    row = ws.bars("AAPL", "2016-03-01", "2016-03-01", adjust="raw").iloc[0]
    assert (row.open, row.high, row.low, row.close, row.volume) == (97.65, 100.77, 97.42, 100.53, 50407147.0)
    assert row.session_date == pd.Timestamp("2016-03-01")


def test_bars_accept_python_dates(ws):
    import datetime
    a = ws.bars("MSFT", datetime.date(2017, 1, 3), pd.Timestamp("2017-01-31"))
    b = ws.bars("MSFT", "2017-01-03", "2017-01-31")
    pd.testing.assert_frame_equal(a, b)
    assert len(a) == 20


def test_bars_regrouped_timeframe_is_refused_for_daily_only(ws):
    with pytest.raises(tributary.NotFound, match="needs bars that divide it"):
        ws.bars("AAPL", timeframe="1h")


def test_bars_panel_is_every_symbols_bars(ws):
    panel = ws.bars_panel(STOCKS, "2014-01-01", "2014-12-31", adjust="raw")
    assert panel.index.names == ["symbol", "ts"]
    assert list(panel.index.get_level_values("symbol").unique()) == STOCKS
    for symbol in STOCKS:
        pd.testing.assert_frame_equal(panel.xs(symbol, level="symbol"),
                                      ws.bars(symbol, "2014-01-01", "2014-12-31", adjust="raw"), check_names=False)
    everything = ws.bars_panel(adjust="raw")  # None: every curated symbol
    assert sorted(everything.index.get_level_values("symbol").unique()) == sorted(STOCKS)
    assert len(everything) == sum(len(ws.bars(s, adjust="raw")) for s in STOCKS)


def test_bars_panel_equals_duckdb_reading_the_lake(ws, tmp_path):
    """DuckDB (the npm package) reads our curated Parquet for the same rows."""
    import json
    import os
    import subprocess
    from pathlib import Path
    glob = os.path.join(ws.path, "lake/curated/bars/timeframe=1d/symbol=KO/*/data.parquet")
    out = subprocess.run(["node", str(Path(__file__).parent / "duckdb_read.mjs"), glob,
                          "ts::VARCHAR AS ts, open, high, low, close, volume"],
                         capture_output=True, text=True, check=True).stdout
    rows = pd.DataFrame(json.loads(out))
    ours = ws.bars_panel(["KO"], adjust="raw").xs("KO", level="symbol")
    assert len(rows) == len(ours)
    for column in ["open", "high", "low", "close", "volume"]:
        assert np.array_equal(rows[column].astype("float64").to_numpy(), ours[column].to_numpy()), column


def test_split_adjusted_bars_equal_the_cli(split_ws):
    for adjust in ["raw", "split", "total"]:
        df = split_ws.bars("AAPL", adjust=adjust)
        assert_same_bars(df, cli_bars(split_ws, "AAPL", "--adjust", adjust))


def test_actions_equal_the_cli(split_ws):
    df = split_ws.actions("AAPL")
    cli = [__import__("json").loads(l) for l in
           trib(split_ws.path, "actions", "list", "AAPL", "--format", "json").stdout.splitlines()]
    assert len(df) == len(cli) > 0
    split = df[df.kind == "split"].iloc[0]
    assert split.ex_date == pd.Timestamp("2020-08-31") and split.split_ratio == 4.0 and bool(split.used)
    for got, want in zip(df.itertuples(), cli):
        assert got.kind == want["kind"] and got.ex_date == pd.Timestamp(want["ex_date"])
        assert got.source == want["source"] and got.used == want["used"]
        assert got.cash_amount == want["cash_amount"] and got.split_ratio == want["split_ratio"]


def test_coverage_equals_the_cli(ws):
    df = ws.coverage()
    cli = trib_json(ws.path, "coverage")
    want = [(s["symbol"], y["year"], y["expected"], y["present"]) for s in cli for y in s["years"]]
    assert list(df[["symbol", "year", "expected", "present"]].itertuples(index=False, name=None)) == want
    # The Kaggle file's 2013 starts on 2013-02-08: every session after it is there.
    aapl = df[(df.symbol == "AAPL") & (df.year == 2014)].iloc[0]
    assert (aapl.expected, aapl.present, aapl.missing) == (252, 252, 0)


def test_dq_equals_the_cli(ws):
    d = ws.dq()
    cli = trib_json(ws.path, "dq")
    assert len(d.quarantined) == len(cli["quarantined"])
    assert list(d.findings["rule"]) == [f["rule"] for f in cli["findings"]]
    assert list(d.findings["symbol"]) == [f["symbol"] for f in cli["findings"]]


def test_ingest_is_idempotent_and_reports_quarantine(ws, stocks_csv, tmp_path):
    again = ws.ingest("csv", stocks_csv, quarantine_bad_rows=True)
    assert again["raw_new"] is False and again["partitions_created"] == 0 and again["partitions_replaced"] == 0
    bad = tmp_path / "zzz.csv"
    bad.write_text("date,open,high,low,close,volume\n2016-01-04,10,11,9,10.5,100\n2016-01-05,x,11,9,10.5,100\n")
    with pytest.raises(tributary.InvalidInput, match="quarantine-bad-rows"):
        ws.ingest("csv", bad)
    r = ws.ingest("csv", bad, quarantine_bad_rows=True)
    assert (r["rows_accepted"], r["rows_quarantined"]) == (1, 1)
    q = ws.dq().quarantined
    assert int(q[q.rule == "bad_number"]["rows"].sum()) == 1  # counted per rule, across symbols


def test_update_through_a_vendor(tmp_path):
    """The daily update with the simulated vendor: planned, drained, the bars there."""
    w = tributary.open(tmp_path / "ws", create=True)
    trib(w.path, "universe", "add", "SIMA", "--vendor", "sim", "--start", "2024-01-02")
    r = w.update(as_of="2024-01-31")
    assert r["status"] == 0 and r["planned"] >= 1 and r["done"] == r["pending"]
    bars = w.bars("SIMA", adjust="raw")
    assert bars["session_date"].min() == pd.Timestamp("2024-01-02")
    assert bars["session_date"].max() == pd.Timestamp("2024-01-31")
    assert w.update(as_of="2024-01-31")["queued"] == 0  # nothing new: idempotent


def test_status(ws):
    s = ws.status()
    assert s == trib_json(ws.path, "status")

"""Fixtures of the Python package's tests: real workspaces built from the shared data (the Kaggle
S&P 500 file, Yahoo's recorded chart of AAPL's 2020 split), and the trib CLI to compare with.

Run by ctest (python_tests) with PYTHONPATH at build/python; by hand:
    PYTHONPATH=build/python python3 -m pytest python/tests
"""

import email.utils
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TRIB = os.environ.get("TRIB_BIN", str(ROOT / "build/apps/trib/trib"))
SHARED = Path(os.environ.get("TRIB_SHARED_DATA", str(ROOT.parent / "shared/data")))
STOCKS = ["AAPL", "MSFT", "XOM", "KO", "JPM", "GE"]

sys.path.insert(0, str(Path(__file__).parent))  # strategies.py
# The package from the build unless PYTHONPATH names one; absolute, for the example's subprocess.
_paths = [str(Path(p).resolve()) for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
if not _paths:
    _paths = [str(ROOT / "build/python")]
    sys.path.insert(0, _paths[0])
os.environ["PYTHONPATH"] = os.pathsep.join(_paths)


def trib(ws, *args, check=True):
    """Runs the CLI on workspace `ws`; returns the completed process (text)."""
    return subprocess.run([TRIB, "-w", str(ws), *map(str, args)], capture_output=True, text=True, check=check)


def trib_json(ws, *args):
    return json.loads(trib(ws, *args, "--json").stdout)


@pytest.fixture(scope="session")
def stocks_csv(tmp_path_factory):
    """Six stocks of the Kaggle file (2013-02-08 .. 2018-02-07), as one CSV."""
    out = tmp_path_factory.mktemp("data") / "stocks.csv"
    text = subprocess.run(["zstd", "-q", "-d", "-c", str(SHARED / "equities-daily/all_stocks_5yr.csv.zst")],
                          capture_output=True, check=True).stdout.decode()
    lines = text.splitlines()
    keep = [lines[0]] + [l for l in lines[1:] if l.split(",")[6] in STOCKS]
    out.write_text("\n".join(keep) + "\n")
    return out


@pytest.fixture(scope="session")
def ws(tmp_path_factory, stocks_csv):
    """A workspace with the six stocks ingested through the Python API."""
    import tributary
    path = tmp_path_factory.mktemp("ws") / "ws"
    w = tributary.open(path, create=True)
    w.ingest("csv", stocks_csv, quarantine_bad_rows=True)
    return w


@pytest.fixture(scope="session")
def split_ws(tmp_path_factory):
    """AAPL from Yahoo's recorded chart across its 4:1 split of 2020-08-31 (bars and the split)."""
    import tributary
    path = tmp_path_factory.mktemp("split") / "ws"
    w = tributary.open(path, create=True)
    # The recording wraps Yahoo's answer; the file gets the answer's date, its fetch time (Yahoo's
    # prices are split-adjusted as of then).
    recorded = json.loads((SHARED / "vendor-samples/yahoo/chart/chart-AAPL-2020-08-31-to-2020-11-07.json").read_text())
    chart = path.parent / "aapl-chart.json"
    chart.write_text(json.dumps(recorded["response"]["bodyJson"]))
    fetched = email.utils.parsedate_to_datetime(recorded["response"]["headers"]["date"]).timestamp()
    os.utime(chart, (fetched, fetched))
    w.ingest("yahoo", chart, symbol="AAPL")
    return w

"""The notebook-style example runs from ingest to a PNG chart."""

import os
import subprocess
import sys

from conftest import ROOT


def test_research_notebook_example(tmp_path):
    out = tmp_path / "chart.png"
    env = dict(os.environ, MPLBACKEND="Agg")
    p = subprocess.run([sys.executable, str(ROOT / "examples/research_notebook.py"), str(tmp_path / "ws"), "--out",
                        str(out), "--symbols", "25"], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert "Backtest(bt-" in p.stdout and f"wrote {out}" in p.stdout
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
    # A second run finds everything ingested (idempotent) and draws the same chart.
    again = subprocess.run([sys.executable, str(ROOT / "examples/research_notebook.py"), str(tmp_path / "ws"), "--out",
                            str(tmp_path / "again.png"), "--symbols", "25"], capture_output=True, text=True, env=env,
                           cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert [l for l in again.stdout.splitlines() if l.startswith("Backtest(")] == \
        [l for l in p.stdout.splitlines() if l.startswith("Backtest(")]

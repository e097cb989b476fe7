"""Features, formulas and models through the Python API: hand-computed references (pandas over
the bars) and the CLI's output."""

import io

import numpy as np
import pandas as pd
import pytest

import tributary
from conftest import STOCKS, trib, trib_json


def test_eval_equals_pandas_rolling_mean(ws):
    df = ws.eval("Mean($close, 20) / $close", ["AAPL", "KO"], "2016-01-01", "2016-12-31", adjust="raw")
    assert df.index.names == ["symbol", "session_date"]
    assert list(df.columns) == ["Mean($close, 20) / $close"]
    for symbol in ["AAPL", "KO"]:
        close = ws.bars(symbol, adjust="raw").set_index("session_date")["close"]
        want = (close.rolling(20).mean() / close).loc["2016-01-01":"2016-12-31"]
        got = df.xs(symbol, level="symbol").iloc[:, 0]
        assert len(got) == len(want) == 252
        np.testing.assert_allclose(got.to_numpy(), want.to_numpy(), rtol=1e-12)


def test_eval_named_formulas_equal_the_cli(ws):
    df = ws.eval({"m5": "Mean($close, 5)", "ret": "$close / Ref($close, 1) - 1"}, STOCKS[:3], "2017-06-01",
                 "2017-06-30")
    out = trib(ws.path, "eval", "m5=Mean($close, 5)", "ret=$close / Ref($close, 1) - 1", "--symbol", "AAPL",
               "--symbol", "MSFT", "--symbol", "XOM", "--from", "2017-06-01", "--to", "2017-06-30").stdout
    cli = pd.read_csv(io.StringIO(out), float_precision="round_trip")
    assert len(df) == len(cli)
    assert list(df.index.get_level_values("symbol")) == list(cli["symbol"])
    assert np.array_equal(df["m5"].to_numpy(), cli["m5"].to_numpy())
    assert np.array_equal(df["ret"].to_numpy(), cli["ret"].to_numpy())


def test_eval_column_names(ws):
    df = ws.eval(["m=Mean($close, 3)", "$close"], ["AAPL"], "2017-06-01", "2017-06-02")
    assert list(df.columns) == ["m", "$close"]


def test_eval_label_needs_the_flag(ws):
    with pytest.raises(tributary.InvalidInput, match="Ref"):
        ws.eval("Ref($close, -5) / $close - 1", ["AAPL"])
    fwd = ws.eval("Ref($close, -5) / $close - 1", ["AAPL"], label=True)
    close = ws.bars("AAPL").set_index("session_date")["close"]
    np.testing.assert_allclose(fwd.xs("AAPL", level="symbol").iloc[:, 0].to_numpy(),
                               (close.shift(-5) / close - 1).to_numpy(), rtol=1e-12)


def test_features_basic_equal_the_formulas(ws):
    f = ws.features("basic", ["AAPL", "MSFT"], "2016-01-01", "2016-12-31")
    assert f.index.names == ["symbol", "session_date"]
    assert {"sma_20", "rsi_14", "log_return"} <= set(f.columns)
    assert all(dt == np.float32 for dt in f.dtypes)
    assert len(f) == 2 * 252
    # sma_20 is SMA($close, 20) on the [prices] adjust prices (total; no actions here: raw).
    for symbol in ["AAPL", "MSFT"]:
        close = ws.bars(symbol).set_index("session_date")["close"]
        want = close.rolling(20).mean().loc["2016-01-01":"2016-12-31"].to_numpy(dtype=np.float32)
        np.testing.assert_allclose(f.xs(symbol, level="symbol")["sma_20"].to_numpy(), want, rtol=2e-7)
    # Committed files are read back as they are without computing.
    again = ws.features("basic", ["AAPL", "MSFT"], "2016-01-01", "2016-12-31", compute=False)
    pd.testing.assert_frame_equal(f, again)


def test_alpha158_frame(ws):
    f = ws.features("alpha158", ["AAPL", "KO"], "2017-01-01", "2017-01-31")
    assert f.shape == (2 * 20, 158) and all(dt == np.float32 for dt in f.dtypes)
    assert f.index.is_monotonic_increasing
    for symbol in ["AAPL", "KO"]:
        bars = ws.bars(symbol).set_index("session_date")
        ma5 = (bars["close"].rolling(5).mean() / bars["close"]).loc["2017-01-01":"2017-01-31"]
        kmid = ((bars["close"] - bars["open"]) / bars["open"]).loc["2017-01-01":"2017-01-31"]
        got = f.xs(symbol, level="symbol")
        np.testing.assert_allclose(got["MA5"].to_numpy(), ma5.to_numpy(dtype=np.float32), rtol=1e-6)
        np.testing.assert_allclose(got["KMID"].to_numpy(), kmid.to_numpy(dtype=np.float32), rtol=1e-5, atol=1e-7)


def test_features_unknown_set(ws):
    with pytest.raises(tributary.NotFound, match="alpha158"):
        ws.features("no_such_set", ["AAPL"])


RIDGE = """name = "py-ridge"
[dataset]
feature_set = "basic"
universe = ["AAPL", "MSFT", "XOM", "KO", "JPM", "GE"]
[split]
train = 252
valid = 63
test = 126
embargo = 2
[model]
kind = "ridge"
[model.params]
alphas = [0.1, 10.0, 1000.0]
"""


@pytest.fixture(scope="module")
def model_id(ws):
    """A ridge model trained and its forecasts written through the Python API."""
    trained = ws.train(RIDGE)
    assert trained["kind"] == "ridge" and trained["already_registered"] is False
    assert len(trained["top_features"]) == 10
    written = ws.predict(trained["id"])
    assert written["rows"] > 0 and written["symbols"] == 6
    assert ws.predict(trained["id"])["partitions_written"] == 0  # incremental: nothing new
    return trained["id"]


def test_training_again_finds_the_registered_model(ws, model_id, tmp_path):
    config = tmp_path / "ridge.toml"
    config.write_text(RIDGE)
    again = ws.train(config)  # a path this time
    assert again["id"] == model_id and again["already_registered"] is True
    with pytest.raises(tributary.InvalidInput):
        ws.train("name = 'x'\n[split]\ntrian = 5\n")
    with pytest.raises(tributary.NotFound):
        ws.train(str(tmp_path / "missing.toml"))


def test_models_list_the_registry(ws, model_id):
    models = ws.models()
    assert model_id in models.index
    row = models.loc[model_id]
    assert row.kind == "ridge" and row.feature_set == "basic"
    cli = [__import__("json").loads(l) for l in trib(ws.path, "ml", "list", "--json").stdout.splitlines()]
    mine = next(m for m in cli if m["id"] == model_id)
    assert row.rank_ic_mean == mine["metrics"]["test"]["rank_ic_mean"]


def test_predictions_equal_the_cli(ws, model_id):
    p = ws.predictions(model_id, as_of="2017-12-29")
    out = trib(ws.path, "ml", "predictions", "--model", model_id, "--as-of", "2017-12-29").stdout
    cli = pd.read_csv(io.StringIO(out), float_precision="round_trip")
    assert len(p) == len(cli) > 0
    cli = cli.set_index(["symbol", "session_date"]).sort_index()
    assert list(p.index.get_level_values("symbol")) == list(cli.index.get_level_values("symbol"))
    assert np.array_equal(p["prediction"].to_numpy(), cli["prediction"].to_numpy())
    assert p.index.get_level_values("session_date").max() <= pd.Timestamp("2017-12-29")
    assert p.index.is_monotonic_increasing
    with pytest.raises(tributary.NotFound, match="no model"):
        ws.predictions("nope")

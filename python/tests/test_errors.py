"""Bad arguments raise the exception class of their error category, with the CLI's message."""

import datetime

import pytest

import tributary
from conftest import trib


def cli_error(ws, *args):
    p = trib(ws.path, *args, check=False)
    assert p.returncode != 0
    return p.returncode, p.stderr.strip().removeprefix("trib: error: ")


def test_unknown_symbol_is_not_found_with_the_cli_message(ws):
    with pytest.raises(tributary.NotFound) as e:
        ws.bars("NOPE")
    code, message = cli_error(ws, "bars", "NOPE")
    assert code == 3 and str(e.value) == message
    assert isinstance(e.value, LookupError) and isinstance(e.value, tributary.Error)


def test_inverted_dates_are_invalid_input(ws):
    with pytest.raises(tributary.InvalidInput, match="start 2017-01-01 is after end 2016-01-01"):
        ws.bars("AAPL", "2017-01-01", "2016-01-01")
    with pytest.raises(tributary.InvalidInput, match="is after"):
        ws.bars_panel(["AAPL"], "2017-01-01", "2016-01-01")
    with pytest.raises(tributary.InvalidInput, match="is after"):
        ws.eval("$close", ["AAPL"], "2017-01-01", "2016-01-01")
    with pytest.raises(tributary.InvalidInput, match="is after"):
        ws.backtest("sma_cross", ["AAPL"], "2017-01-01", "2016-01-01")
    with pytest.raises(ValueError):  # InvalidInput is a ValueError too
        ws.features("basic", ["AAPL"], "2017-01-01", "2016-01-01")


def test_malformed_values_are_invalid_input(ws):
    with pytest.raises(tributary.InvalidInput, match="2016-13-01"):
        ws.bars("AAPL", "2016-13-01")
    with pytest.raises(tributary.InvalidInput):
        ws.bars("AAPL", adjust="sideways")
    with pytest.raises(tributary.InvalidInput):
        ws.bars("not a symbol!")
    with pytest.raises(tributary.InvalidInput, match="unknown function 'Foo'"):
        ws.eval("Foo($close)", ["AAPL"])
    with pytest.raises(tributary.InvalidInput):
        ws.ingest("no_such_vendor", "x.csv")
    with pytest.raises(tributary.InvalidInput):
        ws.bars_panel([])


def test_wrong_types_are_type_errors(ws):
    with pytest.raises(TypeError, match="symbol must be a str"):
        ws.bars(42)
    with pytest.raises(TypeError, match="start must be a date"):
        ws.bars("AAPL", 20160101)
    with pytest.raises(TypeError, match="each of symbols"):
        ws.bars_panel(["AAPL", 7])
    with pytest.raises(TypeError, match="ticker_only must be True or False"):
        ws.bars("AAPL", ticker_only="yes")
    with pytest.raises(TypeError, match="expressions"):
        ws.eval(3.5, ["AAPL"])
    with pytest.raises(TypeError, match="path"):
        tributary.open(None)
    with pytest.raises(TypeError, match="fast must be an int"):
        ws.backtest("sma_cross", ["AAPL"], fast="10")
    with pytest.raises(TypeError, match="risk_free_rate must be a number"):
        ws.backtest("sma_cross", ["AAPL"], risk_free_rate="0.02")


def test_missing_workspace_is_not_found(tmp_path):
    with pytest.raises(tributary.NotFound, match="trib init"):
        tributary.open(tmp_path / "nothing-here")
    ws = tributary.open(tmp_path / "new", create=True)
    assert isinstance(ws.status(), dict)
    with pytest.raises(tributary.NotFound):
        ws.bars_panel()  # no curated symbols at all


def test_categories_are_a_hierarchy():
    assert issubclass(tributary.RateLimited, tributary.Transient)
    for cls in [tributary.InvalidInput, tributary.NotFound, tributary.Conflict, tributary.Transient,
                tributary.Permanent, tributary.DataLoss, tributary.Internal]:
        assert issubclass(cls, tributary.Error)

import json
from decimal import Decimal
from pathlib import Path

import pytest

from kestrel_trading.catalog import CatalogError, InstrumentCatalog, load_catalog

SPEC = {"tick_size": "0.01", "step_size": "0.001", "min_qty": "0.001", "max_qty": "50", "min_notional": "5"}


def test_builtin_catalog_trades_every_symbol_with_default_filters() -> None:
    instrument = InstrumentCatalog.builtin().get("SP500")
    assert instrument is not None
    assert instrument.symbol == "SP500"
    assert instrument.min_notional == Decimal(10)


def test_listed_symbol_wins_over_default_and_unknown_is_none_without_default(tmp_path: Path) -> None:
    path = tmp_path / "instruments.json"
    path.write_text(json.dumps({"symbols": {"BTC/USDT": SPEC}}))
    catalog = load_catalog(str(path))
    btc = catalog.get("BTC/USDT")
    assert btc is not None and btc.tick_size == Decimal("0.01") and btc.max_qty == Decimal(50)
    assert catalog.get("ETH/USDT") is None


def test_default_applies_to_unlisted_symbols() -> None:
    catalog = InstrumentCatalog.from_mapping({"default": SPEC})
    eth = catalog.get("ETH/USDT")
    assert eth is not None and eth.symbol == "ETH/USDT" and eth.step_size == Decimal("0.001")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ([], "expected an object"),
        ({"symbols": {"X": {**SPEC, "tick_size": "abc"}}}, "X"),
        ({"symbols": {"X": {"tick_size": "1"}}}, "lacks step_size"),
        ({"default": {**SPEC, "tick_size": "0"}}, "must be > 0"),
        ({"symbols": ["X"]}, "'symbols' must map"),
    ],
)
def test_bad_catalogues_are_refused_with_the_reason(raw: object, message: str) -> None:
    with pytest.raises(CatalogError, match=message):
        InstrumentCatalog.from_mapping(raw)


def test_unreadable_file_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="cannot read instruments file"):
        load_catalog(str(tmp_path / "missing.json"))

"""The vectorized close rounding equals the Decimal path it replaces, bit for bit, on every tick."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from kestrel_backtest.accounting import rounded_closes
from kestrel_featurelib.samples import arch_daily_bars
from kestrel_trading.catalog import DEFAULT_FILTERS, InstrumentCatalog


@pytest.mark.parametrize("tick", ["0.00001", "0.01", "1", "0.5", "0.0001", "0.000001"])
def test_rounded_closes_equal_the_decimal_rounding(tick: str) -> None:
    instrument = InstrumentCatalog.from_mapping({"default": {**DEFAULT_FILTERS, "tick_size": tick}}).get("X")
    assert instrument is not None
    rng = np.random.default_rng(0)
    closes = np.concatenate(
        [
            rng.lognormal(4, 2, 50_000),
            np.round(rng.uniform(1, 5000, 20_000), 2),
            np.arange(10_000) * 0.000005 + 1,  # exact halves of a 1e-5 tick, where rounding is in doubt
            arch_daily_bars("sp500")["close"].to_numpy(),
        ]
    )
    expected = np.array([float(instrument.round_price(Decimal(str(c)))) for c in closes.tolist()])
    assert np.array_equal(rounded_closes(closes, instrument), expected)

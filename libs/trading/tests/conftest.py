from decimal import Decimal

import pytest

from kestrel_trading.instruments import Instrument


@pytest.fixture
def btc() -> Instrument:
    return Instrument(
        symbol="BTC/USDT",
        tick_size=Decimal("0.01"),
        step_size=Decimal("0.001"),
        min_qty=Decimal("0.001"),
        max_qty=Decimal("100"),
        min_notional=Decimal("10"),
    )

"""Hand-worked backtests: fills where paper trading puts them, metrics as computed by hand, risk
limits rejecting with their reason codes in exact mode, and bad specs refused with a reason."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import pytest

from kestrel_backtest.accounting import report
from kestrel_backtest.domain import UNLIMITED, BacktestInputError, BacktestSpec, MarketData, with_bar_identity
from kestrel_backtest.exact import run_exact
from kestrel_backtest.fast import run_fast
from kestrel_strategies import build

DAY = 86_400 * 10**9


def _data(opens: list[float], closes: list[float], p_up: list[float]) -> MarketData:
    n = len(closes)
    frame = pd.DataFrame(
        {
            "ts": 1_700_000_000 * 10**9 // DAY * DAY + np.arange(n, dtype=np.int64) * DAY,
            "open": opens,
            "high": [max(o, c) for o, c in zip(opens, closes, strict=True)],
            "low": [min(o, c) for o, c in zip(opens, closes, strict=True)],
            "close": closes,
            "volume": [1.0] * n,
        }
    )
    return MarketData(
        {"X": with_bar_identity(frame, "X", "BACKTEST", "1d")}, None, {"X": {"p_up": np.array(p_up)}}
    )


# The model says up on bar 0 and down on bar 2: buy at bar 1's open (100), sell at bar 3's open (120).
DATA = _data([100, 100, 110, 120, 120], [100, 105, 90, 120, 120], [0.9, 0.5, 0.1, 0.5, 0.5])
SPEC = BacktestSpec(
    build("ml_threshold", {"upper": 0.6, "lower": 0.4}),
    ("X",),
    "1d",
    Decimal(10_000),
    fee_rate=Decimal("0.001"),
    sizing_fraction=Decimal("0.5"),
)


def test_a_round_trip_worked_by_hand() -> None:
    path = run_exact(SPEC, DATA)
    buy, sell = path.fills
    # Sized on bar 0's close: 50% of 10,000 at 100 = 50 units; filled at the NEXT bar's open.
    assert (buy.side.value, buy.quantity, buy.price, buy.fee) == (
        "SIDE_BUY",
        Decimal(50),
        Decimal(100),
        Decimal(5),
    )
    assert buy.ts_ns == DATA.bars["X"]["ts"].iat[1]
    assert (sell.quantity, sell.price, sell.fee) == (Decimal(50), Decimal(120), Decimal(6))
    result = report(SPEC, DATA, path.fills)
    # Cash 10,000 - 5,000 - 5 + 6,000 - 6 = 10,989.
    assert result.money["final_equity"] == Decimal(10_989)
    assert result.money["total_fees"] == Decimal(11)
    assert result.metrics["total_return"] == pytest.approx(0.0989)
    # Equity at closes: 10000, 10000-5005+5250=10245, 9995-... bar 2 close 90: 4995+4500=9495.
    assert result.equity["equity"].round(6).tolist() == [10_000, 10_245, 9_495, 10_989, 10_989]
    assert result.metrics["max_drawdown"] == pytest.approx(1 - 9_495 / 10_245)
    assert result.metrics["win_rate"] == 1.0 and result.metrics["trade_count"] == 1
    assert result.trades["pnl"].iloc[0] == pytest.approx(989.0)
    assert result.metrics["benchmark_return"] == pytest.approx(0.2)  # close 100 -> 120
    assert result.metrics["exposure"] == pytest.approx(2 / 5)  # held over bars 1 and 2


def test_slippage_moves_fills_against_the_trader_on_the_tick() -> None:
    fills = run_exact(replace(SPEC, slippage_bps=Decimal("10.3")), DATA).fills
    assert fills[0].price == Decimal("100.103") and fills[1].price == Decimal("119.87640")


def test_exact_mode_applies_risk_limits_with_reason_codes() -> None:
    limited = replace(SPEC, limits=replace(UNLIMITED, max_order_notional=Decimal(1_000)))
    path = run_exact(limited, DATA)
    assert path.fills == []
    assert [r.reason for r in path.rejections] == [
        "RISK_REASON_MAX_ORDER_NOTIONAL",
        "RISK_REASON_ZERO_QUANTITY",
    ]
    with pytest.raises(BacktestInputError, match="exact mode"):
        run_fast(limited, DATA)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"symbols": ()}, "symbols must be distinct"),
        ({"symbols": ("X", "X")}, "symbols must be distinct"),
        ({"initial_cash": Decimal(0)}, "initial_cash"),
        ({"fee_rate": Decimal("0.5")}, "fee_rate"),
        ({"slippage_bps": Decimal(-1)}, "slippage_bps"),
        ({"sizing_fraction": Decimal("1.5")}, "sizing_fraction"),
        ({"timeframe": "1M"}, "fixed length"),
    ],
)
def test_bad_specs_are_refused_with_a_reason(change: dict[str, Any], message: str) -> None:
    with pytest.raises(BacktestInputError, match=message):
        replace(SPEC, **change)


def test_missing_data_is_refused_with_a_reason() -> None:
    with pytest.raises(BacktestInputError, match="no 1d bars of Y"):
        run_exact(replace(SPEC, symbols=("Y",)), DATA)
    pairs = replace(SPEC, strategy=build("pairs_spread"))
    with pytest.raises(BacktestInputError, match="reference"):
        run_fast(pairs, DATA)


def test_a_gap_up_overdraws_as_live_paper_trading_would_and_the_accounting_says_so() -> None:
    # All-in on bar 0's close (100): 100 units; bar 1 opens at 110, so the fill costs 11,000 + 11 fee
    # against 10,000 cash. The paper model fills it (live execution holds no balances); vectorbt is
    # lent the 1,011 and the metrics come from the true equity curve, with the overdraft reported.
    data = _data([100, 110, 110, 120, 120], [100, 110, 110, 120, 120], [0.9, 0.5, 0.5, 0.5, 0.5])
    spec = replace(SPEC, sizing_fraction=Decimal(1))
    path = run_exact(spec, data)
    (buy,) = path.fills
    assert (buy.quantity, buy.price, buy.fee) == (Decimal(100), Decimal(110), Decimal(11))
    result = report(spec, data, path.fills)
    assert result.metrics["max_overdraft"] == pytest.approx(1011.0)
    # Marked at the last close 120: 100 units = 12,000, cash -1,011: equity 10,989.
    assert result.money["final_equity"] == Decimal(10_989)
    assert result.equity["equity"].iloc[-1] == pytest.approx(10_989.0)
    assert result.metrics["total_return"] == pytest.approx(0.0989)
    assert result.equity["benchmark"].iloc[0] == pytest.approx(10_000.0)
    assert result.metrics["max_drawdown"] == pytest.approx(1 - 9_989 / 10_000)  # bar 1: 11,000 - 1,011

"""The grid sweep agrees with fast mode point by point, and honours the strategies' constraints.

Fast mode sizes through risk in whole lots (1e-4) on the signal bar's close; the grid spends the same
fraction of cash at the fill price in float. On the S&P 500 sample the next open is the previous
close, so the two differ only by lot rounding and where the fee is taken from: trade counts are
equal and total returns agree to 1e-3 (absolute), Sharpe ratios and drawdowns to 1e-2.
"""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import pytest

from kestrel_backtest.accounting import report
from kestrel_backtest.domain import BacktestSpec, MarketData, with_bar_identity
from kestrel_backtest.fast import run_fast
from kestrel_backtest.grid import METRICS, grid_points, sweep
from kestrel_featurelib.samples import arch_daily_bars
from kestrel_strategies import build, get


@pytest.fixture(scope="module")
def bars() -> pd.DataFrame:
    return arch_daily_bars("sp500")


POINTS = [
    ("sma_cross", {"fast": 10, "slow": 50}),
    ("sma_cross", {"fast": 20, "slow": 100}),
    ("ema_cross", {"fast": 12, "slow": 26}),
    ("donchian_breakout", {"entry": 20, "exit": 10}),
]


@pytest.mark.parametrize(("name", "params"), POINTS)
def test_a_grid_point_matches_fast_mode(bars: pd.DataFrame, name: str, params: dict[str, int]) -> None:
    data = MarketData({"SP500": with_bar_identity(bars, "SP500", "BACKTEST", "1d")})
    spec = BacktestSpec(
        build(name, params), ("SP500",), "1d", Decimal(100_000), sizing_fraction=Decimal("0.5")
    )
    single = report(spec, data, run_fast(spec, data).fills).metrics
    # The point sits inside a larger grid: its row must not depend on its neighbours.
    grid = {k: sorted({v, v + 5}) for k, v in params.items()}
    table = sweep(name, bars, grid, fee_rate=0.001, sizing_fraction=0.5)
    row = table.loc[(table[list(params)] == pd.Series(params)).all(axis=1)].iloc[0]
    assert row["trades"] == single["trade_count"] > 10
    assert row["total_return"] == pytest.approx(single["total_return"], abs=1e-3)
    assert row["sharpe_ratio"] == pytest.approx(single["sharpe_ratio"], abs=1e-2)
    assert row["max_drawdown"] == pytest.approx(single["max_drawdown"], abs=1e-2)


def test_constraint_violations_are_left_out(bars: pd.DataFrame) -> None:
    table = sweep("sma_cross", bars.iloc[:600], {"fast": [5, 20, 50], "slow": [10, 20, 60]})
    assert list(table.columns) == ["fast", "slow", *METRICS]
    pairs = list(zip(table["fast"], table["slow"], strict=True))
    assert pairs == [(5, 10), (5, 20), (5, 60), (20, 60), (50, 60)]
    assert (table["fast"] < table["slow"]).all()
    donchian = grid_points(get("donchian_breakout"), {"entry": [10, 20], "exit": [10, 15]})
    assert [(p["entry"], p["exit"]) for p in donchian] == [(20, 10), (20, 15)]


def test_a_grid_with_no_valid_point_is_refused(bars: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="constraints"):
        sweep("sma_cross", bars, {"fast": [50], "slow": [10]})

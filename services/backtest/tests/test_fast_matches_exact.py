"""Fast mode (vectorized strategy + vectorbt) and exact mode (the live code bar by bar) trade alike.

Identical fills — bar, side, quantity, price and fee to the last decimal — and identical rejections,
for strategies of every family, long-only and long-short, with slippage, on one and on two symbols
sharing cash; then the same Decimal money totals.
"""

from __future__ import annotations

import itertools
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from kestrel_backtest.accounting import report
from kestrel_backtest.domain import BacktestSpec, MarketData, with_bar_identity
from kestrel_backtest.exact import run_exact
from kestrel_backtest.fast import run_fast
from kestrel_featurelib.samples import arch_daily_bars
from kestrel_featurelib.testing import RandomSeries, random_bars
from kestrel_strategies import build


@pytest.fixture(scope="module")
def market() -> MarketData:
    sp500 = with_bar_identity(arch_daily_bars("sp500"), "SP500", "BACKTEST", "1d")
    nasdaq = with_bar_identity(arch_daily_bars("nasdaq"), "NASDAQ", "BACKTEST", "1d")
    rng = np.random.default_rng(5)
    inputs = {s: {"p_up": rng.uniform(0.3, 0.7, len(f))} for s, f in (("SP500", sp500), ("NASDAQ", nasdaq))}
    return MarketData({"SP500": sp500, "NASDAQ": nasdaq}, nasdaq[["ts", "close"]], inputs)


CASES = [
    ("sma_cross", {"fast": 10, "slow": 50}),
    ("macd", {}),
    ("donchian_breakout", {}),
    ("rsi_reversion", {}),
    ("bollinger_reversion", {}),
    ("vol_target", {"target_vol": 0.1}),
    ("pairs_spread", {}),
    ("ml_threshold", {}),
]


@pytest.mark.parametrize(("name", "params"), CASES)
@pytest.mark.parametrize("allow_short", [False, True])
@pytest.mark.parametrize("symbols", [("SP500",), ("SP500", "NASDAQ")])
def test_fast_and_exact_fill_alike(
    market: MarketData, name: str, params: dict[str, object], allow_short: bool, symbols: tuple[str, ...]
) -> None:
    spec = BacktestSpec(
        build(name, params),
        symbols,
        "1d",
        Decimal(100_000),
        slippage_bps=Decimal(5),
        sizing_fraction=Decimal("0.4"),
        allow_short=allow_short,
    )
    exact, fast = run_exact(spec, market), run_fast(spec, market)
    assert len(exact.fills) > 0
    assert fast.fallback == ""  # the fast book ran it, not exact mode
    assert fast.fills == exact.fills
    assert fast.rejections == exact.rejections


def test_random_minute_bars_with_reversals(market: MarketData) -> None:
    bars, _ = random_bars(RandomSeries(seed=21, n=3000, vol=0.01, flat_runs=4))
    data = MarketData({"X": with_bar_identity(bars, "X", "BACKTEST", "1m")})
    spec = BacktestSpec(
        build("ema_cross", {"fast": 5, "slow": 20}), ("X",), "1m", Decimal(50_000), allow_short=True
    )
    exact, fast = run_exact(spec, data), run_fast(spec, data)
    sides = [f.side for f in exact.fills]
    assert len(exact.fills) > 50 and len(set(sides)) == 2
    assert fast.fallback == ""
    assert fast.fills == exact.fills
    # Reversals are one order each: after the first fill, every fill flips the position.
    assert all(a != b for a, b in itertools.pairwise(sides))


def test_orders_below_the_minimum_notional_are_rejected_alike(market: MarketData) -> None:
    spec = BacktestSpec(build("sma_cross"), ("SP500",), "1d", Decimal(50), sizing_fraction=Decimal("0.1"))
    exact, fast = run_exact(spec, market), run_fast(spec, market)
    assert exact.fills == [] and len(exact.rejections) > 0
    assert {r.reason for r in exact.rejections} <= {
        "RISK_REASON_EXCHANGE_FILTER",
        "RISK_REASON_ZERO_QUANTITY",
    }
    assert fast.fallback == ""
    assert fast.rejections == exact.rejections


def test_what_the_fast_book_does_not_model_is_run_by_exact_mode(market: MarketData) -> None:
    # A close of 1e-05 reaches risk as "1e-05", which is not a plain decimal: live risk refuses the
    # signal as an invalid request. Only exact mode says so; fast mode hands the run over.
    frame = market.bars["SP500"].copy()
    tiny = 1e-05 * (2 + np.sin(np.arange(120) / 4))  # crossovers among prices printed as 1.2e-05
    for column in ("open", "high", "low", "close"):
        frame.loc[frame.index[200:320], column] = tiny
    data = MarketData({"SP500": frame})
    spec = BacktestSpec(build("sma_cross", {"fast": 5, "slow": 20}), ("SP500",), "1d", Decimal(100_000))
    exact, fast = run_exact(spec, data), run_fast(spec, data)
    assert "not a plain decimal" in fast.fallback
    assert any(r.reason == "RISK_REASON_INVALID_REQUEST" for r in exact.rejections)
    assert (fast.fills, fast.rejections) == (exact.fills, exact.rejections)


def test_both_modes_report_the_same_money(market: MarketData) -> None:
    spec = BacktestSpec(build("tsmom"), ("SP500", "NASDAQ"), "1d", Decimal(100_000), slippage_bps=Decimal(2))
    exact, fast = (
        report(spec, market, run_exact(spec, market).fills),
        report(spec, market, run_fast(spec, market).fills),
    )
    assert exact.money == fast.money
    assert exact.money["final_equity"] == exact.money["initial_cash"] + exact.money["net_pnl"]
    # vectorbt's float simulation of the same fills ends where the Decimal books do (to the cent).
    assert abs(exact.equity["equity"].iloc[-1] - float(exact.money["final_equity"])) < 0.01
    pd.testing.assert_frame_equal(exact.trades, fast.trades)

"""The backtest benchmark's cases: each builds its inputs, times both sides and returns its figures.

Numba compiles vectorbt's simulators on first use; ``warm_up`` runs every path once on a small input
so no timed figure includes compilation. Data preparation (bar identities) is never timed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
from bench.backtest_refs import backtesting_run, kestrel_trades, vectorbt_direct

from kestrel_backtest.accounting import report
from kestrel_backtest.domain import BacktestSpec, MarketData, with_bar_identity
from kestrel_backtest.exact import run_exact
from kestrel_backtest.fast import evaluate_targets, run_fast
from kestrel_backtest.grid import sweep
from kestrel_featurelib.testing import RandomSeries, random_bars
from kestrel_strategies import build
from kestrel_trading.catalog import DEFAULT_FILTERS, InstrumentCatalog

FEE = 0.001
CASH = 100_000
FAST, SLOW = 10, 50
# Whole units, as backtesting.py trades them: the catalogue's default filters with a lot of 1, and a
# tick of 1e-6 (the S&P 500 sample's prices have six decimals; a coarser tick would round fills).
WHOLE_UNITS = InstrumentCatalog.from_mapping(
    {"default": {**DEFAULT_FILTERS, "tick_size": "0.000001", "step_size": "1", "min_qty": "1"}}
)
Figures = dict[str, Any]


def timed(fn: Callable[[], Any], repeat: int = 1) -> tuple[float, Any]:
    """Best wall time of ``repeat`` calls, and the last call's result."""
    best, out = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def synthetic(n: int, seed: int, timeframe: str = "1m", cents: bool = False) -> pd.DataFrame:
    """Random 1-minute bars with identities; ``cents`` rounds prices to 0.01 like an exchange's."""
    bars, _ = random_bars(RandomSeries(seed=seed, n=n, vol=0.001 if timeframe == "1m" else 0.01))
    if cents:  # rounding is monotonic, so high >= open, close >= low still hold
        for column in ("open", "high", "low", "close"):
            bars[column] = bars[column].round(2)
    return with_bar_identity(bars, "X", "BACKTEST", timeframe)


def spec_for(
    symbol: str, timeframe: str, fraction: str, catalog: InstrumentCatalog | None = None
) -> BacktestSpec:
    return BacktestSpec(
        build("sma_cross", {"fast": FAST, "slow": SLOW}),
        (symbol,),
        timeframe,
        Decimal(CASH),
        fee_rate=Decimal(str(FEE)),
        sizing_fraction=Decimal(fraction),
        catalog=catalog or InstrumentCatalog.builtin(),
    )


def warm_up() -> None:
    frame = synthetic(3000, seed=9)
    data, spec = MarketData({"X": frame}), spec_for("X", "1m", "0.1")
    report(spec, data, run_fast(spec, data).fills)
    vectorbt_direct(frame, FAST, SLOW, fee_rate=FEE, fraction=0.1, cash=CASH)
    sweep("sma_cross", frame, {"fast": [5, 10], "slow": [20, 50]})
    sweep("ema_cross", frame, {"fast": [5, 10], "slow": [20, 50]})


def fast_vs_vectorbt(n: int) -> Figures:
    """(a) run_fast + report end to end on n one-minute bars, against vectorbt written directly."""
    frame = synthetic(n, seed=1)
    data, spec = MarketData({"X": frame}), spec_for("X", "1m", "0.1")
    signals_s, targets = timed(lambda: evaluate_targets(spec, data))
    engine_s, path = timed(lambda: run_fast(spec, data, targets))
    accounting_s, result = timed(lambda: report(spec, data, path.fills))
    ours = signals_s + engine_s + accounting_s
    direct_s, direct = timed(
        lambda: vectorbt_direct(frame, FAST, SLOW, fee_rate=FEE, fraction=0.1, cash=CASH), repeat=2
    )
    return {
        "bars": n,
        "fills": len(path.fills),
        "ours_s": ours,
        "ours_signals_s": signals_s,
        "ours_risk_and_fills_s": engine_s,
        "ours_accounting_s": accounting_s,
        "us_per_fill_risk_and_fills": engine_s / max(len(path.fills), 1) * 1e6,
        "vectorbt_direct_s": direct_s,
        "vectorbt_direct_trades": direct["trades"],
        "ours_trades": int(result.metrics["trade_count"]),
        "ratio": ours / direct_s,
        "target_ratio": 1.5,
        "met": ours / direct_s <= 1.5,
    }


def vs_backtesting(label: str, frame: pd.DataFrame, timeframe: str, symbol: str, repeat: int) -> Figures:
    """(b) and (c): the same crossover, sizing and costs in backtesting.py; trades must be identical."""
    data, spec = MarketData({symbol: frame}), spec_for(symbol, timeframe, "0.5", WHOLE_UNITS)
    fast_s, (path, _) = timed(lambda: _fast_end_to_end(spec, data), repeat)
    exact_s, exact = timed(lambda: run_exact(spec, data))
    bt_s, (bt_trades, _) = timed(
        lambda: backtesting_run(frame, FAST, SLOW, fee_rate=FEE, fraction=0.5, cash=CASH), max(1, repeat // 2)
    )
    ours = kestrel_trades(frame, list(path.fills))
    assert exact.fills == path.fills, "exact and fast mode disagree"
    identical = ours == bt_trades
    first_difference = next(
        (f"ours {a} vs backtesting.py {b}" for a, b in zip(ours, bt_trades, strict=False) if a != b), None
    )
    bars = len(frame)
    return {
        "data": label,
        "bars": bars,
        "trades_ours": len(ours),
        "trades_backtesting": len(bt_trades),
        "identical_trades": identical,
        "first_difference": first_difference,
        "fast_s": fast_s,
        "exact_s": exact_s,
        "backtesting_s": bt_s,
        "fast_speedup": bt_s / fast_s,
        "fast_target_speedup": 20.0,
        "fast_met": bt_s / fast_s >= 20.0,
        "exact_bars_per_s": bars / exact_s,
        "backtesting_bars_per_s": bars / bt_s,
        "exact_vs_backtesting": bt_s / exact_s,
        "exact_met": exact_s <= bt_s,
    }


def _fast_end_to_end(spec: BacktestSpec, data: MarketData) -> tuple[Any, Any]:
    path = run_fast(spec, data)
    return path, report(spec, data, path.fills)


def grid_throughput(n: int) -> list[Figures]:
    """(d) bar-combinations per second of the vectorized sweep (constraints honoured)."""
    frame = synthetic(n, seed=3)
    grids: list[tuple[str, dict[str, list[int]]]] = [
        ("sma_cross", {"fast": list(range(5, 55, 5)), "slow": list(range(20, 220, 20))}),
        ("ema_cross", {"fast": list(range(4, 44, 4)), "slow": list(range(10, 110, 10))}),
        ("donchian_breakout", {"entry": list(range(10, 110, 10)), "exit": list(range(5, 55, 5))}),
    ]
    out = []
    for name, grid in grids:
        seconds, table = timed(partial(sweep, name, frame, grid, fee_rate=FEE), repeat=2)
        combos = len(table)
        rate = n * combos / seconds
        best = table.sort_values("sharpe_ratio", ascending=False).iloc[0]
        out.append(
            {
                "strategy": name,
                "bars": n,
                "combinations": combos,
                "grid_points_before_constraints": int(np.prod([len(v) for v in grid.values()])),
                "seconds": seconds,
                "bar_combinations_per_s": rate,
                "target_per_s": 10e6,
                "met": rate >= 10e6,
                "best_by_sharpe": {k: float(best[k]) for k in table.columns},
            }
        )
    return out

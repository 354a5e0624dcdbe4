"""The economic side of `kestrel train`'s evaluation: each model kind's out-of-sample predictions
traded by the catalogue's ``ml_threshold`` strategy through the backtester's fast mode, with costs
(fee per side, slippage against the trader), on exactly the bars the walk-forward folds scored.

Every bar of the out-of-sample span carries the fold model's P(up), labelled or not, as the live
service scores every bar; nothing about a bar's future decides whether it has a prediction.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

import numpy as np
import pandas as pd

from kestrel_backtest.accounting import report
from kestrel_backtest.domain import BacktestSpec, MarketData, with_bar_identity
from kestrel_backtest.fast import run_fast
from kestrel_strategies import build

CASH, FEE_RATE, SLIPPAGE_BPS = Decimal(100_000), Decimal("0.001"), Decimal(2)
REPORTED = ("total_return", "sharpe_ratio", "max_drawdown", "trade_count", "win_rate", "benchmark_return")


def backtest_predictions(
    scored: pd.DataFrame, bars: Mapping[str, pd.DataFrame], timeframe: str
) -> dict[str, float]:
    """``scored``: symbol, ts, p_up of each out-of-sample bar; ``bars``: every bar per symbol."""
    symbols = tuple(sorted(str(s) for s in scored["symbol"].unique()))
    frames, inputs = {}, {}
    for symbol in symbols:
        mine = scored[scored["symbol"] == symbol]
        frame = bars[symbol]
        frame = frame[frame["ts"] >= int(mine["ts"].min())].reset_index(drop=True)
        frames[symbol] = with_bar_identity(frame, symbol, "BACKTEST", timeframe)
        p_up = frame["ts"].map(mine.set_index("ts")["p_up"])
        inputs[symbol] = {"p_up": p_up.to_numpy(dtype=np.float64)}  # NaN past the last fold: hold
    spec = BacktestSpec(
        build("ml_threshold", {}),
        symbols,
        timeframe,
        CASH,
        fee_rate=FEE_RATE,
        slippage_bps=SLIPPAGE_BPS,
        sizing_fraction=Decimal(1) / len(symbols),
    )
    data = MarketData(frames, None, inputs)
    path = run_fast(spec, data)
    result = report(spec, data, path.fills)
    figures = {name: float(result.metrics[name]) for name in REPORTED if name in result.metrics}
    figures["fees"] = float(result.money["total_fees"])  # the report's Decimal total
    return figures

"""Out-of-sample predictions traded with costs by ml_threshold through the fast backtester."""

from __future__ import annotations

import pandas as pd

from kestrel_cli.train_economics import backtest_predictions
from kestrel_featurelib.samples import arch_daily_bars

BARS = {"SP500": arch_daily_bars("sp500").tail(600).reset_index(drop=True)}


def _scored(p_up: float) -> pd.DataFrame:
    span = BARS["SP500"].tail(400)
    return pd.DataFrame({"symbol": "SP500", "ts": span["ts"].to_numpy(), "p_up": p_up})


def test_a_confident_model_buys_once_and_holds_a_unsure_one_never_trades() -> None:
    sure = backtest_predictions(_scored(0.9), BARS, "1d")
    assert sure["trade_count"] == 1 and sure["fees"] > 0
    # Long from the second out-of-sample bar's open to the end: buy and hold of that span, less costs.
    assert 0 < sure["benchmark_return"] - sure["total_return"] < 0.05
    unsure = backtest_predictions(_scored(0.5), BARS, "1d")  # between lower 0.45 and upper 0.55
    assert unsure["trade_count"] == 0 and unsure["total_return"] == 0 and unsure["fees"] == 0

"""Synthetic bars for the training unit tests (no store, no sample file, no MLflow)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

DAY_NS = 86_400 * 1_000_000_000
START_NS = 1_500_000_000 * 1_000_000_000 // DAY_NS * DAY_NS

BarsFactory = Callable[..., pd.DataFrame]


def synthetic_bars(n: int, seed: int = 0, start_ns: int = START_NS, step_ns: int = DAY_NS) -> pd.DataFrame:
    """A random walk with consistent OHLC (high >= open, close >= low) and positive volume."""
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.01, n)))
    open_ = np.concatenate([[100.0], close[:-1]]) * np.exp(rng.normal(0.0, 0.002, n))
    high = np.maximum(open_, close) * (1.0 + rng.uniform(0.0, 0.01, n))
    low = np.minimum(open_, close) * (1.0 - rng.uniform(0.0, 0.01, n))
    return pd.DataFrame(
        {
            "ts": start_ns + step_ns * np.arange(n, dtype=np.int64),
            "open": open_,
            "high": high,
            "low": low,
            "close": close,
            "volume": rng.uniform(1e6, 2e6, n),
        }
    )


@pytest.fixture
def make_bars() -> BarsFactory:
    return synthetic_bars

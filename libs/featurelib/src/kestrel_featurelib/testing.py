"""Helpers for tests of code built on the feature library: random consistent OHLCV, frame streaming."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from kestrel_featurelib.featureset import FeatureSet

MINUTE_NS = 60_000_000_000


@dataclass(frozen=True)
class RandomSeries:
    """Knobs of a random OHLCV series; every combination yields consistent bars."""

    seed: int
    n: int
    price_level: float = 100.0
    vol: float = 0.01
    flat_runs: int = 0  # runs with open == high == low == close and no volume
    long_flat: bool = False  # one run longer than any smoother's window
    pegged_run: bool = False  # one long run inside a fixed high/low range
    zero_volume_prob: float = 0.0
    missing_ref_prob: float = 0.0


def random_bars(spec: RandomSeries) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(bars, reference) with consistent OHLC; the reference lacks some ts when asked to."""
    rng = np.random.default_rng(spec.seed)
    n = spec.n
    returns = rng.normal(0.0, spec.vol, n) + rng.standard_t(3, n) * spec.vol * 0.2
    ref_returns = 0.6 * returns + rng.normal(0.0, spec.vol, n)
    flat = np.zeros(n, dtype=bool)
    pegged = np.zeros(n, dtype=bool)
    for _ in range(spec.flat_runs):
        start = int(rng.integers(1, n))
        flat[start : start + int(rng.integers(2, 40))] = True
    if spec.long_flat:
        start = int(rng.integers(1, max(2, n - 300)))
        flat[start : start + 290] = True
    if spec.pegged_run:
        start = int(rng.integers(1, max(2, n - 300)))
        pegged[start : start + 280] = True
        flat &= ~pegged
    returns[flat | pegged] = 0.0
    close = spec.price_level * np.exp(np.cumsum(returns))
    prev_close = np.concatenate(([close[0]], close[:-1]))
    open_ = np.where(flat, prev_close, prev_close * np.exp(rng.normal(0.0, spec.vol / 4, n)))
    wick = np.abs(rng.normal(0.0, spec.vol / 2, (2, n)))
    high = np.maximum(open_, close) * np.exp(wick[0])
    low = np.minimum(open_, close) * np.exp(-wick[1])
    high = np.where(flat, close, high)
    low = np.where(flat, close, low)
    if pegged.any():
        level = close[pegged][0]
        high[pegged], low[pegged] = level * 1.001, level * 0.999
        open_[pegged] = level * rng.uniform(0.999, 1.001, int(pegged.sum()))
        close[pegged] = level * rng.uniform(0.999, 1.001, int(pegged.sum()))
    volume = rng.lognormal(8.0, 1.0, n)
    volume[flat | (rng.random(n) < spec.zero_volume_prob)] = 0.0
    ts = 1_700_000_000_000_000_000 + np.arange(n, dtype=np.int64) * MINUTE_NS
    bars = pd.DataFrame({"ts": ts, "open": open_, "high": high, "low": low, "close": close, "volume": volume})
    ref_close = 4000.0 * np.exp(np.cumsum(ref_returns))
    keep = rng.random(n) >= spec.missing_ref_prob
    reference = pd.DataFrame({"ts": ts[keep], "close": ref_close[keep]})
    return bars, reference


def run_stream(fs: FeatureSet, bars: pd.DataFrame, reference: pd.DataFrame | None = None) -> pd.DataFrame:
    """Feed ``bars`` one at a time through a fresh state; one row of outputs per bar."""
    ref = (
        {}
        if reference is None
        else dict(zip(reference["ts"].tolist(), reference["close"].tolist(), strict=True))
    )
    state = fs.new_state()
    rows = [
        state.update(ts, o, h, lo, c, v, ref.get(ts))
        for ts, o, h, lo, c, v in zip(
            *(bars[col].tolist() for col in ("ts", "open", "high", "low", "close", "volume")), strict=True
        )
    ]
    return pd.DataFrame(rows, index=bars.index, columns=list(fs.names))

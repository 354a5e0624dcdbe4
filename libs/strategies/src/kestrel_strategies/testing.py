"""Helpers for tests of code built on strategies: run one bar by bar, build bars from closes."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt
import pandas as pd

from kestrel_strategies import Strategy, StrategyStream


def feed(stream: StrategyStream, bars: pd.DataFrame) -> list[float]:
    """Feed ``bars`` (no reference, no inputs) into ``stream``; the direction after each."""
    columns = [bars[c].tolist() for c in ("ts", "open", "high", "low", "close", "volume")]
    return [stream.update(*row).direction for row in zip(*columns, strict=True)]


def run_stream(
    strategy: Strategy,
    bars: pd.DataFrame,
    reference: pd.DataFrame | None = None,
    inputs: Mapping[str, npt.NDArray[np.float64]] | None = None,
    *,
    long_only: bool = True,
) -> pd.DataFrame:
    ref = (
        {}
        if reference is None
        else dict(zip(reference["ts"].tolist(), reference["close"].tolist(), strict=True))
    )
    stream = strategy.stream(long_only=long_only)
    rows = []
    columns = [bars[c].tolist() for c in ("ts", "open", "high", "low", "close", "volume")]
    for i, (ts, o, h, lo, c, v) in enumerate(zip(*columns, strict=True)):
        extra = {k: float(col[i]) for k, col in (inputs or {}).items()}
        d = stream.update(ts, o, h, lo, c, v, ref.get(ts) if reference is not None else None, extra)
        rows.append({"event": d.event, "direction": d.direction, "weight": d.weight, "target": d.target})
    return pd.DataFrame(rows, index=bars.index)


def bars_from_closes(closes: list[float], spread: float = 0.0) -> pd.DataFrame:
    """Daily bars whose open is the previous close and whose range is ``spread`` around the body."""
    close = np.asarray(closes, dtype=np.float64)
    open_ = np.concatenate(([close[0]], close[:-1]))
    ts = 1_600_000_000_000_000_000 + np.arange(len(close), dtype=np.int64) * 86_400_000_000_000
    return pd.DataFrame(
        {
            "ts": ts,
            "open": open_,
            "high": np.maximum(open_, close) + spread,
            "low": np.minimum(open_, close) - spread,
            "close": close,
            "volume": np.full(len(close), 1000.0),
        }
    )

"""Time-ordered train/validation split with an embargo (purging).

Validation is every row with ts >= ``validation_start``, the ts at which the last
``validation_fraction`` of the distinct labelled timestamps begins (one cut for all symbols). For
each symbol, let v0 be the position of its first bar at or after that cut; training rows are those at
positions < v0 - embargo. A training row at position i has a label window over bars i..i+horizon, and
i + horizon <= v0 - embargo - 1 + horizon < v0 whenever embargo >= horizon: no training label reads a
bar of the validation period. The rows in between are discarded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

IntArray = np.ndarray[Any, np.dtype[np.int64]]


@dataclass(frozen=True, slots=True)
class Split:
    train: pd.DataFrame
    validation: pd.DataFrame
    validation_start: int  # ts (ns) of the first validation bar
    embargo: int
    purged_rows: int


def time_split(
    rows: pd.DataFrame,
    bar_ts: dict[str, IntArray],
    *,
    validation_fraction: float,
    embargo: int,
    horizon: int,
    validation_start: int | None = None,
) -> Split:
    """Split ``rows`` (columns symbol, ts, pos) by time; ``bar_ts[symbol]`` is every bar's ts, ascending.
    ``validation_start`` (ns) puts the cut there instead of at ``validation_fraction``."""
    if not 0.0 < validation_fraction < 1.0:
        raise ValueError(f"validation_fraction must be in (0, 1), got {validation_fraction}")
    if embargo < horizon:
        raise ValueError(f"embargo ({embargo} bars) must be at least the label horizon ({horizon} bars)")
    distinct_ts = np.unique(rows["ts"].to_numpy(dtype=np.int64))
    if len(distinct_ts) < 2:
        raise ValueError("need at least two distinct timestamps to split by time")
    if validation_start is None:
        cut = min(max(int(len(distinct_ts) * (1.0 - validation_fraction)), 1), len(distinct_ts) - 1)
        validation_start = int(distinct_ts[cut])
    elif not distinct_ts[0] < validation_start <= distinct_ts[-1]:
        raise ValueError("the validation start must lie after the first labelled row and by the last")

    in_validation = rows["ts"].to_numpy(dtype=np.int64) >= validation_start
    in_train = trainable_before(rows, bar_ts, validation_start, embargo)
    purged = int(np.count_nonzero(~in_train & ~in_validation))
    return Split(
        train=rows[in_train],
        validation=rows[in_validation],
        validation_start=validation_start,
        embargo=embargo,
        purged_rows=purged,
    )


def trainable_before(
    rows: pd.DataFrame, bar_ts: dict[str, IntArray], test_start: int, embargo: int
) -> npt.NDArray[np.bool_]:
    """Rows that may train a model tested from ``test_start`` on: per symbol, those more than
    ``embargo`` bars before its first bar at or after ``test_start`` (so, with embargo >= the label
    horizon, no label reads a test bar)."""
    keep = np.zeros(len(rows), dtype=bool)
    symbols = rows["symbol"].to_numpy()
    positions = rows["pos"].to_numpy(dtype=np.int64)
    for symbol, ts in bar_ts.items():
        first_test_pos = int(np.searchsorted(ts, test_start, side="left"))
        keep |= (symbols == symbol) & (positions < first_test_pos - embargo)
    return keep

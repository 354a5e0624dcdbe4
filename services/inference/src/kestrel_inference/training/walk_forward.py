"""Purged, embargoed walk-forward cross-validation: every fold tests on a later stretch of time than
it trains on, and no training label's horizon reaches into the fold's test period.

The distinct labelled timestamps are cut into ``folds + 1`` consecutive blocks (one cut for every
symbol). Fold k tests on block k (k = 1..folds) and trains on the rows before it, purged per symbol
as the single time split purges (``split.trainable_before``: more than ``embargo`` bars before the
symbol's first test bar). The window is anchored (expanding): fold k trains on blocks 0..k-1. Rows
after the test block are never used by the fold, so there is nothing to embargo on that side.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from kestrel_inference.training.split import IntArray, trainable_before


@dataclass(frozen=True, slots=True)
class Fold:
    number: int  # 1-based
    train: npt.NDArray[np.bool_]  # masks over the dataset's rows
    test: npt.NDArray[np.bool_]
    test_start: int  # ts (ns) of the block's first bar
    test_end: int  # ts (ns) after its last bar (the next block's start); max int64 for the last block
    purged_rows: int  # rows before the test block left out of training by the embargo


def walk_forward_folds(
    rows: pd.DataFrame, bar_ts: dict[str, IntArray], *, folds: int, embargo: int, horizon: int
) -> list[Fold]:
    """The folds over ``rows`` (columns symbol, ts, pos); ``bar_ts[symbol]`` is every bar's ts."""
    if folds < 2:
        raise ValueError(f"walk-forward needs at least 2 folds, got {folds}")
    if embargo < horizon:
        raise ValueError(f"embargo ({embargo} bars) must be at least the label horizon ({horizon} bars)")
    ts = rows["ts"].to_numpy(dtype=np.int64)
    distinct = np.unique(ts)
    if len(distinct) < 2 * (folds + 1):
        raise ValueError(f"{len(distinct)} distinct timestamps are too few for {folds} folds")
    starts = [int(distinct[len(distinct) * k // (folds + 1)]) for k in range(1, folds + 1)]
    ends = [*starts[1:], int(np.iinfo(np.int64).max)]
    out = []
    for number, (start, end) in enumerate(zip(starts, ends, strict=True), start=1):
        train = trainable_before(rows, bar_ts, start, embargo)
        before = ts < start
        out.append(
            Fold(
                number=number,
                train=train,
                test=(ts >= start) & (ts < end),
                test_start=start,
                test_end=end,
                purged_rows=int(np.count_nonzero(before & ~train)),
            )
        )
    return out

"""Training rows: the live feature catalogue's batch evaluator plus direction labels.

Features come from ``FeatureSet.batch`` — the same definitions the live features service streams —
with the reference symbol's bars aligned on ts. A row exists from the feature set's warm-up on (the
first bar at which every non-cross-asset feature is defined) and only where a label exists; the
label columns (fwd_ret, label, label_end_ts) are kept apart from ``feature_names``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from kestrel_featurelib import FeatureSet
from kestrel_inference.domain import window_layout
from kestrel_inference.training.labels import LabelSpec, forward_log_return
from kestrel_inference.training.split import IntArray

ROW_COLUMNS = ("symbol", "ts", "pos", "label_end_ts", "fwd_ret", "label")


@dataclass(frozen=True, slots=True)
class Dataset:
    rows: pd.DataFrame  # ROW_COLUMNS + feature_names, ordered by ts then symbol
    feature_names: tuple[str, ...]
    bar_ts: dict[str, IntArray]  # every bar's ts per symbol (the split counts its embargo in bars)
    unlabelled_rows: int  # past warm-up but inside the cost band or without a future close
    # Every row past warm-up, labelled or not, ordered like ``rows``: what a model scores live on
    # each bar (an economic backtest must not see only the rows whose future cleared the band).
    scoring_rows: pd.DataFrame | None = None

    @property
    def features(self) -> pd.DataFrame:
        return self.rows.loc[:, list(self.feature_names)]

    def windowed(self, window: int) -> Dataset:
        """The same rows with a sequence model's inputs: each row's features and the symbol's
        ``window - 1`` vectors before it (``window_columns``). The lags run over every row past
        warm-up, labelled or not, as the live service's window does over every vector; a lag before
        the symbol's first vector is NaN."""
        if window == 1:
            return self
        if window < 1 or self.scoring_rows is None:
            raise ValueError(f"cannot window rows over {window} bars")
        scoring = self.scoring_rows
        lagged = window_frame(scoring, self.feature_names, window)
        keys = scoring[["symbol", "ts"]]
        scoring_w = pd.concat([scoring.drop(columns=list(self.feature_names)), lagged], axis=1)
        labelled = self.rows.drop(columns=list(self.feature_names)).merge(
            pd.concat([keys, lagged], axis=1), on=["symbol", "ts"], how="left", validate="one_to_one"
        )
        return replace(
            self,
            rows=labelled,
            feature_names=tuple(lagged.columns),
            scoring_rows=scoring_w,
        )


def window_frame(rows: pd.DataFrame, names: tuple[str, ...], window: int) -> pd.DataFrame:
    """The ``window_layout(names, window)`` columns of ``rows`` (ordered by ts within each symbol)."""
    by_symbol = rows.groupby("symbol", sort=False)[list(names)]
    lags = {lag: by_symbol.shift(lag) if lag else rows[list(names)] for lag in range(window)}
    columns = {column: lags[lag][name] for column, lag, name in window_layout(names, window)}
    return pd.DataFrame(columns, index=rows.index)


def symbol_rows(
    symbol: str, bars: pd.DataFrame, reference: pd.DataFrame | None, feature_set: FeatureSet, spec: LabelSpec
) -> pd.DataFrame:
    """Every row of ``symbol`` from warm-up on, labelled or not (label NaN = flat band or no future)."""
    bars = bars.reset_index(drop=True)
    features = feature_set.batch(bars, reference=reference)
    ts = bars["ts"].to_numpy(dtype=np.int64)
    fwd = forward_log_return(bars["close"].to_numpy(dtype=np.float64), spec.horizon)
    label_end = np.full(len(ts), -1, dtype=np.int64)
    label_end[: max(len(ts) - spec.horizon, 0)] = ts[spec.horizon :]
    frame = pd.DataFrame(
        {
            "symbol": symbol,
            "ts": ts,
            "pos": np.arange(len(ts), dtype=np.int64),
            "label_end_ts": label_end,
            "fwd_ret": fwd,
            "label": spec.labels(bars["close"].to_numpy(dtype=np.float64)),
        }
    )
    frame = pd.concat([frame, features], axis=1)
    return frame.iloc[max(feature_set.warmup - 1, 0) :]


def build_dataset(
    bars_by_symbol: Mapping[str, pd.DataFrame],
    reference: pd.DataFrame | None,
    feature_set: FeatureSet,
    spec: LabelSpec,
) -> Dataset:
    """Labelled rows of every symbol; ``reference`` is the reference symbol's bars (ts, close)."""
    parts = [symbol_rows(s, bars, reference, feature_set, spec) for s, bars in bars_by_symbol.items()]
    everything = pd.concat(parts, ignore_index=True)
    labelled = everything[everything["label"].notna()].copy()
    labelled["label"] = labelled["label"].astype(np.int64)
    labelled = labelled.sort_values(["ts", "symbol"], kind="stable").reset_index(drop=True)
    return Dataset(
        rows=labelled,
        feature_names=tuple(feature_set.names),
        bar_ts={s: bars["ts"].to_numpy(dtype=np.int64) for s, bars in bars_by_symbol.items()},
        unlabelled_rows=len(everything) - len(labelled),
        scoring_rows=everything.sort_values(["ts", "symbol"], kind="stable").reset_index(drop=True),
    )

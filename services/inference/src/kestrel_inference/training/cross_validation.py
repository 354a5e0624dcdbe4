"""Out-of-sample metrics of a model kind over walk-forward folds, each fold fitted from scratch on
its own training rows and scored on its test rows only, beside the majority baseline."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from kestrel_inference.training.classifiers import Classifier
from kestrel_inference.training.model import classification_metrics
from kestrel_inference.training.walk_forward import Fold


@dataclass(frozen=True, slots=True)
class FoldResult:
    fold: Fold
    train_rows: int
    test_rows: int
    metrics: dict[str, float]
    p_up: npt.NDArray[np.float64]  # the test rows' out-of-sample P(up), in row order
    # symbol, ts, p_up of every scoring row in the test block (labelled or not), when asked for
    scored: pd.DataFrame | None = None


@dataclass(frozen=True, slots=True)
class CrossValidation:
    kind: str
    folds: tuple[FoldResult, ...]

    @property
    def mean(self) -> dict[str, float]:
        names = self.folds[0].metrics
        return {k: float(np.nanmean([f.metrics[k] for f in self.folds])) for k in names}


def cross_validate(
    make: Callable[[], Classifier],
    rows: pd.DataFrame,
    feature_names: Sequence[str],
    folds: Sequence[Fold],
    *,
    labels: npt.NDArray[np.int64] | None = None,
    min_train_rows: int = 50,
    after_fold: Callable[[FoldResult], None] | None = None,
    score: pd.DataFrame | None = None,
) -> CrossValidation:
    """Fit a fresh ``make()`` per fold; ``labels`` overrides ``rows["label"]`` (the leakage tests
    shuffle them); ``after_fold`` hears each fold's result as it comes (tuning prunes from it);
    ``score`` (rows with symbol, ts and the features) is scored over each fold's test block."""
    y = rows["label"].to_numpy(dtype=np.int64) if labels is None else labels
    features = rows.loc[:, list(feature_names)]
    score_ts = score["ts"].to_numpy(dtype=np.int64) if score is not None else None
    results = []
    kind = ""
    for fold in folds:
        train_y = y[fold.train]
        if len(train_y) < min_train_rows or len(np.unique(train_y)) < 2 or not fold.test.any():
            raise ValueError(
                f"fold {fold.number} has {len(train_y)} training rows ({len(np.unique(train_y))} classes) "
                f"and {int(fold.test.sum())} test rows: too few to fit and score"
            )
        model = make()
        kind = model.kind
        model.fit(features[fold.train], train_y)
        p_up = model.predict_proba(features[fold.test])[:, 1]
        metrics = classification_metrics(y[fold.test], p_up, train_y)
        scored = None
        if score is not None and score_ts is not None:  # every bar of the test block, as live scores it
            block = score[(score_ts >= fold.test_start) & (score_ts < fold.test_end)]
            scored = block[["symbol", "ts"]].assign(
                p_up=model.predict_proba(block.loc[:, list(feature_names)])[:, 1]
            )
        results.append(FoldResult(fold, len(train_y), int(fold.test.sum()), metrics, p_up, scored))
        if after_fold is not None:
            after_fold(results[-1])
    return CrossValidation(kind, tuple(results))

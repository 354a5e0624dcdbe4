"""Which features a fitted model leans on, for the evaluation artifacts.

LightGBM reports its own total gain per feature. Every other kind is measured the same way whatever
it is: permutation importance on the validation rows, the rise in log loss when one feature's values
are shuffled across rows (all of its lags together for a sequence model), with a fixed seed.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.metrics import log_loss  # type: ignore[import-untyped]

from kestrel_inference.domain import window_layout
from kestrel_inference.training.classifiers import Classifier, LightGbmModel


def feature_importances(
    model: Classifier,
    names: Sequence[str],
    inputs: pd.DataFrame,
    labels: npt.NDArray[np.int64],
    *,
    seed: int = 7,
) -> tuple[dict[str, float], str]:
    """(feature -> importance, what the numbers are) over the base feature ``names``."""
    if isinstance(model, LightGbmModel) and model.booster is not None:
        gains = model.booster.feature_importance(importance_type="gain")
        return dict(zip(names, (float(g) for g in gains), strict=True)), "total gain"
    rng = np.random.default_rng(seed)
    base = float(log_loss(labels, model.predict_proba(inputs)[:, 1], labels=[0, 1]))
    layout = window_layout(names, model.window)
    out: dict[str, float] = {}
    order = rng.permutation(len(inputs))
    for name in names:
        columns = [column for column, _, feature in layout if feature == name]
        shuffled = inputs.copy()
        shuffled[columns] = inputs[columns].to_numpy()[order]
        loss = float(log_loss(labels, model.predict_proba(shuffled)[:, 1], labels=[0, 1]))
        out[name] = loss - base
    return out, "log-loss increase when shuffled"

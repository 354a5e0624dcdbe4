"""Scoring, pure: a model's feature row from named values, P(up) to an action, a FeatureVector to a Signal.

No I/O here. A model is whatever `ServedModel` describes (name, version, the feature-set version and
feature names it was trained on, and a `predict` returning P(up) per row); the registry adapter
builds one from MLflow, tests from a lambda. Errors that retrying cannot fix are `PermanentError`s,
so the consumer sends the vector to the DLQ with the reason and never scores it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from kestrel_contracts.events import derived_event_id, now_ns
from kestrel_contracts.v1.feature_vector_pb2 import FeatureVector
from kestrel_contracts.v1.signal_pb2 import Signal, SignalAction
from kestrel_messaging import PermanentError

__all__ = [
    "FeatureSetMismatchError",
    "InvalidFeaturesError",
    "ServedModel",
    "Thresholds",
    "choose_action",
    "feature_row",
    "predict_up",
    "to_signal",
    "window_columns",
    "window_layout",
]

ACTION_NAMES: Mapping[int, str] = {
    SignalAction.SIGNAL_ACTION_BUY: "BUY",
    SignalAction.SIGNAL_ACTION_SELL: "SELL",
    SignalAction.SIGNAL_ACTION_HOLD: "HOLD",
}


class FeatureSetMismatchError(PermanentError):
    """The input was computed by another feature-set version than the model was trained on."""


class InvalidFeaturesError(PermanentError):
    """Features the model needs are missing, or ones it does not know are present, or not numbers."""


def window_layout(names: Sequence[str], window: int) -> tuple[tuple[str, int, str], ...]:
    """(column, lag, feature) of a window of the last ``window`` vectors as one row, oldest first:
    every feature at t-(window-1) (``name@t-k``), ..., then at t under its plain name, so a one-bar
    window is the feature row itself."""
    return tuple(
        (name if lag == 0 else f"{name}@t-{lag}", lag, name)
        for lag in range(window - 1, -1, -1)
        for name in names
    )


def window_columns(names: Sequence[str], window: int) -> tuple[str, ...]:
    """The columns of ``window_layout``."""
    return tuple(column for column, _, _ in window_layout(names, window))


@dataclass(frozen=True, slots=True)
class ServedModel:
    name: str
    version: str  # the registry's version number as text, never an alias
    feature_set_version: str
    feature_names: tuple[str, ...]
    # One row per input, columns `input_columns` -> P(up) per row.
    predict: Callable[[pd.DataFrame], Any]
    window: int = 1  # vectors per input: the bar's own, and window - 1 before it (a sequence model)
    kind: str = "lightgbm"

    @property
    def input_columns(self) -> tuple[str, ...]:
        return window_columns(self.feature_names, self.window)

    @property
    def label(self) -> str:
        return f"{self.name} v{self.version}"


@dataclass(frozen=True, slots=True)
class Thresholds:
    buy: float
    sell: float

    def __post_init__(self) -> None:
        if not (0.0 <= self.sell < self.buy <= 1.0):
            raise ValueError(f"need 0 <= sell < buy <= 1, got sell={self.sell} buy={self.buy}")


def choose_action(p_up: float, thresholds: Thresholds) -> SignalAction:
    if p_up >= thresholds.buy:
        return SignalAction.SIGNAL_ACTION_BUY
    if p_up <= thresholds.sell:
        return SignalAction.SIGNAL_ACTION_SELL
    return SignalAction.SIGNAL_ACTION_HOLD


def feature_row(
    model: ServedModel,
    values: Mapping[str, float],
    feature_set_version: str,
    history: Sequence[Mapping[str, float]] = (),
) -> pd.DataFrame:
    """The one-row frame the model scores, columns in the model's order; NaN passes through as NaN
    (LightGBM routes missing values down the branch learnt for them). A sequence model's row also
    holds ``history``, the symbol's vectors before this one (oldest first; the latest window - 1 are
    used, and a lag with no vector is NaN, as offline before the symbol's first vector)."""
    if feature_set_version != model.feature_set_version:
        raise FeatureSetMismatchError(
            f"feature set version {feature_set_version!r} does not match model {model.label}, "
            f"trained on feature set version {model.feature_set_version!r}"
        )
    lags = list(history[max(len(history) - (model.window - 1), 0) :]) if model.window > 1 else []
    for which, given in (("", values), *((f" (history {i})", lag) for i, lag in enumerate(lags))):
        _check_names(model, given, which)
    nan = math.nan
    row = [nan] * (len(model.feature_names) * (model.window - 1 - len(lags)))
    for earlier in lags:
        row.extend(float(earlier[name]) for name in model.feature_names)
    row.extend(float(values[name]) for name in model.feature_names)
    # From an array: a frame built from a Python list of 800 values (an LSTM's window) costs ~3 ms.
    return pd.DataFrame(np.array([row], dtype=np.float64), columns=list(model.input_columns), copy=False)


def _check_names(model: ServedModel, values: Mapping[str, float], which: str) -> None:
    missing = [name for name in model.feature_names if name not in values]
    unknown = sorted(set(values) - set(model.feature_names))
    if missing or unknown:
        parts = []
        if missing:
            parts.append(f"missing features: {', '.join(missing)}")
        if unknown:
            parts.append(f"unknown features: {', '.join(unknown)}")
        raise InvalidFeaturesError(f"{'; '.join(parts)}{which} (model {model.label})")


def predict_up(model: ServedModel, row: pd.DataFrame) -> float:
    """P(up) of a one-row frame; a model answering anything but a probability is a bug, not data."""
    out = model.predict(row)
    flat: Sequence[Any] = list(out.ravel()) if hasattr(out, "ravel") else list(out)
    if len(flat) != 1:
        raise RuntimeError(f"model {model.label} returned {len(flat)} predictions for one row")
    p_up = float(flat[0])
    if not 0.0 <= p_up <= 1.0:  # NaN fails this too
        raise RuntimeError(f"model {model.label} returned P(up) = {p_up}, not a probability")
    return p_up


def to_signal(
    vector: FeatureVector,
    model: ServedModel,
    p_up: float,
    thresholds: Thresholds,
    *,
    strategy_id: str,
    volatility_feature: str,
    clock: Callable[[], int] = now_ns,
) -> Signal:
    """The Signal of a scored vector; its id depends only on (vector, model, version), so re-scoring
    the same vector with the same model version repeats it."""
    action = choose_action(p_up, thresholds)
    confidence = {
        SignalAction.SIGNAL_ACTION_BUY: p_up,
        SignalAction.SIGNAL_ACTION_SELL: 1.0 - p_up,
    }.get(action, 0.0)
    volatility = vector.values.get(volatility_feature, 0.0)
    return Signal(
        event_id=derived_event_id(vector.event_id, model.name, model.version),
        ts_event=vector.ts_event,
        ts_init=clock(),
        symbol=vector.symbol,
        venue=vector.venue,
        timeframe=vector.timeframe,
        strategy_id=strategy_id,
        model_name=model.name,
        model_version=model.version,
        feature_set_version=vector.feature_set_version,
        action=action,
        probabilities={"down": 1.0 - p_up, "up": p_up},
        confidence=confidence,
        reference_price=vector.close,
        volatility=volatility if math.isfinite(volatility) else 0.0,
        source_feature_event_id=vector.event_id,
        source_bar_event_id=vector.source_bar_event_id,
    )

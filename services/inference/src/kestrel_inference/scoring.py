"""Score one feature row with the served model, timed and counted (shared by the consumer and /predict)."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from kestrel_contracts.v1.signal_pb2 import SignalAction
from kestrel_inference import metrics
from kestrel_inference.domain import (
    ACTION_NAMES,
    ServedModel,
    Thresholds,
    choose_action,
    feature_row,
    predict_up,
)


@dataclass(frozen=True, slots=True)
class Prediction:
    p_up: float
    action: SignalAction

    @property
    def action_name(self) -> str:
        return ACTION_NAMES[self.action]


def score(
    model: ServedModel,
    values: Mapping[str, float],
    feature_set_version: str,
    thresholds: Thresholds,
    history: Sequence[Mapping[str, float]] = (),
) -> Prediction:
    """Validate and order the features (PermanentError when unusable), predict, choose the action.
    ``history``: the symbol's vectors before this one, for a sequence model (oldest first)."""
    row = feature_row(model, values, feature_set_version, history)
    started = time.perf_counter()
    p_up = predict_up(model, row)
    metrics.MODEL_INFERENCE_TIME_MS.observe((time.perf_counter() - started) * 1000)
    prediction = Prediction(p_up, choose_action(p_up, thresholds))
    metrics.PREDICTIONS.labels(prediction.action_name).inc()
    return prediction

"""Direction labels: the sign of the forward log return over ``horizon`` bars, net of costs.

The label at bar t is a function of closes t and t+horizon ONLY, and is the training target, never a
feature. A move smaller than the round-trip cost in either direction is not a tradeable direction, so
those rows are labelled "flat" (NaN here) and DROPPED from training and validation: the classifier
learns up-vs-down among moves worth trading, and the inference service turns probabilities near 0.5
into HOLD through its thresholds. The last ``horizon`` bars have no future close and get no label.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

FloatArray = np.ndarray[Any, np.dtype[np.float64]]

UP = 1
DOWN = 0


@dataclass(frozen=True, slots=True)
class LabelSpec:
    horizon: int = 5  # bars ahead
    cost_bps: float = 10.0  # round-trip cost, basis points

    def __post_init__(self) -> None:
        if self.horizon < 1:
            raise ValueError(f"horizon must be at least 1 bar, got {self.horizon}")
        if self.cost_bps < 0:
            raise ValueError(f"cost_bps must be >= 0, got {self.cost_bps}")

    @property
    def cost(self) -> float:
        """The round-trip cost as a log-return threshold."""
        return self.cost_bps / 10_000.0

    def describe(self) -> str:
        return (
            f"fwd_ret(t) = ln(close[t+{self.horizon}] / close[t]); label = 1 (up) if fwd_ret > "
            f"{self.cost:g}, 0 (down) if fwd_ret < -{self.cost:g} ({self.cost_bps:g} bps round trip); "
            f"rows in between and the last {self.horizon} rows are dropped"
        )


def forward_log_return(close: FloatArray, horizon: int) -> FloatArray:
    """ln(close[t+horizon] / close[t]) at index t; NaN for the last ``horizon`` bars."""
    out = np.full(len(close), np.nan)
    if horizon < len(close):
        out[:-horizon] = np.log(close[horizon:] / close[:-horizon])
    return out


def direction_labels(forward_return: FloatArray, cost: float) -> FloatArray:
    """1.0 above +cost, 0.0 below -cost, NaN inside the band or where the return is unknown."""
    labels = np.full(len(forward_return), np.nan)
    labels[forward_return > cost] = UP
    labels[forward_return < -cost] = DOWN
    return labels

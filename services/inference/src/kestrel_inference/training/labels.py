"""Direction labels: the sign of the forward log return over ``horizon`` bars, net of costs.

The label at bar t is a function of closes t and t+horizon ONLY, and is the training target, never a
feature. A move smaller than the round-trip cost in either direction is not a tradeable direction, so
those rows are labelled "flat" (NaN here) and DROPPED from training and validation: the classifier
learns up-vs-down among moves worth trading, and the inference service turns probabilities near 0.5
into HOLD through its thresholds. The last ``horizon`` bars have no future close and get no label.

Triple-barrier labels (``method="triple_barrier"``, after López de Prado) instead put an upper and a
lower barrier at +-``barrier_k`` times the volatility known at t (the standard deviation of the last
``vol_window`` log returns, closes up to t only) around close[t], and a vertical barrier at
t+horizon: the label is 1 if a close in t+1..t+horizon crosses the upper barrier first, 0 if the
lower, and at the vertical barrier the sign of the return past the cost band (flat inside it). The
label still reads closes t-vol_window..t+horizon only, so purging by the horizon stays sufficient.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

FloatArray = np.ndarray[Any, np.dtype[np.float64]]

UP = 1
DOWN = 0


@dataclass(frozen=True, slots=True)
class LabelSpec:
    horizon: int = 5  # bars ahead
    cost_bps: float = 10.0  # round-trip cost, basis points
    method: Literal["fixed", "triple_barrier"] = "fixed"
    barrier_k: float = 2.0  # triple barrier: barriers at +-k volatilities
    vol_window: int = 20  # triple barrier: bars of log returns in the volatility

    def __post_init__(self) -> None:
        if self.horizon < 1:
            raise ValueError(f"horizon must be at least 1 bar, got {self.horizon}")
        if self.cost_bps < 0:
            raise ValueError(f"cost_bps must be >= 0, got {self.cost_bps}")
        if self.method not in ("fixed", "triple_barrier"):
            raise ValueError(f"label method must be fixed or triple_barrier, got {self.method!r}")
        if not self.barrier_k > 0 or self.vol_window < 2:
            raise ValueError("barrier_k must be > 0 and vol_window at least 2 bars")

    def labels(self, close: FloatArray) -> FloatArray:
        """The label of every bar (NaN: flat, or no future to label it)."""
        if self.method == "fixed":
            return direction_labels(forward_log_return(close, self.horizon), self.cost)
        return triple_barrier_labels(close, self.horizon, self.cost, self.barrier_k, self.vol_window)

    @property
    def cost(self) -> float:
        """The round-trip cost as a log-return threshold."""
        return self.cost_bps / 10_000.0

    def describe(self) -> str:
        if self.method == "triple_barrier":
            return (
                f"triple barrier: upper/lower at close[t] * exp(+-{self.barrier_k:g} * sigma_t), sigma_t the "
                f"std of the last {self.vol_window} log returns up to t; vertical at t+{self.horizon}; label "
                f"= 1 (up) / 0 (down) by the first close past a barrier, else the sign of ln(close[t+"
                f"{self.horizon}] / close[t]) beyond {self.cost:g} ({self.cost_bps:g} bps), flat inside"
            )
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


def triple_barrier_labels(
    close: FloatArray, horizon: int, cost: float, barrier_k: float, vol_window: int
) -> FloatArray:
    """Triple-barrier labels on closes (see the module docstring); NaN where flat or unknown."""
    n = len(close)
    labels = np.full(n, np.nan)
    if n <= horizon:
        return labels
    log_close = np.log(close)
    returns = np.diff(log_close, prepend=np.nan)
    sigma = np.full(n, np.nan)
    if n > vol_window:  # std of returns t-vol_window+1..t: bars up to t only
        sigma[vol_window:] = sliding_window_view(returns[1:], vol_window).std(axis=1, ddof=1)
    labelled = n - horizon
    paths = sliding_window_view(log_close[1:], horizon)[:labelled] - log_close[:labelled, None]
    barrier = barrier_k * sigma[:labelled, None]
    up, down = paths >= barrier, paths <= -barrier
    first_up = np.where(up.any(axis=1), up.argmax(axis=1), horizon)
    first_down = np.where(down.any(axis=1), down.argmax(axis=1), horizon)
    final = paths[:, -1]
    out = np.where(final > cost, UP, np.where(final < -cost, DOWN, np.nan))
    out = np.where(first_up < first_down, UP, np.where(first_down < first_up, DOWN, out))
    out[np.isnan(sigma[:labelled])] = np.nan  # no volatility yet: no barriers to place
    labels[:labelled] = out
    return labels

"""From per-bar events to a held direction: the one state machine, vectorized and per bar.

A strategy's rule returns one event code per bar (a float, so one ``Ops`` body serves arrays and
scalars):

- ``LONG`` (1) / ``SHORT`` (-1): be long / short from this bar's close (a long-only run reads SHORT
  as FLAT);
- ``FLAT`` (0): be flat whatever is held;
- ``EXIT_LONG`` (2) / ``EXIT_SHORT`` (-2): leave a long / a short, keep anything else;
- ``NONE`` (NaN): keep what is held (also what an undefined indicator yields in warm-up).

Entries and FLAT set the direction outright; the two exits only clear their own side. That makes the
whole history computable without a Python loop: the direction at t is the one set by the last
outright event at or before t, cleared to flat if an exit of that side came after it.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from kestrel_featurelib.graph import Value
from kestrel_featurelib.ops import Ops

LONG, SHORT, FLAT, EXIT_LONG, EXIT_SHORT = 1.0, -1.0, 0.0, 2.0, -2.0
NONE = math.nan
# Comparisons of indicator values allow this relative band: the batch and streaming evaluators agree
# to ~1e-12, so two values equal in exact arithmetic (a flat market) compare the same way in both.
CMP_EPS = 1e-9

FloatArray = npt.NDArray[np.float64]


def above(m: Ops, a: Value, b: Value, scale: Value = None) -> Value:
    """a > b by more than the comparison band, relative to ``scale`` (default |b|); False on NaN.

    Pass a price as ``scale`` when both sides hover around zero (a MACD line and its signal).
    """
    return (a - b) > CMP_EPS * m.abs(b if scale is None else scale)


def below(m: Ops, a: Value, b: Value, scale: Value = None) -> Value:
    return (b - a) > CMP_EPS * m.abs(b if scale is None else scale)


def undefined(m: Ops, *values: Value) -> Value:
    """True where any of ``values`` is NaN (an indicator still warming up, a missing reference)."""
    out: Value = m.isnan(values[0])
    for value in values[1:]:
        out = out | m.isnan(value)
    return out


def pick(m: Ops, *cases: tuple[Value, float], otherwise: float = NONE) -> Value:
    """The event of the first true condition, ``otherwise`` where none holds."""
    out: Value = otherwise
    for cond, event in reversed(cases):
        out = m.where(cond, event, out)
    return out


def step(direction: float, event: float, long_only: bool) -> float:
    """The direction after one bar's event (the streaming side)."""
    if math.isnan(event):
        return direction
    if event == LONG:
        return 1.0
    if event == SHORT:
        return 0.0 if long_only else -1.0
    if event == FLAT:
        return 0.0
    if event == EXIT_LONG:
        return 0.0 if direction == 1.0 else direction
    if event == EXIT_SHORT:
        return 0.0 if direction == -1.0 else direction
    raise ValueError(f"unknown event code {event}")


def directions(events: FloatArray, long_only: bool) -> FloatArray:
    """The direction held after each bar (the vectorized side of ``step``)."""
    n = len(events)
    known = np.isnan(events) | np.isin(events, (LONG, SHORT, FLAT, EXIT_LONG, EXIT_SHORT))
    if not known.all():
        raise ValueError(f"unknown event codes {np.unique(events[~known])}")
    outright = np.isin(events, (LONG, SHORT, FLAT))
    value = np.where(outright, events, 0.0)
    if long_only:
        value = np.maximum(value, 0.0)
    last = np.maximum.accumulate(np.where(outright, np.arange(n), -1))
    started = last >= 0
    safe = np.where(started, last, 0)
    held = np.where(started, value[safe], 0.0)
    exits_long = np.cumsum(events == EXIT_LONG)
    exits_short = np.cumsum(events == EXIT_SHORT)
    left_long = exits_long - np.where(started, exits_long[safe], 0) > 0
    left_short = exits_short - np.where(started, exits_short[safe], 0) > 0
    cleared = ((held == 1.0) & left_long) | ((held == -1.0) & left_short)
    out: FloatArray = np.where(cleared, 0.0, held)
    return out


def sampled_at_changes(direction: FloatArray, weight: FloatArray) -> FloatArray:
    """``weight`` as it was on the bar the current direction began (a position is sized once)."""
    n = len(direction)
    previous = np.concatenate(([0.0], direction[:-1]))
    began = np.maximum.accumulate(np.where(direction != previous, np.arange(n), -1))
    out: FloatArray = np.where(began >= 0, weight[np.maximum(began, 0)], 0.0)
    return out

"""The element-wise operations formulas may use, for floats (streaming) and arrays (batch).

Both sides follow IEEE semantics the same way: NaN in gives NaN out, comparisons with NaN are
false, ``ratio`` never raises on a zero denominator. Formulas must use these (or plain + - * and
division by a non-zero constant or price) so that one body evaluates identically on both.
"""

from __future__ import annotations

import math
from typing import Protocol

import numpy as np

from kestrel_featurelib.graph import Value

NAN = math.nan


class Ops(Protocol):
    def log(self, x: Value) -> Value: ...
    def sqrt(self, x: Value) -> Value: ...
    def abs(self, x: Value) -> Value: ...
    def maximum(self, a: Value, b: Value) -> Value: ...
    def minimum(self, a: Value, b: Value) -> Value: ...
    def where(self, cond: Value, a: Value, b: Value) -> Value: ...
    def ratio(self, num: Value, den: Value, default: float, floor: Value = 0.0) -> Value:
        """num/den, or ``default`` where den == 0 or |den| <= floor."""
        ...

    def sign(self, x: Value) -> Value: ...
    def isnan(self, x: Value) -> Value: ...


class StreamOps:
    """Ops on Python floats (math module; numpy scalars would be several times slower)."""

    def log(self, x: float) -> float:
        if x > 0.0:
            return math.log(x)
        return -math.inf if x == 0.0 else NAN

    def sqrt(self, x: float) -> float:
        return math.sqrt(x) if x >= 0.0 else NAN

    def abs(self, x: float) -> float:
        return abs(x)

    def maximum(self, a: float, b: float) -> float:
        if math.isnan(a) or math.isnan(b):  # NaN propagates as in numpy.maximum
            return NAN
        return a if a >= b else b

    def minimum(self, a: float, b: float) -> float:
        if math.isnan(a) or math.isnan(b):
            return NAN
        return a if a <= b else b

    def where(self, cond: bool, a: float, b: float) -> float:
        return a if cond else b

    def ratio(self, num: float, den: float, default: float, floor: float = 0.0) -> float:
        if den == 0.0 or abs(den) <= floor:
            return default
        return num / den

    def sign(self, x: float) -> float:
        if x > 0.0:
            return 1.0
        if x < 0.0:
            return -1.0
        return x  # 0.0 or NaN

    def isnan(self, x: float) -> bool:
        return math.isnan(x)


class BatchOps:
    """The same operations on float64 arrays (callers silence numpy's floating-point warnings)."""

    def log(self, x: Value) -> Value:
        return np.log(x)

    def sqrt(self, x: Value) -> Value:
        return np.sqrt(x)

    def abs(self, x: Value) -> Value:
        return np.abs(x)

    def maximum(self, a: Value, b: Value) -> Value:
        return np.maximum(a, b)

    def minimum(self, a: Value, b: Value) -> Value:
        return np.minimum(a, b)

    def where(self, cond: Value, a: Value, b: Value) -> Value:
        return np.where(cond, a, b)

    def ratio(self, num: Value, den: Value, default: float, floor: Value = 0.0) -> Value:
        guarded = (den == 0.0) | (np.abs(den) <= floor)
        safe_den = np.where(guarded, 1.0, den)
        return np.where(guarded, default, num / safe_den)

    def sign(self, x: Value) -> Value:
        return np.sign(x)

    def isnan(self, x: Value) -> Value:
        return np.isnan(x)


STREAM_OPS = StreamOps()
BATCH_OPS = BatchOps()

"""Building blocks shared by several feature families (structurally equal nodes are evaluated once)."""

from __future__ import annotations

from kestrel_featurelib.graph import CLOSE, HIGH, LOW, Node, Value, apply, lag
from kestrel_featurelib.ops import Ops

# Spreads below this fraction of the price level are rounding noise of an exactly flat window
# (e.g. a mean of identical prices that is off by one ulp); treating them as zero keeps both
# evaluators on the same side of every guard.
FLAT_EPS = 1e-12


def log_ratio(m: Ops, a: Value, b: Value) -> Value:
    return m.log(a / b)


def minus(m: Ops, a: Value, b: Value) -> Value:
    return a - b


def rel_distance(m: Ops, x: Value, level: Value) -> Value:
    """x / level - 1 for a positive level (a price or an average of prices)."""
    return x / level - 1.0


def true_range(m: Ops, high: Value, low: Value, prev_close: Value) -> Value:
    return m.maximum(high - low, m.maximum(m.abs(high - prev_close), m.abs(low - prev_close)))


def typical(m: Ops, high: Value, low: Value, close: Value) -> Value:
    return (high + low + close) / 3.0


def log_return(x: Node, k: int = 1) -> Node:
    return apply(log_ratio, x, lag(x, k))


LOGRET = log_return(CLOSE)
TRUE_RANGE = apply(true_range, HIGH, LOW, lag(CLOSE))
TYPICAL = apply(typical, HIGH, LOW, CLOSE)

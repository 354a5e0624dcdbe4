"""Batch evaluator: every node of the graph as one vectorized computation over a whole series.

Window sums are defined as left-to-right sums, oldest value first, on both sides: summation order
is part of a feature's definition, otherwise ill-conditioned values (a CCI or %b on an almost flat
window) would differ between evaluators by far more than rounding. Column j of a sliding window is
a contiguous slice of the series, so such a sum is n vectorized adds. Exponential smoothers use an
O(length) recursion here rather than the streaming side's explicit window, so the two evaluators
remain independent implementations.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from kestrel_featurelib.graph import Apply, FloatArray, Lag, Node, Paired, Rolling, Smooth, Source, walk
from kestrel_featurelib.ops import BATCH_OPS

_CHUNK_ROWS = 32_768
_VAR_EPS = 1e-24  # relative floor under which a sum of squared deviations is rounding noise


def evaluate(roots: Sequence[Node], inputs: dict[str, FloatArray]) -> list[FloatArray]:
    """Values of ``roots`` over the input series (all the same length), NaN before each node's span."""
    length = len(inputs["close"])
    values: dict[Node, FloatArray] = {}
    with np.errstate(all="ignore"):
        for node in walk(tuple(roots)):
            values[node] = _evaluate_node(node, values, inputs, length)
    results = []
    for root in roots:
        out = values[root].copy()
        out[: min(root.span - 1, length)] = np.nan
        results.append(out)
    return results


def _evaluate_node(
    node: Node, values: dict[Node, FloatArray], inputs: dict[str, FloatArray], length: int
) -> FloatArray:
    if isinstance(node, Source):
        return inputs[node.field]
    if isinstance(node, Lag):
        out = np.full(length, np.nan)
        if node.k < length:
            out[node.k :] = values[node.x][: length - node.k]
        return out
    if isinstance(node, Apply):
        result = node.fn(BATCH_OPS, *(values[a] for a in node.args), *node.consts)
        return np.broadcast_to(np.asarray(result, dtype=np.float64), (length,)).copy()
    if isinstance(node, Rolling):
        return _windowed(values[node.x], node.n, _ROLLING[node.op])
    if isinstance(node, Smooth):
        return _smooth(values[node.x], node.beta, node.length)
    if isinstance(node, Paired):
        return _paired(node, values[node.x], values[node.y])
    raise TypeError(f"unknown node type {type(node).__name__}")


def _windowed(x: FloatArray, n: int, kernel: Callable[[FloatArray, int], FloatArray]) -> FloatArray:
    """kernel(x, n) gives one value per complete window; they land at each window's last index."""
    out = np.full(len(x), np.nan)
    if n <= len(x):
        out[n - 1 :] = kernel(x, n)
    return out


def window_sum(x: FloatArray, n: int) -> FloatArray:
    """Left-to-right sum of every complete window of ``n`` values (index i: window x[i..i+n-1])."""
    rows = len(x) - n + 1
    acc = x[:rows].copy()
    for j in range(1, n):
        acc += x[j : j + rows]
    return acc


def _window_spread(x: FloatArray, n: int, squared: bool) -> FloatArray:
    rows = len(x) - n + 1
    mean = window_sum(x, n) / n
    acc = np.zeros(rows)
    for j in range(n):
        dev = x[j : j + rows] - mean
        acc += dev * dev if squared else np.abs(dev)
    result: FloatArray = np.sqrt(acc / n) if squared else acc / n
    return result


def _bars_since(x: FloatArray, n: int, highest: bool) -> FloatArray:
    windows = sliding_window_view(x, n)[:, ::-1]  # newest first: argmax/argmin pick the most recent tie
    out = np.empty(len(windows))
    for start in range(0, len(windows), _CHUNK_ROWS):
        chunk = windows[start : start + _CHUNK_ROWS]
        age = (chunk.argmax(axis=1) if highest else chunk.argmin(axis=1)).astype(np.float64)
        out[start : start + len(chunk)] = np.where(np.isnan(chunk).any(axis=1), np.nan, age)
    return out


_ROLLING: dict[str, Callable[[FloatArray, int], FloatArray]] = {
    "sum": window_sum,
    "mean": lambda x, n: window_sum(x, n) / n,
    "max": lambda x, n: sliding_window_view(x, n).max(axis=1),
    "min": lambda x, n: sliding_window_view(x, n).min(axis=1),
    "bars_since_max": lambda x, n: _bars_since(x, n, highest=True),
    "bars_since_min": lambda x, n: _bars_since(x, n, highest=False),
    "pstd": lambda x, n: _window_spread(x, n, squared=True),
    "mad": lambda x, n: _window_spread(x, n, squared=False),
}


def _smooth(x: FloatArray, beta: float, length: int) -> FloatArray:
    """Truncated, normalized exponential smoothing via the infinite recursion minus its tail.

    With y_t = (1-beta) * sum_{k>=0} beta**k x_{t-k} (zero before the start), the window sum is
    y_t - beta**length * y_{t-length}; dividing by 1 - beta**length normalizes the weights.
    """
    missing = np.isnan(x)
    filled = np.where(missing, 0.0, x)
    recursion = pd.Series(np.concatenate(([0.0], filled))).ewm(alpha=1.0 - beta, adjust=False).mean()
    y = recursion.to_numpy(dtype=np.float64)[1:]
    tail = np.zeros_like(y)
    if length < len(y):
        tail[length:] = y[:-length]
    decay = beta**length
    out: FloatArray = (y - decay * tail) / (1.0 - decay)
    missing_in_window = _windowed(missing.astype(np.float64), length, window_sum)
    out[~(missing_in_window == 0.0)] = np.nan
    return out


def _paired(node: Paired, x: FloatArray, y: FloatArray) -> FloatArray:
    """Pair statistics with the same left-to-right sums as the streaming side (missing pairs add 0)."""
    n = node.n
    out = np.full(len(x), np.nan)
    if n > len(x):
        return out
    valid = ~(np.isnan(x) | np.isnan(y))
    xz, yz = np.where(valid, x, 0.0), np.where(valid, y, 0.0)
    count = window_sum(valid.astype(np.float64), n)
    sum_x, sum_y = window_sum(xz, n), window_sum(yz, n)
    if node.op == "sum_diff":
        stat = sum_x - sum_y
    else:
        safe_count = np.maximum(count, 1.0)
        mean_x, mean_y = sum_x / safe_count, sum_y / safe_count
        rows = len(x) - n + 1
        sxy, sxx, syy = np.zeros(rows), np.zeros(rows), np.zeros(rows)
        for j in range(n):
            ok = valid[j : j + rows]
            dx = np.where(ok, x[j : j + rows] - mean_x, 0.0)
            dy = np.where(ok, y[j : j + rows] - mean_y, 0.0)
            sxy += dx * dy
            sxx += dx * dx
            syy += dy * dy
        # Sum of squares = S + count * mean^2; deviations below _VAR_EPS of it are rounding noise.
        flat_y = syy <= _VAR_EPS * (syy + count * mean_y * mean_y)
        if node.op == "beta":
            stat = np.where(flat_y, 0.0, sxy / np.where(flat_y, 1.0, syy))
        else:
            flat = flat_y | (sxx <= _VAR_EPS * (sxx + count * mean_x * mean_x))
            stat = np.where(flat, 0.0, sxy / np.sqrt(np.where(flat, 1.0, sxx * syy)))
    defined = (count >= node.min_pairs) & valid[n - 1 :]
    out[n - 1 :] = np.where(defined, stat, np.nan)
    return out

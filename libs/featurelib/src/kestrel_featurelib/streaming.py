"""Streaming evaluator: the same graph as the batch side, advanced one bar at a time.

State is one ring of recent values per node that something looks back on (a lag, a window, a
smoother), sized to the longest look-back. Every output is computed from ring windows alone, never
from running totals carried across the whole history, so a state fed only the last
``replay_window`` bars produces bit-for-bit the outputs of one that has run since the start.
Rings are Python lists (fast slicing, ``sum``, ``max`` over short windows) plus, for smoother
inputs, a numpy copy for the weighted sums.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from operator import mul
from typing import Any

import numpy as np

from kestrel_featurelib.graph import Apply, FloatArray, Lag, Node, Paired, Rolling, Smooth, Source, walk
from kestrel_featurelib.ops import STREAM_OPS

NAN = math.nan
FIELDS = ("open", "high", "low", "close", "volume", "ref_close")
_VAR_EPS = 1e-24  # same relative noise floor as the batch side

Step = Callable[[], None]


class Ring:
    """The last ``cap`` values, stored twice over so any window is one contiguous slice."""

    __slots__ = ("array", "cap", "head", "items")

    def __init__(self, cap: int, with_array: bool) -> None:
        self.cap = cap
        self.head = 0
        self.items: list[float] = [NAN] * (2 * cap)
        self.array: FloatArray | None = np.full(2 * cap, NAN) if with_array else None

    def push(self, value: float) -> None:
        h, cap = self.head, self.cap
        self.items[h] = value
        self.items[h + cap] = value
        if self.array is not None:
            self.array[h] = value
            self.array[h + cap] = value
        self.head = h + 1 if h + 1 < cap else 0

    def contents(self) -> list[float]:
        """Oldest first."""
        return self.items[self.head : self.head + self.cap]

    def load(self, values: Sequence[float]) -> None:
        if len(values) != self.cap:
            raise ValueError(f"ring holds {self.cap} values, snapshot has {len(values)}")
        self.items = [float(v) for v in values] * 2
        if self.array is not None:
            self.array[:] = np.asarray(self.items, dtype=np.float64)
        self.head = 0


class Program:
    """The compiled layout of a graph: node slots, ring sizes and the order to step them in."""

    def __init__(self, roots: Sequence[Node]) -> None:
        self.nodes = walk(tuple(roots))
        self.slot = {node: i for i, node in enumerate(self.nodes)}
        self.root_slots = [self.slot[r] for r in roots]
        self.ring_caps: dict[int, int] = {}
        self.array_rings: set[int] = set()
        for node in self.nodes:
            for source, need in _lookbacks(node):
                index = self.slot[source]
                self.ring_caps[index] = max(self.ring_caps.get(index, 1), need)
                if isinstance(node, Smooth):
                    self.array_rings.add(index)

    def new_rings(self) -> dict[int, Ring]:
        return {i: Ring(cap, i in self.array_rings) for i, cap in sorted(self.ring_caps.items())}

    def bind(
        self, vals: list[float], bar: list[float], rings: dict[int, Ring], memo: dict[tuple[int, ...], Any]
    ) -> list[Step]:
        """Per-bar steps over this state's storage: each node's value, then (if kept) its ring push."""
        ctx = _Context(self.slot, vals, bar, rings, memo)
        steps: list[Step] = []
        for i, node in enumerate(self.nodes):
            steps.append(_bind(node, i, ctx))
            ring = rings.get(i)
            if ring is not None:
                steps.append(_pusher(ring, vals, i))
        return steps


@dataclass(frozen=True)
class _Context:
    slot: dict[Node, int]
    vals: list[float]
    bar: list[float]
    rings: dict[int, Ring]
    memo: dict[tuple[int, ...], Any]  # per-bar results shared between nodes (cleared before each bar)


def _pusher(ring: Ring, vals: list[float], i: int) -> Step:
    push = ring.push
    return lambda: push(vals[i])


def _lookbacks(node: Node) -> list[tuple[Node, int]]:
    if isinstance(node, Lag):
        return [(node.x, node.k + 1)]
    if isinstance(node, Rolling):
        return [(node.x, node.n)]
    if isinstance(node, Smooth):
        return [(node.x, node.length)]
    if isinstance(node, Paired):
        return [(node.x, node.n), (node.y, node.n)]
    return []


def _bind(node: Node, i: int, ctx: _Context) -> Step:
    vals = ctx.vals
    if isinstance(node, Source):
        bar, field = ctx.bar, FIELDS.index(node.field)

        def source() -> None:
            vals[i] = bar[field]

        return source
    if isinstance(node, Lag):
        ring, back = ctx.rings[ctx.slot[node.x]], node.k + 1

        def lagged() -> None:
            vals[i] = ring.items[ring.head + ring.cap - back]

        return lagged
    if isinstance(node, Apply):
        return _apply(node, i, [ctx.slot[a] for a in node.args], vals)
    compute: Callable[[], float]
    if isinstance(node, Rolling):
        compute = _rolling(node, ctx.rings[ctx.slot[node.x]])
    elif isinstance(node, Smooth):
        compute = _smooth(node, ctx.rings[ctx.slot[node.x]])
    elif isinstance(node, Paired):
        x_slot, y_slot = ctx.slot[node.x], ctx.slot[node.y]
        # corr and beta over the same pairs share one pass (the memo key leaves the op out).
        key = (x_slot, y_slot, node.n, node.min_pairs)
        compute = _paired(node, ctx.rings[x_slot], ctx.rings[y_slot], ctx.memo, key)
    else:
        raise TypeError(f"unknown node type {type(node).__name__}")

    def windowed() -> None:
        vals[i] = compute()

    return windowed


def _apply(node: Apply, i: int, args: list[int], vals: list[float]) -> Step:
    """One closure per arity: list building and star-args would double the cost of small formulas."""
    fn, ops, consts = node.fn, STREAM_OPS, node.consts
    if len(args) == 1 and not consts:
        (a,) = args

        def unary() -> None:
            vals[i] = fn(ops, vals[a])

        return unary
    if len(args) == 1 and len(consts) == 1:
        (a,), (k,) = args, consts

        def unary_const() -> None:
            vals[i] = fn(ops, vals[a], k)

        return unary_const
    if len(args) == 2 and not consts:
        a, b = args

        def binary() -> None:
            vals[i] = fn(ops, vals[a], vals[b])

        return binary
    if len(args) == 3 and not consts:
        a, b, c = args

        def ternary() -> None:
            vals[i] = fn(ops, vals[a], vals[b], vals[c])

        return ternary

    def general() -> None:
        vals[i] = fn(ops, *[vals[j] for j in args], *consts)

    return general


# Values of a node before its span are never read by a defined output (spans nest), so the window
# reductions below need not reproduce the batch side's NaN propagation during warm-up.
def _rolling(node: Rolling, ring: Ring) -> Callable[[], float]:
    n, op = node.n, node.op

    def window() -> list[float]:
        end = ring.head + ring.cap
        return ring.items[end - n : end]

    if op == "sum":
        return lambda: float(sum(window()))
    if op == "mean":
        return lambda: sum(window()) / n
    if op == "max":
        return lambda: max(window())
    if op == "min":
        return lambda: min(window())
    if op == "bars_since_max":
        return lambda: _age_of(window(), max)
    if op == "bars_since_min":
        return lambda: _age_of(window(), min)
    if op == "pstd":
        return lambda: _spread(window(), squared=True)
    if op == "mad":
        return lambda: _spread(window(), squared=False)
    raise ValueError(f"unknown rolling op {op}")


def _age_of(values: list[float], pick: Callable[[list[float]], float]) -> float:
    newest_first = values[::-1]
    return float(newest_first.index(pick(values)))  # the most recent extreme wins ties


def _spread(values: list[float], squared: bool) -> float:
    mean = sum(values) / len(values)
    if squared:
        return math.sqrt(sum([(v - mean) * (v - mean) for v in values]) / len(values))
    return sum([abs(v - mean) for v in values]) / len(values)


def _smooth(node: Smooth, ring: Ring) -> Callable[[], float]:
    weights, n = node.weights_oldest_first, node.length
    array = ring.array
    assert array is not None  # Program gives every smoother input an array ring

    def compute() -> float:
        end = ring.head + ring.cap
        return float(np.add.reduce(weights * array[end - n : end]))

    return compute


def _paired(
    node: Paired, ring_x: Ring, ring_y: Ring, memo: dict[tuple[int, ...], Any], key: tuple[int, ...]
) -> Callable[[], float]:
    op = node.op

    def compute() -> float:
        if key in memo:
            moments = memo[key]
        else:
            moments = memo[key] = _pair_moments(node, ring_x, ring_y)
        if moments is None:
            return NAN
        sum_diff, sxy, sxx, syy, noise_x, noise_y = moments
        if op == "sum_diff":
            return float(sum_diff)
        if syy <= noise_y:
            return 0.0
        if op == "beta":
            return float(sxy / syy)
        if sxx <= noise_x:
            return 0.0
        return float(sxy / math.sqrt(sxx * syy))

    return compute


def _pair_moments(node: Paired, ring_x: Ring, ring_y: Ring) -> tuple[float, ...] | None:
    """(sum x - sum y, Sxy, Sxx, Syy, noise floor of Sxx, of Syy) over the defined pairs, or None."""
    n = node.n
    end_x, end_y = ring_x.head + ring_x.cap, ring_y.head + ring_y.cap
    xs, ys = ring_x.items[end_x - n : end_x], ring_y.items[end_y - n : end_y]
    if math.isnan(xs[-1]) or math.isnan(ys[-1]):
        return None
    sum_x, sum_y = sum(xs), sum(ys)
    count = n
    if math.isnan(sum_x) or math.isnan(sum_y):  # some pair is missing: keep the complete ones
        pairs = [(x, y) for x, y in zip(xs, ys, strict=True) if not (math.isnan(x) or math.isnan(y))]
        count = len(pairs)
        if count < node.min_pairs:
            return None
        xs, ys = [p[0] for p in pairs], [p[1] for p in pairs]
        sum_x, sum_y = sum(xs), sum(ys)
    mean_x, mean_y = sum_x / count, sum_y / count
    dx, dy = [x - mean_x for x in xs], [y - mean_y for y in ys]
    sxx, syy = sum(map(mul, dx, dx)), sum(map(mul, dy, dy))
    # Sum of squares = S + count * mean^2; deviations below VAR_EPS of it are rounding noise.
    noise_x = _VAR_EPS * (sxx + count * mean_x * mean_x)
    noise_y = _VAR_EPS * (syy + count * mean_y * mean_y)
    return (sum_x - sum_y, sum(map(mul, dx, dy)), sxx, syy, noise_x, noise_y)

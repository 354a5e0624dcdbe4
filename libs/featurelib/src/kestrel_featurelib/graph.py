"""The expression graph every feature is written in, once.

A feature is a tree of nodes over the bar inputs. The batch evaluator turns each node into a
vectorized array computation; the streaming evaluator turns it into a per-bar step. Because both
evaluate the same tree, the definition cannot drift between live, backtest and training.

Every node has a finite ``span``: its value at bar t is a pure function of bars t-span+1..t, and it is
NaN before ``span`` bars have been seen. Exponential smoothers (EMA, Wilder) are therefore truncated
to a finite window whose neglected weight is below ``EXP_TRUNCATION`` and renormalized; that is what
makes replaying the last ``span`` bars reproduce the live state exactly.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

# A float in the streaming evaluator, a float64 array in the batch evaluator: formulas are written
# against ``Ops`` so one function body serves both.
Value = Any
FloatArray = npt.NDArray[np.float64]

# Neglected weight of a truncated exponential smoother; its relative effect on a smoothed price is
# about this times the relative spread of prices across the window (~1e-9 on real data).
EXP_TRUNCATION = 1e-8

SourceField = Literal["open", "high", "low", "close", "volume", "ref_close"]
RollingOp = Literal["sum", "mean", "max", "min", "bars_since_max", "bars_since_min", "pstd", "mad"]
PairOp = Literal["corr", "beta", "sum_diff"]


class Node:
    """Base of all graph nodes (subclasses are frozen dataclasses, compared structurally)."""

    @property
    def inputs(self) -> tuple[Node, ...]:
        return ()

    @cached_property
    def span(self) -> int:
        """Bars the value at t depends on (t-span+1..t); also the bars needed before it is defined."""
        raise NotImplementedError

    @cached_property
    def describe(self) -> str:
        """Canonical text of the whole definition, used in the feature-set version hash."""
        raise NotImplementedError


@dataclass(frozen=True, eq=True)
class Source(Node):
    field: SourceField

    @cached_property
    def span(self) -> int:
        return 1

    @cached_property
    def describe(self) -> str:
        return self.field


@dataclass(frozen=True, eq=True)
class Lag(Node):
    x: Node
    k: int

    @property
    def inputs(self) -> tuple[Node, ...]:
        return (self.x,)

    @cached_property
    def span(self) -> int:
        return self.x.span + self.k

    @cached_property
    def describe(self) -> str:
        return f"lag({self.x.describe},{self.k})"


@dataclass(frozen=True, eq=True)
class Apply(Node):
    """Element-wise ``fn(ops, *args, *consts)``; fn must be a module-level function (its name is hashed)."""

    fn: Callable[..., Value]
    args: tuple[Node, ...]
    consts: tuple[float, ...] = ()

    @property
    def inputs(self) -> tuple[Node, ...]:
        return self.args

    @cached_property
    def span(self) -> int:
        return max(a.span for a in self.args)

    @cached_property
    def describe(self) -> str:
        parts = [a.describe for a in self.args] + [repr(c) for c in self.consts]
        return f"{self.fn.__module__}.{self.fn.__qualname__}({','.join(parts)})"


@dataclass(frozen=True, eq=True)
class Rolling(Node):
    """A reduction over the last ``n`` values of ``x`` (NaN if any of them is NaN).

    ``bars_since_max``/``min`` count bars back to the extreme, the most recent one on ties (TA-Lib's
    Aroon convention); ``pstd`` is the population standard deviation; ``mad`` the mean absolute
    deviation from the window mean. Both are computed in two passes, never from running sums of
    squares, so that flat windows give an exact zero spread.
    """

    op: RollingOp
    x: Node
    n: int

    @property
    def inputs(self) -> tuple[Node, ...]:
        return (self.x,)

    @cached_property
    def span(self) -> int:
        return self.x.span + self.n - 1

    @cached_property
    def describe(self) -> str:
        return f"{self.op}({self.x.describe},{self.n})"


@dataclass(frozen=True, eq=True)
class Smooth(Node):
    """Exponential smoothing truncated to ``length`` bars: sum_k w_k x[t-k], w_k ∝ beta**k, sum w = 1."""

    x: Node
    beta: float
    length: int

    @property
    def inputs(self) -> tuple[Node, ...]:
        return (self.x,)

    @cached_property
    def span(self) -> int:
        return self.x.span + self.length - 1

    @cached_property
    def describe(self) -> str:
        return f"smooth({self.x.describe},{self.beta!r},{self.length})"

    @cached_property
    def weights_oldest_first(self) -> FloatArray:
        raw = self.beta ** np.arange(self.length - 1, -1, -1, dtype=np.float64)
        normalized: FloatArray = raw / raw.sum()
        return normalized


@dataclass(frozen=True, eq=True)
class Paired(Node):
    """Statistic of the pairs (x[s], y[s]) over the last ``n`` bars where both are defined.

    NaN when fewer than ``min_pairs`` pairs are defined, or when y is undefined at t itself (a
    missing reference at t makes every cross-asset value at t missing, never a stale one).
    ``corr``: Pearson correlation (0 when either side has no variance); ``beta``: cov(x,y)/var(y)
    (0 when y has no variance); ``sum_diff``: sum of x - y.
    """

    op: PairOp
    x: Node
    y: Node
    n: int
    min_pairs: int

    @property
    def inputs(self) -> tuple[Node, ...]:
        return (self.x, self.y)

    @cached_property
    def span(self) -> int:
        return max(self.x.span, self.y.span) + self.n - 1

    @cached_property
    def describe(self) -> str:
        return f"pair_{self.op}({self.x.describe},{self.y.describe},{self.n},{self.min_pairs})"


OPEN = Source("open")
HIGH = Source("high")
LOW = Source("low")
CLOSE = Source("close")
VOLUME = Source("volume")
REF_CLOSE = Source("ref_close")


def lag(x: Node, k: int = 1) -> Node:
    return Lag(x, k)


def apply(fn: Callable[..., Value], *args: Node, consts: tuple[float, ...] = ()) -> Node:
    return Apply(fn, tuple(args), consts)


def rolling(op: RollingOp, x: Node, n: int) -> Node:
    if n < 1:
        raise ValueError(f"rolling window must be >= 1, got {n}")
    return Rolling(op, x, n)


def _truncated(x: Node, beta: float) -> Node:
    length = math.ceil(math.log(EXP_TRUNCATION) / math.log(beta))
    return Smooth(x, beta, length)


def ema(x: Node, span: int) -> Node:
    """EMA with alpha = 2/(span+1), as TA-Lib and pandas define it, truncated (see module doc)."""
    return _truncated(x, 1.0 - 2.0 / (span + 1))


def wilder(x: Node, period: int) -> Node:
    """Wilder's smoothing (alpha = 1/period) used by RSI, ATR and ADX, truncated likewise."""
    return _truncated(x, 1.0 - 1.0 / period)


def walk(roots: tuple[Node, ...]) -> list[Node]:
    """All nodes reachable from ``roots``, each once, inputs before the nodes that use them."""
    order: list[Node] = []
    seen: set[Node] = set()
    stack: list[tuple[Node, bool]] = [(r, False) for r in reversed(roots)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            if node not in seen:
                seen.add(node)
                order.append(node)
            continue
        if node in seen:
            continue
        stack.append((node, True))
        stack.extend((i, False) for i in reversed(node.inputs) if i not in seen)
    return order

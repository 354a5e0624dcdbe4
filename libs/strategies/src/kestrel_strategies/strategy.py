"""A strategy: parameters, indicators written in the feature graph, and one rule — two evaluators.

``StrategyDef`` is the declaration a catalogue module makes. ``StrategyDef.bind(params)`` validates
the parameters and gives a ``Strategy``, which evaluates

- over a whole history (``Strategy.evaluate``): the indicators through ``kestrel_featurelib``'s batch
  evaluator, the rule on arrays, the direction by ``positions.directions``;
- one closed bar at a time (``Strategy.stream().update``): the same indicators through the streaming
  evaluator, the same rule on floats, the direction by ``positions.step``.

The target at bar t is ``direction * weight``: the fraction of the sizing budget to hold from t's close
(1 = the whole budget long, -1 = short, 0 = flat). The weight is sampled on the bar a direction
begins, so a position is sized once, as a trader sizes it. Nothing reads a bar after t: indicators
are functions of bars up to t and the rule sees only their values at t.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, cast

import numpy as np
import pandas as pd

from kestrel_featurelib import FeatureSet, FeatureSpec
from kestrel_featurelib.graph import Node, Source, Value, walk
from kestrel_featurelib.ops import BATCH_OPS, STREAM_OPS, Ops
from kestrel_strategies.params import Params, ParamSpace, ParamValue
from kestrel_strategies.pine import PineUnsupported
from kestrel_strategies.positions import NONE, FloatArray, directions, sampled_at_changes, step

Family = Literal["trend", "momentum", "mean_reversion", "volatility", "ml", "benchmark"]
Rule = Callable[[Ops, Mapping[str, Value], Params], Value]
Indicators = Callable[[Params], Mapping[str, Node]]

DECISION_COLUMNS = ("event", "direction", "weight", "target")


@dataclass(frozen=True)
class StrategyDef:
    """One catalogue entry. ``rule`` returns the event code per bar (see ``positions``); ``weight``
    (optional) the size of a new position as a fraction of the budget; ``inputs`` names per-bar values
    that come from outside the bars (a model's probability), supplied by the caller. ``pine`` is the
    rule's TradingView Pine v5 body (see ``pine``), or ``PineUnsupported`` saying why there is none."""

    name: str
    family: Family
    summary: str
    space: ParamSpace
    indicators: Indicators
    rule: Rule
    weight: Rule | None = None
    inputs: tuple[str, ...] = ()
    pine: str | PineUnsupported | None = None

    def bind(self, raw: Mapping[str, object] | None = None) -> Strategy:
        return Strategy(self, self.space.validate(self.name, raw))

    def describe(self) -> dict[str, Any]:
        bound = self.bind()
        return {
            "name": self.name,
            "family": self.family,
            "summary": self.summary,
            **self.space.describe(),
            "inputs": list(self.inputs),
            "needs_reference": bound.needs_reference,
            "warmup_at_defaults": bound.warmup,
        }


@dataclass(frozen=True)
class Decision:
    """What a strategy holds after one bar."""

    event: float
    direction: float
    weight: float

    @property
    def target(self) -> float:
        return self.direction * self.weight


class Strategy:
    """A catalogue strategy with validated parameters."""

    def __init__(self, definition: StrategyDef, params: dict[str, ParamValue]) -> None:
        self.definition = definition
        self.params: Mapping[str, ParamValue] = dict(params)
        nodes = dict(definition.indicators(self.params))
        if not nodes:
            raise ValueError(f"strategy {definition.name} declares no indicators")
        self.needs_reference = any(_reads_reference(n) for n in nodes.values())
        specs = [
            FeatureSpec(role, "cross_asset" if _reads_reference(node) else "trend", role, node, {})
            for role, node in nodes.items()
        ]
        self.indicators = FeatureSet(specs, f"{definition.name}:reference" if self.needs_reference else None)
        self.warmup: int = self.indicators.replay_window

    @property
    def name(self) -> str:
        return self.definition.name

    @functools.cached_property
    def strategy_id(self) -> str:
        """Stable name of this strategy with these parameters (carried on signals and runs); computed
        once, since every signal carries it."""
        return f"{self.name}:{json.dumps(dict(sorted(self.params.items())), separators=(',', ':'))}"

    def evaluate(
        self,
        bars: pd.DataFrame,
        reference: pd.DataFrame | None = None,
        inputs: Mapping[str, Any] | None = None,
        *,
        long_only: bool = True,
    ) -> pd.DataFrame:
        """Columns event, direction, weight, target for every bar of ``bars`` (ts ascending)."""
        self._check_reference(reference is not None)
        computed = self.indicators.batch(bars, reference)
        values: dict[str, Value] = {name: computed[name].to_numpy() for name in self.indicators.names}
        for name in self.definition.inputs:
            if inputs is None or name not in inputs:
                raise ValueError(f"strategy {self.name} needs the per-bar input {name!r}")
            column = np.asarray(inputs[name], dtype=np.float64)
            if column.shape != (len(bars),):
                raise ValueError(f"input {name!r} has {column.shape} values for {len(bars)} bars")
            values[name] = column
        with np.errstate(all="ignore"):
            events = _full(self.definition.rule(BATCH_OPS, values, self.params), len(bars))
            weight = self._weights(BATCH_OPS, values, len(bars))
        events = np.where(np.isnan(weight), NONE, events)
        direction = directions(events, long_only)
        held = sampled_at_changes(direction, np.nan_to_num(weight, nan=0.0))
        held = np.where(direction == 0.0, 0.0, held)
        frame = {"event": events, "direction": direction, "weight": held, "target": direction * held}
        return pd.DataFrame(frame, index=bars.index)

    def _weights(self, m: Ops, values: Mapping[str, Value], n: int) -> FloatArray:
        if self.definition.weight is None:
            return np.ones(n)
        return np.maximum(_full(self.definition.weight(m, values, self.params), n), 0.0)

    def stream(self, *, long_only: bool = True) -> StrategyStream:
        return StrategyStream(self, long_only)

    def _check_reference(self, given: bool) -> None:
        if self.needs_reference and not given:
            raise ValueError(f"strategy {self.name} trades against a reference symbol; pass its bars")


@dataclass
class StrategyStream:
    """Per-bar evaluation of one strategy on one symbol (what the live signal service runs)."""

    strategy: Strategy
    long_only: bool
    direction: float = 0.0
    weight: float = 0.0
    _state: Any = field(init=False)

    def __post_init__(self) -> None:
        self._state = self.strategy.indicators.new_state()

    def update(  # noqa: PLR0917 - the bar's fields in their usual order, as StreamingState.update
        self,
        ts: int,
        open: float,
        high: float,
        low: float,
        close: float,
        volume: float,
        reference_close: float | None = None,
        inputs: Mapping[str, float] | None = None,
    ) -> Decision:
        # The state hands back a fresh dict each bar: the inputs may be added to it without a copy.
        values = cast(
            "dict[str, Value]", self._state.update(ts, open, high, low, close, volume, reference_close)
        )
        definition = self.strategy.definition
        for name in definition.inputs:
            values[name] = float(inputs[name]) if inputs is not None and name in inputs else NONE
        event = float(definition.rule(STREAM_OPS, values, self.strategy.params))
        weight = 1.0
        if definition.weight is not None:
            weight = max(float(definition.weight(STREAM_OPS, values, self.strategy.params)), 0.0)
            if math.isnan(weight):
                event = NONE
        direction = step(self.direction, event, self.long_only)
        if direction != self.direction:
            self.weight = weight if direction != 0.0 else 0.0
        self.direction = direction
        return Decision(event, direction, self.weight if direction != 0.0 else 0.0)

    def snapshot(self) -> dict[str, Any]:
        return {"indicators": self._state.snapshot(), "direction": self.direction, "weight": self.weight}

    def restore(self, snapshot: Mapping[str, Any]) -> None:
        self._state = self.strategy.indicators.restore(snapshot["indicators"])
        self.direction, self.weight = float(snapshot["direction"]), float(snapshot["weight"])


def _full(value: Value, n: int) -> FloatArray:
    """A rule's result as a float array (a rule may return a constant where nothing varies)."""
    out: FloatArray = np.broadcast_to(np.asarray(value, dtype=np.float64), (n,)).copy()
    return out


def _reads_reference(node: Node) -> bool:
    return any(isinstance(n, Source) and n.field == "ref_close" for n in walk((node,)))

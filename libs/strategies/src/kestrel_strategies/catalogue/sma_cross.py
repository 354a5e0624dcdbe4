"""SMA crossover: long while the fast simple moving average is above the slow one, short (or flat) below."""

from __future__ import annotations

from collections.abc import Mapping

from kestrel_featurelib.graph import CLOSE, Node, Value, rolling
from kestrel_featurelib.ops import Ops
from kestrel_strategies.params import Params, ParamSpace, int_param, less_than
from kestrel_strategies.positions import LONG, SHORT, above, below, pick
from kestrel_strategies.strategy import StrategyDef


def indicators(p: Params) -> Mapping[str, Node]:
    return {"fast": rolling("mean", CLOSE, int(p["fast"])), "slow": rolling("mean", CLOSE, int(p["slow"]))}


def rule(m: Ops, v: Mapping[str, Value], p: Params) -> Value:
    return pick(m, (above(m, v["fast"], v["slow"]), LONG), (below(m, v["fast"], v["slow"]), SHORT))


# The crossover's events on `fast_ma` and `slow_ma` (ema_cross defines them as EMAs).
CROSS_EVENTS = """\
event = switch
    above(fast_ma, slow_ma, slow_ma) => LONG
    below(fast_ma, slow_ma, slow_ma) => SHORT
    => NONE
"""
PINE = (
    """\
fast_ma = ta.sma(close, fast)
slow_ma = ta.sma(close, slow)
"""
    + CROSS_EVENTS
)


STRATEGY = StrategyDef(
    name="sma_cross",
    family="trend",
    summary="Long while SMA(fast) > SMA(slow), short (flat if long-only) while below.",
    space=ParamSpace(
        (
            int_param("fast", 10, 2, 200, "Bars of the fast moving average."),
            int_param("slow", 50, 3, 400, "Bars of the slow moving average."),
        ),
        (less_than("fast", "slow"),),
    ),
    indicators=indicators,
    rule=rule,
    pine=PINE,
)

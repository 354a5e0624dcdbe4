"""EMA crossover: the SMA crossover's rule on exponential moving averages (alpha = 2/(span+1))."""

from __future__ import annotations

from collections.abc import Mapping

from kestrel_featurelib.graph import CLOSE, Node, ema
from kestrel_strategies.catalogue.sma_cross import CROSS_EVENTS, rule
from kestrel_strategies.params import Params, ParamSpace, int_param, less_than
from kestrel_strategies.strategy import StrategyDef


def indicators(p: Params) -> Mapping[str, Node]:
    return {"fast": ema(CLOSE, int(p["fast"])), "slow": ema(CLOSE, int(p["slow"]))}


PINE = (
    """\
fast_ma = ta.ema(close, fast)
slow_ma = ta.ema(close, slow)
"""
    + CROSS_EVENTS
)


STRATEGY = StrategyDef(
    name="ema_cross",
    family="trend",
    summary="Long while EMA(fast) > EMA(slow), short (flat if long-only) while below.",
    space=ParamSpace(
        (
            int_param("fast", 12, 2, 100, "Span of the fast EMA."),
            int_param("slow", 26, 3, 200, "Span of the slow EMA."),
        ),
        (less_than("fast", "slow"),),
    ),
    indicators=indicators,
    rule=rule,
    pine=PINE,
)

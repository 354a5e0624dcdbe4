"""MACD: long while the MACD line is above its signal line, short (or flat) below."""

from __future__ import annotations

from collections.abc import Mapping

from kestrel_featurelib.catalogue.common import minus
from kestrel_featurelib.graph import CLOSE, Node, Value, apply, ema
from kestrel_featurelib.ops import Ops
from kestrel_strategies.params import Params, ParamSpace, int_param, less_than
from kestrel_strategies.positions import LONG, SHORT, above, below, pick
from kestrel_strategies.strategy import StrategyDef


def indicators(p: Params) -> Mapping[str, Node]:
    line = apply(minus, ema(CLOSE, int(p["fast"])), ema(CLOSE, int(p["slow"])))
    return {"line": line, "signal": ema(line, int(p["signal"])), "close": CLOSE}


def rule(m: Ops, v: Mapping[str, Value], p: Params) -> Value:
    # Both lines hover around zero: compare relative to the price, not to the signal line.
    line, signal, close = v["line"], v["signal"], v["close"]
    return pick(m, (above(m, line, signal, close), LONG), (below(m, line, signal, close), SHORT))


PINE = """\
[macd_line, signal_line, macd_hist] = ta.macd(close, fast, slow, signal)
// Both lines hover around zero: compare relative to the price, not to the signal line.
event = switch
    above(macd_line, signal_line, close) => LONG
    below(macd_line, signal_line, close) => SHORT
    => NONE
"""


STRATEGY = StrategyDef(
    name="macd",
    family="trend",
    summary="Long while MACD(fast, slow) is above its EMA(signal), short (flat if long-only) below.",
    space=ParamSpace(
        (
            int_param("fast", 12, 2, 100, "Span of the fast EMA."),
            int_param("slow", 26, 3, 200, "Span of the slow EMA."),
            int_param("signal", 9, 2, 50, "Span of the signal line's EMA."),
        ),
        (less_than("fast", "slow"),),
    ),
    indicators=indicators,
    rule=rule,
    pine=PINE,
)

"""RSI mean reversion: buy oversold, sell overbought, leave when RSI crosses back over the exit level."""

from __future__ import annotations

from collections.abc import Mapping

from kestrel_featurelib.catalogue.momentum import rsi
from kestrel_featurelib.graph import Node, Value
from kestrel_featurelib.ops import Ops
from kestrel_strategies.params import Params, ParamSpace, float_param, int_param, less_than
from kestrel_strategies.positions import EXIT_LONG, EXIT_SHORT, LONG, SHORT, above, below, pick
from kestrel_strategies.strategy import StrategyDef


def indicators(p: Params) -> Mapping[str, Node]:
    return {"rsi": rsi(int(p["period"])).node}


def rule(m: Ops, v: Mapping[str, Value], p: Params) -> Value:
    level = v["rsi"]
    exit_ = float(p["exit"])
    return pick(
        m,
        (below(m, level, float(p["lower"]), 100.0), LONG),
        (above(m, level, float(p["upper"]), 100.0), SHORT),
        (above(m, level, exit_, 100.0), EXIT_LONG),
        (below(m, level, exit_, 100.0), EXIT_SHORT),
    )


PINE = """\
level = ta.rsi(close, period)
event = switch
    below(level, lower, 100) => LONG
    above(level, upper, 100) => SHORT
    above(level, exit, 100) => EXIT_LONG
    below(level, exit, 100) => EXIT_SHORT
    => NONE
"""


STRATEGY = StrategyDef(
    name="rsi_reversion",
    family="mean_reversion",
    summary="Long when RSI(period) < lower, short (flat if long-only) when > upper; a long exits above "
    "`exit`, a short below it.",
    space=ParamSpace(
        (
            int_param("period", 14, 2, 100, "Wilder period of the RSI."),
            float_param("lower", 30.0, 5.0, 50.0, "Oversold level.", 1.0),
            float_param("upper", 70.0, 50.0, 95.0, "Overbought level.", 1.0),
            float_param("exit", 50.0, 10.0, 90.0, "Level where a position is closed.", 1.0),
        ),
        (less_than("lower", "exit"), less_than("exit", "upper")),
    ),
    indicators=indicators,
    rule=rule,
    pine=PINE,
)

"""Rate-of-change momentum: long while the N-bar change exceeds a threshold, short below its negative."""

from __future__ import annotations

from collections.abc import Mapping

from kestrel_featurelib.catalogue.momentum import roc
from kestrel_featurelib.graph import Node, Value
from kestrel_featurelib.ops import Ops
from kestrel_strategies.params import Params, ParamSpace, float_param, int_param
from kestrel_strategies.positions import FLAT, LONG, NONE, SHORT, pick, undefined
from kestrel_strategies.strategy import StrategyDef


def indicators(p: Params) -> Mapping[str, Node]:
    return {"roc": roc(int(p["period"])).node}


def rule(m: Ops, v: Mapping[str, Value], p: Params) -> Value:
    change, threshold = v["roc"], float(p["threshold"])
    return pick(
        m,
        (undefined(m, change), NONE),
        (change > threshold, LONG),
        (change < -threshold, SHORT),
        otherwise=FLAT,
    )


PINE = """\
change = ta.roc(close, period)
event = switch
    na(change) => NONE
    change > threshold => LONG
    change < -threshold => SHORT
    => FLAT
"""


STRATEGY = StrategyDef(
    name="roc_momentum",
    family="momentum",
    summary="Long while ROC(period) > threshold %, short (flat if long-only) while < -threshold %, "
    "flat in between.",
    space=ParamSpace(
        (
            int_param("period", 10, 1, 250, "Bars of the rate of change."),
            float_param("threshold", 1.0, 0.0, 50.0, "Percent change that counts as momentum.", 0.25),
        )
    ),
    indicators=indicators,
    rule=rule,
    pine=PINE,
)

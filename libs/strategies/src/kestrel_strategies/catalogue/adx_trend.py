"""ADX trend filter: trade the direction of the stronger DI only while ADX says a trend exists."""

from __future__ import annotations

from collections.abc import Mapping

from kestrel_featurelib.catalogue.trend import adx
from kestrel_featurelib.graph import Node, Value
from kestrel_featurelib.ops import Ops
from kestrel_strategies.params import Params, ParamSpace, float_param, int_param
from kestrel_strategies.positions import FLAT, LONG, SHORT, above, below, pick
from kestrel_strategies.strategy import StrategyDef


def indicators(p: Params) -> Mapping[str, Node]:
    adx_line, plus_di, minus_di = (spec.node for spec in adx(int(p["period"])))
    return {"adx": adx_line, "plus_di": plus_di, "minus_di": minus_di}


def rule(m: Ops, v: Mapping[str, Value], p: Params) -> Value:
    threshold = float(p["threshold"])
    # DI and ADX live on a 0-100 scale: compare with a band of that scale, not of a DI near zero.
    trending = above(m, v["adx"], threshold, 100.0)
    plus, minus = v["plus_di"], v["minus_di"]
    return pick(
        m,
        (trending & above(m, plus, minus, 100.0), LONG),
        (trending & above(m, minus, plus, 100.0), SHORT),
        (below(m, v["adx"], threshold, 100.0), FLAT),
    )


PINE = """\
[plus_di, minus_di, adx_line] = ta.dmi(period, period)
// DI and ADX live on a 0-100 scale: compare with a band of that scale.
trending = above(adx_line, threshold, 100)
event = switch
    trending and above(plus_di, minus_di, 100) => LONG
    trending and above(minus_di, plus_di, 100) => SHORT
    below(adx_line, threshold, 100) => FLAT
    => NONE
"""


STRATEGY = StrategyDef(
    name="adx_trend",
    family="trend",
    summary="While ADX(period) > threshold: long if +DI > -DI, short (flat if long-only) if -DI > +DI; "
    "flat when ADX falls below the threshold.",
    space=ParamSpace(
        (
            int_param("period", 14, 2, 100, "Wilder period of DI and ADX."),
            float_param("threshold", 25.0, 5.0, 60.0, "ADX level that counts as a trend.", 1.0),
        )
    ),
    indicators=indicators,
    rule=rule,
    pine=PINE,
)

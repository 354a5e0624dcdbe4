"""Bollinger mean reversion: buy a close below the lower band, sell one above the upper band, and
leave when price returns to the middle band."""

from __future__ import annotations

from collections.abc import Mapping

from kestrel_featurelib.graph import CLOSE, Node, Value, rolling
from kestrel_featurelib.ops import Ops
from kestrel_strategies.params import Params, ParamSpace, float_param, int_param
from kestrel_strategies.positions import EXIT_LONG, EXIT_SHORT, LONG, SHORT, above, below, pick
from kestrel_strategies.strategy import StrategyDef


def indicators(p: Params) -> Mapping[str, Node]:
    period = int(p["period"])
    return {"close": CLOSE, "mid": rolling("mean", CLOSE, period), "sd": rolling("pstd", CLOSE, period)}


def rule(m: Ops, v: Mapping[str, Value], p: Params) -> Value:
    close, mid, band = v["close"], v["mid"], float(p["width"]) * v["sd"]
    return pick(
        m,
        (below(m, close, mid - band, mid), LONG),
        (above(m, close, mid + band, mid), SHORT),
        (above(m, close, mid), EXIT_LONG),
        (below(m, close, mid), EXIT_SHORT),
    )


PINE = """\
mid = ta.sma(close, period)
band = width * ta.stdev(close, period)  // population deviation, as pstd
event = switch
    below(close, mid - band, mid) => LONG
    above(close, mid + band, mid) => SHORT
    above(close, mid, mid) => EXIT_LONG
    below(close, mid, mid) => EXIT_SHORT
    => NONE
"""


STRATEGY = StrategyDef(
    name="bollinger_reversion",
    family="mean_reversion",
    summary="Long below SMA - width*std, short (flat if long-only) above SMA + width*std; exit at the SMA.",
    space=ParamSpace(
        (
            int_param("period", 20, 5, 250, "Bars of the bands."),
            float_param("width", 2.0, 0.5, 4.0, "Band half-width in standard deviations.", 0.25),
        )
    ),
    indicators=indicators,
    rule=rule,
    pine=PINE,
)

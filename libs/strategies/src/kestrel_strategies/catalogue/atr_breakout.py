"""ATR (Keltner) breakout: enter when the close leaves the prior bar's band of `mult` ATRs around its
moving average, exit when it crosses back over that average."""

from __future__ import annotations

from collections.abc import Mapping

from kestrel_featurelib.catalogue.volatility import atr
from kestrel_featurelib.graph import CLOSE, Node, Value, lag, rolling
from kestrel_featurelib.ops import Ops
from kestrel_strategies.params import Params, ParamSpace, float_param, int_param
from kestrel_strategies.positions import EXIT_LONG, EXIT_SHORT, LONG, SHORT, above, below, pick
from kestrel_strategies.strategy import StrategyDef


def indicators(p: Params) -> Mapping[str, Node]:
    return {
        "close": CLOSE,
        "mid": lag(rolling("mean", CLOSE, int(p["period"]))),
        "atr": lag(atr(int(p["atr_period"]))[0].node),
    }


def rule(m: Ops, v: Mapping[str, Value], p: Params) -> Value:
    close, mid, band = v["close"], v["mid"], float(p["mult"]) * v["atr"]
    return pick(
        m,
        (above(m, close, mid + band, mid), LONG),
        (below(m, close, mid - band, mid), SHORT),
        (below(m, close, mid), EXIT_LONG),
        (above(m, close, mid), EXIT_SHORT),
    )


PINE = """\
// The band of the prior bar ([1]), as in the rule.
mid = ta.sma(close, period)[1]
band = mult * ta.atr(atr_period)[1]
event = switch
    above(close, mid + band, mid) => LONG
    below(close, mid - band, mid) => SHORT
    below(close, mid, mid) => EXIT_LONG
    above(close, mid, mid) => EXIT_SHORT
    => NONE
"""


STRATEGY = StrategyDef(
    name="atr_breakout",
    family="volatility",
    summary="Long above SMA(period) + mult*ATR(atr_period) of the prior bar, short (flat if long-only) "
    "below SMA - mult*ATR; exit on crossing the SMA.",
    space=ParamSpace(
        (
            int_param("period", 20, 5, 250, "Bars of the moving average."),
            int_param("atr_period", 14, 2, 100, "Wilder period of the ATR."),
            float_param("mult", 2.0, 0.5, 5.0, "Band half-width in ATRs.", 0.25),
        )
    ),
    indicators=indicators,
    rule=rule,
    pine=PINE,
)

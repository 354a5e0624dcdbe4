"""Time-series momentum (Moskowitz, Ooi and Pedersen): hold the sign of the asset's own past return."""

from __future__ import annotations

from collections.abc import Mapping

from kestrel_featurelib.catalogue.common import log_return
from kestrel_featurelib.graph import CLOSE, Node, Value
from kestrel_featurelib.ops import Ops
from kestrel_strategies.params import Params, ParamSpace, int_param
from kestrel_strategies.positions import LONG, SHORT, pick
from kestrel_strategies.strategy import StrategyDef


def indicators(p: Params) -> Mapping[str, Node]:
    return {"ret": log_return(CLOSE, int(p["lookback"]))}


def rule(m: Ops, v: Mapping[str, Value], p: Params) -> Value:
    # Log returns are exact at zero (log(1) == 0), so no comparison band is needed.
    return pick(m, (v["ret"] > 0.0, LONG), (v["ret"] < 0.0, SHORT))


PINE = """\
ret = math.log(close / close[lookback])
event = switch
    ret > 0 => LONG
    ret < 0 => SHORT
    => NONE
"""


STRATEGY = StrategyDef(
    name="tsmom",
    family="momentum",
    summary="Long while the `lookback`-bar return is positive, short (flat if long-only) while negative.",
    space=ParamSpace((int_param("lookback", 60, 2, 500, "Bars of the past return."),)),
    indicators=indicators,
    rule=rule,
    pine=PINE,
)

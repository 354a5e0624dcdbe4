"""Dual momentum (Antonacci), one traded asset: hold it only while its return is positive (absolute
momentum) AND beats the reference asset's over the same window (relative momentum)."""

from __future__ import annotations

from collections.abc import Mapping

from kestrel_featurelib.catalogue.common import log_return
from kestrel_featurelib.graph import CLOSE, REF_CLOSE, Node, Value
from kestrel_featurelib.ops import Ops
from kestrel_strategies.params import Params, ParamSpace, float_param, int_param
from kestrel_strategies.positions import FLAT, LONG, NONE, pick, undefined
from kestrel_strategies.strategy import StrategyDef


def indicators(p: Params) -> Mapping[str, Node]:
    lookback = int(p["lookback"])
    return {"ret": log_return(CLOSE, lookback), "ref_ret": log_return(REF_CLOSE, lookback)}


def rule(m: Ops, v: Mapping[str, Value], p: Params) -> Value:
    ret, ref_ret, floor = v["ret"], v["ref_ret"], float(p["min_return"])
    return pick(
        m,
        (undefined(m, ret, ref_ret), NONE),  # a missing reference bar decides nothing
        ((ret > floor) & (ret > ref_ret), LONG),
        otherwise=FLAT,
    )


PINE = """\
ret = math.log(close / close[lookback])
ref_ret = math.log(ref_close / ref_close[lookback])
event = switch
    na(ret) or na(ref_ret) => NONE
    ret > min_return and ret > ref_ret => LONG
    => FLAT
"""


STRATEGY = StrategyDef(
    name="dual_momentum",
    family="momentum",
    summary="Long while the `lookback`-bar log return exceeds `min_return` and the reference symbol's; "
    "flat otherwise.",
    space=ParamSpace(
        (
            int_param("lookback", 120, 5, 500, "Bars of both returns."),
            float_param("min_return", 0.0, -0.5, 0.5, "Absolute-momentum floor (log return).", 0.01),
        )
    ),
    indicators=indicators,
    rule=rule,
    pine=PINE,
)

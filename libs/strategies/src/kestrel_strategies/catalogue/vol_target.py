"""Volatility targeting overlay on time-series momentum: the direction of the past return, sized so the
position's annualized volatility is `target_vol` (capped at `max_weight` of the budget)."""

from __future__ import annotations

import math
from collections.abc import Mapping

from kestrel_featurelib.catalogue.volatility import realized_vol_node
from kestrel_featurelib.graph import Node, Value
from kestrel_featurelib.ops import Ops
from kestrel_strategies.catalogue import tsmom
from kestrel_strategies.params import Params, ParamSpace, float_param, int_param
from kestrel_strategies.strategy import StrategyDef


def indicators(p: Params) -> Mapping[str, Node]:
    return {**tsmom.indicators(p), "vol": realized_vol_node(int(p["vol_period"]))}


def weight(m: Ops, v: Mapping[str, Value], p: Params) -> Value:
    annual = v["vol"] * math.sqrt(float(p["bars_per_year"]))
    cap = float(p["max_weight"])
    # No measured volatility (a flat window) asks for the cap, not an infinite position.
    return m.minimum(m.ratio(float(p["target_vol"]), annual, cap), cap)


PINE = (
    tsmom.PINE
    + """\
log_ret = math.log(close / close[1])
vol = math.sqrt(ta.sma(log_ret * log_ret, vol_period))
annual = vol * math.sqrt(bars_per_year)
// No measured volatility (a flat window) asks for the cap, not an infinite position.
weight = math.min(annual == 0 ? max_weight : target_vol / annual, max_weight)
"""
)


STRATEGY = StrategyDef(
    name="vol_target",
    family="volatility",
    summary="Time-series momentum over `lookback` bars, each position sized to target_vol / realized "
    "annualized volatility over `vol_period` bars, at most max_weight of the budget.",
    space=ParamSpace(
        (
            int_param("lookback", 60, 2, 500, "Bars of the momentum return."),
            int_param("vol_period", 20, 5, 250, "Bars of the realized volatility."),
            float_param("target_vol", 0.15, 0.01, 1.0, "Annualized volatility to target.", 0.01),
            float_param("max_weight", 1.0, 0.05, 1.0, "Largest fraction of the budget to hold.", 0.05),
            int_param("bars_per_year", 252, 1, 525_600, "Bars in a year (252 daily, 525600 minute)."),
        )
    ),
    indicators=indicators,
    rule=tsmom.rule,
    weight=weight,
    pine=PINE,
)

"""Pairs / spread reversion on two symbols: fade the z-score of log(price / reference price).

The traded symbol is the first leg; the reference symbol (the job's reference) is the second. This
strategy trades the first leg against the spread's mean; a two-legged book (the hedge in the
reference) is the portfolio's concern, not the signal's.
"""

from __future__ import annotations

from collections.abc import Mapping

from kestrel_featurelib.catalogue.common import log_ratio
from kestrel_featurelib.graph import CLOSE, REF_CLOSE, Node, apply
from kestrel_strategies.catalogue.zscore_reversion import ZSCORE_EVENTS, rule, zscore_node
from kestrel_strategies.params import Params, ParamSpace, float_param, int_param, less_than
from kestrel_strategies.strategy import StrategyDef


def indicators(p: Params) -> Mapping[str, Node]:
    return {"z": zscore_node(apply(log_ratio, CLOSE, REF_CLOSE), int(p["period"]))}


PINE = (
    """\
spread = math.log(close / ref_close)
"""
    + ZSCORE_EVENTS
)


STRATEGY = StrategyDef(
    name="pairs_spread",
    family="mean_reversion",
    summary="Long when the z-score of log(close / reference close) < -entry, short (flat if long-only) "
    "when > entry; exit once |z| < exit. Bars without a reference decide nothing.",
    space=ParamSpace(
        (
            int_param("period", 60, 10, 500, "Bars of the spread's mean and standard deviation."),
            float_param("entry", 2.0, 0.5, 5.0, "Z-score that opens a position.", 0.25),
            float_param("exit", 0.5, 0.0, 4.5, "Z-score band that closes it.", 0.25),
        ),
        (less_than("exit", "entry"),),
    ),
    indicators=indicators,
    rule=rule,
    pine=PINE,
)

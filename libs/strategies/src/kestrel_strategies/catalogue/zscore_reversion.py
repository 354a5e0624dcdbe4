"""Z-score mean reversion: fade a close that is `entry` standard deviations from its rolling mean and
leave once it is back within `exit` of it."""

from __future__ import annotations

from collections.abc import Mapping

from kestrel_featurelib.catalogue.common import FLAT_EPS
from kestrel_featurelib.graph import CLOSE, Node, Value, apply, rolling
from kestrel_featurelib.ops import Ops
from kestrel_strategies.params import Params, ParamSpace, float_param, int_param, less_than
from kestrel_strategies.positions import EXIT_LONG, EXIT_SHORT, FLAT, LONG, SHORT, above, below, pick
from kestrel_strategies.strategy import StrategyDef


def zscore(m: Ops, x: Value, mean: Value, sd: Value) -> Value:
    # A flat window has no spread: its z-score is 0 (nothing to fade), not a division by ~0.
    return m.ratio(x - mean, sd, 0.0, FLAT_EPS * m.abs(mean))


def zscore_node(x: Node, period: int) -> Node:
    return apply(zscore, x, rolling("mean", x, period), rolling("pstd", x, period))


def indicators(p: Params) -> Mapping[str, Node]:
    return {"z": zscore_node(CLOSE, int(p["period"]))}


def rule(m: Ops, v: Mapping[str, Value], p: Params) -> Value:
    z, entry, exit_ = v["z"], float(p["entry"]), float(p["exit"])
    return pick(
        m,
        (below(m, z, -entry, 1.0), LONG),
        (above(m, z, entry, 1.0), SHORT),
        (above(m, z, -exit_, 1.0) & below(m, z, exit_, 1.0), FLAT),
        (above(m, z, -exit_, 1.0), EXIT_LONG),
        (below(m, z, exit_, 1.0), EXIT_SHORT),
    )


# The z-score of `spread` over `period` bars and the rule's events (pairs_spread shares them).
ZSCORE_EVENTS = """\
mean = ta.sma(spread, period)
sd = ta.stdev(spread, period)
// A flat window has no spread: its z-score is 0 (nothing to fade), not a division by ~0.
z = sd == 0 or math.abs(sd) <= 1e-12 * math.abs(mean) ? 0.0 : (spread - mean) / sd
event = switch
    below(z, -entry, 1) => LONG
    above(z, entry, 1) => SHORT
    above(z, -exit, 1) and below(z, exit, 1) => FLAT
    above(z, -exit, 1) => EXIT_LONG
    below(z, exit, 1) => EXIT_SHORT
    => NONE
"""
PINE = (
    """\
spread = close
"""
    + ZSCORE_EVENTS
)


STRATEGY = StrategyDef(
    name="zscore_reversion",
    family="mean_reversion",
    summary="Long when the close's z-score over `period` bars < -entry, short (flat if long-only) when "
    "> entry; exit once |z| < exit.",
    space=ParamSpace(
        (
            int_param("period", 20, 5, 500, "Bars of the rolling mean and standard deviation."),
            float_param("entry", 2.0, 0.5, 5.0, "Z-score that opens a position.", 0.25),
            float_param("exit", 0.5, 0.0, 4.5, "Z-score band that closes it.", 0.25),
        ),
        (less_than("exit", "entry"),),
    ),
    indicators=indicators,
    rule=rule,
    pine=PINE,
)

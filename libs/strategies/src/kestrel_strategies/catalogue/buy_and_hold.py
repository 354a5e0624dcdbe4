"""Buy and hold: long from the first bar to the last (the benchmark every other strategy faces)."""

from __future__ import annotations

from collections.abc import Mapping

from kestrel_featurelib.graph import CLOSE, Node, Value
from kestrel_featurelib.ops import Ops
from kestrel_strategies.params import Params, ParamSpace
from kestrel_strategies.positions import LONG
from kestrel_strategies.strategy import StrategyDef


def indicators(p: Params) -> Mapping[str, Node]:
    return {"close": CLOSE}


def rule(m: Ops, v: Mapping[str, Value], p: Params) -> Value:
    return LONG + 0.0 * v["close"]  # LONG on every bar (NaN-free: close is always defined)


PINE = """\
event = LONG
"""


STRATEGY = StrategyDef(
    name="buy_and_hold",
    family="benchmark",
    summary="Long on the first bar, held to the end.",
    space=ParamSpace(()),
    indicators=indicators,
    rule=rule,
    pine=PINE,
)

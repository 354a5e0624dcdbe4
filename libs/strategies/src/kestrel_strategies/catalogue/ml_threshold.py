"""Threshold on a registered model's probability: long when P(up) is high, short or flat when low.

The probability is an input, not an indicator: the caller scores the bar with the model named by
`model` at the MLflow alias `alias` (the live inference service, or the backtester over the stored
feature vectors) and passes it as ``p_up``.
"""

from __future__ import annotations

from collections.abc import Mapping

from kestrel_featurelib.graph import CLOSE, Node, Value
from kestrel_featurelib.ops import Ops
from kestrel_strategies.params import Params, ParamSpace, float_param, less_than, text_param
from kestrel_strategies.positions import LONG, SHORT, pick
from kestrel_strategies.strategy import StrategyDef


def indicators(p: Params) -> Mapping[str, Node]:
    return {"close": CLOSE}


def rule(m: Ops, v: Mapping[str, Value], p: Params) -> Value:
    prob = v["p_up"]
    return pick(m, (prob > float(p["upper"]), LONG), (prob < float(p["lower"]), SHORT))


# P(up) comes from the registered model, which Pine cannot run: the script reads it from a series
# the user picks (another indicator's plot of the model's probability) and stops with an error
# while that series is not a probability, rather than trading on a price read as one.
PINE = """\
p_up = input.source(close, "P(up) series", tooltip="The model's P(up) (0-1): another indicator's plot.")
if not na(p_up) and (p_up < 0 or p_up > 1)
    runtime.error("P(up) must be in [0, 1]: pick the plot of the model's P(up) as the P(up) series input")
event = switch
    p_up > upper => LONG
    p_up < lower => SHORT
    => NONE
"""


STRATEGY = StrategyDef(
    name="ml_threshold",
    family="ml",
    summary="Long when the model's P(up) > upper, short (flat if long-only) when < lower, hold between.",
    space=ParamSpace(
        (
            text_param("model", "kestrel-direction", "Registered model name in MLflow."),
            text_param("alias", "live", "MLflow alias of the version to score with."),
            float_param("upper", 0.55, 0.5, 0.99, "P(up) above which to be long.", 0.01),
            float_param("lower", 0.45, 0.01, 0.5, "P(up) below which to leave / be short.", 0.01),
        ),
        (less_than("lower", "upper"),),
    ),
    indicators=indicators,
    rule=rule,
    inputs=("p_up",),
    pine=PINE,
)

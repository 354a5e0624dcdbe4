"""Donchian channel breakout (the turtles' rule): enter on a new N-bar extreme, leave on an M-bar one."""

from __future__ import annotations

from collections.abc import Mapping

from kestrel_featurelib.graph import CLOSE, HIGH, LOW, Node, Value, lag, rolling
from kestrel_featurelib.ops import Ops
from kestrel_strategies.params import Params, ParamSpace, int_param, less_than
from kestrel_strategies.positions import EXIT_LONG, EXIT_SHORT, LONG, SHORT, above, below, pick
from kestrel_strategies.strategy import StrategyDef


def indicators(p: Params) -> Mapping[str, Node]:
    entry, exit_ = int(p["entry"]), int(p["exit"])
    # The channel of the bars BEFORE this one: a close can only break out of a range it is not in.
    return {
        "close": CLOSE,
        "entry_high": lag(rolling("max", HIGH, entry)),
        "entry_low": lag(rolling("min", LOW, entry)),
        "exit_high": lag(rolling("max", HIGH, exit_)),
        "exit_low": lag(rolling("min", LOW, exit_)),
    }


def rule(m: Ops, v: Mapping[str, Value], p: Params) -> Value:
    close = v["close"]
    return pick(
        m,
        (above(m, close, v["entry_high"]), LONG),
        (below(m, close, v["entry_low"]), SHORT),
        (below(m, close, v["exit_low"]), EXIT_LONG),
        (above(m, close, v["exit_high"]), EXIT_SHORT),
    )


PINE = """\
// The channels of the bars BEFORE this one ([1]), as in the rule.
entry_high = ta.highest(high, entry)[1]
entry_low = ta.lowest(low, entry)[1]
exit_high = ta.highest(high, exit)[1]
exit_low = ta.lowest(low, exit)[1]
event = switch
    above(close, entry_high, entry_high) => LONG
    below(close, entry_low, entry_low) => SHORT
    below(close, exit_low, exit_low) => EXIT_LONG
    above(close, exit_high, exit_high) => EXIT_SHORT
    => NONE
"""


STRATEGY = StrategyDef(
    name="donchian_breakout",
    family="trend",
    summary="Long above the prior `entry`-bar high, short below its low; a long exits below the prior "
    "`exit`-bar low, a short above its high.",
    space=ParamSpace(
        (
            int_param("entry", 20, 2, 250, "Bars of the breakout channel."),
            int_param("exit", 10, 1, 249, "Bars of the exit channel."),
        ),
        (less_than("exit", "entry"),),
    ),
    indicators=indicators,
    rule=rule,
    pine=PINE,
)

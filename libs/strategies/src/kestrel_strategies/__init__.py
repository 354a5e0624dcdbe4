"""Kestrel's strategy catalogue: each strategy defined once, evaluated over a history or bar by bar.

    strategy = build("sma_cross", {"fast": 10, "slow": 50})
    frame = strategy.evaluate(bars)              # backtest: event, direction, weight, target per bar
    stream = strategy.stream()                   # live, one per symbol
    decision = stream.update(ts, o, h, l, c, v)  # Decision(event, direction, weight)
    script = pine_script(strategy)               # the same rule as a TradingView Pine v5 strategy

See libs/strategies/README.md for the event model and how to add a strategy.
"""

from kestrel_strategies.params import Constraint, Param, ParameterError, Params, ParamSpace, ParamValue
from kestrel_strategies.pine import PineExportError, PineUnsupported, pine_script
from kestrel_strategies.registry import UnknownStrategyError, build, get, strategies
from kestrel_strategies.strategy import DECISION_COLUMNS, Decision, Strategy, StrategyDef, StrategyStream

__all__ = [
    "DECISION_COLUMNS",
    "Constraint",
    "Decision",
    "Param",
    "ParamSpace",
    "ParamValue",
    "ParameterError",
    "Params",
    "PineExportError",
    "PineUnsupported",
    "Strategy",
    "StrategyDef",
    "StrategyStream",
    "UnknownStrategyError",
    "build",
    "get",
    "pine_script",
    "strategies",
]

"""How a strategy's decision on one bar becomes a ``trading.signals`` message (live and backtest alike).

A signal goes out for every bar: BUY when the strategy turns long, SELL when it turns short (in a
long-only account risk reads SELL as "sell the long"), EXIT when it turns flat, HOLD otherwise (HOLD
still marks the symbol's price for risk). The event id depends only on the strategy with its
parameters and the source bar, so a replay — or a backtest of the same bars — repeats it, and so do
the client order id risk derives from it and the fill ids execution derives from that.
"""

from __future__ import annotations

from dataclasses import dataclass

from kestrel_contracts.events import derived_event_id
from kestrel_contracts.v1.signal_pb2 import (
    SIGNAL_ACTION_BUY,
    SIGNAL_ACTION_EXIT,
    SIGNAL_ACTION_HOLD,
    SIGNAL_ACTION_SELL,
    Signal,
    SignalAction,
)
from kestrel_strategies.strategy import Decision, Strategy


def signal_action(before: float, after: float) -> SignalAction:
    """The action that moves a position from direction ``before`` to ``after``."""
    if after == before:
        return SIGNAL_ACTION_HOLD
    if after > 0:
        return SIGNAL_ACTION_BUY
    if after < 0:
        return SIGNAL_ACTION_SELL
    return SIGNAL_ACTION_EXIT


@dataclass(frozen=True)
class SourceBar:
    """What a signal copies from the bar it was decided on."""

    event_id: str
    ts_event: int
    symbol: str
    venue: str
    timeframe: str
    close: str  # decimal text: the price risk sizes against


def strategy_signal(
    strategy: Strategy,
    bar: SourceBar,
    before: float,
    decision: Decision,
    *,
    ts_init: int,
    volatility: float = 0.0,
    source_feature_event_id: str = "",
) -> Signal:
    action = signal_action(before, decision.direction)
    return Signal(
        event_id=derived_event_id("strategy-signal", strategy.strategy_id, bar.event_id),
        ts_event=bar.ts_event,
        ts_init=ts_init,
        symbol=bar.symbol,
        venue=bar.venue,
        timeframe=bar.timeframe,
        strategy_id=strategy.strategy_id,
        action=action,
        confidence=1.0 if action != SIGNAL_ACTION_HOLD else 0.0,
        reference_price=bar.close,
        volatility=volatility,
        weight=decision.weight if action in (SIGNAL_ACTION_BUY, SIGNAL_ACTION_SELL) else 0.0,
        source_feature_event_id=source_feature_event_id,
        source_bar_event_id=bar.event_id,
    )

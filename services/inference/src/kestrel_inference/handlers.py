"""Input delivery -> Signal(s) on trading.signals, keyed by symbol, whatever the source.

The consumer runs each delivery inside a span continuing the input's trace, and the bus injects the
current trace context on publish, so the signal continues the bar's trace. The offset is committed
after the publish returned (at-least-once); a redelivered input gets the same signal id. An input
the source can never decide (a vector of another feature-set version, a malformed bar) raises a
PermanentError and goes to the DLQ with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass

from kestrel_contracts.registry import Channel
from kestrel_contracts.v1.signal_pb2 import SignalAction
from kestrel_inference.domain import Thresholds
from kestrel_inference.sources import NoModelError, SignalSource
from kestrel_messaging import Delivery, MessageBus
from kestrel_platform.logging import get_logger

__all__ = ["NoModelError", "SignalPolicy", "SignalsHandler"]
_log = get_logger("kestrel.inference.handler")


@dataclass(frozen=True, slots=True)
class SignalPolicy:
    thresholds: Thresholds
    strategy_id: str
    volatility_feature: str


class SignalsHandler:
    def __init__(self, source: SignalSource, bus: MessageBus, signals: Channel) -> None:
        self._source, self._bus, self._signals = source, bus, signals

    async def __call__(self, delivery: Delivery) -> None:
        for signal in await self._source.signals(delivery.message):
            await self._bus.publish(self._signals, signal, key=signal.symbol)
            _log.debug(
                "signal.published",
                symbol=signal.symbol,
                strategy_id=signal.strategy_id,
                action=SignalAction.Name(signal.action),
            )

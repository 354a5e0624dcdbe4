"""features.vectors delivery -> Signal on trading.signals, keyed by symbol.

The consumer runs each delivery inside a span continuing the vector's trace, and the bus injects the
current trace context on publish, so the signal continues the bar's trace. The offset is committed
after the publish returned (at-least-once); a redelivered vector gets the same signal id. A vector
the model cannot score (another feature-set version, missing or unknown features) raises a
PermanentError and goes to the DLQ with the reason, never scored.
"""

from __future__ import annotations

from dataclasses import dataclass

from kestrel_contracts.registry import Channel
from kestrel_contracts.v1.feature_vector_pb2 import FeatureVector
from kestrel_inference.domain import Thresholds, to_signal
from kestrel_inference.model_registry import ModelHolder
from kestrel_inference.scoring import score
from kestrel_messaging import Delivery, MessageBus, PermanentError
from kestrel_platform.logging import get_logger

_log = get_logger("kestrel.inference.handler")


@dataclass(frozen=True, slots=True)
class SignalPolicy:
    thresholds: Thresholds
    strategy_id: str
    volatility_feature: str


class NoModelError(RuntimeError):
    """Transient: the consumer only starts once a model is loaded, so this is a retry, not a loss."""


class SignalsHandler:
    def __init__(self, holder: ModelHolder, bus: MessageBus, signals: Channel, policy: SignalPolicy) -> None:
        self._holder, self._bus, self._signals, self._policy = holder, bus, signals, policy

    async def __call__(self, delivery: Delivery) -> None:
        vector = delivery.message
        if not isinstance(vector, FeatureVector):
            raise PermanentError(f"expected a FeatureVector, got {type(vector).__name__}")
        model = self._holder.current  # one read: the whole vector is scored by this one model
        if model is None:
            raise NoModelError(f"no model loaded from {self._holder.uri}")
        prediction = score(model, vector.values, vector.feature_set_version, self._policy.thresholds)
        signal = to_signal(
            vector,
            model,
            prediction.p_up,
            self._policy.thresholds,
            strategy_id=self._policy.strategy_id,
            volatility_feature=self._policy.volatility_feature,
        )
        await self._bus.publish(self._signals, signal, key=vector.symbol)
        _log.debug(
            "signal.published",
            symbol=vector.symbol,
            action=prediction.action_name,
            p_up=prediction.p_up,
            model_version=model.version,
        )

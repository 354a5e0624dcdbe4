"""Signal sources: what the signal service serves. A registered model and a catalogue strategy are
two implementations of one interface, chosen by configuration (``KESTREL_SIGNAL_SOURCE``); the
consumer, the HTTP server and the handler never ask which one they have.

- ``ModelSignalSource`` scores ``features.vectors`` with the model an MLflow alias points to.
- ``StrategySignalSource`` (``strategy_source``) runs a ``kestrel_strategies`` rule on
  ``market.bars``, exactly as the backtester's exact mode does.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Protocol

from aiohttp import web
from google.protobuf.message import Message

from kestrel_contracts.v1.feature_vector_pb2 import FeatureVector
from kestrel_contracts.v1.signal_pb2 import Signal
from kestrel_inference.domain import Thresholds, to_signal
from kestrel_inference.http_api import models_route, predict_route
from kestrel_inference.model_registry import ModelHolder
from kestrel_inference.scoring import score
from kestrel_inference.vector_window import VectorWindows
from kestrel_messaging import PermanentError
from kestrel_platform.health import ReadinessCheck
from kestrel_platform.logging import get_logger
from kestrel_platform.model_catalogue import ModelCatalogue

_log = get_logger("kestrel.inference.source")


class SignalSource(Protocol):
    """Turns messages of ``input_channel`` into signals for ``trading.signals``."""

    input_channel: str  # registry name of the channel the source reads

    def readiness(self) -> Mapping[str, ReadinessCheck]: ...

    def routes(self) -> Sequence[web.RouteDef]: ...

    async def run(self, stop: asyncio.Event) -> None:
        """Background work until ``stop`` (the model source polls its alias)."""

    async def ready(self, stop: asyncio.Event) -> bool:
        """Wait until the source can decide; False when ``stop`` came first."""

    async def signals(self, message: Message) -> Sequence[Signal]:
        """The signals of one input message (PermanentError: it can never be decided)."""


class NoModelError(RuntimeError):
    """Transient: the consumer only starts once a model is loaded, so this is a retry, not a loss."""


class ModelSignalSource:
    input_channel = "features.vectors"

    def __init__(
        self,
        holder: ModelHolder,
        thresholds: Thresholds,
        strategy_id: str,
        volatility_feature: str,
        *,
        reload_interval_s: float = 30.0,
        windows: VectorWindows | None = None,
        catalogue: ModelCatalogue | None = None,
    ) -> None:
        self.holder, self.thresholds, self._windows = holder, thresholds, windows
        self._catalogue = catalogue
        self._strategy_id, self._volatility, self._interval = (
            strategy_id,
            volatility_feature,
            reload_interval_s,
        )

    def readiness(self) -> Mapping[str, ReadinessCheck]:
        return {"model": self.holder.readiness}

    def routes(self) -> Sequence[web.RouteDef]:
        routes = [web.post("/predict", predict_route(self.holder, self.thresholds))]
        if self._catalogue is not None:
            routes.append(web.get("/models", models_route(self._catalogue, self.holder)))
        return routes

    async def run(self, stop: asyncio.Event) -> None:
        await self.holder.run(stop, self._interval)

    async def ready(self, stop: asyncio.Event) -> bool:
        return await self.holder.wait_loaded(stop) is not None

    async def signals(self, message: Message) -> Sequence[Signal]:
        if not isinstance(message, FeatureVector):
            raise PermanentError(f"expected a FeatureVector, got {type(message).__name__}")
        model = self.holder.current  # one read: the whole vector is scored by this one model
        if model is None:
            raise NoModelError(f"no model loaded from {self.holder.uri}")
        history: list[Mapping[str, float]] = []
        if model.window > 1:  # a sequence model: the symbol's vectors before this one
            if self._windows is None:
                raise PermanentError(f"model {model.label} needs a window of vectors and no store is set")
            history = await self._windows.before(message, model.window - 1)
        prediction = score(model, message.values, message.feature_set_version, self.thresholds, history)
        if self._windows is not None:
            self._windows.remember(message)
        _log.debug("vector.scored", symbol=message.symbol, p_up=prediction.p_up, model_version=model.version)
        signal = to_signal(
            message,
            model,
            prediction.p_up,
            self.thresholds,
            strategy_id=self._strategy_id,
            volatility_feature=self._volatility,
        )
        return [signal]

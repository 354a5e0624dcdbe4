"""A catalogue strategy served live: ``market.bars`` in, one signal per bar out, exactly as the
backtester's exact mode decides (the same streaming evaluator, ``kestrel_strategies.signals`` and
event ids), so a replay through the live loop and a backtest of the same bars trade alike.

A symbol's stream is warmed up from the store the first time this process sees the symbol: every
stored bar before it is fed through the rule (decisions discarded), so the position the rule holds
— path-dependent for entry/exit rules — is the one it held before a restart. A bar redelivered after
its signal went out gets the same signal again (from a small cache; its id is derived from the bar
anyway), never a second decision. A strategy that reads a reference symbol gets that symbol's close
at each bar's open time from ``reference_feed`` (the reference's own bars are not traded).
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

import asyncpg
from aiohttp import web
from google.protobuf.message import Message

from kestrel_contracts.events import datetime_to_ns, ns_to_datetime
from kestrel_contracts.v1.bar_pb2 import Bar
from kestrel_contracts.v1.signal_pb2 import Signal
from kestrel_inference.reference_feed import ReferenceFeed
from kestrel_messaging import PermanentError
from kestrel_platform.health import ReadinessCheck
from kestrel_platform.logging import get_logger
from kestrel_store.bars import fetch_bars
from kestrel_strategies import Strategy, StrategyStream
from kestrel_strategies.signals import SourceBar, strategy_signal

_log = get_logger("kestrel.inference.strategy")
# (ts_open_ns, open, high, low, close, volume) of one stored bar, as floats (indicators are floats).
HistoryBar = tuple[int, float, float, float, float, float]
# Stored bars of (symbol, timeframe) opening before ts_open_ns, oldest first.
History = Callable[[str, str, int], Awaitable[Sequence[HistoryBar]]]
_CACHE = 64  # signals kept per symbol for redelivered bars (a consumer batch is far smaller)


class UnservableStrategyError(ValueError):
    """The strategy needs what the live loop does not give it yet; the message says what."""


@dataclass
class _SymbolState:
    stream: StrategyStream
    last_open_ns: int = -1
    recent: OrderedDict[str, Signal] = field(default_factory=OrderedDict)


def _floats(bar: Bar) -> tuple[float, float, float, float, float]:
    try:
        values = tuple(float(Decimal(x)) for x in (bar.open, bar.high, bar.low, bar.close, bar.volume))
    except (InvalidOperation, ValueError):
        raise PermanentError(
            f"bar {bar.event_id} of {bar.symbol} has a non-decimal price or volume"
        ) from None
    o, h, lo, c, v = values
    return o, h, lo, c, v


class StrategySignalSource:
    input_channel = "market.bars"

    def __init__(
        self,
        strategy: Strategy,
        *,
        timeframe: str,
        long_only: bool,
        history: History,
        reference: ReferenceFeed | None = None,
    ) -> None:
        if strategy.needs_reference and reference is None:
            raise UnservableStrategyError(
                f"{strategy.name} reads a reference symbol: set KESTREL_STRATEGY_REFERENCE_SYMBOL"
            )
        if strategy.definition.inputs:
            raise UnservableStrategyError(
                f"{strategy.name} reads {', '.join(strategy.definition.inputs)} from a model: serve the "
                "model itself (KESTREL_SIGNAL_SOURCE=model)"
            )
        self.strategy, self.timeframe, self.long_only, self._history = strategy, timeframe, long_only, history
        self._reference = reference if strategy.needs_reference else None
        self._symbols: dict[str, _SymbolState] = {}

    def readiness(self) -> Mapping[str, ReadinessCheck]:
        return {}

    def routes(self) -> Sequence[web.RouteDef]:
        async def describe(_request: web.Request) -> web.Response:
            body = {
                "strategy_id": self.strategy.strategy_id,
                "strategy": self.strategy.definition.describe(),
                "parameters": dict(self.strategy.params),
                "timeframe": self.timeframe,
                "long_only": self.long_only,
                "reference_symbol": self._reference.symbol if self._reference is not None else None,
                "symbols": sorted(self._symbols),
            }
            return web.json_response(body)

        return [web.get("/strategy", describe)]

    async def run(self, stop: asyncio.Event) -> None:
        await stop.wait()  # nothing to poll: the strategy is fixed by configuration

    async def ready(self, stop: asyncio.Event) -> bool:
        return not stop.is_set()

    async def signals(self, message: Message) -> Sequence[Signal]:
        if not isinstance(message, Bar):
            raise PermanentError(f"expected a Bar, got {type(message).__name__}")
        if message.timeframe != self.timeframe:
            return []  # another timeframe's bars share the topic; this strategy trades one
        if self._reference is not None and message.symbol == self._reference.symbol:
            return []  # the reference is read, not traded
        o, h, lo, c, v = _floats(message)
        state = self._symbols.get(message.symbol) or await self._warm(message.symbol, message.ts_open)
        if message.ts_open <= state.last_open_ns:  # redelivered: the signal it already had, or none
            cached = state.recent.get(message.event_id)
            if cached is None:
                _log.warning("bar.too_old", symbol=message.symbol, ts_open=message.ts_open)
            return [cached] if cached is not None else []
        before = state.stream.direction
        ref = await self._reference.close_at(self.timeframe, message.ts_open) if self._reference else None
        decision = state.stream.update(message.ts_open, o, h, lo, c, v, ref)
        state.last_open_ns = message.ts_open
        source = SourceBar(
            message.event_id,
            message.ts_event,
            message.symbol,
            message.venue,
            message.timeframe,
            message.close,
        )
        signal = strategy_signal(self.strategy, source, before, decision, ts_init=time.time_ns())
        state.recent[message.event_id] = signal
        if len(state.recent) > _CACHE:
            state.recent.popitem(last=False)
        return [signal]

    async def _warm(self, symbol: str, ts_open_ns: int) -> _SymbolState:
        state = _SymbolState(self.strategy.stream(long_only=self.long_only))
        history = await self._history(symbol, self.timeframe, ts_open_ns)
        refs: Mapping[int, float] = {}
        if self._reference is not None and history:
            refs = await self._reference.history(self.timeframe, history[0][0], ts_open_ns)
        for ts, o, h, lo, c, v in history:
            state.stream.update(ts, o, h, lo, c, v, refs.get(ts))
            state.last_open_ns = ts
        # Redeliveries older than the warm-up have no cached signal; they were decided before.
        self._symbols[symbol] = state
        _log.info("strategy.warmed", symbol=symbol, bars=len(history), direction=state.stream.direction)
        return state


def store_history(pool: asyncpg.Pool, max_bars: int) -> History:
    """The warm-up history from ``market.bars``: the newest ``max_bars`` bars before the given one."""

    async def history(symbol: str, timeframe: str, ts_open_ns: int) -> Sequence[HistoryBar]:
        end = ns_to_datetime(ts_open_ns)
        rows = await fetch_bars(pool, symbol, timeframe, end=end, limit=max_bars, newest=True)
        return [
            (
                datetime_to_ns(b.ts),
                float(b.open),
                float(b.high),
                float(b.low),
                float(b.close),
                float(b.volume),
            )
            for b in rows
        ]

    return history

"""The fake Binance's `<symbol>@trade` streams: a scripted list of trades played to subscribers.

Same WebSocket behaviour as the kline feed (raw and combined streams, pings, SUBSCRIBE, the
drop-after-K fault), with one difference a test relies on: while nobody is subscribed (between a cut
and the client's reconnect) the player waits instead of playing into the void, unless a scripted
outage is running, so a test knows exactly which trades a reconnecting client can see. A script entry
that is a `str` is sent verbatim (for malformed-message tests).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from kestrel_testing.fake_binance_data import LiveUpdate
from kestrel_testing.fake_binance_ws import KlineFeed


@dataclass(frozen=True, slots=True)
class FakeTrade:
    symbol: str  # "BTCUSDT"
    trade_id: int
    price: str
    quantity: str
    trade_time_ms: int
    buyer_is_maker: bool


def trade_event(trade: FakeTrade, event_time_ms: int | None = None) -> dict[str, Any]:
    """The documented trade stream payload."""
    return {
        "e": "trade",
        "E": event_time_ms if event_time_ms is not None else trade.trade_time_ms,
        "s": trade.symbol,
        "t": trade.trade_id,
        "p": trade.price,
        "q": trade.quantity,
        "T": trade.trade_time_ms,
        "m": trade.buyer_is_maker,
        "M": True,
    }


def is_trade_stream(name: str) -> bool:
    symbol, sep, rest = name.partition("@trade")
    return bool(sep) and not rest and symbol == symbol.lower() and symbol.isalnum()


def _ignore(update: LiveUpdate) -> None:
    pass


class TradeFeed(KlineFeed):
    def __init__(self, ping_interval_s: float) -> None:
        super().__init__("1m", _ignore, ping_interval_s)
        self._trades: list[FakeTrade | str] = []

    def set_trades(self, trades: Sequence[FakeTrade | str], step_s: float, autostart: bool) -> None:
        self._trades = list(trades)
        self.set_script([], step_s, autostart)

    def _is_stream(self, name: str) -> bool:
        return is_trade_stream(name)

    def _has_script(self) -> bool:
        return bool(self._trades)

    async def _play(self) -> None:
        for entry in self._trades:
            await asyncio.sleep(self._step_s)
            # Polling: subscribers come and go inside the shared handler, which signals nothing.
            while not self._subscribers and not self._in_outage():  # noqa: ASYNC110
                await asyncio.sleep(0.005)
            if isinstance(entry, str):
                stream, text = None, entry
            else:
                stream, text = f"{entry.symbol.lower()}@trade", ""
            for subscriber in list(self._subscribers):
                if stream is None:
                    subscriber.queue.put_nowait(text)
                elif stream in subscriber.streams:
                    assert isinstance(entry, FakeTrade)
                    payload = trade_event(entry)
                    data = {"stream": stream, "data": payload} if subscriber.combined else payload
                    subscriber.queue.put_nowait(json.dumps(data))
            self._played += 1
        self.finished.set()

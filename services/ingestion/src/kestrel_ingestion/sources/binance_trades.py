"""Binance spot trades, live, from the documented `<symbol>@trade` streams (one combined socket).

Each trade event carries `s` symbol, `t` trade id, `p` price and `q` quantity (decimal text, parsed
into Decimal, never through float), `T` trade time (ms) and `m` "is the buyer the market maker?". The
taker (aggressor) is the other party: m=true means a taker SOLD into a resting bid, m=false that a
taker BOUGHT.

Reconnects like the kline source (same connection helper, same exponential backoff). Binance trade
ids increase per symbol, so the highest id yielded per symbol is the dedupe cursor: a trade seen again
after a reconnect is dropped. Trades printed while the socket was down are NOT backfilled (REST
aggTrades/historicalTrades gap fill is not implemented): the stats count reconnects so a consumer
can tell.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

import aiohttp

from kestrel_ingestion.domain import UnreadableRow
from kestrel_ingestion.sources.binance_config import (
    BinanceApiError,
    BinanceConfig,
    UnknownSymbolError,
)
from kestrel_ingestion.sources.binance_klines import (
    NS_PER_MS,
    VENUE,
    BinanceMarket,
    exchange_symbol_of,
    markets_from_exchange_info,
)
from kestrel_ingestion.sources.binance_rest import BinanceRestClient, RestStats, Sleep
from kestrel_ingestion.sources.binance_ws import (
    combined_stream_url,
    reconnecting_stream,
)
from kestrel_platform.logging import get_logger

__all__ = ["BinanceTradeSource", "RawTrade", "TradeSourceStats", "trade_from_event"]

log = get_logger(__name__)

TakerSide = Literal["BUY", "SELL"]


@dataclass(frozen=True, slots=True)
class RawTrade:
    """One trade print as the venue reported it."""

    symbol: str  # unified, "BTC/USDT"
    trade_id: str
    ts: int  # trade time, ns since epoch
    price: Decimal
    quantity: Decimal
    side: TakerSide  # the taker's (aggressor's) side
    venue: str = VENUE


@dataclass(slots=True)
class TradeSourceStats:
    rest: RestStats = field(default_factory=RestStats)
    reconnects: int = 0
    unreadable: int = 0
    duplicates: int = 0


class _UnreadableError(Exception):
    pass


def _text_decimal(value: Any, what: str) -> Decimal:
    # Binance sends prices and quantities as JSON strings; anything else means the format changed.
    if not isinstance(value, str):
        raise _UnreadableError(f"{what} is {value!r}, not decimal text")
    try:
        number = Decimal(value)
    except ArithmeticError:
        raise _UnreadableError(f"{what} is {value!r}, not a decimal") from None
    if not number.is_finite() or number <= 0:
        raise _UnreadableError(f"{what} is {value!r}, not a positive decimal")
    return number


def _int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _UnreadableError(f"{what} is {value!r}, not an integer")
    return value


def trade_from_event(markets: dict[str, BinanceMarket], text: str) -> RawTrade | UnreadableRow | None:
    """A WebSocket message: a RawTrade for a trade event, None for a control answer
    (`{"result": ..., "id": ...}`), UnreadableRow for anything else."""
    try:
        message = json.loads(text)
    except ValueError:
        return UnreadableRow(location="binance ws trades", reason="not JSON", raw=text[:500])
    if isinstance(message, dict) and "id" in message and ("result" in message or "error" in message):
        return None
    stream = message.get("stream", "?") if isinstance(message, dict) else "?"
    payload = message.get("data", message) if isinstance(message, dict) else message
    try:
        if not isinstance(payload, dict) or payload.get("e") != "trade":
            raise _UnreadableError("not a trade event")
        market = markets.get(str(payload.get("s")))
        if market is None:
            raise _UnreadableError(f"trade of unrequested symbol {payload.get('s')!r}")
        buyer_is_maker = payload.get("m")
        if not isinstance(buyer_is_maker, bool):
            raise _UnreadableError(f"buyer-is-maker flag m is {buyer_is_maker!r}")
        return RawTrade(
            symbol=market.unified_symbol,
            trade_id=str(_int(payload.get("t"), "trade id")),
            ts=_int(payload.get("T"), "trade time") * NS_PER_MS,
            price=_text_decimal(payload.get("p"), "price"),
            quantity=_text_decimal(payload.get("q"), "quantity"),
            side="SELL" if buyer_is_maker else "BUY",
        )
    except _UnreadableError as exc:
        return UnreadableRow(location=f"binance ws {stream}", reason=str(exc), raw=text[:500])


class BinanceTradeSource:
    """Live trades of `symbols` ("BTC/USDT" or "BTCUSDT") until the consumer stops iterating."""

    name = "binance-trades"

    def __init__(
        self,
        symbols: Sequence[str],
        *,
        config: BinanceConfig | None = None,
        session: aiohttp.ClientSession | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if not symbols:
            raise ValueError("BinanceTradeSource needs at least one symbol")
        self._symbols = list(dict.fromkeys(symbols))
        self._config = config or BinanceConfig()
        self._session = session
        self._sleep = sleep
        self.stats = TradeSourceStats()

    async def trades(self) -> AsyncGenerator[RawTrade | UnreadableRow, None]:
        """A generator: `aclose()` it (or use contextlib.aclosing) to stop it promptly."""
        async with contextlib.AsyncExitStack() as stack:
            session = self._session
            if session is None:
                session = await stack.enter_async_context(aiohttp.ClientSession())
            client = BinanceRestClient(session, self._config, sleep=self._sleep, stats=self.stats.rest)
            markets = await self._resolve(client)
            items = self._follow(session, markets)
            async with contextlib.aclosing(items):
                async for item in items:
                    if isinstance(item, UnreadableRow):
                        self.stats.unreadable += 1
                    yield item

    async def _resolve(self, client: BinanceRestClient) -> list[BinanceMarket]:
        wanted = [exchange_symbol_of(s) for s in self._symbols]
        try:
            info = await client.exchange_info(list(dict.fromkeys(wanted)))
            return list(
                {m.exchange_symbol: m for m in markets_from_exchange_info(self._symbols, info)}.values()
            )
        except BinanceApiError as exc:
            raise UnknownSymbolError(f"Binance does not list all of {self._symbols}: {exc.msg}") from exc
        except (KeyError, ValueError) as exc:
            raise UnknownSymbolError(f"Binance exchangeInfo does not confirm {self._symbols}: {exc}") from exc

    async def _follow(
        self, session: aiohttp.ClientSession, markets: list[BinanceMarket]
    ) -> AsyncGenerator[RawTrade | UnreadableRow, None]:
        by_exchange = {m.exchange_symbol: m for m in markets}
        url = combined_stream_url(self._config.ws_url, [f"{m.stream_symbol}@trade" for m in markets])
        last_id: dict[str, int] = {}  # unified symbol -> highest trade id yielded
        connections = reconnecting_stream(
            session,
            url,
            self._config,
            sleep=self._sleep,
            what="trade WebSocket",
            on_reconnect=self._count_reconnect,
        )
        async with contextlib.aclosing(connections):
            async for connection in connections:
                async for text in connection.messages():
                    item = trade_from_event(by_exchange, text)
                    if item is None:
                        continue
                    if isinstance(item, RawTrade):
                        trade_id = int(item.trade_id)
                        if trade_id <= last_id.get(item.symbol, -1):
                            self.stats.duplicates += 1
                            continue
                        last_id[item.symbol] = trade_id
                    yield item

    def _count_reconnect(self) -> None:
        self.stats.reconnects += 1

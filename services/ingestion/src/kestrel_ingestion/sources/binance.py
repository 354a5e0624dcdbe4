"""Binance spot klines as a BarSource: REST backfill, then (optionally) the live WebSocket feed.

Only closed bars are yielded. Over REST a kline is closed when its close time is past the server's
time (asked from /api/v3/time, so a skewed local clock cannot let an open bar through); over the
WebSocket when the event says `x: true`. Each symbol's bars come oldest first, never twice: a cursor
per symbol (the open time of the last bar yielded) drops anything at or before it.

Live mode, for every connection (the first and each reconnect after a drop, with exponential
backoff): connect the combined stream first, then backfill over REST from each symbol's cursor to the
server's now, then yield the stream's closed klines. Whatever closed before the connection opened
comes from REST, whatever closes after it comes over the socket (queued meanwhile), and the cursor
drops the overlap, so a drop loses and duplicates nothing.

Symbols: "BTC/USDT" and "BTCUSDT" are both accepted; bars carry the unified "BTC/USDT" (the contracts'
convention) and venue "BINANCE".

Why not ccxt: it parses kline prices into binary floats (Kestrel parses the exchange's decimal text
into Decimal), its `watch_ohlcv` drops Binance's kline-closed flag `x` (ccxt issue #21885), and it
paces requests with its own fixed client-side rate instead of honouring `Retry-After` and the
`X-MBX-USED-WEIGHT-1M` header. The documented API is small, so this talks to it directly on aiohttp.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import AsyncGenerator, Mapping, Sequence
from dataclasses import dataclass, field

import aiohttp

from kestrel_ingestion.domain import RawBar, UnreadableRow, timeframe_ns
from kestrel_ingestion.sources.binance_config import (
    BinanceApiError,
    BinanceConfig,
    BinanceError,
    UnknownSymbolError,
)
from kestrel_ingestion.sources.binance_klines import (
    NS_PER_MS,
    BinanceMarket,
    bar_from_event,
    bar_from_row,
    exchange_symbol_of,
    markets_from_exchange_info,
    open_time_of_row,
)
from kestrel_ingestion.sources.binance_rest import BinanceRestClient, Clock, RestStats, Sleep
from kestrel_ingestion.sources.binance_ws import (
    combined_stream_url,
    reconnecting_stream,
)

__all__ = ["BinanceConfig", "BinanceError", "BinanceSource", "BinanceSourceStats", "UnknownSymbolError"]


_EXCHANGE_SYMBOL = re.compile(r"[A-Z0-9\-_.]{1,20}")
Item = RawBar | UnreadableRow


@dataclass(slots=True)
class BinanceSourceStats:
    rest: RestStats = field(default_factory=RestStats)
    reconnects: int = 0
    unreadable: int = 0


class BinanceSource:
    """Closed klines of `symbols` at `timeframe` ("1m", "1h", ...).

    `since_ns`: exclusive start, bars with ts_open > since_ns: one value for all symbols, or one per
    symbol (keys in either symbol form), as computed from the last stored bar. Unset: from the first
    bar Binance has (backfill), or from the bar open now (live).
    `until_ns`: exclusive end of a backfill (bars with ts_open < until_ns); unset: up to now.
    `live`: after the backfill, follow the WebSocket feed until the consumer stops iterating.
    """

    name = "binance"

    def __init__(
        self,
        symbols: Sequence[str],
        timeframe: str = "1m",
        *,
        since_ns: int | Mapping[str, int] | None = None,
        until_ns: int | None = None,
        live: bool = False,
        config: BinanceConfig | None = None,
        session: aiohttp.ClientSession | None = None,
        clock: Clock = time.time,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if not symbols:
            raise ValueError("BinanceSource needs at least one symbol")
        if live and until_ns is not None:
            raise ValueError("until_ns ends a backfill; a live source runs until it is stopped")
        self._step_ms = timeframe_ns(timeframe) // NS_PER_MS
        # One spelling per Binance symbol: "BTC/USDT" and "BTCUSDT" asked together are one market.
        self._symbols = list({exchange_symbol_of(s): s for s in reversed(symbols)}.values())[::-1]
        self._timeframe = timeframe
        self._since = since_ns
        self._until_ms = None if until_ns is None else -(-until_ns // NS_PER_MS) - 1
        self._live = live
        self._config = config or BinanceConfig()
        self._session = session
        self._clock = clock
        self._sleep = sleep
        self.stats = BinanceSourceStats()

    async def bars(self) -> AsyncGenerator[RawBar | UnreadableRow, None]:
        """A generator: `aclose()` it (or use contextlib.aclosing) to stop a live source promptly."""
        async with contextlib.AsyncExitStack() as stack:
            session = self._session
            if session is None:
                session = await stack.enter_async_context(aiohttp.ClientSession())
            client = BinanceRestClient(
                session, self._config, clock=self._clock, sleep=self._sleep, stats=self.stats.rest
            )
            markets = await self._resolve(client)
            cursors = {m.exchange_symbol: self._start_after_ms(m) for m in markets}
            if self._live:
                items = self._follow(session, client, markets, cursors)
            else:
                items = self._backfill_all(client, markets, cursors)
            # aclosing: a live follower owns a WebSocket, closed before the session it runs on.
            async with contextlib.aclosing(items):
                async for item in items:
                    if isinstance(item, UnreadableRow):
                        self.stats.unreadable += 1
                    yield item

    # -- symbols and cursors ------------------------------------------------------------------------

    async def _resolve(self, client: BinanceRestClient) -> list[BinanceMarket]:
        malformed = [s for s in self._symbols if not _EXCHANGE_SYMBOL.fullmatch(exchange_symbol_of(s))]
        if malformed:
            raise UnknownSymbolError(f"not a Binance spot symbol: {', '.join(map(repr, malformed))}")
        try:
            info = await client.exchange_info([exchange_symbol_of(s) for s in self._symbols])
        except BinanceApiError as exc:
            if exc.code != -1121:
                raise
            unknown = [s for s in self._symbols if not await _is_listed(client, s)] or self._symbols
            raise UnknownSymbolError(
                f"Binance spot does not list {', '.join(map(repr, unknown))} ({exc.code}: {exc.msg})"
            ) from exc
        try:
            return markets_from_exchange_info(self._symbols, info)
        except (KeyError, ValueError) as exc:
            raise UnknownSymbolError(f"Binance exchangeInfo does not confirm {self._symbols}: {exc}") from exc

    def _start_after_ms(self, market: BinanceMarket) -> int | None:
        since = self._since
        if isinstance(since, Mapping):
            per_symbol = {exchange_symbol_of(k): v for k, v in since.items()}
            since = per_symbol.get(market.exchange_symbol)
        if since is None:
            return None
        return since // NS_PER_MS  # bars open on whole milliseconds: ts_open > since <=> open_ms > this

    # -- REST ----------------------------------------------------------------------------------------

    async def _backfill_all(
        self, client: BinanceRestClient, markets: list[BinanceMarket], cursors: dict[str, int | None]
    ) -> AsyncGenerator[Item, None]:
        now_ms = await client.server_time_ms()
        end_ms = now_ms if self._until_ms is None else min(now_ms, self._until_ms)
        for market in markets:
            async for item in self._backfill(client, market, cursors, end_ms, now_ms):
                yield item

    async def _backfill(
        self,
        client: BinanceRestClient,
        market: BinanceMarket,
        cursors: dict[str, int | None],
        end_ms: int,
        now_ms: int,
    ) -> AsyncGenerator[Item, None]:
        """Closed klines of `market` opening after its cursor and no later than `end_ms`, page by page."""
        symbol = market.exchange_symbol
        cursor = cursors[symbol]
        start_ms = 0 if cursor is None else cursor + 1
        while start_ms <= end_ms:
            rows = await client.klines(symbol, self._timeframe, start_ms, end_ms)
            latest: int | None = None
            for row in rows:
                open_ms = open_time_of_row(row)
                if open_ms is not None:
                    cursor = cursors[symbol]
                    if (cursor is not None and open_ms <= cursor) or open_ms > end_ms:
                        continue
                    if open_ms + self._step_ms > now_ms:
                        return  # still open: no later kline can be closed either
                    latest = open_ms
                item = bar_from_row(market, self._timeframe, row)
                if isinstance(item, RawBar):
                    cursors[symbol] = open_ms
                yield item
            if len(rows) < self._config.page_limit:
                return
            if latest is None:
                raise BinanceError(
                    f"cannot page on: a full page of {symbol} klines has no readable open time"
                )
            if latest + 2 * self._step_ms > now_ms:
                return  # the next kline is not closed yet: no need to ask
            start_ms = latest + 1

    # -- WebSocket -----------------------------------------------------------------------------------

    async def _follow(
        self,
        session: aiohttp.ClientSession,
        client: BinanceRestClient,
        markets: list[BinanceMarket],
        cursors: dict[str, int | None],
    ) -> AsyncGenerator[Item, None]:
        by_exchange = {m.exchange_symbol: m for m in markets}
        by_unified = {m.unified_symbol: m.exchange_symbol for m in markets}
        streams = [f"{m.stream_symbol}@kline_{self._timeframe}" for m in markets]
        url = combined_stream_url(self._config.ws_url, streams)
        connections = reconnecting_stream(
            session,
            url,
            self._config,
            sleep=self._sleep,
            what="WebSocket",
            on_reconnect=self._count_reconnect,
        )
        async with contextlib.aclosing(connections):
            async for connection in connections:
                async for item in self._fill_gap(client, markets, cursors):
                    yield item
                async for text in connection.messages():
                    event = bar_from_event(by_exchange, self._timeframe, text)
                    if event is None or (isinstance(event, RawBar) and not event.closed):
                        continue
                    if isinstance(event, RawBar):
                        symbol, open_ms = by_unified[event.symbol], event.ts_open // NS_PER_MS
                        cursor = cursors[symbol]
                        if cursor is not None and open_ms <= cursor:
                            continue  # the REST gap fill already yielded it
                        cursors[symbol] = open_ms
                    yield event

    def _count_reconnect(self) -> None:
        self.stats.reconnects += 1

    async def _fill_gap(
        self, client: BinanceRestClient, markets: list[BinanceMarket], cursors: dict[str, int | None]
    ) -> AsyncGenerator[Item, None]:
        now_ms = await client.server_time_ms()
        for market in markets:
            if cursors[market.exchange_symbol] is None:
                # Nothing asked for before now: start with the bar that is open now.
                cursors[market.exchange_symbol] = now_ms // self._step_ms * self._step_ms - 1
            async for item in self._backfill(client, market, cursors, now_ms, now_ms):
                yield item


async def _is_listed(client: BinanceRestClient, symbol: str) -> bool:
    try:
        await client.exchange_info([exchange_symbol_of(symbol)])
    except BinanceApiError as exc:
        if exc.code == -1121:
            return False
        raise
    return True

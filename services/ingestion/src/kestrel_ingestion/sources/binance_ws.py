"""One connection to Binance's combined kline stream.

A reader task drains the socket the whole time the connection is open, so Binance's pings (every
20 s; no pong within a minute means disconnection) are answered even while the source is busy
backfilling a gap over REST; the messages wait in a queue until the source takes them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Sequence

import aiohttp

from kestrel_ingestion.sources.binance_config import BinanceConfig, BinanceUnavailableError
from kestrel_platform.logging import get_logger

log = get_logger(__name__)


def combined_stream_url(ws_url: str, streams: Sequence[str]) -> str:
    """`/stream?streams=a/b/c`: events arrive wrapped as {"stream": name, "data": payload}."""
    return f"{ws_url}/stream?streams={'/'.join(streams)}"


async def pause_before_reconnect(
    config: BinanceConfig, sleep: Callable[[float], Awaitable[None]], failures: int, reason: str, what: str
) -> None:
    """Exponential backoff before reconnecting after `failures` failures in a row; raises
    BinanceUnavailableError once `config.max_reconnect_attempts` is exceeded."""
    limit = config.max_reconnect_attempts
    if limit is not None and failures > limit:
        raise BinanceUnavailableError(f"Binance {what} failed {failures} times in a row; last: {reason}")
    delay = min(config.reconnect_max_s, config.reconnect_initial_s * 2 ** (failures - 1))
    log.warning("binance.ws_reconnect", stream=what, reason=reason, attempt=failures, delay_s=delay)
    await sleep(delay)


class KlineStreamConnection:
    """`await conn.open()`, then `async for text in conn.messages()`, and `await conn.close()` at the end.

    Opening raises aiohttp.ClientError (or TimeoutError) when the handshake fails. `messages()` ends
    when the connection drops, closes, or stays silent (no frame, not even a ping) for `idle_timeout_s`.
    """

    def __init__(
        self, session: aiohttp.ClientSession, url: str, idle_timeout_s: float, connect_timeout_s: float
    ):
        self._session = session
        self._url = url
        self._idle_timeout_s = idle_timeout_s
        self._connect_timeout_s = connect_timeout_s
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._queue: asyncio.Queue[str | None] = asyncio.Queue()
        self._reader: asyncio.Task[None] | None = None
        self.close_reason = ""
        self.received = 0  # messages handed out by `messages()`

    async def open(self) -> None:
        async with asyncio.timeout(self._connect_timeout_s):
            self._ws = await self._session.ws_connect(
                self._url,
                autoping=True,  # pongs carry the ping's payload, as Binance requires
                timeout=aiohttp.ClientWSTimeout(ws_close=5.0),
            )
        self._reader = asyncio.create_task(self._read(self._ws))

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        if self._ws is not None:
            await self._ws.close()

    async def messages(self) -> AsyncIterator[str]:
        while True:
            text = await self._queue.get()
            if text is None:
                return
            self.received += 1
            yield text

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        try:
            while True:
                message = await ws.receive(timeout=self._idle_timeout_s)
                if message.type == aiohttp.WSMsgType.TEXT:
                    self._queue.put_nowait(message.data)
                elif message.type in (
                    aiohttp.WSMsgType.CLOSE,
                    aiohttp.WSMsgType.CLOSING,
                    aiohttp.WSMsgType.CLOSED,
                ):
                    self.close_reason = f"closed by the server (code {ws.close_code})"
                    return
                elif message.type == aiohttp.WSMsgType.ERROR:
                    self.close_reason = f"error: {ws.exception()!r}"
                    return
        except TimeoutError:
            self.close_reason = f"silent for {self._idle_timeout_s} s"
        finally:
            self._queue.put_nowait(None)


async def reconnecting_stream(
    session: aiohttp.ClientSession,
    url: str,
    config: BinanceConfig,
    *,
    sleep: Callable[[float], Awaitable[None]],
    what: str,
    on_reconnect: Callable[[], None],
) -> AsyncGenerator[KlineStreamConnection, None]:
    """Open connections to `url` one after another, forever, with backoff between failures.

    The caller reads each yielded connection's `messages()` until they end; the connection is then
    closed and, after a pause, the next one is yielded. A connection that delivered any message
    resets the backoff. Use it inside `contextlib.aclosing` so the socket closes with the caller.
    """
    failures = 0
    while True:
        connection = KlineStreamConnection(session, url, config.ws_idle_timeout_s, config.request_timeout_s)
        try:
            await connection.open()
        except (aiohttp.ClientError, TimeoutError) as exc:
            failures += 1
            await pause_before_reconnect(config, sleep, failures, f"connect failed: {exc!r}", what)
            continue
        try:
            yield connection
        finally:
            await connection.close()
        on_reconnect()
        failures = 1 if connection.received else failures + 1
        await pause_before_reconnect(config, sleep, failures, connection.close_reason or "stream ended", what)

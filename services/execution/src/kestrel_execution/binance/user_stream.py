"""The user data stream over Binance's WebSocket API: subscribe with a signature, read events,
reconnect with backoff, and catch up by REST on every (re)connect.

The catch-up runs after the subscription is confirmed, so nothing falls between the two: an event
missed while the socket was down is in the REST answer, an event after the subscription is on the
socket (maybe both: applying is idempotent).
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import aiohttp

from kestrel_execution.binance.signing import Credentials
from kestrel_platform.lifecycle import sleep_or_stop
from kestrel_platform.logging import get_logger

_log = get_logger("kestrel.execution.binance.user_stream")
EventHandler = Callable[[Mapping[str, Any]], Awaitable[None]]
MAX_BACKOFF_S = 30.0


class SubscribeError(Exception):
    """The venue refused the subscription (its error code and message)."""


def signed_ws_params(credentials: Credentials, timestamp_ms: int, recv_window_ms: int) -> dict[str, Any]:
    """WebSocket API SIGNED parameters: the payload is every parameter but the signature, sorted."""
    params: dict[str, Any] = {
        "apiKey": credentials.api_key.get_secret_value(),
        "recvWindow": recv_window_ms,
        "timestamp": timestamp_ms,
    }
    payload = "&".join(f"{name}={params[name]}" for name in sorted(params))
    return {**params, "signature": credentials.signer.sign(payload)}


class UserStream:
    def __init__(
        self,
        url: str,
        credentials: Credentials,
        now_ms: Callable[[], int],
        *,
        on_event: EventHandler,
        on_connected: Callable[[], Awaitable[None]],
        recv_window_ms: int = 5000,
        heartbeat_s: float = 20.0,
    ) -> None:
        self._url, self._credentials, self._now_ms = url, credentials, now_ms
        self._on_event, self._on_connected = on_event, on_connected
        self._recv_window_ms, self._heartbeat_s = recv_window_ms, heartbeat_s
        self.connections = 0  # successful subscriptions so far
        self.connected = asyncio.Event()

    def __repr__(self) -> str:
        return f"UserStream({self._url!r})"

    async def run(self, stop: asyncio.Event) -> None:
        backoff = 0.5
        async with aiohttp.ClientSession() as session:
            while not stop.is_set():
                started = time.monotonic()
                try:
                    await self._session(session, stop)
                except Exception as exc:  # socket, venue or store trouble: reconnect, then catch up
                    _log.warning("user_stream.down", error=f"{type(exc).__name__}: {exc}", retry_in_s=backoff)
                finally:
                    self.connected.clear()
                if time.monotonic() - started > MAX_BACKOFF_S:
                    backoff = 0.5  # it had been up for a while: this is a fresh outage
                await sleep_or_stop(stop, backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_S)

    async def _session(self, session: aiohttp.ClientSession, stop: asyncio.Event) -> None:
        async with session.ws_connect(self._url, heartbeat=self._heartbeat_s) as ws:
            request_id = str(uuid.uuid4())
            params = signed_ws_params(self._credentials, self._now_ms(), self._recv_window_ms)
            await ws.send_json(
                {"id": request_id, "method": "userDataStream.subscribe.signature", "params": params}
            )
            pending: list[Mapping[str, Any]] = []  # events that raced ahead of the subscribe answer
            while True:
                message = await self._receive(ws, stop)
                if message is None:
                    return
                if message.get("id") == request_id:
                    if message.get("status") != 200:
                        error = message.get("error") or {}
                        raise SubscribeError(f"{error.get('code')}: {error.get('msg')}")
                    break
                if "event" in message:
                    pending.append(message["event"])
            self.connections += 1
            _log.info("user_stream.subscribed", connections=self.connections)
            await self._on_connected()
            self.connected.set()
            for event in pending:
                await self._on_event(event)
            while (message := await self._receive(ws, stop)) is not None:
                if "event" in message:
                    await self._on_event(message["event"])

    @staticmethod
    async def _receive(ws: aiohttp.ClientWebSocketResponse, stop: asyncio.Event) -> dict[str, Any] | None:
        """The next JSON message; None when stopped; raises when the socket closed or failed."""
        while not stop.is_set():
            try:
                message = await ws.receive(timeout=0.5)
            except TimeoutError:
                continue
            if message.type == aiohttp.WSMsgType.TEXT:
                data = json.loads(message.data)
                if not isinstance(data, dict):
                    raise ValueError(f"unexpected message: {message.data[:200]}")
                return data
            if message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING):
                raise ConnectionResetError(f"user stream closed: {ws.close_code}")
            if message.type == aiohttp.WSMsgType.ERROR:
                raise ConnectionResetError(f"user stream failed: {ws.exception()}")
        return None

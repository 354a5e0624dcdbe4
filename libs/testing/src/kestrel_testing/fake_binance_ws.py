"""The WebSocket side of the fake Binance: kline streams fed by a scripted list of updates.

Raw streams at `/ws/<stream>` send the event itself; combined streams at `/stream?streams=a/b` wrap it
as `{"stream": name, "data": event}`. The server pings every `ping_interval_s` and drops a client
whose pong does not come (aiohttp's heartbeat), as Binance does. Clients may also send the documented
SUBSCRIBE / UNSUBSCRIBE / LIST_SUBSCRIPTIONS requests.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from aiohttp import WSMsgType, web

from kestrel_testing.fake_binance_data import VALID_INTERVALS, LiveUpdate, kline_event


@dataclass(slots=True, eq=False)
class _Subscriber:
    streams: set[str]
    combined: bool
    queue: asyncio.Queue[str] = field(default_factory=asyncio.Queue)
    sent: int = 0


@dataclass(slots=True)
class _ScheduledDrop:
    after_messages: int
    outage_steps: int


def is_kline_stream(name: str) -> bool:
    symbol, sep, interval = name.partition("@kline_")
    return bool(sep) and symbol == symbol.lower() and symbol.isalnum() and interval in VALID_INTERVALS


class KlineFeed:
    """Plays the script, one update every `step_s`, to every subscriber of the update's stream.

    `apply` is called with each update before it is sent, so the REST side sees the same market.
    """

    def __init__(self, interval: str, apply: Callable[[LiveUpdate], None], ping_interval_s: float) -> None:
        self._interval = interval
        self._apply = apply
        self._ping_interval_s = ping_interval_s
        self._subscribers: set[_Subscriber] = set()
        self._script: list[LiveUpdate] = []
        self._step_s = 0.01
        self._autostart = True
        self._played = 0
        self._player: asyncio.Task[None] | None = None
        self._drop: _ScheduledDrop | None = None
        self._refuse_until_step = 0
        self.finished = asyncio.Event()
        self.connections = 0

    def set_script(self, updates: Sequence[LiveUpdate], step_s: float, autostart: bool) -> None:
        self._script = list(updates)
        self._step_s = step_s
        self._autostart = autostart
        self._played = 0
        self.finished.clear()

    def start(self) -> None:
        if self._player is None:
            self._player = asyncio.create_task(self._play())

    def drop_after(self, messages: int, outage_steps: int) -> None:
        self._drop = _ScheduledDrop(messages, outage_steps)

    async def close(self) -> None:
        if self._player is not None:
            self._player.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._player

    # Hooks a feed of another stream type (the trade feed) overrides.
    def _is_stream(self, name: str) -> bool:
        return is_kline_stream(name)

    def _has_script(self) -> bool:
        return bool(self._script)

    def _in_outage(self) -> bool:
        playing = self._player is not None and not self._player.done()
        return playing and self._played < self._refuse_until_step

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if self._in_outage():
            return web.json_response({"code": -1001, "msg": "Service unavailable."}, status=503)
        combined = request.path == "/stream"
        names = request.query.get("streams", "") if combined else request.match_info["stream"]
        streams = {s for s in names.split("/") if s}
        if not streams or not all(self._is_stream(s) for s in streams):
            return web.json_response({"code": -1121, "msg": "Invalid stream name."}, status=400)
        ws = web.WebSocketResponse(heartbeat=self._ping_interval_s)
        await ws.prepare(request)
        subscriber = _Subscriber(streams, combined)
        self._subscribers.add(subscriber)
        self.connections += 1
        if self._autostart and self._has_script():
            self.start()
        sender = asyncio.create_task(self._send(ws, subscriber, request))
        try:
            async for message in ws:
                if message.type == WSMsgType.TEXT:
                    await self._answer(ws, subscriber, message.data)
        finally:
            self._subscribers.discard(subscriber)
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sender
        return ws

    async def _send(self, ws: web.WebSocketResponse, subscriber: _Subscriber, request: web.Request) -> None:
        while True:
            text = await subscriber.queue.get()
            await ws.send_str(text)
            subscriber.sent += 1
            drop = self._drop
            if drop is not None and subscriber.sent >= drop.after_messages:
                self._drop = None
                self._refuse_until_step = self._played + drop.outage_steps
                self._subscribers.discard(subscriber)
                # A cut connection, not a polite close: the client sees the socket die.
                if request.transport is not None:
                    request.transport.close()
                return

    async def _answer(self, ws: web.WebSocketResponse, subscriber: _Subscriber, text: str) -> None:
        try:
            request = json.loads(text)
            method, params, ident = request["method"], request.get("params", []), request["id"]
        except (ValueError, KeyError, TypeError):
            await ws.send_json({"error": {"code": 2, "msg": "Invalid request: malformed JSON"}})
            return
        if method == "SUBSCRIBE":
            subscriber.streams.update(p for p in params if self._is_stream(p))
            await ws.send_json({"result": None, "id": ident})
        elif method == "UNSUBSCRIBE":
            subscriber.streams.difference_update(params)
            await ws.send_json({"result": None, "id": ident})
        elif method == "LIST_SUBSCRIPTIONS":
            await ws.send_json({"result": sorted(subscriber.streams), "id": ident})
        else:
            error = {"code": 2, "msg": f"Invalid request: unknown method {method}"}
            await ws.send_json({"error": error, "id": ident})

    async def _play(self) -> None:
        for update in self._script:
            await asyncio.sleep(self._step_s)
            self._apply(update)
            stream = f"{update.symbol.lower()}@kline_{self._interval}"
            payload = kline_event(update.symbol, self._interval, update)
            for subscriber in list(self._subscribers):
                if stream in subscriber.streams:
                    data = {"stream": stream, "data": payload} if subscriber.combined else payload
                    subscriber.queue.put_nowait(json.dumps(data))
            self._played += 1
        self.finished.set()

"""The WebSocket API of the fake Binance (`/ws-api/v3`), as far as the user data stream needs it.

Requests are `{"id", "method", "params"}`; answers `{"id", "status": 200, "result", "rateLimits"}` or
`{"id", "status": 4xx, "error": {"code", "msg"}, "rateLimits"}`. Methods: `ping`, `time`,
`userDataStream.subscribe.signature` and `userDataStream.unsubscribe`. A subscription receives every
engine event as `{"subscriptionId": N, "event": {...}}`, in the order the engine produced them (answers
and events share one outgoing queue, so they also stay in order relative to each other).

Weight is charged to the same meter as REST (Binance shares the IP's request weight between them).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from kestrel_testing.fake_binance_auth import SIGNED_PARAMS, SignatureChecker, ws_payload
from kestrel_testing.fake_binance_rest import (
    RejectedRequestError,
    WeightMeter,
    check_known_params,
    invalid_parameter,
)

_WEIGHT = {"ping": 1, "time": 1, "userDataStream.subscribe.signature": 2, "userDataStream.unsubscribe": 2}


@dataclass(slots=True, eq=False)
class _Connection:
    request: web.Request
    queue: asyncio.Queue[str] = field(default_factory=asyncio.Queue)
    subscriptions: list[int] = field(default_factory=list)
    next_subscription: int = 0


class UserStreamHub:
    def __init__(
        self,
        checker: SignatureChecker,
        server_time: Callable[[], int],
        weight: WeightMeter,
        ping_interval_s: float,
    ) -> None:
        self._checker = checker
        self._server_time = server_time
        self._weight = weight
        self._ping_interval_s = ping_interval_s
        self._open: set[_Connection] = set()
        self._refuse_until = 0.0
        self.connections = 0  # WebSocket API connections accepted so far
        self.events_published = 0

    @property
    def subscriptions(self) -> int:
        return sum(len(c.subscriptions) for c in self._open)

    def publish(self, event: dict[str, Any]) -> None:
        self.events_published += 1
        for connection in self._open:
            for subscription in connection.subscriptions:
                connection.queue.put_nowait(json.dumps({"subscriptionId": subscription, "event": event}))

    def drop_all(self, refuse_for_s: float) -> None:
        """Cut every socket now (no close frame) and refuse new ones for `refuse_for_s`.

        Subscriptions end at once, so nothing the engine produces from here on reaches anyone."""
        self._refuse_until = time.monotonic() + refuse_for_s
        for connection in list(self._open):
            connection.subscriptions.clear()
            if connection.request.transport is not None:
                connection.request.transport.close()
        self._open.clear()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if time.monotonic() < self._refuse_until:
            return web.json_response({"code": -1008, "msg": "Service unavailable."}, status=503)
        ws = web.WebSocketResponse(heartbeat=self._ping_interval_s)
        await ws.prepare(request)
        connection = _Connection(request)
        self._open.add(connection)
        self.connections += 1
        sender = asyncio.create_task(self._send(ws, connection))
        try:
            async for message in ws:
                if message.type == WSMsgType.TEXT:
                    connection.queue.put_nowait(json.dumps(self._answer(connection, message.data)))
        finally:
            self._open.discard(connection)
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sender
        return ws

    async def _send(self, ws: web.WebSocketResponse, connection: _Connection) -> None:
        while True:
            text = await connection.queue.get()
            if ws.closed:
                return
            await ws.send_str(text)

    def _answer(self, connection: _Connection, text: str) -> dict[str, Any]:
        ident: Any = None
        try:
            request = json.loads(text)
            ident, method = request["id"], request["method"]
            params = request.get("params", {})
            if not isinstance(method, str) or not isinstance(params, dict):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            return self._error(ident, RejectedRequestError(400, -1000, "Malformed request."))
        try:
            self._weight.charge(_WEIGHT.get(method, 1))
            result = self._call(connection, method, params)
        except RejectedRequestError as failure:
            return self._error(ident, failure)
        return {"id": ident, "status": 200, "result": result, "rateLimits": self._rate_limits()}

    def _call(self, connection: _Connection, method: str, params: dict[str, Any]) -> Any:
        if method == "ping":
            return {}
        if method == "time":
            return {"serverTime": self._server_time()}
        if method == "userDataStream.subscribe.signature":
            as_text = {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in params.items()}
            self._checker.check(as_text.get("apiKey"), as_text, ws_payload(params))
            check_known_params(as_text, set(SIGNED_PARAMS | {"apiKey"}))
            subscription = connection.next_subscription
            connection.next_subscription += 1
            connection.subscriptions.append(subscription)
            return {"subscriptionId": subscription}
        if method == "userDataStream.unsubscribe":
            wanted = params.get("subscriptionId")
            if wanted is None:
                connection.subscriptions.clear()
            elif wanted in connection.subscriptions:
                connection.subscriptions.remove(wanted)
            else:
                raise invalid_parameter("subscriptionId")
            return {}
        raise RejectedRequestError(400, -1000, f"Unknown method '{method}'.")

    def _error(self, ident: Any, failure: RejectedRequestError) -> dict[str, Any]:
        return {
            "id": ident,
            "status": failure.status,
            "error": failure.error_body(),
            "rateLimits": self._rate_limits(),
        }

    def _rate_limits(self) -> list[dict[str, Any]]:
        return [
            {
                "rateLimitType": "REQUEST_WEIGHT",
                "interval": "MINUTE",
                "intervalNum": 1,
                "limit": self._weight.limit,
                "count": self._weight.used,
            }
        ]

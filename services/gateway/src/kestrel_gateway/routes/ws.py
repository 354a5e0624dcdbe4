"""`/ws`: the live feed. Authenticate with `?api_key=` or the X-API-Key / Authorization header (viewer),
then send {"subscribe": ["BTC/USDT", ...]} (and {"unsubscribe": [...]}) at any time; the server
streams {"type": "bar" | "signal" | "execution_report", "symbol", "data"} for the symbols followed.
A backtest's progress and result come to clients following "backtest:<job id>" as
{"type": "backtest_progress" | "backtest_result", "symbol": "backtest:<job id>", "data"}.

Refusals are sent as a JSON error, then the socket is closed with 4401 (no or bad key), 4403 (role)
or 4429 (rate limit), mirroring the HTTP status codes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from kestrel_gateway.auth import authenticate, check_role, rate_limit
from kestrel_gateway.errors import ApiError
from kestrel_gateway.keys import Role
from kestrel_gateway.live_feed import FeedClient, parse_client_message
from kestrel_gateway.runtime import GatewayRuntime

router = APIRouter(tags=["live"])
_CLOSE_CODES = {401: 4401, 403: 4403, 429: 4429}


def _presented_key(websocket: WebSocket) -> str | None:
    bearer = websocket.headers.get("authorization", "")
    from_header = bearer[7:].strip() if bearer.lower().startswith("bearer ") else None
    return websocket.query_params.get("api_key") or websocket.headers.get("x-api-key") or from_header


async def _read(websocket: WebSocket, client: FeedClient) -> None:
    """Apply subscribe/unsubscribe messages until the client goes away."""
    while True:
        text = await websocket.receive_text()
        try:
            message: Any = json.loads(text)
            client.symbols = parse_client_message(message, client.symbols)
        except ValueError as exc:  # JSONDecodeError is a ValueError
            await websocket.send_json({"type": "error", "detail": str(exc)})
            continue
        await websocket.send_json({"type": "subscribed", "symbols": sorted(client.symbols)})


async def _write(websocket: WebSocket, client: FeedClient) -> None:
    while True:
        await websocket.send_json(await client.queue.get())


@router.websocket("/ws")
async def live(websocket: WebSocket) -> None:
    runtime: GatewayRuntime = websocket.app.state.runtime
    await websocket.accept()
    try:
        caller = await authenticate(runtime, _presented_key(websocket))
        await rate_limit(runtime, caller)
        check_role(caller, Role.VIEWER)
    except ApiError as exc:
        await websocket.send_json({"error": exc.error, "detail": exc.detail})
        await websocket.close(code=_CLOSE_CODES.get(exc.status, 1008))
        return
    client = runtime.feed.connect()
    tasks = [asyncio.create_task(_read(websocket, client)), asyncio.create_task(_write(websocket, client))]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            error = task.exception()
            if error is not None and not isinstance(error, WebSocketDisconnect):
                raise error
    finally:
        runtime.feed.disconnect(client)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        with contextlib.suppress(RuntimeError):  # already closed by the client
            await websocket.close()

"""The WebSocket fan-out hub: connected clients, the symbols each follows, a bounded queue each.

One consumer (adapters/feed_consumer.py) hands every bar, signal and execution report to
`broadcast`, which puts it on the queue of each client following its symbol without waiting: a slow
client can never hold up the consumer or the other clients. A client whose queue is full loses the
message (counted, and flagged on the next message it does get) instead of growing memory without bound.
"""

from __future__ import annotations

import asyncio
from typing import Any

from kestrel_platform.metrics import counter, gauge

__all__ = ["MAX_SYMBOLS_PER_CLIENT", "FeedClient", "LiveFeed", "parse_client_message"]

MAX_SYMBOLS_PER_CLIENT = 200
WS_CLIENTS = gauge("gateway_ws_clients", "WebSocket clients connected to the live feed.")
WS_MESSAGES = counter("gateway_ws_messages", "Live-feed messages queued for clients, by type.", ["type"])
WS_DROPPED = counter("gateway_ws_dropped", "Live-feed messages dropped because a client's queue was full.")


class FeedClient:
    def __init__(self, queue_size: int) -> None:
        self.symbols: set[str] = set()
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=queue_size)
        self.dropped = 0

    def offer(self, message: dict[str, Any]) -> bool:
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            self.dropped += 1
            WS_DROPPED.inc()
            return False
        return True


class LiveFeed:
    def __init__(self, queue_size: int) -> None:
        self._queue_size = queue_size
        self._clients: set[FeedClient] = set()

    def connect(self) -> FeedClient:
        client = FeedClient(self._queue_size)
        self._clients.add(client)
        WS_CLIENTS.set(len(self._clients))
        return client

    def disconnect(self, client: FeedClient) -> None:
        self._clients.discard(client)
        WS_CLIENTS.set(len(self._clients))

    @property
    def clients(self) -> int:
        return len(self._clients)

    def broadcast(self, kind: str, symbol: str, data: dict[str, Any]) -> int:
        """Queue `data` for every client following `symbol`; how many got it."""
        delivered = 0
        for client in self._clients:
            if symbol in client.symbols:
                message: dict[str, Any] = {"type": kind, "symbol": symbol, "data": data}
                if client.dropped:
                    message["dropped_before"] = client.dropped  # the client learns it missed some
                if client.offer(message):
                    client.dropped = 0
                    delivered += 1
        if delivered:
            WS_MESSAGES.labels(type=kind).inc(delivered)
        return delivered


def _symbols(value: Any, field: str) -> set[str]:
    if not isinstance(value, list) or not all(isinstance(s, str) and 0 < len(s) <= 64 for s in value):
        raise ValueError(f"'{field}' must be a list of symbols (strings of 1 to 64 characters)")
    return set(value)


def parse_client_message(message: Any, current: set[str]) -> set[str]:
    """The symbols followed after a client message {"subscribe": [...]} and/or {"unsubscribe": [...]}."""
    if not isinstance(message, dict) or not ({"subscribe", "unsubscribe"} & message.keys()):
        raise ValueError('expected {"subscribe": ["BTC/USDT", ...]} or {"unsubscribe": [...]}')
    unknown = set(message) - {"subscribe", "unsubscribe"}
    if unknown:
        raise ValueError(f"unknown field(s): {', '.join(sorted(unknown))}")
    added = _symbols(message.get("subscribe", []), "subscribe")
    removed = _symbols(message.get("unsubscribe", []), "unsubscribe")
    following = (current | added) - removed
    if len(following) > MAX_SYMBOLS_PER_CLIENT:
        raise ValueError(f"at most {MAX_SYMBOLS_PER_CLIENT} symbols per connection")
    return following

"""Kafka -> live feed: bars, signals, execution reports and backtest progress, fanned out to /ws clients.

Each gateway process consumes in a consumer group of its own, from the latest offset: the feed is
live (history is what the REST endpoints are for), and every replica must see every message for its
own clients. Nothing here is durable, so committing offsets after the in-memory fan-out is enough.
"""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import Awaitable, Callable

from google.protobuf.json_format import MessageToDict

from kestrel_contracts.registry import Channel, channel
from kestrel_gateway.live_feed import LiveFeed
from kestrel_messaging import ConsumerOptions, Delivery
from kestrel_messaging.kafka import KafkaBus
from kestrel_platform.lifecycle import sleep_or_stop
from kestrel_platform.logging import get_logger
from kestrel_platform.probes import kafka_probe

__all__ = ["FEED_CHANNELS", "consume_feed", "feed_group"]

_log = get_logger("kestrel.gateway.feed")
RETRY_S = 2.0
# Registry channel name -> the "type" clients see.
FEED_CHANNELS = {
    "market.bars": "bar",
    "trading.signals": "signal",
    "execution.reports": "execution_report",
    "backtest.progress": "backtest_progress",
    "backtest.results": "backtest_result",
}
BACKTEST_PREFIX = "backtest:"


def feed_key(message: object) -> str:
    """What a client follows to get `message`: its symbol, or "backtest:<job id>" for a backtest's."""
    symbol = getattr(message, "symbol", "")
    if symbol:
        return str(symbol)
    job_id = getattr(message, "job_id", "")
    return f"{BACKTEST_PREFIX}{job_id}" if job_id else ""


def feed_group(prefix: str) -> str:
    return f"{prefix}-{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def _handler(feed: LiveFeed, kind: str) -> Callable[[Delivery], Awaitable[None]]:
    async def handle(delivery: Delivery) -> None:
        symbol = feed_key(delivery.message)
        if symbol:
            data = MessageToDict(
                delivery.message, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
            )
            feed.broadcast(kind, symbol, data)

    return handle


async def _wait_for_kafka(bootstrap: str, stop: asyncio.Event) -> bool:
    """True once a broker answers (False when stopped first). The probe's client is quiet; the
    topic-creating admin client is not, and retrying it against a dead broker floods stderr."""
    probe = kafka_probe(bootstrap)
    while not stop.is_set():
        try:
            await probe()
            return True
        except Exception as exc:  # unreachable: /ready says so too
            _log.warning("feed.kafka_unavailable", error=repr(exc), retry_in_s=RETRY_S)
        await sleep_or_stop(stop, RETRY_S)
    return False


async def _consume_one(
    bus: KafkaBus, topic: Channel, kind: str, feed: LiveFeed, *, group: str, stop: asyncio.Event
) -> None:
    options = ConsumerOptions(start_from_beginning=False, max_attempts=1)
    while await _wait_for_kafka(bus.bootstrap, stop):
        try:
            # Created here when missing: a consumer subscribed to an absent topic would notice it
            # only at its next metadata refresh, minutes later.
            await bus.ensure_channel(topic)
            subscription = bus.subscribe(topic, group=f"{group}-{kind}", consumer=group, options=options)
            await subscription.run(_handler(feed, kind), stop)
        except Exception as exc:  # a broker lost mid-way: wait for it again
            _log.warning("feed.consumer_failed", topic=topic.name, error=repr(exc), retry_in_s=RETRY_S)
            await sleep_or_stop(stop, RETRY_S)


async def consume_feed(bootstrap: str, feed: LiveFeed, group_prefix: str, stop: asyncio.Event) -> None:
    """Feed `feed` from the FEED_CHANNELS topics until `stop` is set."""
    group = feed_group(group_prefix)
    bus = KafkaBus(bootstrap, client_id=group)
    try:
        _log.info("feed.started", group=group)
        await asyncio.gather(
            *(
                _consume_one(bus, channel(name), kind, feed, group=group, stop=stop)
                for name, kind in FEED_CHANNELS.items()
            )
        )
    finally:
        await bus.close()

"""`python -m kestrel_messaging.topics create|list`: make every registered channel exist.

Creates each Kafka topic and Redis stream of the registry, with its DLQ, idempotently: running it
twice creates nothing the second time.
"""

from __future__ import annotations

import argparse
import asyncio
import os

from kestrel_contracts.registry import Transport, all_channels_with_dlq
from kestrel_messaging.admin import create_kafka_topics
from kestrel_messaging.redis_streams import RedisStreamBus

DEFAULT_KAFKA = "127.0.0.1:19092"
DEFAULT_REDIS = "redis://127.0.0.1:16379/0"


async def create_all(kafka_bootstrap: str, redis_url: str, replication_factor: int = 1) -> list[str]:
    """Create every registered channel that is missing; return what was created."""
    channels = list(all_channels_with_dlq())
    created = await create_kafka_topics(kafka_bootstrap, channels, replication_factor)
    streams = RedisStreamBus(redis_url)
    try:
        for channel in channels:
            if channel.transport is Transport.REDIS_STREAM and not await streams.client.exists(channel.name):
                await streams.ensure_channel(channel)
                created.append(channel.name)
    finally:
        await streams.close()
    return created


def describe() -> str:
    rows = [f"{'channel':<28} {'transport':<13} {'key':<8} {'parts':>5}  message"]
    for c in all_channels_with_dlq():
        rows.append(
            f"{c.name:<28} {c.transport.value:<13} {c.key or '-':<8} {c.partitions:>5}  "
            f"{c.message_type.DESCRIPTOR.full_name}"
        )
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m kestrel_messaging.topics")
    parser.add_argument("command", choices=["create", "list"])
    parser.add_argument("--kafka", default=os.environ.get("KESTREL_KAFKA_BOOTSTRAP", DEFAULT_KAFKA))
    parser.add_argument("--redis", default=os.environ.get("KESTREL_REDIS_URL", DEFAULT_REDIS))
    parser.add_argument(
        "--replication-factor", type=int, default=int(os.environ.get("KESTREL_KAFKA_REPLICATION_FACTOR", "1"))
    )
    args = parser.parse_args()
    if args.command == "list":
        print(describe())
        return
    created = asyncio.run(create_all(args.kafka, args.redis, args.replication_factor))
    print(
        f"created {len(created)} channel(s)"
        + (": " + ", ".join(sorted(created)) if created else " (all existed)")
    )


if __name__ == "__main__":
    main()

"""Create Kafka topics and Redis streams from the channel registry, idempotently."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic

from kestrel_contracts.registry import Channel, Transport


def _create_topics_blocking(bootstrap: str, channels: list[Channel], replication_factor: int) -> list[str]:
    client = AdminClient({"bootstrap.servers": bootstrap})
    existing = set(client.list_topics(timeout=10).topics)
    wanted = [c for c in channels if c.name not in existing]
    if not wanted:
        return []
    futures = client.create_topics(
        [
            NewTopic(
                c.name,
                num_partitions=c.partitions,
                replication_factor=replication_factor,
                config={"retention.ms": str(c.retention_ms)},
            )
            for c in wanted
        ],
        operation_timeout=15,
    )
    created = []
    for name, future in futures.items():
        try:
            future.result()
            created.append(name)
        except KafkaException as exc:
            # Another process created it between list and create: that is the state we wanted.
            if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise
    return created


async def create_kafka_topics(
    bootstrap: str, channels: Iterable[Channel], replication_factor: int = 1
) -> list[str]:
    """Create the Kafka topics among `channels` that do not exist; return the names created."""
    kafka = [c for c in channels if c.transport is Transport.KAFKA]
    if not kafka:
        return []
    return await asyncio.to_thread(_create_topics_blocking, bootstrap, kafka, replication_factor)

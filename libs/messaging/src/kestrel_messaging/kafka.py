"""Kafka transport: keyed, idempotent publishing and consumer groups that commit after the effect.

Offsets are committed only after every record before them was handled or dead-lettered (per batch,
per partition), so a consumer that dies loses nothing: the group redelivers from the last commit and
handlers, which are idempotent on `event_id`, absorb the repeats. On a graceful stop the in-flight
record is finished and committed; on cancellation nothing more is committed.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Sequence

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError

from kestrel_contracts.registry import Channel, Transport, consumer_group
from kestrel_messaging import admin
from kestrel_messaging.envelope import ConsumerOptions
from kestrel_messaging.kafka_producer import AsyncProducer
from kestrel_messaging.metrics import CONSUMER_LAG
from kestrel_messaging.processing import Record
from kestrel_messaging.publishing import PublisherBase
from kestrel_messaging.subscription import Process, SubscriptionBase
from kestrel_platform.logging import get_logger
from kestrel_platform.tracing import carrier_to_kafka_headers, kafka_headers_to_carrier

_log = get_logger(__name__)


def _check(channel: Channel) -> None:
    if channel.transport is not Transport.KAFKA:
        raise ValueError(f"{channel.name} is a {channel.transport.value} channel, not a Kafka topic")


class KafkaBus(PublisherBase):
    """Publisher and consumer factory for one Kafka cluster.

    Producer: confluent-kafka (idempotent, acks=all): `publish` returns once the broker has the
    record. Consumer: aiokafka, whose awaitable commit and rebalance handling fit "commit after the
    effect" on the event loop. Both chosen by measurement (README, `make bench`). `linger_ms` trades
    latency for batching; records still batch while a request is in flight at 0.
    """

    def __init__(
        self, bootstrap: str, *, client_id: str = "kestrel", linger_ms: int = 0, replication_factor: int = 1
    ) -> None:
        self._bootstrap, self._client_id = bootstrap, client_id
        self._linger_ms, self._replication_factor = linger_ms, replication_factor
        self._producer: AsyncProducer | None = None

    @property
    def bootstrap(self) -> str:
        return self._bootstrap

    async def ensure_channel(self, channel: Channel) -> None:
        _check(channel)
        await admin.create_kafka_topics(self._bootstrap, [channel, channel.dlq], self._replication_factor)

    async def _send(self, channel: Channel, data: bytes, key: str | None, headers: dict[str, str]) -> None:
        _check(channel)
        if self._producer is None:
            self._producer = AsyncProducer(
                self._bootstrap, client_id=self._client_id, linger_ms=self._linger_ms
            )
        await self._producer.send(
            channel.name,
            data,
            key.encode() if key is not None else None,
            carrier_to_kafka_headers(headers),
        )

    async def _send_many(
        self, channel: Channel, items: Sequence[tuple[bytes, str | None, dict[str, str]]]
    ) -> None:
        # librdkafka queues them all at once and batches them into as few requests as it can.
        await asyncio.gather(*(self._send(channel, data, key, headers) for data, key, headers in items))

    def subscribe(
        self, channel: Channel, *, group: str, consumer: str, options: ConsumerOptions | None = None
    ) -> KafkaSubscription:
        _check(channel)
        return KafkaSubscription(self, channel, group, consumer, options or ConsumerOptions())

    async def close(self) -> None:
        if self._producer is not None:
            await self._producer.close()  # delivers what is pending
            self._producer = None


class KafkaSubscription(SubscriptionBase):
    def __init__(
        self, bus: KafkaBus, channel: Channel, group: str, consumer: str, options: ConsumerOptions
    ) -> None:
        super().__init__(channel, group, options, bus.publish)
        self._bus, self._consumer_name = bus, consumer

    def _consumer(self) -> AIOKafkaConsumer:
        return AIOKafkaConsumer(
            self._channel.name,
            bootstrap_servers=self._bus.bootstrap,
            group_id=consumer_group(self._group),
            client_id=self._consumer_name,
            enable_auto_commit=False,
            auto_offset_reset="earliest" if self._options.start_from_beginning else "latest",
            max_poll_records=self._options.batch_size,
            isolation_level="read_committed",
        )

    async def _consume(self, process: Process, stop: asyncio.Event, limit: int) -> None:
        consumer = self._consumer()
        committer = _Committer(consumer, self._channel.name, self._group)
        try:
            await consumer.start()
            while not stop.is_set():
                if self._options.hold is not None and await self._options.hold():
                    # Paused partitions fetch nothing, yet the member keeps polling: it stays in its
                    # group (no rebalance however long the pause) and resumes at its position. What
                    # a partition assigned meanwhile returns is handled as usual, never dropped.
                    consumer.pause(*consumer.assignment())
                elif consumer.paused():
                    consumer.resume(*consumer.paused())
                fetched = await consumer.getmany(
                    timeout_ms=self._options.poll_timeout_ms, max_records=self._options.batch_size
                )
                # One fetch, partition after partition (order is per partition, as on the topic).
                positions = [(tp, rec.offset) for tp, recs in fetched.items() for rec in recs]
                records = [_record(tp.partition, rec) for tp, recs in fetched.items() for rec in recs]
                if records:
                    await process(records, functools.partial(committer.done_at, positions))
                committer.kick()
            await committer.drain()  # graceful stop: what was handled is committed before leaving
        finally:
            committer.cancel()
            # Always leave the group, even when cancelled again meanwhile: a member that keeps
            # heartbeating without polling would hold every rebalance of the group for minutes.
            # Auto-commit is off, so leaving commits nothing more.
            await asyncio.shield(consumer.stop())


def _record(partition: int, rec: ConsumerRecord[bytes, bytes]) -> Record:
    return Record(
        rec.value or b"",
        rec.key.decode() if rec.key is not None else None,
        kafka_headers_to_carrier(rec.headers),
        f"{partition}:{rec.offset}",
    )


class _Committer:
    """Commits handled offsets in the background so the fetch loop never waits on the coordinator.

    Only offsets whose records were fully handled are ever handed in, so committing them later (or
    not at all, if the process dies) keeps at-least-once: the group re-reads from the last commit.
    """

    def __init__(self, consumer: AIOKafkaConsumer, channel: str, group: str) -> None:
        self._consumer, self._channel, self._group = consumer, channel, group
        self._handled: dict[TopicPartition, int] = {}
        self._task: asyncio.Task[None] | None = None

    def done(self, tp: TopicPartition, next_offset: int) -> None:
        self._handled[tp] = next_offset

    def done_at(self, positions: Sequence[tuple[TopicPartition, int]], index: int) -> None:
        """The record at `positions[index]` (partition, offset) was handled."""
        tp, offset = positions[index]
        self.done(tp, offset + 1)

    def kick(self) -> None:
        if self._handled and (self._task is None or self._task.done()):
            offsets, self._handled = self._handled, {}
            self._task = asyncio.create_task(self._commit(offsets))

    async def drain(self) -> None:
        if self._task is not None:
            await self._task
        if self._handled:
            offsets, self._handled = self._handled, {}
            await self._commit(offsets)

    def cancel(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()

    async def _commit(self, offsets: dict[TopicPartition, int]) -> None:
        try:
            await self._consumer.commit(offsets)
        except (CommitFailedError, IllegalStateError) as exc:
            # The group rebalanced under us (the broker refused the generation, or the partition was
            # already revoked from this member, e.g. while a peer left during a graceful stop): the
            # new owner re-reads from the last commit.
            _log.warning(
                "offset commit failed after rebalance",
                channel=self._channel,
                group=self._group,
                error=str(exc),
            )
            return
        for tp, next_offset in offsets.items():
            highwater = self._consumer.highwater(tp)
            if highwater is not None:
                CONSUMER_LAG.labels(self._channel, self._group, str(tp.partition)).set(
                    max(highwater - next_offset, 0)
                )

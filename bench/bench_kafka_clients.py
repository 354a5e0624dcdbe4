"""The Kafka producers/consumers under test, each driven from asyncio the way a Kestrel service would.

Producer settings are the ones a trading system wants: acks=all + idempotence (no loss, no duplicate
or reordered events on retry); linger 0 (--linger-ms; measured: 1 ms linger adds ~1 ms to the median
hop and no throughput, since records batch anyway while a request is in flight); no compression
(200-byte events on a local network: CPU would cost more than bytes saved); Nagle off in librdkafka
(asyncio sockets already set TCP_NODELAY).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any, Protocol

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.aio import AIOConsumer, AIOProducer

BATCH = 500  # max records handed to the event loop per call
# Every Kestrel event carries its W3C trace context in a Kafka header.
TRACE_HEADERS: list[tuple[str, str | bytes | None]] = [
    ("traceparent", b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
]

CONFLUENT_PRODUCER = {
    "acks": "all",
    "enable.idempotence": True,
    "socket.nagle.disable": True,
}
CONFLUENT_CONSUMER = {
    "auto.offset.reset": "earliest",
    "enable.auto.commit": False,
    "socket.nagle.disable": True,
}


class Sender(Protocol):
    async def start(self) -> None: ...
    async def send(self, topic: str, key: bytes, value: bytes) -> None: ...
    async def close(self) -> None: ...  # waits until every sent message is acknowledged


class Receiver(Protocol):
    async def start(self, topic: str, group: str) -> None: ...  # returns once partitions are assigned
    async def next_batch(self) -> list[bytes]: ...
    async def close(self) -> None: ...


class AiokafkaSender:
    def __init__(self, bootstrap: str, linger_ms: int) -> None:
        self._producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=linger_ms
        )
        self._errors: list[BaseException] = []

    async def start(self) -> None:
        await self._producer.start()

    async def send(self, topic: str, key: bytes, value: bytes) -> None:
        fut = await self._producer.send(topic, value, key=key, headers=TRACE_HEADERS)
        fut.add_done_callback(self._check)

    def _check(self, fut: asyncio.Future[Any]) -> None:
        if not fut.cancelled() and fut.exception():
            self._errors.append(fut.exception())  # type: ignore[arg-type]

    async def close(self) -> None:
        await self._producer.flush()
        await self._producer.stop()
        if self._errors:
            raise self._errors[0]


class ConfluentSender:
    """produce() only enqueues, so it runs on the loop; delivery callbacks run inside poll(0), called
    from the loop too, and settle each message's asyncio future directly: no thread, no GIL hand-off."""

    def __init__(self, bootstrap: str, linger_ms: int) -> None:
        self._producer = Producer(
            {"bootstrap.servers": bootstrap, "linger.ms": linger_ms, **CONFLUENT_PRODUCER}
        )
        self._errors: list[KafkaError] = []

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._poller = asyncio.create_task(self._poll_loop())

    async def _poll_loop(self) -> None:
        while True:
            if not len(self._producer):  # nothing queued or in flight: sleep until the next send
                self._wake.clear()
                await self._wake.wait()
            self._producer.poll(0)
            await asyncio.sleep(0.001)

    async def send(self, topic: str, key: bytes, value: bytes) -> None:
        fut = self._loop.create_future()  # what a publisher awaits before committing its input offset
        while True:
            try:
                self._producer.produce(
                    topic,
                    value,
                    key,
                    headers=TRACE_HEADERS,
                    on_delivery=lambda err, _msg: self._settle(fut, err),
                )
                break
            except BufferError:  # local queue full: serve delivery reports, let the loop breathe
                self._producer.poll(0)
                await asyncio.sleep(0.001)
        self._wake.set()

    def _settle(self, fut: asyncio.Future[None], err: KafkaError | None) -> None:
        if err:
            self._errors.append(err)
            fut.set_exception(KafkaException(err))
        else:
            fut.set_result(None)

    async def close(self) -> None:
        while len(self._producer):
            self._producer.poll(0)
            await asyncio.sleep(0.001)
        self._poller.cancel()
        if self._errors:
            raise KafkaException(self._errors[0])


class ConfluentThreadSender:
    """Alternative: a thread blocks in poll() and hands delivery reports to the loop, one
    call_soon_threadsafe per poll() batch (one per message costs more CPU than librdkafka itself)."""

    def __init__(self, bootstrap: str, linger_ms: int) -> None:
        self._producer = Producer(
            {"bootstrap.servers": bootstrap, "linger.ms": linger_ms, **CONFLUENT_PRODUCER}
        )
        self._stop = threading.Event()
        self._poller = threading.Thread(target=self._poll, daemon=True)
        self._reports: list[tuple[asyncio.Future[None], KafkaError | None]] = []
        self._errors: list[KafkaError] = []

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._poller.start()

    def _poll(self) -> None:
        while not self._stop.is_set():
            self._producer.poll(0.05)  # delivery callbacks run here and fill self._reports
            if self._reports:
                reports, self._reports = self._reports, []
                self._loop.call_soon_threadsafe(self._settle, reports)

    def _settle(self, reports: list[tuple[asyncio.Future[None], KafkaError | None]]) -> None:
        for fut, err in reports:
            if err:
                self._errors.append(err)
                fut.set_exception(KafkaException(err))
            else:
                fut.set_result(None)

    async def send(self, topic: str, key: bytes, value: bytes) -> None:
        fut = self._loop.create_future()
        while True:
            try:
                self._producer.produce(
                    topic,
                    value,
                    key,
                    headers=TRACE_HEADERS,
                    on_delivery=lambda err, _msg: self._reports.append((fut, err)),
                )
                return
            except BufferError:  # local queue full: let the poll thread drain it
                await asyncio.sleep(0.001)

    async def close(self) -> None:
        await asyncio.to_thread(self._producer.flush, 30)
        self._stop.set()
        await asyncio.to_thread(self._poller.join)
        await asyncio.sleep(0)  # let the last hand-off run
        if self._errors:
            raise KafkaException(self._errors[0])


class ConfluentAioSender:
    """confluent_kafka.aio.AIOProducer with its defaults: buffers up to batch_size=1000 messages or
    buffer_timeout=1 s before handing them to librdkafka, and refuses headers (so no trace context)."""

    def __init__(self, bootstrap: str, linger_ms: int) -> None:
        self._bootstrap = bootstrap
        self._linger_ms = linger_ms
        self._pending: list[asyncio.Future[Any]] = []

    async def start(self) -> None:
        conf = {"bootstrap.servers": self._bootstrap, "linger.ms": self._linger_ms, **CONFLUENT_PRODUCER}
        self._producer = AIOProducer(conf)

    async def send(self, topic: str, key: bytes, value: bytes) -> None:
        self._pending.append(await self._producer.produce(topic, value, key))

    async def close(self) -> None:
        await self._producer.flush()
        await self._producer.close()
        await asyncio.gather(*self._pending)


class AiokafkaReceiver:
    def __init__(self, bootstrap: str) -> None:
        self._bootstrap = bootstrap

    async def start(self, topic: str, group: str) -> None:
        assigned = asyncio.Event()

        class Listener(ConsumerRebalanceListener):  # type: ignore[misc]
            async def on_partitions_revoked(self, revoked: object) -> None:
                pass

            async def on_partitions_assigned(self, assigned_partitions: object) -> None:
                assigned.set()

        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap,
            group_id=group,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        self._consumer.subscribe([topic], listener=Listener())
        await self._consumer.start()
        await assigned.wait()

    async def next_batch(self) -> list[bytes]:
        records = await self._consumer.getmany(timeout_ms=100, max_records=BATCH)
        return [r.value for batch in records.values() for r in batch]

    async def close(self) -> None:
        await self._consumer.stop()


class ConfluentReceiver:
    """librdkafka Consumer owned by one thread: poll() returns on the first record (low latency), then
    consume(timeout=0) takes what is already fetched (throughput); batches go to the loop via a queue
    (unbounded here; a service needs a bound). Every Consumer call must come from this thread: in
    confluent-kafka 2.16 a call from another thread (commit, store_offsets, assignment) waits until the
    running poll() returns."""

    def __init__(self, bootstrap: str) -> None:
        self._bootstrap = bootstrap
        self._queue: asyncio.Queue[list[bytes]] = asyncio.Queue()
        self._assigned = asyncio.Event()
        self._stop = threading.Event()

    async def start(self, topic: str, group: str) -> None:
        self._loop = asyncio.get_running_loop()
        self._thread = threading.Thread(target=self._run, args=(topic, group), daemon=True)
        self._thread.start()
        await self._assigned.wait()

    def _run(self, topic: str, group: str) -> None:
        consumer = Consumer({"bootstrap.servers": self._bootstrap, "group.id": group, **CONFLUENT_CONSUMER})
        consumer.subscribe([topic], on_assign=self._on_assign)
        while not self._stop.is_set():
            first = consumer.poll(0.1)
            if first is None:
                continue
            values = [m.value() or b"" for m in [first, *consumer.consume(BATCH - 1, 0)] if not m.error()]
            self._loop.call_soon_threadsafe(self._queue.put_nowait, values)
        consumer.close()

    def _on_assign(self, _consumer: Consumer, _partitions: list[TopicPartition]) -> None:
        self._loop.call_soon_threadsafe(self._assigned.set)

    async def next_batch(self) -> list[bytes]:
        try:
            async with asyncio.timeout(0.1):  # a timer, not a task per call like wait_for
                return await self._queue.get()
        except TimeoutError:
            return []

    async def close(self) -> None:
        self._stop.set()
        await asyncio.to_thread(self._thread.join)


class ConfluentAioReceiver:
    """confluent_kafka.aio.AIOConsumer: every call goes through its thread pool."""

    def __init__(self, bootstrap: str) -> None:
        self._bootstrap = bootstrap
        self._early: list[bytes] = []

    async def start(self, topic: str, group: str) -> None:
        conf = {"bootstrap.servers": self._bootstrap, "group.id": group, **CONFLUENT_CONSUMER}
        self._consumer = AIOConsumer(conf)
        await self._consumer.subscribe([topic])
        while not await self._consumer.assignment():  # assignment only progresses inside poll/consume
            msgs = await self._consumer.consume(BATCH, 0.1)
            self._early += [m.value() or b"" for m in msgs if not m.error()]

    async def next_batch(self) -> list[bytes]:
        # consume(n, timeout) waits until n records OR the timeout: 50 ms median at 1k msg/s. poll()
        # returns on the first record, then consume(timeout=0) takes what is already fetched.
        early, self._early = self._early, []
        first = await self._consumer.poll(0.1)
        msgs = [first, *await self._consumer.consume(BATCH - 1, 0)] if first else []
        return early + [m.value() or b"" for m in msgs if not m.error()]

    async def close(self) -> None:
        await self._consumer.close()


SENDERS: dict[str, Callable[[str, int], Sender]] = {
    "aiokafka": AiokafkaSender,
    "confluent": ConfluentSender,
    "confluent-thread": ConfluentThreadSender,
    "confluent-aio": ConfluentAioSender,
}
RECEIVERS: dict[str, Callable[[str], Receiver]] = {
    "aiokafka": AiokafkaReceiver,
    "confluent": ConfluentReceiver,
    "confluent-aio": ConfluentAioReceiver,
}

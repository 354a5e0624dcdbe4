"""Measure Kafka clients (aiokafka vs confluent-kafka) and Redis Streams on this machine.

Kafka one-hop latency (paced producer in its own process -> consumer-group consumer), Kafka
throughput per client, Redis Streams one-hop latency. Fresh topics/streams per run, deleted after.
Endpoints: KESTREL_KAFKA_BOOTSTRAP / KESTREL_REDIS_URL, or --bootstrap / --redis-url. Run from the repo root:
    uv run python -m bench.bench_clients [--repeat N] [--pairs P:C ...] [--producers ...] [--consumers ...]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import platform
import statistics
import struct
import time
import uuid
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, cast

import redis.asyncio as aioredis
from bench.bench_kafka_clients import RECEIVERS, SENDERS
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic

try:
    from rich.console import Console
    from rich.table import Table
except ImportError:  # plain-text table without rich
    Console = None  # type: ignore[assignment,misc]

# Send wall-clock ns + sequence number, padded to the size of a typical Kestrel protobuf event.
HEADER = struct.Struct(">qq")
PAYLOAD_BYTES = 200
PADDING = os.urandom(PAYLOAD_BYTES - HEADER.size)
KEYS = [f"SYM{i:03d}".encode() for i in range(64)]  # events are keyed by instrument
WARMUP_S = 0.5  # first half second (metadata, connection setup) is not counted


@dataclass(frozen=True)
class Result:
    test: str
    producer: str
    consumer: str
    messages: int
    p50_ms: float | None = None
    p99_ms: float | None = None
    max_ms: float | None = None
    msg_per_s: float | None = None
    cpu_us_per_msg: float | None = None


def payload(seq: int) -> bytes:
    return HEADER.pack(time.time_ns(), seq) + PADDING


def latency_result(test: str, kinds: tuple[str, str], lat_ns: list[int], consumer_cpu_s: float) -> Result:
    # CPU is the consumer process's (all its threads) over the run, idle polling included.
    ms = sorted(x / 1e6 for x in lat_ns)
    p50, p99 = statistics.median(ms), ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    cpu_us = round(consumer_cpu_s / len(ms) * 1e6, 2)
    return Result(test, *kinds, len(ms), round(p50, 3), round(p99, 3), round(ms[-1], 3), None, cpu_us)


def throughput_result(test: str, kinds: tuple[str, str], count: int, start: float, cpu: float) -> Result:
    # CPU per message (all threads of this process) is what a 2-core box runs out of first, and it is
    # far less disturbed than wall time by whatever else the machine is doing.
    elapsed, cpu_us = time.perf_counter() - start, (time.process_time() - cpu) * 1e6
    return Result(
        test, *kinds, count, msg_per_s=round(count / elapsed), cpu_us_per_msg=round(cpu_us / count, 2)
    )


class RedisSender:
    """XADD, the Redis Streams counterpart of a Kafka send (one round trip each)."""

    def __init__(self, url: str, _linger_ms: int) -> None:
        self._client = aioredis.from_url(url)

    async def start(self) -> None:
        await self._client.ping()

    async def send(self, topic: str, key: bytes, value: bytes) -> None:
        await self._client.xadd(topic, {b"d": value})

    async def close(self) -> None:
        await self._client.aclose()


@dataclass(frozen=True)
class PacedRun:
    kind: str  # a SENDERS key or "redis"
    target: str  # bootstrap servers or Redis URL
    topic: str  # or stream key
    rate: int
    total: int
    linger_ms: int


async def paced_produce(run: PacedRun) -> None:
    """Send `total` messages at `rate`/s on a fixed schedule (late sends catch up, no drift)."""
    sender = (RedisSender if run.kind == "redis" else SENDERS[run.kind])(run.target, run.linger_ms)
    await sender.start()
    start = time.perf_counter()
    for seq in range(run.total):
        delay = start + seq / run.rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        await sender.send(run.topic, KEYS[seq % len(KEYS)], payload(seq))
    await sender.close()


def producer_process(run: PacedRun) -> None:
    asyncio.run(paced_produce(run))


def spawn_producer(run: PacedRun) -> Any:
    # A separate process, as in production: producer and consumer are different services.
    proc = mp.get_context("spawn").Process(target=producer_process, args=(run,))
    proc.start()
    return proc


class Topics:
    """Creates throwaway topics up front (a new partition refuses writes for a moment after its leader
    appears in metadata) and deletes them all at the end."""

    def __init__(self, bootstrap: str) -> None:
        self.admin = AdminClient({"bootstrap.servers": bootstrap})
        self.names: list[str] = []

    def create(self, count: int, partitions: int) -> list[str]:
        names = [f"bench.{uuid.uuid4().hex[:10]}" for _ in range(count)]
        if not names:
            return names
        for fut in self.admin.create_topics([NewTopic(n, partitions, 1) for n in names]).values():
            fut.result(timeout=30)
        self.names += names
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            topics = self.admin.list_topics(timeout=10).topics
            if all(
                n in topics
                and len(topics[n].partitions) == partitions
                and all(p.leader >= 0 for p in topics[n].partitions.values())
                for n in names
            ):
                time.sleep(1)  # KRaft: the leader shows in metadata a moment before it accepts writes
                return names
            time.sleep(0.05)
        raise TimeoutError(f"topics {names} have no leader after 30 s")

    def delete_all(self) -> None:
        if self.names:
            for fut in self.admin.delete_topics(self.names).values():
                fut.result(timeout=30)


async def kafka_latency(bootstrap: str, topic: str, prod: str, cons: str, args: argparse.Namespace) -> Result:
    receiver = RECEIVERS[cons](bootstrap)
    await receiver.start(topic, f"bench-{uuid.uuid4().hex[:8]}")
    total, skip = int(args.rate * (args.seconds + WARMUP_S)), int(args.rate * WARMUP_S)
    proc = spawn_producer(PacedRun(prod, bootstrap, topic, args.rate, total, args.linger_ms))
    lat: list[int] = []
    seen, deadline, cpu = 0, time.monotonic() + args.seconds + 20, time.process_time()
    try:
        while seen < total and time.monotonic() < deadline:
            for value in await receiver.next_batch():
                now = time.time_ns()
                sent_ns, seq = HEADER.unpack_from(value)
                seen += 1
                if seq >= skip:
                    lat.append(now - sent_ns)
    finally:
        await receiver.close()
        await asyncio.to_thread(proc.join, 30)
    if seen < total:
        print(f"warning: {prod} -> {cons} received {seen} of {total} messages")
    return latency_result("kafka 1-hop", (prod, cons), lat, time.process_time() - cpu)


async def produce_throughput(bootstrap: str, kind: str, topic: str, args: argparse.Namespace) -> Result:
    sender, count = SENDERS[kind](bootstrap, args.linger_ms), args.count
    await sender.start()
    value = payload(0)
    start, cpu = time.perf_counter(), time.process_time()
    for i in range(count):
        await sender.send(topic, KEYS[i % len(KEYS)], value)
    await sender.close()  # close() waits until every message is acknowledged
    return throughput_result("produce", (kind, "-"), count, start, cpu)


async def consume_throughput(bootstrap: str, kind: str, topic: str, count: int) -> Result:
    receiver = RECEIVERS[kind](bootstrap)
    await receiver.start(topic, f"bench-{uuid.uuid4().hex[:8]}")
    start, cpu, seen = time.perf_counter(), time.process_time(), 0  # from assignment, not group join
    deadline = time.monotonic() + 60
    while seen < count and time.monotonic() < deadline:
        seen += len(await receiver.next_batch())
    result = throughput_result("consume", ("-", kind), seen, start, cpu)
    await receiver.close()
    return result


async def redis_latency(url: str, args: argparse.Namespace) -> Result:
    client = aioredis.from_url(url)
    stream, group = f"bench:{uuid.uuid4().hex[:10]}", "bench"
    await client.xgroup_create(stream, group, id="0", mkstream=True)
    total, skip = int(args.rate * (args.seconds + WARMUP_S)), int(args.rate * WARMUP_S)
    proc = spawn_producer(PacedRun("redis", url, stream, args.rate, total, 0))
    lat: list[int] = []
    seen, deadline, cpu = 0, time.monotonic() + args.seconds + 20, time.process_time()
    try:
        while seen < total and time.monotonic() < deadline:
            resp = await client.xreadgroup(group, "c1", {stream: ">"}, count=100, block=1000)
            for _, entries in cast(list[tuple[bytes, list[tuple[bytes, dict[bytes, bytes]]]]], resp or []):
                now = time.time_ns()
                for _, fields in entries:
                    sent_ns, seq = HEADER.unpack_from(fields[b"d"])
                    seen += 1
                    if seq >= skip:
                        lat.append(now - sent_ns)
                await client.xack(stream, group, *(entry_id for entry_id, _ in entries))
    finally:
        await asyncio.to_thread(proc.join, 30)
        await client.delete(stream)
        await client.aclose()
    return latency_result("redis 1-hop", ("redis-py", "redis-py"), lat, time.process_time() - cpu)


def print_table(results: list[Result]) -> None:
    cols = [f.name for f in fields(Result)]
    rows = [["-" if (v := asdict(r)[c]) is None else str(v) for c in cols] for r in results]
    if Console is None:
        for row in [cols, *rows]:
            print("  ".join(f"{cell:>14}" for cell in row))
        return
    table = Table(title=f"Kestrel messaging clients on {os.cpu_count()} CPUs")
    for c in cols:
        table.add_column(c, justify="left" if c in ("test", "producer", "consumer") else "right")
    for row in rows:
        table.add_row(*row)
    Console(width=max(120, Console().width)).print(table)


async def run(args: argparse.Namespace) -> list[Result]:
    topics = Topics(args.bootstrap)
    pairs = [pair.split(":") for _ in range(args.repeat) for pair in args.pairs]
    latency_topics = topics.create(len(pairs), partitions=1)
    produce_topics = [] if args.skip_throughput else topics.create(len(args.producers), partitions=6)
    results: list[Result] = []
    try:
        for (prod, cons), topic in zip(pairs, latency_topics, strict=True):
            results.append(r := await kafka_latency(args.bootstrap, topic, prod, cons, args))
            print(f"{r.test} {prod} -> {cons}: p50 {r.p50_ms} ms, p99 {r.p99_ms} ms", flush=True)
        for kind, topic in zip(args.producers, produce_topics, strict=True):
            results.append(await produce_throughput(args.bootstrap, kind, topic, args))
        for kind in args.consumers if produce_topics else []:
            results.append(await consume_throughput(args.bootstrap, kind, produce_topics[0], args.count))
    finally:
        topics.delete_all()
    for _ in range(args.repeat):
        results.append(await redis_latency(args.redis_url, args))
    return results


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bootstrap", default=os.environ.get("KESTREL_KAFKA_BOOTSTRAP", "127.0.0.1:19092"))
    p.add_argument("--redis-url", default=os.environ.get("KESTREL_REDIS_URL", "redis://127.0.0.1:16379/0"))
    p.add_argument("--rate", type=int, default=1000, help="paced msg/s for latency runs")
    p.add_argument("--seconds", type=float, default=5.0, help="measured seconds per latency run")
    p.add_argument("--linger-ms", type=int, default=0, help="producer linger (batching delay)")
    p.add_argument("--count", type=int, default=200_000, help="messages per throughput run")
    p.add_argument(
        "--pairs",
        nargs="*",
        default=["aiokafka:aiokafka", "confluent:confluent", "aiokafka:confluent", "confluent:aiokafka"],
        help="latency runs, producer:consumer (none: skip); kinds: " + ", ".join(SENDERS),
    )
    p.add_argument("--producers", nargs="+", default=["aiokafka", "confluent"], choices=list(SENDERS))
    p.add_argument("--consumers", nargs="+", default=["aiokafka", "confluent"], choices=list(RECEIVERS))
    p.add_argument("--repeat", type=int, default=1, help="latency runs per pair (p99 is noisy)")
    p.add_argument("--skip-throughput", action="store_true")
    p.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = p.parse_args()
    started, load_start = time.time(), os.getloadavg()
    if load_start[0] > (os.cpu_count() or 1) / 2:
        print(f"warning: load average {load_start[0]:.1f} on {os.cpu_count()} CPUs; figures will be noisy")
    results = asyncio.run(run(args))
    print_table(results)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"clients-{time.strftime('%Y%m%dT%H%M%S')}.json"
    meta = {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "payload_bytes": PAYLOAD_BYTES,
        "loadavg_start": load_start,
        "loadavg_end": os.getloadavg(),
        "args": {k: str(v) for k, v in vars(args).items()},
        "wall_s": round(time.time() - started, 1),
    }
    path.write_text(json.dumps({"meta": meta, "results": [asdict(r) for r in results]}, indent=2))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()

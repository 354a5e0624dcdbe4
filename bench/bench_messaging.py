"""One-hop latency and throughput through Kestrel's own messaging layer (what services really use).

Publishes protobuf Bars through `KafkaBus` / `RedisStreamBus` and consumes them in a consumer group
with commit/ack after each batch, tracing on (no exporter), and prints p50/p99 one-hop latency at a
paced rate plus sustained throughput. Endpoints come from KESTREL_KAFKA_BOOTSTRAP / KESTREL_REDIS_URL.

    uv run python bench/bench_messaging.py [--rate 500] [--seconds 5] [--throughput 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time
import uuid
from pathlib import Path

from kestrel_contracts.registry import Channel, Transport
from kestrel_contracts.v1.bar_pb2 import Bar
from kestrel_messaging import ConsumerOptions, Delivery, MessageBus
from kestrel_messaging.kafka import KafkaBus
from kestrel_messaging.redis_streams import RedisStreamBus
from kestrel_platform.tracing import configure_tracing

RESULTS = Path(__file__).parent / "results"


def _bar(seq: int) -> Bar:
    # ts_init carries the send time (ns) so the consumer can measure the hop.
    return Bar(
        event_id=str(uuid.uuid4()),
        symbol=f"SYM{seq % 8}",
        timeframe="1m",
        ts_event=seq,
        ts_init=time.perf_counter_ns(),
        open="100.25",
        high="101.5",
        low="99.75",
        close="100.5",
        volume="1234.5678",
        venue="BENCH",
        source="bench",
    )


def _pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=1000)[int(q * 1000) - 1] if len(values) > 1 else values[0]


async def _consume(bus: MessageBus, channel: Channel, count: int, latencies: list[float]) -> float:
    stop, done = asyncio.Event(), 0

    async def handle(delivery: Delivery) -> None:
        nonlocal done
        latencies.append((time.perf_counter_ns() - delivery.message.ts_init) / 1e6)  # type: ignore[attr-defined]
        done += 1
        if done >= count:
            stop.set()

    sub = bus.subscribe(
        channel,
        group=f"bench.{uuid.uuid4().hex[:6]}",
        consumer="bench",
        options=ConsumerOptions(batch_size=500, poll_timeout_ms=50),
    )
    started = time.perf_counter()
    await asyncio.wait_for(sub.run(handle, stop), timeout=180)
    return time.perf_counter() - started


async def _latency(bus: MessageBus, channel: Channel, rate: int, seconds: float) -> dict[str, float]:
    count = int(rate * seconds)
    latencies: list[float] = []
    consumer = asyncio.create_task(_consume(bus, channel, count, latencies))
    await asyncio.sleep(3)  # let the group join before the clock starts
    start = time.perf_counter()
    for seq in range(count):
        await asyncio.sleep(max(0.0, start + seq / rate - time.perf_counter()))
        await bus.publish(channel, _bar(seq))
    await consumer
    return {
        "messages": count,
        "rate_per_s": rate,
        "p50_ms": _pct(latencies, 0.5),
        "p99_ms": _pct(latencies, 0.99),
        "max_ms": max(latencies),
    }


async def _throughput(bus: MessageBus, channel: Channel, count: int) -> dict[str, float]:
    start = time.perf_counter()
    for chunk in range(0, count, 1000):  # batches let the client pipeline the sends
        await bus.publish_batch(channel, [_bar(i) for i in range(chunk, min(chunk + 1000, count))])
    produce_s = time.perf_counter() - start
    consume_s = await _consume(bus, channel, count, [])
    return {"messages": count, "produce_msg_per_s": count / produce_s, "consume_msg_per_s": count / consume_s}


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--throughput", type=int, default=20_000)
    args = parser.parse_args()
    configure_tracing("bench", None)
    kafka = KafkaBus(os.environ.get("KESTREL_KAFKA_BOOTSTRAP", "127.0.0.1:19092"))
    redis = RedisStreamBus(os.environ.get("KESTREL_REDIS_URL", "redis://127.0.0.1:16379/0"))
    results: dict[str, dict[str, float]] = {}
    for name, bus, transport in (("kafka", kafka, Transport.KAFKA), ("redis", redis, Transport.REDIS_STREAM)):
        tag = uuid.uuid4().hex[:6]
        lat = Channel(f"bench.lat.{tag}", transport, Bar, partitions=1)
        thr = Channel(f"bench.thr.{tag}", transport, Bar, partitions=6)
        for channel in (lat, thr):
            await bus.ensure_channel(channel)
        results[f"{name} one-hop latency"] = await _latency(bus, lat, args.rate, args.seconds)
        results[f"{name} throughput"] = await _throughput(bus, thr, args.throughput)
    await kafka.close()
    await redis.close()
    print("\nKestrel messaging layer (KafkaBus / RedisStreamBus, protobuf Bar, tracing on)")
    for name, figures in results.items():
        print(f"  {name:<24} " + "  ".join(f"{k}={v:,.2f}" for k, v in figures.items()))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "messaging.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    asyncio.run(main())

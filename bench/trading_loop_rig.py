"""The rig of `bench_trading_loop`: a fresh deployment, the replay, and reading back what it did.

- `Deployment`: a fresh channel namespace and database (`kestrel_bench_loop`, recreated each run),
  every channel created, the services' environment (own ports, own consumer groups, loose risk
  limits), and at the end the namespace's topics, streams and Redis keys removed again;
- `PhasedSource`: the warm-up bars as fast as possible, then (once the loop settled) the measured
  bars at a wall-clock rate, one timestamp at a time;
- read-back after a phase, never during it: Kafka topics from the beginning, the Redis stream, and
  the NEW reports in execution's outbox, so the figures cost the loop nothing while it runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

import asyncpg
import numpy as np
import redis.asyncio as aioredis
from aiokafka import AIOKafkaConsumer, TopicPartition
from confluent_kafka.admin import AdminClient
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from kestrel_cli.demo_loop import wait_for_loop
from kestrel_cli.settings import CliSettings
from kestrel_cli.supervisor import ServiceSpec, child_environment
from kestrel_contracts.registry import NAMESPACE_ENV, Transport, all_channels_with_dlq, channel
from kestrel_contracts.v1.execution_report_pb2 import ORDER_STATUS_NEW, ExecutionReport
from kestrel_contracts.v1.order_request_pb2 import OrderRequest
from kestrel_contracts.v1.signal_pb2 import SignalAction
from kestrel_ingestion.domain import RawBar, UnreadableRow
from kestrel_messaging.codec import decode
from kestrel_messaging.topics import create_all
from kestrel_store.databases import recreate_database
from kestrel_store.migrate import apply_migrations

DATABASE = "kestrel_bench_loop"
REFERENCE = "SP500"
MODEL_NAME = "kestrel-bench-direction"  # registered by bench.trading_loop_model
# Risk: short selling on (a SELL opens a short, so BUY/SELL alternation always has a quantity to
# trade), small orders, and limits far beyond anything the bench reaches, so orders are approved.
RISK_ENV = {
    "KESTREL_RISK_ALLOW_SHORT": "true",
    "KESTREL_RISK_SIZING_FRACTION": "0.01",
    "KESTREL_RISK_MAX_ORDERS_PER_MINUTE": "100000000",
    "KESTREL_RISK_MAX_POSITION_NOTIONAL": "1000000000000",
    "KESTREL_RISK_MAX_GROSS_EXPOSURE": "1000000000000",
    "KESTREL_RISK_MAX_ORDER_NOTIONAL": "1000000000000",
    "KESTREL_RISK_DAILY_LOSS_LIMIT": "1000000000000",
    "KESTREL_RISK_MAX_DRAWDOWN": "1",
}
PROGRESS_COLUMNS = (
    TextColumn("[bold]{task.description}"),
    BarColumn(),
    MofNCompleteColumn(),
    TimeElapsedColumn(),
)
Key = tuple[str, int]  # (symbol, ts_event): one bar, and the vector, signal and order it leads to


@dataclass
class Deployment:
    settings: CliSettings
    run: str
    port_base: int
    database_url: str = ""
    model_version: str = ""
    thresholds: tuple[float, float] = (0.55, 0.45)  # (buy, sell)

    async def create(self) -> None:
        """Fresh database and channels; this process publishes into the run's namespace."""
        os.environ[NAMESPACE_ENV] = self.run
        self.database_url = await recreate_database(self.settings.database_url, DATABASE)
        await apply_migrations(self.database_url)
        await create_all(self.settings.kafka_bootstrap, self.settings.redis_url)

    def specs(self) -> list[ServiceSpec]:
        run, (buy, sell) = self.run, self.thresholds
        env = {  # consumer groups are not namespaced: every group gets the run's name
            "features": {"KESTREL_TIMEFRAME": "1d", "KESTREL_REFERENCE_SYMBOL": REFERENCE,
                         "KESTREL_VECTOR_KEY_PREFIX": f"{run}:feat:",
                         "KESTREL_STATE_KEY_PREFIX": f"{run}:featstate:"},
            "inference": {"KESTREL_MODEL_NAME": MODEL_NAME, "KESTREL_BUY_THRESHOLD": repr(buy),
                          "KESTREL_SELL_THRESHOLD": repr(sell)},
            "risk": RISK_ENV | {f"KESTREL_RISK_{g}_GROUP": f"{run}-risk-{g}"
                                for g in ("SIGNALS", "REPORTS", "COMMANDS")},
            "execution": {"KESTREL_BARS_CONSUMER_GROUP": f"{run}-execution-paper",
                          "KESTREL_COMMANDS_CONSUMER_GROUP": f"{run}-execution-commands"},
        }  # fmt: skip
        ports = {"features": 2, "inference": 3, "risk": 5, "execution": 6}
        return [
            ServiceSpec(
                name, self.port_base + ports[name], {"KESTREL_CONSUMER_GROUP": f"{run}-{name}", **extra}
            )
            for name, extra in env.items()
        ]

    def env(self) -> dict[str, str]:
        s = self.settings
        return child_environment(
            {
                "KESTREL_KAFKA_BOOTSTRAP": s.kafka_bootstrap,
                "KESTREL_REDIS_URL": s.redis_url,
                "KESTREL_DATABASE_URL": self.database_url,
                "KESTREL_MLFLOW_TRACKING_URI": s.mlflow_tracking_uri,
                NAMESPACE_ENV: self.run,
                "KESTREL_LOG_LEVEL": "WARNING",
            }
        )

    async def remove(self) -> None:
        """The namespace's topics, and its Redis keys: streams, features, idempotency, kill switch."""
        topics = [c.name for c in all_channels_with_dlq() if c.transport is Transport.KAFKA]
        admin = AdminClient({"bootstrap.servers": self.settings.kafka_bootstrap})
        for future in admin.delete_topics(topics, operation_timeout=30).values():
            with contextlib.suppress(Exception):  # already gone: nothing to remove
                await asyncio.to_thread(future.result)
        client = aioredis.from_url(self.settings.redis_url)
        try:
            keys = [k async for k in client.scan_iter(match=f"{self.run}*", count=1000)]
            for start in range(0, len(keys), 1000):
                await client.delete(*keys[start : start + 1000])
        finally:
            await client.aclose()


async def settle(database_url: str, stored: int, console: Console) -> None:
    """Once ingestion has stored `stored` bars, until the loop is done with them (as `kestrel demo`)."""
    conn = await asyncpg.connect(database_url)
    try:
        while True:
            if await conn.fetchval("SELECT count(*) FROM market.bars") >= stored:
                break
            await asyncio.sleep(0.1)
    finally:
        await conn.close()
    await wait_for_loop(database_url, 600, console)


def split_warmup(bars: Iterable[RawBar], per_symbol: int) -> tuple[list[RawBar], list[RawBar]]:
    """(the first `per_symbol` bars of each symbol, the rest), both in time order."""
    seen: dict[str, int] = {}
    early: list[RawBar] = []
    late: list[RawBar] = []
    for bar in bars:
        seen[bar.symbol] = seen.get(bar.symbol, 0) + 1
        (early if seen[bar.symbol] <= per_symbol else late).append(bar)
    return early, late


class PhasedSource:
    """`early` as fast as possible, then `between()` (the loop settles), then `late` at `rate` bars/s,
    each timestamp's bars together on a fixed grid, with a progress bar. One source for both, so
    the paced bars go out through a producer and a pool that are already warm."""

    def __init__(
        self,
        early: Sequence[RawBar],
        late: Sequence[RawBar],
        rate: float,
        between: Callable[[], Awaitable[Any]],
    ) -> None:
        self.name, self._early, self._late, self._rate, self._between = "bench", early, late, rate, between

    async def bars(self) -> AsyncIterator[RawBar | UnreadableRow]:
        for bar in self._early:
            yield bar
        await self._between()
        with Progress(*PROGRESS_COLUMNS) as progress:
            task = progress.add_task(f"paced {self._rate:g} bars/s", total=len(self._late))
            started, sent = time.monotonic(), 0
            for _, group in itertools.groupby(self._late, key=lambda b: b.ts_open):
                await asyncio.sleep(max(0.0, started + sent / self._rate - time.monotonic()))
                for bar in group:
                    sent += 1
                    progress.advance(task)
                    yield bar


async def read_topic(bootstrap: str, name: str) -> list[Any]:
    """Every message on the run's topic `name`, decoded, read from the beginning to the current end."""
    ch = channel(name)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        parts = [TopicPartition(ch.name, p) for p in range(ch.partitions)]
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        end = await consumer.end_offsets(parts)
        messages: list[Any] = []
        while [tp for tp in parts if await consumer.position(tp) < end[tp]]:
            for records in (await consumer.getmany(*parts, timeout_ms=500)).values():
                messages += [decode(ch, r.value) for r in records]
        return messages
    finally:
        await consumer.stop()


async def read_orders_stream(redis_url: str) -> list[OrderRequest]:
    """Every OrderRequest risk put on the run's execution.orders stream."""
    ch = channel("execution.orders")
    client = aioredis.from_url(redis_url)
    try:
        entries = cast(list[tuple[bytes, dict[bytes, bytes]]], await client.xrange(ch.name))
    finally:
        await client.aclose()
    decoded = (decode(ch, fields[b"data"]) for _, fields in entries)
    return [m for m in decoded if isinstance(m, OrderRequest)]


@dataclass(frozen=True, slots=True)
class Accepted:
    report: ExecutionReport  # the NEW report: ts_init is when execution accepted the order
    reported_ns: int  # when its outbox row was stamped published (the report is on Kafka)


async def accepted_orders(database_url: str) -> list[Accepted]:
    """Every order execution accepted, from its first report in the outbox, in acceptance order."""
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(
            "SELECT payload, published_at FROM trading.execution_report_outbox WHERE sequence = 1"
        )
    finally:
        await conn.close()
    out = []
    for row in rows:
        report = ExecutionReport.FromString(bytes(row["payload"]))
        if report.status == ORDER_STATUS_NEW and row["published_at"] is not None:
            out.append(Accepted(report, int(row["published_at"].timestamp() * 1e9)))
    return sorted(out, key=lambda a: a.report.ts_init)


@dataclass(frozen=True, slots=True)
class LoopTrace:
    """What the loop did with the measured bars, joined on (symbol, ts_event)."""

    bars: dict[Key, int]  # the measured bars' ts_init
    actions: list[str]  # their signals' actions
    approved: int  # orders risk made of them
    hops: dict[str, list[int]]  # per accepted order: ns from bar to acceptance, and each service's part
    published: list[int]  # per accepted order: its bar's ts_init


async def trace_loop(bootstrap: str, redis_url: str, database_url: str, measured: set[Key]) -> LoopTrace:
    """`measured` holds the (symbol, ts_open) of the bars timed; the hops are ts_init differences."""
    bars = {(m.symbol, m.ts_event): m.ts_init for m in await read_topic(bootstrap, "market.bars")
            if (m.symbol, m.ts_open) in measured}  # fmt: skip
    vectors = {(m.symbol, m.ts_event): m.ts_init for m in await read_topic(bootstrap, "features.vectors")}
    signals = {(m.symbol, m.ts_event): m for m in await read_topic(bootstrap, "trading.signals")}
    requests = {(m.symbol, m.ts_event): m.ts_init for m in await read_orders_stream(redis_url)}
    accepted = [
        a for a in await accepted_orders(database_url) if (a.report.symbol, a.report.ts_event) in bars
    ]
    hops: dict[str, list[int]] = {
        k: [] for k in ("total", "reported", "features", "inference", "risk", "execution")
    }
    for a in accepted:
        key, acc = (a.report.symbol, a.report.ts_event), a.report.ts_init
        bar, vec, sig, req = bars[key], vectors[key], signals[key].ts_init, requests[key]
        values = (acc - bar, a.reported_ns - bar, vec - bar, sig - vec, req - sig, acc - req)
        for name, value in zip(hops, values, strict=True):
            hops[name].append(value)
    actions = [
        SignalAction.Name(signals[k].action).removeprefix("SIGNAL_ACTION_") for k in bars if k in signals
    ]
    approved = sum(1 for k in bars if k in requests)
    published = [bars[a.report.symbol, a.report.ts_event] for a in accepted]
    return LoopTrace(bars, actions, approved, hops, published)


def percentiles(values_ns: Sequence[int] | np.ndarray[Any, Any]) -> tuple[float, float, int]:
    """(p50 ms, p99 ms, n) of nanosecond durations; NaN when there are none."""
    if len(values_ns) == 0:
        return float("nan"), float("nan"), 0
    p50, p99 = np.percentile(np.asarray(values_ns, dtype=np.float64) / 1e6, [50, 99])
    return float(p50), float(p99), len(values_ns)

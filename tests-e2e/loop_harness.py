"""The rig of tests-e2e/test_trading_loop.py: the five services as processes, the paced replay,
the SIGKILL of execution, the kill switch through the gateway, and the snapshot the checks read."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import asyncpg
import redis.asyncio as aioredis
from aiokafka import AIOKafkaConsumer, TopicPartition
from loop_setup import (
    ACCOUNT,
    ENGAGE_AFTER_STEP,
    FAST_STEPS,
    KILL_FROM_STEP,
    LAST_ENGAGE_STEP,
    LAST_KILL_STEP,
    REFERENCE,
    SAMPLES,
    STEP_TIMEOUT_S,
    WARMUP,
    WORKING,
    ListSource,
    log_excerpt,
)
from redis.exceptions import ResponseError

from kestrel_cli.demo_loop import SETTLE_S, counts, expected_vector_count
from kestrel_cli.supervisor import Supervisor
from kestrel_contracts.registry import DLQ_SUFFIX, Transport, all_channels_with_dlq, channel
from kestrel_ingestion.domain import RawBar
from kestrel_ingestion.pipeline import IngestionPipeline

_PROGRESS = """
SELECT (SELECT count(*) FROM trading.signals) AS signals,
       (SELECT count(*) FROM trading.risk_decisions WHERE outcome = 'APPROVED') AS approved,
       (SELECT count(*) FROM trading.orders) AS orders,
       (SELECT count(*) FROM trading.orders WHERE status IN ('NEW', 'PARTIALLY_FILLED')) AS working,
       (SELECT count(*) FROM trading.orders WHERE status IN ('NEW', 'PARTIALLY_FILLED')
           AND symbol = ANY($1::text[]) AND submitted_at_ns <= $2) AS due,
       (SELECT count(*) FROM trading.fills) AS fills,
       (SELECT count(*) FROM trading.execution_report_outbox WHERE published_at IS NULL) AS unpublished
"""


@dataclass(frozen=True, slots=True)
class Progress:
    signals: int
    approved: int
    orders: int
    working: int
    due: int  # working orders that a bar already published should have traded
    fills: int
    unpublished: int


@dataclass(slots=True)
class Crash:
    step: int = -1
    in_flight: int = 0  # order entries execution had read and not acknowledged when it died
    restarted_in_s: float = 0.0


@dataclass(slots=True)
class KillSwitchRun:
    step: int = -1
    last_close_ns: int = 0  # the close of the last bar decided before the switch
    orders_before: int = 0
    stream_length_before: int = 0
    working_before: set[str] = field(default_factory=set)
    response: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Snapshot:
    """What the loop left behind, read once after it settled."""

    bars: list[asyncpg.Record]
    vectors: list[asyncpg.Record]
    signals: list[asyncpg.Record]
    decisions: list[asyncpg.Record]
    orders: list[asyncpg.Record]
    fills: list[asyncpg.Record]
    positions: list[asyncpg.Record]
    portfolio: dict[str, Any]
    stream_length: int
    dead_letters: dict[str, int]
    expected_vectors: int
    demo_counts: str


def expected_signals(published: Counter[str]) -> int:
    return sum(max(0, n - WARMUP + 1) for n in published.values())


class TradingLoop:
    """The services, the replay and the waits of one run."""

    def __init__(
        self,
        services: Supervisor,
        pool: asyncpg.Pool,
        redis: aioredis.Redis,
        pipeline: IngestionPipeline,
        orders_group: str,
        gateway_key: str,
        kafka_bootstrap: str,
    ) -> None:
        self.services, self.pool, self.redis, self.pipeline = services, pool, redis, pipeline
        self.kafka_bootstrap = kafka_bootstrap
        self.orders_stream = channel("execution.orders").name
        self.orders_group = orders_group
        self.gateway_key = gateway_key
        self.published: Counter[str] = Counter()
        self.crash = Crash()
        self.kill_switch = KillSwitchRun()
        self.step_seconds: list[float] = []

    def logs(self) -> str:
        """Each service's warnings, errors and tracebacks, and its last lines: for failure messages."""
        out = []
        for name, process in self.services.processes.items():
            state = "running" if process.running else "stopped"
            out.append(
                f"--- {name} ({state}; whole log: {process.log_path}) ---\n{log_excerpt(process.log_path)}"
            )
        return "\n".join(out)

    async def progress(self, step: Sequence[RawBar] = ()) -> Progress:
        latest = max((bar.ts_open for bar in step), default=0)
        row = await self.pool.fetchrow(_PROGRESS, [bar.symbol for bar in step], latest)
        return Progress(**{key: int(value) for key, value in row.items()})

    def settled(self, p: Progress) -> bool:
        """The loop is done with what was published: all signals decided, all approved orders taken
        by execution, and no order left working that a published bar should have traded."""
        return p.signals == expected_signals(self.published) and p.orders == p.approved and p.due == 0

    async def publish(self, bars: Sequence[RawBar]) -> None:
        result = await self.pipeline.run(ListSource("+".join(SAMPLES), bars))
        assert result.published == len(bars), f"published {result.published} of {len(bars)} bars"
        self.published.update(bar.symbol for bar in bars)

    def assert_running(self, what: str) -> None:
        dead = [name for name, p in self.services.processes.items() if not p.running]
        assert not dead, f"{', '.join(dead)} died while {what}\n{self.logs()}"

    async def dead_letters(self) -> dict[str, int]:
        """Messages on any dead-letter channel of the run (a loop that lost nothing has none)."""
        found: dict[str, int] = {}
        topics = []
        for dlq in all_channels_with_dlq():
            if not dlq.name.endswith(DLQ_SUFFIX):
                continue
            if dlq.transport is Transport.REDIS_STREAM:
                found[dlq.name] = int(await self.redis.xlen(dlq.name))
            else:
                topics.append(TopicPartition(dlq.name, 0))  # dead-letter topics have one partition
        consumer = AIOKafkaConsumer(bootstrap_servers=self.kafka_bootstrap)
        await consumer.start()
        try:
            ends = await consumer.end_offsets(topics)
        finally:
            await consumer.stop()
        found.update({tp.topic: int(end) for tp, end in ends.items()})
        return {name: n for name, n in found.items() if n}

    async def wait_settled(
        self, step: Sequence[RawBar], what: str, timeout_s: float = STEP_TIMEOUT_S
    ) -> None:
        deadline = time.monotonic() + timeout_s
        next_dlq_check = time.monotonic() + 3
        while True:
            p = await self.progress(step)
            if self.settled(p):
                return
            self.assert_running(what)
            if time.monotonic() > next_dlq_check:  # slow: fail fast if something was dead-lettered
                next_dlq_check = time.monotonic() + 5
                dead = await self.dead_letters()
                assert not dead, f"dead letters while {what}: {dead}\n{self.logs()}"
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"the loop did not settle after {what} within {timeout_s:.0f}s: {p}, expected "
                    f"{expected_signals(self.published)} signals\n{self.logs()}"
                )
            await asyncio.sleep(0.02)

    async def in_flight_orders(self) -> int:
        try:
            summary = await self.redis.xpending(self.orders_stream, self.orders_group)
        except ResponseError:  # the group does not exist yet
            return 0
        return int(summary["pending"])

    async def step_killing_execution_in_flight(
        self, index: int, step: Sequence[RawBar], *, last_chance: bool
    ) -> bool:
        """Publish the instant; if execution reads order entries for it, SIGKILL it before it
        acknowledges them (then start it again). True when it was killed. On the `last_chance` it
        is killed right after the publish whatever it holds (still mid-run: the bar is in flight)."""
        await self.publish(step)
        deadline = time.monotonic() + STEP_TIMEOUT_S
        polls = 0
        while time.monotonic() < deadline:
            pending = await self.in_flight_orders()
            if pending or last_chance:
                await self.restart_execution(index, pending)
                await self.wait_settled(step, f"the restart of execution at step {index}")
                return True
            polls += 1
            if polls % 10 == 0:
                if self.settled(await self.progress(step)):
                    return False
                self.assert_running(f"replaying step {index}")
            await asyncio.sleep(0.001)
        raise AssertionError(f"step {index} did not settle\n{self.logs()}")

    async def restart_execution(self, index: int, in_flight: int) -> None:
        execution = self.services["execution"]
        started = time.monotonic()
        await execution.kill()
        self.crash = Crash(index, in_flight)
        await execution.start()
        await execution.wait_ready(120)
        self.crash.restarted_in_s = time.monotonic() - started

    async def engage_kill_switch(self, index: int, last_step: Sequence[RawBar], gateway_url: str) -> None:
        run = self.kill_switch
        run.step = index
        run.last_close_ns = max(bar.ts_close for bar in last_step)
        run.orders_before = int(await self.pool.fetchval("SELECT count(*) FROM trading.orders"))
        run.stream_length_before = int(await self.redis.xlen(self.orders_stream))
        rows = await self.pool.fetch(
            "SELECT client_order_id FROM trading.orders WHERE status = ANY($1::text[])", list(WORKING)
        )
        run.working_before = {row["client_order_id"] for row in rows}
        async with (
            aiohttp.ClientSession(headers={"Authorization": f"Bearer {self.gateway_key}"}) as http,
            http.post(
                f"{gateway_url}/api/risk/kill-switch",
                json={"engaged": True, "reason": "e2e: stop trading"},
            ) as response,
        ):
            text = await response.text()
            assert response.status == 200, f"kill switch: HTTP {response.status} {text}\n{self.logs()}"
            run.response = await response.json()

    async def replay(
        self, warmup: Sequence[RawBar], steps: Sequence[Sequence[RawBar]], gateway_url: str
    ) -> None:
        """The warm-up and the first FAST_STEPS instants at once, then instant by instant: execution
        killed on the way, and the kill switch engaged after ENGAGE_AFTER_STEP, at an instant that
        left orders working (so that the switch has orders to cancel as well as signals to stop)."""
        await self.publish([*warmup, *(bar for step in steps[:FAST_STEPS] for bar in step)])
        await self.wait_settled(steps[FAST_STEPS - 1], "the replay of the first instants at once")
        killed = False
        for index in range(FAST_STEPS, len(steps)):
            step, step_started = steps[index], time.monotonic()
            if not killed and KILL_FROM_STEP <= index <= LAST_KILL_STEP:
                killed = await self.step_killing_execution_in_flight(
                    index, step, last_chance=index == LAST_KILL_STEP
                )
            else:
                await self.publish(step)
                await self.wait_settled(step, f"replaying step {index}")
            self.step_seconds.append(time.monotonic() - step_started)
            if (
                ENGAGE_AFTER_STEP <= index <= LAST_ENGAGE_STEP
                and self.kill_switch.step < 0
                and ((await self.progress()).working or index == LAST_ENGAGE_STEP)
            ):
                await self.engage_kill_switch(index, step, gateway_url)
        assert killed and self.crash.step >= 0, "execution was never killed"
        assert self.kill_switch.step >= 0, "the kill switch was never engaged"

    async def settle(self, timeout_s: float) -> None:
        """Until every signal is decided, no order is working, every report is published and
        nothing has moved for SETTLE_S."""
        expected = await expected_vector_count(self.pool, REFERENCE)
        deadline = time.monotonic() + timeout_s
        last, still_since = None, time.monotonic()
        while time.monotonic() < deadline:
            now = (await self.progress(), await counts(self.pool, expected))
            done = now[0].signals == expected and now[0].orders == now[0].approved
            done = done and now[0].working == 0 and now[0].unpublished == 0
            if now != last:
                last, still_since = now, time.monotonic()
            elif done and time.monotonic() - still_since >= SETTLE_S:
                return
            self.assert_running("settling")
            await asyncio.sleep(0.25)
        raise AssertionError(f"the loop did not settle within {timeout_s:.0f}s: {last}\n{self.logs()}")

    async def snapshot(self, gateway_url: str) -> Snapshot:
        fetch = self.pool.fetch
        async with (
            aiohttp.ClientSession(headers={"X-API-Key": self.gateway_key}) as http,
            http.get(f"{gateway_url}/api/portfolio/{ACCOUNT}") as response,
        ):
            assert response.status == 200, f"portfolio: HTTP {response.status} {await response.text()}"
            portfolio: dict[str, Any] = await response.json()
        expected = await expected_vector_count(self.pool, REFERENCE)
        return Snapshot(
            bars=await fetch("SELECT symbol, ts, event_id FROM market.bars"),
            vectors=await fetch("SELECT symbol, ts, source_event_id FROM features.vectors"),
            signals=await fetch("SELECT symbol, ts, action FROM trading.signals"),
            decisions=await fetch(
                "SELECT client_order_id, ts, symbol, side, outcome, reason, origin"
                " FROM trading.risk_decisions"
            ),
            orders=await fetch(
                "SELECT order_id, client_order_id, symbol, side, order_type, time_in_force, quantity,"
                " status, filled_quantity, fees, reason_code, submitted_at_ns, ts_event FROM trading.orders"
            ),
            fills=await fetch(
                "SELECT f.order_id, o.client_order_id, f.trade_id, f.ts, f.symbol, f.side, f.quantity,"
                " f.price, f.fee, b.ingested_at < o.created_at AS caught_up FROM trading.fills f"
                " JOIN trading.orders o USING (order_id)"
                " LEFT JOIN market.bars b"
                " ON (b.symbol, b.timeframe, b.ts) = (f.symbol, o.timeframe, f.ts)"
            ),
            positions=await fetch(
                "SELECT symbol, quantity FROM trading.positions WHERE account = $1", ACCOUNT
            ),
            portfolio=portfolio,
            stream_length=int(await self.redis.xlen(self.orders_stream)),
            dead_letters=await self.dead_letters(),
            expected_vectors=expected,
            demo_counts=str(await counts(self.pool, expected)),
        )

"""The backtest service in-process (`serve`) on REAL Kafka and PostgreSQL.

Two instances share the consumer group; jobs go in on backtest.jobs, results come out on
backtest.results, runs and their rows land in backtest.*. Channels live in a per-test namespace and
the database is fresh, so this runs beside anything else.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

import asyncpg
import pytest
from google.protobuf.message import Message

from kestrel_backtest.jobs import plan_job
from kestrel_backtest.service import serve
from kestrel_backtest.settings import BacktestSettings
from kestrel_backtest.testing import make_job, sample_rows
from kestrel_contracts.registry import NAMESPACE_ENV, channel
from kestrel_contracts.v1.backtest_result_pb2 import (
    BACKTEST_STATUS_FAILED,
    BACKTEST_STATUS_SUCCEEDED,
    BacktestProgress,
    BacktestResult,
)
from kestrel_messaging import Delivery
from kestrel_messaging.kafka import KafkaBus
from kestrel_store.backtest_queries import get_run, report_formats, run_rows
from kestrel_store.backtest_runs import claim_run, heartbeat
from kestrel_store.bars import upsert_bars
from kestrel_store.migrate import apply_migrations
from kestrel_store.pool import create_pool

pytestmark = pytest.mark.integration
START, END = datetime(2015, 1, 1, tzinfo=UTC), datetime(2019, 1, 1, tzinfo=UTC)
LEASE_S = 4.0


@dataclass
class Rig:
    pool: asyncpg.Pool
    bus: KafkaBus
    settings: BacktestSettings
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    seen: list[Message] = field(default_factory=list)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def collect(self, delivery: Delivery) -> None:
        self.seen.append(delivery.message)

    def results(self, job_id: str) -> list[BacktestResult]:
        return [m for m in self.seen if isinstance(m, BacktestResult) and m.job_id == job_id]

    def start_worker(self, name: str) -> None:
        settings = self.settings.model_copy(update={"backtest_consumer_name": name})
        self.tasks.append(asyncio.create_task(serve(settings, self.stop)))


async def until(condition: Callable[[], Awaitable[bool] | bool], what: str, within_s: float = 120) -> None:
    deadline = asyncio.get_running_loop().time() + within_s
    while True:
        done = condition()
        if done if isinstance(done, bool) else await done:
            return
        assert asyncio.get_running_loop().time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.2)


@pytest.fixture
async def rig(
    kafka_bootstrap: str, fresh_database_url: str, unique: str, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Rig]:
    monkeypatch.setenv(NAMESPACE_ENV, f"test-backtest-{unique}")
    await apply_migrations(fresh_database_url)
    pool = await create_pool(fresh_database_url, max_size=4)
    await upsert_bars(pool, sample_rows("sp500", "SP500", 1500))
    await upsert_bars(pool, sample_rows("nasdaq", "NASDAQ", 1500))
    bus = KafkaBus(kafka_bootstrap, client_id=f"test-{unique}")
    for name in ("backtest.jobs", "backtest.results", "backtest.progress"):
        await bus.ensure_channel(channel(name))
    settings = BacktestSettings(
        http_port=0,
        kafka_bootstrap=kafka_bootstrap,
        database_url=fresh_database_url,
        backtest_group=f"backtest-{unique}",
        backtest_lease_s=LEASE_S,
    )
    made = Rig(pool, bus, settings)
    for name in ("backtest.results", "backtest.progress"):
        sub = bus.subscribe(channel(name), group=f"test-{unique}", consumer="test")
        made.tasks.append(asyncio.create_task(sub.run(made.collect, made.stop)))
    try:
        yield made
    finally:
        made.stop.set()
        for task in made.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(task, 60)
        await bus.close()
        await pool.close()


async def test_two_workers_run_each_job_once_and_store_everything(rig: Rig) -> None:
    rig.start_worker("worker-a")
    rig.start_worker("worker-b")
    jobs = [
        make_job("sma_cross", ["SP500"], START, END, parameters={"fast": "10", "slow": "40"}),
        make_job("macd", ["SP500", "NASDAQ"], START, END, mode="exact"),
        make_job("rsi_reversion", ["NASDAQ"], START, END),
        make_job("dual_momentum", ["SP500"], START, END, reference_symbol="NASDAQ"),
    ]
    for job in jobs:
        await rig.bus.publish(channel("backtest.jobs"), job, key=job.job_id)
    await rig.bus.publish(channel("backtest.jobs"), jobs[0], key=jobs[0].job_id)  # a redelivery
    await until(lambda: all(rig.results(j.job_id) for j in jobs), "a result per job")
    await until(lambda: len(rig.results(jobs[0].job_id)) >= 2, "the redelivered job's result")
    for job in jobs:
        results = rig.results(job.job_id)
        assert {r.event_id for r in results} == {results[0].event_id}, "one result per job"
        result = results[0]
        assert result.status == BACKTEST_STATUS_SUCCEEDED, result.error_message
        run = await get_run(rig.pool, uuid.UUID(job.job_id))
        assert run is not None and run["status"] == "SUCCEEDED" and run["attempts"] == 1
        assert run["worker"] in {"worker-a", "worker-b"} and run["progress"] == 1.0
        assert run["mode"] == (job.mode or "fast")
        fills = await run_rows(rig.pool, uuid.UUID(job.job_id), "fills", limit=10_000)
        assert len(fills) == result.trade_count > 0
        assert all(isinstance(f["price"], Decimal) for f in fills)
        assert Decimal(run["money"]["final_equity"]) == Decimal(result.final_equity)
        equity = await run_rows(rig.pool, uuid.UUID(job.job_id), "equity", limit=10_000)
        assert len(equity) == len({e["ts"] for e in equity}) > 900
        assert result.metrics["trade_count"] >= 1 and result.strategy_id.startswith(job.strategy_id)
        assert "html" in await report_formats(rig.pool, uuid.UUID(job.job_id))
    progress = [m for m in rig.seen if isinstance(m, BacktestProgress) and m.job_id == jobs[1].job_id]
    assert progress and {p.stage for p in progress} >= {"running"}


async def test_bad_jobs_fail_fast_with_a_reason(rig: Rig) -> None:
    rig.start_worker("worker-a")
    cases = {
        "unknown strategy 'nope'": make_job("nope", ["SP500"], START, END),
        "slow=900 is outside": make_job("sma_cross", ["SP500"], START, END, parameters={"slow": "900"}),
        "no 1d bars of SP500": make_job(
            "sma_cross", ["SP500"], datetime(1990, 1, 1, tzinfo=UTC), START.replace(year=1991)
        ),
        "no 1d bars of NOPE": make_job("sma_cross", ["SP500", "NOPE"], START, END),
    }
    for job in cases.values():
        await rig.bus.publish(channel("backtest.jobs"), job, key=job.job_id)
    await until(lambda: all(rig.results(j.job_id) for j in cases.values()), "a result per bad job")
    for reason, job in cases.items():
        result = rig.results(job.job_id)[0]
        assert result.status == BACKTEST_STATUS_FAILED and reason in result.error_message
        run = await get_run(rig.pool, uuid.UUID(job.job_id))
        assert run is not None and run["status"] == "FAILED" and reason in run["error"]


async def test_a_job_whose_worker_died_is_run_again_to_completion(rig: Rig) -> None:
    job = make_job("ema_cross", ["SP500"], START, END)
    # A worker took the job and died mid-run: the run is RUNNING and the offset was never committed.
    claim = await claim_run(rig.pool, plan_job(job).submission, "dead-worker")
    assert claim.run and claim.attempts == 1
    await rig.bus.publish(channel("backtest.jobs"), job, key=job.job_id)
    rig.start_worker("worker-a")
    await until(lambda: bool(rig.results(job.job_id)), "the result")
    run = await get_run(rig.pool, uuid.UUID(job.job_id))
    assert run is not None and run["status"] == "SUCCEEDED"
    assert run["attempts"] == 2 and run["worker"] == "worker-a"
    assert len(rig.results(job.job_id)) == 1


async def test_a_job_a_live_worker_holds_is_not_started_again_until_its_lease_lapses(rig: Rig) -> None:
    job = make_job("ema_cross", ["SP500"], START, END)
    run_id = uuid.UUID(job.job_id)
    # Another worker holds the job and keeps its lease (as after a rebalance moved the partition).
    claim = await claim_run(rig.pool, plan_job(job).submission, "busy-worker", lease_s=LEASE_S)
    assert claim.run and claim.attempts == 1
    await rig.bus.publish(channel("backtest.jobs"), job, key=job.job_id)
    rig.start_worker("worker-a")
    held_until = asyncio.get_running_loop().time() + 2 * LEASE_S
    while asyncio.get_running_loop().time() < held_until:
        assert await heartbeat(rig.pool, run_id, "busy-worker"), "the holder's lease was taken"
        await asyncio.sleep(LEASE_S / 4)
    run = await get_run(rig.pool, run_id)
    assert run is not None and run["attempts"] == 1 and run["worker"] == "busy-worker"
    assert not rig.results(job.job_id), "a held job must not be run by a second worker"
    # The holder stops beating (it died): worker-a takes the job over once the lease lapses.
    await until(lambda: bool(rig.results(job.job_id)), "the result after the lease lapsed")
    run = await get_run(rig.pool, run_id)
    assert run is not None and run["status"] == "SUCCEEDED"
    assert run["attempts"] == 2 and run["worker"] == "worker-a"
    assert not await heartbeat(rig.pool, run_id, "busy-worker"), "a finished run takes no heartbeat"

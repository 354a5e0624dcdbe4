"""backtest.jobs delivery -> a stored run and one BacktestResult on backtest.results.

A job is claimed in ``backtest.runs`` by its event id before it runs, and its worker keeps a lease
on it while it runs. A redelivery to another worker (a rebalance moved the partition) waits while
that lease is live; once the lease lapses (the worker died) it claims the job again and runs it from
scratch (nothing of the first attempt was stored). A redelivery of a finished job republishes the
stored result, so a job has exactly one result, under
one event id. Jobs that cannot run (unknown strategy, bad parameters, no data in range) end FAILED
with the reason in the run and the result; a message that is not a job at all goes to the DLQ.
Infrastructure errors (PostgreSQL, Kafka) propagate, so the consumer retries the job.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass

import asyncpg

from kestrel_backtest import metrics
from kestrel_backtest.domain import BacktestInputError
from kestrel_backtest.jobs import JobPlan, job_uuid, plan_job
from kestrel_backtest.market_data import store_market
from kestrel_backtest.progress import ProgressRelay
from kestrel_backtest.runner import Renderer, failure_result, run_plan, success_result
from kestrel_contracts.events import ns_to_datetime
from kestrel_contracts.registry import Channel, channel
from kestrel_contracts.v1.backtest_job_pb2 import BacktestJob
from kestrel_contracts.v1.backtest_result_pb2 import BacktestResult
from kestrel_messaging import Delivery, MessageBus, PermanentError
from kestrel_platform.logging import get_logger
from kestrel_store.backtest_runs import (
    Claim,
    RunConflictError,
    RunSubmission,
    claim_run,
    finish_failure,
    finish_success,
    heartbeat,
)

_log = get_logger("kestrel.backtest.handler")


@dataclass(frozen=True)
class BacktestChannels:
    results: Channel
    progress: Channel

    @classmethod
    def registered(cls) -> BacktestChannels:
        return cls(channel("backtest.results"), channel("backtest.progress"))


class JobsHandler:
    def __init__(
        self,
        pool: asyncpg.Pool,
        bus: MessageBus,
        channels: BacktestChannels,
        *,
        worker: str,
        renderer: Renderer | None = None,
        lease_s: float = 30.0,
    ) -> None:
        self._pool, self._bus, self._channels = pool, bus, channels
        self._worker, self._renderer, self._lease_s = worker, renderer, lease_s

    async def __call__(self, delivery: Delivery) -> None:
        job = delivery.message
        if not isinstance(job, BacktestJob):
            raise PermanentError(f"expected a BacktestJob, got {type(job).__name__}")
        started = time.time_ns()
        try:
            plan = plan_job(job)
        except BacktestInputError as exc:
            await self._refuse(job, exc, started)
            return
        try:
            claim = await self._claim(plan.submission)
        except RunConflictError as exc:
            raise PermanentError(f"job {job.job_id}: {exc}") from None
        if not claim.run:
            if claim.result is not None:  # finished before the offset was committed: same result again
                await self._publish(BacktestResult.FromString(claim.result))
            return
        _log.info("job.started", job_id=str(plan.job_id), attempt=claim.attempts, mode=plan.mode)
        lease = asyncio.create_task(self._keep_lease(plan.job_id))
        try:
            await self._run(plan, started)
        finally:
            lease.cancel()

    async def _claim(self, submission: RunSubmission) -> Claim:
        """Claim the job, waiting while another live worker holds it (it finishes or its lease lapses)."""
        claim = await claim_run(self._pool, submission, self._worker, lease_s=self._lease_s)
        if claim.busy:
            _log.info("job.held_elsewhere", job_id=str(submission.run_id), lease_s=self._lease_s)
        while claim.busy:
            await asyncio.sleep(min(1.0, self._lease_s / 5))
            claim = await claim_run(self._pool, submission, self._worker, lease_s=self._lease_s)
        return claim

    async def _keep_lease(self, run_id: uuid.UUID) -> None:
        while True:
            await asyncio.sleep(self._lease_s / 4)
            try:
                await heartbeat(self._pool, run_id, self._worker)
            except Exception as exc:  # a missed beat only shortens the lease; the run goes on
                _log.warning("lease.heartbeat_failed", job_id=str(run_id), error=repr(exc))

    async def _run(self, plan: JobPlan, started: int) -> None:
        spec = plan.spec
        relay = ProgressRelay(self._pool, self._bus, self._channels.progress, plan.job_id)
        relay.report(0.0, 0, "loading")
        market = await store_market(
            self._pool, spec.symbols, spec.timeframe, plan.start, plan.end, reference=plan.reference_symbol
        )
        try:
            outcome = await asyncio.to_thread(run_plan, plan, market, relay.report, self._renderer)
        except Exception as exc:  # the job's own fault (no data, a strategy error): the run says why
            await relay.drain()
            await self._fail(plan.job_id, str(plan.job_event_id), exc, started)
            return
        relay.report(1.0, outcome.path.bars, "storing")
        await relay.drain()
        result = success_result(plan, outcome, started)
        await finish_success(self._pool, plan.job_id, outcome.output, result.SerializeToString())
        metrics.JOBS.labels("SUCCEEDED", plan.mode).inc()
        metrics.BARS.inc(outcome.path.bars)
        metrics.DURATION.labels(plan.mode).observe((time.time_ns() - started) / 1e9)
        await self._publish(result)
        _log.info("job.succeeded", job_id=str(plan.job_id), fills=len(outcome.path.fills))

    async def _fail(self, run_id: uuid.UUID, job_event_id: str, exc: BaseException, started: int) -> None:
        result = failure_result(str(run_id), job_event_id, exc, started)
        await finish_failure(
            self._pool, run_id, result.error_type, result.error_message, result.SerializeToString()
        )
        metrics.JOBS.labels("FAILED", "").inc()
        await self._publish(result)
        _log.info("job.failed", job_id=str(run_id), error=result.error_message)

    async def _refuse(self, job: BacktestJob, exc: BacktestInputError, started: int) -> None:
        """A job that cannot even be planned: record it FAILED where it can be recorded, publish why."""
        try:
            run_id, event_id = job_uuid(job.job_id, "job_id"), job_uuid(job.event_id, "event_id")
        except BacktestInputError as bad_id:
            raise PermanentError(f"unusable backtest job: {bad_id}") from exc
        submission = RunSubmission(
            run_id=run_id,
            job_event_id=event_id,
            strategy=job.strategy_id or "?",
            parameters=dict(job.parameters),
            symbols=list(job.symbols) or ["?"],
            timeframe=job.timeframe or "?",
            start_ts=ns_to_datetime(max(job.start_ns, 0)),
            end_ts=ns_to_datetime(max(job.end_ns, job.start_ns + 1, 1)),
            mode=job.mode if job.mode in ("fast", "exact") else "fast",
            spec={},
            submitted_by=job.requested_by,
        )
        claim = await self._claim(submission)
        if not claim.run:
            if claim.result is not None:
                await self._publish(BacktestResult.FromString(claim.result))
            return
        await self._fail(run_id, str(event_id), exc, started)

    async def _publish(self, result: BacktestResult) -> None:
        await self._bus.publish(self._channels.results, result, key=result.job_id)

"""``backtest.*`` writes: a run's submission, its claim by a worker, progress, and its one final write.

A job is claimed by its ``job_event_id`` (unique): the first delivery inserts the run. A running
run holds a lease its worker refreshes (``heartbeat``); a redelivery of a RUNNING job claims it
again only once that lease has lapsed (its worker died) and runs it from scratch, while a live
worker's run is left to finish. A redelivery of a finished job finds the stored result and
republishes that, so a job never has two different results. Everything a run produced is written
in the one transaction that finishes it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeAlias
from uuid import UUID

import asyncpg

from kestrel_store.pool import acquired

FINISHED = ("SUCCEEDED", "FAILED", "CANCELED")


@dataclass(frozen=True)
class RunSubmission:
    """A run as submitted: what ``backtest.runs`` records before any worker has seen it."""

    run_id: UUID
    job_event_id: UUID
    strategy: str
    parameters: Mapping[str, str]
    symbols: Sequence[str]
    timeframe: str
    start_ts: datetime
    end_ts: datetime
    mode: str
    spec: Mapping[str, Any]
    submitted_by: str = ""


@dataclass(frozen=True)
class Claim:
    """What a worker found: ``run`` means go (attempt n); ``busy`` means another worker's lease on the
    run is live; otherwise the run is finished and ``result`` holds its result bytes."""

    status: str
    attempts: int
    result: bytes | None
    granted: bool = True

    @property
    def run(self) -> bool:
        return self.granted and self.status not in FINISHED

    @property
    def busy(self) -> bool:
        return not self.granted and self.status not in FINISHED


@dataclass(frozen=True)
class RunOutput:
    """Everything a successful run stores; rows in column order of their tables (run_id, seq first)."""

    strategy_id: str
    metrics: Mapping[str, float | None]
    money: Mapping[str, str]
    bars_processed: int
    fills: Sequence[tuple[Any, ...]] = ()  # ts, symbol, side, quantity, price, fee, client_order_id
    trades: Sequence[tuple[Any, ...]] = ()  # symbol, direction, status, entry_ts, exit_ts, size, ...
    rejections: Sequence[tuple[Any, ...]] = ()  # ts, symbol, action, reason, detail
    equity: Sequence[tuple[Any, ...]] = ()  # ts, equity, benchmark, drawdown
    reports: Mapping[str, tuple[str, bytes]] = field(default_factory=dict)  # format -> (media type, bytes)


# A pool or one connection (inside a caller's transaction).
Db: TypeAlias = asyncpg.Pool | asyncpg.Connection

_INSERT = """
INSERT INTO backtest.runs (run_id, job_event_id, status, strategy, parameters, symbols, timeframe,
    start_ts, end_ts, mode, spec, submitted_by)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
ON CONFLICT DO NOTHING
RETURNING run_id
"""

# A RUNNING run is taken over by its own worker (a retried delivery) or once its lease has lapsed.
_CLAIM = """
UPDATE backtest.runs SET status = 'RUNNING', worker = $2, attempts = attempts + 1,
    started_at = now(), heartbeat_at = now(), progress = 0, bars_processed = 0
WHERE job_event_id = $1 AND (status = 'QUEUED' OR (status = 'RUNNING' AND (
    worker = $2 OR heartbeat_at IS NULL OR heartbeat_at < now() - make_interval(secs => $3))))
RETURNING status, attempts, result
"""


class RunConflictError(ValueError):
    """The run id is taken by another job, or the job by another run id: never overwrite either."""


async def record_submission(db: Db, run: RunSubmission, *, status: str = "QUEUED") -> bool:
    """Insert the run unless its job is already recorded; True when this call inserted it.

    ON CONFLICT instead of catching the violation: inside the claim's transaction a caught error
    would still abort the transaction."""
    async with acquired(db) as conn:
        inserted = await conn.fetchval(
            _INSERT,
            run.run_id,
            run.job_event_id,
            status,
            run.strategy,
            dict(run.parameters),
            list(run.symbols),
            run.timeframe,
            run.start_ts,
            run.end_ts,
            run.mode,
            dict(run.spec),
            run.submitted_by or None,
        )
        if inserted is not None:
            return True
        clashes = await conn.fetch(
            "SELECT run_id, job_event_id FROM backtest.runs WHERE run_id = $1 OR job_event_id = $2",
            run.run_id,
            run.job_event_id,
        )
        if any((r["run_id"], r["job_event_id"]) != (run.run_id, run.job_event_id) for r in clashes):
            raise RunConflictError(f"run {run.run_id} or job event {run.job_event_id} names another run")
        return False


async def claim_run(db: Db, run: RunSubmission, worker: str, *, lease_s: float = 30.0) -> Claim:
    """Claim the run of this job for ``worker`` (recording it first when the gateway did not)."""
    async with acquired(db) as conn, conn.transaction():
        await record_submission(conn, run)
        row = await conn.fetchrow(_CLAIM, run.job_event_id, worker, lease_s)
        if row is not None:
            return Claim(row["status"], row["attempts"], row["result"])
        # Finished (hand back what it published) or held by a live worker.
        row = await conn.fetchrow(
            "SELECT status, attempts, result FROM backtest.runs WHERE job_event_id = $1", run.job_event_id
        )
        assert row is not None
        return Claim(row["status"], row["attempts"], row["result"], granted=False)


async def heartbeat(db: Db, run_id: UUID, worker: str) -> bool:
    """Refresh ``worker``'s lease on a running run; False when the run is no longer its own."""
    status = await db.execute(
        """UPDATE backtest.runs SET heartbeat_at = now()
           WHERE run_id = $1 AND worker = $2 AND status = 'RUNNING'""",
        run_id,
        worker,
    )
    return bool(status.endswith(" 1"))


async def record_progress(db: Db, run_id: UUID, fraction: float, bars: int) -> None:
    await db.execute(
        """UPDATE backtest.runs SET progress = $2, bars_processed = $3
           WHERE run_id = $1 AND status = 'RUNNING'""",
        run_id,
        min(max(fraction, 0.0), 1.0),
        bars,
    )


async def finish_success(db: Db, run_id: UUID, output: RunOutput, result: bytes) -> None:
    """Store the run's children and mark it SUCCEEDED, all in one transaction."""
    async with acquired(db) as conn, conn.transaction():
        for table in ("fills", "trades", "rejections", "equity", "reports"):
            await conn.execute(f"DELETE FROM backtest.{table} WHERE run_id = $1", run_id)
        await _copy(conn, "fills", run_id, output.fills, numbered=True)
        await _copy(conn, "trades", run_id, output.trades, numbered=True)
        await _copy(conn, "rejections", run_id, output.rejections, numbered=True)
        await _copy(conn, "equity", run_id, output.equity, numbered=False)
        reports = [(fmt, media, content) for fmt, (media, content) in output.reports.items()]
        await _copy(conn, "reports", run_id, reports, numbered=False)
        await conn.execute(
            """UPDATE backtest.runs SET status = 'SUCCEEDED', strategy_id = $2, metrics = $3, money = $4,
                   bars_processed = $5, progress = 1, result = $6, finished_at = now(), error = NULL
               WHERE run_id = $1""",
            run_id,
            output.strategy_id,
            dict(output.metrics),
            dict(output.money),
            output.bars_processed,
            result,
        )


async def finish_failure(db: Db, run_id: UUID, error_type: str, message: str, result: bytes) -> None:
    await db.execute(
        """UPDATE backtest.runs SET status = 'FAILED', error_type = $2, error = $3, result = $4,
               finished_at = now()
           WHERE run_id = $1""",
        run_id,
        error_type,
        message or error_type,
        result,
    )


_COLUMNS = {
    "fills": ("ts", "symbol", "side", "quantity", "price", "fee", "client_order_id"),
    "trades": (
        "symbol",
        "direction",
        "status",
        "entry_ts",
        "exit_ts",
        "size",
        "entry_price",
        "exit_price",
        "fees",
        "pnl",
        "return",
    ),
    "rejections": ("ts", "symbol", "action", "reason", "detail"),
    "equity": ("ts", "equity", "benchmark", "drawdown"),
    "reports": ("format", "media_type", "content"),
}


async def _copy(
    conn: asyncpg.Connection, table: str, run_id: UUID, rows: Sequence[tuple[Any, ...]], *, numbered: bool
) -> None:
    if not rows:
        return
    head = ("run_id", "seq") if numbered else ("run_id",)
    records = [(run_id, i, *r) if numbered else (run_id, *r) for i, r in enumerate(rows)]
    await conn.copy_records_to_table(
        table, schema_name="backtest", columns=[*head, *_COLUMNS[table]], records=records
    )


def money_text(values: Mapping[str, Decimal]) -> dict[str, str]:
    """Money as decimal strings (JSON has no decimal type; a float would round it)."""
    return {k: str(v) for k, v in values.items()}

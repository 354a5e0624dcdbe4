"""Waiting for the live loop to finish the replay: counted in the store, shown as progress.

Every closed bar past the feature warm-up becomes one vector and one signal; risk decides every
signal that wants to trade and execution settles the approved orders. The loop is done when vectors
and signals reach the expected count and nothing downstream has moved for `SETTLE_S` seconds.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, replace

import asyncpg
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from kestrel_featurelib import default_feature_set
from kestrel_store.pool import create_pool

SETTLE_S = 3.0
POLL_S = 0.5


@dataclass(frozen=True, slots=True)
class DemoCounts:
    bars: int
    vectors: int
    signals: int
    decisions: int
    orders: int
    fills: int
    # Open orders the venue has not answered yet (a live venue's rate limit may hold one back for a
    # while; the resolver sends it once allowed): the loop is not settled while there are any.
    unanswered: int
    expected_vectors: int

    @property
    def downstream(self) -> tuple[int, int, int, int]:
        return self.signals, self.decisions, self.orders, self.fills


_COUNTS = """
SELECT (SELECT count(*) FROM market.bars) AS bars,
       (SELECT count(*) FROM features.vectors) AS vectors,
       (SELECT count(*) FROM trading.signals) AS signals,
       (SELECT count(*) FROM trading.risk_decisions) AS decisions,
       (SELECT count(*) FROM trading.orders) AS orders,
       (SELECT count(*) FROM trading.fills) AS fills,
       (SELECT count(*) FROM trading.orders
        WHERE venue_state <> 'ACKED' AND status IN ('NEW', 'PARTIALLY_FILLED')) AS unanswered
"""


async def expected_vector_count(pool: asyncpg.Pool, reference: str = "SP500") -> int:
    """One vector per stored bar past the warm-up of its symbol's series."""
    warmup = default_feature_set(reference).warmup
    rows = await pool.fetch("SELECT symbol, count(*) AS n FROM market.bars GROUP BY symbol")
    return sum(max(0, int(row["n"]) - warmup + 1) for row in rows)


async def counts(pool: asyncpg.Pool, expected: int) -> DemoCounts:
    row = await pool.fetchrow(_COUNTS)
    assert row is not None
    return DemoCounts(**{k: int(v) for k, v in row.items()}, expected_vectors=expected)


async def wait_for_loop(
    database_url: str,
    timeout_s: float,
    console: Console,
    *,
    per_bar: bool = False,
    untraded: str | None = None,
) -> DemoCounts:
    """Until the signals reach one per vector (or per bar of a traded symbol: not ``untraded``, a
    strategy's reference) and nothing moved for SETTLE_S."""
    pool = await create_pool(database_url, application_name="kestrel-demo", min_size=1, max_size=2)
    try:
        vectors = await expected_vector_count(pool)
        traded_bars = "SELECT count(*) FROM market.bars WHERE symbol IS DISTINCT FROM $1"
        expected = int(await pool.fetchval(traded_bars, untraded)) if per_bar else vectors
        deadline = time.monotonic() + timeout_s
        with Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[detail]}"),
            TimeElapsedColumn(),
            console=console,
        ) as progress:
            task = progress.add_task("signals", total=expected, detail="")
            last, still_since = await counts(pool, expected), time.monotonic()
            while time.monotonic() < deadline:
                await asyncio.sleep(POLL_S)
                now = await counts(pool, expected)
                detail = f"orders {now.orders} fills {now.fills}"
                progress.update(task, completed=now.signals, detail=detail)
                if now != last:
                    last, still_since = now, time.monotonic()
                elif (
                    now.signals >= expected
                    and not now.unanswered
                    and time.monotonic() - still_since >= SETTLE_S
                ):
                    return replace(now, expected_vectors=vectors)
        raise TimeoutError(f"the loop did not settle within {timeout_s:.0f}s: {last}")
    finally:
        await pool.close()

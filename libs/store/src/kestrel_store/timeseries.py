"""Time-series queries that run unchanged on TimescaleDB and on plain PostgreSQL.

All bucketing goes through the SQL function ``kestrel.time_bucket(bucket interval, ts timestamptz)``
(migration 0001): on TimescaleDB it is TimescaleDB's ``time_bucket``, on PostgreSQL ``date_bin``
(plus calendar-month arithmetic); both align buckets identically in UTC — fixed strides from Monday
2000-01-03, whole months from 2000-01-01 — and the planner inlines it, so it costs nothing. Write
queries against ``kestrel.time_bucket`` and they work on both stores.

Partition upkeep for natively partitioned tables is here too (no-ops on hypertables).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

from kestrel_store.pool import Queryable

_TIMEFRAME = re.compile(r"^(?P<count>[1-9]\d*)(?P<unit>[smhdwM])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks", "M": "months"}


def timeframe_to_interval(timeframe: str) -> str:
    """An exchange-style timeframe ('1m', '4h', '1d', '1w', '1M') as a PostgreSQL interval literal.

    Lower-case 'm' is minutes and upper-case 'M' months, as on the exchanges.
    """
    match = _TIMEFRAME.match(timeframe)
    if match is None:
        raise ValueError(
            f"unknown timeframe {timeframe!r}; expected e.g. '1m', '15m', '4h', '1d', '1w', '1M'"
        )
    return f"{match['count']} {_UNITS[match['unit']]}"


def as_interval(bucket: str | timedelta) -> str:
    """A bucket given as a timeframe ('1h'), an interval literal ('1 hour') or a timedelta, as text
    for a ``$n::text::interval`` parameter (text so that months, which timedelta cannot hold, work)."""
    if isinstance(bucket, timedelta):
        if bucket <= timedelta(0):
            raise ValueError(f"bucket must be positive, got {bucket}")
        micros = (bucket.days * 86_400 + bucket.seconds) * 1_000_000 + bucket.microseconds
        return f"{micros} microseconds"
    if _TIMEFRAME.match(bucket):
        return timeframe_to_interval(bucket)
    return bucket


@dataclass(frozen=True, slots=True)
class ResampledBar:
    """One bucket of a resampled series; ``bar_count`` says how many source bars it holds, so a caller
    can tell a complete bucket from a partial one at the edges of the range or of the data."""

    bucket: datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    bar_count: int


# first/last by ts via ordered array_agg: standard SQL aggregates, so the same text runs on both stores.
RESAMPLE_BARS_SQL = """
SELECT kestrel.time_bucket($3::text::interval, ts) AS bucket,
       (array_agg(open ORDER BY ts))[1]       AS open,
       max(high)                              AS high,
       min(low)                               AS low,
       (array_agg(close ORDER BY ts DESC))[1] AS close,
       sum(volume)                            AS volume,
       count(*)::integer                      AS bar_count
FROM market.bars
WHERE symbol = $1 AND timeframe = $2 AND ts >= $4 AND ts < $5
GROUP BY bucket
ORDER BY bucket
"""


async def resample_bars(
    conn: Queryable,
    symbol: str,
    source_timeframe: str,
    *,
    bucket: str | timedelta,
    start: datetime,
    end: datetime,
) -> list[ResampledBar]:
    """OHLCV of ``symbol``'s ``source_timeframe`` bars in [start, end), aggregated per ``bucket``.

    ``conn`` is an asyncpg connection or pool. Pass bucket-aligned ``start``/``end`` for complete
    first and last buckets (``bar_count`` reveals partial ones).
    """
    rows = await conn.fetch(RESAMPLE_BARS_SQL, symbol, source_timeframe, as_interval(bucket), start, end)
    return [
        ResampledBar(
            bucket=row["bucket"],
            open=row["open"],
            high=row["high"],
            low=row["low"],
            close=row["close"],
            volume=row["volume"],
            bar_count=row["bar_count"],
        )
        for row in rows
    ]


async def time_bucket(conn: Queryable, bucket: str | timedelta, ts: datetime) -> datetime:
    """The start of the bucket holding ``ts``, computed by the database's ``kestrel.time_bucket``."""
    result: datetime = await conn.fetchval(
        "SELECT kestrel.time_bucket($1::text::interval, $2)", as_interval(bucket), ts
    )
    return result


async def ensure_partitions_for(conn: Queryable, table: str, stamps: Iterable[datetime]) -> int:
    """Create the partitions of ``table`` that will hold ``stamps`` (call before writing a batch,
    outside its transaction). Returns how many were created; always 0 on a hypertable.

    Partition intervals are whole days or months (``kestrel.create_timeseries_table`` enforces it), so
    the UTC day of each timestamp is all the database needs: a batch of minute bars sends a handful of
    days, not every timestamp.
    """
    days = sorted({_utc_midnight(ts) for ts in stamps})
    if not days:
        return 0
    created: int = await conn.fetchval(
        "SELECT kestrel.ensure_partitions_for($1::regclass, $2::timestamptz[])", table, days
    )
    return created


def _utc_midnight(ts: datetime) -> datetime:
    if ts.tzinfo is None:
        raise ValueError(f"naive datetime {ts} has no time zone; store timestamps are timezone-aware")
    return datetime.combine(ts.astimezone(UTC).date(), time.min, tzinfo=UTC)


async def maintain_partitions(conn: Queryable, ahead: str | timedelta | None = None) -> int:
    """Premake partitions from now to now + ``ahead`` (default: three buckets) for every partitioned
    time-series table; meant for service start-up or a periodic job. Returns how many were created."""
    interval = None if ahead is None else as_interval(ahead)
    created: int = await conn.fetchval("SELECT kestrel.maintain_partitions($1::text::interval)", interval)
    return created

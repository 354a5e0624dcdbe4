"""Issue #3, end to end on real Kafka, PostgreSQL and Redis.

10,000 one-minute bars for each of 5 symbols are replayed from a file through the ingestion
pipeline onto Kafka; the features service (a real `python -m kestrel_features` process) turns them
into feature vectors. Midway the service is killed with SIGKILL and started again. Afterwards the
store holds exactly one vector per (symbol, bar) past warm-up, each equal to what the batch
evaluator computes over the whole series (so nothing was lost, doubled or computed from a wrong
state), Redis holds each symbol's latest vector, and the Kafka output has no two different vectors
for one (symbol, bar).
"""

from __future__ import annotations

import asyncio
import csv
import math
import os
import signal
import socket
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from kestrel_contracts.registry import channel
from kestrel_featurelib import default_feature_set
from kestrel_features.adapters.redis_online import RedisOnlineStore
from kestrel_ingestion.adapters.bar_store import PostgresBarStore
from kestrel_ingestion.domain import RawBar
from kestrel_ingestion.pipeline import IngestionPipeline
from kestrel_ingestion.sources.files import FileSource
from kestrel_ingestion.sources.synthetic import SyntheticSource
from kestrel_messaging import ConsumerOptions, Delivery
from kestrel_messaging.kafka import KafkaBus
from kestrel_store.migrate import apply_migrations
from kestrel_store.pool import create_pool
from kestrel_testing.messaging import consume_until

SYMBOLS, BARS = 5, 10_000
REFERENCE = "SYN000USDT"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_replay_file(path: Path) -> dict[str, list[RawBar]]:
    """5 symbols x 10,000 synthetic bars in one CSV with a symbol column (what `ingest replay` reads)."""
    by_symbol: dict[str, list[RawBar]] = {}
    with path.open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["symbol", "open_time", "open", "high", "low", "close", "volume"])
        for bar in SyntheticSource(SYMBOLS, BARS, "1m", seed=11).iter_bars():
            out.writerow(
                [bar.symbol, bar.ts_open // 1_000_000, bar.open, bar.high, bar.low, bar.close, bar.volume]
            )
            by_symbol.setdefault(bar.symbol, []).append(bar)
    return by_symbol


def expected_vectors(by_symbol: dict[str, list[RawBar]]) -> dict[str, pd.DataFrame]:
    """The batch evaluator over each whole series: what an uninterrupted live run must equal."""
    catalogue = default_feature_set(REFERENCE)

    def frame(bars: list[RawBar]) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "ts": [b.ts_open for b in bars],
                "open": [float(b.open) for b in bars],
                "high": [float(b.high) for b in bars],
                "low": [float(b.low) for b in bars],
                "close": [float(b.close) for b in bars],
                "volume": [float(b.volume) for b in bars],
            }
        )

    reference = frame(by_symbol[REFERENCE])
    out = {}
    for symbol, bars in by_symbol.items():
        batch = catalogue.batch(frame(bars), reference=reference)
        batch.index = [b.ts_open for b in bars]
        out[symbol] = batch.iloc[catalogue.warmup - 1 :]
    return out


async def vector_count(pool: Any) -> int:
    return int(await pool.fetchval("SELECT count(*) FROM features.vectors"))


def start_features(env: dict[str, str]) -> asyncio.Future[asyncio.subprocess.Process]:
    return asyncio.ensure_future(
        asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "kestrel_features",
            env=env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
    )


@pytest.mark.e2e
async def test_replay_through_ingestion_and_features_survives_a_sigkill(
    tmp_path: Path,
    kafka_bootstrap: str,
    redis_url: str,
    fresh_database_url: str,
    unique: str,
    monkeypatch: pytest.MonkeyPatch,
    tracing: None,
) -> None:
    monkeypatch.setenv("KESTREL_CHANNEL_NAMESPACE", f"e2e{unique}")
    by_symbol = write_replay_file(tmp_path / "bars.csv")
    catalogue = default_feature_set(REFERENCE)
    per_symbol = BARS - catalogue.warmup + 1
    env = {k: v for k, v in os.environ.items() if not k.startswith("KESTREL_")}
    env.update(
        KESTREL_CHANNEL_NAMESPACE=f"e2e{unique}",
        KESTREL_KAFKA_BOOTSTRAP=kafka_bootstrap,
        KESTREL_REDIS_URL=redis_url,
        KESTREL_DATABASE_URL=fresh_database_url,
        KESTREL_HTTP_PORT=str(free_port()),
        KESTREL_TIMEFRAME="1m",
        KESTREL_REFERENCE_SYMBOL=REFERENCE,
        KESTREL_CONSUMER_GROUP=f"features-{unique}",
        KESTREL_VECTOR_KEY_PREFIX=f"feat:{unique}:",
        KESTREL_STATE_KEY_PREFIX=f"featstate:{unique}:",
        KESTREL_LOG_LEVEL="WARNING",
    )
    pool = await create_pool(fresh_database_url)
    bus = KafkaBus(kafka_bootstrap)
    await apply_migrations(pool)
    for name in ("market.bars", "audit.logs", "features.vectors"):
        await bus.ensure_channel(channel(name))

    features = await start_features(env)
    try:
        ingest = asyncio.create_task(
            IngestionPipeline(bus, PostgresBarStore(pool)).run(FileSource(tmp_path / "bars.csv"))
        )
        async with asyncio.timeout(600):
            while await vector_count(pool) < SYMBOLS * per_symbol * 0.4:
                assert features.returncode is None, "the features service died on its own"
                await asyncio.sleep(0.2)
            features.send_signal(signal.SIGKILL)  # no drain, no commit: the hard way
            await features.wait()
            features = await start_features(env)
            result = await ingest
            assert result.published == SYMBOLS * BARS
            while await vector_count(pool) < SYMBOLS * per_symbol:
                assert features.returncode is None, "the restarted features service died"
                await asyncio.sleep(0.5)
        await asyncio.sleep(2)  # anything extra (a duplicate) would land now
        assert await vector_count(pool) == SYMBOLS * per_symbol
    finally:
        if features.returncode is None:
            features.send_signal(signal.SIGTERM)
            await asyncio.wait_for(features.wait(), 30)

    try:
        await assert_store_and_online_match_one_uninterrupted_run(pool, redis_url, unique, by_symbol)
        await assert_kafka_has_one_vector_per_bar(bus, unique, SYMBOLS * per_symbol)
    finally:
        await bus.close()
        await pool.close()


async def assert_store_and_online_match_one_uninterrupted_run(
    pool: Any, redis_url: str, unique: str, by_symbol: dict[str, list[RawBar]]
) -> None:
    expected = expected_vectors(by_symbol)
    names = default_feature_set(REFERENCE).names
    online = RedisOnlineStore.from_url(
        redis_url, "1m", vector_prefix=f"feat:{unique}:", state_prefix=f"featstate:{unique}:"
    )
    try:
        for symbol in by_symbol:
            rows = await pool.fetch(
                "SELECT (extract(epoch FROM ts) * 1e9)::bigint AS ts, values FROM features.vectors"
                " WHERE symbol = $1 ORDER BY ts",
                symbol,
            )
            want = expected[symbol]
            assert [r["ts"] for r in rows] == list(want.index), symbol
            for row, (_, wanted) in zip(rows[::97], want.iloc[::97].iterrows(), strict=False):
                for name, got in zip(names, row["values"], strict=True):
                    w = float(wanted[name])
                    assert (math.isnan(got) and math.isnan(w)) or got == pytest.approx(
                        w, rel=1e-9, abs=1e-12
                    ), (symbol, name)
            latest = await online.latest_vector(symbol)
            assert latest is not None and latest.ts_open == want.index[-1]
    finally:
        await online.close()


async def assert_kafka_has_one_vector_per_bar(bus: KafkaBus, unique: str, count: int) -> None:
    # At-least-once on Kafka: a vector may be re-sent after the kill, but always the same one.
    seen: dict[tuple[str, int], str] = {}
    different: list[tuple[str, int]] = []

    def first_time(delivery: Delivery) -> bool:
        vector = delivery.message
        key = (vector.symbol, vector.ts_event)  # type: ignore[attr-defined]
        if key in seen:
            if seen[key] != vector.event_id:  # type: ignore[attr-defined]
                different.append(key)
            return False
        seen[key] = vector.event_id  # type: ignore[attr-defined]
        return True

    await consume_until(
        bus.subscribe(
            channel("features.vectors"),
            group=f"check-{unique}",
            consumer="c",
            options=ConsumerOptions(poll_timeout_ms=100, batch_size=1000),
        ),
        count,
        within_s=180,
        where=first_time,
    )
    assert len(seen) == count and different == []

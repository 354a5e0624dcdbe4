"""The ingestion pipeline: validation, store, publish, audit — on the fake bus and on real servers."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest

from kestrel_contracts.registry import channel
from kestrel_contracts.v1.audit_event_pb2 import AuditEvent
from kestrel_contracts.v1.bar_pb2 import Bar, BarFlag
from kestrel_ingestion import metrics
from kestrel_ingestion.adapters.bar_store import InMemoryBarStore, PostgresBarStore
from kestrel_ingestion.pipeline import IngestionPipeline
from kestrel_ingestion.sources.files import FileSource
from kestrel_ingestion.sources.synthetic import SyntheticSource
from kestrel_messaging import ConsumerOptions, InMemoryBus
from kestrel_messaging.kafka import KafkaBus
from kestrel_platform.control import ALL, Action, Process
from kestrel_platform.control_gate import ProcessGate
from kestrel_platform.control_store import InMemoryControl
from kestrel_store.bars import fetch_bars
from kestrel_store.migrate import apply_migrations
from kestrel_store.pool import create_pool
from kestrel_testing.messaging import consume_until

# 1-minute bars: a malformed row, a duplicate, a 3-bar gap, an out-of-order bar, a bad OHLC row.
MESSY = """timestamp,open,high,low,close,volume
2024-03-01T00:00:00Z,100,101,99,100.5,10
2024-03-01T00:01:00Z,100.5,102,100,101.5,12
2024-03-01T00:02:00Z,101.5,not-a-price,101,102,9
2024-03-01T00:01:00Z,100.5,102,100,101.5,12
2024-03-01T00:06:00Z,102,103,101.5,102.5,8
2024-03-01T00:04:00Z,102,102.5,101,101.2,7
2024-03-01T00:07:00Z,102.5,102,103,102.8,5
2024-03-01T00:08:00Z,102.8,103.1,102.2,103.0,6
"""


def messy_file(tmp_path: Path) -> Path:
    path = tmp_path / "messy.csv"
    path.write_text(MESSY)
    return path


async def test_a_messy_file_gives_a_clear_report_and_the_good_rows_land(tmp_path: Path) -> None:
    bus, store = InMemoryBus(), InMemoryBarStore()
    gaps_before = metrics.GAPS.labels("MESSY", "1m")._value.get()
    result = await IngestionPipeline(bus, store).run(FileSource(messy_file(tmp_path), symbol="MESSY"))

    report = result.report.render()
    assert "messy.csv:4" in report  # the malformed row, by line
    published = [Bar.FromString(r.data) for r in bus.records(channel("market.bars"))]
    assert [b.close for b in published] == ["100.5", "101.5", "102.5", "103"]
    assert len(store.bars) == 4 and result.published == 4
    assert [list(b.flags) for b in published] == [
        [],
        [],
        [BarFlag.BAR_FLAG_AFTER_GAP],
        [BarFlag.BAR_FLAG_AFTER_GAP],
    ]
    assert metrics.GAPS.labels("MESSY", "1m")._value.get() == gaps_before + 2

    audits = [AuditEvent.FromString(r.data) for r in bus.records(channel("audit.logs"))]
    gaps = [a for a in audits if a.action == "market_data.gap"]
    # 00:02-00:05 are missing (00:02 was unreadable, 00:04 came late); 00:07 was rejected (high < low).
    assert [(g.attributes["missing"], g.symbol) for g in gaps] == [("4", "MESSY"), ("1", "MESSY")]
    assert any(a.action == "market_data.unreadable_row" and "messy.csv:4" in a.message for a in audits)
    outcomes = {o.value: n for o, n in result.report.outcomes.items()}
    assert (outcomes["duplicate"], outcomes["out of order"], outcomes["invalid"]) == (1, 1, 1)


async def test_batches_are_cut_between_timestamps_never_inside_one() -> None:
    bus, store = InMemoryBus(), InMemoryBarStore()
    source = SyntheticSource(3, 10, seed=1)
    await IngestionPipeline(bus, store, batch_size=4).run(source)
    published = [Bar.FromString(r.data) for r in bus.records(channel("market.bars"))]
    assert len(published) == 30
    # Every flush holds whole timestamps: with 3 symbols a batch is a multiple of 3 bars.
    assert store.bars and all(
        len([b for b in published if b.ts_open == t]) == 3 for t in {b.ts_open for b in published}
    )


async def test_ingesting_twice_publishes_the_same_event_ids_and_stores_nothing_new() -> None:
    bus, store = InMemoryBus(), InMemoryBarStore()
    first = await IngestionPipeline(bus, store).run(SyntheticSource(2, 50, seed=3))
    second = await IngestionPipeline(bus, store).run(SyntheticSource(2, 50, seed=3))
    ids = [Bar.FromString(r.data).event_id for r in bus.records(channel("market.bars"))]
    assert (first.stored, second.stored) == (100, 0)
    assert ids[:100] == ids[100:]


@pytest.mark.integration
async def test_replay_lands_in_postgres_and_on_kafka_with_audit(
    tmp_path: Path, kafka_bootstrap: str, fresh_database_url: str, tracing: None
) -> None:
    pool = await create_pool(fresh_database_url)
    bus = KafkaBus(kafka_bootstrap)
    symbol = f"MESSY{uuid.uuid4().hex[:6].upper()}"
    try:
        await apply_migrations(pool)
        for name in ("market.bars", "audit.logs"):
            await bus.ensure_channel(channel(name))
        store = PostgresBarStore(pool)
        result = await IngestionPipeline(bus, store).run(FileSource(messy_file(tmp_path), symbol=symbol))
        stored = await fetch_bars(pool, symbol, "1m")
        assert [str(b.close) for b in stored] == ["100.5", "101.5", "102.5", "103.0"]
        assert await store.resume_after("file:messy.csv", symbol, "1m") == stored[-1].ts.timestamp() * 1e9

        opts = ConsumerOptions(start_from_beginning=True, poll_timeout_ms=100)
        group = f"test.{uuid.uuid4().hex[:8]}"
        mine = lambda d: d.message.symbol == symbol  # noqa: E731 - the topics are shared by all tests
        bars = await consume_until(
            bus.subscribe(channel("market.bars"), group=group, consumer="t", options=opts),
            result.published,
            within_s=60,
            where=mine,
        )
        assert [d.message.close for d in bars] == ["100.5", "101.5", "102.5", "103"]  # type: ignore[attr-defined]
        assert all(d.key == symbol and d.headers["traceparent"] for d in bars)
        audits = await consume_until(
            bus.subscribe(channel("audit.logs"), group=group, consumer="t", options=opts),
            2,
            within_s=60,
            where=mine,
        )
        assert {d.message.action for d in audits} == {"market_data.gap"}  # type: ignore[attr-defined]
    finally:
        await bus.close()
        await pool.close()


async def test_a_paused_ingestion_holds_its_bars_until_resumed_and_loses_none() -> None:
    bus, store, control = InMemoryBus(), InMemoryBarStore(), InMemoryControl()
    await control.apply(Process.INGESTION, ALL, Action.PAUSE, actor="ops", reason="exchange maintenance")
    gate = ProcessGate(control, Process.INGESTION, refresh_s=0.01)
    run = asyncio.create_task(
        IngestionPipeline(bus, store, batch_size=4, gate=gate).run(SyntheticSource(2, 10, seed=1))
    )
    await asyncio.sleep(0.2)
    assert bus.records(channel("market.bars")) == [] and not run.done()
    await control.apply(Process.INGESTION, ALL, Action.RESUME, actor="ops", reason="back")
    result = await asyncio.wait_for(run, 10)
    assert result.published == 20 and len(bus.records(channel("market.bars"))) == 20

"""A catalogue strategy served by the real service process code against REAL Kafka and PostgreSQL:
bars in, one signal per bar out; a restart warms up from the stored bars and goes on with exactly the
signals an uninterrupted run gives; GET /strategy says what is served."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Callable

import aiohttp
import asyncpg
import pytest

from kestrel_contracts.registry import channel
from kestrel_contracts.v1.bar_pb2 import Bar
from kestrel_contracts.v1.signal_pb2 import SIGNAL_ACTION_HOLD, Signal
from kestrel_featurelib.samples import arch_daily_bars
from kestrel_inference.service import serve
from kestrel_inference.settings import InferenceSettings
from kestrel_inference.strategy_source import StrategySignalSource
from kestrel_inference.testing import bar_events
from kestrel_messaging import Delivery
from kestrel_messaging.kafka import KafkaBus
from kestrel_store.bars import row_from_event, upsert_bars
from kestrel_store.migrate import apply_migrations
from kestrel_store.pool import create_pool
from kestrel_strategies import build
from kestrel_strategies.signals import signal_action

PARAMS = {"lower": 35.0, "exit": 55.0}  # rsi_reversion: its position depends on the path
BARS = bar_events(arch_daily_bars("sp500").tail(300), "SP500")
CUT = 258  # inside a long (bought at bar 252, exited at 264): only a warmed-up restart exits it


async def _until(condition: Callable[[], bool], timeout_s: float) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.1)


async def _stored(
    events: list[Bar], kafka_bootstrap: str, database_url: str, unique: str
) -> tuple[asyncpg.Pool, KafkaBus]:
    """The bars stored (ingestion stores before it publishes) and the topics made."""
    await apply_migrations(database_url)
    pool = await create_pool(database_url, max_size=2)
    await upsert_bars(pool, [row_from_event(b) for b in events])
    bus = KafkaBus(kafka_bootstrap, client_id=f"test-{unique}")
    for name in ("market.bars", "trading.signals"):
        await bus.ensure_channel(channel(name))
    return pool, bus


async def _reference() -> list[Signal]:
    async def nothing(_s: str, _t: str, _ts: int) -> list[tuple[int, float, float, float, float, float]]:
        return []

    source = StrategySignalSource(
        build("rsi_reversion", PARAMS), timeframe="1d", long_only=True, history=nothing
    )
    return [s for bar in BARS for s in await source.signals(bar)]


@pytest.mark.integration
async def test_a_strategy_deployment_signals_every_bar_and_resumes_after_a_restart(
    kafka_bootstrap: str, fresh_database_url: str, unique: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KESTREL_CHANNEL_NAMESPACE", f"test-strategy-{unique}")
    pool, bus = await _stored(BARS, kafka_bootstrap, fresh_database_url, unique)
    bars, signals = channel("market.bars"), channel("trading.signals")
    received: dict[str, Signal] = {}

    async def collect(delivery: Delivery) -> None:
        assert isinstance(delivery.message, Signal)
        received[delivery.message.event_id] = delivery.message

    settings = InferenceSettings(
        http_port=0,
        kafka_bootstrap=kafka_bootstrap,
        database_url=fresh_database_url,
        signal_source="strategy",
        strategy="rsi_reversion",
        strategy_params=PARAMS,
        consumer_group=f"strategy-{unique}",
    )
    watching = asyncio.Event()
    watcher = asyncio.create_task(
        bus.subscribe(signals, group=f"c-{unique}", consumer="c").run(collect, watching)
    )
    try:
        for bar in BARS[:CUT]:
            await bus.publish(bars, bar, key=bar.symbol)
        stop = asyncio.Event()
        first = asyncio.create_task(serve(settings, stop))
        await _until(lambda: len(received) >= CUT, 90)
        stop.set()
        await asyncio.wait_for(first, 30)

        for bar in BARS[CUT:]:  # published while no signal service runs
            await bus.publish(bars, bar, key=bar.symbol)
        stop = asyncio.Event()
        port = _free_port()
        second = asyncio.create_task(serve(settings.model_copy(update={"http_port": port}), stop))
        await _until(lambda: len(received) >= len(BARS), 90)
        async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/strategy") as r:
            described = await r.json()
        stop.set()
        await asyncio.wait_for(second, 30)
    finally:
        watching.set()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(watcher, 30)
        await bus.close()
        await pool.close()

    reference = await _reference()
    assert sorted(received) == sorted(s.event_id for s in reference)  # one per bar, none twice
    assert [received[s.event_id].action for s in reference] == [s.action for s in reference]
    assert sum(s.action != SIGNAL_ACTION_HOLD for s in reference[CUT:]) >= 1  # it traded after the restart
    assert sum(s.action != SIGNAL_ACTION_HOLD for s in reference[:CUT]) >= 1
    assert described["strategy_id"] == build("rsi_reversion", PARAMS).strategy_id
    assert described["symbols"] == ["SP500"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.mark.integration
async def test_a_reference_strategy_reads_the_stored_reference_bars(
    kafka_bootstrap: str, fresh_database_url: str, unique: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """dual_momentum on SP500 against NASDAQ: bars of both on the one topic, interleaved by time as
    ingestion publishes them; a signal per SP500 bar equal to the vectorized rule's decisions."""
    monkeypatch.setenv("KESTREL_CHANNEL_NAMESPACE", f"test-reference-{unique}")
    traded, reference = arch_daily_bars("sp500").tail(300), arch_daily_bars("nasdaq").tail(300)
    events = sorted(bar_events(traded, "SP500") + bar_events(reference, "NASDAQ"), key=lambda b: b.ts_open)
    pool, bus = await _stored(events, kafka_bootstrap, fresh_database_url, unique)
    bars, signals = channel("market.bars"), channel("trading.signals")
    received: dict[str, Signal] = {}

    async def collect(delivery: Delivery) -> None:
        assert isinstance(delivery.message, Signal)
        received[delivery.message.source_bar_event_id] = delivery.message

    settings = InferenceSettings(
        http_port=0,
        kafka_bootstrap=kafka_bootstrap,
        database_url=fresh_database_url,
        signal_source="strategy",
        strategy="dual_momentum",
        strategy_reference_symbol="NASDAQ",
        consumer_group=f"reference-{unique}",
    )
    stop = asyncio.Event()
    watcher = asyncio.create_task(
        bus.subscribe(signals, group=f"c-{unique}", consumer="c").run(collect, stop)
    )
    service = asyncio.create_task(serve(settings, stop))
    try:
        for bar in events:
            await bus.publish(bars, bar, key=bar.symbol)
        await _until(lambda: len(received) >= len(traded), 90)
    finally:
        stop.set()
        for task in (service, watcher):
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(task, 30)
        await bus.close()
        await pool.close()

    sp500 = [b for b in events if b.symbol == "SP500"]
    assert sorted(received) == sorted(b.event_id for b in sp500), "a signal per traded bar, none for NASDAQ"
    strategy = build("dual_momentum", {})
    directions = strategy.evaluate(traded.reset_index(drop=True), reference=reference.reset_index(drop=True))
    held = directions["direction"].tolist()
    expected = [signal_action(a, b) for a, b in zip([0.0, *held], held, strict=False)]
    assert [received[b.event_id].action for b in sp500] == expected
    assert sum(a != SIGNAL_ACTION_HOLD for a in expected) >= 2, "the rule traded in this window"

"""Execution on the real Redis, Kafka and PostgreSQL: intake throughput on the paper venue, and the
order round trip to the local Binance-protocol exchange with the testnet adapter.

1. Paper throughput: `--orders` OrderRequests are published to the execution.orders stream at once;
   orders/s is the count over the time from the first publish to the moment the last one is stored,
   reported NEW and acknowledged by the venue (trading.orders.venue_state = ACKED), with the
   intake's batch size as configured (`--batch`).
2. Binance round trip: the adapter (`BinanceVenue`, signed REST) against `kestrel_testing`'s
   exchange on this machine: submit -> ack (a resting GTC limit) and submit -> fill (a market order
   answered FULL, its fills included), `--trips` each, p50/p99; and through the whole service
   (OrderRequest on the stream -> FILLED report on Kafka).

    uv run python -m bench.bench_execution [--orders 5000] [--batch 100] [--trips 300]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
from pydantic import SecretStr
from rich.console import Console
from rich.table import Table

from kestrel_contracts.registry import NAMESPACE_ENV, channel
from kestrel_contracts.v1.execution_report_pb2 import ExecutionReport
from kestrel_contracts.v1.execution_report_pb2 import OrderStatus as Status
from kestrel_execution.__main__ import build_venue
from kestrel_execution.binance.venue import BinanceVenue
from kestrel_execution.paper_venue import PaperVenue
from kestrel_execution.reports import OrderMeta
from kestrel_execution.service import serve
from kestrel_execution.settings import ExecutionSettings
from kestrel_execution.testing import order_request
from kestrel_execution.testing_harness import Harness, until
from kestrel_messaging.kafka import KafkaBus
from kestrel_messaging.redis_streams import RedisStreamBus
from kestrel_testing.databases import temporary_database
from kestrel_testing.fake_binance import FakeBinance, SymbolSpec
from kestrel_testing.fake_binance_auth import FakeApiKey
from kestrel_trading.domain import Side
from kestrel_trading.orders import Order, OrderType, TimeInForce

RESULTS = Path(__file__).parent / "results"
SECRET = "bench-secret"


def _pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q * 100) - 1] if len(values) > 1 else values[0]


async def _harness(database_url: str, **settings: Any) -> tuple[Harness, asyncio.Event, asyncio.Task[None]]:
    run = uuid.uuid4().hex[:8]
    os.environ[NAMESPACE_ENV] = f"bench-exec-{run}"
    config = ExecutionSettings(
        http_port=0, database_url=database_url, consumer_group=f"exec-{run}",
        bars_consumer_group=f"exec-paper-{run}", log_level="WARNING", **settings,
    )  # fmt: skip
    kafka, streams = (
        KafkaBus(config.kafka_bootstrap, client_id=f"bench-{run}"),
        RedisStreamBus(config.redis_url),
    )
    await kafka.ensure_channel(channel("execution.reports"))
    harness = Harness(config, kafka, streams)
    stop = asyncio.Event()
    collector = asyncio.create_task(
        kafka.subscribe(channel("execution.reports"), group=f"bench-{run}", consumer="b").run(
            harness.collect, stop
        )
    )
    return harness, stop, collector


async def _close(harness: Harness, stop: asyncio.Event, collector: asyncio.Task[None]) -> None:
    await harness.stop()
    stop.set()
    await asyncio.wait_for(collector, 30)
    await harness.kafka.close()
    await harness.streams.close()


async def paper_throughput(
    database_url: str, orders: int, batch: int, consumers: int = 1
) -> dict[str, float]:
    """`consumers` services in one consumer group (in this process: their waits on PostgreSQL,
    Redis and Kafka overlap, which is what a second replica buys on a machine with free cores)."""
    async with temporary_database(database_url, f"kestrel_bench_exec_{uuid.uuid4().hex[:8]}") as url:
        harness, stop, collector = await _harness(url, orders_batch_size=batch, consumer_name="bench-0")
        db = await asyncpg.connect(url)
        extra_stop = asyncio.Event()
        extras = [
            asyncio.create_task(
                serve(
                    harness.settings.model_copy(update={"consumer_name": f"bench-{i}"}),
                    extra_stop,
                    PaperVenue(harness.settings.paper_config(), harness.settings.bars_consumer_group),
                )
            )
            for i in range(1, consumers)
        ]
        try:
            harness.start()
            await harness.streams.publish(channel("execution.orders"), order_request("warm-up"))
            await until(lambda: harness.of("warm-up"))  # consumers joined, pools warm
            await asyncio.sleep(1.0 if consumers > 1 else 0.0)  # the other replicas joined too
            requests = [order_request(f"tp-{i}", symbol=f"SYM{i % 8}/USDT") for i in range(orders)]
            started = time.perf_counter()
            await harness.streams.publish_batch(channel("execution.orders"), requests)
            await _poll(lambda: _acked(db, orders + 1))
            stored = time.perf_counter() - started
            await until(lambda: len(harness.reports) >= orders + 1)
            reported = time.perf_counter() - started
        finally:
            extra_stop.set()
            await asyncio.gather(*extras)
            await db.close()
            await _close(harness, stop, collector)
    return {"orders": orders, "batch": batch, "consumers": consumers, "stored_acked_per_s": orders / stored,
            "reported_per_s": orders / reported}  # fmt: skip


def _exchange() -> FakeBinance:
    spec = SymbolSpec(symbol="BTCUSDT", base_asset="BTC", quote_asset="USDT")
    keys = [FakeApiKey.hmac("bench-key", SECRET)]
    balances = {"USDT": "1000000000", "BTC": "1000000"}
    return FakeBinance({}, symbols=[spec], api_keys=keys, balances=balances, order_limit_10s=1_000_000)


def _binance_settings(fake: FakeBinance, **extra: Any) -> ExecutionSettings:
    return ExecutionSettings(
        http_port=0, broker="binance", binance_rest_url=fake.rest_url, binance_ws_api_url=fake.ws_api_url,
        binance_api_key=SecretStr("bench-key"), binance_api_secret=SecretStr(SECRET), log_level="WARNING",
        **extra,
    )  # fmt: skip


async def adapter_round_trips(trips: int) -> dict[str, float]:
    async with _exchange() as fake:
        fake.set_book("BTCUSDT", bids=[("99.00", "1000000")], asks=[("100.00", "1000000")])
        venue = build_venue(_binance_settings(fake))
        assert isinstance(venue, BinanceVenue)
        await venue.load_rules()
        meta = OrderMeta("", "bench", "bench", "BTC/USDT", "BINANCE", "1m", "binance", "", "", "USDT")
        acks, fills = [], []
        for i in range(trips):
            resting = Order(
                f"ack-{i}", "BTC/USDT", Side.BUY, OrderType.LIMIT, Decimal("0.1"), Decimal("90.00")
            )
            started = time.perf_counter()
            answer = await venue.submit(resting, meta)
            acks.append((time.perf_counter() - started) * 1e3)
            assert [type(e).__name__ for e in answer] == ["Acked"], answer
            market = Order(f"mkt-{i}", "BTC/USDT", Side.BUY, OrderType.MARKET, Decimal("0.1"),
                           time_in_force=TimeInForce.IOC)  # fmt: skip
            started = time.perf_counter()
            events = await venue.submit(market, meta)
            fills.append((time.perf_counter() - started) * 1e3)
            assert any(type(e).__name__ == "Traded" for e in events)
        await venue.rest.close()
    return {"trips": trips, "ack_p50_ms": _pct(acks, 0.5), "ack_p99_ms": _pct(acks, 0.99),
            "fill_p50_ms": _pct(fills, 0.5), "fill_p99_ms": _pct(fills, 0.99)}  # fmt: skip


async def service_round_trips(database_url: str, trips: int) -> dict[str, float]:
    async with (
        _exchange() as fake,
        temporary_database(database_url, f"kestrel_bench_bn_{uuid.uuid4().hex[:8]}") as url,
    ):
        fake.set_book("BTCUSDT", bids=[("99.00", "1000000")], asks=[("100.00", "1000000")])
        harness, stop, collector = await _harness(url)
        harness.settings = _binance_settings(
            fake, database_url=url, consumer_group=harness.settings.consumer_group
        )
        harness.start(build_venue(harness.settings))
        latencies = []
        try:
            await until(lambda: fake.user_stream_subscriptions > 0)
            # Warm-up trips, not counted: the report reader's group joins, pools and sessions open.
            for i in range(-5, 0):
                await harness.streams.publish(channel("execution.orders"), order_request(f"svc-warm{i}"))
                await _poll(lambda c=f"svc-warm{i}": _filled(harness.reports, c))  # type: ignore[misc]
            for i in range(trips):
                coid = f"svc-{i}"
                started = time.perf_counter()
                await harness.streams.publish(channel("execution.orders"), order_request(coid))
                await _poll(lambda c=coid: _filled(harness.reports, c))  # type: ignore[misc]
                latencies.append((time.perf_counter() - started) * 1e3)
        finally:
            await _close(harness, stop, collector)
    return {"trips": trips, "fill_p50_ms": _pct(latencies, 0.5), "fill_p99_ms": _pct(latencies, 0.99)}


async def _filled(reports: list[ExecutionReport], client_order_id: str) -> bool:
    return any(
        r.client_order_id == client_order_id and r.status == Status.ORDER_STATUS_FILLED for r in reports
    )


async def _acked(db: asyncpg.Connection, count: int) -> bool:
    found = await db.fetchval("SELECT count(*) FROM trading.orders WHERE venue_state = 'ACKED'")
    return bool(found >= count)


async def _poll(
    done: Callable[[], Awaitable[bool]], timeout_s: float = 120.0, every_s: float = 0.001
) -> None:
    """Until `done()`, checked every millisecond (a coarser poll would be what the figure measures)."""
    for _ in range(int(timeout_s / every_s)):
        if await done():
            return
        await asyncio.sleep(every_s)
    raise TimeoutError(f"not done within {timeout_s}s")


async def main(args: argparse.Namespace) -> None:
    database_url = ExecutionSettings(http_port=0).database_url
    console = Console()
    paper = await paper_throughput(database_url, args.orders, args.batch)
    paired = await paper_throughput(database_url, args.orders, args.batch, consumers=2)
    single = await paper_throughput(database_url, min(args.orders, 1000), 1)
    adapter = await adapter_round_trips(args.trips)
    service = await service_round_trips(database_url, max(args.trips // 3, 10))
    table = Table(title="Execution")
    for column in ("measure", "value", "unit"):
        table.add_column(column)
    table.add_row(
        f"paper intake, batch {args.batch}: stored + acked", f"{paper['stored_acked_per_s']:.0f}", "orders/s"
    )
    table.add_row(
        f"paper intake, batch {args.batch}: reports on Kafka", f"{paper['reported_per_s']:.0f}", "orders/s"
    )
    table.add_row(
        f"paper intake, batch {args.batch}, two consumers in one group",
        f"{paired['stored_acked_per_s']:.0f}",
        "orders/s",
    )
    table.add_row(
        "paper intake, batch 1 (one order per transaction)", f"{single['stored_acked_per_s']:.0f}", "orders/s"
    )
    table.add_row(
        "Binance adapter: submit -> ack p50 / p99",
        f"{adapter['ack_p50_ms']:.2f} / {adapter['ack_p99_ms']:.2f}",
        "ms",
    )
    table.add_row(
        "Binance adapter: submit -> fill p50 / p99",
        f"{adapter['fill_p50_ms']:.2f} / {adapter['fill_p99_ms']:.2f}",
        "ms",
    )
    table.add_row("service: OrderRequest -> FILLED report p50 / p99",
                  f"{service['fill_p50_ms']:.1f} / {service['fill_p99_ms']:.1f}", "ms")  # fmt: skip
    console.print(table)
    RESULTS.mkdir(exist_ok=True)
    results = {
        "paper": paper,
        "paper_two_consumers": paired,
        "paper_batch_1": single,
        "binance_adapter": adapter,
        "binance_service": service,
    }
    (RESULTS / "execution.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=5000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--trips", type=int, default=300)
    asyncio.run(main(parser.parse_args()))

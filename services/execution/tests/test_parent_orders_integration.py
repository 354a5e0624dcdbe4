"""A TWAP parent on the local Binance-protocol exchange, with the execution service as a real process
killed (SIGKILL) in the middle of the schedule and started again: exactly the intended children
reach the venue, each once, and every fill is stored and reported once."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal

import asyncpg
import pytest

from kestrel_contracts.events import now_ns
from kestrel_contracts.registry import channel
from kestrel_contracts.v1.execution_report_pb2 import ExecutionReport
from kestrel_contracts.v1.execution_report_pb2 import OrderStatus as Status
from kestrel_contracts.v1.order_request_pb2 import AlgorithmSpec, ExecutionAlgorithm
from kestrel_execution.testing import bar, order_request
from kestrel_execution.testing_harness import Harness, until
from kestrel_store.bars import row_from_event, upsert_bars
from kestrel_store.migrate import apply_migrations
from kestrel_testing.fake_binance import FakeBinance, SymbolSpec
from kestrel_testing.fake_binance_auth import FakeApiKey

pytestmark = pytest.mark.integration
SECRET = "twap-secret-for-tests-only"
SLICES, SLICE_S = 6, 1.5
TWAP = AlgorithmSpec(
    algorithm=ExecutionAlgorithm.EXECUTION_ALGORITHM_TWAP,
    duration_ns=int(SLICES * SLICE_S * 1e9),
    slices=SLICES,
)


@pytest.fixture
async def exchange() -> AsyncIterator[FakeBinance]:
    spec = SymbolSpec(symbol="BTCUSDT", base_asset="BTC", quote_asset="USDT")
    keys = [FakeApiKey.hmac("twap-key", SECRET)]
    async with FakeBinance(
        {}, symbols=[spec], api_keys=keys, balances={"USDT": "100000", "BTC": "0"}
    ) as fake:
        fake.set_book("BTCUSDT", bids=[("99.50", "50")], asks=[("100.00", "0.5"), ("100.50", "50")])
        yield fake


class ServiceProcess:
    """`python -m kestrel_execution` with the harness's settings as its environment."""

    def __init__(self, harness: Harness, fake: FakeBinance) -> None:
        s = harness.settings
        self.env = {
            **os.environ,
            "KESTREL_HTTP_PORT": "0",
            "KESTREL_KAFKA_BOOTSTRAP": s.kafka_bootstrap,
            "KESTREL_REDIS_URL": s.redis_url,
            "KESTREL_DATABASE_URL": s.database_url,
            "KESTREL_CONSUMER_GROUP": s.consumer_group,
            "KESTREL_BROKER": "binance",
            "KESTREL_BINANCE_REST_URL": fake.rest_url,
            "KESTREL_BINANCE_WS_API_URL": fake.ws_api_url,
            "KESTREL_BINANCE_API_KEY": "twap-key",
            "KESTREL_BINANCE_API_SECRET": SECRET,
            "KESTREL_BINANCE_TIMEOUT_S": "1.0",
            "KESTREL_RESOLVE_INTERVAL_S": "0.3",
            "KESTREL_RESOLVE_PENDING_AFTER_S": "1.5",
            "KESTREL_PARENTS_INTERVAL_S": "0.2",
            "KESTREL_RECONCILE_INTERVAL_S": "3600",
            "KESTREL_OUTBOX_SWEEP_INTERVAL_S": "1.0",
            "KESTREL_RECLAIM_IDLE_MS": "1000",  # the killed consumer's entries are taken over soon
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen([sys.executable, "-m", "kestrel_execution"], env=self.env)

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()


@pytest.fixture
def service(harness: Harness, exchange: FakeBinance) -> Iterator[ServiceProcess]:
    process = ServiceProcess(harness, exchange)
    yield process
    process.stop()


def latest(harness: Harness, client_order_id: str) -> ExecutionReport | None:
    mine = [r for r in harness.reports if r.client_order_id == client_order_id]
    return max(mine, key=lambda r: r.sequence, default=None)


def filled_children(harness: Harness) -> set[str]:
    return {
        r.client_order_id
        for r in harness.reports
        if r.parent_client_order_id == "twap-k1" and r.status == Status.ORDER_STATUS_FILLED
    }


async def test_sigkill_mid_twap_leaves_exactly_the_intended_children_and_fills(
    harness: Harness, exchange: FakeBinance, service: ServiceProcess
) -> None:
    service.start()
    # Decided now: a live venue times the slices on the wall clock.
    request = order_request(
        "twap-k1", quantity="1.2", algorithm=TWAP, reference_price="100", ts_event=now_ns()
    )
    await harness.streams.publish(channel("execution.orders"), request)
    await until(lambda: len(filled_children(harness)) >= 2, 60)
    service.kill()  # mid-schedule: slices come due while nobody works the parent
    assert len(filled_children(harness)) < SLICES, "the schedule was over before the kill"
    await asyncio.sleep(2 * SLICE_S)
    service.start()
    await until(lambda: (r := latest(harness, "twap-k1")) is not None and r.leaves_quantity == "0", 90)
    await asyncio.sleep(1.5)  # anything sent twice would show by now

    parent = latest(harness, "twap-k1")
    assert parent is not None and parent.status == Status.ORDER_STATUS_FILLED
    assert parent.cumulative_quantity == "1.2" and parent.arrival_price == "100"
    assert Decimal(parent.slippage_bps) > 0  # bought at and above 100
    venue = [o.client_order_id for o in exchange.exchange.all_orders("BTCUSDT")]
    assert sorted(venue) == [f"twap-k1.{k}" for k in range(SLICES)]  # each child once at the venue
    fills = [(r.client_order_id, f.fill_id) for r in harness.reports for f in r.fills]
    assert len(fills) == len(set(fills)) and all(coid.startswith("twap-k1.") for coid, _ in fills)
    db = await asyncpg.connect(harness.settings.database_url)
    try:
        children = await db.fetch(
            "SELECT client_order_id, status, filled_quantity FROM trading.orders "
            "WHERE parent_client_order_id = 'twap-k1' ORDER BY client_order_id"
        )
        assert [(c["client_order_id"], c["status"]) for c in children] == [
            (f"twap-k1.{k}", "FILLED") for k in range(SLICES)
        ]
        assert sum(c["filled_quantity"] for c in children) == Decimal("1.2")
        stored_fills = await db.fetchval(
            "SELECT count(*) FROM trading.fills f JOIN trading.orders o USING (order_id) "
            "WHERE o.parent_client_order_id = 'twap-k1'"
        )
        assert stored_fills == len({fill_id for _, fill_id in fills})
        row = await db.fetchrow("SELECT status, filled_quantity FROM trading.parent_orders")
        assert (row["status"], row["filled_quantity"]) == ("FILLED", Decimal("1.2"))
    finally:
        await db.close()


async def test_a_twap_on_the_paper_venue_follows_the_market_clock_of_the_stored_bars(
    harness: Harness,
) -> None:
    """A replay: bars stored and published as they close; each slice fills at the open of the bar
    after its instant — the same children and prices however fast the replay ran."""
    minute = 60 * 1_000_000_000
    twap = AlgorithmSpec(algorithm=TWAP.algorithm, duration_ns=3 * minute, slices=3)
    db = await asyncpg.connect(harness.settings.database_url)
    try:
        await apply_migrations(harness.settings.database_url)
        harness.start()
        await harness.streams.publish(
            channel("execution.orders"), order_request("twap-p1", quantity="0.9", algorithm=twap)
        )
        for index in range(6):
            price = str(100 + index)
            message = bar(index, price, price, price, price)
            await upsert_bars(db, [row_from_event(message)])
            await harness.kafka.publish(channel("market.bars"), message)
            await asyncio.sleep(0.3)
        await until(lambda: (r := latest(harness, "twap-p1")) is not None and r.leaves_quantity == "0", 60)
        parent = latest(harness, "twap-p1")
        assert parent is not None and parent.status == Status.ORDER_STATUS_FILLED
        assert (parent.cumulative_quantity, parent.average_price) == ("0.9", "102")
        fills = await db.fetch(
            "SELECT o.client_order_id, f.price, f.quantity FROM trading.fills f JOIN trading.orders o "
            "USING (order_id) ORDER BY o.client_order_id"
        )
        assert [(f["client_order_id"], f["price"], f["quantity"]) for f in fills] == [
            ("twap-p1.0", Decimal(101), Decimal("0.3")),
            ("twap-p1.1", Decimal(102), Decimal("0.3")),
            ("twap-p1.2", Decimal(103), Decimal("0.3")),
        ]
    finally:
        await db.close()
